//! OneID rules: identifiers, links, guards.

use mj_lang::Diagnostic;
use mj_lang::ast::*;

use super::{Cx, source_columns, suggest};
use crate::codes;
use crate::queries::DefKind;

pub(super) fn oneid(cx: &mut Cx<'_>, o: &OneId) {
    let declared: Vec<&str> = o.identifiers.iter().map(|i| i.name.text.as_str()).collect();
    for id in &o.identifiers {
        if let Some(n) = &id.normalize
            && let Some(def) = cx.resolve(n, &[DefKind::Function], "a normalizer")
        {
            let is_normalizer = matches!(&def.item.kind, ItemKind::Function(f) if f.flags.iter().any(|fl| fl.text == "normalizer"));
            if !is_normalizer {
                cx.report(
                    Diagnostic::error(
                        codes::TYPE_MISMATCH,
                        n.span,
                        format!("`{}` is not a normalizer", n.text),
                    )
                    .with_span_label("not a normalizer")
                    .with_help("normalizers: phone_cn, email, trim, trim_lower"),
                );
            }
        }
        if let Some(g) = &id.max_per_person {
            guard(cx, g, "max_per_person");
        }
        if !o
            .links
            .iter()
            .any(|l| l.fields.iter().any(|f| f.identifier.text == id.name.text))
        {
            cx.report(
                Diagnostic::warning(
                    codes::UNUSED_IDENTIFIER,
                    id.name.span,
                    format!(
                        "the identifier `{}` is not linked from any source",
                        id.name.text
                    ),
                )
                .with_span_label("never linked")
                .with_help("add it to a `link` or remove it".to_string()),
            );
        }
    }
    for link in &o.links {
        let Some(def) = cx.resolve(&link.source, &[DefKind::Source], "a source") else {
            continue;
        };
        let ItemKind::Source(s) = &def.item.kind else {
            continue;
        };
        let cols = source_columns(s);
        for f in &link.fields {
            if !declared.contains(&f.identifier.text.as_str()) {
                let d = Diagnostic::error(
                    codes::UNDECLARED_IDENTIFIER,
                    f.identifier.span,
                    format!(
                        "`{}` is not an identifier of `{}`",
                        f.identifier.text, o.header.name.text
                    ),
                )
                .with_span_label("not declared")
                .with_help(format!("declare it: `identifier {}`", f.identifier.text));
                let d = suggest(d, &f.identifier, declared.iter().copied());
                cx.report(d);
            }
            for col in f.parts() {
                if !cols.iter().any(|c| c.name == col.text) {
                    let d = Diagnostic::error(
                        codes::MISSING_COLUMN,
                        col.span,
                        format!("`{}` has no column `{}`", link.source.text, col.text),
                    )
                    .with_span_label("no such column")
                    .with_help(format!(
                        "name the column: `{} = <column>`",
                        f.identifier.text
                    ));
                    let d = suggest(d, col, cols.iter().map(|c| c.name.as_str()));
                    cx.report(d);
                }
            }
            // An identifier scoped by a column needs that column wherever it is linked.
            let scope = o
                .identifiers
                .iter()
                .find(|i| i.name.text == f.identifier.text)
                .and_then(|i| i.scoped_by.as_ref());
            if let Some(scope) = scope
                && !cols.iter().any(|c| c.name == scope.text)
            {
                cx.report(
                    Diagnostic::error(
                        codes::MISSING_COLUMN,
                        f.identifier.span,
                        format!(
                            "`{}` is scoped by `{}`, which `{}` does not have",
                            f.identifier.text, scope.text, link.source.text
                        ),
                    )
                    .with_span_label("no scope column in this source")
                    .with_label(scope.span, "scope declared here"),
                );
            }
        }
    }
    for r in &o.rejects {
        if !declared.contains(&r.identifier.text.as_str()) {
            let d = Diagnostic::error(
                codes::UNDECLARED_IDENTIFIER,
                r.identifier.span,
                format!(
                    "`{}` is not an identifier of `{}`",
                    r.identifier.text, o.header.name.text
                ),
            )
            .with_span_label("not declared");
            let d = suggest(d, &r.identifier, declared.iter().copied());
            cx.report(d);
        }
    }
    if let Some(g) = &o.reject_frequent {
        guard(cx, g, "reject frequent above");
    }
    if let Some(g) = &o.max_component {
        guard(cx, g, "max_component");
        if g.value == 1 {
            cx.report(
                Diagnostic::error(
                    codes::INVALID_GUARD,
                    g.span,
                    "`max_component 1` would split every person into single records",
                )
                .with_span_label("too small")
                .with_help("use a limit of at least 2"),
            );
        }
    }
}

fn guard(cx: &mut Cx<'_>, g: &Guard, what: &str) {
    if g.value == 0 {
        cx.report(
            Diagnostic::error(
                codes::INVALID_GUARD,
                g.span,
                format!("`{what}` must be positive"),
            )
            .with_span_label("zero")
            .with_help("a limit of 0 would reject everything; remove the line to have no limit"),
        );
    }
}
