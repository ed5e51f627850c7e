//! Planned tables that are their plan's rows: dimensions, facts (DWD), summaries
//! (DWS), features and RFM models, streamed into their partitions as the plan
//! produces them; and data-quality checks, whose failing rows are kept. The helpers
//! here run any kind's plan.

use crate::node::{Done, Kind, NodeCx, Planned};
use crate::*;
use futures::future::BoxFuture;
use mj_ir::jobs::{CheckJob, DimensionJob, FactJob, FeaturesJob, RfmJob, SummaryJob};

/// A kind's plan, for running it.
pub(crate) async fn planned(kind: &dyn Kind, cx: &NodeCx<'_>) -> Result<Planned, RunError> {
    kind.plan(cx.ctx, cx.date(), cx.opts.jit)
        .await
        .map_err(|e| cx.fail(e))?
        .ok_or_else(|| cx.fail("not a planned table"))
}

/// Runs a kind's plan into its partition, streaming rows to the Parquet writer as the
/// plan produces them: for tables that are only written.
pub(crate) async fn stream(kind: &dyn Kind, cx: &NodeCx<'_>) -> Result<Done, RunError> {
    let (plan, _) = planned(kind, cx).await?;
    let relative = format!("{}/{}/dt={}", cx.node.layer, cx.node.name, cx.date());
    let file = write::part_file(cx.staged, Path::new(&relative))?;
    let (schema, rows) = stream_into(
        &node_context(cx.ctx, kind.merge_joins()),
        &cx.node.to_string(),
        plan,
        file,
    )
    .await?;
    Ok(Done {
        summary: format!("{rows} rows"),
        written: vec![(cx.node.to_string(), relative, schema, rows)],
        ..Done::default()
    })
}

/// Runs a kind's plan and collects its rows: for kinds that compute more from them.
pub(crate) async fn collected(
    kind: &dyn Kind,
    cx: &NodeCx<'_>,
) -> Result<
    (
        arrow::datatypes::SchemaRef,
        Vec<arrow::array::RecordBatch>,
        Vec<RuleNote>,
    ),
    RunError,
> {
    let (plan, rules) = planned(kind, cx).await?;
    let (schema, batches) = collect(cx.ctx, plan).await.map_err(|e| cx.fail(e))?;
    Ok((schema, batches, rules))
}

/// A plan whose rules the engine binds: a Cranelift kernel where the JIT is on and the
/// rule compiles, else the rule's `CASE` (see `rules.rs`).
pub(crate) fn with_rules(
    planned: Result<
        (
            datafusion::logical_expr::LogicalPlan,
            Vec<mj_plan::assets::RulePlan>,
        ),
        mj_plan::PlanError,
    >,
    jit: bool,
) -> Result<Option<Planned>, String> {
    let (plan, rules) = planned.map_err(|e| e.message)?;
    rules::bind(plan, rules, jit)
        .map(Some)
        .map_err(|e| e.to_string())
}

/// A plan without rules.
fn plain(
    plan: Result<datafusion::logical_expr::LogicalPlan, mj_plan::PlanError>,
) -> Result<Option<Planned>, String> {
    plan.map(|p| Some((p, Vec::new()))).map_err(|e| e.message)
}

impl Kind for FactJob {
    fn scanned(&self) -> bool {
        true
    }

    fn planned(&self) -> bool {
        true
    }

    /// A fact joins every row of its source to the OneID mapping on the record key (see
    /// [`node_context`]).
    fn merge_joins(&self) -> bool {
        self.entity.is_some()
    }

    fn plan<'a>(
        &'a self,
        ctx: &'a SessionContext,
        date: &'a str,
        _jit: bool,
    ) -> BoxFuture<'a, Result<Option<Planned>, String>> {
        Box::pin(async move {
            let source = input(ctx, &format!("ods_{}", self.source)).await?;
            let oneid = match &self.entity {
                Some(e) => Some(input(ctx, &format!("oneid_{e}")).await?),
                None => None,
            };
            plain(mj_plan::fact(self, source, oneid, date))
        })
    }

    fn run<'a>(&'a self, cx: NodeCx<'a>) -> BoxFuture<'a, Result<Done, RunError>> {
        Box::pin(async move { stream(self, &cx).await })
    }
}

impl Kind for SummaryJob {
    fn scanned(&self) -> bool {
        true
    }

    fn planned(&self) -> bool {
        true
    }

    fn plan<'a>(
        &'a self,
        ctx: &'a SessionContext,
        date: &'a str,
        _jit: bool,
    ) -> BoxFuture<'a, Result<Option<Planned>, String>> {
        Box::pin(async move {
            let mut facts = Vec::new();
            for part in &self.parts {
                facts.push((
                    part.fact.clone(),
                    input(ctx, &format!("dwd_{}", part.fact)).await?,
                ));
            }
            let mut dims = Vec::new();
            for d in self.parts.iter().flat_map(|p| &p.dims) {
                if !dims.iter().any(|(n, _)| *n == d.dimension) {
                    dims.push((
                        d.dimension.clone(),
                        input(ctx, &format!("dim_{}", d.dimension)).await?,
                    ));
                }
            }
            plain(mj_plan::summary(self, &facts, &dims, date))
        })
    }

    fn run<'a>(&'a self, cx: NodeCx<'a>) -> BoxFuture<'a, Result<Done, RunError>> {
        Box::pin(async move { stream(self, &cx).await })
    }
}

impl Kind for DimensionJob {
    fn scanned(&self) -> bool {
        true
    }

    fn planned(&self) -> bool {
        true
    }

    fn plan<'a>(
        &'a self,
        ctx: &'a SessionContext,
        _date: &'a str,
        _jit: bool,
    ) -> BoxFuture<'a, Result<Option<Planned>, String>> {
        Box::pin(async move {
            plain(mj_plan::dimension(
                self,
                input(ctx, &format!("ods_{}", self.source)).await?,
            ))
        })
    }

    fn run<'a>(&'a self, cx: NodeCx<'a>) -> BoxFuture<'a, Result<Done, RunError>> {
        Box::pin(async move {
            // A repeated key would multiply the rows of every fact joining it.
            let table = format!("ods_{}", self.source);
            let source = input(cx.ctx, &table).await.map_err(|e| cx.fail(e))?;
            let plan =
                mj_plan::repeated(&table, source, &self.key).map_err(|e| cx.fail(e.message))?;
            let (schema, dups) = collect(cx.ctx, plan).await.map_err(|e| cx.fail(e))?;
            let (n, examples) = examples(&schema, &dups, 10, Some(1));
            if n > 0 {
                return Err(cx.fail(format!(
                    "the key `{}` of `{}` repeats, so joining it would multiply rows: {}",
                    self.key,
                    self.source,
                    examples.join("; ")
                )));
            }
            stream(self, &cx).await
        })
    }
}

impl Kind for FeaturesJob {
    fn scanned(&self) -> bool {
        true
    }

    fn planned(&self) -> bool {
        true
    }

    fn plan<'a>(
        &'a self,
        ctx: &'a SessionContext,
        date: &'a str,
        _jit: bool,
    ) -> BoxFuture<'a, Result<Option<Planned>, String>> {
        Box::pin(async move {
            let oneid = input(ctx, &format!("oneid_{}", self.entity)).await?;
            let mut tables = Vec::new();
            for t in &self.tables {
                tables.push((t.node.clone(), input(ctx, &t.node.scan_name()).await?));
            }
            let metrics = match &self.metrics {
                Some((table, _)) => Some(input(ctx, table).await?),
                None => None,
            };
            plain(mj_plan::assets::features(
                self, oneid, &tables, metrics, date,
            ))
        })
    }

    fn run<'a>(&'a self, cx: NodeCx<'a>) -> BoxFuture<'a, Result<Done, RunError>> {
        Box::pin(async move { stream(self, &cx).await })
    }
}

impl Kind for RfmJob {
    fn scanned(&self) -> bool {
        true
    }

    fn planned(&self) -> bool {
        true
    }

    fn plan<'a>(
        &'a self,
        ctx: &'a SessionContext,
        date: &'a str,
        _jit: bool,
    ) -> BoxFuture<'a, Result<Option<Planned>, String>> {
        Box::pin(async move {
            let features = input(ctx, &format!("ads_{}_features", self.entity)).await?;
            plain(mj_plan::assets::rfm(self, features, date))
        })
    }

    fn run<'a>(&'a self, cx: NodeCx<'a>) -> BoxFuture<'a, Result<Done, RunError>> {
        Box::pin(async move { stream(self, &cx).await })
    }
}

impl Kind for CheckJob {
    /// Its failing rows are kept for people (`dq/…`), not read by plans.
    fn scanned(&self) -> bool {
        false
    }

    fn planned(&self) -> bool {
        true
    }

    fn listed(&self) -> bool {
        false
    }

    fn plan<'a>(
        &'a self,
        ctx: &'a SessionContext,
        _date: &'a str,
        _jit: bool,
    ) -> BoxFuture<'a, Result<Option<Planned>, String>> {
        Box::pin(async move {
            plain(mj_plan::check(
                self,
                input(ctx, &self.table.scan_name()).await?,
            ))
        })
    }

    fn run<'a>(&'a self, cx: NodeCx<'a>) -> BoxFuture<'a, Result<Done, RunError>> {
        Box::pin(async move {
            let (schema, batches, _) = collected(self, &cx).await?;
            let unique = matches!(self.rule, mj_ir::jobs::CheckKind::Unique(_));
            let (failing, examples) = examples(&schema, &batches, 5, unique.then_some(1));
            let status = match (failing, self.fail_run) {
                (0, _) => "passed",
                (_, true) => "failed",
                (_, false) => "warned",
            };
            let mut done = Done {
                summary: format!("{status}, {failing} failing row(s)"),
                ..Done::default()
            };
            if failing > 0 {
                done.tables = vec![cx.table("dq", &self.name, schema, batches)];
            }
            if status == "failed" {
                done.fails = Some(format!(
                    "the check `{}` ({}) fails on {failing} row(s) of `{}`",
                    self.name, self.text, self.fact
                ));
            }
            let report = CheckReport {
                check: self.name.clone(),
                rule: self.text.clone(),
                fact: self.fact.clone(),
                severity: if self.fail_run { "error" } else { "warn" }.to_string(),
                failing,
                examples,
                status: status.to_string(),
            };
            Ok(done.report(move |m| m.checks.push(report)))
        })
    }
}
