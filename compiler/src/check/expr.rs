//! Types and units of expressions, and the checks that come with them: type
//! mismatches, incompatible units, sums of ratios, aggregates, stage names and tag values.

use mj_lang::Diagnostic;
use mj_lang::ast::*;

use super::{Col, Cx, closest, suggest};
use crate::codes;
use crate::queries::DefKind;
use crate::types::{Ty, Unit};

/// What names mean where an expression stands.
pub(crate) enum Scope<'a> {
    /// Inside one table's rows: names are its columns.
    Row { table: &'a str, columns: &'a [Col] },
    /// At the level of an entity (tags, AIPL, RFM, audiences, routes, exports):
    /// names are metrics by that entity, tags, models, audiences, sources and
    /// dimensions.
    Entity { entity: &'a str },
    /// Composite metrics: names are other metrics.
    Metrics,
    /// Data-quality checks: `fact.column` compares rows.
    Rows,
}

/// Entity-level kinds a name may refer to.
const ENTITY_KINDS: &[DefKind] = &[
    DefKind::Derived,
    DefKind::Composite,
    DefKind::Tag,
    DefKind::Aipl,
    DefKind::Rfm,
    DefKind::Audience,
    DefKind::Source,
    DefKind::Fact,
    DefKind::Dimension,
];

impl Cx<'_> {
    pub fn infer(&mut self, e: &Expr, scope: &Scope<'_>) -> Ty {
        match &e.kind {
            ExprKind::Number(_) => Ty::Number(Unit::none()),
            ExprKind::Str(_) => Ty::String,
            ExprKind::Bool(_) => Ty::Bool,
            ExprKind::Null => Ty::Null,
            ExprKind::Quantity(q) => quantity_type(q),
            ExprKind::Name(id) => self.name(id, scope),
            ExprKind::Field(base, field) => self.field(base, field, scope),
            ExprKind::Index(_, _) => {
                self.report(
                    Diagnostic::error(
                        codes::TYPE_MISMATCH,
                        e.span,
                        "`[period, modifiers]` qualifies atomic metrics only in `derived` items",
                    )
                    .with_help("declare a derived metric and refer to it by name"),
                );
                Ty::Unknown
            }
            ExprKind::Call(f, args) => self.call(e, f, args, scope),
            ExprKind::Unary(op, x) => {
                let t = self.infer(x, scope);
                match (op, &t) {
                    (_, Ty::Unknown) => Ty::Unknown,
                    (UnaryOp::Not, Ty::Bool) => Ty::Bool,
                    (UnaryOp::Neg, Ty::Number(_) | Ty::Duration | Ty::Distance | Ty::Angle) => t,
                    (UnaryOp::Not, _) => self.mismatch(x.span, "`not` needs a condition", &t),
                    (UnaryOp::Neg, _) => self.mismatch(x.span, "`-` needs a number", &t),
                }
            }
            ExprKind::Binary(op, l, r) => self.binary(e, *op, l, r, scope),
            ExprKind::In { expr, list, .. } => {
                let t = self.infer(expr, scope);
                for item in list {
                    self.expect_like(&t, item, scope);
                }
                Ty::Bool
            }
            ExprKind::Case { arms, otherwise } => {
                let mut result: Option<Ty> = None;
                for arm in arms {
                    self.expect_bool(&arm.condition, scope, "a `case` condition");
                    let t = self.infer(&arm.value, scope);
                    self.merge_branch(&mut result, t, arm.value.span);
                }
                if let Some(o) = otherwise {
                    let t = self.infer(o, scope);
                    self.merge_branch(&mut result, t, o.span);
                }
                result.unwrap_or(Ty::Null)
            }
        }
    }

    pub fn expect_bool(&mut self, e: &Expr, scope: &Scope<'_>, what: &str) {
        let t = self.infer(e, scope);
        if !matches!(t, Ty::Bool | Ty::Unknown) {
            self.mismatch(e.span, &format!("{what} must be true or false"), &t);
        }
    }

    pub fn mismatch(&mut self, span: Span, message: &str, found: &Ty) -> Ty {
        self.report(
            Diagnostic::error(
                codes::TYPE_MISMATCH,
                span,
                format!("{message}, but this is {} {found}", article(found)),
            )
            .with_span_label(format!("{found}")),
        );
        Ty::Unknown
    }

    fn merge_branch(&mut self, result: &mut Option<Ty>, t: Ty, span: Span) {
        match result {
            None | Some(Ty::Null) | Some(Ty::Unknown) => *result = Some(t),
            Some(prev) => {
                if !compatible(prev, &t) {
                    let message = format!(
                        "every branch must give the same type; earlier branches give {prev}"
                    );
                    self.mismatch(span, &message, &t);
                }
            }
        }
    }

    fn name(&mut self, id: &Ident, scope: &Scope<'_>) -> Ty {
        match scope {
            Scope::Row { table, columns } => match columns.iter().find(|c| c.name == id.text) {
                Some(c) => c.ty.clone(),
                None => {
                    let d = Diagnostic::error(
                        codes::UNKNOWN_COLUMN,
                        id.span,
                        format!("`{table}` has no column `{}`", id.text),
                    )
                    .with_span_label("unknown column");
                    let d = suggest(d, id, columns.iter().map(|c| c.name.as_str()));
                    self.report(d);
                    Ty::Unknown
                }
            },
            Scope::Metrics => match self.resolve(
                id,
                &[DefKind::Derived, DefKind::Composite],
                "a derived or composite metric",
            ) {
                Some(_) => self.metric_type(&id.text),
                None => Ty::Unknown,
            },
            Scope::Rows => match self.resolve(
                id,
                &[DefKind::Fact, DefKind::Source],
                "a business process or source",
            ) {
                Some(_) => Ty::Table(id.text.clone()),
                None => Ty::Unknown,
            },
            Scope::Entity { entity } => {
                let Some(def) =
                    self.resolve(id, ENTITY_KINDS, "a metric, tag, model, audience or table")
                else {
                    return Ty::Unknown;
                };
                let (kind, item) = (def.kind, def.item.clone());
                match kind {
                    DefKind::Source | DefKind::Fact => return Ty::Table(id.text.clone()),
                    DefKind::Dimension => return Ty::Dimension(id.text.clone()),
                    _ => {}
                }
                if let Some(of) = self.entity_of(&item.kind)
                    && of != *entity
                {
                    let d = Diagnostic::error(
                            codes::ENTITY_MISMATCH,
                            id.span,
                            format!("`{}` is computed per {of}, not per {entity}", id.text),
                        )
                        .with_span_label(format!("per {of}"))
                        .with_help(format!("use something declared on `{entity}` (a metric `by {entity}`, a tag `on {entity}`)"));
                    self.report(d);
                    return Ty::Unknown;
                }
                match &item.kind {
                    ItemKind::Derived(_) | ItemKind::Composite(_) => self.metric_type(&id.text),
                    ItemKind::Tag(t) => self.tag_type(t),
                    ItemKind::Aipl(_) => Ty::Stage(id.text.clone()),
                    ItemKind::Rfm(_) => Ty::Segment(id.text.clone()),
                    ItemKind::Audience(_) => Ty::Bool,
                    _ => Ty::Unknown,
                }
            }
        }
    }

    /// Whether `table` is a fact whose dims bind a dimension named `name`.
    fn binds_dimension(&mut self, table: &str, name: &str) -> bool {
        let binds = self.def(table).is_some_and(|d| match &d.item.kind {
            ItemKind::Fact(f) => f.dims.iter().any(|b| b.name.text == name),
            _ => false,
        });
        binds && self.def(name).is_some_and(|d| d.kind == DefKind::Dimension)
    }

    /// The entity an entity-level item is computed for.
    pub fn entity_of(&mut self, kind: &ItemKind) -> Option<String> {
        match kind {
            ItemKind::Tag(t) => Some(t.entity.text.clone()),
            ItemKind::Aipl(a) => Some(a.entity.text.clone()),
            ItemKind::Rfm(r) => Some(r.entity.text.clone()),
            ItemKind::Audience(a) => Some(a.entity.text.clone()),
            ItemKind::Derived(d) => match d.by.as_slice() {
                [one] => Some(one.text.clone()),
                [] => Some("the whole project".to_string()),
                many => Some(
                    many.iter()
                        .map(|i| i.text.as_str())
                        .collect::<Vec<_>>()
                        .join(" and "),
                ),
            },
            ItemKind::Composite(c) => {
                let mut found = None;
                c.expr.walk(&mut |e| {
                    if let (None, ExprKind::Name(n)) = (&found, &e.kind) {
                        found = Some(n.text.clone());
                    }
                });
                let name = found?;
                if self.stack.contains(&name) {
                    return None;
                }
                let def = self.def(&name)?;
                let kind = def.item.kind.clone();
                self.stack.push(name);
                let entity = self.entity_of(&kind);
                self.stack.pop();
                entity
            }
            _ => None,
        }
    }

    /// The type of a derived or composite metric, by name.
    pub fn metric_type(&mut self, name: &str) -> Ty {
        if self.stack.iter().any(|s| s == name) {
            return Ty::Unknown;
        }
        let Some(def) = self.def(name) else {
            return Ty::Unknown;
        };
        let item = def.item.clone();
        self.stack.push(name.to_string());
        self.silent += 1;
        let ty = match &item.kind {
            ItemKind::Derived(d) => self.atomic_type(&d.atomic.text),
            ItemKind::Composite(c) => self.infer(&c.expr, &Scope::Metrics),
            ItemKind::Atomic(_) => self.atomic_type(name),
            _ => Ty::Unknown,
        };
        self.silent -= 1;
        self.stack.pop();
        ty
    }

    /// The type of an atomic metric: its aggregate over its fact's column.
    pub fn atomic_type(&mut self, name: &str) -> Ty {
        let Some(def) = self.def(name) else {
            return Ty::Unknown;
        };
        let ItemKind::Atomic(a) = &def.item.kind else {
            return Ty::Unknown;
        };
        let expr = a.expr.clone();
        self.silent += 1;
        let ty = self.infer(&expr, &Scope::Rows);
        self.silent -= 1;
        ty
    }

    pub fn tag_type(&mut self, t: &Tag) -> Ty {
        if !t.values.is_empty() {
            return Ty::Enum(t.header.name.text.clone());
        }
        let name = t.header.name.text.clone();
        if self.stack.contains(&name) {
            return Ty::Unknown;
        }
        self.stack.push(name);
        self.silent += 1;
        let ty = self.infer(
            &t.expr,
            &Scope::Entity {
                entity: &t.entity.text,
            },
        );
        self.silent -= 1;
        self.stack.pop();
        ty
    }

    fn field(&mut self, base: &Expr, field: &Ident, scope: &Scope<'_>) -> Ty {
        // In a fact's rows, `store.city` is an attribute of the dimension the fact
        // binds as `store`, joined on its key.
        let bt = match (scope, &base.kind) {
            (Scope::Row { table, .. }, ExprKind::Name(n))
                if self.binds_dimension(table, &n.text) =>
            {
                Ty::Row(n.text.clone())
            }
            _ => self.infer(base, scope),
        };
        match &bt {
            Ty::Unknown => Ty::Unknown,
            Ty::Table(t) => {
                let t = t.clone();
                let Some(cols) = self.table_columns(&t) else {
                    return Ty::Unknown;
                };
                let Some(col) = cols.iter().find(|c| c.name == field.text) else {
                    let d = Diagnostic::error(
                        codes::UNKNOWN_COLUMN,
                        field.span,
                        format!("`{t}` has no column `{}`", field.text),
                    )
                    .with_span_label("unknown column");
                    let d = suggest(d, field, cols.iter().map(|c| c.name.as_str()));
                    self.report(d);
                    return Ty::Unknown;
                };
                if matches!(scope, Scope::Entity { .. }) && !self.in_aggregate {
                    self.report(
                        Diagnostic::error(
                            codes::NEEDS_AGGREGATE,
                            base.span.to(field.span),
                            format!(
                                "`{t}.{}` has one value per row, not one per entity",
                                field.text
                            ),
                        )
                        .with_span_label("a column")
                        .with_help(
                            "wrap it in an aggregate: latest(…), first(…), top(…), sum(…), max(…)",
                        ),
                    );
                    return Ty::Unknown;
                }
                col.ty.clone()
            }
            Ty::Row(d) => {
                let d = d.clone();
                let Some(def) = self.def(&d) else {
                    return Ty::Unknown;
                };
                let ItemKind::Dimension(dim) = def.item.kind.clone() else {
                    return Ty::Unknown;
                };
                let allowed = dim
                    .key
                    .iter()
                    .chain(&dim.attributes)
                    .any(|a| a.text == field.text);
                let cols = self.table_columns(&dim.source.text).unwrap_or_default();
                match cols.iter().find(|c| c.name == field.text) {
                    Some(c) if allowed => c.ty.clone(),
                    _ => {
                        let diag = Diagnostic::error(
                            codes::UNKNOWN_COLUMN,
                            field.span,
                            format!("dimension `{d}` has no key or attribute `{}`", field.text),
                        )
                        .with_span_label("unknown attribute");
                        let names: Vec<&str> = dim
                            .key
                            .iter()
                            .chain(&dim.attributes)
                            .map(|a| a.text.as_str())
                            .collect();
                        let diag = suggest(diag, field, names.into_iter());
                        self.report(diag);
                        Ty::Unknown
                    }
                }
            }
            Ty::Stage(model) => {
                let model = model.clone();
                self.stage_name(&model, field);
                Ty::Bool
            }
            other => {
                let other = other.clone();
                self.mismatch(
                    field.span.to(base.span),
                    &format!("`.{}` needs a table or a dimension row", field.text),
                    &other,
                )
            }
        }
    }

    fn call(&mut self, e: &Expr, f: &Ident, args: &[Arg], scope: &Scope<'_>) -> Ty {
        let Some(def) = self.resolve(f, &[DefKind::Function], "a function") else {
            // Still check the arguments, so that their own problems are reported.
            for a in args {
                let (Arg::Positional { value, .. } | Arg::Named(NamedArg { value, .. })) = a;
                self.infer(value, scope);
            }
            return Ty::Unknown;
        };
        let ItemKind::Function(func) = def.item.kind.clone() else {
            return Ty::Unknown;
        };
        if matches!(scope, Scope::Row { .. }) {
            // What the planner can compute over one row, from the registry it plans by.
            let builtin = mj_ir::Builtin::from_name(&f.text).filter(|b| !b.in_rows());
            if let Some(b) = builtin {
                let takes: Vec<&str> = mj_ir::Builtin::of_rows().map(|b| b.name()).collect();
                self.report(
                    Diagnostic::error(
                        codes::NOT_IN_ROWS,
                        f.span,
                        format!("`{b}` cannot be computed over one row"),
                    )
                    .with_span_label("not a row function")
                    .with_help(format!(
                        "a row expression calls {}; {}",
                        takes.join(", "),
                        match b {
                            mj_ir::Builtin::Sha256
                            | mj_ir::Builtin::Md5
                            | mj_ir::Builtin::Plain => {
                                "hash personal data in an `export`"
                            }
                            _ => "use it in a tag, an AIPL stage or an audience",
                        }
                    )),
                );
            }
        }
        let is_aggregate = func.flags.iter().any(|fl| fl.text == "aggregate");
        let mut bound: Vec<Option<(Ty, Span)>> = vec![None; func.params.len()];
        let mut positional = 0;
        let mut first_table: Option<String> = None;
        for arg in args {
            match arg {
                Arg::Positional { value, filter } => {
                    let aggregate_arg = is_aggregate && positional == 0;
                    let saved = self.in_aggregate;
                    self.in_aggregate = saved || aggregate_arg;
                    let t = self.infer(value, scope);
                    self.in_aggregate = saved;
                    if aggregate_arg {
                        first_table = table_of(value, &t);
                        if let (Scope::Entity { entity }, Some(table)) = (scope, &first_table) {
                            self.linked(entity, table, value.span);
                        }
                    }
                    if let Some(filter) = filter {
                        self.where_filter(filter, first_table.as_deref(), aggregate_arg);
                    }
                    if positional < func.params.len() {
                        bound[positional] = Some((t, value.span));
                    } else {
                        self.report(
                            Diagnostic::error(
                                codes::BAD_ARGUMENTS,
                                value.span,
                                format!("`{}` takes {} argument(s)", f.text, func.params.len()),
                            )
                            .with_span_label("extra argument"),
                        );
                    }
                    positional += 1;
                }
                Arg::Named(n) => {
                    let t = self.infer(&n.value, scope);
                    match func.params.iter().position(|p| p.name.text == n.name.text) {
                        Some(i) => {
                            if let Some((_, earlier)) = &bound[i] {
                                self.report(
                                    Diagnostic::error(
                                        codes::BAD_ARGUMENTS,
                                        n.name.span,
                                        format!("`{}` is given twice to `{}`", n.name.text, f.text),
                                    )
                                    .with_span_label("given again")
                                    .with_label(*earlier, "given here"),
                                );
                            }
                            bound[i] = Some((t, n.value.span));
                        }
                        None => {
                            let d = Diagnostic::error(
                                codes::BAD_ARGUMENTS,
                                n.name.span,
                                format!("`{}` has no parameter `{}`", f.text, n.name.text),
                            )
                            .with_span_label("unknown parameter");
                            let d = suggest(
                                d,
                                &n.name,
                                func.params.iter().map(|p| p.name.text.as_str()),
                            );
                            self.report(d);
                        }
                    }
                }
            }
        }
        for (param, arg) in func.params.iter().zip(&bound) {
            match arg {
                None if !param.optional => {
                    self.report(
                        Diagnostic::error(
                            codes::BAD_ARGUMENTS,
                            e.span,
                            format!(
                                "`{}` needs the argument `{}: {}`",
                                f.text, param.name.text, param.ty.text
                            ),
                        )
                        .with_span_label("missing argument"),
                    );
                }
                Some((t, span)) if !param_accepts(&param.ty.text, t) => {
                    let message = format!(
                        "`{}` of `{}` must be {}",
                        param.name.text, f.text, param.ty.text
                    );
                    self.mismatch(*span, &message, t);
                }
                _ => {}
            }
        }
        let first = bound.first().cloned().flatten();
        if f.text == "sum"
            && let Some((Ty::Number(u), span)) = &first
            && (u.ratio || u.currency < 0 || u.count < 0)
        {
            self.report(
                        Diagnostic::error(codes::NON_ADDITIVE_SUM, *span, if u.ratio && u.currency == 0 && u.count == 0 {
                            "cannot add up a ratio".to_string()
                        } else {
                            format!("cannot add up a ratio: the unit is {u}")
                        })
                            .with_span_label("not additive")
                            .with_help("sum the numerator and the denominator separately and divide them in a composite metric"),
                    );
        }
        match func.returns.text.as_str() {
            "T" => match first {
                Some((t, _)) if t.is_value() => t,
                _ => Ty::Unknown,
            },
            "count" => Ty::Number(Unit::count()),
            "number" => Ty::Number(Unit::none()),
            "string" => Ty::String,
            "bool" => Ty::Bool,
            "date" => Ty::Date,
            "timestamp" => Ty::Timestamp,
            "duration" => Ty::Duration,
            "distance" => Ty::Distance,
            "row" => match first {
                Some((Ty::Dimension(d), span)) => {
                    self.positioned(&d, span);
                    Ty::Row(d)
                }
                _ => Ty::Unknown,
            },
            "capture" => Ty::Capture,
            "layout" => Ty::Layout,
            "output" => Ty::Output,
            "location" => Ty::Location,
            _ => Ty::Unknown,
        }
    }

    /// `table where condition` inside an aggregate: the condition sees the table's columns.
    fn where_filter(&mut self, filter: &Expr, table: Option<&str>, aggregate_arg: bool) {
        let Some(table) = table.filter(|_| aggregate_arg) else {
            self.report(
                Diagnostic::error(
                    codes::TYPE_MISMATCH,
                    filter.span,
                    "`where` filters the table given to an aggregate",
                )
                .with_help("write `exists(source where condition, window = 15d)`"),
            );
            return;
        };
        let Some(columns) = self.table_columns(table) else {
            return;
        };
        let scope = Scope::Row {
            table,
            columns: &columns,
        };
        self.expect_bool(filter, &scope, "a `where` condition");
    }

    fn binary(&mut self, e: &Expr, op: BinaryOp, l: &Expr, r: &Expr, scope: &Scope<'_>) -> Ty {
        if op.is_comparison() {
            let ordering = matches!(
                op,
                BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge
            );
            // A stage name, segment code or tag value may stand on either side
            // (`brand == I`, `I == brand`); it is read against the other side's type.
            let value_like = matches!(l.kind, ExprKind::Name(_) | ExprKind::Str(_)) && {
                self.silent += 1;
                let lt = self.infer(l, scope);
                self.silent -= 1;
                matches!(lt, Ty::Unknown | Ty::String)
            };
            let (lt, rt) = if value_like {
                let rt = self.infer(r, scope);
                if matches!(rt, Ty::Stage(_) | Ty::Segment(_) | Ty::Enum(_)) {
                    self.expect_like(&rt, l, scope);
                    self.unordered(r, op, ordering, &rt);
                    return Ty::Bool;
                }
                (self.infer(l, scope), rt)
            } else {
                let lt = self.infer(l, scope);
                if matches!(lt, Ty::Stage(_) | Ty::Segment(_) | Ty::Enum(_)) {
                    self.expect_like(&lt, r, scope);
                    self.unordered(l, op, ordering, &lt);
                    return Ty::Bool;
                }
                (lt, self.infer(r, scope))
            };
            if lt.is_unknown() || rt.is_unknown() || lt == Ty::Null || rt == Ty::Null {
                return Ty::Bool;
            }
            if !compatible(&lt, &rt) {
                self.incompatible(e, op, &lt, &rt);
            } else {
                self.unordered(l, op, ordering, &lt);
            }
            return Ty::Bool;
        }
        let lt = self.infer(l, scope);
        let rt = self.infer(r, scope);
        match op {
            BinaryOp::And | BinaryOp::Or => {
                for (t, x) in [(&lt, l), (&rt, r)] {
                    if !matches!(t, Ty::Bool | Ty::Unknown) {
                        self.mismatch(x.span, &format!("`{}` needs conditions", op.symbol()), t);
                    }
                }
                Ty::Bool
            }
            BinaryOp::Coalesce => {
                if lt.is_unknown() || lt == Ty::Null {
                    return rt;
                }
                if let Ty::Enum(_) = &lt {
                    self.expect_like(&lt, r, scope);
                    return lt;
                }
                if !rt.is_unknown() && !compatible(&lt, &rt) {
                    self.incompatible(e, op, &lt, &rt);
                }
                lt
            }
            _ => {
                if lt.is_unknown() || rt.is_unknown() {
                    return Ty::Unknown;
                }
                match (&lt, &rt) {
                    (Ty::Number(a), Ty::Number(b)) => match op {
                        BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mod => {
                            if a.is_none() {
                                Ty::Number(b.clone())
                            } else if b.is_none() || a.compatible(b) {
                                Ty::Number(a.clone())
                            } else {
                                self.incompatible(e, op, &lt, &rt);
                                Ty::Unknown
                            }
                        }
                        BinaryOp::Mul => Ty::Number(a.mul(b)),
                        _ => Ty::Number(if b.is_none() { a.clone() } else { a.div(b) }),
                    },
                    (Ty::Duration, Ty::Duration)
                    | (Ty::Distance, Ty::Distance)
                    | (Ty::Angle, Ty::Angle)
                        if matches!(op, BinaryOp::Add | BinaryOp::Sub) =>
                    {
                        lt
                    }
                    (Ty::Duration | Ty::Distance | Ty::Angle, Ty::Number(u))
                        if u.is_none() && matches!(op, BinaryOp::Mul | BinaryOp::Div) =>
                    {
                        lt
                    }
                    _ => {
                        self.incompatible(e, op, &lt, &rt);
                        Ty::Unknown
                    }
                }
            }
        }
    }

    /// An aggregate per entity reads rows that carry the entity's id: a source the
    /// OneID links, or a fact declared with that `entity` (or over a linked source).
    fn linked(&mut self, entity: &str, table: &str, span: Span) {
        let Some(ItemKind::OneId(o)) = self.def(entity).map(|d| &d.item.kind) else {
            return;
        };
        let links: Vec<String> = o.links.iter().map(|l| l.source.text.clone()).collect();
        let ok = match self.def(table).map(|d| &d.item.kind) {
            Some(ItemKind::Source(_)) => links.iter().any(|l| l == table),
            Some(ItemKind::Fact(f)) => {
                f.entity.as_ref().is_some_and(|e| e.text == entity)
                    || links.contains(&f.source.text)
            }
            _ => true,
        };
        if !ok {
            self.report(
                Diagnostic::error(
                    codes::NOT_LINKED,
                    span,
                    format!(
                        "rows of `{table}` carry no `{entity}` id: the OneID does not link them"
                    ),
                )
                .with_span_label("not linked")
                .with_help(format!(
                    "add `link {table} (…)` to `oneid {entity}`, or `entity {entity}` to the fact"
                )),
            );
        }
    }

    /// `<`, `<=`, `>`, `>=` need ordered values. AIPL stages are ordered A < I < P < L;
    /// conditions, RFM segments and tag values are not.
    fn unordered(&mut self, x: &Expr, op: BinaryOp, ordering: bool, t: &Ty) {
        if ordering && matches!(t, Ty::Bool | Ty::Segment(_) | Ty::Enum(_)) {
            self.mismatch(
                x.span,
                &format!("`{}` needs ordered values", op.symbol()),
                t,
            );
        }
    }

    fn incompatible(&mut self, e: &Expr, op: BinaryOp, lt: &Ty, rt: &Ty) {
        let (code, what) = match (lt, rt) {
            (Ty::Number(_), Ty::Number(_)) => (codes::INCOMPATIBLE_UNITS, "units"),
            _ => (codes::TYPE_MISMATCH, "types"),
        };
        self.report(
            Diagnostic::error(
                code,
                e.span,
                format!(
                    "`{}` between incompatible {what}: {lt} and {rt}",
                    op.symbol()
                ),
            )
            .with_span_label(format!("{lt} {} {rt}", op.symbol())),
        );
    }

    /// Checks `e` against a value of type `t`: stage names for AIPL models, segment
    /// codes for RFM models, declared values for enum tags.
    pub fn expect_like(&mut self, t: &Ty, e: &Expr, scope: &Scope<'_>) {
        match (t, &e.kind) {
            (Ty::Stage(model), ExprKind::Name(id)) => {
                let model = model.clone();
                self.stage_name(&model, id);
            }
            (Ty::Stage(model), _) => {
                let model = model.clone();
                self.report(
                    Diagnostic::error(
                        codes::UNKNOWN_STAGE,
                        e.span,
                        format!("compare the AIPL model `{model}` with a stage name"),
                    )
                    .with_span_label("not a stage name")
                    .with_help("write `brand == I`, with one of the model's stages A, I, P, L"),
                );
            }
            (Ty::Segment(model), ExprKind::Name(id)) => {
                let model = model.clone();
                self.segment_code(&model, id);
            }
            (Ty::Segment(model), _) => {
                let model = model.clone();
                self.report(
                    Diagnostic::error(
                        codes::RFM_INVALID,
                        e.span,
                        format!("compare the RFM model `{model}` with a segment code such as HHH"),
                    )
                    .with_span_label("not a segment code"),
                );
            }
            (Ty::Enum(tag), ExprKind::Str(value)) => {
                let tag = tag.clone();
                self.tag_value(&tag, value, e.span);
            }
            _ => {
                let rt = self.infer(e, scope);
                if !rt.is_unknown() && rt != Ty::Null && !compatible(t, &rt) {
                    self.mismatch(e.span, &format!("expected {t}"), &rt);
                }
            }
        }
    }

    fn stage_name(&mut self, model: &str, id: &Ident) {
        let Some(def) = self.def(model) else { return };
        let ItemKind::Aipl(a) = &def.item.kind else {
            return;
        };
        let stages: Vec<String> = a.stages.iter().map(|s| s.name.text.clone()).collect();
        if !stages.contains(&id.text) {
            let d = Diagnostic::error(
                codes::UNKNOWN_STAGE,
                id.span,
                format!("`{}` is not a stage of `{model}`", id.text),
            )
            .with_span_label(format!("stages: {}", stages.join(", ")));
            let d = suggest(d, id, stages.iter().map(String::as_str));
            self.report(d);
        }
    }

    fn segment_code(&mut self, model: &str, id: &Ident) {
        let Some(def) = self.def(model) else { return };
        let ItemKind::Rfm(r) = &def.item.kind else {
            return;
        };
        let codes_: Vec<String> = if r.segments.is_empty() {
            crate::assets::DEFAULT_SEGMENTS
                .iter()
                .map(|(c, _)| (*c).to_string())
                .collect()
        } else {
            r.segments.iter().map(|s| s.code.text.clone()).collect()
        };
        if !codes_.contains(&id.text) {
            let d = Diagnostic::error(
                codes::RFM_INVALID,
                id.span,
                format!("`{}` is not a segment of `{model}`", id.text),
            )
            .with_span_label("unknown segment");
            let d = suggest(d, id, codes_.iter().map(String::as_str));
            self.report(d);
        }
    }

    pub fn tag_value(&mut self, tag: &str, value: &str, span: Span) {
        let Some(def) = self.def(tag) else { return };
        let ItemKind::Tag(t) = &def.item.kind else {
            return;
        };
        if t.values.is_empty() || t.values.iter().any(|v| v.value == value) {
            return;
        }
        let values: Vec<&str> = t.values.iter().map(|v| v.value.as_str()).collect();
        let mut d = Diagnostic::error(
            codes::UNKNOWN_TAG_VALUE,
            span,
            format!("\"{value}\" is not a value of the tag `{tag}`"),
        )
        .with_span_label(format!("values: {}", values.join(", ")));
        if let Some(best) = closest(value, values.iter().copied()) {
            d = d
                .with_help(format!("did you mean \"{best}\"?"))
                .with_replacement(
                    format!("replace with \"{best}\""),
                    span,
                    mj_lang::format::quote(best),
                );
        }
        self.report(d);
    }
}

fn quantity_type(q: &Quantity) -> Ty {
    match q.unit {
        QuantityUnit::Weeks
        | QuantityUnit::Days
        | QuantityUnit::Hours
        | QuantityUnit::Minutes
        | QuantityUnit::Seconds
        | QuantityUnit::Millis => Ty::Duration,
        QuantityUnit::Kilometres | QuantityUnit::Metres => Ty::Distance,
        QuantityUnit::Degrees => Ty::Angle,
        QuantityUnit::Cny => Ty::Number(Unit::currency(Some("CNY".into()))),
    }
}

/// The table an aggregate's argument ranges over: `t` or `t.column`.
fn table_of(e: &Expr, t: &Ty) -> Option<String> {
    if let Ty::Table(name) = t {
        return Some(name.clone());
    }
    if let ExprKind::Field(base, _) = &e.kind
        && let ExprKind::Name(n) = &base.kind
    {
        return Some(n.text.clone());
    }
    None
}

/// Whether two types can be compared or combined (literals without unit fit any unit).
pub(crate) fn compatible(a: &Ty, b: &Ty) -> bool {
    match (a, b) {
        (Ty::Unknown, _) | (_, Ty::Unknown) | (Ty::Null, _) | (_, Ty::Null) => true,
        (Ty::Number(x), Ty::Number(y)) => x.is_none() || y.is_none() || x.compatible(y),
        (Ty::String | Ty::Enum(_), Ty::String | Ty::Enum(_)) => true,
        (Ty::Date | Ty::Timestamp, Ty::Date | Ty::Timestamp) => true,
        (a, b) => a == b,
    }
}

impl Cx<'_> {
    /// `nearest(d)` finds rows by position: the dimension needs `lat` and `lon`.
    fn positioned(&mut self, dimension: &str, span: Span) {
        let Some(def) = self.def(dimension) else {
            return;
        };
        let ItemKind::Dimension(d) = &def.item.kind else {
            return;
        };
        let missing: Vec<&str> = ["lat", "lon"]
            .into_iter()
            .filter(|a| !d.attributes.iter().any(|x| x.text == *a))
            .collect();
        if missing.is_empty() {
            return;
        }
        self.report(
            Diagnostic::error(
                codes::UNKNOWN_COLUMN,
                span,
                format!(
                    "`{dimension}` has no {} attribute: `nearest` finds its rows by position",
                    missing
                        .iter()
                        .map(|m| format!("`{m}`"))
                        .collect::<Vec<_>>()
                        .join(" or ")
                ),
            )
            .with_span_label("rows without a position")
            .with_help(format!(
                "add {} to `attributes {{ }}` of `dimension {dimension}` (latitude and longitude in degrees)",
                missing.join(" and ")
            )),
        );
    }
}

fn param_accepts(param: &str, t: &Ty) -> bool {
    if matches!(t, Ty::Unknown | Ty::Null) {
        return true;
    }
    match param {
        "any" => !matches!(t, Ty::Capture | Ty::Layout | Ty::Output | Ty::Location),
        "number" => matches!(t, Ty::Number(_)),
        "string" => t.is_stringlike(),
        "bool" => *t == Ty::Bool,
        "timestamp" | "date" => matches!(t, Ty::Timestamp | Ty::Date),
        "duration" => *t == Ty::Duration,
        "distance" => *t == Ty::Distance,
        "angle" => *t == Ty::Angle,
        "location" => matches!(t, Ty::Row(_) | Ty::Location),
        "dimension" => matches!(t, Ty::Dimension(_)),
        _ => true,
    }
}

/// "a" or "an" before a type's name, for messages.
fn article(t: &Ty) -> &'static str {
    match t.to_string().chars().next() {
        Some('a' | 'e' | 'i' | 'o' | 'u' | 'A' | 'R') => "an",
        _ => "a",
    }
}
