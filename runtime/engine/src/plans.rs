//! Plans without running them: each planned table's logical plan over the partitions a
//! run writes, for `mj plan`, `mj sql`, `mj audience --explain` and the language server.

use crate::*;

/// A table of the session as a plan input.
pub(crate) async fn input(
    ctx: &SessionContext,
    name: &str,
) -> Result<Arc<dyn datafusion::logical_expr::TableSource>, String> {
    ctx.table_provider(name)
        .await
        .map(datafusion::datasource::provider_as_source)
        .map_err(|e| e.to_string())
}

/// The name later plans scan a node's table by.
pub(crate) fn scan_name(node: &Node) -> Option<String> {
    node::kind(&node.kind)
        .scanned()
        .then(|| node.id.scan_name())
}

/// A planned table as `mj plan` shows it.
#[derive(Debug, Clone)]
pub struct PlannedTable {
    pub node: mj_ir::Table,
    pub logical: String,
    pub physical: String,
    /// How each rule of the table is evaluated.
    pub rules: Vec<RuleNote>,
}

pub use mj_plan::sql::Dialect;

/// The SQL of every planned table, unparsed from the plans `run` executes: (node, SQL).
pub async fn sql(
    graph: &JobGraph,
    date: &str,
    out: &Path,
    dialect: Dialect,
) -> Result<Vec<(mj_ir::Table, String)>, RunError> {
    // Other engines do not have mj's rule kernels: rules are written as CASE.
    let plans: Vec<(mj_ir::Table, datafusion::logical_expr::LogicalPlan)> =
        logical_plans_in(&session(), graph, date, out, false)
            .await?
            .into_iter()
            .map(|(n, p, _)| (n.id.clone(), p))
            .collect();
    mj_plan::sql::unparse(&plans, dialect).map_err(|e| RunError { message: e.message })
}

/// The plans `run` would execute for each table built from a plan, without reading
/// data: (node, logical plan, physical plan), in graph order.
pub async fn plans(
    graph: &JobGraph,
    date: &str,
    out_dir: &Path,
    jit: bool,
) -> Result<Vec<PlannedTable>, RunError> {
    let ctx = session();
    let mut out = Vec::new();
    for (node, plan, rules) in logical_plans_in(&ctx, graph, date, out_dir, jit).await? {
        let physical = node_context(&ctx, node::kind(&node.kind).merge_joins())
            .state()
            .create_physical_plan(&plan)
            .await
            .map_err(|e| RunError::node(&node.id, e.to_string()))?;
        out.push(PlannedTable {
            logical: plan.display_indent().to_string(),
            physical: datafusion::physical_plan::displayable(physical.as_ref())
                .indent(true)
                .to_string(),
            node: node.id.clone(),
            rules,
        });
    }
    Ok(out)
}

/// How many entities each step of an audience keeps on a date, from the partitions of
/// an earlier run in `out`: (the condition as written, entities for which it and every
/// condition before it hold), then the audience's size.
pub async fn explain_audience(
    graph: &JobGraph,
    date: &str,
    out: &Path,
    audience: &str,
) -> Result<Vec<(String, u64)>, RunError> {
    let ctx = session();
    // Registers every table where the run wrote it.
    logical_plans_in(&ctx, graph, date, out, false).await?;
    let Some((node, job)) = graph.nodes.iter().find_map(|n| match &n.kind {
        NodeKind::Audiences(j) if j.audiences.iter().any(|(a, _)| a == audience) => {
            Some((n.id.clone(), j))
        }
        _ => None,
    }) else {
        return Err(RunError {
            message: format!("the project has no audience `{audience}`"),
        });
    };
    let steps = job
        .explain
        .iter()
        .find(|(a, _)| a == audience)
        .map(|(_, s)| s.clone())
        .unwrap_or_default();
    let mut steps_job = job.clone();
    steps_job.audiences = steps
        .iter()
        .enumerate()
        .map(|(i, (_, e))| (format!("step_{}", i + 1), e.clone()))
        .collect();
    steps_job.routes.clear();
    steps_job.values.clear();
    let fail = |e: String| RunError::node(&node, e);
    let (plan, _) = node::Kind::plan(&steps_job, &ctx, date, false)
        .await
        .map_err(fail)?
        .ok_or_else(|| fail("not a planned table".to_string()))?;
    let (_, batches) = collect(&ctx, plan).await.map_err(fail)?;
    let mut counts = vec![0u64; steps.len()];
    for b in &batches {
        for (i, c) in counts.iter_mut().enumerate() {
            let Ok(k) = b.schema().index_of(&format!("step_{}", i + 1)) else {
                continue;
            };
            if let Some(col) = b
                .column(k)
                .as_any()
                .downcast_ref::<arrow::array::BooleanArray>()
            {
                *c += col.true_count() as u64;
            }
        }
    }
    Ok(steps.into_iter().map(|(t, _)| t).zip(counts).collect())
}

/// Every planned table's logical plan over the partitions in `out`: (node, plan),
/// rules compiled as `run` compiles them by default. [`physical_plan`] makes one
/// physical as `run` does.
pub async fn logical_plans<'g>(
    graph: &'g JobGraph,
    date: &str,
    out: &Path,
) -> Result<Vec<(&'g Node, datafusion::logical_expr::LogicalPlan)>, RunError> {
    Ok(logical_plans_in(&session(), graph, date, out, true)
        .await?
        .into_iter()
        .map(|(n, p, _)| (n, p))
        .collect())
}

/// Every planned table's logical plan. Each table is registered where `run` would
/// write it (`OUT/<layer>/<table>/dt=D`), with its schema; nothing is read.
pub(crate) async fn logical_plans_in<'g>(
    ctx: &SessionContext,
    graph: &'g JobGraph,
    date: &str,
    out: &Path,
    jit: bool,
) -> Result<
    Vec<(
        &'g Node,
        datafusion::logical_expr::LogicalPlan,
        Vec<RuleNote>,
    )>,
    RunError,
> {
    let mut out_plans = Vec::new();
    for n in &graph.nodes {
        let fail = |e: String| RunError::node(&n.id, e);
        let kind = node::kind(&n.kind);
        let schema = match kind.schema() {
            Some(schema) => schema,
            None => match kind.plan(ctx, date, jit).await.map_err(fail)? {
                Some((plan, rules)) => {
                    let schema = Arc::new(plan.schema().as_arrow().clone());
                    if kind.listed() {
                        out_plans.push((n, plan, rules));
                    }
                    schema
                }
                // Computed by the runtime from finished tables; nothing scans them.
                None => continue,
            },
        };
        if let Some(name) = scan_name(n) {
            register_partition(ctx, &name, &out.join(n.id.partition(date)), schema)
                .map_err(fail)?;
        }
    }
    Ok(out_plans)
}

/// Registers a partition folder of Parquet files as a table with a known schema. The
/// folder need not exist yet: files are listed when the plan runs.
pub(crate) fn register_partition(
    ctx: &SessionContext,
    name: &str,
    dir: &Path,
    schema: arrow::datatypes::SchemaRef,
) -> Result<(), String> {
    use datafusion::datasource::file_format::parquet::ParquetFormat;
    use datafusion::datasource::listing::{
        ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
    };
    let err = |e: datafusion::error::DataFusionError| e.to_string();
    let text = format!("{}/", dir.to_string_lossy().trim_end_matches('/'));
    let url = ListingTableUrl::parse(&text).map_err(err)?;
    let options =
        ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(".parquet");
    let config = ListingTableConfig::new(url)
        .with_listing_options(options)
        .with_schema(schema);
    let table = ListingTable::try_new(config).map_err(err)?;
    ctx.deregister_table(name).map_err(err)?;
    ctx.register_table(name, Arc::new(table)).map_err(err)?;
    Ok(())
}
