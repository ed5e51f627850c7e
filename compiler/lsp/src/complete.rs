//! Completion that knows where the cursor is:
//!
//! - inside `metric[…]`: the periods, and the modifiers of the atomic metric's
//!   business process;
//! - after `table.`: the columns of a source or fact, the attributes of a dimension,
//!   the stages of an AIPL model (`nearest(store).` gives the dimension's attributes);
//! - after `tag ==`, `tag in (`: the tag's declared values; after `model ==`: an AIPL
//!   model's stages or an RFM model's segments;
//! - in `link source (…)`: the entity's identifiers and the source's columns;
//! - in a fact's body: its source's columns and the dimensions; in a modifier: the
//!   columns of its business process;
//! - anywhere else: the project's names, by kind.

use lsp_types::{CompletionItem, CompletionItemKind};
use mj_compiler::queries::{DefKind, Name, lookup, names_by_kind};
use mj_compiler::{Db, Project, SourceFile};
use mj_lang::ast::{ExprKind, Item, ItemKind};

pub fn complete(db: &dyn Db, project: Project, file: SourceFile, at: usize) -> Vec<CompletionItem> {
    let text = file.text(db);
    let at = at.min(text.len());
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let before = &text[line_start..at];
    // What is being typed: the partial word, which the client filters by.
    let typed = before
        .trim_end_matches(|c: char| c.is_ascii_alphanumeric() || c == '_')
        .len();
    let head = &before[..typed];
    let cx = Cx { db, project };
    if let Some(items) = cx.in_brackets(head) {
        return items;
    }
    if let Some(items) = cx.after_dot(head) {
        return items;
    }
    if let Some(items) = cx.after_comparison(head) {
        return items;
    }
    let items = &mj_compiler::parse(db, file).module.items;
    if let Some(item) = enclosing(items, at)
        && let Some(out) = cx.in_item(item, head)
    {
        return out;
    }
    cx.all_names()
}

/// The item the offset is in (or the last one that starts before it, when the text
/// is being typed and the item does not parse to its end yet).
fn enclosing(items: &[Item], at: usize) -> Option<&Item> {
    items
        .iter()
        .rev()
        .find(|i| (i.span.start as usize) <= at)
        .filter(|i| at <= i.span.end as usize + 1)
}

struct Cx<'a> {
    db: &'a dyn Db,
    project: Project,
}

fn item(label: &str, kind: CompletionItemKind, detail: impl Into<String>) -> CompletionItem {
    CompletionItem {
        label: label.to_string(),
        kind: Some(kind),
        detail: Some(detail.into()),
        ..Default::default()
    }
}

/// The last word of `s` (letters, digits, `_`), ignoring trailing blanks.
fn last_word(s: &str) -> &str {
    let s = s.trim_end();
    let start = s
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .map_or(0, |i| i + 1);
    &s[start..]
}

impl Cx<'_> {
    fn def(&self, name: &str) -> Option<&mj_compiler::queries::Def> {
        lookup(self.db, self.project, Name::new(self.db, name.to_string())).as_ref()
    }

    fn all_names(&self) -> Vec<CompletionItem> {
        let names = names_by_kind(self.db, self.project);
        let mut out = Vec::new();
        for (kind, list) in names.iter() {
            for name in list {
                out.push(item(
                    name,
                    crate::handlers::completion_kind(*kind),
                    kind.describe(),
                ));
            }
        }
        out
    }

    fn names_of(&self, kind: DefKind) -> Vec<String> {
        names_by_kind(self.db, self.project)
            .get(&kind)
            .cloned()
            .unwrap_or_default()
    }

    /// `pay_amt[30d, |`: periods, and modifiers on the atomic metric's process.
    fn in_brackets(&self, head: &str) -> Option<Vec<CompletionItem>> {
        let open = head.rfind('[')?;
        if head[open..].contains(']') {
            return None;
        }
        let metric = last_word(&head[..open]);
        let written: Vec<&str> = head[open + 1..]
            .split(',')
            .map(str::trim)
            .filter(|w| !w.is_empty())
            .collect();
        let process = self.process_of(metric);
        let mut out = Vec::new();
        for p in self.names_of(DefKind::Period) {
            if !written.contains(&p.as_str()) {
                out.push(item(&p, CompletionItemKind::CONSTANT, "a period"));
            }
        }
        for m in self.names_of(DefKind::Modifier) {
            let Some(def) = self.def(&m) else { continue };
            let ItemKind::Modifier(x) = &def.item.kind else {
                continue;
            };
            if written.contains(&m.as_str())
                || process.as_ref().is_some_and(|p| *p != x.process.text)
            {
                continue;
            }
            out.push(item(
                &m,
                CompletionItemKind::ENUM_MEMBER,
                format!("a modifier on {}", x.process.text),
            ));
        }
        Some(out)
    }

    /// The business process an atomic metric aggregates: the first fact its
    /// expression names.
    fn process_of(&self, atomic: &str) -> Option<String> {
        let def = self.def(atomic)?;
        let ItemKind::Atomic(a) = &def.item.kind else {
            return None;
        };
        let mut names = Vec::new();
        a.expr.walk_outside_filters(&mut |e| {
            if let ExprKind::Name(n) = &e.kind {
                names.push(n.text.clone());
            }
        });
        names
            .into_iter()
            .find(|n| self.def(n).is_some_and(|d| d.kind == DefKind::Fact))
    }

    /// `crm_member.|`, `store.|`, `brand.|`, `nearest(store).|`.
    fn after_dot(&self, head: &str) -> Option<Vec<CompletionItem>> {
        let base = head.strip_suffix('.')?;
        let name = if let Some(call) = base.strip_suffix(')') {
            let open = call.rfind('(')?;
            if last_word(&call[..open]) != "nearest" {
                return Some(Vec::new());
            }
            call[open + 1..].trim()
        } else {
            last_word(base)
        };
        let def = self.def(name)?;
        Some(match &def.item.kind {
            ItemKind::Source(_) | ItemKind::Fact(_) => self.columns(name),
            ItemKind::Dimension(d) => d
                .key
                .iter()
                .chain(&d.attributes)
                .map(|a| {
                    item(
                        &a.text,
                        CompletionItemKind::FIELD,
                        format!("attribute of {name}"),
                    )
                })
                .collect(),
            ItemKind::Aipl(a) => a
                .stages
                .iter()
                .map(|s| {
                    let display = s
                        .display
                        .as_ref()
                        .map_or(String::new(), |d| format!(" — {}", d.value));
                    item(
                        &s.name.text,
                        CompletionItemKind::ENUM_MEMBER,
                        format!("stage of {name}{display}"),
                    )
                })
                .collect(),
            _ => Vec::new(),
        })
    }

    fn columns(&self, table: &str) -> Vec<CompletionItem> {
        mj_compiler::check::columns_of(self.db, self.project, table)
            .into_iter()
            .map(|(c, ty)| {
                item(
                    &c,
                    CompletionItemKind::FIELD,
                    format!("{ty}, column of {table}"),
                )
            })
            .collect()
    }

    /// `price_level == "|`, `gender in ("男", |`, `brand == |`, `value == |`.
    fn after_comparison(&self, head: &str) -> Option<Vec<CompletionItem>> {
        let quoted = head.ends_with('"');
        let h = head.trim_end_matches('"').trim_end();
        let subject = if let Some(lhs) = h.strip_suffix("==").or_else(|| h.strip_suffix("!=")) {
            last_word(lhs)
        } else {
            // Inside `x in (…`: the list is open.
            let open = h.rfind('(')?;
            if h[open..].contains(')') {
                return None;
            }
            let lhs = h[..open].trim_end().strip_suffix("in")?;
            let lhs = lhs.trim_end();
            let lhs = lhs.strip_suffix("not").unwrap_or(lhs);
            last_word(lhs)
        };
        let def = self.def(subject)?;
        let quote = |v: &str| {
            if quoted {
                format!("{v}\"")
            } else {
                format!("\"{v}\"")
            }
        };
        Some(match &def.item.kind {
            ItemKind::Tag(t) => t
                .values
                .iter()
                .map(|v| CompletionItem {
                    insert_text: Some(quote(&v.value)),
                    filter_text: Some(v.value.clone()),
                    ..item(
                        &format!("\"{}\"", v.value),
                        CompletionItemKind::ENUM_MEMBER,
                        format!("value of {subject}"),
                    )
                })
                .collect(),
            ItemKind::Aipl(a) => a
                .stages
                .iter()
                .map(|s| {
                    item(
                        &s.name.text,
                        CompletionItemKind::ENUM_MEMBER,
                        format!("stage of {subject}"),
                    )
                })
                .collect(),
            ItemKind::Rfm(r) => {
                let codes: Vec<String> = if r.segments.is_empty() {
                    ["HHH", "LHH", "HLH", "LLH", "HHL", "LHL", "HLL", "LLL"]
                        .iter()
                        .map(|s| s.to_string())
                        .collect()
                } else {
                    r.segments.iter().map(|s| s.code.text.clone()).collect()
                };
                codes
                    .iter()
                    .map(|c| {
                        item(
                            c,
                            CompletionItemKind::ENUM_MEMBER,
                            format!("segment of {subject}"),
                        )
                    })
                    .collect()
            }
            _ => return None,
        })
    }

    /// In a `fact`, a `modifier` or a `link`: the columns the statement can name.
    fn in_item(&self, it: &Item, head: &str) -> Option<Vec<CompletionItem>> {
        match &it.kind {
            ItemKind::Fact(f) => {
                let mut out = self.columns(&f.source.text);
                if head.trim_start().starts_with("dims") || head.contains("dims {") {
                    for d in self.names_of(DefKind::Dimension) {
                        out.push(item(&d, CompletionItemKind::STRUCT, "a dimension"));
                    }
                }
                if head.trim_start().starts_with("entity") {
                    out = self
                        .names_of(DefKind::OneId)
                        .iter()
                        .map(|e| item(e, CompletionItemKind::CLASS, "a OneID entity"))
                        .collect();
                }
                Some(out)
            }
            ItemKind::Modifier(m) if head.contains('=') => Some(self.columns(&m.process.text)),
            ItemKind::OneId(o) => {
                let h = head.trim_start();
                let rest = h.strip_prefix("link")?;
                let open = rest.find('(')?;
                let source = rest[..open].trim();
                let mut out: Vec<CompletionItem> = o
                    .identifiers
                    .iter()
                    .map(|i| item(&i.name.text, CompletionItemKind::PROPERTY, "an identifier"))
                    .collect();
                out.extend(self.columns(source));
                Some(out)
            }
            _ => None,
        }
    }
}
