//! The canonical layout of `.mj` files (`mj fmt`).
//!
//! The printer walks the tree and writes one statement per line, two spaces of
//! indentation, aligned names in blocks of columns, roots and identifiers, and the
//! minimum of parentheses that keeps an expression's meaning. Comments are not in the
//! tree's structure: they are kept in a list with their spans and written back before
//! the first node that follows them (or at the end of the line they ended). Blank
//! lines between statements survive, collapsed to one. Formatting is idempotent:
//! formatting formatted text changes nothing.

use crate::ast::*;

mod expr;

pub use expr::{expr_text, quote};
use expr::{flatten, quantity, simple_expr};

const WIDTH: usize = 100;
const INDENT: &str = "  ";

/// Formats a parsed module. `text` is the text it was parsed from (for comments and
/// blank lines).
pub fn format(module: &Module, text: &str) -> String {
    let mut p = Printer {
        out: String::new(),
        indent: 0,
        comments: &module.comments,
        next: 0,
        text,
        align: None,
    };
    let aligns = alignments(module, text);
    let mut prev: Option<(&Item, bool)> = None;
    for (item, align) in module.items.iter().zip(aligns) {
        p.align = align;
        let multiline_before = prev.is_some_and(|(_, multi)| multi);
        if let Some((prev_item, _)) = prev {
            let next_start = p
                .comments
                .get(p.next)
                .map_or(item.span.start, |c| c.span.start.min(item.span.start));
            let gap = p.blank_between(prev_item.span.end, next_start);
            if gap || multiline_before || is_block(item) {
                p.out.push('\n');
            }
        }
        p.leading_comments(item.span.start, prev.is_some());
        let before = p.out.len();
        p.item(item);
        p.trailing_comment(item.span.end);
        let multiline = p.out[before..].trim_end().contains('\n');
        prev = Some((item, multiline));
    }
    // Comments after the last item.
    if p.next < p.comments.len() {
        if prev.is_some() {
            p.out.push('\n');
        }
        p.leading_comments(u32::MAX, false);
    }
    p.out
}

/// Display width: wide (CJK, full-width) characters take two columns.
fn width(s: &str) -> usize {
    s.chars().map(|c| if c >= '\u{2e80}' { 2 } else { 1 }).sum()
}

/// For each item, the widths to align its header to when it is in a run of one-line
/// items of the same kind with no blank line or comment between them.
fn alignments(module: &Module, text: &str) -> Vec<Option<(usize, usize)>> {
    let alignable = |k: &ItemKind| {
        matches!(
            k,
            ItemKind::Atomic(_)
                | ItemKind::Modifier(_)
                | ItemKind::Period(_)
                | ItemKind::Derived(_)
                | ItemKind::Composite(_)
        )
    };
    let items = &module.items;
    let mut out = vec![None; items.len()];
    let mut start = 0;
    while start < items.len() {
        let mut end = start + 1;
        if alignable(&items[start].kind) {
            while end < items.len() {
                let (a, b) = (&items[end - 1], &items[end]);
                let between = &text[(a.span.end as usize).min(text.len())
                    ..(b.span.start as usize).min(text.len())];
                let joined = between.matches('\n').count() == 1 && !between.contains("//");
                // Whether an item spans lines is decided on its printed form, not on
                // how it was written, so that formatting twice changes nothing.
                if !joined || a.kind.keyword() != b.kind.keyword() || !one_line(a, text) {
                    break;
                }
                end += 1;
            }
            if end - start > 1 {
                let headers: Vec<&Header> = items[start..end]
                    .iter()
                    .filter_map(|i| i.kind.header())
                    .collect();
                let nw = headers
                    .iter()
                    .map(|h| width(&h.name.text))
                    .max()
                    .unwrap_or(0);
                let dw = headers
                    .iter()
                    .filter_map(|h| h.display.as_ref())
                    .map(|d| width(&quote(&d.value)))
                    .max()
                    .unwrap_or(0);
                // Padding must not push a member over the line width: then the run is
                // not aligned at all (the same decision on every pass, so formatting
                // twice changes nothing).
                let fits = items[start..end]
                    .iter()
                    .all(|i| one_line_aligned(i, text, Some((nw, dw))));
                if fits {
                    for slot in &mut out[start..end] {
                        *slot = Some((nw, dw));
                    }
                }
            }
        }
        start = end;
    }
    out
}

/// Whether an item prints on one line (without alignment) and has no comment inside.
fn one_line(item: &Item, text: &str) -> bool {
    one_line_aligned(item, text, None)
}

/// Whether an item prints on one line with the given alignment.
fn one_line_aligned(item: &Item, text: &str, align: Option<(usize, usize)>) -> bool {
    let inside =
        &text[(item.span.start as usize).min(text.len())..(item.span.end as usize).min(text.len())];
    if inside.contains("//") {
        return false;
    }
    let mut p = Printer {
        out: String::new(),
        indent: 0,
        comments: &[],
        next: 0,
        text,
        align,
    };
    p.item(item);
    !p.out.trim_end().contains('\n')
}

fn is_block(item: &Item) -> bool {
    matches!(
        item.kind,
        ItemKind::Glossary(_)
            | ItemKind::Naming(_)
            | ItemKind::Source(_)
            | ItemKind::Dimension(_)
            | ItemKind::Fact(_)
            | ItemKind::OneId(_)
            | ItemKind::Aipl(_)
            | ItemKind::Rfm(_)
            | ItemKind::Route(_)
            | ItemKind::Export(_)
            | ItemKind::Scan(_)
            | ItemKind::Dashboard(_)
    )
}

struct Printer<'a> {
    /// Widths of the name and display name to pad to, in a run of one-line items.
    align: Option<(usize, usize)>,
    out: String,
    indent: usize,
    comments: &'a [Comment],
    next: usize,
    text: &'a str,
}

impl Printer<'_> {
    // ------------------------------------------------------------------ layout helpers

    fn pad(&mut self) {
        for _ in 0..self.indent {
            self.out.push_str(INDENT);
        }
    }

    /// Starts a new line at the current indentation.
    fn line(&mut self, s: &str) {
        self.pad();
        self.out.push_str(s);
    }

    fn newline(&mut self) {
        self.out.push('\n');
    }

    /// Whether the source had a blank line between two offsets.
    fn blank_between(&self, from: u32, to: u32) -> bool {
        let (from, to) = (from as usize, (to as usize).min(self.text.len()));
        if from >= to {
            return false;
        }
        let parts: Vec<&str> = self.text[from..to].split('\n').collect();
        parts.len() > 2
            && parts[1..parts.len() - 1]
                .iter()
                .any(|l| l.trim().is_empty())
    }

    /// Writes the comments that start before `pos`, each on its own line.
    fn leading_comments(&mut self, pos: u32, _after_something: bool) {
        while let Some(c) = self.comments.get(self.next) {
            if c.span.start >= pos {
                break;
            }
            self.line(&c.text);
            self.newline();
            self.next += 1;
            // Keep one blank line after a comment block that had one.
            if let Some(n) = self
                .comments
                .get(self.next)
                .map(|n| n.span.start.min(pos))
                .or(Some(pos))
                && n != u32::MAX
                && n > c.span.end
                && self.blank_between(c.span.end, n)
            {
                self.newline();
            }
        }
    }

    /// Appends ` // comment` if a comment starts on the line where `end` is.
    fn trailing_comment(&mut self, end: u32) {
        if let Some(c) = self.comments.get(self.next) {
            let (e, s) = (end as usize, c.span.start as usize);
            if s >= e && s <= self.text.len() && !self.text[e..s].contains('\n') {
                while self.out.ends_with('\n') {
                    self.out.pop();
                }
                self.out.push(' ');
                self.out.push_str(&c.text);
                self.next += 1;
            }
        }
        if !self.out.ends_with('\n') {
            self.newline();
        }
    }

    /// One statement of a block: its comments, its text, its trailing comment.
    fn stmt(&mut self, span: Span, prev_end: &mut Option<u32>, text: &str) {
        self.stmt_start(span, prev_end);
        self.line(text);
        self.trailing_comment(span.end);
        *prev_end = Some(span.end);
    }

    fn stmt_start(&mut self, span: Span, prev_end: &mut Option<u32>) {
        if let Some(end) = *prev_end {
            let next_start = self
                .comments
                .get(self.next)
                .map_or(span.start, |c| c.span.start.min(span.start));
            if self.blank_between(end, next_start) {
                self.newline();
            }
        }
        self.leading_comments(span.start, true);
    }

    fn open(&mut self, head: &str) {
        self.out.push_str(head);
        self.out.push_str(" {");
        self.newline();
        self.indent += 1;
    }

    /// Closes a block, writing comments that were left inside it.
    fn close(&mut self, end: u32) {
        self.leading_comments(end, true);
        self.indent -= 1;
        self.line("}");
    }

    /// `name "display"`, padded when the item is part of an aligned run.
    fn head(&self, h: &Header) -> String {
        let Some((nw, dw)) = self.align else {
            return header(h);
        };
        let mut s = h.name.text.clone();
        s.push_str(&" ".repeat(nw.saturating_sub(width(&s))));
        if dw > 0 {
            let d = h
                .display
                .as_ref()
                .map(|d| quote(&d.value))
                .unwrap_or_default();
            s.push(' ');
            s.push_str(&d);
            s.push_str(&" ".repeat(dw.saturating_sub(width(&d))));
        }
        s
    }

    // ------------------------------------------------------------------ items

    fn item(&mut self, item: &Item) {
        let end = item.span.end;
        match &item.kind {
            ItemKind::Glossary(g) => {
                self.open("glossary");
                let width = g.roots.iter().map(|r| r.name.text.len()).max().unwrap_or(0);
                let dw = g
                    .roots
                    .iter()
                    .filter_map(|r| r.display.as_ref())
                    .map(|d| self::width(&quote(&d.value)))
                    .max();
                let mut prev = None;
                for r in &g.roots {
                    let mut s = format!("root {:width$}", r.name.text);
                    if let Some(d) = &r.display {
                        s.push(' ');
                        let q = quote(&d.value);
                        let pad = if r.unit.is_some() {
                            dw.unwrap_or(0).saturating_sub(self::width(&q))
                        } else {
                            0
                        };
                        s.push_str(&q);
                        s.push_str(&" ".repeat(pad));
                    }
                    if let Some(u) = &r.unit {
                        s.push_str(" unit ");
                        s.push_str(&unit_spec(u));
                    }
                    self.stmt(r.span, &mut prev, s.trim_end());
                }
                self.close(end);
            }
            ItemKind::Naming(n) => {
                self.open("naming");
                let mut prev = None;
                for r in &n.rules {
                    let s = format!("{} = {}", r.kind.text, quote(&r.pattern.value));
                    self.stmt(r.span, &mut prev, &s);
                }
                self.close(end);
            }
            ItemKind::Source(s) => {
                let head = format!(
                    "source {} from {}",
                    header(&s.header),
                    location(&s.location)
                );
                self.open(&head);
                let mut prev = None;
                if let Some(by) = &s.incremental {
                    self.stmt(by.span, &mut prev, &format!("incremental by {}", by.text));
                }
                let width = s
                    .columns
                    .iter()
                    .map(|c| c.name.text.len())
                    .max()
                    .unwrap_or(0);
                for c in &s.columns {
                    let mut t = format!("{:width$} {}", c.name.text, c.ty.name.text);
                    if !c.ty.params.is_empty() {
                        let ps: Vec<String> = c.ty.params.iter().map(u32::to_string).collect();
                        t.push_str(&format!("({})", ps.join(",")));
                    }
                    match c.nullability {
                        Nullability::Nullable => t.push('?'),
                        Nullability::NotNull => t.push_str(" not null"),
                        Nullability::Unspecified => {}
                    }
                    if c.pii {
                        t.push_str(" pii");
                    }
                    if let Some(u) = &c.unit {
                        t.push_str(" unit ");
                        t.push_str(&unit_spec(u));
                    }
                    self.stmt(c.span, &mut prev, &t);
                }
                self.close(end);
            }
            ItemKind::Dimension(d) => {
                self.open(&format!(
                    "dimension {} from {}",
                    header(&d.header),
                    d.source.text
                ));
                let mut prev = None;
                if let Some(k) = &d.key {
                    self.stmt(k.span, &mut prev, &format!("key {}", k.text));
                }
                if let Some(first) = d.attributes.first() {
                    let names: Vec<&str> = d.attributes.iter().map(|a| a.text.as_str()).collect();
                    let span = first
                        .span
                        .to(d.attributes.last().map_or(first.span, |a| a.span));
                    self.stmt(
                        span,
                        &mut prev,
                        &format!("attributes {{ {} }}", names.join(", ")),
                    );
                }
                self.close(end);
            }
            ItemKind::Fact(f) => self.fact(f, end),
            ItemKind::Atomic(a) => {
                let s = format!("atomic {} = ", self.head(&a.header));
                self.expr_stmt(&s, &a.expr);
            }
            ItemKind::Modifier(m) => {
                let s = format!("modifier {} on {} = ", self.head(&m.header), m.process.text);
                self.expr_stmt(&s, &m.expr);
            }
            ItemKind::Period(p) => {
                let spec = match &p.spec {
                    PeriodSpec::Last { count, unit } => {
                        let u = match unit {
                            PeriodUnit::Hours => "hours",
                            PeriodUnit::Days => "days",
                            PeriodUnit::Weeks => "weeks",
                            PeriodUnit::Months => "months",
                        };
                        format!("last {count} {u}")
                    }
                    PeriodSpec::ToDate(t) => match t {
                        ToDate::All => "to_date",
                        ToDate::Week => "wtd",
                        ToDate::Month => "mtd",
                        ToDate::Quarter => "qtd",
                        ToDate::Year => "ytd",
                    }
                    .to_string(),
                };
                self.line(&format!("period {} = {}", self.head(&p.header), spec));
            }
            ItemKind::Derived(d) => {
                let q: Vec<&str> = d.qualifiers.iter().map(|i| i.text.as_str()).collect();
                let mut s = format!(
                    "derived {} = {}[{}]",
                    self.head(&d.header),
                    d.atomic.text,
                    q.join(", ")
                );
                if !d.by.is_empty() {
                    s.push_str(" by ");
                    s.push_str(&idents(&d.by));
                }
                self.line(&s);
            }
            ItemKind::Composite(c) => {
                let s = format!("composite {} = ", self.head(&c.header));
                self.expr_stmt(&s, &c.expr);
            }
            ItemKind::Check(c) => {
                let sev = c
                    .severity
                    .as_ref()
                    .map(|s| format!(" severity {}", s.text))
                    .unwrap_or_default();
                match &c.rule {
                    CheckRule::Unique { process, column } => self.line(&format!(
                        "check unique {}.{}{sev}",
                        process.text, column.text
                    )),
                    CheckRule::Expr(e) => {
                        self.pad();
                        let t = self.expr(e, 0);
                        self.out.push_str(&format!("check {t}{sev}"));
                    }
                }
            }
            ItemKind::OneId(o) => self.oneid(o, end),
            ItemKind::Tag(t) => {
                let mut s = format!("tag {} on {}", header(&t.header), t.entity.text);
                if !t.values.is_empty() {
                    let vs: Vec<String> = t.values.iter().map(|v| quote(&v.value)).collect();
                    s.push_str(&format!(" values ({})", vs.join(", ")));
                }
                s.push_str(" = ");
                self.expr_stmt(&s, &t.expr);
            }
            ItemKind::Aipl(a) => {
                let mut head = format!("aipl {} on {}", header(&a.header), a.entity.text);
                if !a.by.is_empty() {
                    head.push_str(" by ");
                    head.push_str(&idents(&a.by));
                }
                self.open(&head);
                let mut prev = None;
                // Breakdowns and stages in the order written.
                let mut stmts: Vec<(Span, String, &Expr)> = a
                    .breakdowns
                    .iter()
                    .map(|b| {
                        (
                            b.span,
                            format!("{} of {} = ", b.by.text, b.table.text),
                            &b.expr,
                        )
                    })
                    .chain(a.stages.iter().map(|st| {
                        let mut s = st.name.text.clone();
                        if let Some(d) = &st.display {
                            s.push(' ');
                            s.push_str(&quote(&d.value));
                        }
                        s.push_str(" = ");
                        (st.span, s, &st.expr)
                    }))
                    .collect();
                stmts.sort_by_key(|(span, _, _)| span.start);
                for (span, head, e) in stmts {
                    self.stmt_start(span, &mut prev);
                    self.expr_stmt(&head, e);
                    self.trailing_comment(span.end);
                    prev = Some(span.end);
                }
                self.close(end);
            }
            ItemKind::Rfm(r) => self.rfm(r, end),
            ItemKind::Audience(a) => {
                let s = format!("audience {} on {} = ", header(&a.header), a.entity.text);
                self.expr_stmt(&s, &a.expr);
            }
            ItemKind::Compare(c) => {
                self.line(&format!(
                    "compare {} against {} by {}",
                    c.audience.text,
                    c.against.text,
                    idents(&c.by)
                ));
            }
            ItemKind::Route(r) => {
                self.open(&format!("route {}", r.audience.text));
                let conds: Vec<String> =
                    r.arms.iter().map(|a| self.expr(&a.condition, 0)).collect();
                let widest = conds
                    .iter()
                    .map(|c| width(c))
                    .chain(r.otherwise.iter().map(|_| 4))
                    .max()
                    .unwrap_or(0);
                let mut prev = None;
                for (arm, cond) in r.arms.iter().zip(&conds) {
                    let pad = widest.saturating_sub(width(cond));
                    let s = format!("{cond}{} => {}", " ".repeat(pad), arm.channel.text);
                    self.stmt(arm.span, &mut prev, &s);
                }
                if let Some(o) = &r.otherwise {
                    let s = format!("else{} => {}", " ".repeat(widest.saturating_sub(4)), o.text);
                    self.stmt(o.span, &mut prev, &s);
                }
                self.close(end);
            }
            ItemKind::Export(e) => {
                self.open(&format!(
                    "export {} to {}",
                    e.audience.text,
                    location(&e.location)
                ));
                let mut prev = None;
                for c in &e.columns {
                    let mut s = self.expr(&c.expr, 0);
                    if let Some(a) = &c.alias {
                        s.push_str(" as ");
                        s.push_str(&a.text);
                    }
                    self.stmt(c.span, &mut prev, &s);
                }
                self.close(end);
            }
            ItemKind::Scan(s) => self.scan(s, end),
            ItemKind::Dashboard(d) => {
                self.open(&format!("dashboard {}", header(&d.header)));
                let mut prev = None;
                for w in &d.widgets {
                    let s = match &w.kind {
                        WidgetKind::Trend { model, over, by } => {
                            let mut s = format!("trend {} over {}", model.text, quantity(over));
                            if !by.is_empty() {
                                s.push_str(" by ");
                                s.push_str(&idents(by));
                            }
                            s
                        }
                        WidgetKind::Flow { model, from, to } => {
                            let mut s = format!("flow {} from {}", model.text, quantity(from));
                            if let Some(t) = to {
                                s.push_str(" to ");
                                s.push_str(&quantity(t));
                            }
                            s
                        }
                        WidgetKind::Contribution { dimension, target } => {
                            format!(
                                "contribution {} to {}",
                                dimension.text,
                                self.expr(target, 0)
                            )
                        }
                        WidgetKind::Kpi { metrics } => format!("kpi {}", idents(metrics)),
                    };
                    self.stmt(w.span, &mut prev, &s);
                }
                self.close(end);
            }
            ItemKind::Function(f) => {
                let ps: Vec<String> = f
                    .params
                    .iter()
                    .map(|p| {
                        format!(
                            "{}: {}{}",
                            p.name.text,
                            p.ty.text,
                            if p.optional { "?" } else { "" }
                        )
                    })
                    .collect();
                let mut s = format!(
                    "fn {}({}) -> {}",
                    f.header.name.text,
                    ps.join(", "),
                    f.returns.text
                );
                for flag in &f.flags {
                    s.push(' ');
                    s.push_str(&flag.text);
                }
                if let Some(d) = &f.header.display {
                    s.push(' ');
                    s.push_str(&quote(&d.value));
                }
                self.line(&s);
            }
        }
    }

    fn fact(&mut self, f: &Fact, end: u32) {
        let mut head = format!("fact {} from {}", header(&f.header), f.source.text);
        if let Some(w) = &f.filter {
            head.push_str(" where ");
            head.push_str(&self.expr(w, 0));
        }
        self.open(&head);
        let mut prev = None;
        if let Some(first) = f.grain.first() {
            self.stmt(
                first.span,
                &mut prev,
                &format!("grain {}", idents(&f.grain)),
            );
        }
        if let Some(t) = &f.time {
            self.stmt(t.span, &mut prev, &format!("time {}", t.text));
        }
        if let Some(e) = &f.entity {
            self.stmt(e.span, &mut prev, &format!("entity {}", e.text));
        }
        for (kw, list) in [("dims", &f.dims), ("measures", &f.measures)] {
            if let Some(first) = list.first() {
                let parts: Vec<String> = list
                    .iter()
                    .map(|b| match &b.value {
                        Some(v) => format!("{} = {}", b.name.text, self.expr(v, 0)),
                        None => b.name.text.clone(),
                    })
                    .collect();
                let span = first.span.to(list.last().map_or(first.span, |b| b.span));
                self.stmt(span, &mut prev, &format!("{kw} {{ {} }}", parts.join(", ")));
            }
        }
        self.close(end);
    }

    fn oneid(&mut self, o: &OneId, end: u32) {
        self.open(&format!("oneid {}", header(&o.header)));
        let mut prev = None;
        let width = o
            .identifiers
            .iter()
            .map(|i| i.name.text.len())
            .max()
            .unwrap_or(0);
        for id in &o.identifiers {
            let mut s = format!("identifier {:width$}", id.name.text);
            if let Some(n) = &id.normalize {
                s.push_str(&format!(" normalize {}", n.text));
            }
            match id.strength {
                Some(Strength::Strong) => s.push_str(" strong"),
                Some(Strength::Weak) => s.push_str(" weak"),
                None => {}
            }
            if id.unique {
                s.push_str(" unique");
            }
            if let Some(sc) = &id.scoped_by {
                s.push_str(&format!(" scoped by {}", sc.text));
            }
            if let Some(m) = &id.max_per_person {
                s.push_str(&format!(" max_per_person {}", m.value));
            }
            self.stmt(id.span, &mut prev, s.trim_end());
        }
        let width = o
            .links
            .iter()
            .map(|l| l.source.text.len())
            .max()
            .unwrap_or(0);
        for l in &o.links {
            let fields: Vec<String> = l
                .fields
                .iter()
                .map(|f| match &f.columns[..] {
                    [] => f.identifier.text.clone(),
                    [c] => format!("{} = {}", f.identifier.text, c.text),
                    parts => format!("{} = ({})", f.identifier.text, idents(parts)),
                })
                .collect();
            let one_line = format!("link {:width$} ({})", l.source.text, fields.join(", "));
            let text = if width_of_line(self.indent, &one_line) <= WIDTH {
                one_line
            } else {
                // One field a line, indented one level deeper than `link`.
                let inner = INDENT.repeat(self.indent + 1);
                let outer = INDENT.repeat(self.indent);
                let body: Vec<String> = fields.iter().map(|f| format!("{inner}{f}")).collect();
                format!("link {} (\n{}\n{outer})", l.source.text, body.join(",\n"))
            };
            self.stmt(l.span, &mut prev, &text);
        }
        for r in &o.rejects {
            let vs: Vec<String> = r.values.iter().map(|v| quote(&v.value)).collect();
            self.stmt(
                r.span,
                &mut prev,
                &format!("reject {} ({})", r.identifier.text, vs.join(", ")),
            );
        }
        if let Some(g) = &o.reject_frequent {
            self.stmt(
                g.span,
                &mut prev,
                &format!("reject frequent above {}", g.value),
            );
        }
        if let Some(g) = &o.max_component {
            self.stmt(g.span, &mut prev, &format!("max_component {}", g.value));
        }
        self.close(end);
    }

    fn rfm(&mut self, r: &Rfm, end: u32) {
        self.open(&format!("rfm {} on {}", header(&r.header), r.entity.text));
        let mut prev = None;
        for m in &r.measures {
            let kind = match m.kind {
                RfmKind::Recency => "recency  ",
                RfmKind::Frequency => "frequency",
                RfmKind::Monetary => "monetary ",
            };
            let score = match &m.score {
                Score::Thresholds(ts, _) => format!("score [{}]", ts.join(", ")),
                Score::Quantiles(n, _) => format!("score quantiles {n}"),
            };
            let e = self.expr(&m.expr, 0);
            self.stmt(m.span, &mut prev, &format!("{kind} = {e} {score}"));
        }
        if let Some(b) = &r.baseline {
            let (s, span) = match b {
                Baseline::Named(i) => (i.text.clone(), i.span),
                Baseline::Value(v, span) => (v.clone(), *span),
            };
            self.stmt(span, &mut prev, &format!("baseline {s}"));
        }
        if let Some(first) = r.segments.first() {
            self.stmt_start(first.span, &mut prev);
            self.pad();
            self.open("segments");
            let mut inner_prev = None;
            for s in &r.segments {
                self.stmt(
                    s.span,
                    &mut inner_prev,
                    &format!("{} {}", s.code.text, quote(&s.label.value)),
                );
            }
            let seg_end = r.segments.last().map_or(end, |s| s.span.end + 1);
            self.close(seg_end);
            self.newline();
            prev = inner_prev;
        }
        let _ = prev;
        self.close(end);
    }

    fn scan(&mut self, s: &Scan, end: u32) {
        self.open(&format!("scan {}", header(&s.header)));
        let mut prev = None;
        if let Some(first) = s.captures.first() {
            let cs: Vec<String> = s.captures.iter().map(|c| self.expr(c, 0)).collect();
            self.stmt(first.span, &mut prev, &format!("capture {}", cs.join(" ")));
        }
        if let Some(h) = &s.camera_height {
            let t = self.expr(h, 0);
            self.stmt(h.span, &mut prev, &format!("camera_height {t}"));
        }
        if !s.steps.is_empty() {
            let first_span = step_span(&s.steps[0]);
            self.stmt_start(first_span, &mut prev);
            self.pad();
            self.open("steps");
            let mut inner_prev = None;
            for step in &s.steps {
                let t = match step {
                    ScanStep::Upright(_) => "upright".to_string(),
                    ScanStep::Layout(e) => format!("layout {}", self.expr(e, 0)),
                    ScanStep::MergeBy(i) => format!("merge by {}", i.text),
                    ScanStep::Texture(n, _) => format!("texture {n}"),
                };
                self.stmt(step_span(step), &mut inner_prev, &t);
            }
            let last_end = s.steps.last().map_or(end, |st| step_span(st).end + 1);
            self.close(last_end);
            self.newline();
            prev = inner_prev;
        }
        for h in &s.hotspots {
            let mut t = format!("hotspot {}", h.name.text);
            if let Some(d) = &h.display {
                t.push(' ');
                t.push_str(&quote(&d.value));
            }
            let place = match &h.place {
                HotspotPlace::At(xyz, _) => format!("at ({}, {}, {})", xyz[0], xyz[1], xyz[2]),
                HotspotPlace::Room(r) => format!("in room {}", r.text),
            };
            let content = format!("{} {}", h.kind.text, quote(&h.target.value));
            if h.content_first {
                t.push_str(&format!(" {content} {place}"));
            } else {
                t.push_str(&format!(" {place} {content}"));
            }
            self.stmt(h.span, &mut prev, &t);
        }
        if let Some(first) = s.outputs.first() {
            let os: Vec<String> = s.outputs.iter().map(|o| self.expr(o, 0)).collect();
            self.stmt(first.span, &mut prev, &format!("output {}", os.join(", ")));
        }
        self.close(end);
    }

    /// `head` followed by an expression, breaking a long `or` / `and` chain over lines.
    fn expr_stmt(&mut self, head: &str, e: &Expr) {
        self.pad();
        let one_line = self.expr(e, 0);
        let col = self.indent * INDENT.len() + width(head);
        if col + width(&one_line) <= WIDTH || one_line.contains('\n') {
            self.out.push_str(head);
            self.out.push_str(&one_line);
            return;
        }
        // Too long: the expression goes on the next lines, one operand of a top-level
        // `or` / `and` chain per line if it is still too long there.
        self.out.push_str(head.trim_end());
        self.newline();
        self.indent += 1;
        self.pad();
        let col = self.indent * INDENT.len();
        let chain = match &e.kind {
            ExprKind::Binary(op @ (BinaryOp::Or | BinaryOp::And), _, _) => {
                Some((*op, flatten(e, *op)))
            }
            _ => None,
        };
        match chain {
            Some((op, parts)) if col + width(&one_line) > WIDTH => {
                for (i, part) in parts.iter().enumerate() {
                    let t = self.expr(part, op.precedence() + 1);
                    if i > 0 {
                        self.newline();
                        self.pad();
                        self.out.push_str(op.symbol());
                        self.out.push(' ');
                    }
                    self.out.push_str(&t);
                }
            }
            _ => self.out.push_str(&one_line),
        }
        self.indent -= 1;
    }
}

fn step_span(step: &ScanStep) -> Span {
    match step {
        ScanStep::Upright(s) | ScanStep::Texture(_, s) => *s,
        ScanStep::Layout(e) => e.span,
        ScanStep::MergeBy(i) => i.span,
    }
}

fn header(h: &Header) -> String {
    match &h.display {
        Some(d) => format!("{} {}", h.name.text, quote(&d.value)),
        None => h.name.text.clone(),
    }
}

fn width_of_line(indent: usize, s: &str) -> usize {
    indent * INDENT.len() + width(s)
}

fn idents(list: &[Ident]) -> String {
    list.iter()
        .map(|i| i.text.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn unit_spec(u: &UnitSpec) -> String {
    match &u.arg {
        Some(a) => format!("{}({})", u.kind.text, a.text),
        None => u.kind.text.clone(),
    }
}

fn location(l: &Location) -> String {
    let mut s = format!("{}({}", l.format.text, quote(&l.path.value));
    for o in &l.options {
        s.push_str(&format!(", {} = {}", o.name.text, simple_expr(&o.value)));
    }
    s.push(')');
    s
}

/// The file formatted, checked to change layout only: the formatted text parses to the
/// same tree with as many comments. `Ok(None)` when the file is formatted already;
/// `Err` when formatting would change what it means (a formatter bug: the caller leaves
/// the file as it is). `mj fmt` and the language server both format through this.
pub fn checked(module: &Module, text: &str) -> Result<Option<String>, String> {
    let formatted = format(module, text);
    if formatted == text {
        return Ok(None);
    }
    let again = crate::parse(FileId(0), &formatted);
    let same = again.errors.is_empty()
        && structure(&again.module) == structure(module)
        && again.module.comments.len() == module.comments.len();
    if same {
        Ok(Some(formatted))
    } else {
        Err("formatting would change the meaning of the file; it was left as it is (please report this)".to_string())
    }
}

/// The structure of a module with positions removed, for checking that formatting
/// changed layout only.
pub fn structure(module: &Module) -> String {
    let text = format!("{:?}", module.items);
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '@' && chars.peek().is_some_and(char::is_ascii_digit) {
            while chars
                .peek()
                .is_some_and(|c| c.is_ascii_digit() || *c == '.')
            {
                chars.next();
            }
            continue;
        }
        out.push(c);
    }
    out
}
