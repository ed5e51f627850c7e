//! Expressions of assets lowered over the features table: each aggregate over a
//! table's rows becomes a feature column, names are inlined, models' stages read.

use super::*;
use mj_ir::Aggregate;

pub(crate) struct Lowering<'a> {
    pub(crate) model: &'a crate::model::Model,
    pub(crate) sources: &'a [SourceJob],
    pub(crate) entity: &'a str,
    pub(crate) features: FeaturesJob,
    /// Tags being inlined, against cycles (reported by the checker).
    pub(crate) stack: Vec<String>,
    /// AIPL and RFM models whose stage or segment an expression reads.
    pub(crate) models: Vec<String>,
    pub(crate) segments: Vec<String>,
    /// Dimensions whose nearest row an expression reads.
    pub(crate) near: Vec<NearUse>,
    /// The row sets `qualifying_rows` read last (a stage's touches).
    pub(crate) touches: Vec<TouchRows>,
}

impl<'a> Lowering<'a> {
    pub(crate) fn item(&self, name: &str) -> Option<&'a ItemKind> {
        self.model.item(name)
    }

    /// The expression over the features table's columns, in the IR.
    pub(crate) fn lower(&mut self, e: &Expr) -> mj_ir::Expr {
        crate::to_ir::expr(&self.rewrite(e))
    }

    /// The expression over the features table's columns.
    pub(crate) fn rewrite(&mut self, e: &Expr) -> Expr {
        let span = e.span;
        let name = |text: String| Expr {
            kind: ExprKind::Name(Ident { text, span }),
            span,
        };
        let kind = match &e.kind {
            // `distance(nearest(store))`: the nearest row's distance in km.
            ExprKind::Call(f, args) if f.text == "distance" => match near_of(args) {
                Some(d) => {
                    self.nearest(&d, None);
                    return name(format!("__near_{d}_km"));
                }
                None => e.kind.clone(),
            },
            // `nearest(store).city`: an attribute of the nearest row.
            ExprKind::Field(base, attr) if matches!(&base.kind, ExprKind::Call(f, _) if f.text == "nearest") =>
            {
                let ExprKind::Call(_, args) = &base.kind else {
                    unreachable!("matched above")
                };
                match args.first() {
                    Some(Arg::Positional { value, .. }) => match &value.kind {
                        ExprKind::Name(d) => {
                            let column = self.nearest(&d.text, Some(&attr.text));
                            return name(column);
                        }
                        _ => e.kind.clone(),
                    },
                    _ => e.kind.clone(),
                }
            }
            // `brand.P`: the model's stage is P.
            ExprKind::Field(base, stage) if self.model_column(base).is_some() => {
                let column = self.model_column(base).unwrap_or_default();
                ExprKind::Binary(
                    BinaryOp::Eq,
                    Box::new(name(column)),
                    Box::new(Expr {
                        kind: ExprKind::Str(stage.text.clone()),
                        span: stage.span,
                    }),
                )
            }
            // `brand == I`, `value in (HHH, LHH)`: stage and segment names as text.
            ExprKind::Binary(op, l, r)
                if self.model_column(l).is_some() || self.model_column(r).is_some() =>
            {
                ExprKind::Binary(*op, Box::new(self.label(l)), Box::new(self.label(r)))
            }
            ExprKind::In {
                expr,
                list,
                negated,
            } if self.model_column(expr).is_some() => ExprKind::In {
                expr: Box::new(self.rewrite(expr)),
                list: list.iter().map(|x| self.label(x)).collect(),
                negated: *negated,
            },
            ExprKind::Name(n) if self.model_column(e).is_some() => {
                let _ = n;
                return name(self.model_column(e).unwrap_or_default());
            }
            ExprKind::Name(n)
                if matches!(self.item(&n.text), Some(ItemKind::Audience(_)))
                    && !self.stack.contains(&n.text) =>
            {
                let Some(ItemKind::Audience(a)) = self.item(&n.text).cloned() else {
                    unreachable!("matched above")
                };
                self.stack.push(n.text.clone());
                let inlined = self.rewrite(&a.expr);
                self.stack.pop();
                return inlined;
            }
            ExprKind::Quantity(q) if kilometres(q).is_some() => {
                ExprKind::Number(kilometres(q).unwrap_or_default())
            }
            ExprKind::Call(f, args) if self.is_aggregate(&f.text) => {
                match self.feature(&f.text, args) {
                    Some(column) => ExprKind::Name(Ident {
                        text: column,
                        span: f.span,
                    }),
                    None => e.kind.clone(),
                }
            }
            ExprKind::Name(n) => match self.item(&n.text) {
                Some(ItemKind::Tag(t)) if !self.stack.contains(&n.text) => {
                    let t = t.clone();
                    self.stack.push(n.text.clone());
                    let inlined = self.rewrite(&t.expr);
                    self.stack.pop();
                    return inlined;
                }
                Some(ItemKind::Derived(_) | ItemKind::Composite(_)) => {
                    self.metric(&n.text);
                    e.kind.clone()
                }
                _ => e.kind.clone(),
            },
            ExprKind::Call(f, args) => ExprKind::Call(
                f.clone(),
                args.iter()
                    .map(|a| match a {
                        Arg::Positional { value, filter } => Arg::Positional {
                            value: self.rewrite(value),
                            filter: filter.clone(),
                        },
                        Arg::Named(n) => {
                            let mut n = n.clone();
                            n.value = self.rewrite(&n.value);
                            Arg::Named(n)
                        }
                    })
                    .collect(),
            ),
            ExprKind::Unary(op, x) => ExprKind::Unary(*op, Box::new(self.rewrite(x))),
            ExprKind::Binary(op, l, r) => {
                ExprKind::Binary(*op, Box::new(self.rewrite(l)), Box::new(self.rewrite(r)))
            }
            ExprKind::In {
                expr,
                list,
                negated,
            } => ExprKind::In {
                expr: Box::new(self.rewrite(expr)),
                list: list.iter().map(|x| self.rewrite(x)).collect(),
                negated: *negated,
            },
            ExprKind::Case { arms, otherwise } => ExprKind::Case {
                arms: arms
                    .iter()
                    .map(|a| mj_lang::ast::CaseArm {
                        condition: self.rewrite(&a.condition),
                        value: self.rewrite(&a.value),
                        span: a.span,
                    })
                    .collect(),
                otherwise: otherwise.as_ref().map(|o| Box::new(self.rewrite(o))),
            },
            _ => e.kind.clone(),
        };
        Expr { kind, span }
    }

    /// An identifier of the entity's OneID named in an export (`phone`): its value,
    /// that of the entity's most recent record with one in the first linked source that
    /// has one, and the identifier's normalizer.
    pub(crate) fn identifier_value(&mut self, e: &Expr) -> Option<(Expr, Option<String>)> {
        let ExprKind::Name(n) = &e.kind else {
            return None;
        };
        let oneid = self.model.items().iter().find_map(|i| match &i.kind {
            ItemKind::OneId(o) if o.header.name.text == self.entity => Some(o),
            _ => None,
        })?;
        let id = oneid.identifiers.iter().find(|i| i.name.text == n.text)?;
        let normalize = id.normalize.as_ref().map(|x| x.text.clone());
        let mut parts: Vec<Expr> = Vec::new();
        for link in &oneid.links {
            for f in link.fields.iter().filter(|f| f.identifier.text == n.text) {
                let [column] = f.parts() else { continue };
                let call = Expr {
                    kind: ExprKind::Call(
                        Ident {
                            text: "latest".to_string(),
                            span: e.span,
                        },
                        vec![Arg::Positional {
                            value: Expr {
                                kind: ExprKind::Field(
                                    Box::new(Expr {
                                        kind: ExprKind::Name(link.source.clone()),
                                        span: e.span,
                                    }),
                                    column.clone(),
                                ),
                                span: e.span,
                            },
                            filter: None,
                        }],
                    ),
                    span: e.span,
                };
                parts.push(call);
            }
        }
        let value = parts.into_iter().rev().reduce(|acc, x| Expr {
            span: e.span,
            kind: ExprKind::Binary(BinaryOp::Coalesce, Box::new(x), Box::new(acc)),
        })?;
        Some((self.rewrite(&value), normalize))
    }

    /// The column of an AIPL model's stage or an RFM model's segment that `e` names.
    pub(crate) fn model_column(&mut self, e: &Expr) -> Option<String> {
        let ExprKind::Name(n) = &e.kind else {
            return None;
        };
        match self.item(&n.text)? {
            ItemKind::Aipl(_) => {
                if !self.models.contains(&n.text) {
                    self.models.push(n.text.clone());
                }
                Some(format!("__aipl_{}", n.text))
            }
            ItemKind::Rfm(_) => {
                if !self.segments.contains(&n.text) {
                    self.segments.push(n.text.clone());
                }
                Some(format!("__rfm_{}", n.text))
            }
            _ => None,
        }
    }

    /// A side of a comparison with a model: a stage or segment name as text.
    pub(crate) fn label(&mut self, e: &Expr) -> Expr {
        match &e.kind {
            ExprKind::Name(n) if self.item(&n.text).is_none() => Expr {
                kind: ExprKind::Str(n.text.clone()),
                span: e.span,
            },
            _ => self.rewrite(e),
        }
    }

    /// Notes that the nearest row of `dimension` is read (and `attribute` of it): the
    /// column that holds it.
    pub(crate) fn nearest(&mut self, dimension: &str, attribute: Option<&str>) -> String {
        let key = match self.item(dimension) {
            Some(ItemKind::Dimension(d)) => d.key.as_ref().map(|k| k.text.clone()),
            _ => None,
        }
        .unwrap_or_default();
        let entry = match self.near.iter().position(|u| u.dimension == dimension) {
            Some(i) => i,
            None => {
                self.near.push(NearUse {
                    dimension: dimension.to_string(),
                    key: key.clone(),
                    attributes: Vec::new(),
                });
                self.near.len() - 1
            }
        };
        match attribute {
            None => format!("__near_{dimension}_km"),
            Some(a) if a == key => format!("__near_{dimension}"),
            Some(a) => {
                let u = &mut self.near[entry];
                if !u.attributes.iter().any(|x| x == a) {
                    u.attributes.push(a.to_string());
                }
                format!("__near_{dimension}_{a}")
            }
        }
    }

    /// The features that locate an entity for `dimension`, and the job that finds its
    /// nearest row.
    pub(crate) fn near_job(&mut self, dimension: &str) -> Option<NearJob> {
        let Some(ItemKind::Dimension(d)) = self.item(dimension).cloned() else {
            return None;
        };
        let key = d.key.as_ref()?.text.clone();
        let has_city = d.attributes.iter().any(|a| a.text == "city");
        let column = |text: &str| mj_ir::Expr::column(text);
        let links: Vec<String> = self
            .model
            .items()
            .iter()
            .find_map(|i| match &i.kind {
                ItemKind::OneId(o) if o.header.name.text == self.entity => {
                    Some(o.links.iter().map(|l| l.source.text.clone()).collect())
                }
                _ => None,
            })
            .unwrap_or_default();
        let agg = |func: Aggregate, arg: mj_ir::Expr, present: Vec<mj_ir::Expr>| FeatureAgg {
            column: String::new(),
            func,
            arg: Some(arg),
            filter: None,
            window_days: None,
            period: None,
            present,
        };
        let mut job = NearJob {
            entity: self.entity.to_string(),
            dimension: dimension.to_string(),
            key,
            has_city,
            points: Vec::new(),
            visits: Vec::new(),
            cities: Vec::new(),
        };
        for source in &links {
            let Some(spec) = self.table(source) else {
                continue;
            };
            let columns: Vec<(String, ColType)> = self
                .sources
                .iter()
                .find(|s| &s.name == source)
                .map(|s| s.columns.iter().map(|c| (c.name.clone(), c.ty)).collect())
                .unwrap_or_default();
            let number = |name: &str| {
                columns.iter().any(|(c, ty)| {
                    c == name && matches!(ty, ColType::Float | ColType::Double | ColType::Int)
                })
            };
            if number("lat") && number("lon") {
                let both = vec![column("lat"), column("lon")];
                let lat = self.push_feature(
                    spec.clone(),
                    source,
                    agg(Aggregate::Latest, column("lat"), both.clone()),
                );
                let lon = self.push_feature(
                    spec.clone(),
                    source,
                    agg(Aggregate::Latest, column("lon"), both.clone()),
                );
                let time = spec.time.clone().map(|(t, _)| {
                    self.push_feature(
                        spec.clone(),
                        source,
                        agg(Aggregate::Max, column(&t), both.clone()),
                    )
                });
                job.points.push((source.clone(), lat, lon, time));
            }
            if has_city && columns.iter().any(|(c, _)| c == "city") {
                let city = self.push_feature(
                    spec.clone(),
                    source,
                    agg(Aggregate::Latest, column("city"), Vec::new()),
                );
                job.cities.push(city);
            }
        }
        let facts: Vec<String> = self
            .model
            .items()
            .iter()
            .filter_map(|i| match &i.kind {
                ItemKind::Fact(f)
                    if f.entity.as_ref().is_some_and(|e| e.text == self.entity)
                        && f.dims.iter().any(|b| b.name.text == dimension) =>
                {
                    Some(f.header.name.text.clone())
                }
                _ => None,
            })
            .collect();
        for fact in facts {
            let Some(spec) = self.table(&fact) else {
                continue;
            };
            let visit = self.push_feature(
                spec.clone(),
                &fact,
                agg(Aggregate::Latest, column(dimension), Vec::new()),
            );
            let time = spec.time.clone().map(|(t, _)| {
                self.push_feature(
                    spec.clone(),
                    &fact,
                    agg(Aggregate::Max, column(&t), vec![column(dimension)]),
                )
            });
            job.visits.push((fact.clone(), visit, time));
        }
        Some(job)
    }

    pub(crate) fn is_aggregate(&self, name: &str) -> bool {
        matches!(
            self.item(name),
            Some(ItemKind::Function(f)) if f.flags.iter().any(|x| x.text == "aggregate")
        )
    }

    /// Notes a metric per the entity: a column of `dws_<entity>`.
    pub(crate) fn metric(&mut self, name: &str) {
        let table = format!("dws_{}", self.entity);
        let (_, names) = self
            .features
            .metrics
            .get_or_insert_with(|| (table, Vec::new()));
        if !names.iter().any(|n| n == name) {
            names.push(name.to_string());
        }
    }

    /// The feature column of an aggregate call, added to its table's aggregates.
    pub(crate) fn feature(&mut self, func: &str, args: &[Arg]) -> Option<String> {
        let (table, arg, filter, window_days) = aggregate_parts(args)?;
        let spec = self.table(&table)?;
        let agg = FeatureAgg {
            column: String::new(),
            func: Aggregate::from_name(func)?,
            arg,
            filter,
            window_days,
            period: None,
            present: Vec::new(),
        };
        Some(self.push_feature(spec, &table, agg))
    }

    /// Adds an aggregate to its table's, or finds the same one there: its column.
    pub(crate) fn push_feature(
        &mut self,
        spec: FeatureTable,
        table: &str,
        agg: FeatureAgg,
    ) -> String {
        let index = match self
            .features
            .tables
            .iter()
            .position(|t| t.node == spec.node)
        {
            Some(i) => i,
            None => {
                self.features.tables.push(spec);
                self.features.tables.len() - 1
            }
        };
        let t = &mut self.features.tables[index];
        // The same aggregate written twice is one column.
        if let Some(existing) = t.aggregates.iter().find(|a| same(a, &agg)) {
            return existing.column.clone();
        }
        let func = &agg.func;
        let base = match &agg.arg {
            Some(mj_ir::Expr::Column(c)) => format!("{func}_{table}_{c}"),
            _ => format!("{func}_{table}"),
        };
        let taken = |name: &str, tables: &[FeatureTable]| {
            tables
                .iter()
                .flat_map(|t| &t.aggregates)
                .any(|a| a.column == name)
        };
        let mut column = base.clone();
        let mut n = 2;
        while taken(&column, &self.features.tables) {
            column = format!("{base}_{n}");
            n += 1;
        }
        let agg = FeatureAgg {
            column: column.clone(),
            ..agg
        };
        self.features.tables[index].aggregates.push(agg);
        column
    }

    /// What can qualify a stage of `model` for its breakdown `by`: per condition
    /// through which the stage can hold, the rows it reads, each as the time of the
    /// most recent row and that row's value of `by`.
    pub(crate) fn qualifiers(
        &mut self,
        model: &mj_lang::ast::Aipl,
        by: &str,
        stage: &Expr,
    ) -> Vec<Qualifier> {
        let project = self.model;
        let lookup = move |name: &str| project.item(name);
        let mut conditions = Vec::new();
        positive_conditions(stage, true, &mut conditions);
        let mut out = Vec::new();
        for c in conditions {
            let condition = self.lower(c);
            let mut read = Vec::new();
            reads(c, &lookup, None, &mut Vec::new(), &mut read);
            for r in read {
                if let Some((time, value)) = self.qualifying_rows(model, by, &r) {
                    out.push(Qualifier {
                        condition: condition.clone(),
                        time,
                        value,
                    });
                }
            }
        }
        out
    }

    /// The features of one read's rows: the time of the most recent row and its value
    /// of `by` (a column of that name, or the model's `by of TABLE = …`).
    pub(crate) fn qualifying_rows(
        &mut self,
        model: &mj_lang::ast::Aipl,
        by: &str,
        read: &Read<'_>,
    ) -> Option<(Option<String>, String)> {
        let (table, value_of_row, filter, window_days, period) = match read {
            Read::Aggregate { func, args, .. } => {
                let (table, arg, filter, window_days) = aggregate_parts(args)?;
                let counted = (!matches!(*func, "exists" | "count")).then_some(arg);
                (table, counted.flatten(), filter, window_days, None)
            }
            Read::Metric { derived, .. } => {
                let (fact, metric) = self.model.metric(&derived.header.name.text).cloned()?;
                let counted = (metric.aggregate != mj_ir::Aggregate::Count)
                    .then_some(metric.arg)
                    .flatten();
                let filter = metric.filters.into_iter().reduce(|l, r| {
                    mj_ir::Expr::Binary(mj_ir::expr::BinaryOp::And, Box::new(l), Box::new(r))
                });
                (fact, counted, filter, None, Some(metric.period))
            }
        };
        let spec = self.table(&table)?;
        let value = model
            .breakdowns
            .iter()
            .find(|b| b.by.text == by && b.table.text == table)
            .map(|b| crate::to_ir::expr(&b.expr))
            .unwrap_or_else(|| mj_ir::Expr::column(by));
        let mut present = vec![value.clone()];
        present.extend(value_of_row);
        let time = spec.time.clone();
        let time_column = match time {
            Some((t, _)) => {
                let agg = FeatureAgg {
                    column: String::new(),
                    func: Aggregate::Max,
                    arg: Some(mj_ir::Expr::Column(t)),
                    filter: filter.clone(),
                    window_days,
                    period: period.clone(),
                    present: present.clone(),
                };
                Some(self.push_feature(spec.clone(), &table, agg))
            }
            None => None,
        };
        let agg = FeatureAgg {
            column: String::new(),
            func: Aggregate::Latest,
            arg: Some(value),
            filter,
            window_days,
            period,
            present,
        };
        let touch = TouchRows {
            table: spec.clone(),
            rows: FeatureAgg {
                column: String::new(),
                ..agg.clone()
            },
        };
        if !self
            .touches
            .iter()
            .any(|t| t.table.node == touch.table.node && same(&t.rows, &touch.rows))
        {
            self.touches.push(touch);
        }
        let value_column = self.push_feature(spec, &table, agg);
        Some((time_column, value_column))
    }

    /// How the rows of a fact or source reach the entity.
    pub(crate) fn table(&self, name: &str) -> Option<FeatureTable> {
        match self.item(name)? {
            ItemKind::Fact(f) => {
                let source = self.sources.iter().find(|s| s.name == f.source.text)?;
                let time = f.time.as_ref().map(|t| {
                    let is_date = source
                        .columns
                        .iter()
                        .any(|c| c.name == t.text && c.ty == ColType::Date);
                    (t.text.clone(), is_date)
                });
                Some(FeatureTable {
                    node: mj_ir::Table::new("dwd", name),
                    entity_column: f.entity.as_ref().map(|e| e.text.clone()),
                    // Ties in time are decided by the grain's first column.
                    key: f.grain.first().map(|g| g.text.clone()),
                    source: f.source.text.clone(),
                    time,
                    aggregates: Vec::new(),
                })
            }
            ItemKind::Source(_) => {
                let source = self.sources.iter().find(|s| s.name == name)?;
                let first = |ty: ColType| source.columns.iter().find(|c| c.ty == ty);
                let time = first(ColType::Timestamp)
                    .map(|c| (c.name.clone(), false))
                    .or_else(|| first(ColType::Date).map(|c| (c.name.clone(), true)));
                Some(FeatureTable {
                    node: mj_ir::Table::new("ods", name),
                    entity_column: None,
                    key: source.key.clone(),
                    source: name.to_string(),
                    time,
                    aggregates: Vec::new(),
                })
            }
            _ => None,
        }
    }
}

/// The same aggregate, whatever its column: IR expressions carry no spans, so equal
/// means the same meaning as written.
pub(crate) fn same(a: &FeatureAgg, b: &FeatureAgg) -> bool {
    a.func == b.func
        && a.arg == b.arg
        && a.filter == b.filter
        && a.window_days == b.window_days
        && a.period == b.period
        && a.present == b.present
}

/// An aggregate call's table, value (a column of it), `where` and `window`.
#[allow(clippy::type_complexity)]
pub(crate) fn aggregate_parts(
    args: &[Arg],
) -> Option<(
    String,
    Option<mj_ir::Expr>,
    Option<mj_ir::Expr>,
    Option<i64>,
)> {
    let mut value = None;
    let mut filter = None;
    let mut window_days = None;
    for a in args {
        match a {
            Arg::Positional {
                value: v,
                filter: f,
            } if value.is_none() => {
                value = Some(v);
                filter = f.as_ref().map(crate::to_ir::expr);
            }
            Arg::Named(n) if n.name.text == "window" => window_days = days(&n.value),
            _ => {}
        }
    }
    let (table, arg) = match &value?.kind {
        ExprKind::Field(base, column) => match &base.kind {
            ExprKind::Name(t) => (t.text.clone(), Some(mj_ir::Expr::column(&column.text))),
            _ => return None,
        },
        ExprKind::Name(t) => (t.text.clone(), None),
        _ => return None,
    };
    Some((table, arg, filter, window_days))
}

/// The conditions joined by `and` at the top of `e`, in order.
pub(crate) fn conjuncts<'a>(e: &'a Expr, out: &mut Vec<&'a Expr>) {
    match &e.kind {
        ExprKind::Binary(BinaryOp::And, l, r) => {
            conjuncts(l, out);
            conjuncts(r, out);
        }
        _ => out.push(e),
    }
}

/// An exported expression without its `sha256(…)`, `md5(…)` or `plain(…)`: the value,
/// the hash and its salt.
pub(crate) fn hashed(e: &Expr) -> (&Expr, Option<String>, Option<String>) {
    let ExprKind::Call(f, args) = &e.kind else {
        return (e, None, None);
    };
    if !matches!(f.text.as_str(), "sha256" | "md5" | "plain") {
        return (e, None, None);
    }
    let Some(Arg::Positional { value, .. }) = args.first() else {
        return (e, None, None);
    };
    let salt = args.iter().find_map(|a| match a {
        Arg::Named(n) if n.name.text == "salt" => match &n.value.kind {
            ExprKind::Str(s) => Some(s.clone()),
            _ => None,
        },
        _ => None,
    });
    let hash = (f.text != "plain").then(|| f.text.clone());
    (value, hash, salt)
}

/// `nearest(D)` as the argument of `distance`: the dimension D.
pub(crate) fn near_of(args: &[Arg]) -> Option<String> {
    let Some(Arg::Positional { value, .. }) = args.first() else {
        return None;
    };
    let ExprKind::Call(f, inner) = &value.kind else {
        return None;
    };
    if f.text != "nearest" {
        return None;
    }
    match inner.first() {
        Some(Arg::Positional { value, .. }) => match &value.kind {
            ExprKind::Name(d) => Some(d.text.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// A distance as kilometres: `3km` → 3, `500m` → 0.5.
pub(crate) fn kilometres(q: &mj_lang::ast::Quantity) -> Option<String> {
    let n: f64 = q.value.parse().ok()?;
    let km = match q.unit {
        QuantityUnit::Kilometres => n,
        QuantityUnit::Metres => n / 1000.0,
        _ => return None,
    };
    Some(format!("{}", if q.negative { -km } else { km }))
}

/// A window as days: `15d`, `2w`.
pub(crate) fn days(e: &Expr) -> Option<i64> {
    let ExprKind::Quantity(q) = &e.kind else {
        return None;
    };
    let n: f64 = q.value.parse().ok()?;
    let per = match q.unit {
        QuantityUnit::Days => 1.0,
        QuantityUnit::Weeks => 7.0,
        _ => return None,
    };
    Some((n * per).ceil() as i64)
}
