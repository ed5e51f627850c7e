//! The features table of an entity: one row per OneID, each table's aggregates
//! computed in one pass over it, the entity's metrics joined beside them.

use super::*;
use mj_ir::Aggregate;

/// The features table of an entity for business date `date`. `oneid` is the mapping
/// `oneid_<entity>`; `tables` gives each feature table's rows by node
/// (`ods.<source>`, `dwd.<fact>`); `metrics` is `dws_<entity>`.
pub fn features(
    job: &FeaturesJob,
    oneid: Arc<dyn TableSource>,
    tables: &[(mj_ir::Table, Arc<dyn TableSource>)],
    metrics: Option<Arc<dyn TableSource>>,
    date: &str,
) -> Result<LogicalPlan, PlanError> {
    let day = chrono_day(date)?;
    let entity = job.entity.as_str();
    let mapping = format!("oneid_{entity}");
    // Every OneID of the mapping, once.
    let mut plan = LogicalPlanBuilder::scan(mapping.as_str(), oneid.clone(), None)
        .map_err(df)?
        .aggregate(
            vec![col(format!("{mapping}.oneid")).alias(entity)],
            Vec::<DfExpr>::new(),
        )
        .map_err(df)?
        .alias("spine")
        .map_err(df)?;
    let mut columns: Vec<DfExpr> = vec![col(format!("spine.\"{entity}\"")).alias(entity)];
    let mut parts: Vec<(String, LogicalPlan)> = Vec::new();
    for (i, t) in job.tables.iter().enumerate() {
        let Some((_, source)) = tables.iter().find(|(n, _)| *n == t.node) else {
            return Err(err(format!("no table for `{}`", t.node)));
        };
        let plain: Vec<&FeatureAgg> = t
            .aggregates
            .iter()
            .filter(|a| a.func != Aggregate::Top)
            .collect();
        if !plain.is_empty() {
            let alias = format!("t{i}");
            let rows = entity_rows(t, source.clone(), &oneid, &mapping, entity, day)?;
            let mut aggregates = Vec::new();
            for a in &plain {
                aggregates.push(aggregate(t, a, day)?.alias(&a.column));
            }
            let part = rows
                .aggregate(vec![col("__entity").alias("__entity")], aggregates)
                .map_err(df)?
                .alias(alias.as_str())
                .map_err(df)?
                .build()
                .map_err(df)?;
            parts.push((alias.clone(), part));
            for a in &plain {
                let c = col(format!("{alias}.\"{}\"", a.column));
                columns.push(
                    match a.func {
                        // No rows: a count is 0 and `exists` is false, not unknown.
                        Aggregate::Exists => f::coalesce(vec![c, lit(0i64)]).gt(lit(0i64)),
                        Aggregate::Count | Aggregate::CountDistinct => {
                            f::coalesce(vec![c, lit(0i64)])
                        }
                        _ => c,
                    }
                    .alias(&a.column),
                );
            }
        }
        for (k, a) in t
            .aggregates
            .iter()
            .filter(|a| a.func == Aggregate::Top)
            .enumerate()
        {
            let alias = format!("t{i}_top{k}");
            parts.push((
                alias.clone(),
                top(t, a, source.clone(), &oneid, &mapping, entity, day, &alias)?,
            ));
            columns.push(col(format!("{alias}.\"{}\"", a.column)).alias(&a.column));
        }
    }
    for (alias, part) in parts {
        plan = plan
            .join(
                part,
                JoinType::Left,
                (
                    vec![Column::new(Some("spine"), entity)],
                    vec![Column::new(Some(alias), "__entity")],
                ),
                None,
            )
            .map_err(df)?;
    }
    if let (Some((table, names)), Some(source)) = (&job.metrics, metrics) {
        let right = LogicalPlanBuilder::scan(table.as_str(), source, None)
            .map_err(df)?
            .build()
            .map_err(df)?;
        plan = plan
            .join(
                right,
                JoinType::Left,
                (
                    vec![Column::new(Some("spine"), entity)],
                    vec![Column::new(Some(table.clone()), entity)],
                ),
                None,
            )
            .map_err(df)?;
        for n in names {
            columns.push(col(format!("{table}.\"{n}\"")).alias(n));
        }
    }
    plan.project(columns)
        .map_err(df)?
        .sort(vec![col(format!("\"{entity}\"")).sort(true, true)])
        .map_err(df)?
        .build()
        .map_err(df)
}

/// A table's rows up to the business date with the entity of each row as `__entity`:
/// a fact's entity column, or the OneID of a source row (the smallest, should a key
/// carry several), joined on the source's key. Rows without an entity are left out.
pub(crate) fn entity_rows(
    t: &FeatureTable,
    source: Arc<dyn TableSource>,
    oneid: &Arc<dyn TableSource>,
    mapping: &str,
    entity: &str,
    day: i32,
) -> Result<LogicalPlanBuilder, PlanError> {
    let table = t.node.scan_name();
    let mut rows = LogicalPlanBuilder::scan(table.as_str(), source, None).map_err(df)?;
    if let Some((time, is_date)) = &t.time {
        rows = rows
            .filter(col(format!("{table}.\"{time}\"")).lt(day_literal(day + 1, *is_date)))
            .map_err(df)?;
    }
    let rows = match (&t.entity_column, &t.key) {
        (Some(c), _) => {
            let e = col(format!("{table}.\"{c}\""));
            let columns: Vec<DfExpr> = rows_columns(&rows, &table)?
                .into_iter()
                .chain(std::iter::once(e.clone().alias("__entity")))
                .collect();
            rows.filter(e.is_not_null()).map_err(df)?.project(columns)
        }
        (None, Some(key)) => {
            let ids = crate::record_ids(mapping, oneid.clone(), &t.source, "__entity")?
                .alias("ids")
                .map_err(df)?
                .build()
                .map_err(df)?;
            rows.join(
                ids,
                JoinType::Inner,
                (
                    vec![Column::new(Some(table.clone()), key.clone())],
                    vec![Column::new(Some("ids"), "record_id")],
                ),
                None,
            )
        }
        (None, None) => {
            return Err(err(format!(
                "`{}` has no key column (`not null`) to find its rows' {entity}",
                t.source
            )));
        }
    }
    .map_err(df)?;
    Ok(rows)
}

pub(crate) fn rows_columns(
    rows: &LogicalPlanBuilder,
    table: &str,
) -> Result<Vec<DfExpr>, PlanError> {
    Ok(rows
        .schema()
        .fields()
        .iter()
        .map(|f| col(format!("{table}.\"{}\"", f.name())))
        .collect())
}

/// The rows an aggregate keeps: its `where`, its window or period, the values it
/// needs present, and (but for `exists` and `count`, which count rows) a value that
/// is not null.
pub(crate) fn keep(
    t: &FeatureTable,
    a: &FeatureAgg,
    day: i32,
) -> Result<Option<DfExpr>, PlanError> {
    let table = t.node.scan_name();
    let mut conds = Vec::new();
    if let Some(w) = &a.filter {
        conds.push(qualify(row_expr(w)?, &table));
    }
    if let Some(n) = a.window_days {
        let Some((time, is_date)) = &t.time else {
            return Err(err(format!(
                "`{}` has no timestamp or date column for `window`",
                t.source
            )));
        };
        conds.push(col(format!("{table}.\"{time}\"")).gt_eq(day_literal(
            day - i32::try_from(n).unwrap_or(i32::MAX) + 1,
            *is_date,
        )));
    }
    if let Some(spec) = &a.period {
        let Some((time, is_date)) = &t.time else {
            return Err(err(format!(
                "`{}` has no timestamp or date column for a period",
                t.source
            )));
        };
        let (from, to) = crate::period_days(spec, day);
        let time = col(format!("{table}.\"{time}\""));
        if let Some(from) = from {
            conds.push(time.clone().gt_eq(day_literal(from, *is_date)));
        }
        conds.push(time.lt(day_literal(to, *is_date)));
    }
    for p in &a.present {
        conds.push(qualify(row_expr(p)?, &table).is_not_null());
    }
    if let Some(arg) = &a.arg
        && !matches!(a.func, Aggregate::Exists | Aggregate::Count)
    {
        conds.push(qualify(row_expr(arg)?, &table).is_not_null());
    }
    Ok(conds.into_iter().reduce(DfExpr::and))
}

/// One aggregate per entity, with its rows as the aggregate's filter.
pub(crate) fn aggregate(t: &FeatureTable, a: &FeatureAgg, day: i32) -> Result<DfExpr, PlanError> {
    let table = t.node.scan_name();
    let arg = match &a.arg {
        Some(x) => qualify(row_expr(x)?, &table),
        None => lit(1i64),
    };
    // Latest and first order by the rows' time, then by the key, so ties are decided
    // the same way on every run.
    let order = |asc: bool| {
        let mut by = Vec::new();
        if let Some((time, _)) = &t.time {
            by.push(col(format!("{table}.\"{time}\"")).sort(asc, !asc));
        }
        if let Some(key) = &t.key {
            by.push(col(format!("{table}.\"{key}\"")).sort(asc, !asc));
        }
        by
    };
    // DataFusion's builder sets ORDER BY, FILTER and DISTINCT together: each is given
    // to the one builder, or a FILTER added later would drop the ordering.
    // Every aggregate, named; `top` is a plan of its own (see [`top`]).
    let (call, order, distinct) = match a.func {
        Aggregate::Latest => (agg::first_value(arg, vec![]), order(false), false),
        Aggregate::First => (agg::first_value(arg, vec![]), order(true), false),
        Aggregate::Exists | Aggregate::Count => (agg::count(arg), vec![], false),
        Aggregate::CountDistinct => (agg::count(arg), vec![], true),
        Aggregate::Sum => (agg::sum(arg), vec![], false),
        Aggregate::Avg => (agg::avg(arg), vec![], false),
        Aggregate::Min => (agg::min(arg), vec![], false),
        Aggregate::Max => (agg::max(arg), vec![], false),
        Aggregate::Median => (agg::median(arg), vec![], false),
        Aggregate::Stddev => (agg::stddev(arg), vec![], false),
        Aggregate::Top => return Err(err("`top` is planned as a join of its own")),
    };
    let keep = keep(t, a, day)?;
    if order.is_empty() && keep.is_none() && !distinct {
        return Ok(call);
    }
    let mut b = call.order_by(order);
    if let Some(c) = keep {
        b = b.filter(c);
    }
    if distinct {
        b = b.distinct();
    }
    b.build().map_err(df)
}

/// `top(x)`: the most frequent value per entity; ties go to the value seen most
/// recently, then to the smallest value.
#[allow(clippy::too_many_arguments)]
pub(crate) fn top(
    t: &FeatureTable,
    a: &FeatureAgg,
    source: Arc<dyn TableSource>,
    oneid: &Arc<dyn TableSource>,
    mapping: &str,
    entity: &str,
    day: i32,
    alias: &str,
) -> Result<LogicalPlan, PlanError> {
    let table = t.node.scan_name();
    let Some(arg) = &a.arg else {
        return Err(err("`top` needs a column"));
    };
    let mut rows = entity_rows(t, source, oneid, mapping, entity, day)?;
    if let Some(c) = keep(t, a, day)? {
        rows = rows.filter(c).map_err(df)?;
    }
    let last = match &t.time {
        Some((time, _)) => agg::max(col(format!("{table}.\"{time}\""))),
        None => DfExpr::Literal(ScalarValue::Null, None),
    };
    rows.aggregate(
        vec![
            col("__entity").alias("__entity"),
            qualify(row_expr(arg)?, &table).alias("__value"),
        ],
        vec![agg::count(lit(1i64)).alias("__n"), last.alias("__last")],
    )
    .map_err(df)?
    .aggregate(
        vec![col("__entity")],
        vec![
            agg::first_value(
                col("__value"),
                vec![
                    col("__n").sort(false, false),
                    col("__last").sort(false, false),
                    col("__value").sort(true, false),
                ],
            )
            .alias(&a.column),
        ],
    )
    .map_err(df)?
    .alias(alias)
    .map_err(df)?
    .build()
    .map_err(df)
}
