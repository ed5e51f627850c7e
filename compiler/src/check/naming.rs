//! The OneData naming standard: names made of glossary roots, derived-metric names
//! composed by the project's rule (and read back into their parts), and units that
//! agree with what the name's roots promise.

use mj_lang::Diagnostic;
use mj_lang::ast::*;
use mj_lang::diagnostic::TextEdit;

use super::{Cx, closest};
use crate::codes;
use crate::queries::{
    DefKind, STD_PATH, derived_pattern, names_by_kind, parse, project_index, roots,
};
use crate::types::Ty;

pub(super) fn naming_rules(cx: &mut Cx<'_>, n: &Naming) {
    for rule in &n.rules {
        if rule.kind.text != "derived" {
            cx.report(
                Diagnostic::error(
                    codes::INVALID_NAMING_RULE,
                    rule.kind.span,
                    format!("unknown naming rule `{}`", rule.kind.text),
                )
                .with_span_label("unknown rule")
                .with_help("the naming block sets `derived = \"{modifiers}_{atomic}_{period}\"`"),
            );
            continue;
        }
        if let Err(message) = Pattern::parse(&rule.pattern.value) {
            cx.report(
                Diagnostic::error(codes::INVALID_NAMING_RULE, rule.pattern.span, message)
                    .with_span_label("invalid pattern")
                    .with_help(
                        "use the placeholders {modifiers}, {atomic} and {period} joined by `_`",
                    ),
            );
        }
    }
}

/// Checks the name of a named item: roots, and for derived metrics the naming rule.
pub(super) fn item_name(cx: &mut Cx<'_>, kind: &ItemKind, header: &Header) {
    let needs_roots = matches!(
        kind,
        ItemKind::Atomic(_)
            | ItemKind::Derived(_)
            | ItemKind::Composite(_)
            | ItemKind::Modifier(_)
            | ItemKind::Period(_)
    );
    if !needs_roots || cx.file.path(cx.db) == STD_PATH {
        return;
    }
    let all_known = check_roots(cx, &header.name);
    if let ItemKind::Derived(d) = kind {
        derived_name(cx, d);
    }
    if all_known
        && matches!(
            kind,
            ItemKind::Atomic(_) | ItemKind::Derived(_) | ItemKind::Composite(_)
        )
    {
        unit_promise(cx, kind, &header.name);
    }
}

/// Every `_`-separated part of the name must be a root. Returns whether all are.
fn check_roots(cx: &mut Cx<'_>, name: &Ident) -> bool {
    let roots = roots(cx.db, cx.project);
    let mut offset = 0usize;
    let mut ok = true;
    for part in name.text.split('_') {
        let start = name.span.start as usize + offset;
        offset += part.len() + 1;
        if roots.contains_key(part) {
            continue;
        }
        ok = false;
        let span = Span::new(name.span.file, start, start + part.len());
        let mut d = Diagnostic::error(
            codes::UNKNOWN_ROOT,
            span,
            if part.is_empty() {
                format!("`{}` has an empty part between underscores", name.text)
            } else {
                format!("`{part}` in `{}` is not a glossary root", name.text)
            },
        )
        .with_span_label("not a root");
        if part.is_empty() {
            cx.report(d);
            continue;
        }
        if let Some(best) = closest(part, roots.keys().map(String::as_str)) {
            d = d
                .with_help(format!(
                    "did you mean the root `{best}`? Otherwise declare `{part}` in the glossary"
                ))
                .with_replacement(format!("replace with `{best}`"), span, best);
        } else {
            d = d.with_help(format!(
                "declare it: `root {part} \"…\"` in the project's glossary"
            ));
            if let Some(edit) = add_root_edit(cx, part) {
                d = d.with_fix(format!("add `{part}` to the glossary"), vec![edit]);
            }
        }
        cx.report(d);
    }
    ok
}

/// An edit that adds a root to the project's glossary, or a new glossary to this file.
fn add_root_edit(cx: &Cx<'_>, root: &str) -> Option<TextEdit> {
    let index = project_index(cx.db, cx.project);
    let glossary = index
        .roots
        .values()
        .flatten()
        .find(|(file, _, _)| file.path(cx.db) != STD_PATH)
        .map(|(file, ordinal, _)| (*file, *ordinal));
    match glossary {
        Some((file, ordinal)) => {
            let item = parse(cx.db, file).module.items.get(ordinal as usize)?;
            let close = item.span.end.saturating_sub(1);
            let span = Span {
                file: file.id(cx.db),
                start: close,
                end: close,
            };
            Some(TextEdit {
                span,
                replacement: format!("  root {root} \"{root}\"\n"),
            })
        }
        None => {
            let span = Span {
                file: cx.file.id(cx.db),
                start: 0,
                end: 0,
            };
            Some(TextEdit {
                span,
                replacement: format!("glossary {{\n  root {root} \"{root}\"\n}}\n\n"),
            })
        }
    }
}

/// A name whose roots carry a unit (`amt` is currency) must measure that unit.
fn unit_promise(cx: &mut Cx<'_>, kind: &ItemKind, name: &Ident) {
    let roots = roots(cx.db, cx.project);
    let Some((root, promised)) = name.text.split('_').rev().find_map(|p| {
        roots
            .get(p)
            .and_then(|u| u.as_ref())
            .map(|u| (p.to_string(), u.clone()))
    }) else {
        return;
    };
    let ty = match kind {
        ItemKind::Atomic(_) => cx.atomic_type(&name.text),
        _ => cx.metric_type(&name.text),
    };
    let Ty::Number(unit) = &ty else { return };
    if unit.is_none() {
        return;
    }
    if !unit.keeps_promise(&promised) {
        cx.report(
            Diagnostic::error(
                codes::UNIT_MISMATCH,
                name.span,
                format!(
                    "the root `{root}` promises {promised}, but `{}` measures {unit}",
                    name.text
                ),
            )
            .with_span_label(format!("measures {unit}"))
            .with_help(match unit.kind_name() {
                Some(kind) => format!(
                    "rename it with a root declared `unit {kind}`, or change its definition"
                ),
                None => format!(
                    "rename it with a root whose unit matches what it measures ({unit}), or change its definition"
                ),
            }),
        );
    }
}

/// A naming rule such as `{modifiers}_{atomic}_{period}`, split on `_`.
#[derive(Debug)]
pub(crate) struct Pattern {
    tokens: Vec<Token>,
}

#[derive(Debug, PartialEq)]
enum Token {
    Modifiers,
    Atomic,
    Period,
    Literal(String),
}

/// The parts a derived metric's name is made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NameParts {
    pub modifiers: Vec<String>,
    pub atomic: String,
    pub period: String,
}

impl Pattern {
    pub fn parse(pattern: &str) -> Result<Pattern, String> {
        let mut tokens = Vec::new();
        for t in pattern.split('_') {
            tokens.push(match t {
                "{modifiers}" => Token::Modifiers,
                "{atomic}" => Token::Atomic,
                "{period}" => Token::Period,
                lit if !lit.is_empty()
                    && lit
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()) =>
                {
                    Token::Literal(lit.to_string())
                }
                other => {
                    return Err(format!(
                        "`{other}` is not a placeholder or a lowercase word"
                    ));
                }
            });
        }
        for (needed, name) in [(Token::Atomic, "{atomic}"), (Token::Period, "{period}")] {
            match tokens.iter().filter(|t| **t == needed).count() {
                1 => {}
                0 => return Err(format!("the pattern has no {name}")),
                _ => return Err(format!("the pattern has {name} more than once")),
            }
        }
        if tokens.iter().filter(|t| **t == Token::Modifiers).count() > 1 {
            return Err("the pattern has {modifiers} more than once".to_string());
        }
        Ok(Pattern { tokens })
    }

    pub fn compose(&self, parts: &NameParts) -> String {
        let mut out: Vec<&str> = Vec::new();
        for t in &self.tokens {
            match t {
                Token::Modifiers => out.extend(parts.modifiers.iter().map(String::as_str)),
                Token::Atomic => out.push(&parts.atomic),
                Token::Period => out.push(&parts.period),
                Token::Literal(l) => out.push(l),
            }
        }
        out.join("_")
    }

    /// Reads a name back into parts, given the names that exist. The first reading
    /// found wins (names made of roots rarely read two ways).
    pub fn read(
        &self,
        name: &str,
        atomics: &[String],
        periods: &[String],
        modifiers: &[String],
    ) -> Option<NameParts> {
        let words: Vec<&str> = name.split('_').collect();
        let mut parts = NameParts {
            modifiers: Vec::new(),
            atomic: String::new(),
            period: String::new(),
        };
        if self.read_from(0, &words, atomics, periods, modifiers, &mut parts) {
            Some(parts)
        } else {
            None
        }
    }

    fn read_from(
        &self,
        t: usize,
        words: &[&str],
        atomics: &[String],
        periods: &[String],
        modifiers: &[String],
        parts: &mut NameParts,
    ) -> bool {
        let Some(token) = self.tokens.get(t) else {
            return words.is_empty();
        };
        let candidates: &[String] = match token {
            Token::Literal(l) => {
                return words.first() == Some(&l.as_str())
                    && self.read_from(t + 1, &words[1..], atomics, periods, modifiers, parts);
            }
            Token::Atomic => atomics,
            Token::Period => periods,
            Token::Modifiers => {
                // Zero or more modifiers.
                if self.read_from(t + 1, words, atomics, periods, modifiers, parts) {
                    return true;
                }
                for m in modifiers {
                    if let Some(rest) = strip_words(words, m) {
                        parts.modifiers.push(m.clone());
                        if self.read_from(t, rest, atomics, periods, modifiers, parts) {
                            return true;
                        }
                        parts.modifiers.pop();
                    }
                }
                return false;
            }
        };
        for c in candidates {
            if let Some(rest) = strip_words(words, c) {
                match token {
                    Token::Atomic => parts.atomic = c.clone(),
                    _ => parts.period = c.clone(),
                }
                if self.read_from(t + 1, rest, atomics, periods, modifiers, parts) {
                    return true;
                }
            }
        }
        false
    }
}

/// If `words` starts with the `_`-separated words of `name`, the words after it.
fn strip_words<'a, 'w>(words: &'a [&'w str], name: &str) -> Option<&'a [&'w str]> {
    let n: Vec<&str> = name.split('_').collect();
    (words.len() >= n.len() && words[..n.len()] == n[..]).then(|| &words[n.len()..])
}

fn derived_name(cx: &mut Cx<'_>, d: &Derived) {
    let Ok(pattern) = Pattern::parse(derived_pattern(cx.db, cx.project)) else {
        return;
    };
    let mut period = None;
    let mut modifiers = Vec::new();
    for q in &d.qualifiers {
        match cx.def(&q.text).map(|def| def.kind) {
            // Two periods are an error of their own; a repeat is reported once.
            Some(DefKind::Period) if period.is_some() => return,
            Some(DefKind::Modifier) if modifiers.contains(&q.text) => {}
            Some(DefKind::Period) => period = Some(q.text.clone()),
            Some(DefKind::Modifier) => modifiers.push(q.text.clone()),
            // Unresolved qualifiers are reported by the derived-metric check.
            _ => return,
        }
    }
    let Some(period) = period else { return };
    let defined = NameParts {
        modifiers,
        atomic: d.atomic.text.clone(),
        period,
    };
    let expected = pattern.compose(&defined);
    let name = &d.header.name;
    if name.text == expected {
        return;
    }
    let names = names_by_kind(cx.db, cx.project);
    let get = |k| names.get(&k).cloned().unwrap_or_default();
    let read = pattern.read(
        &name.text,
        &get(DefKind::Atomic),
        &get(DefKind::Period),
        &get(DefKind::Modifier),
    );
    let mut differences = Vec::new();
    match &read {
        Some(parts) => {
            let mut a = parts.modifiers.clone();
            let mut b = defined.modifiers.clone();
            a.sort();
            b.sort();
            if parts.atomic == defined.atomic && parts.period == defined.period && a == b {
                // The same modifiers in another order: the same meaning.
                return;
            }
            if parts.atomic != defined.atomic {
                differences.push(format!(
                    "the name says atomic `{}`, the definition uses `{}`",
                    parts.atomic, defined.atomic
                ));
            }
            if parts.period != defined.period {
                differences.push(format!(
                    "the name says period `{}`, the definition uses `{}`",
                    parts.period, defined.period
                ));
            }
            for m in parts
                .modifiers
                .iter()
                .filter(|m| !defined.modifiers.contains(m))
            {
                differences.push(format!(
                    "the name says modifier `{m}`, which the definition does not use"
                ));
            }
            for m in defined
                .modifiers
                .iter()
                .filter(|m| !parts.modifiers.contains(m))
            {
                differences.push(format!(
                    "the definition uses modifier `{m}`, which the name does not say"
                ));
            }
        }
        None => differences.push(format!(
            "`{}` cannot be read as {} from the project's atomics, modifiers and periods",
            name.text,
            derived_pattern(cx.db, cx.project)
        )),
    }
    cx.report(
        Diagnostic::error(
            codes::DERIVED_NAME_MISMATCH,
            name.span,
            format!(
                "the derived metric `{}` should be named `{expected}`",
                name.text
            ),
        )
        .with_span_label(differences.join("; "))
        .with_help(format!(
            "the naming rule {} composes `{expected}` from this definition",
            derived_pattern(cx.db, cx.project)
        ))
        .with_replacement(
            format!("rename to `{expected}`"),
            name.span,
            expected.clone(),
        ),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compose_and_read_back() {
        let p = Pattern::parse("{modifiers}_{atomic}_{period}").unwrap();
        let parts = NameParts {
            modifiers: vec!["online".into()],
            atomic: "pay_amt".into(),
            period: "30d".into(),
        };
        assert_eq!(p.compose(&parts), "online_pay_amt_30d");
        let none = NameParts {
            modifiers: vec![],
            ..parts.clone()
        };
        assert_eq!(p.compose(&none), "pay_amt_30d");
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let read = p.read(
            "online_sofa_pay_amt_30d",
            &s(&["pay_amt", "pay"]),
            &s(&["30d"]),
            &s(&["online", "sofa"]),
        );
        assert_eq!(read.unwrap().modifiers, s(&["online", "sofa"]));
        assert!(
            p.read("pay_amt_31d", &s(&["pay_amt"]), &s(&["30d"]), &[])
                .is_none()
        );
        assert!(Pattern::parse("{atomic}_{atomic}_{period}").is_err());
        assert!(Pattern::parse("{modifiers}_{atomic}").is_err());
    }
}
