//! Plans of the consumer-asset layer: the features table of an entity and its tags.
//!
//! `features`: one row per OneID (every OneID of the mapping), with each table's
//! aggregates computed in one pass over it and the entity's metrics joined beside them.
//! `tags`: row expressions over that table; a `case` becomes a call of its rule
//! ([`crate::case::RuleCall`], which the engine binds to a Cranelift kernel or to `CASE`),
//! or DataFusion's own `CASE` when it is not a rule — each rule says which, in
//! [`RulePlan`].

use std::sync::Arc;

use datafusion::common::{Column, DFSchema, JoinType, ScalarValue};
use datafusion::functions::expr_fn as f;
use datafusion::functions_aggregate::expr_fn as agg;
use datafusion::logical_expr::{
    Expr as DfExpr, ExprFunctionExt, LogicalPlan, LogicalPlanBuilder, TableSource, col, lit,
};
use mj_ir::expr::{BinaryOp, Expr, UnaryOp};
use mj_ir::jobs::{FeatureAgg, FeatureTable, FeaturesJob, TagsJob};

use crate::{PlanError, chrono_day, day_literal, df, err, qualify, row_expr};

mod features;

pub use features::*;

/// How one `case` of a tag is planned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RulePlan {
    pub tag: String,
    /// `None`: a call of the rule `mj_rule_<tag>`, for the engine to bind; else why the
    /// `case` is no rule and DataFusion's `CASE` evaluates it.
    pub fallback: Option<String>,
}

/// The tags of an entity: one row per OneID of the features table, one column per tag.
pub fn tags(
    job: &TagsJob,
    features: Arc<dyn TableSource>,
    date: &str,
) -> Result<(LogicalPlan, Vec<RulePlan>), PlanError> {
    let columns: Vec<(&str, String, &Expr)> = job
        .tags
        .iter()
        .map(|t| (t.name.as_str(), t.name.clone(), &t.expr))
        .collect();
    per_entity(&job.entity, features, date, &columns)
}

/// An AIPL model's stage per entity: its decision list (highest stage first) over the
/// features table; entities without a stage have none (null).
pub fn aipl(
    job: &mj_ir::jobs::AiplJob,
    features: Arc<dyn TableSource>,
    date: &str,
) -> Result<(LogicalPlan, Vec<RulePlan>), PlanError> {
    let columns = [("stage", format!("aipl_{}", job.name), &job.rule)];
    if job.breakdowns.is_empty() {
        return per_entity(&job.entity, features, date, &columns);
    }
    // The stage beside every feature, then each breakdown from the stage and the
    // features of the rows that can qualify it.
    let entity = job.entity.as_str();
    let table = format!("ads_{entity}_features");
    let scan = LogicalPlanBuilder::scan(table.as_str(), features, None).map_err(df)?;
    let schema = scan.schema().clone();
    let mut cx = TagCx {
        schema: &schema,
        day: chrono_day(date)?,
        bind: true,
        rules: Vec::new(),
        tag: format!("aipl_{}", job.name),
    };
    let stage = cx.expr(&job.rule)?;
    let mut all: Vec<DfExpr> = schema.columns().into_iter().map(DfExpr::Column).collect();
    all.push(stage.alias("__stage"));
    let mut exprs = vec![
        col(format!("\"{entity}\"")).alias(entity),
        col("__stage").alias("stage"),
    ];
    for b in &job.breakdowns {
        let mut by_stage: Option<datafusion::logical_expr::conditional_expressions::CaseBuilder> =
            None;
        for (stage, quals) in &b.stages {
            let when = col("__stage").eq(lit(stage.clone()));
            let then = cx.qualified(quals)?;
            by_stage = Some(match by_stage {
                None => datafusion::logical_expr::when(when, then),
                Some(mut c) => c.when(when, then),
            });
        }
        let value = match by_stage {
            Some(c) => c.end().map_err(df)?,
            None => DfExpr::Literal(ScalarValue::Utf8(None), None),
        };
        exprs.push(value.alias(b.name.as_str()));
    }
    let plan = scan
        .project(all)
        .map_err(df)?
        .project(exprs)
        .map_err(df)?
        .sort(vec![col(format!("\"{entity}\"")).sort(true, true)])
        .map_err(df)?
        .build()
        .map_err(df)?;
    Ok((plan, cx.rules))
}

/// The touches of an AIPL model's entities: `entity`, `time` and `channel` of every
/// row behind its A and I stages (rows up to the business date, kept as the stage's
/// aggregates keep them), sorted by entity, time and channel.
pub fn touches(
    job: &mj_ir::jobs::AiplJob,
    tables: &[(mj_ir::Table, Arc<dyn TableSource>)],
    oneid: Arc<dyn TableSource>,
    date: &str,
) -> Result<LogicalPlan, PlanError> {
    use arrow::datatypes::{DataType, TimeUnit};
    use datafusion::logical_expr::cast;
    let day = chrono_day(date)?;
    let mapping = format!("oneid_{}", job.entity);
    let mut union: Option<LogicalPlanBuilder> = None;
    for t in &job.touches {
        let Some((_, source)) = tables.iter().find(|(n, _)| *n == t.table.node) else {
            return Err(err(format!("no table for `{}`", t.table.node)));
        };
        let table = t.table.node.scan_name();
        let mut rows = entity_rows(&t.table, source.clone(), &oneid, &mapping, &job.entity, day)?;
        if let Some(c) = keep(&t.table, &t.rows, day)? {
            rows = rows.filter(c).map_err(df)?;
        }
        let time = match &t.table.time {
            Some((c, _)) => cast(
                col(format!("{table}.\"{c}\"")),
                DataType::Timestamp(TimeUnit::Microsecond, None),
            ),
            None => DfExpr::Literal(ScalarValue::TimestampMicrosecond(None, None), None),
        };
        let Some(value) = &t.rows.arg else {
            return Err(err("a touch without a channel"));
        };
        let channel = cast(qualify(row_expr(value)?, &table), DataType::Utf8);
        let part = rows
            .project(vec![
                col("__entity").alias("entity"),
                time.alias("time"),
                channel.alias("channel"),
            ])
            .map_err(df)?;
        union = Some(match union {
            None => part,
            Some(u) => u.union(part.build().map_err(df)?).map_err(df)?,
        });
    }
    let Some(plan) = union else {
        return Err(err("a model without touches"));
    };
    plan.sort(vec![
        col("entity").sort(true, true),
        col("time").sort(true, true),
        col("channel").sort(true, true),
    ])
    .map_err(df)?
    .build()
    .map_err(df)
}

/// The tables an audiences plan joins to the features table.
pub struct AudienceInputs {
    /// (model, `ads_aipl_<model>`) and (model, `ads_rfm_<model>`).
    pub aipl: Vec<(String, Arc<dyn TableSource>)>,
    pub rfm: Vec<(String, Arc<dyn TableSource>)>,
    pub near: Vec<NearInput>,
}

/// A dimension's nearest-row table (`ads_<entity>_near_<dimension>`) and the dimension
/// (`dim_<dimension>`), for its attributes.
pub struct NearInput {
    pub dimension: String,
    pub near: Arc<dyn TableSource>,
    pub dim: Arc<dyn TableSource>,
}

/// An entity's audiences and routes: one row per entity, a condition column per
/// audience (false where it does not hold or is unknown), and per route the channel of
/// each member (the first arm that holds), over the features table left-joined with
/// the stages, segments and nearest rows the expressions read.
pub fn audiences(
    job: &mj_ir::jobs::AudiencesJob,
    features: Arc<dyn TableSource>,
    inputs: &AudienceInputs,
    date: &str,
) -> Result<(LogicalPlan, Vec<RulePlan>), PlanError> {
    let entity = job.entity.as_str();
    let table = format!("ads_{entity}_features");
    let mut plan = LogicalPlanBuilder::scan(table.as_str(), features, None).map_err(df)?;
    let key = || Column::new(Some(table.clone()), entity);
    let mut n = 0;
    let mut join = |plan: LogicalPlanBuilder,
                    right: LogicalPlan,
                    left: Column,
                    right_key: &str|
     -> Result<LogicalPlanBuilder, PlanError> {
        n += 1;
        plan.join(
            right,
            JoinType::Left,
            (vec![left], vec![Column::from_name(right_key)]),
            None,
        )
        .map_err(df)
    };
    let side = |name: &str,
                src: &Arc<dyn TableSource>,
                columns: Vec<(String, String)>|
     -> Result<LogicalPlan, PlanError> {
        LogicalPlanBuilder::scan(name, src.clone(), None)
            .map_err(df)?
            .project(
                columns
                    .into_iter()
                    .map(|(c, alias)| col(format!("{name}.\"{c}\"")).alias(alias))
                    .collect::<Vec<_>>(),
            )
            .map_err(df)?
            .build()
            .map_err(df)
    };
    // AIPL stages and RFM segments: one left join per model, on the entity.
    let models = inputs
        .aipl
        .iter()
        .filter(|(m, _)| job.aipl.contains(m))
        .map(|(m, src)| ("aipl", "stage", m, src))
        .chain(
            inputs
                .rfm
                .iter()
                .filter(|(m, _)| job.rfm.contains(m))
                .map(|(m, src)| ("rfm", "segment", m, src)),
        );
    for (kind, column, m, src) in models {
        let k = format!("__key_{kind}_{m}");
        let right = side(
            &format!("ads_{kind}_{m}"),
            src,
            vec![
                (entity.to_string(), k.clone()),
                (column.to_string(), format!("__{kind}_{m}")),
            ],
        )?;
        plan = join(plan, right, key(), &k)?;
    }
    for u in &job.near {
        let Some(NearInput { near, dim, .. }) =
            inputs.near.iter().find(|n| n.dimension == u.dimension)
        else {
            return Err(err(format!("no nearest-row table for `{}`", u.dimension)));
        };
        let d = &u.dimension;
        let k = format!("__key_near_{d}");
        let right = side(
            &format!("ads_{entity}_near_{d}"),
            near,
            vec![
                (entity.to_string(), k.clone()),
                (d.clone(), format!("__near_{d}")),
                ("distance_km".to_string(), format!("__near_{d}_km")),
            ],
        )?;
        plan = join(plan, right, key(), &k)?;
        if !u.attributes.is_empty() {
            let k2 = format!("__key_dim_{d}");
            let mut columns = vec![(u.key.clone(), k2.clone())];
            columns.extend(
                u.attributes
                    .iter()
                    .map(|a| (a.clone(), format!("__near_{d}_{a}"))),
            );
            let right = side(&format!("dim_{d}"), dim, columns)?;
            plan = join(plan, right, Column::from_name(format!("__near_{d}")), &k2)?;
        }
    }
    // The audiences beside every column, then the routes of their members.
    let schema = plan.schema().clone();
    let mut cx = TagCx {
        schema: &schema,
        day: chrono_day(date)?,
        bind: true,
        rules: Vec::new(),
        tag: String::new(),
    };
    let mut all: Vec<DfExpr> = schema.columns().into_iter().map(DfExpr::Column).collect();
    for (name, e) in &job.audiences {
        cx.tag = format!("audience_{name}");
        let holds = f::coalesce(vec![cx.expr(e)?, lit(false)]);
        all.push(holds.alias(name.as_str()));
    }
    let mut rules = cx.rules;
    let plan = plan.project(all).map_err(df)?;
    let schema = plan.schema().clone();
    let mut cx = TagCx {
        schema: &schema,
        day: chrono_day(date)?,
        bind: true,
        rules: Vec::new(),
        tag: String::new(),
    };
    let mut out = vec![col(format!("\"{entity}\"")).alias(entity)];
    for (name, _) in &job.audiences {
        out.push(col(format!("\"{name}\"")).alias(name.as_str()));
    }
    for (audience, rule) in &job.routes {
        cx.tag = format!("route_{audience}");
        let channel =
            datafusion::logical_expr::when(col(format!("\"{audience}\"")), cx.expr(rule)?)
                .end()
                .map_err(df)?;
        out.push(channel.alias(format!("route_{audience}")));
    }
    for (audience, column, value) in &job.values {
        cx.tag = column.clone();
        let v = datafusion::logical_expr::when(col(format!("\"{audience}\"")), cx.expr(value)?)
            .end()
            .map_err(df)?;
        out.push(v.alias(column.as_str()));
    }
    rules.extend(cx.rules);
    let plan = plan
        .project(out)
        .map_err(df)?
        .sort(vec![col(format!("\"{entity}\"")).sort(true, true)])
        .map_err(df)?
        .build()
        .map_err(df)?;
    Ok((plan, rules))
}

/// Row expressions over an entity's features table, one row per entity sorted by it:
/// (column, rule name for kernels, expression).
pub(crate) fn per_entity(
    entity: &str,
    features: Arc<dyn TableSource>,
    date: &str,
    columns: &[(&str, String, &Expr)],
) -> Result<(LogicalPlan, Vec<RulePlan>), PlanError> {
    let table = format!("ads_{entity}_features");
    let scan = LogicalPlanBuilder::scan(table.as_str(), features, None).map_err(df)?;
    let schema = scan.schema().clone();
    let mut cx = TagCx {
        schema: &schema,
        day: chrono_day(date)?,
        bind: true,
        rules: Vec::new(),
        tag: String::new(),
    };
    let mut exprs = vec![col(format!("\"{entity}\"")).alias(entity)];
    for (column, rule, e) in columns {
        cx.tag = rule.clone();
        exprs.push(cx.expr(e)?.alias(*column));
    }
    let plan = scan
        .project(exprs)
        .map_err(df)?
        .sort(vec![col(format!("\"{entity}\"")).sort(true, true)])
        .map_err(df)?
        .build()
        .map_err(df)?;
    Ok((plan, cx.rules))
}

/// An RFM model: every entity with a recency, frequency and monetary value, the three
/// scores, H or L for each against the baseline of its scores, the segment code (R, F,
/// M) and its label.
pub fn rfm(
    job: &mj_ir::jobs::RfmJob,
    features: Arc<dyn TableSource>,
    date: &str,
) -> Result<LogicalPlan, PlanError> {
    use datafusion::logical_expr::{ExprFunctionExt, when};
    use mj_ir::jobs::{BaselineJob, ScoreJob};
    let day = chrono_day(date)?;
    let entity = job.entity.as_str();
    let table = format!("ads_{entity}_features");
    let scan = LogicalPlanBuilder::scan(table.as_str(), features, None).map_err(df)?;
    let schema = scan.schema().clone();
    let mut cx = TagCx {
        schema: &schema,
        day,
        bind: false,
        rules: Vec::new(),
        tag: format!("rfm_{}", job.name),
    };
    let real = |e: DfExpr| datafusion::logical_expr::cast(e, arrow::datatypes::DataType::Float64);
    let values = vec![
        col(format!("\"{entity}\"")).alias(entity),
        real(cx.expr(&job.recency)?).alias("recency"),
        real(cx.expr(&job.frequency)?).alias("frequency"),
        real(cx.expr(&job.monetary)?).alias("monetary"),
    ];
    let names = ["recency", "frequency", "monetary"];
    let mut plan = scan
        .project(values)
        .map_err(df)?
        .filter(
            col("recency")
                .is_not_null()
                .and(col("frequency").is_not_null())
                .and(col("monetary").is_not_null()),
        )
        .map_err(df)?;
    // Scores: thresholds as CASE sums, quantiles as ntile over the entities.
    let mut windows = Vec::new();
    let mut scores = Vec::new();
    for (i, score) in job.scores.iter().enumerate() {
        let v = col(names[i]);
        let name = format!("{}_score", &names[i][..1]);
        match score {
            ScoreJob::Thresholds(ts) => {
                let mut e = lit(1i64);
                for t in ts {
                    let hit = if i == 0 {
                        v.clone().lt_eq(lit(*t))
                    } else {
                        v.clone().gt_eq(lit(*t))
                    };
                    e = e + when(hit, lit(1i64)).otherwise(lit(0i64)).map_err(df)?;
                }
                scores.push(e.alias(&name));
            }
            ScoreJob::Quantiles(n) => {
                // Fewer days is better: recency's tiles count from the most days.
                let w = datafusion::functions_window::expr_fn::ntile(lit(i64::from(*n)))
                    .order_by(vec![
                        v.clone().sort(i != 0, true),
                        col(format!("\"{entity}\"")).sort(true, true),
                    ])
                    .build()
                    .map_err(df)?;
                windows.push(w.alias(&name));
                scores.push(
                    datafusion::logical_expr::cast(col(&name), arrow::datatypes::DataType::Int64)
                        .alias(&name),
                );
            }
        }
    }
    // One window node per ordering: DataFusion plans a node's windows over one sort.
    for w in windows {
        plan = plan.window(vec![w]).map_err(df)?;
    }
    let mut columns: Vec<DfExpr> = vec![
        col(format!("\"{entity}\"")),
        col("recency"),
        col("frequency"),
        col("monetary"),
    ];
    columns.extend(scores);
    let scored = plan
        .project(columns)
        .map_err(df)?
        .alias("s")
        .map_err(df)?
        .build()
        .map_err(df)?;
    // The baseline of each score, one row, beside every entity.
    let baseline = |n: &str| match &job.baseline {
        BaselineJob::Mean => agg::avg(real(col(format!("s.{n}")))),
        BaselineJob::Median => agg::median(real(col(format!("s.{n}")))),
        BaselineJob::Value(v) => agg::max(lit(*v)),
    };
    let base = LogicalPlanBuilder::from(scored.clone())
        .aggregate(
            Vec::<DfExpr>::new(),
            vec![
                baseline("r_score").alias("r_base"),
                baseline("f_score").alias("f_base"),
                baseline("m_score").alias("m_base"),
            ],
        )
        .map_err(df)?
        .alias("b")
        .map_err(df)?
        .build()
        .map_err(df)?;
    let hl = |n: &str| -> Result<DfExpr, PlanError> {
        when(
            real(col(format!("s.{n}_score"))).gt_eq(col(format!("b.{n}_base"))),
            lit("H"),
        )
        .otherwise(lit("L"))
        .map_err(df)
    };
    let cat = |a, b| {
        datafusion::logical_expr::binary_expr(
            a,
            datafusion::logical_expr::Operator::StringConcat,
            b,
        )
    };
    let code = cat(cat(hl("r")?, hl("f")?), hl("m")?);
    let mut label: Option<datafusion::logical_expr::conditional_expressions::CaseBuilder> = None;
    for (c, l) in &job.segments {
        label = Some(match label {
            None => when(code.clone().eq(lit(c.clone())), lit(l.clone())),
            Some(mut b) => b.when(code.clone().eq(lit(c.clone())), lit(l.clone())),
        });
    }
    let label = match label {
        Some(b) => b.end().map_err(df)?,
        None => DfExpr::Literal(ScalarValue::Utf8(None), None),
    };
    LogicalPlanBuilder::from(scored)
        .cross_join(base)
        .map_err(df)?
        .project(vec![
            col(format!("s.\"{entity}\"")).alias(entity),
            col("s.recency").alias("recency"),
            col("s.frequency").alias("frequency"),
            col("s.monetary").alias("monetary"),
            col("s.r_score").alias("r_score"),
            col("s.f_score").alias("f_score"),
            col("s.m_score").alias("m_score"),
            hl("r")?.alias("r"),
            hl("f")?.alias("f"),
            hl("m")?.alias("m"),
            code.alias("segment"),
            label.alias("label"),
        ])
        .map_err(df)?
        .sort(vec![col(format!("\"{entity}\"")).sort(true, true)])
        .map_err(df)?
        .build()
        .map_err(df)
}

pub(crate) struct TagCx<'a> {
    schema: &'a DFSchema,
    day: i32,
    /// Rules as calls for the engine to bind; else as `CASE`.
    bind: bool,
    rules: Vec<RulePlan>,
    tag: String,
}

impl TagCx<'_> {
    /// A breakdown's value for one stage: that of the most recent row among the
    /// qualifiers whose condition holds; ties go to the one written first.
    fn qualified(&mut self, quals: &[mj_ir::jobs::Qualifier]) -> Result<DfExpr, PlanError> {
        use arrow::datatypes::{DataType, TimeUnit};
        use datafusion::logical_expr::cast;
        if quals.is_empty() {
            return Ok(DfExpr::Literal(ScalarValue::Utf8(None), None));
        }
        let mut held = Vec::new();
        for q in quals {
            let holds = self.expr(&q.condition)?.is_true();
            let time = match &q.time {
                Some(t) => cast(
                    col(format!("\"{t}\"")),
                    DataType::Timestamp(TimeUnit::Microsecond, None),
                ),
                None => DfExpr::Literal(ScalarValue::TimestampMicrosecond(None, None), None),
            };
            let value = cast(col(format!("\"{}\"", q.value)), DataType::Utf8);
            held.push((holds, time, value));
        }
        let times: Vec<DfExpr> = held
            .iter()
            .map(|(holds, time, _)| {
                datafusion::logical_expr::when(holds.clone(), time.clone())
                    .end()
                    .map_err(df)
            })
            .collect::<Result<_, _>>()?;
        let latest = if times.len() == 1 {
            times[0].clone()
        } else {
            f::greatest(times)
        };
        let mut pick: Option<datafusion::logical_expr::conditional_expressions::CaseBuilder> = None;
        for (holds, time, value) in held {
            let when = holds.and(datafusion::logical_expr::binary_expr(
                time,
                datafusion::logical_expr::Operator::IsNotDistinctFrom,
                latest.clone(),
            ));
            pick = Some(match pick {
                None => datafusion::logical_expr::when(when, value),
                Some(mut c) => c.when(when, value),
            });
        }
        match pick {
            Some(c) => c.end().map_err(df),
            None => Ok(DfExpr::Literal(ScalarValue::Utf8(None), None)),
        }
    }

    /// A tag's expression over the features table.
    fn expr(&mut self, e: &Expr) -> Result<DfExpr, PlanError> {
        Ok(match e {
            Expr::Case { .. } => self.case(e)?,
            Expr::Binary(BinaryOp::Coalesce, l, r) => {
                f::coalesce(vec![self.expr(l)?, self.expr(r)?])
            }
            Expr::Binary(BinaryOp::Div, l, r) => {
                let real = |e: DfExpr| {
                    datafusion::logical_expr::cast(e, arrow::datatypes::DataType::Float64)
                };
                real(self.expr(l)?) / f::nullif(real(self.expr(r)?), lit(0.0))
            }
            Expr::Binary(op, l, r) => crate::binary(*op, self.expr(l)?, self.expr(r)?),
            Expr::Unary(UnaryOp::Not, x) => !self.expr(x)?,
            Expr::Unary(UnaryOp::Neg, x) => DfExpr::Negative(Box::new(self.expr(x)?)),
            Expr::In {
                expr,
                list,
                negated,
            } => self.expr(expr)?.in_list(
                list.iter()
                    .map(|x| self.expr(x))
                    .collect::<Result<Vec<_>, _>>()?,
                *negated,
            ),
            Expr::Call(mj_ir::Builtin::DaysSince, args) => {
                let x = self.arg(args, 0, mj_ir::Builtin::DaysSince)?;
                // Whole days from the value's date to the business date.
                let date = datafusion::logical_expr::cast(x, arrow::datatypes::DataType::Date32);
                let today = DfExpr::Literal(ScalarValue::Date32(Some(self.day)), None);
                datafusion::logical_expr::cast(
                    datafusion::logical_expr::cast(today, arrow::datatypes::DataType::Int64)
                        - datafusion::logical_expr::cast(date, arrow::datatypes::DataType::Int64),
                    arrow::datatypes::DataType::Int64,
                )
            }
            Expr::Call(mj_ir::Builtin::Bucket, args) => {
                // `a-b` with a = floor(x / w) * w and b = a + w: a ≤ x < b.
                let x = self.arg(args, 0, mj_ir::Builtin::Bucket)?;
                let w = self.arg(args, 1, mj_ir::Builtin::Bucket)?;
                let real = |e: DfExpr| {
                    datafusion::logical_expr::cast(e, arrow::datatypes::DataType::Float64)
                };
                let low = f::floor(real(x) / real(w.clone())) * real(w.clone());
                let int = |e: DfExpr| {
                    datafusion::logical_expr::cast(e, arrow::datatypes::DataType::Int64)
                };
                let text =
                    |e: DfExpr| datafusion::logical_expr::cast(e, arrow::datatypes::DataType::Utf8);
                // `||` is null when x is (concat would skip the null).
                let cat = |a, b| {
                    datafusion::logical_expr::binary_expr(
                        a,
                        datafusion::logical_expr::Operator::StringConcat,
                        b,
                    )
                };
                cat(
                    cat(text(int(low.clone())), lit("-")),
                    text(int(low + real(w))),
                )
            }
            _ => row_expr(e)?,
        })
    }

    fn arg(&mut self, args: &[Expr], i: usize, f: mj_ir::Builtin) -> Result<DfExpr, PlanError> {
        match args.get(i) {
            Some(value) => self.expr(value),
            None => Err(err(format!("`{f}` needs argument {}", i + 1))),
        }
    }

    /// A `case`: a call of its rule, or DataFusion's `CASE` when it is no rule.
    fn case(&mut self, e: &Expr) -> Result<DfExpr, PlanError> {
        let reason = match crate::rules::rule(&self.tag, e, self.schema) {
            Ok((rule, args)) if !self.bind => {
                return crate::case::to_expr(&rule, &args).map_err(df);
            }
            Ok((rule, args)) => {
                let call = crate::case::RuleCall::call(rule, args).map_err(df)?;
                self.rules.push(RulePlan {
                    tag: self.tag.clone(),
                    fallback: None,
                });
                return Ok(call);
            }
            Err(why) => why,
        };
        self.rules.push(RulePlan {
            tag: self.tag.clone(),
            fallback: Some(reason),
        });
        let Expr::Case { arms, otherwise } = e else {
            return Err(err("not a case"));
        };
        let mut arms = arms.iter();
        let Some((condition, value)) = arms.next() else {
            return Err(err("a case without arms"));
        };
        let mut builder = datafusion::logical_expr::when(self.expr(condition)?, self.expr(value)?);
        for (condition, value) in arms {
            builder = builder.when(self.expr(condition)?, self.expr(value)?);
        }
        match otherwise {
            Some(o) => builder.otherwise(self.expr(o)?).map_err(df),
            None => builder.end().map_err(df),
        }
    }
}

/// The type a column has in the features table, for rules.
pub(crate) fn column_type(schema: &DFSchema, name: &str) -> Option<arrow::datatypes::DataType> {
    schema
        .fields()
        .iter()
        .find(|f| f.name() == name)
        .map(|f| f.data_type().clone())
}
