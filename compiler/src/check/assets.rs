//! Consumer assets and their activation: tags, AIPL, RFM, audiences, comparisons,
//! routes, exports and dashboards.

use mj_lang::Diagnostic;
use mj_lang::ast::*;

use super::model::location;
use super::{Cx, Scope, suggest};
use crate::codes;
use crate::queries::DefKind;
use crate::types::Ty;

const STAGES: &[&str] = &["A", "I", "P", "L"];

fn entity(cx: &mut Cx<'_>, e: &Ident) -> bool {
    cx.resolve(e, &[DefKind::OneId], "a OneID entity").is_some()
}

pub(super) fn tag(cx: &mut Cx<'_>, t: &Tag) {
    if !entity(cx, &t.entity) {
        return;
    }
    cx.stack.push(t.header.name.text.clone());
    let ty = cx.infer(
        &t.expr,
        &Scope::Entity {
            entity: &t.entity.text,
        },
    );
    cx.stack.pop();
    if !ty.is_value() {
        cx.mismatch(t.expr.span, "a tag must be a value", &ty);
    }
    if !t.values.is_empty() {
        // Every literal the tag can take must be one of its declared values.
        let mut results = Vec::new();
        result_literals(&t.expr, &mut results);
        let name = t.header.name.text.clone();
        for (value, span) in results {
            cx.tag_value(&name, &value, span);
        }
    }
}

/// String literals that an expression can evaluate to.
fn result_literals(e: &Expr, out: &mut Vec<(String, Span)>) {
    match &e.kind {
        ExprKind::Str(s) => out.push((s.clone(), e.span)),
        ExprKind::Case { arms, otherwise } => {
            for a in arms {
                result_literals(&a.value, out);
            }
            if let Some(o) = otherwise {
                result_literals(o, out);
            }
        }
        ExprKind::Binary(BinaryOp::Coalesce, l, r) => {
            result_literals(l, out);
            result_literals(r, out);
        }
        _ => {}
    }
}

pub(super) fn aipl(cx: &mut Cx<'_>, a: &Aipl) {
    if !entity(cx, &a.entity) {
        return;
    }
    let mut seen: Vec<&str> = Vec::new();
    for s in &a.stages {
        if !STAGES.contains(&s.name.text.as_str()) {
            let d = Diagnostic::error(
                codes::UNKNOWN_STAGE,
                s.name.span,
                format!("`{}` is not an AIPL stage", s.name.text),
            )
            .with_span_label("unknown stage")
            .with_help("the stages are A (认知), I (兴趣), P (购买) and L (忠诚)");
            let d = suggest(d, &s.name, STAGES.iter().copied());
            cx.report(d);
        } else if seen.contains(&s.name.text.as_str()) {
            cx.report(
                Diagnostic::error(
                    codes::DUPLICATE,
                    s.name.span,
                    format!("the stage `{}` is defined twice", s.name.text),
                )
                .with_span_label("defined again"),
            );
        }
        seen.push(&s.name.text);
        cx.expect_bool(
            &s.expr,
            &Scope::Entity {
                entity: &a.entity.text,
            },
            "a stage rule",
        );
    }
    breakdowns(cx, a);
}

/// The columns of a table as a stage reads its rows: a source's columns; a fact's
/// detail table (grain, time, entity, dims and measures).
fn row_columns(cx: &mut Cx<'_>, table: &str) -> Option<Vec<super::Col>> {
    let cols = cx.table_columns(table)?;
    let def = cx.def(table)?;
    let ItemKind::Fact(f) = &def.item.kind else {
        return Some(cols);
    };
    let mut names: Vec<&str> = f.grain.iter().map(|g| g.text.as_str()).collect();
    names.extend(f.time.iter().map(|t| t.text.as_str()));
    names.extend(
        f.dims
            .iter()
            .chain(&f.measures)
            .map(|b| b.name.text.as_str()),
    );
    let mut out: Vec<super::Col> = cols
        .into_iter()
        .filter(|c| names.contains(&c.name.as_str()))
        .collect();
    if let Some(e) = &f.entity {
        out.push(super::Col {
            name: e.text.clone(),
            ty: Ty::String,
            pii: false,
        });
    }
    Some(out)
}

/// `by channel`: every row a stage can be qualified by must have a channel — a column
/// or dimension of that name, or the model's `channel of TABLE = …`.
fn breakdowns(cx: &mut Cx<'_>, a: &Aipl) {
    let model = a.header.name.text.as_str();
    let mut given: Vec<(&str, &str)> = Vec::new();
    for b in &a.breakdowns {
        if !a.by.iter().any(|x| x.text == b.by.text) {
            let help = if a.by.is_empty() {
                format!(
                    "break the model down by it: `aipl {model} … by {}`",
                    b.by.text
                )
            } else {
                format!("the model is broken down by {}", idents_text(&a.by))
            };
            let d = Diagnostic::error(
                codes::INVALID_GRANULARITY,
                b.by.span,
                format!("`{model}` is not broken down by `{}`", b.by.text),
            )
            .with_span_label("not a `by` of the model")
            .with_help(help);
            let d = suggest(d, &b.by, a.by.iter().map(|x| x.text.as_str()));
            cx.report(d);
            continue;
        }
        if given.contains(&(b.by.text.as_str(), b.table.text.as_str())) {
            cx.report(
                Diagnostic::error(
                    codes::DUPLICATE,
                    b.span,
                    format!("`{} of {}` is given twice", b.by.text, b.table.text),
                )
                .with_span_label("given again"),
            );
        }
        given.push((&b.by.text, &b.table.text));
        if cx
            .resolve(
                &b.table,
                &[DefKind::Fact, DefKind::Source],
                "a fact or source",
            )
            .is_none()
        {
            continue;
        }
        let Some(cols) = row_columns(cx, &b.table.text) else {
            continue;
        };
        let ty = cx.infer(
            &b.expr,
            &Scope::Row {
                table: &b.table.text,
                columns: &cols,
            },
        );
        if !ty.is_value() {
            cx.mismatch(b.expr.span, "a breakdown must be a value", &ty);
        }
    }
    if a.by.is_empty() {
        return;
    }
    let (db, project) = (cx.db, cx.project);
    let lookup = move |name: &str| {
        crate::queries::lookup(db, project, crate::queries::Name::new(db, name.to_string()))
            .as_ref()
            .map(|d| &d.item.kind)
    };
    // (table, where a stage reads it, why it cannot have a breakdown)
    let mut read: Vec<(String, Span, Option<String>)> = Vec::new();
    for stage in &a.stages {
        let mut conditions = Vec::new();
        crate::assets::positive_conditions(&stage.expr, true, &mut conditions);
        let mut reads = Vec::new();
        for c in conditions {
            crate::assets::reads(c, &lookup, None, &mut Vec::new(), &mut reads);
        }
        for r in reads {
            let span = r.span();
            match r {
                crate::assets::Read::Aggregate { args, .. } => {
                    if let Some(t) = crate::assets::aggregate_table(args) {
                        read.push((t.text.clone(), span, None));
                    }
                }
                crate::assets::Read::Metric { derived, .. } => {
                    let fact = match lookup(&derived.atomic.text) {
                        Some(ItemKind::Atomic(at)) => match &at.expr.kind {
                            ExprKind::Call(_, args) => crate::assets::aggregate_table(args),
                            _ => None,
                        },
                        _ => None,
                    };
                    let Some(fact) = fact else { continue };
                    // A modifier on a dimension attribute filters rows the features
                    // table cannot see.
                    let on_attribute = derived.qualifiers.iter().find(|q| {
                        matches!(
                            lookup(&q.text),
                            Some(ItemKind::Modifier(m)) if has_field(&m.expr)
                        )
                    });
                    let why = on_attribute.map(|q| {
                        format!(
                            "`{}` is filtered by `{}`, a modifier on a dimension attribute, and \
                             its rows cannot be attributed to a {} yet",
                            derived.header.name.text, q.text, a.by[0].text
                        )
                    });
                    read.push((fact.text.clone(), span, why));
                }
            }
        }
    }
    let mut reported: Vec<(String, String)> = Vec::new();
    for by in &a.by {
        for (table, span, why) in &read {
            let key = (by.text.clone(), table.clone());
            if reported.contains(&key) {
                continue;
            }
            if let Some(why) = why {
                reported.push(key);
                cx.report(
                    Diagnostic::error(codes::NO_BREAKDOWN, *span, why.clone())
                        .with_span_label("cannot be broken down")
                        .with_help(format!(
                            "drop the modifier from the stage's metric, or `by {}` from `{model}`",
                            by.text
                        )),
                );
                continue;
            }
            if given.contains(&(by.text.as_str(), table.as_str())) {
                continue;
            }
            let has =
                row_columns(cx, table).is_some_and(|cols| cols.iter().any(|c| c.name == by.text));
            if !has {
                reported.push(key);
                cx.report(
                    Diagnostic::error(
                        codes::NO_BREAKDOWN,
                        *span,
                        format!(
                            "the rows of `{table}` have no `{}`, and `{model}` is broken down by it",
                            by.text
                        ),
                    )
                    .with_span_label(format!("rows without a {}", by.text))
                    .with_help(format!(
                        "say what a row's {by} is inside `aipl {model}`: `{by} of {table} = <column or value>`",
                        by = by.text
                    )),
                );
            }
        }
    }
}

/// `by channel` in a dashboard or contribution: a dimension of a fact of the entity.
fn by_dimensions(cx: &mut Cx<'_>, by: &[Ident], entity: &str) {
    if by.is_empty() {
        return;
    }
    let facts = crate::queries::names_by_kind(cx.db, cx.project)
        .get(&DefKind::Fact)
        .cloned()
        .unwrap_or_default();
    let mut dims: Vec<String> = Vec::new();
    for f in &facts {
        if let Some(def) = cx.def(f)
            && let ItemKind::Fact(fact) = &def.item.kind
            && fact.entity.as_ref().is_some_and(|e| e.text == entity)
        {
            dims.extend(fact.dims.iter().map(|b| b.name.text.clone()));
        }
    }
    for b in by {
        if !dims.contains(&b.text) {
            let d = Diagnostic::error(
                codes::INVALID_GRANULARITY,
                b.span,
                format!(
                    "`{}` is not a dimension of any business process of `{entity}`",
                    b.text
                ),
            )
            .with_span_label("unknown dimension")
            .with_help(format!("dimensions: {}", dims.join(", ")));
            let d = suggest(d, b, dims.iter().map(String::as_str));
            cx.report(d);
        }
    }
}

fn idents_text(ids: &[Ident]) -> String {
    ids.iter()
        .map(|i| format!("`{}`", i.text))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether an expression names a field (`category.line`): a dimension attribute in a
/// modifier.
fn has_field(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Field(..) => true,
        ExprKind::Unary(_, x) => has_field(x),
        ExprKind::Binary(_, l, r) => has_field(l) || has_field(r),
        ExprKind::In { expr, list, .. } => has_field(expr) || list.iter().any(has_field),
        ExprKind::Call(_, args) => args.iter().any(|a| match a {
            Arg::Positional { value, .. } => has_field(value),
            Arg::Named(n) => has_field(&n.value),
        }),
        ExprKind::Case { arms, otherwise } => {
            arms.iter()
                .any(|a| has_field(&a.condition) || has_field(&a.value))
                || otherwise.as_deref().is_some_and(has_field)
        }
        _ => false,
    }
}

pub(super) fn rfm(cx: &mut Cx<'_>, r: &Rfm) {
    if !entity(cx, &r.entity) {
        return;
    }
    let scope = Scope::Entity {
        entity: &r.entity.text,
    };
    let mut kinds = Vec::new();
    for m in &r.measures {
        if kinds.contains(&m.kind) {
            cx.report(
                Diagnostic::error(
                    codes::RFM_INVALID,
                    m.span,
                    format!("{:?} is defined twice", m.kind),
                )
                .with_span_label("again"),
            );
        }
        kinds.push(m.kind);
        let t = cx.infer(&m.expr, &scope);
        if !matches!(t, Ty::Number(_) | Ty::Unknown) {
            cx.mismatch(m.expr.span, "an RFM measure must be a number", &t);
        }
        match &m.score {
            Score::Thresholds(ts, span) => {
                let values: Vec<f64> = ts.iter().filter_map(|t| t.parse().ok()).collect();
                if values.windows(2).any(|w| w[0] >= w[1]) {
                    cx.report(
                        Diagnostic::error(
                            codes::RFM_INVALID,
                            *span,
                            "score thresholds must increase",
                        )
                        .with_span_label("not increasing")
                        .with_help("write thresholds from low to high, such as [30, 90]"),
                    );
                }
            }
            Score::Quantiles(n, span) => {
                if *n < 2 || *n > 10 {
                    cx.report(
                        Diagnostic::error(
                            codes::RFM_INVALID,
                            *span,
                            "quantile scores need 2 to 10 quantiles",
                        )
                        .with_span_label("out of range"),
                    );
                }
            }
        }
    }
    for (kind, name) in [
        (RfmKind::Recency, "recency"),
        (RfmKind::Frequency, "frequency"),
        (RfmKind::Monetary, "monetary"),
    ] {
        if !kinds.contains(&kind) {
            cx.report(
                Diagnostic::error(
                    codes::RFM_INVALID,
                    r.header.name.span,
                    format!("the RFM model `{}` has no {name}", r.header.name.text),
                )
                .with_span_label(format!("missing {name}")),
            );
        }
    }
    if let Some(Baseline::Named(b)) = &r.baseline
        && b.text != "mean"
        && b.text != "median"
    {
        let d = Diagnostic::error(
            codes::RFM_INVALID,
            b.span,
            format!("unknown baseline `{}`", b.text),
        )
        .with_span_label("unknown baseline")
        .with_help("a baseline is `mean`, `median` or a number");
        let d = suggest(d, b, ["mean", "median"].into_iter());
        cx.report(d);
    }
    let mut seen: Vec<&str> = Vec::new();
    for s in &r.segments {
        let code = s.code.text.as_str();
        if code.len() != 3 || !code.chars().all(|c| c == 'H' || c == 'L') {
            cx.report(
                Diagnostic::error(
                    codes::RFM_INVALID,
                    s.code.span,
                    format!("`{code}` is not a segment code"),
                )
                .with_span_label("not H/L × 3")
                .with_help("a segment code is three letters H or L, for R, F and M"),
            );
        } else if seen.contains(&code) {
            cx.report(
                Diagnostic::error(
                    codes::RFM_INVALID,
                    s.code.span,
                    format!("the segment `{code}` is labelled twice"),
                )
                .with_span_label("again"),
            );
        }
        seen.push(code);
    }
}

pub(super) fn audience(cx: &mut Cx<'_>, a: &Audience) {
    if !entity(cx, &a.entity) {
        return;
    }
    cx.stack.push(a.header.name.text.clone());
    cx.expect_bool(
        &a.expr,
        &Scope::Entity {
            entity: &a.entity.text,
        },
        "an audience",
    );
    cx.stack.pop();
}

/// The entity of an audience, when the name is an audience.
fn audience_entity(cx: &mut Cx<'_>, id: &Ident) -> Option<String> {
    let def = cx.resolve(id, &[DefKind::Audience], "an audience")?;
    match &def.item.kind {
        ItemKind::Audience(a) => Some(a.entity.text.clone()),
        _ => None,
    }
}

pub(super) fn compare(cx: &mut Cx<'_>, c: &Compare) {
    let Some(entity) = audience_entity(cx, &c.audience) else {
        return;
    };
    if c.against.text != "all"
        && let Some(other) = audience_entity(cx, &c.against)
        && other != entity
    {
        cx.report(
            Diagnostic::error(
                codes::ENTITY_MISMATCH,
                c.against.span,
                format!(
                    "`{}` is an audience of {other}, not of {entity}",
                    c.against.text
                ),
            )
            .with_span_label(format!("of {other}")),
        );
    }
    for b in &c.by {
        let Some(def) = cx.resolve(
            b,
            &[DefKind::Tag, DefKind::Aipl, DefKind::Rfm],
            "a tag or model",
        ) else {
            continue;
        };
        let kind = def.item.kind.clone();
        if let Some(of) = cx.entity_of(&kind)
            && of != entity
        {
            cx.report(
                Diagnostic::error(
                    codes::ENTITY_MISMATCH,
                    b.span,
                    format!("`{}` is computed per {of}, not per {entity}", b.text),
                )
                .with_span_label(format!("per {of}")),
            );
        }
    }
}

pub(super) fn route(cx: &mut Cx<'_>, r: &Route) {
    let Some(entity) = audience_entity(cx, &r.audience) else {
        return;
    };
    for arm in &r.arms {
        cx.expect_bool(
            &arm.condition,
            &Scope::Entity { entity: &entity },
            "a route condition",
        );
    }
}

pub(super) fn export(cx: &mut Cx<'_>, e: &Export) {
    location(cx, &e.location);
    let Some(entity) = audience_entity(cx, &e.audience) else {
        return;
    };
    let identifiers = identifier_columns(cx, &entity);
    let scope = Scope::Entity { entity: &entity };
    let mut names: Vec<String> = Vec::new();
    for col in &e.columns {
        let out_name = match (&col.alias, &col.expr.kind) {
            (Some(a), _) => Some(a.text.clone()),
            (None, ExprKind::Name(n)) => Some(n.text.clone()),
            (None, _) => None,
        };
        match &out_name {
            Some(n) if names.contains(n) => cx.report(
                Diagnostic::error(
                    codes::DUPLICATE,
                    col.span,
                    format!("the column `{n}` is exported twice"),
                )
                .with_span_label("again"),
            ),
            Some(n) => names.push(n.clone()),
            None => cx.report(
                Diagnostic::error(
                    codes::EXPORT_UNKNOWN_COLUMN,
                    col.span,
                    "an exported expression needs a column name",
                )
                .with_span_label("unnamed")
                .with_help("add `as <name>`"),
            ),
        }
        export_expr(
            cx,
            &col.expr,
            &identifiers,
            &scope,
            false,
            out_name.as_deref(),
        );
    }
}

/// Identifiers of an entity, with whether any linked column carrying them is `pii`.
fn identifier_columns(cx: &mut Cx<'_>, entity: &str) -> Vec<(String, bool)> {
    let Some(def) = cx.def(entity) else {
        return Vec::new();
    };
    let ItemKind::OneId(o) = def.item.kind.clone() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for id in &o.identifiers {
        let mut pii = false;
        for link in &o.links {
            for f in link
                .fields
                .iter()
                .filter(|f| f.identifier.text == id.name.text)
            {
                if let Some(cols) = cx.table_columns(&link.source.text) {
                    pii |= cols
                        .iter()
                        .any(|c| c.pii && f.parts().iter().any(|p| p.text == c.name));
                }
            }
        }
        out.push((id.name.text.clone(), pii));
    }
    out
}

/// Types an exported expression; `hashed` is true inside sha256(…) / md5(…) / plain(…).
fn export_expr(
    cx: &mut Cx<'_>,
    e: &Expr,
    identifiers: &[(String, bool)],
    scope: &Scope<'_>,
    hashed: bool,
    column: Option<&str>,
) {
    match &e.kind {
        ExprKind::Name(n) if n.text == "oneid" => {}
        ExprKind::Name(n) if identifiers.iter().any(|(i, _)| *i == n.text) => {
            let pii = identifiers.iter().any(|(i, p)| *i == n.text && *p);
            if pii && !hashed {
                cx.report(
                    Diagnostic::error(codes::PII_IN_CLEAR, e.span, format!("`{}` is personal information and would be exported in clear", n.text))
                        .with_span_label("pii in clear")
                        .with_help("hash it with sha256(…) or md5(…), or write plain(…) to export it in clear on purpose")
                        .with_replacement("hash it with sha256", e.span, format!("sha256({})", n.text)),
                );
            }
        }
        ExprKind::Call(f, args) if matches!(f.text.as_str(), "sha256" | "md5" | "plain") => {
            for a in args {
                if let Arg::Positional { value, .. } = a {
                    export_expr(cx, value, identifiers, scope, true, column);
                }
            }
        }
        _ => {
            let t = cx.infer(e, scope);
            if !t.is_value() {
                cx.mismatch(e.span, "an exported column must be a value", &t);
            } else if !hashed && let Some(source) = pii_inside(cx, e, &mut Vec::new()) {
                let what =
                    column.map_or("this column".to_string(), |c| format!("the column `{c}`"));
                cx.report(
                        Diagnostic::error(
                            codes::PII_IN_CLEAR,
                            e.span,
                            format!("{what} is computed from the personal information `{source}` and would be exported in clear"),
                        )
                        .with_span_label(format!("carries `{source}`"))
                        .with_help("hash it with sha256(…) or md5(…), or write plain(…) to export it in clear on purpose")
                        .with_fix("hash it with sha256", wrap(e.span, "sha256(", ")")),
                    );
            }
        }
    }
}

/// The first `pii` column an expression reads, directly (`latest(crm_member.phone)`)
/// or through the tags it uses; `seen` guards against cycles (reported elsewhere).
fn pii_inside(cx: &mut Cx<'_>, e: &Expr, seen: &mut Vec<String>) -> Option<String> {
    let mut refs: Vec<(Option<String>, String)> = Vec::new();
    e.walk_outside_filters(&mut |x| match &x.kind {
        ExprKind::Field(base, col) => {
            if let ExprKind::Name(table) = &base.kind {
                refs.push((Some(table.text.clone()), col.text.clone()));
            }
        }
        ExprKind::Name(n) => refs.push((None, n.text.clone())),
        _ => {}
    });
    for (table, name) in refs {
        match table {
            Some(table) => {
                let cols = cx.table_columns(&table).unwrap_or_default();
                if cols.iter().any(|c| c.name == name && c.pii) {
                    return Some(format!("{table}.{name}"));
                }
            }
            None if !seen.contains(&name) => {
                seen.push(name.clone());
                let Some(def) = cx.def(&name) else { continue };
                if let ItemKind::Tag(t) = &def.item.kind {
                    let expr = t.expr.clone();
                    if let Some(found) = pii_inside(cx, &expr, seen) {
                        return Some(found);
                    }
                }
            }
            None => {}
        }
    }
    None
}

/// Edits that put `before` and `after` around a span.
fn wrap(span: Span, before: &str, after: &str) -> Vec<mj_lang::diagnostic::TextEdit> {
    let at = |pos: u32, text: &str| mj_lang::diagnostic::TextEdit {
        span: Span {
            start: pos,
            end: pos,
            ..span
        },
        replacement: text.to_string(),
    };
    vec![at(span.start, before), at(span.end, after)]
}

pub(super) fn dashboard(cx: &mut Cx<'_>, d: &Dashboard) {
    for w in &d.widgets {
        match &w.kind {
            WidgetKind::Trend { model, by, over } => {
                duration(cx, over, "a trend covers a number of days (`over 30d`)");
                if let Some(def) = cx.resolve(
                    model,
                    &[DefKind::Aipl, DefKind::Rfm, DefKind::Audience],
                    "an AIPL model, RFM model or audience",
                ) {
                    let kind = def.item.kind.clone();
                    if let Some(entity) = cx.entity_of(&kind) {
                        by_dimensions(cx, by, &entity);
                    }
                }
            }
            WidgetKind::Flow { model, from, to } => {
                for q in std::iter::once(from).chain(to) {
                    duration(
                        cx,
                        q,
                        "a flow compares business dates some days apart (`from 30d`)",
                    );
                }
                cx.resolve(model, &[DefKind::Aipl], "an AIPL model");
            }
            WidgetKind::Contribution { dimension, target } => {
                let ExprKind::Field(base, stage) = &target.kind else {
                    cx.report(
                        Diagnostic::error(
                            codes::TYPE_MISMATCH,
                            target.span,
                            "contribution is to a stage of an AIPL model",
                        )
                        .with_span_label("not a stage")
                        .with_help("write `contribution channel to brand.P`"),
                    );
                    continue;
                };
                let ExprKind::Name(model) = &base.kind else {
                    continue;
                };
                let Some(def) = cx.resolve(model, &[DefKind::Aipl], "an AIPL model") else {
                    continue;
                };
                let ItemKind::Aipl(a) = def.item.kind.clone() else {
                    continue;
                };
                let ty = Ty::Stage(model.text.clone());
                cx.expect_like(
                    &ty,
                    &Expr {
                        kind: ExprKind::Name(stage.clone()),
                        span: stage.span,
                    },
                    &Scope::Metrics,
                );
                by_dimensions(cx, std::slice::from_ref(dimension), &a.entity.text);
            }
            WidgetKind::Kpi { metrics } => {
                for m in metrics {
                    cx.resolve(
                        m,
                        &[DefKind::Derived, DefKind::Composite],
                        "a derived or composite metric",
                    );
                }
            }
        }
    }
}

/// A quantity that must be a whole number of days or weeks.
fn duration(cx: &mut Cx<'_>, q: &Quantity, help: &str) {
    if !matches!(q.unit, QuantityUnit::Days | QuantityUnit::Weeks) {
        cx.report(
            Diagnostic::error(
                codes::TYPE_MISMATCH,
                q.span,
                format!("expected days, but this is {}{}", q.value, q.unit.suffix()),
            )
            .with_span_label("not a number of days")
            .with_help(help),
        );
    }
}
