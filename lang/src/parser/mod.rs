//! Text → typed AST. Parsing never fails and never panics: it returns a tree of what
//! could be read and one diagnostic per broken item or statement.
//!
//! The pest grammar swallows what it cannot read into `bad_item` / `bad_stmt`
//! chunks. Each chunk is parsed again with the rule that should have matched there,
//! and pest's "expected …" set at the furthest position becomes the message. One
//! small lowering function per construct turns pest pairs into AST nodes.

use std::cell::RefCell;
use std::sync::LazyLock;

use pest::Parser as _;
use pest::iterators::Pair;
use pest::pratt_parser::{Assoc, Op, PrattParser};
use pest_derive::Parser;

use crate::ast::*;
use crate::diagnostic::Diagnostic;

mod expr;
mod items;

#[derive(Parser)]
#[grammar = "mj.pest"]
struct MjParser;

pub const SYNTAX_CODE: &str = "mj::syntax::invalid";

/// The result of parsing one file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    pub module: Module,
    pub errors: Vec<Diagnostic>,
}

/// Parses one file. Never fails: syntax errors come back beside the tree.
pub fn parse(file: FileId, text: &str) -> Parsed {
    let lower = Lower {
        file,
        errors: RefCell::new(Vec::new()),
    };
    let mut module = Module {
        items: Vec::new(),
        comments: scan_comments(file, text),
    };
    // An item whose brackets are still open when the next item starts at the
    // beginning of a line is cut there: its brackets are reported as unclosed and
    // closed for the parser, so the next item is read as itself, not as the
    // unfinished item's continuation.
    let mut from = 0;
    for segment in segments(text) {
        for &(open, at) in segment.open.iter().rev() {
            let close = closer(open);
            lower.errors.borrow_mut().push(
                Diagnostic::error(
                    SYNTAX_CODE,
                    Span::new(file, at, at + 1),
                    format!("this `{open}` is never closed"),
                )
                .with_span_label(format!("needs a `{close}`"))
                .with_help(format!(
                    "add `{close}` before the next item (line {})",
                    crate::diagnostic::line_col(text, segment.end).0
                )),
            );
        }
        if from == 0 && segment.end == text.len() && segment.open.is_empty() {
            parse_segment(&lower, &mut module, text, text.len());
        } else {
            // Same byte positions as the file: blanks before, closers after.
            let mut padded = " ".repeat(from);
            padded.push_str(&text[from..segment.end]);
            padded.extend(segment.open.iter().rev().map(|&(open, _)| closer(open)));
            parse_segment(&lower, &mut module, &padded, segment.end);
        }
        from = segment.end;
    }
    Parsed {
        module,
        errors: lower.errors.into_inner(),
    }
}

fn closer(open: char) -> char {
    match open {
        '(' => ')',
        '[' => ']',
        _ => '}',
    }
}

/// A run of items ending where the next item starts (or at the end of the file),
/// with the brackets still open at its end and where they were opened.
struct Segment {
    end: usize,
    open: Vec<(char, usize)>,
}

/// Cuts the text before every line that starts (in column 0) with an item keyword
/// while brackets are open; the formatter puts every item there.
fn segments(text: &str) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut open: Vec<(char, usize)> = Vec::new();
    lex(text, &mut |token| {
        let Token::Code(i, b) = token else { return };
        match b {
            b'(' | b'[' | b'{' => open.push((b as char, i)),
            b')' | b']' | b'}' => {
                // A stray closer is the grammar's to report; keep the stack sane.
                if let Some(pos) = open.iter().rposition(|&(o, _)| closer(o) == b as char) {
                    open.truncate(pos);
                }
            }
            b'\n' if !open.is_empty() && starts_item(&text[i + 1..]) => {
                out.push(Segment {
                    end: i + 1,
                    open: std::mem::take(&mut open),
                });
            }
            _ => {}
        }
    });
    out.push(Segment {
        end: text.len(),
        open,
    });
    out
}

/// What [`lex`] sees: a byte of code outside strings and comments, or a comment.
enum Token {
    Code(usize, u8),
    Comment(usize, usize),
}

/// Walks the text, skipping string literals and reporting `//` comments whole.
fn lex(text: &str, f: &mut dyn FnMut(Token)) {
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut in_string = false;
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            match b {
                b'\\' => i += 1,
                b'"' => in_string = false,
                b'\n' => {
                    // An unterminated string ends with its line.
                    in_string = false;
                    f(Token::Code(i, b));
                }
                _ => {}
            }
        } else if b == b'"' {
            in_string = true;
        } else if b == b'/' && bytes.get(i + 1) == Some(&b'/') {
            let end = text[i..].find('\n').map_or(text.len(), |n| i + n);
            f(Token::Comment(i, end));
            i = end;
            continue;
        } else {
            f(Token::Code(i, b));
        }
        i += 1;
    }
}

fn starts_item(line: &str) -> bool {
    ITEM_KEYWORDS.iter().any(|k| {
        line.strip_prefix(k)
            .is_some_and(|rest| rest.starts_with([' ', '\t']))
    })
}

/// Parses `text` (the file, or a padded part of it) and lowers items that start
/// before `end`.
fn parse_segment(lower: &Lower, module: &mut Module, text: &str, end: usize) {
    // Deeply nested input could exhaust pest's call stack; pest reports that as an
    // error rather than overflowing, and so do we.
    match MjParser::parse(Rule::file, text) {
        Ok(mut pairs) => {
            let file_pair = pairs
                .next()
                .expect("the file rule always produces one pair");
            for pair in file_pair.into_inner() {
                match pair.as_rule() {
                    Rule::bad_item => {
                        // Junk right after an item on the same line usually means the item
                        // itself is broken (`sum(x` parsed as the name `sum`): report the
                        // item's own error and drop the half-read item.
                        let start = pair.as_span().start();
                        let glued = module.items.last().filter(|item| {
                            (item.span.end as usize) <= start
                                && !text[item.span.end as usize..start].contains('\n')
                                && !ITEM_KEYWORDS.iter().any(|k| pair.as_str().starts_with(k))
                        });
                        if let Some(prev) = glued {
                            let from = prev.span.start as usize;
                            lower.reparse(Rule::item_only, &text[from..pair.as_span().end()], from);
                            module.items.pop();
                        } else {
                            lower.bad_item(&pair);
                        }
                    }
                    Rule::EOI => {}
                    _ => {
                        if let Some(mut item) = lower.item(pair) {
                            // The closers added for an unclosed item are not in the file.
                            item.span.end = item.span.end.min(end as u32);
                            module.items.push(item);
                        }
                    }
                }
            }
        }
        Err(err) => {
            let (start, message) = pest_error(&err, text);
            lower.error(start, start, message);
        }
    }
}

/// Collects `//` comments, skipping string literals.
fn scan_comments(file: FileId, text: &str) -> Vec<Comment> {
    let mut comments = Vec::new();
    lex(text, &mut |token| {
        if let Token::Comment(start, end) = token {
            let body = text[start..end].trim_end();
            comments.push(Comment {
                text: body.to_string(),
                span: Span::new(file, start, start + body.len()),
            });
        }
    });
    comments
}

static PRATT: LazyLock<PrattParser<Rule>> = LazyLock::new(|| {
    PrattParser::new()
        .op(Op::infix(Rule::op_or, Assoc::Left))
        .op(Op::infix(Rule::op_and, Assoc::Left))
        .op(Op::prefix(Rule::op_not))
        .op(Op::infix(Rule::op_eq, Assoc::Left)
            | Op::infix(Rule::op_ne, Assoc::Left)
            | Op::infix(Rule::op_lt, Assoc::Left)
            | Op::infix(Rule::op_le, Assoc::Left)
            | Op::infix(Rule::op_gt, Assoc::Left)
            | Op::infix(Rule::op_ge, Assoc::Left)
            | Op::postfix(Rule::in_list))
        .op(Op::infix(Rule::op_coalesce, Assoc::Right))
        .op(Op::infix(Rule::op_add, Assoc::Left) | Op::infix(Rule::op_sub, Assoc::Left))
        .op(Op::infix(Rule::op_mul, Assoc::Left)
            | Op::infix(Rule::op_div, Assoc::Left)
            | Op::infix(Rule::op_mod, Assoc::Left))
        .op(Op::prefix(Rule::op_neg))
        .op(Op::postfix(Rule::field) | Op::postfix(Rule::index))
});

struct Lower {
    file: FileId,
    errors: RefCell<Vec<Diagnostic>>,
}

/// Statement rules that may follow each keyword, for re-parsing a bad statement.
type StmtRules = &'static [(&'static str, Rule)];

impl Lower {
    /// The span of a pair without the whitespace and comments that pest's implicit
    /// skipping leaves at its end (after a trailing optional element).
    fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        let s = pair.as_span();
        Span::new(self.file, s.start(), s.start() + trim_trivia(pair.as_str()))
    }

    fn error(&self, start: usize, end: usize, message: String) {
        let end = end.max(start);
        let span = Span::new(self.file, start, end);
        self.errors.borrow_mut().push(
            Diagnostic::error(SYNTAX_CODE, span, message)
                .with_span_label("here")
                .with_help("see docs/language.md for the syntax of each item"),
        );
    }

    fn ident(&self, pair: Pair<'_, Rule>) -> Ident {
        Ident {
            text: pair.as_str().to_string(),
            span: self.span(&pair),
        }
    }

    fn string(&self, pair: Pair<'_, Rule>) -> StrLit {
        let span = self.span(&pair);
        let inner = pair.into_inner().next().map_or("", |p| p.as_str());
        StrLit {
            value: unescape(inner),
            span,
        }
    }

    fn uint(&self, pair: &Pair<'_, Rule>) -> u64 {
        match pair.as_str().parse::<u64>() {
            Ok(v) => v,
            Err(_) => {
                let s = pair.as_span();
                self.error(
                    s.start(),
                    s.end(),
                    format!("the number `{}` is too large", pair.as_str()),
                );
                // Already reported; a value no range check rejects avoids a second message.
                u64::MAX
            }
        }
    }

    fn guard(&self, pair: Pair<'_, Rule>) -> Guard {
        Guard {
            value: self.uint(&pair),
            span: self.span(&pair),
        }
    }

    fn header(&self, inner: &mut pest::iterators::Pairs<'_, Rule>) -> Header {
        let name = self.ident(inner.next().expect("grammar: name"));
        let display = match inner.peek() {
            Some(p) if p.as_rule() == Rule::string => {
                Some(self.string(inner.next().expect("peeked")))
            }
            _ => None,
        };
        Header { name, display }
    }

    // ------------------------------------------------------------------ errors

    fn bad_item(&self, pair: &Pair<'_, Rule>) {
        let chunk = pair.as_str();
        let start = pair.as_span().start();
        let first_word: String = chunk
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !ITEM_KEYWORDS.contains(&first_word.as_str()) {
            let end = start + first_token_len(chunk);
            let found = &chunk[..end - start];
            self.error(
                start,
                end,
                format!(
                    "expected an item (`{}` …), found `{}`",
                    ITEM_KEYWORDS[..6].join("`, `"),
                    found
                ),
            );
            return;
        }
        self.reparse(Rule::item_only, chunk, start);
    }

    /// Parses `chunk` again with `rule` and reports what pest expected where it stopped.
    /// Reports a bracket that `chunk` leaves open: the likeliest cause of a broken
    /// statement, and a clearer message than what the grammar expected at its end.
    fn unclosed(&self, chunk: &str, offset: usize) -> bool {
        let Some(&(open, at)) = segments(chunk).last().and_then(|s| s.open.first()) else {
            return false;
        };
        let close = closer(open);
        self.errors.borrow_mut().push(
            Diagnostic::error(
                SYNTAX_CODE,
                Span::new(self.file, offset + at, offset + at + 1),
                format!("this `{open}` is never closed"),
            )
            .with_span_label(format!("needs a `{close}`")),
        );
        true
    }

    fn reparse(&self, rule: Rule, chunk: &str, offset: usize) {
        if self.unclosed(chunk, offset) {
            return;
        }
        match MjParser::parse(rule, chunk) {
            Err(err) => {
                let (pos, message) = pest_error(&err, chunk);
                let len = first_token_len(&chunk[pos.min(chunk.len())..]);
                self.error(offset + pos, offset + pos + len, message);
            }
            Ok(pairs) => {
                // The rule matched only a prefix: what follows is unexpected.
                let end = pairs.last().map_or(0, |p| p.as_span().end());
                let rest = &chunk[end..];
                let skip = rest.len() - rest.trim_start().len();
                let pos = (end + skip).min(chunk.len());
                let len = first_token_len(&chunk[pos..]);
                let found = &chunk[pos..pos + len];
                self.error(
                    offset + pos,
                    offset + pos + len,
                    format!("unexpected `{found}`"),
                );
            }
        }
    }

    /// Reports a swallowed statement of a block whose statements start with keywords.
    fn bad_stmt(&self, pair: &Pair<'_, Rule>, rules: StmtRules, what: &str) {
        let chunk = pair.as_str();
        let start = pair.as_span().start();
        if self.unclosed(chunk, start) {
            return;
        }
        let word: String = chunk
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if let Some((_, rule)) = rules.iter().find(|(kw, _)| *kw == word || kw.is_empty()) {
            self.reparse(*rule, chunk, start);
        } else {
            let len = first_token_len(chunk);
            let names: Vec<String> = rules.iter().map(|(k, _)| format!("`{k}`")).collect();
            self.error(
                start,
                start + len,
                format!(
                    "expected {what} ({}), found `{}`",
                    names.join(", "),
                    &chunk[..len]
                ),
            );
        }
    }

    // ------------------------------------------------------------------ items

    fn item(&self, pair: Pair<'_, Rule>) -> Option<Item> {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        let kind = match rule {
            Rule::glossary => ItemKind::Glossary(self.glossary(pair)),
            Rule::naming => ItemKind::Naming(self.naming(pair)),
            Rule::source => ItemKind::Source(self.source(pair)),
            Rule::dimension => ItemKind::Dimension(self.dimension(pair)),
            Rule::fact => ItemKind::Fact(self.fact(pair)),
            Rule::atomic => {
                let mut inner = pair.into_inner();
                let header = self.header(&mut inner);
                ItemKind::Atomic(Atomic {
                    header,
                    expr: self.expr(inner.next()?),
                })
            }
            Rule::modifier => {
                let mut inner = pair.into_inner();
                let header = self.header(&mut inner);
                let process = self.ident(inner.next()?);
                ItemKind::Modifier(Modifier {
                    header,
                    process,
                    expr: self.expr(inner.next()?),
                })
            }
            Rule::period => self.period(pair)?,
            Rule::derived => ItemKind::Derived(self.derived(pair)),
            Rule::composite => {
                let mut inner = pair.into_inner();
                let header = self.header(&mut inner);
                ItemKind::Composite(Composite {
                    header,
                    expr: self.expr(inner.next()?),
                })
            }
            Rule::check => ItemKind::Check(self.check(pair)?),
            Rule::oneid => ItemKind::OneId(self.oneid(pair)),
            Rule::tag => ItemKind::Tag(self.tag(pair)?),
            Rule::aipl => ItemKind::Aipl(self.aipl(pair)),
            Rule::rfm => ItemKind::Rfm(self.rfm(pair)),
            Rule::audience => {
                let mut inner = pair.into_inner();
                let header = self.header(&mut inner);
                let entity = self.ident(inner.next()?);
                ItemKind::Audience(Audience {
                    header,
                    entity,
                    expr: self.expr(inner.next()?),
                })
            }
            Rule::compare => {
                let mut inner = pair.into_inner();
                let audience = self.ident(inner.next()?);
                let against = self.ident(inner.next()?);
                ItemKind::Compare(Compare {
                    audience,
                    against,
                    by: inner.map(|p| self.ident(p)).collect(),
                })
            }
            Rule::route => ItemKind::Route(self.route(pair)?),
            Rule::export => ItemKind::Export(self.export(pair)?),
            Rule::scan => ItemKind::Scan(self.scan(pair)),
            Rule::dashboard => ItemKind::Dashboard(self.dashboard(pair)),
            Rule::function => ItemKind::Function(self.function(pair)),
            _ => return None,
        };
        Some(Item { kind, span })
    }
}

pub const ITEM_KEYWORDS: &[&str] = &[
    "glossary",
    "naming",
    "source",
    "dimension",
    "fact",
    "atomic",
    "modifier",
    "period",
    "derived",
    "composite",
    "check",
    "oneid",
    "tag",
    "aipl",
    "rfm",
    "audience",
    "compare",
    "route",
    "export",
    "scan",
    "dashboard",
    "fn",
];

/// The length of `s` without trailing whitespace and `//` comments.
fn trim_trivia(s: &str) -> usize {
    let mut end = s.trim_end().len();
    loop {
        let line_start = s[..end].rfind('\n').map_or(0, |i| i + 1);
        let line = &s[line_start..end];
        let mut in_string = false;
        let mut escaped = false;
        let mut cut = None;
        for (i, c) in line.char_indices() {
            if in_string {
                match (escaped, c) {
                    (true, _) => escaped = false,
                    (false, '\\') => escaped = true,
                    (false, '"') => in_string = false,
                    _ => {}
                }
            } else if c == '"' {
                in_string = true;
            } else if line[i..].starts_with("//") {
                cut = Some(i);
                break;
            }
        }
        match cut {
            Some(i) => end = s[..line_start + i].trim_end().len(),
            None => return end,
        }
    }
}

/// Length of the token at the start of `s`: a word, a string, or one character.
fn first_token_len(s: &str) -> usize {
    let Some(c) = s.chars().next() else { return 0 };
    if c.is_ascii_alphanumeric() || c == '_' {
        s.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(s.len())
    } else if c == '"' {
        s[1..].find(['"', '\n']).map_or(s.len(), |i| {
            if s[1 + i..].starts_with('"') {
                i + 2
            } else {
                i + 1
            }
        })
    } else {
        c.len_utf8()
    }
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Turns a pest error into a byte offset and a sentence.
fn pest_error(err: &pest::error::Error<Rule>, text: &str) -> (usize, String) {
    let pos = match err.location {
        pest::error::InputLocation::Pos(p) => p,
        pest::error::InputLocation::Span((s, _)) => s,
    };
    let pos = pos.min(text.len());
    let found = match text[pos..].chars().next() {
        None => "the end of the file".to_string(),
        Some('\n') | Some('\r') => "the end of the line".to_string(),
        Some(_) => format!("`{}`", &text[pos..pos + first_token_len(&text[pos..])]),
    };
    let message = match &err.variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } => {
            let mut wanted: Vec<&str> = positives.iter().filter_map(|r| describe(*r)).collect();
            wanted.sort_unstable();
            wanted.dedup();
            if wanted.is_empty() {
                match found.strip_prefix("the ") {
                    Some(end) => format!("unexpected {end}"),
                    None => format!("unexpected {found}"),
                }
            } else {
                format!("expected {}, found {found}", join_or(&wanted))
            }
        }
        pest::error::ErrorVariant::CustomError { message } => message.clone(),
    };
    (pos, message)
}

fn join_or(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {}", init.join(", "), last),
    }
}

/// What a rule looks like to a modeler, or `None` for rules that only confuse.
fn describe(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::ident | Rule::name => "a name",
        Rule::string => "a string",
        Rule::number | Rule::signed_number => "a number",
        Rule::integer => "a whole number",
        Rule::quantity | Rule::signed_quantity => "a quantity such as `15d` or `3km`",
        Rule::expr | Rule::filtered_arg => "an expression",
        Rule::location => "a location such as `csv(\"path\")`",
        Rule::col_type => "a column type",
        Rule::unit_spec | Rule::unit_clause => "a unit",
        Rule::period_spec | Rule::period_last | Rule::period_to_date => {
            "a period (`last N days`, `to_date`, `mtd`, `ytd`)"
        }
        Rule::period_unit => "`days`, `weeks`, `months` or `hours`",
        Rule::column => "a column",
        Rule::root => "`root`",
        Rule::nullability | Rule::optional_mark | Rule::not_null => "`?` or `not null`",
        Rule::pii => "`pii`",
        Rule::granularity => "`by`",
        Rule::where_clause => "`where`",
        Rule::tag_values => "`values`",
        Rule::severity => "`severity`",
        Rule::in_list => "`in`",
        Rule::field => "`.`",
        Rule::index => "`[`",
        Rule::call => "a call",
        Rule::case_expr => "`case`",
        Rule::case_arm | Rule::route_arm => "a condition",
        Rule::case_else | Rule::route_else => "`else`",
        Rule::binding => "a binding",
        Rule::link_field => "an identifier",
        Rule::named_arg => "a named argument",
        Rule::rfm_score => "`score`",
        Rule::rfm_thresholds => "`[`",
        Rule::rfm_quantiles => "`quantiles`",
        Rule::hotspot_at => "`at (x, y, z)`",
        Rule::hotspot_room => "`in room`",
        Rule::hotspot_content => "a hotspot kind such as `product \"SKU\"`",
        Rule::id_normalize => "`normalize`",
        Rule::id_strength => "`strong` or `weak`",
        Rule::id_unique => "`unique`",
        Rule::id_scoped => "`scoped by`",
        Rule::id_max_per => "`max_per_person`",
        Rule::fn_flag => "a function flag",
        Rule::param => "a parameter",
        Rule::boolean => "`true` or `false`",
        Rule::null => "`null`",
        Rule::op_or | Rule::op_and => "`and` or `or`",
        Rule::op_eq | Rule::op_ne | Rule::op_lt | Rule::op_le | Rule::op_gt | Rule::op_ge => {
            "a comparison"
        }
        Rule::op_add
        | Rule::op_sub
        | Rule::op_mul
        | Rule::op_div
        | Rule::op_mod
        | Rule::op_coalesce => "an operator",
        Rule::op_not | Rule::op_neg => "an expression",
        Rule::EOI => "the end of the file",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(text: &str) -> Vec<String> {
        parse(FileId(0), text)
            .errors
            .into_iter()
            .map(|d| d.message)
            .collect()
    }

    #[test]
    fn three_typos_three_messages() {
        let text = "atomic pay_amt = sum(pay_order.amount\n\
                    period 30d \"最近30天\" = last 30 dayz\n\
                    source s from csv(\"a.csv\") {\n  id string\n  name = string\n  ok string\n}\n\
                    modifier online on pay_order = channel == \"app\"\n";
        let errs = errors(text);
        assert_eq!(errs.len(), 3, "{errs:#?}");
        let module = parse(FileId(0), text).module;
        // The source and the modifier survive their neighbours' errors, and the
        // atomic metric is read as if its bracket were closed.
        assert_eq!(module.items.len(), 3);
        assert!(errs[0].contains("never closed"), "{errs:#?}");
    }

    #[test]
    fn an_unclosed_block_does_not_swallow_the_next_item() {
        let text =
            "source s from csv(\"a.csv\") {\n  id string\n\nfact f from s {\n  grain id\n}\n";
        let parsed = parse(FileId(0), text);
        let errs: Vec<_> = parsed.errors.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(errs, ["this `{` is never closed"]);
        assert_eq!(parsed.module.items.len(), 2);
        assert_eq!(parsed.errors[0].span.start, 27);
    }

    #[test]
    fn names_may_start_with_a_period() {
        let parsed = parse(
            FileId(0),
            "composite 30d_aov = 30d_pay_amt / 30d_pay_cnt + 30d\n",
        );
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        let ItemKind::Composite(c) = &parsed.module.items[0].kind else {
            panic!("a composite")
        };
        let ExprKind::Binary(BinaryOp::Add, lhs, rhs) = &c.expr.kind else {
            panic!("a sum")
        };
        assert!(matches!(rhs.kind, ExprKind::Quantity(_)));
        let ExprKind::Binary(BinaryOp::Div, a, _) = &lhs.kind else {
            panic!("a ratio")
        };
        assert!(matches!(&a.kind, ExprKind::Name(n) if n.text == "30d_pay_amt"));
    }

    #[test]
    fn precedence() {
        let parsed = parse(
            FileId(0),
            "audience a on consumer = not x == 1 and y in (1, 2) or z ?? 1 + 2 * 3 > 4\n",
        );
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        let ItemKind::Audience(a) = &parsed.module.items[0].kind else {
            panic!()
        };
        let ExprKind::Binary(BinaryOp::Or, lhs, rhs) = &a.expr.kind else {
            panic!("{:?}", a.expr)
        };
        assert!(matches!(lhs.kind, ExprKind::Binary(BinaryOp::And, _, _)));
        assert!(matches!(rhs.kind, ExprKind::Binary(BinaryOp::Gt, _, _)));
    }
}
