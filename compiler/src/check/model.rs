//! Checks of the OneModel items: glossary, sources, dimensions, facts and metrics.

use mj_lang::Diagnostic;
use mj_lang::ast::*;

use super::{Cx, Scope, source_columns, suggest};
use crate::codes;
use crate::queries::DefKind;
use crate::types::{Ty, UNIT_KINDS, column_type, unit_kind};

const COLUMN_TYPES: &[&str] = &[
    "string",
    "text",
    "int",
    "bigint",
    "smallint",
    "float",
    "double",
    "decimal",
    "bool",
    "boolean",
    "date",
    "timestamp",
];

pub(super) fn glossary(cx: &mut Cx<'_>, g: &Glossary) {
    for root in &g.roots {
        if let Some(u) = &root.unit {
            unit(cx, u);
        }
        if root.name.text.contains('_') {
            cx.report(
                Diagnostic::error(
                    codes::UNKNOWN_ROOT,
                    root.name.span,
                    format!("the root `{}` contains `_`", root.name.text),
                )
                .with_span_label("one word")
                .with_help("a root is one word; names are built by joining roots with `_`"),
            );
        }
    }
}

fn unit(cx: &mut Cx<'_>, u: &UnitSpec) {
    if let (Some(arg), true) = (&u.arg, UNIT_KINDS.contains(&u.kind.text.as_str())) {
        if unit_kind(&u.kind.text, Some(&arg.text)).is_none() {
            let help = if u.kind.text == "currency" {
                "a currency is named by its ISO 4217 code, such as currency(CNY)".to_string()
            } else {
                format!("`{}` takes no argument", u.kind.text)
            };
            cx.report(
                Diagnostic::error(
                    codes::UNKNOWN_UNIT,
                    arg.span,
                    format!("`{}({})` is not a unit", u.kind.text, arg.text),
                )
                .with_span_label("not allowed here")
                .with_help(help),
            );
        }
        return;
    }
    if unit_kind(&u.kind.text, u.arg.as_ref().map(|a| a.text.as_str())).is_none() {
        let d = Diagnostic::error(
            codes::UNKNOWN_UNIT,
            u.kind.span,
            format!("unknown unit `{}`", u.kind.text),
        )
        .with_span_label("unknown unit")
        .with_help(format!("units: {}", UNIT_KINDS.join(", ")));
        let d = suggest(d, &u.kind, UNIT_KINDS.iter().copied());
        cx.report(d);
    }
}

pub(super) fn source(cx: &mut Cx<'_>, s: &Source) {
    location(cx, &s.location);
    if let Some(by) = &s.incremental {
        match s.columns.iter().find(|c| c.name.text == by.text) {
            None => {
                let d = Diagnostic::error(
                    codes::UNKNOWN_COLUMN,
                    by.span,
                    format!("`{}` has no column `{}`", s.header.name.text, by.text),
                )
                .with_span_label("unknown column");
                let d = suggest(d, by, s.columns.iter().map(|c| c.name.text.as_str()));
                cx.report(d);
            }
            Some(c)
                if !matches!(
                    c.ty.name.text.as_str(),
                    "timestamp" | "date" | "int" | "bigint" | "smallint"
                ) =>
            {
                cx.report(
                    Diagnostic::error(
                        codes::TYPE_MISMATCH,
                        by.span,
                        format!(
                            "rows are read past the last run's largest `{}`, a `{}`",
                            by.text, c.ty.name.text
                        ),
                    )
                    .with_span_label("not a time or a number")
                    .with_help("read incrementally by a timestamp, date or integer column (updated_at, a sequence)"),
                );
            }
            Some(_) => {}
        }
    }
    let mut seen: Vec<&str> = Vec::new();
    for c in &s.columns {
        if seen.contains(&c.name.text.as_str()) {
            cx.report(
                Diagnostic::error(
                    codes::DUPLICATE,
                    c.name.span,
                    format!("the column `{}` is declared twice", c.name.text),
                )
                .with_span_label("declared again"),
            );
        }
        seen.push(&c.name.text);
        let ty = c.ty.name.text.as_str();
        if !COLUMN_TYPES.contains(&ty) {
            let d = Diagnostic::error(
                codes::UNKNOWN_TYPE,
                c.ty.name.span,
                format!("unknown column type `{ty}`"),
            )
            .with_span_label("unknown type")
            .with_help(format!("types: {}", COLUMN_TYPES.join(", ")));
            let d = suggest(d, &c.ty.name, COLUMN_TYPES.iter().copied());
            cx.report(d);
            continue;
        }
        if ty == "decimal" {
            let ok = match c.ty.params.as_slice() {
                [p, s] => *p >= 1 && *p <= 38 && s <= p,
                [p] => *p >= 1 && *p <= 38,
                _ => false,
            };
            if !ok {
                cx.report(
                    Diagnostic::error(
                        codes::UNKNOWN_TYPE,
                        c.ty.span,
                        "`decimal` needs a precision of 1 to 38 and a scale no larger than it",
                    )
                    .with_span_label("invalid precision or scale")
                    .with_help("write `decimal(18,2)`"),
                );
            }
        } else if !c.ty.params.is_empty() {
            cx.report(
                Diagnostic::error(
                    codes::UNKNOWN_TYPE,
                    c.ty.span,
                    format!("`{ty}` takes no parameters"),
                )
                .with_span_label("here"),
            );
        }
        if let Some(u) = &c.unit {
            unit(cx, u);
            let numeric = matches!(column_type(ty, None), Some(Ty::Number(_)));
            if !numeric {
                cx.report(
                    Diagnostic::error(
                        codes::UNKNOWN_UNIT,
                        u.span,
                        format!("a `{ty}` column cannot carry a unit"),
                    )
                    .with_span_label("only numbers have units"),
                );
            }
        }
    }
}

pub(super) fn location(cx: &mut Cx<'_>, l: &Location) {
    let Some(def) = cx.resolve(
        &l.format,
        &[DefKind::Function],
        "a data format (csv, parquet, ndjson)",
    ) else {
        return;
    };
    let ItemKind::Function(f) = &def.item.kind else {
        return;
    };
    if f.returns.text != "location" {
        cx.report(
            Diagnostic::error(
                codes::TYPE_MISMATCH,
                l.format.span,
                format!("`{}` is not a data format", l.format.text),
            )
            .with_span_label("not a format")
            .with_help("use csv(\"…\"), parquet(\"…\") or ndjson(\"…\")"),
        );
        return;
    }
    for o in &l.options {
        if o.name.text == "url" {
            let from_env = matches!(&o.value.kind, ExprKind::Call(f, args)
                if f.text == "env" && matches!(args.as_slice(),
                    [mj_lang::ast::Arg::Positional { value, .. }] if matches!(value.kind, ExprKind::Str(_))));
            if let ExprKind::Call(_, args) = &o.value.kind
                && let [mj_lang::ast::Arg::Positional { value, .. }] = args.as_slice()
                && let ExprKind::Str(var) = &value.kind
                && from_env
                && std::env::var_os(var).is_none()
            {
                cx.report(
                    Diagnostic::warning(
                        codes::UNSET_ENV,
                        o.value.span,
                        format!("the environment variable {var} is not set"),
                    )
                    .with_span_label("`mj run` reads the URL from it")
                    .with_help(format!(
                        "set {var} to postgres://USER:PASSWORD@HOST:PORT/DATABASE before `mj run`"
                    )),
                );
            }
            if !from_env {
                cx.report(
                    Diagnostic::error(
                        codes::BAD_ARGUMENTS,
                        o.value.span,
                        "a connection URL is not written in a .mj file".to_string(),
                    )
                    .with_span_label("would put the password in git")
                    .with_help(
                        "read it from the environment, url = env(\"MJ_PG_URL\"), or leave `url` out and set it in mj.toml: [sources.<name>] url = \"…\"",
                    ),
                );
            }
        }
        if !f.params.iter().skip(1).any(|p| p.name.text == o.name.text) {
            let d = Diagnostic::error(
                codes::BAD_ARGUMENTS,
                o.name.span,
                format!("`{}` has no option `{}`", l.format.text, o.name.text),
            )
            .with_span_label("unknown option");
            let names: Vec<&str> = f
                .params
                .iter()
                .skip(1)
                .map(|p| p.name.text.as_str())
                .collect();
            let d = suggest(d, &o.name, names.into_iter());
            cx.report(d);
        } else if o.name.text == "delimiter"
            && let ExprKind::Str(d) = &o.value.kind
            && d != "whitespace"
            && !(d.len() == 1 && d.is_ascii())
        {
            cx.report(
                Diagnostic::error(
                    codes::BAD_ARGUMENTS,
                    o.value.span,
                    format!("{d:?} is not a delimiter"),
                )
                .with_span_label("not one character")
                .with_help(
                    "a delimiter is one ASCII character such as \",\" or \"\\t\", or \"whitespace\" for fields separated by runs of blanks",
                ),
            );
        }
    }
}

/// Reports a column that the table does not have.
fn column_exists(cx: &mut Cx<'_>, table: &str, cols: &[super::Col], id: &Ident) -> Option<Ty> {
    if let Some(c) = cols.iter().find(|c| c.name == id.text) {
        return Some(c.ty.clone());
    }
    let d = Diagnostic::error(
        codes::UNKNOWN_COLUMN,
        id.span,
        format!("`{table}` has no column `{}`", id.text),
    )
    .with_span_label("unknown column");
    let d = suggest(d, id, cols.iter().map(|c| c.name.as_str()));
    cx.report(d);
    None
}

pub(super) fn dimension(cx: &mut Cx<'_>, d: &Dimension) {
    let Some(def) = cx.resolve(&d.source, &[DefKind::Source], "a source") else {
        return;
    };
    let ItemKind::Source(s) = &def.item.kind else {
        return;
    };
    let cols = source_columns(s);
    match &d.key {
        Some(k) => {
            column_exists(cx, &d.source.text, &cols, k);
        }
        None => cx.report(
            Diagnostic::error(
                codes::UNKNOWN_COLUMN,
                d.header.name.span,
                format!("the dimension `{}` has no `key`", d.header.name.text),
            )
            .with_span_label("no key")
            .with_help("add `key <column>`: the column that identifies one row"),
        ),
    }
    for a in &d.attributes {
        column_exists(cx, &d.source.text, &cols, a);
    }
}

pub(super) fn fact(cx: &mut Cx<'_>, f: &Fact) {
    let Some(def) = cx.resolve(&f.source, &[DefKind::Source], "a source") else {
        return;
    };
    let ItemKind::Source(s) = &def.item.kind else {
        return;
    };
    let table = f.source.text.as_str();
    let cols = source_columns(s);
    if let Some(w) = &f.filter {
        cx.expect_bool(
            w,
            &Scope::Row {
                table,
                columns: &cols,
            },
            "a `where` condition",
        );
    }
    for g in &f.grain {
        column_exists(cx, table, &cols, g);
    }
    if f.grain.is_empty() {
        cx.report(
            Diagnostic::error(
                codes::UNKNOWN_COLUMN,
                f.header.name.span,
                format!("the fact `{}` has no `grain`", f.header.name.text),
            )
            .with_span_label("no grain")
            .with_help("add `grain <column>`: what one row of the business process is"),
        );
    }
    if let Some(t) = &f.time
        && let Some(ty) = column_exists(cx, table, &cols, t)
        && !matches!(ty, Ty::Timestamp | Ty::Date | Ty::Unknown)
    {
        cx.mismatch(
            t.span,
            "the `time` of a fact must be a timestamp or a date",
            &ty,
        );
    }
    if let Some(e) = &f.entity
        && let Some(def) = cx.resolve(e, &[DefKind::OneId], "a OneID entity")
        && let ItemKind::OneId(o) = &def.item.kind
        && !o.links.iter().any(|l| l.source.text == f.source.text)
    {
        cx.report(
            Diagnostic::error(
                codes::NOT_LINKED,
                e.span,
                format!(
                    "rows of `{}` get no `{}` id: the OneID does not link that source",
                    f.source.text, e.text
                ),
            )
            .with_span_label("not linked")
            .with_help(format!(
                "add `link {} (…)` to `oneid {}`",
                f.source.text, e.text
            )),
        );
    }
    let scope = Scope::Row {
        table,
        columns: &cols,
    };
    for b in &f.dims {
        match &b.value {
            None => {
                column_exists(cx, table, &cols, &b.name);
            }
            Some(Expr {
                kind: ExprKind::Name(col),
                ..
            }) => {
                // `store = store_id`: the dimension `store`, joined on `store_id`.
                if let Some(ty) = column_exists(cx, table, &cols, col)
                    && let Some(dim) = cx
                        .def(&b.name.text)
                        .filter(|d| d.kind == DefKind::Dimension)
                {
                    let dim = dim.clone();
                    if let ItemKind::Dimension(dd) = &dim.item.kind {
                        let key_ty = cx
                            .table_columns(&dd.source.text)
                            .and_then(|c| {
                                dd.key
                                    .as_ref()
                                    .and_then(|k| c.into_iter().find(|x| x.name == k.text))
                            })
                            .map(|c| c.ty);
                        if let Some(kt) = key_ty
                            && !super::expr::compatible(&kt, &ty)
                        {
                            cx.mismatch(
                                col.span,
                                &format!("the key of `{}` is {kt}", b.name.text),
                                &ty,
                            );
                        }
                    }
                }
            }
            Some(e) => {
                cx.infer(e, &scope);
            }
        }
    }
    for b in &f.measures {
        let ty = match &b.value {
            None => column_exists(cx, table, &cols, &b.name),
            Some(e) => Some(cx.infer(e, &scope)),
        };
        if let Some(ty) = ty
            && !matches!(ty, Ty::Number(_) | Ty::Unknown)
        {
            let span = b.value.as_ref().map_or(b.name.span, |e| e.span);
            cx.mismatch(
                span,
                &format!("the measure `{}` must be a number", b.name.text),
                &ty,
            );
        }
    }
}

pub(super) fn atomic(cx: &mut Cx<'_>, a: &Atomic) {
    // `latest`, `first`, `top` and `exists` pick a value per entity over a window:
    // tags, not additive metrics.
    if let ExprKind::Call(f, _) = &a.expr.kind {
        let window = mj_ir::Aggregate::from_name(&f.text).is_some_and(|a| a.windowed())
            && cx
                .def(&f.text)
                .is_some_and(|d| matches!(&d.item.kind, ItemKind::Function(_)));
        if window {
            let rows: Vec<&str> = mj_ir::Aggregate::of_rows().map(|a| a.name()).collect();
            let (last, rest) = rows.split_last().expect("aggregates of rows");
            cx.report(
                Diagnostic::error(
                    codes::TYPE_MISMATCH,
                    f.span,
                    format!(
                        "`{}` picks one value per entity; an atomic metric aggregates rows",
                        f.text
                    ),
                )
                .with_span_label("a tag's aggregate")
                .with_help(format!(
                    "declare a tag: `tag NAME on consumer = {}(…)`, or aggregate with {} or {last}",
                    f.text,
                    rest.join(", ")
                )),
            );
            return;
        }
    }
    let ok_shape = match &a.expr.kind {
        ExprKind::Call(f, args) => {
            let is_agg = cx
                .def(&f.text)
                .is_some_and(|d| matches!(&d.item.kind, ItemKind::Function(func) if func.flags.iter().any(|x| x.text == "aggregate")));
            let over_fact = match args.first() {
                Some(Arg::Positional { value, .. }) => match &value.kind {
                    ExprKind::Field(base, _) => {
                        matches!(&base.kind, ExprKind::Name(n) if fact_name(cx, n))
                    }
                    ExprKind::Name(n) => fact_name(cx, n),
                    _ => false,
                },
                _ => false,
            };
            is_agg && over_fact
        }
        _ => false,
    };
    let ty = cx.infer(&a.expr, &Scope::Rows);
    if !ok_shape && !ty.is_unknown() {
        cx.report(
            Diagnostic::error(
                codes::TYPE_MISMATCH,
                a.expr.span,
                "an atomic metric is one aggregate over a business process",
            )
            .with_span_label("not an aggregate over a fact")
            .with_help("write `sum(pay_order.amount)` or `count_distinct(pay_order.order_id)`"),
        );
    }
}

fn fact_name(cx: &Cx<'_>, n: &Ident) -> bool {
    cx.def(&n.text).is_some_and(|d| d.kind == DefKind::Fact)
}

pub(super) fn modifier(cx: &mut Cx<'_>, m: &Modifier) {
    if cx
        .resolve(&m.process, &[DefKind::Fact], "a business process (fact)")
        .is_none()
    {
        return;
    }
    let Some(cols) = cx.table_columns(&m.process.text) else {
        return;
    };
    cx.expect_bool(
        &m.expr,
        &Scope::Row {
            table: &m.process.text,
            columns: &cols,
        },
        "a modifier",
    );
}

pub(super) fn period(cx: &mut Cx<'_>, p: &Period) {
    if let PeriodSpec::Last { count: 0, .. } = p.spec {
        cx.report(
            Diagnostic::error(
                codes::INVALID_PERIOD,
                p.spec_span,
                "a period of zero length selects nothing",
            )
            .with_span_label("empty period")
            .with_help("write `last 1 days` or longer"),
        );
    }
}

/// Reports an entry written twice in a list (`pay_amt[30d, online, online]`,
/// `by city, city`); the fix deletes the repeat and its comma.
fn repeated(cx: &mut Cx<'_>, list: &[Ident], what: &str) {
    for (i, id) in list.iter().enumerate() {
        if let Some(first) = list[..i].iter().find(|p| p.text == id.text) {
            let span = Span {
                start: list[i - 1].span.end,
                ..id.span
            };
            cx.report(
                Diagnostic::error(
                    codes::DUPLICATE,
                    id.span,
                    format!("the {what} `{}` is written twice", id.text),
                )
                .with_span_label("again")
                .with_label(first.span, "first here")
                .with_fix(
                    format!("remove the second `{}`", id.text),
                    vec![mj_lang::diagnostic::TextEdit {
                        span,
                        replacement: String::new(),
                    }],
                ),
            );
        }
    }
}

pub(super) fn derived(cx: &mut Cx<'_>, d: &Derived) {
    repeated(cx, &d.qualifiers, "period or modifier");
    repeated(cx, &d.by, "granularity");
    let Some(atomic) = cx.resolve(&d.atomic, &[DefKind::Atomic], "an atomic metric") else {
        return;
    };
    let ItemKind::Atomic(a) = &atomic.item.kind else {
        return;
    };
    // The business process of the atomic metric.
    // It is the first fact the expression names: `pay_order.amount` or a whole
    // `count(pay_order)`.
    let mut named = Vec::new();
    a.expr.walk_outside_filters(&mut |e| match &e.kind {
        ExprKind::Field(base, _) => {
            if let ExprKind::Name(n) = &base.kind {
                named.push(n.text.clone());
            }
        }
        ExprKind::Name(n) => named.push(n.text.clone()),
        _ => {}
    });
    let process = named
        .into_iter()
        .find(|n| cx.def(n).is_some_and(|def| def.kind == DefKind::Fact));
    let mut periods = Vec::new();
    for q in &d.qualifiers {
        let Some(def) = cx.resolve(
            q,
            &[DefKind::Period, DefKind::Modifier],
            "a period or modifier",
        ) else {
            continue;
        };
        match &def.item.kind {
            ItemKind::Period(_) => periods.push(q),
            ItemKind::Modifier(m) if process.as_deref().is_some_and(|p| p != m.process.text) => {
                let def = def.clone();
                let mut diag = Diagnostic::error(
                    codes::MODIFIER_WRONG_PROCESS,
                    q.span,
                    format!(
                        "the modifier `{}` filters `{}`, but `{}` is measured on `{}`",
                        q.text,
                        m.process.text,
                        d.atomic.text,
                        process.as_deref().unwrap_or("?")
                    ),
                )
                .with_span_label(format!("declared on `{}`", m.process.text))
                .with_help(format!(
                    "declare a modifier `on {}`",
                    process.as_deref().unwrap_or("?")
                ));
                if let Some(span) = cx.def_span(&def) {
                    diag = diag.with_label(span, "declared here");
                }
                cx.report(diag);
            }
            _ => {}
        }
    }
    match periods.as_slice() {
        [_] => {}
        [] => cx.report(
            Diagnostic::error(
                codes::INVALID_PERIOD,
                d.atomic.span,
                format!("`{}` needs a period", d.header.name.text),
            )
            .with_span_label("no period in [ ]")
            .with_help("add one, such as `[30d]`, `[td]` or `[mtd]`"),
        ),
        [_, second, ..] => cx.report(
            Diagnostic::error(
                codes::INVALID_PERIOD,
                second.span,
                "a derived metric has exactly one period",
            )
            .with_span_label("second period"),
        ),
    }
    // Granularity: dimensions or the entity that the process carries.
    let Some(process) = process else { return };
    let Some(fact_def) = cx.def(&process) else {
        return;
    };
    let ItemKind::Fact(f) = &fact_def.item.kind else {
        return;
    };
    let mut valid: Vec<String> = f.dims.iter().map(|b| b.name.text.clone()).collect();
    valid.extend(f.entity.iter().map(|e| e.text.clone()));
    for g in &d.by {
        if !valid.contains(&g.text) {
            let diag = Diagnostic::error(
                codes::INVALID_GRANULARITY,
                g.span,
                format!("`{}` is not a dimension or entity of `{process}`", g.text),
            )
            .with_span_label("not carried by the process")
            .with_help(format!("`{process}` carries: {}", valid.join(", ")));
            let diag = suggest(diag, g, valid.iter().map(String::as_str));
            cx.report(diag);
        }
    }
}

pub(super) fn composite(cx: &mut Cx<'_>, c: &Composite) {
    let name = c.header.name.text.clone();
    cx.stack.push(name);
    let ty = cx.infer(&c.expr, &Scope::Metrics);
    cx.stack.pop();
    if !matches!(ty, Ty::Number(_) | Ty::Unknown) {
        cx.mismatch(c.expr.span, "a composite metric must be a number", &ty);
    }
    // All parts must be computed at one granularity: a ratio of a per-channel
    // metric to a per-store one has no row to live on.
    let mut first: Option<(&Ident, Vec<String>)> = None;
    let mut names = Vec::new();
    c.expr.walk(&mut |e| {
        if let ExprKind::Name(n) = &e.kind {
            names.push(n);
        }
    });
    for n in names {
        let Some(grain) = granularity(cx, &n.text, &mut Vec::new()) else {
            continue;
        };
        match &first {
            None => first = Some((n, grain)),
            Some((other, g)) if *g != grain => {
                let show = |g: &[String]| {
                    if g.is_empty() {
                        "in total".to_string()
                    } else {
                        format!("by {}", g.join(", "))
                    }
                };
                cx.report(
                    Diagnostic::error(
                        codes::INVALID_GRANULARITY,
                        n.span,
                        format!(
                            "`{}` is computed {}, but `{}` is computed {}",
                            n.text,
                            show(&grain),
                            other.text,
                            show(g)
                        ),
                    )
                    .with_span_label(show(&grain))
                    .with_label(other.span, show(g))
                    .with_help("a composite metric combines metrics of one granularity: give them the same `by`"),
                );
                break;
            }
            Some(_) => {}
        }
    }
}

/// The granularity (`by` dimensions, sorted) of a derived or composite metric.
fn granularity(cx: &Cx<'_>, name: &str, seen: &mut Vec<String>) -> Option<Vec<String>> {
    if seen.iter().any(|s| s == name) {
        return None;
    }
    seen.push(name.to_string());
    let def = cx.def(name)?;
    match &def.item.kind {
        ItemKind::Derived(d) => {
            let mut by: Vec<String> = d.by.iter().map(|b| b.text.clone()).collect();
            by.sort();
            by.dedup();
            Some(by)
        }
        ItemKind::Composite(c) => {
            let mut found = None;
            c.expr.walk(&mut |e| {
                if let (None, ExprKind::Name(n)) = (&found, &e.kind) {
                    found = Some(n.text.clone());
                }
            });
            granularity(cx, &found?, seen)
        }
        _ => None,
    }
}

pub(super) fn check(cx: &mut Cx<'_>, c: &Check) {
    match &c.rule {
        CheckRule::Unique { process, column } => {
            if cx
                .resolve(
                    process,
                    &[DefKind::Fact, DefKind::Source],
                    "a business process or source",
                )
                .is_some()
                && let Some(cols) = cx.table_columns(&process.text)
            {
                column_exists(cx, &process.text, &cols, column);
            }
        }
        CheckRule::Expr(e) => cx.expect_bool(e, &Scope::Rows, "a check"),
    }
    if let Some(s) = &c.severity
        && s.text != "error"
        && s.text != "warn"
    {
        let d = Diagnostic::error(codes::INVALID_CHECK, s.span, format!("unknown severity `{}`", s.text))
                .with_span_label("unknown severity")
                .with_help("a failing check either fails the run (`severity error`, the default) or warns (`severity warn`)");
        let d = suggest(d, s, ["error", "warn"].into_iter());
        cx.report(d);
    }
}

pub(super) fn function(cx: &mut Cx<'_>, f: &Function) {
    const TYPES: &[&str] = &[
        "any",
        "number",
        "string",
        "bool",
        "date",
        "timestamp",
        "duration",
        "distance",
        "angle",
        "location",
        "dimension",
        "row",
        "count",
        "capture",
        "layout",
        "output",
        "T",
    ];
    for ty in f
        .params
        .iter()
        .map(|p| &p.ty)
        .chain(std::iter::once(&f.returns))
    {
        if !TYPES.contains(&ty.text.as_str()) {
            let d = Diagnostic::error(
                codes::UNKNOWN_TYPE,
                ty.span,
                format!("unknown type `{}`", ty.text),
            )
            .with_span_label("unknown type");
            let d = suggest(d, ty, TYPES.iter().copied());
            cx.report(d);
        }
    }
}
