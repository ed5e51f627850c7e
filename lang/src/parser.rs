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

    fn glossary(&self, pair: Pair<'_, Rule>) -> Glossary {
        let mut roots = Vec::new();
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::root => {
                    let span = self.span(&p);
                    let mut inner = p.into_inner();
                    let name = self.ident(inner.next().expect("grammar: root name"));
                    let mut display = None;
                    let mut unit = None;
                    for q in inner {
                        match q.as_rule() {
                            Rule::string => display = Some(self.string(q)),
                            Rule::unit_clause => unit = Some(self.unit_clause(q)),
                            Rule::dangling_unit => self.dangling_unit(&q),
                            _ => {}
                        }
                    }
                    roots.push(Root {
                        name,
                        display,
                        unit,
                        span,
                    });
                }
                Rule::bad_stmt => self.bad_stmt(&p, &[("root", Rule::root)], "a root"),
                _ => {}
            }
        }
        Glossary { roots }
    }

    fn dangling_unit(&self, pair: &Pair<'_, Rule>) {
        let s = pair.as_span();
        self.errors.borrow_mut().push(
            Diagnostic::error(
                SYNTAX_CODE,
                Span::new(self.file, s.start(), s.start() + 4),
                "`unit` needs a unit on the same line".to_string(),
            )
            .with_span_label("no unit after this")
            .with_help("write the unit after it, such as `unit currency(CNY)` or `unit count`, or remove `unit`"),
        );
    }

    fn unit_clause(&self, pair: Pair<'_, Rule>) -> UnitSpec {
        let spec = pair.into_inner().next().expect("grammar: unit_spec");
        self.unit_spec(spec)
    }

    fn unit_spec(&self, pair: Pair<'_, Rule>) -> UnitSpec {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let kind = self.ident(inner.next().expect("grammar: unit kind"));
        UnitSpec {
            kind,
            arg: inner.next().map(|p| self.ident(p)),
            span,
        }
    }

    fn naming(&self, pair: Pair<'_, Rule>) -> Naming {
        let mut rules = Vec::new();
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::naming_rule => {
                    let span = self.span(&p);
                    let mut inner = p.into_inner();
                    let kind = self.ident(inner.next().expect("grammar: rule kind"));
                    let pattern = self.string(inner.next().expect("grammar: rule pattern"));
                    rules.push(NamingRule {
                        kind,
                        pattern,
                        span,
                    });
                }
                Rule::bad_stmt => self.bad_stmt(&p, &[("", Rule::naming_rule)], "a naming rule"),
                _ => {}
            }
        }
        Naming { rules }
    }

    fn location(&self, pair: Pair<'_, Rule>) -> Location {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let format = self.ident(inner.next().expect("grammar: format"));
        let path = self.string(inner.next().expect("grammar: path"));
        let options = inner.map(|p| self.named_arg(p)).collect();
        Location {
            format,
            path,
            options,
            span,
        }
    }

    fn source(&self, pair: Pair<'_, Rule>) -> Source {
        let mut inner = pair.into_inner();
        let header = self.header(&mut inner);
        let location = self.location(inner.next().expect("grammar: location"));
        let mut columns = Vec::new();
        for p in inner {
            match p.as_rule() {
                Rule::column => columns.push(self.column(p)),
                Rule::bad_stmt => self.bad_stmt(&p, &[("", Rule::column)], "a column"),
                _ => {}
            }
        }
        Source {
            header,
            location,
            columns,
        }
    }

    fn column(&self, pair: Pair<'_, Rule>) -> Column {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let name = self.ident(inner.next().expect("grammar: column name"));
        let ty_pair = inner.next().expect("grammar: column type");
        let ty_span = self.span(&ty_pair);
        let mut ty_inner = ty_pair.into_inner();
        let ty_name = self.ident(ty_inner.next().expect("grammar: type name"));
        let params = ty_inner.map(|p| self.uint(&p) as u32).collect();
        let ty = ColumnType {
            name: ty_name,
            params,
            span: ty_span,
        };
        let mut column = Column {
            name,
            ty,
            nullability: Nullability::Unspecified,
            pii: false,
            unit: None,
            span,
        };
        for p in inner {
            match p.as_rule() {
                Rule::nullability => {
                    let q = p.into_inner().next().expect("grammar: nullability");
                    column.nullability = if q.as_rule() == Rule::not_null {
                        Nullability::NotNull
                    } else {
                        Nullability::Nullable
                    };
                }
                Rule::pii => column.pii = true,
                Rule::unit_clause => column.unit = Some(self.unit_clause(p)),
                Rule::dangling_unit => self.dangling_unit(&p),
                _ => {}
            }
        }
        column
    }

    fn dimension(&self, pair: Pair<'_, Rule>) -> Dimension {
        let mut inner = pair.into_inner();
        let header = self.header(&mut inner);
        let source = self.ident(inner.next().expect("grammar: dimension source"));
        let mut dim = Dimension {
            header,
            source,
            key: None,
            attributes: Vec::new(),
        };
        for p in inner {
            match p.as_rule() {
                Rule::dim_key => dim.key = p.into_inner().next().map(|q| self.ident(q)),
                Rule::dim_attributes => {
                    dim.attributes.extend(p.into_inner().map(|q| self.ident(q)))
                }
                Rule::bad_stmt => self.bad_stmt(
                    &p,
                    &[("key", Rule::dim_key), ("attributes", Rule::dim_attributes)],
                    "a dimension statement",
                ),
                _ => {}
            }
        }
        dim
    }

    fn fact(&self, pair: Pair<'_, Rule>) -> Fact {
        let mut inner = pair.into_inner();
        let header = self.header(&mut inner);
        let source = self.ident(inner.next().expect("grammar: fact source"));
        let mut fact = Fact {
            header,
            source,
            filter: None,
            grain: Vec::new(),
            time: None,
            entity: None,
            dims: Vec::new(),
            measures: Vec::new(),
        };
        for p in inner {
            match p.as_rule() {
                Rule::where_clause => fact.filter = p.into_inner().next().map(|q| self.expr(q)),
                Rule::fact_grain => fact.grain.extend(p.into_inner().map(|q| self.ident(q))),
                Rule::fact_time => fact.time = p.into_inner().next().map(|q| self.ident(q)),
                Rule::fact_entity => fact.entity = p.into_inner().next().map(|q| self.ident(q)),
                Rule::fact_dims => fact.dims.extend(p.into_inner().map(|q| self.binding(q))),
                Rule::fact_measures => fact
                    .measures
                    .extend(p.into_inner().map(|q| self.binding(q))),
                Rule::bad_stmt => self.bad_stmt(
                    &p,
                    &[
                        ("grain", Rule::fact_grain),
                        ("time", Rule::fact_time),
                        ("entity", Rule::fact_entity),
                        ("dims", Rule::fact_dims),
                        ("measures", Rule::fact_measures),
                    ],
                    "a fact statement",
                ),
                _ => {}
            }
        }
        fact
    }

    fn binding(&self, pair: Pair<'_, Rule>) -> Binding {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let name = self.ident(inner.next().expect("grammar: binding name"));
        Binding {
            name,
            value: inner.next().map(|p| self.expr(p)),
            span,
        }
    }

    fn period(&self, pair: Pair<'_, Rule>) -> Option<ItemKind> {
        let mut inner = pair.into_inner();
        let header = self.header(&mut inner);
        let spec_pair = inner.next()?.into_inner().next()?;
        let spec_span = self.span(&spec_pair);
        let spec = match spec_pair.as_rule() {
            Rule::period_last => {
                let mut q = spec_pair.into_inner();
                let count_pair = q.next()?;
                let count = u32::try_from(self.uint(&count_pair)).unwrap_or(u32::MAX);
                let unit = match q.next()?.as_str() {
                    "hour" | "hours" => PeriodUnit::Hours,
                    "day" | "days" => PeriodUnit::Days,
                    "week" | "weeks" => PeriodUnit::Weeks,
                    _ => PeriodUnit::Months,
                };
                PeriodSpec::Last { count, unit }
            }
            _ => PeriodSpec::ToDate(match spec_pair.as_str() {
                "wtd" => ToDate::Week,
                "mtd" => ToDate::Month,
                "qtd" => ToDate::Quarter,
                "ytd" => ToDate::Year,
                _ => ToDate::All,
            }),
        };
        Some(ItemKind::Period(Period {
            header,
            spec,
            spec_span,
        }))
    }

    fn derived(&self, pair: Pair<'_, Rule>) -> Derived {
        let mut inner = pair.into_inner();
        let header = self.header(&mut inner);
        let atomic = self.ident(inner.next().expect("grammar: atomic"));
        let mut qualifiers = Vec::new();
        let mut by = Vec::new();
        for p in inner {
            match p.as_rule() {
                Rule::name => qualifiers.push(self.ident(p)),
                Rule::granularity => by.extend(p.into_inner().map(|q| self.ident(q))),
                _ => {}
            }
        }
        Derived {
            header,
            atomic,
            qualifiers,
            by,
        }
    }

    fn check(&self, pair: Pair<'_, Rule>) -> Option<Check> {
        let mut inner = pair.into_inner();
        let body = inner.next()?.into_inner().next()?;
        let rule = if body.as_rule() == Rule::check_unique {
            let mut q = body.into_inner();
            CheckRule::Unique {
                process: self.ident(q.next()?),
                column: self.ident(q.next()?),
            }
        } else {
            CheckRule::Expr(self.expr(body))
        };
        let severity = inner
            .next()
            .and_then(|p| p.into_inner().next())
            .map(|p| self.ident(p));
        Some(Check { rule, severity })
    }

    fn oneid(&self, pair: Pair<'_, Rule>) -> OneId {
        let mut inner = pair.into_inner();
        let header = self.header(&mut inner);
        let mut oneid = OneId {
            header,
            identifiers: Vec::new(),
            links: Vec::new(),
            rejects: Vec::new(),
            reject_frequent: None,
            max_component: None,
        };
        for p in inner {
            let span = self.span(&p);
            match p.as_rule() {
                Rule::identifier => {
                    let mut q = p.into_inner();
                    let name = self.ident(q.next().expect("grammar: identifier name"));
                    let mut id = Identifier {
                        name,
                        normalize: None,
                        strength: None,
                        unique: false,
                        scoped_by: None,
                        max_per_person: None,
                        span,
                    };
                    for opt in q {
                        match opt.as_rule() {
                            Rule::id_normalize => {
                                id.normalize = opt.into_inner().next().map(|x| self.ident(x))
                            }
                            Rule::id_strength => {
                                id.strength = Some(if opt.as_str().starts_with("strong") {
                                    Strength::Strong
                                } else {
                                    Strength::Weak
                                })
                            }
                            Rule::id_unique => id.unique = true,
                            Rule::id_scoped => {
                                id.scoped_by = opt.into_inner().next().map(|x| self.ident(x))
                            }
                            Rule::id_max_per => {
                                id.max_per_person = opt.into_inner().next().map(|x| self.guard(x))
                            }
                            _ => {}
                        }
                    }
                    oneid.identifiers.push(id);
                }
                Rule::link => {
                    let mut q = p.into_inner();
                    let source = self.ident(q.next().expect("grammar: link source"));
                    let fields = q
                        .map(|f| {
                            let mut r = f.into_inner();
                            let identifier = self.ident(r.next().expect("grammar: link field"));
                            LinkField {
                                identifier,
                                columns: r.map(|x| self.ident(x)).collect(),
                            }
                        })
                        .collect();
                    oneid.links.push(Link {
                        source,
                        fields,
                        span,
                    });
                }
                Rule::reject_values => {
                    let mut q = p.into_inner();
                    let identifier = self.ident(q.next().expect("grammar: reject identifier"));
                    let values = q.map(|s| self.string(s)).collect();
                    oneid.rejects.push(RejectValues {
                        identifier,
                        values,
                        span,
                    });
                }
                Rule::reject_frequent => {
                    oneid.reject_frequent = p.into_inner().next().map(|x| self.guard(x))
                }
                Rule::max_component => {
                    oneid.max_component = p.into_inner().next().map(|x| self.guard(x))
                }
                Rule::bad_stmt => self.bad_stmt(
                    &p,
                    &[
                        ("identifier", Rule::identifier),
                        ("link", Rule::link),
                        ("reject", Rule::reject_values),
                        ("max_component", Rule::max_component),
                    ],
                    "a OneID statement",
                ),
                _ => {}
            }
        }
        oneid
    }

    fn tag(&self, pair: Pair<'_, Rule>) -> Option<Tag> {
        let mut inner = pair.into_inner();
        let header = self.header(&mut inner);
        let entity = self.ident(inner.next()?);
        let mut values = Vec::new();
        let mut expr = None;
        for p in inner {
            match p.as_rule() {
                Rule::tag_values => values.extend(p.into_inner().map(|s| self.string(s))),
                Rule::expr => expr = Some(self.expr(p)),
                _ => {}
            }
        }
        Some(Tag {
            header,
            entity,
            values,
            expr: expr?,
        })
    }

    fn aipl(&self, pair: Pair<'_, Rule>) -> Aipl {
        let mut inner = pair.into_inner();
        let header = self.header(&mut inner);
        let entity = self.ident(inner.next().expect("grammar: aipl entity"));
        let mut aipl = Aipl {
            header,
            entity,
            by: Vec::new(),
            breakdowns: Vec::new(),
            stages: Vec::new(),
        };
        for p in inner {
            match p.as_rule() {
                Rule::granularity => aipl.by.extend(p.into_inner().map(|q| self.ident(q))),
                Rule::breakdown_of => {
                    let span = self.span(&p);
                    let mut q = p.into_inner().filter(|x| x.as_rule() != Rule::kw_of);
                    let by = self.ident(q.next().expect("grammar: breakdown by"));
                    let table = self.ident(q.next().expect("grammar: breakdown table"));
                    let expr = self.expr(q.next().expect("grammar: breakdown expr"));
                    aipl.breakdowns.push(BreakdownOf {
                        by,
                        table,
                        expr,
                        span,
                    });
                }
                Rule::stage => {
                    let span = self.span(&p);
                    let mut q = p.into_inner();
                    let header = self.header(&mut q);
                    let expr = self.expr(q.next().expect("grammar: stage expr"));
                    aipl.stages.push(Stage {
                        name: header.name,
                        display: header.display,
                        expr,
                        span,
                    });
                }
                Rule::bad_stmt => self.bad_stmt(&p, &[("", Rule::stage)], "a stage"),
                _ => {}
            }
        }
        aipl
    }

    fn rfm(&self, pair: Pair<'_, Rule>) -> Rfm {
        let mut inner = pair.into_inner();
        let header = self.header(&mut inner);
        let entity = self.ident(inner.next().expect("grammar: rfm entity"));
        let mut rfm = Rfm {
            header,
            entity,
            measures: Vec::new(),
            baseline: None,
            segments: Vec::new(),
        };
        for p in inner {
            let span = self.span(&p);
            match p.as_rule() {
                Rule::rfm_measure => {
                    let mut q = p.into_inner();
                    let kind = match q.next().expect("grammar: rfm kind").as_str() {
                        "recency" => RfmKind::Recency,
                        "frequency" => RfmKind::Frequency,
                        _ => RfmKind::Monetary,
                    };
                    let expr = self.expr(q.next().expect("grammar: rfm expr"));
                    let score_pair = q
                        .next()
                        .expect("grammar: score")
                        .into_inner()
                        .next()
                        .expect("grammar: score");
                    let score_span = self.span(&score_pair);
                    let score = if score_pair.as_rule() == Rule::rfm_quantiles {
                        let n = score_pair.into_inner().next().map_or(0, |x| self.uint(&x));
                        Score::Quantiles(u32::try_from(n).unwrap_or(u32::MAX), score_span)
                    } else {
                        Score::Thresholds(
                            score_pair
                                .into_inner()
                                .map(|x| x.as_str().to_string())
                                .collect(),
                            score_span,
                        )
                    };
                    rfm.measures.push(RfmMeasure {
                        kind,
                        expr,
                        score,
                        span,
                    });
                }
                Rule::rfm_baseline => {
                    let q = p.into_inner().next().expect("grammar: baseline");
                    rfm.baseline = Some(if q.as_rule() == Rule::ident {
                        Baseline::Named(self.ident(q))
                    } else {
                        Baseline::Value(q.as_str().to_string(), self.span(&q))
                    });
                }
                Rule::rfm_segments => {
                    for s in p.into_inner() {
                        match s.as_rule() {
                            Rule::rfm_segment => {
                                let span = self.span(&s);
                                let mut q = s.into_inner();
                                let code = self.ident(q.next().expect("grammar: segment code"));
                                let label = self.string(q.next().expect("grammar: segment label"));
                                rfm.segments.push(RfmSegment { code, label, span });
                            }
                            Rule::bad_stmt => {
                                self.bad_stmt(&s, &[("", Rule::rfm_segment)], "a segment")
                            }
                            _ => {}
                        }
                    }
                }
                Rule::bad_stmt => self.bad_stmt(
                    &p,
                    &[
                        ("recency", Rule::rfm_measure),
                        ("frequency", Rule::rfm_measure),
                        ("monetary", Rule::rfm_measure),
                        ("baseline", Rule::rfm_baseline),
                        ("segments", Rule::rfm_segments),
                    ],
                    "an RFM statement",
                ),
                _ => {}
            }
        }
        rfm
    }

    fn route(&self, pair: Pair<'_, Rule>) -> Option<Route> {
        let mut inner = pair.into_inner();
        let audience = self.ident(inner.next()?);
        let mut route = Route {
            audience,
            arms: Vec::new(),
            otherwise: None,
        };
        for p in inner {
            match p.as_rule() {
                Rule::route_arm => {
                    let span = self.span(&p);
                    let mut q = p.into_inner();
                    let condition = self.expr(q.next()?);
                    let channel = self.ident(q.next()?);
                    route.arms.push(RouteArm {
                        condition,
                        channel,
                        span,
                    });
                }
                Rule::route_else => route.otherwise = p.into_inner().next().map(|q| self.ident(q)),
                Rule::bad_stmt => self.bad_stmt(&p, &[("", Rule::route_arm)], "a route arm"),
                _ => {}
            }
        }
        Some(route)
    }

    fn export(&self, pair: Pair<'_, Rule>) -> Option<Export> {
        let mut inner = pair.into_inner();
        let audience = self.ident(inner.next()?);
        let location = self.location(inner.next()?);
        let mut columns = Vec::new();
        for p in inner {
            match p.as_rule() {
                Rule::export_col => {
                    let span = self.span(&p);
                    let mut q = p.into_inner();
                    let expr = self.expr(q.next()?);
                    columns.push(ExportColumn {
                        expr,
                        alias: q.next().map(|x| self.ident(x)),
                        span,
                    });
                }
                Rule::bad_stmt => {
                    self.bad_stmt(&p, &[("", Rule::export_col)], "an exported column")
                }
                _ => {}
            }
        }
        Some(Export {
            audience,
            location,
            columns,
        })
    }

    fn scan(&self, pair: Pair<'_, Rule>) -> Scan {
        let mut inner = pair.into_inner();
        let header = self.header(&mut inner);
        let mut scan = Scan {
            header,
            captures: Vec::new(),
            camera_height: None,
            steps: Vec::new(),
            hotspots: Vec::new(),
            outputs: Vec::new(),
        };
        for p in inner {
            let span = self.span(&p);
            match p.as_rule() {
                Rule::scan_capture => scan
                    .captures
                    .extend(p.into_inner().map(|q| self.primary(q))),
                Rule::scan_camera => {
                    scan.camera_height = p.into_inner().next().map(|q| self.primary(q))
                }
                Rule::scan_steps => {
                    for s in p.into_inner() {
                        let span = self.span(&s);
                        match s.as_rule() {
                            Rule::step_upright => scan.steps.push(ScanStep::Upright(span)),
                            Rule::step_layout => {
                                if let Some(q) = s.into_inner().next() {
                                    scan.steps.push(ScanStep::Layout(self.primary(q)));
                                }
                            }
                            Rule::step_merge => {
                                if let Some(q) = s.into_inner().next() {
                                    scan.steps.push(ScanStep::MergeBy(self.ident(q)));
                                }
                            }
                            Rule::step_texture => {
                                let n = s.into_inner().next().map_or(0, |q| self.uint(&q));
                                scan.steps.push(ScanStep::Texture(
                                    u32::try_from(n).unwrap_or(u32::MAX),
                                    span,
                                ));
                            }
                            Rule::bad_stmt => self.bad_stmt(
                                &s,
                                &[
                                    ("upright", Rule::step_upright),
                                    ("layout", Rule::step_layout),
                                    ("merge", Rule::step_merge),
                                    ("texture", Rule::step_texture),
                                ],
                                "a scan step",
                            ),
                            _ => {}
                        }
                    }
                }
                Rule::hotspot => {
                    let mut q = p.into_inner();
                    let header = self.header(&mut q);
                    let mut place = None;
                    let mut content = None;
                    let mut content_first = false;
                    for r in q {
                        match r.as_rule() {
                            Rule::hotspot_at => {
                                let rspan = self.span(&r);
                                let xs: Vec<String> =
                                    r.into_inner().map(|x| x.as_str().to_string()).collect();
                                if let [x, y, z] = xs.as_slice() {
                                    place = Some(HotspotPlace::At(
                                        [x.clone(), y.clone(), z.clone()],
                                        rspan,
                                    ));
                                }
                            }
                            Rule::hotspot_room => {
                                place = r
                                    .into_inner()
                                    .next()
                                    .map(|x| HotspotPlace::Room(self.ident(x)))
                            }
                            Rule::hotspot_content => {
                                content_first = place.is_none();
                                let mut x = r.into_inner();
                                let kind = self.ident(x.next().expect("grammar: hotspot kind"));
                                let target =
                                    self.string(x.next().expect("grammar: hotspot target"));
                                content = Some((kind, target));
                            }
                            _ => {}
                        }
                    }
                    if let (Some(place), Some((kind, target))) = (place, content) {
                        scan.hotspots.push(Hotspot {
                            name: header.name,
                            display: header.display,
                            place,
                            kind,
                            target,
                            content_first,
                            span,
                        });
                    }
                }
                Rule::scan_output => scan.outputs.extend(p.into_inner().map(|q| self.primary(q))),
                Rule::bad_stmt => self.bad_stmt(
                    &p,
                    &[
                        ("capture", Rule::scan_capture),
                        ("camera_height", Rule::scan_camera),
                        ("steps", Rule::scan_steps),
                        ("hotspot", Rule::hotspot),
                        ("output", Rule::scan_output),
                    ],
                    "a scan statement",
                ),
                _ => {}
            }
        }
        scan
    }

    fn dashboard(&self, pair: Pair<'_, Rule>) -> Dashboard {
        let mut inner = pair.into_inner();
        let header = self.header(&mut inner);
        let mut widgets = Vec::new();
        for p in inner {
            let span = self.span(&p);
            let kind = match p.as_rule() {
                Rule::widget_trend => {
                    let mut q = p.into_inner();
                    let model = self.ident(q.next().expect("grammar: trend model"));
                    let over = self.quantity(q.next().expect("grammar: trend window"), false);
                    let by = q
                        .next()
                        .map(|g| g.into_inner().map(|x| self.ident(x)).collect())
                        .unwrap_or_default();
                    WidgetKind::Trend { model, over, by }
                }
                Rule::widget_flow => {
                    let mut q = p.into_inner();
                    let model = self.ident(q.next().expect("grammar: flow model"));
                    let from = self.signed_quantity(q.next().expect("grammar: flow start"));
                    let to = q.next().map(|x| self.signed_quantity(x));
                    WidgetKind::Flow { model, from, to }
                }
                Rule::widget_contribution => {
                    let mut q = p.into_inner();
                    let dimension = self.ident(q.next().expect("grammar: contribution dimension"));
                    let target = self.expr(q.next().expect("grammar: contribution target"));
                    WidgetKind::Contribution { dimension, target }
                }
                Rule::widget_kpi => WidgetKind::Kpi {
                    metrics: p.into_inner().map(|x| self.ident(x)).collect(),
                },
                Rule::bad_stmt => {
                    self.bad_stmt(
                        &p,
                        &[
                            ("trend", Rule::widget_trend),
                            ("flow", Rule::widget_flow),
                            ("contribution", Rule::widget_contribution),
                            ("kpi", Rule::widget_kpi),
                        ],
                        "a dashboard widget",
                    );
                    continue;
                }
                _ => continue,
            };
            widgets.push(Widget { kind, span });
        }
        Dashboard { header, widgets }
    }

    fn function(&self, pair: Pair<'_, Rule>) -> Function {
        let mut inner = pair.into_inner();
        let name = self.ident(inner.next().expect("grammar: fn name"));
        let mut params = Vec::new();
        let mut returns = None;
        let mut flags = Vec::new();
        let mut display = None;
        for p in inner {
            match p.as_rule() {
                Rule::param => {
                    let mut q = p.into_inner();
                    let name = self.ident(q.next().expect("grammar: param name"));
                    let ty = self.ident(q.next().expect("grammar: param type"));
                    params.push(Param {
                        name,
                        ty,
                        optional: q.next().is_some(),
                    });
                }
                Rule::ident => returns = Some(self.ident(p)),
                Rule::fn_flag => flags.push(self.ident(p)),
                Rule::string => display = Some(self.string(p)),
                _ => {}
            }
        }
        let returns = returns.unwrap_or_else(|| Ident {
            text: "any".into(),
            span: name.span,
        });
        Function {
            header: Header { name, display },
            params,
            returns,
            flags,
        }
    }

    // ------------------------------------------------------------------ expressions

    fn expr(&self, pair: Pair<'_, Rule>) -> Expr {
        PRATT
            .map_primary(|p| self.primary(p))
            .map_prefix(|op, rhs| {
                let span = self.span(&op).to(rhs.span);
                let op = if op.as_rule() == Rule::op_not {
                    UnaryOp::Not
                } else {
                    UnaryOp::Neg
                };
                Expr {
                    kind: ExprKind::Unary(op, Box::new(rhs)),
                    span,
                }
            })
            .map_postfix(|lhs, op| {
                let span = lhs.span.to(self.span(&op));
                let kind = match op.as_rule() {
                    Rule::field => {
                        let name = self.ident(op.into_inner().next().expect("grammar: field name"));
                        ExprKind::Field(Box::new(lhs), name)
                    }
                    Rule::index => ExprKind::Index(
                        Box::new(lhs),
                        op.into_inner().map(|q| self.ident(q)).collect(),
                    ),
                    _ => {
                        let mut negated = false;
                        let mut list = Vec::new();
                        for q in op.into_inner() {
                            match q.as_rule() {
                                Rule::op_not_in => negated = true,
                                Rule::expr => list.push(self.expr(q)),
                                _ => {}
                            }
                        }
                        ExprKind::In {
                            expr: Box::new(lhs),
                            list,
                            negated,
                        }
                    }
                };
                Expr { kind, span }
            })
            .map_infix(|lhs, op, rhs| {
                let span = lhs.span.to(rhs.span);
                let op = match op.as_rule() {
                    Rule::op_or => BinaryOp::Or,
                    Rule::op_and => BinaryOp::And,
                    Rule::op_eq => BinaryOp::Eq,
                    Rule::op_ne => BinaryOp::Ne,
                    Rule::op_lt => BinaryOp::Lt,
                    Rule::op_le => BinaryOp::Le,
                    Rule::op_gt => BinaryOp::Gt,
                    Rule::op_ge => BinaryOp::Ge,
                    Rule::op_coalesce => BinaryOp::Coalesce,
                    Rule::op_add => BinaryOp::Add,
                    Rule::op_sub => BinaryOp::Sub,
                    Rule::op_mul => BinaryOp::Mul,
                    Rule::op_div => BinaryOp::Div,
                    _ => BinaryOp::Mod,
                };
                Expr {
                    kind: ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)),
                    span,
                }
            })
            .parse(pair.into_inner())
    }

    fn primary(&self, pair: Pair<'_, Rule>) -> Expr {
        let span = self.span(&pair);
        let kind = match pair.as_rule() {
            Rule::expr => return self.expr(pair),
            Rule::number => ExprKind::Number(pair.as_str().to_string()),
            Rule::string => ExprKind::Str(self.string(pair).value),
            Rule::boolean => ExprKind::Bool(pair.as_str() == "true"),
            Rule::null => ExprKind::Null,
            Rule::quantity => ExprKind::Quantity(self.quantity(pair, false)),
            Rule::ident | Rule::digit_name => ExprKind::Name(self.ident(pair)),
            Rule::call => {
                let mut inner = pair.into_inner();
                let func = self.ident(inner.next().expect("grammar: callee"));
                let args = inner
                    .map(|a| {
                        if a.as_rule() == Rule::named_arg {
                            Arg::Named(self.named_arg(a))
                        } else {
                            let mut q = a.into_inner();
                            let value = self.expr(q.next().expect("grammar: argument"));
                            Arg::Positional {
                                value,
                                filter: q.next().map(|f| self.expr(f)),
                            }
                        }
                    })
                    .collect();
                ExprKind::Call(func, args)
            }
            Rule::case_expr => {
                let mut arms = Vec::new();
                let mut otherwise = None;
                for p in pair.into_inner() {
                    match p.as_rule() {
                        Rule::case_arm => {
                            let arm_span = self.span(&p);
                            let mut q = p.into_inner();
                            let condition = self.expr(q.next().expect("grammar: case condition"));
                            let value = self.expr(q.next().expect("grammar: case value"));
                            arms.push(CaseArm {
                                condition,
                                value,
                                span: arm_span,
                            });
                        }
                        Rule::case_else => {
                            otherwise = p.into_inner().next().map(|q| Box::new(self.expr(q)));
                        }
                        Rule::bad_stmt => self.bad_stmt(&p, &[("", Rule::case_arm)], "a case arm"),
                        _ => {}
                    }
                }
                ExprKind::Case { arms, otherwise }
            }
            _ => ExprKind::Null,
        };
        Expr { kind, span }
    }

    fn named_arg(&self, pair: Pair<'_, Rule>) -> NamedArg {
        let mut inner = pair.into_inner();
        let name = self.ident(inner.next().expect("grammar: argument name"));
        NamedArg {
            name,
            value: self.expr(inner.next().expect("grammar: argument value")),
        }
    }

    fn quantity(&self, pair: Pair<'_, Rule>, negative: bool) -> Quantity {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let value = inner
            .next()
            .map_or(String::new(), |p| p.as_str().to_string());
        let unit = inner
            .next()
            .and_then(|p| QuantityUnit::from_suffix(p.as_str()))
            .unwrap_or(QuantityUnit::Days);
        Quantity {
            negative,
            value,
            unit,
            span,
        }
    }

    fn signed_quantity(&self, pair: Pair<'_, Rule>) -> Quantity {
        let span = self.span(&pair);
        let mut negative = false;
        let mut q = None;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::neg => negative = true,
                Rule::quantity => q = Some(self.quantity(p, false)),
                _ => {}
            }
        }
        let mut q = q.unwrap_or(Quantity {
            negative,
            value: "0".into(),
            unit: QuantityUnit::Days,
            span,
        });
        q.negative = negative;
        q.span = span;
        q
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
