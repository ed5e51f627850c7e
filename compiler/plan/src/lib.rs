//! The plan stage: job-graph nodes become DataFusion logical plans, built with
//! `LogicalPlanBuilder` (never SQL strings), so `mj plan` can show them and the
//! runtime can execute them on DataFusion (or ship them to Ballista).
//!
//! Table names the plans scan: `ods_<source>` (a source's accepted rows) and
//! `oneid_<entity>` (the OneID mapping: `source`, `record_id`, `oneid`).

pub mod assets;
pub mod case;
mod rules;
pub mod sql;

use std::sync::Arc;

use datafusion::common::{JoinType, ScalarValue};
use datafusion::functions::expr_fn as f;
use datafusion::logical_expr::{
    Expr as DfExpr, LogicalPlan, LogicalPlanBuilder, TableSource, col, lit, when,
};
use mj_ir::expr::{BinaryOp, Expr, Period as PeriodSpec, PeriodUnit, ToDate, UnaryOp};
use mj_ir::jobs::{FactJob, SummaryJob};

/// A construct the plan stage cannot express yet, with what it was.
#[derive(Debug, Clone)]
pub struct PlanError {
    pub message: String,
}

impl std::fmt::Display for PlanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PlanError {}

fn err(message: impl Into<String>) -> PlanError {
    PlanError {
        message: message.into(),
    }
}

fn df(e: datafusion::error::DataFusionError) -> PlanError {
    err(e.to_string())
}

/// An expression over one row (a `where`, a dimension or a measure) as a DataFusion
/// expression. Names are columns of the row.
pub fn row_expr(e: &Expr) -> Result<DfExpr, PlanError> {
    Ok(match e {
        Expr::Number(n) => match n.parse::<i64>() {
            Ok(i) => lit(i),
            Err(_) => lit(n
                .parse::<f64>()
                .map_err(|_| err(format!("bad number {n}")))?),
        },
        Expr::Str(s) => lit(s.clone()),
        Expr::Bool(b) => lit(*b),
        Expr::Null => DfExpr::Literal(ScalarValue::Null, None),
        Expr::Column(n) => col(format!("\"{n}\"")),
        Expr::Unary(UnaryOp::Not, x) => !row_expr(x)?,
        Expr::Unary(UnaryOp::Neg, x) => DfExpr::Negative(Box::new(row_expr(x)?)),
        Expr::Binary(op, l, r) => binary(*op, row_expr(l)?, row_expr(r)?),
        Expr::In {
            expr,
            list,
            negated,
        } => row_expr(expr)?.in_list(
            list.iter().map(row_expr).collect::<Result<Vec<_>, _>>()?,
            *negated,
        ),
        Expr::Case { arms, otherwise } => {
            let mut arms = arms.iter();
            let Some((condition, value)) = arms.next() else {
                return Err(err("a case without arms"));
            };
            let mut builder = when(row_expr(condition)?, row_expr(value)?);
            for (condition, value) in arms {
                builder = builder.when(row_expr(condition)?, row_expr(value)?);
            }
            match otherwise {
                Some(o) => builder.otherwise(row_expr(o)?).map_err(df)?,
                None => builder.end().map_err(df)?,
            }
        }
        Expr::Call(builtin, args) => {
            let args: Vec<DfExpr> = args.iter().map(row_expr).collect::<Result<_, _>>()?;
            let one = |args: Vec<DfExpr>| {
                args.into_iter()
                    .next()
                    .ok_or_else(|| err(format!("`{builtin}` needs an argument")))
            };
            use mj_ir::Builtin as B;
            // Every function, named: a new one is decided here. The checker refuses in
            // rows what `Builtin::in_rows` says is not planned here.
            match builtin {
                B::Lower => f::lower(one(args)?),
                B::Upper => f::upper(one(args)?),
                B::Length => f::character_length(one(args)?),
                B::Date => f::to_date(vec![one(args)?]),
                B::Bucket
                | B::DaysSince
                | B::Distance
                | B::Nearest
                | B::Sha256
                | B::Md5
                | B::Plain
                | B::Now => {
                    return Err(err(format!("`{builtin}` is not a row function")));
                }
            }
        }
        // A dimension's attribute (`store.city`): a column of the joined dimension.
        Expr::Attribute(d, attr) => DfExpr::Column(datafusion::common::Column::new(
            Some(d.clone()),
            attr.clone(),
        )),
        Expr::Quantity { .. } | Expr::Unplanned(_) => {
            return Err(err(format!("`{e}` is not a row expression")));
        }
    })
}

/// A binary operator on two DataFusion expressions (`/` as DataFusion divides; the asset
/// layer divides in doubles before calling this).
pub(crate) fn binary(op: BinaryOp, l: DfExpr, r: DfExpr) -> DfExpr {
    match op {
        BinaryOp::Or => l.or(r),
        BinaryOp::And => l.and(r),
        BinaryOp::Eq => l.eq(r),
        BinaryOp::Ne => l.not_eq(r),
        BinaryOp::Lt => l.lt(r),
        BinaryOp::Le => l.lt_eq(r),
        BinaryOp::Gt => l.gt(r),
        BinaryOp::Ge => l.gt_eq(r),
        BinaryOp::Add => l + r,
        BinaryOp::Sub => l - r,
        BinaryOp::Mul => l * r,
        BinaryOp::Div => l / r,
        BinaryOp::Mod => l % r,
        BinaryOp::Coalesce => f::coalesce(vec![l, r]),
    }
}

/// The detail (DWD) table of a business process for business date `date`
/// (`YYYY-MM-DD`): rows of `ods_<source>` whose time is on or before the date,
/// filtered by the fact's `where`, with the entity key from `oneid_<entity>`, sorted
/// by grain.
pub fn fact(
    job: &FactJob,
    source: Arc<dyn TableSource>,
    oneid: Option<Arc<dyn TableSource>>,
    date: &str,
) -> Result<LogicalPlan, PlanError> {
    let table = format!("ods_{}", job.source);
    let mut plan = LogicalPlanBuilder::scan(table.as_str(), source, None).map_err(df)?;
    if let Some(time) = &job.time {
        let day = chrono_day(date)?;
        let bound = if job.time_is_date {
            DfExpr::Literal(ScalarValue::Date32(Some(day + 1)), None)
        } else {
            DfExpr::Literal(
                ScalarValue::TimestampMicrosecond(Some(i64::from(day + 1) * 86_400_000_000), None),
                None,
            )
        };
        plan = plan
            .filter(col(format!("{table}.\"{time}\"")).lt(bound))
            .map_err(df)?;
    }
    if let Some(filter) = &job.filter {
        plan = plan.filter(row_expr(filter)?).map_err(df)?;
    }
    // A named subquery with its own projection: SQL written from the plan keeps the
    // filters in the subquery's WHERE rather than in the outer join's ON, where they
    // would not filter the rows of a left join.
    let all: Vec<DfExpr> = plan
        .schema()
        .columns()
        .into_iter()
        .map(DfExpr::Column)
        .collect();
    plan = plan
        .project(all)
        .map_err(df)?
        .alias(table.as_str())
        .map_err(df)?;
    let mut columns: Vec<DfExpr> = Vec::new();
    for g in &job.grain {
        columns.push(col(format!("{table}.\"{g}\"")).alias(g));
    }
    if let Some(t) = job.time.as_ref().filter(|t| !job.grain.contains(t)) {
        columns.push(col(format!("{table}.\"{t}\"")).alias(t));
    }
    if let (Some(entity), Some(mapping), Some(key)) = (&job.entity, oneid, &job.source_key) {
        let ids = record_ids(&format!("oneid_{entity}"), mapping, &job.source, "oneid")?;
        let ids = ids.alias("ids").map_err(df)?.build().map_err(df)?;
        plan = plan
            .join(
                ids,
                JoinType::Left,
                (
                    vec![datafusion::common::Column::from_qualified_name(format!(
                        "{table}.{key}"
                    ))],
                    vec![datafusion::common::Column::from_qualified_name(
                        "ids.record_id",
                    )],
                ),
                None,
            )
            .map_err(df)?;
        columns.push(col("ids.oneid").alias(entity));
    }
    for (name, e) in job.dims.iter().chain(&job.measures) {
        // A dim or measure that is a grain column is there already.
        if job.grain.contains(name) {
            continue;
        }
        columns.push(qualify(row_expr(e)?, &table).alias(name));
    }
    // By grain, as a person would write it: a grain tells rows apart, so the order is
    // the same on every run (rows that share a grain are alike in every column the
    // grain names, and only such rows may trade places).
    sorted(plan.project(columns).map_err(df)?, &job.grain)?
        .build()
        .map_err(df)
}

/// Qualifies bare columns with the source's table (the OneID join brings its own).
fn qualify(e: DfExpr, table: &str) -> DfExpr {
    use datafusion::common::tree_node::{Transformed, TreeNode};
    e.transform(|x| {
        Ok(match x {
            DfExpr::Column(c) if c.relation.is_none() => Transformed::yes(DfExpr::Column(
                datafusion::common::Column::new(Some(table.to_string()), c.name),
            )),
            other => Transformed::no(other),
        })
    })
    .map(|t| t.data)
    .unwrap_or_else(|e| DfExpr::Literal(ScalarValue::Utf8(Some(e.to_string())), None))
}

/// The OneID of each record id of one source, as `(record_id, <alias>)`: one row per
/// record id (the smallest OneID, should a key repeat), so joining it cannot multiply
/// rows. The mapping marks that row (`key_first`); a mapping written before it did is
/// grouped instead.
pub fn record_ids(
    name: &str,
    mapping: Arc<dyn TableSource>,
    source: &str,
    alias: &str,
) -> Result<LogicalPlanBuilder, PlanError> {
    let marked = mapping.schema().field_with_name("key_first").is_ok();
    let c = |column: &str| col(format!("{name}.{column}"));
    let rows = LogicalPlanBuilder::scan(name, mapping, None).map_err(df)?;
    let is_source = c("source").eq(lit(source.to_string()));
    if marked {
        rows.filter(is_source.and(c("key_first")))
            .map_err(df)?
            .project(vec![
                c("record_id").alias("record_id"),
                c("oneid").alias(alias),
            ])
            .map_err(df)
    } else {
        rows.filter(is_source)
            .map_err(df)?
            .aggregate(
                vec![c("record_id").alias("record_id")],
                vec![datafusion::functions_aggregate::expr_fn::min(c("oneid")).alias(alias)],
            )
            .map_err(df)
    }
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date.
pub fn chrono_day(date: &str) -> Result<i32, PlanError> {
    let parts: Vec<i64> = date
        .split('-')
        .map(|p| p.parse::<i64>())
        .collect::<Result<_, _>>()
        .map_err(|_| err(format!("`{date}` is not a date")))?;
    let [y, m, d] = parts[..] else {
        return Err(err(format!("`{date}` is not a date")));
    };
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Ok((era * 146_097 + doe - 719_468) as i32)
}

/// `[from, to)` in days since 1970-01-01 of a period ending with business date `day`.
fn period_days(spec: &PeriodSpec, day: i32) -> (Option<i32>, i32) {
    let end = day + 1;
    let (y, m, d) = civil(day);
    let from = match spec {
        PeriodSpec::Last { count, unit } => {
            let n = *count as i32;
            Some(match unit {
                PeriodUnit::Days => end - n,
                PeriodUnit::Weeks => end - 7 * n,
                // Hours are rounded to whole days: the business date is a day.
                PeriodUnit::Hours => end - (n + 23) / 24,
                PeriodUnit::Months => {
                    let months = y * 12 + (m - 1) - i64::from(n);
                    let (py, pm) = (months.div_euclid(12), months.rem_euclid(12) + 1);
                    days(py, pm, d.min(days_in_month(py, pm))) + 1
                }
            })
        }
        PeriodSpec::ToDate(ToDate::All) => None,
        PeriodSpec::ToDate(ToDate::Year) => Some(days(y, 1, 1)),
        PeriodSpec::ToDate(ToDate::Quarter) => Some(days(y, (m - 1) / 3 * 3 + 1, 1)),
        PeriodSpec::ToDate(ToDate::Month) => Some(days(y, m, 1)),
        // Weeks start on Monday; 1970-01-01 was a Thursday.
        PeriodSpec::ToDate(ToDate::Week) => Some(day - (day + 3).rem_euclid(7)),
    };
    (from, end)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    days(
        if m == 12 { y + 1 } else { y },
        if m == 12 { 1 } else { m + 1 },
        1,
    ) as i64
        - days(y, m, 1) as i64
}

fn days(y: i64, m: i64, d: i64) -> i32 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe - 719_468) as i32
}

/// `YYYY-MM-DD` of days since 1970-01-01 (the inverse of [`chrono_day`]).
pub fn date_text(day: i32) -> String {
    let (y, m, d) = civil(day);
    format!("{y:04}-{m:02}-{d:02}")
}

/// (year, month, day) of days since 1970-01-01.
fn civil(z: i32) -> (i64, i64, i64) {
    let z = i64::from(z) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn day_literal(day: i32, is_date: bool) -> DfExpr {
    if is_date {
        DfExpr::Literal(ScalarValue::Date32(Some(day)), None)
    } else {
        DfExpr::Literal(
            ScalarValue::TimestampMicrosecond(Some(i64::from(day) * 86_400_000_000), None),
            None,
        )
    }
}

/// A composite metric's expression over derived metric columns: division by zero (or
/// by a missing value) gives null.
fn metric_expr(e: &Expr) -> Result<DfExpr, PlanError> {
    Ok(match e {
        Expr::Binary(BinaryOp::Div, l, r) => {
            // In double precision, so that counts divide into fractions.
            let real =
                |e: DfExpr| datafusion::logical_expr::cast(e, arrow::datatypes::DataType::Float64);
            let r = real(metric_expr(r)?);
            real(metric_expr(l)?) / f::nullif(r, lit(0.0))
        }
        Expr::Binary(op, l, r) => {
            let (l, r) = (metric_expr(l)?, metric_expr(r)?);
            match op {
                BinaryOp::Add => l + r,
                BinaryOp::Sub => l - r,
                BinaryOp::Mul => l * r,
                BinaryOp::Coalesce => f::coalesce(vec![l, r]),
                _ => return Err(err("a composite metric is arithmetic over metrics")),
            }
        }
        Expr::Unary(UnaryOp::Neg, x) => DfExpr::Negative(Box::new(metric_expr(x)?)),
        _ => row_expr(e)?,
    })
}

/// One metric of a summary part as its aggregate over `dwd_<fact>` for business day
/// `day` (days since 1970-01-01): its period and modifiers are the aggregate's filter.
/// The language server shows it, unparsed to SQL, on hover.
pub fn metric_aggregate(
    part: &mj_ir::jobs::SummaryPart,
    m: &mj_ir::jobs::MetricJob,
    day: i32,
) -> Result<DfExpr, PlanError> {
    use datafusion::functions_aggregate::expr_fn as agg;
    use datafusion::logical_expr::ExprFunctionExt;
    let table = format!("dwd_{}", part.fact);
    let mut cond: Option<DfExpr> = None;
    let mut and = |e: DfExpr| {
        cond = Some(match cond.take() {
            Some(c) => c.and(e),
            None => e,
        })
    };
    if let Some(time) = &part.time {
        let t = col(format!("{table}.\"{time}\""));
        let (from, to) = period_days(&m.period, day);
        if let Some(from) = from {
            and(t.clone().gt_eq(day_literal(from, part.time_is_date)));
        }
        and(t.lt(day_literal(to, part.time_is_date)));
    }
    for f in &m.filters {
        and(qualify(row_expr(f)?, &table));
    }
    let arg = match &m.arg {
        Some(a) => qualify(row_expr(a)?, &table),
        None => lit(1),
    };
    use mj_ir::Aggregate as A;
    // Every aggregate, named: the checker refuses the windowed ones in atomic metrics.
    let call = match m.aggregate {
        A::Sum => agg::sum(arg),
        A::Count => agg::count(arg),
        A::CountDistinct => agg::count(arg).distinct().build().map_err(df)?,
        A::Avg => agg::avg(arg),
        A::Min => agg::min(arg),
        A::Max => agg::max(arg),
        A::Median => agg::median(arg),
        // The sample standard deviation, as SQL's stddev.
        A::Stddev => agg::stddev(arg),
        A::Latest | A::First | A::Top | A::Exists => {
            return Err(err(format!(
                "`{}` picks one value per entity; the metric `{}` aggregates rows",
                m.aggregate, m.name
            )));
        }
    };
    let distinct = m.aggregate == A::CountDistinct;
    let call = match (cond, distinct) {
        (Some(c), true) => call.distinct().filter(c).build().map_err(df)?,
        (Some(c), false) => call.filter(c).build().map_err(df)?,
        (None, _) => call,
    };
    Ok(call)
}

/// The summary (DWS) table of one granularity for business date `date`: each fact's
/// rows aggregated per granularity (each metric with its period and modifiers as the
/// aggregate's filter), the facts joined on the granularity, composites computed, and
/// the rows sorted by granularity. `facts` gives `dwd_<fact>` for each part, `dims`
/// `dim_<dimension>` for each dimension whose attributes a filter uses; those are
/// left-joined to the fact's rows on their keys (unique, or the run failed before).
pub fn summary(
    job: &SummaryJob,
    facts: &[(String, Arc<dyn TableSource>)],
    dims: &[(String, Arc<dyn TableSource>)],
    date: &str,
) -> Result<LogicalPlan, PlanError> {
    let day = chrono_day(date)?;
    let mut plans: Vec<(String, LogicalPlanBuilder)> = Vec::new();
    for part in &job.parts {
        let table = format!("dwd_{}", part.fact);
        let Some((_, source)) = facts.iter().find(|(f, _)| *f == part.fact) else {
            return Err(err(format!("no detail table for `{}`", part.fact)));
        };
        let alias = format!("p{}", plans.len());
        let mut aggregates = Vec::new();
        for m in &part.metrics {
            aggregates.push(metric_aggregate(part, m, day)?.alias(&m.name));
        }
        let group: Vec<DfExpr> = job
            .by
            .iter()
            .map(|b| col(format!("{table}.\"{b}\"")).alias(b))
            .collect();
        let mut rows =
            LogicalPlanBuilder::scan(table.as_str(), source.clone(), None).map_err(df)?;
        for d in &part.dims {
            let Some((_, dim)) = dims.iter().find(|(n, _)| *n == d.dimension) else {
                return Err(err(format!("no dimension table for `{}`", d.dimension)));
            };
            let dim_table = format!("dim_{}", d.dimension);
            let columns: Vec<DfExpr> = std::iter::once(&d.key)
                .chain(&d.attributes)
                .map(|c| col(format!("{dim_table}.\"{c}\"")))
                .collect();
            let right = LogicalPlanBuilder::scan(dim_table.as_str(), dim.clone(), None)
                .map_err(df)?
                .project(columns)
                .map_err(df)?
                .alias(d.dimension.as_str())
                .map_err(df)?
                .build()
                .map_err(df)?;
            rows = rows
                .join(
                    right,
                    datafusion::logical_expr::JoinType::Left,
                    (
                        vec![datafusion::common::Column::new(
                            Some(table.clone()),
                            d.column.clone(),
                        )],
                        vec![datafusion::common::Column::new(
                            Some(d.dimension.clone()),
                            d.key.clone(),
                        )],
                    ),
                    None,
                )
                .map_err(df)?;
        }
        let plan = rows
            .aggregate(group, aggregates)
            .map_err(df)?
            .alias(alias.as_str())
            .map_err(df)?;
        plans.push((alias, plan));
    }
    let mut parts = plans.into_iter();
    let Some((first_alias, mut plan)) = parts.next() else {
        return Err(err(format!("`{}` has no metrics", job.name)));
    };
    // Facts are joined one at a time: after each join the keys are coalesced into one
    // set of columns (alias `j<n>`), so the next fact joins on keys from any fact.
    let mut current = first_alias;
    let mut metrics: Vec<&str> = job.parts[0]
        .metrics
        .iter()
        .map(|m| m.name.as_str())
        .collect();
    for (n, (alias, other)) in parts.enumerate() {
        let other = other.build().map_err(df)?;
        plan = if job.by.is_empty() {
            plan.cross_join(other).map_err(df)?
        } else {
            let keys = |a: &str| {
                job.by
                    .iter()
                    .map(|b| datafusion::common::Column::new(Some(a.to_string()), b))
                    .collect::<Vec<_>>()
            };
            // Rows of one granularity from any fact.
            plan.join_detailed(
                other,
                JoinType::Full,
                (keys(&current), keys(&alias)),
                None,
                datafusion::common::NullEquality::NullEqualsNull,
            )
            .map_err(df)?
        };
        let mut columns: Vec<DfExpr> = job
            .by
            .iter()
            .map(|b| {
                f::coalesce(vec![
                    col(format!("{current}.\"{b}\"")),
                    col(format!("{alias}.\"{b}\"")),
                ])
                .alias(b)
            })
            .collect();
        for m in &metrics {
            columns.push(col(format!("{current}.\"{m}\"")).alias(*m));
        }
        for m in &job.parts[n + 1].metrics {
            columns.push(col(format!("{alias}.\"{}\"", m.name)).alias(&m.name));
            metrics.push(&m.name);
        }
        let joined = format!("j{}", n + 1);
        plan = plan
            .project(columns)
            .map_err(df)?
            .alias(joined.as_str())
            .map_err(df)?;
        current = joined;
    }
    let mut columns: Vec<DfExpr> = job
        .by
        .iter()
        .map(|b| col(format!("{current}.\"{b}\"")).alias(b))
        .collect();
    for m in &metrics {
        columns.push(col(format!("{current}.\"{m}\"")).alias(*m));
    }
    let mut plan = plan.project(columns).map_err(df)?;
    if !job.composites.is_empty() {
        let mut columns: Vec<DfExpr> = job.by.iter().map(|b| col(format!("\"{b}\""))).collect();
        for part in &job.parts {
            for m in &part.metrics {
                columns.push(col(format!("\"{}\"", m.name)));
            }
        }
        for (name, e) in &job.composites {
            columns.push(metric_expr(e)?.alias(name));
        }
        plan = plan.project(columns).map_err(df)?;
    }
    sorted(plan, &job.by)?.build().map_err(df)
}

/// Rows sorted by the columns, nulls first; unsorted without columns (a table with no
/// grain, a summary without granularity: one row).
fn sorted(plan: LogicalPlanBuilder, columns: &[String]) -> Result<LogicalPlanBuilder, PlanError> {
    if columns.is_empty() {
        return Ok(plan);
    }
    plan.sort(
        columns
            .iter()
            .map(|c| col(format!("\"{c}\"")).sort(true, true))
            .collect::<Vec<_>>(),
    )
    .map_err(df)
}

/// The values of `column` in `table` that more than one row carries, with how many
/// (`rows`), sorted: failing rows of a `unique` check, or keys that would fan out a
/// dimension join.
pub fn repeated(
    table: &str,
    source: Arc<dyn TableSource>,
    column: &str,
) -> Result<LogicalPlan, PlanError> {
    use datafusion::functions_aggregate::expr_fn as agg;
    LogicalPlanBuilder::scan(table, source, None)
        .map_err(df)?
        .aggregate(
            vec![col(format!("{table}.\"{column}\"")).alias(column)],
            vec![agg::count(lit(1)).alias("rows")],
        )
        .map_err(df)?
        .filter(col("rows").gt(lit(1i64)))
        .map_err(df)?
        .sort(vec![col(format!("\"{column}\"")).sort(true, true)])
        .map_err(df)?
        .build()
        .map_err(df)
}

/// The rows that fail a data-quality check on a fact's detail table (`dwd_<fact>`):
/// for `unique`, each repeated value with how many rows carry it ([`repeated`]); for a
/// condition, the rows where it is false (a row where it is null passes).
pub fn check(
    job: &mj_ir::jobs::CheckJob,
    fact: Arc<dyn TableSource>,
) -> Result<LogicalPlan, PlanError> {
    let table = job.table.scan_name();
    match &job.rule {
        mj_ir::jobs::CheckKind::Unique(column) => repeated(&table, fact, column),
        mj_ir::jobs::CheckKind::Condition(e) => {
            let scan = LogicalPlanBuilder::scan(table.as_str(), fact, None).map_err(df)?;
            let cond = qualify(row_expr(e)?, &table);
            let first = scan
                .schema()
                .columns()
                .into_iter()
                .next()
                .map(|c| DfExpr::Column(c).sort(true, true));
            scan.filter(cond.is_false())
                .map_err(df)?
                .sort(first.into_iter().collect::<Vec<_>>())
                .map_err(df)?
                .build()
                .map_err(df)
        }
    }
}

/// A dimension table: key and attributes of its source's rows, sorted by key. Its keys
/// must not repeat ([`repeated`] finds those that do).
pub fn dimension(
    job: &mj_ir::jobs::DimensionJob,
    source: Arc<dyn TableSource>,
) -> Result<LogicalPlan, PlanError> {
    let table = format!("ods_{}", job.source);
    let mut columns = vec![col(format!("{table}.\"{}\"", job.key)).alias(&job.key)];
    for a in job.attributes.iter().filter(|a| **a != job.key) {
        columns.push(col(format!("{table}.\"{a}\"")).alias(a));
    }
    LogicalPlanBuilder::scan(table.as_str(), source, None)
        .map_err(df)?
        .project(columns)
        .map_err(df)?
        .sort(vec![col(format!("\"{}\"", job.key)).sort(true, true)])
        .map_err(df)?
        .build()
        .map_err(df)
}
