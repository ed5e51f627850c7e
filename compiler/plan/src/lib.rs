//! The plan stage: job-graph nodes become DataFusion logical plans, built with
//! `LogicalPlanBuilder` (never SQL strings), so `mj plan` can show them and the
//! runtime can execute them on DataFusion (or ship them to Ballista).
//!
//! Table names the plans scan: `ods_<source>` (a source's accepted rows) and
//! `oneid_<entity>` (the OneID mapping: `source`, `record_id`, `oneid`).

use std::sync::Arc;

use datafusion::common::{JoinType, ScalarValue};
use datafusion::functions::expr_fn as f;
use datafusion::logical_expr::{
    Expr as DfExpr, LogicalPlan, LogicalPlanBuilder, TableSource, col, lit, when,
};
use mj_compiler::lower::FactJob;
use mj_lang::ast::{Arg, BinaryOp, Expr, ExprKind, UnaryOp};

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
    Ok(match &e.kind {
        ExprKind::Number(n) => match n.parse::<i64>() {
            Ok(i) => lit(i),
            Err(_) => lit(n
                .parse::<f64>()
                .map_err(|_| err(format!("bad number {n}")))?),
        },
        ExprKind::Str(s) => lit(s.clone()),
        ExprKind::Bool(b) => lit(*b),
        ExprKind::Null => DfExpr::Literal(ScalarValue::Null, None),
        ExprKind::Name(n) => col(format!("\"{}\"", n.text)),
        ExprKind::Unary(UnaryOp::Not, x) => !row_expr(x)?,
        ExprKind::Unary(UnaryOp::Neg, x) => DfExpr::Negative(Box::new(row_expr(x)?)),
        ExprKind::Binary(op, l, r) => {
            let (l, r) = (row_expr(l)?, row_expr(r)?);
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
        ExprKind::In {
            expr,
            list,
            negated,
        } => row_expr(expr)?.in_list(
            list.iter().map(row_expr).collect::<Result<Vec<_>, _>>()?,
            *negated,
        ),
        ExprKind::Case { arms, otherwise } => {
            let mut arms = arms.iter();
            let Some(first) = arms.next() else {
                return Err(err("a case without arms"));
            };
            let mut builder = when(row_expr(&first.condition)?, row_expr(&first.value)?);
            for arm in arms {
                builder = builder.when(row_expr(&arm.condition)?, row_expr(&arm.value)?);
            }
            match otherwise {
                Some(o) => builder.otherwise(row_expr(o)?).map_err(df)?,
                None => builder.end().map_err(df)?,
            }
        }
        ExprKind::Call(name, args) => {
            let args: Vec<DfExpr> = args
                .iter()
                .map(|a| match a {
                    Arg::Positional {
                        value,
                        filter: None,
                    } => row_expr(value),
                    _ => Err(err(format!(
                        "`{}` takes plain arguments in a row expression",
                        name.text
                    ))),
                })
                .collect::<Result<_, _>>()?;
            let one = |args: Vec<DfExpr>| {
                args.into_iter()
                    .next()
                    .ok_or_else(|| err(format!("`{}` needs an argument", name.text)))
            };
            match name.text.as_str() {
                "lower" => f::lower(one(args)?),
                "upper" => f::upper(one(args)?),
                "length" => f::character_length(one(args)?),
                "date" => f::to_date(vec![one(args)?]),
                other => {
                    return Err(err(format!(
                        "`{other}` is not supported in a row expression yet"
                    )));
                }
            }
        }
        ExprKind::Quantity(_) | ExprKind::Field(..) | ExprKind::Index(..) => {
            return Err(err("not a row expression"));
        }
    })
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
    let mut columns: Vec<DfExpr> = Vec::new();
    for g in &job.grain {
        columns.push(col(format!("{table}.\"{g}\"")).alias(g));
    }
    if let Some(t) = &job.time {
        if !job.grain.contains(t) {
            columns.push(col(format!("{table}.\"{t}\"")).alias(t));
        }
    }
    if let (Some(entity), Some(mapping), Some(key)) = (&job.entity, oneid, &job.source_key) {
        // One OneID per record id of this source (the smallest, should a key repeat),
        // so the join cannot multiply rows.
        let ids = LogicalPlanBuilder::scan(format!("oneid_{entity}").as_str(), mapping, None)
            .map_err(df)?
            .filter(col("source").eq(lit(job.source.clone())))
            .map_err(df)?
            .aggregate(
                vec![col("record_id")],
                vec![datafusion::functions_aggregate::expr_fn::min(col("oneid")).alias("oneid")],
            )
            .map_err(df)?
            .alias("ids")
            .map_err(df)?
            .build()
            .map_err(df)?;
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
        columns.push(qualify(row_expr(e)?, &table).alias(name));
    }
    plan.project(columns)
        .map_err(df)?
        .sort(
            job.grain
                .iter()
                .map(|g| col(format!("\"{g}\"")).sort(true, true))
                .collect::<Vec<_>>(),
        )
        .map_err(df)?
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

/// Days since 1970-01-01 of a `YYYY-MM-DD` date.
fn chrono_day(date: &str) -> Result<i32, PlanError> {
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
