//! The mj runtime: executes a job graph (see `mj_compiler::lower`) on DataFusion for
//! one business date, writes each table's partition atomically, and records the run
//! in a manifest `OUT/_runs/<run_id>.json`.
//!
//! Nodes whose dependencies are done run concurrently. The runtime knows nothing of
//! terminals: it reports [`Event`]s to a callback and the CLI draws them.

pub mod components;
pub mod oneid;
pub mod source;
pub mod write;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use datafusion::prelude::{SessionConfig, SessionContext};
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use mj_compiler::lower::{JobGraph, NodeKind};
use serde::Serialize;

use crate::source::{FileStats, SourceData};
use crate::write::Staging;

/// Why a run failed: which source, file or node, and what happened.
#[derive(Debug, Clone)]
pub struct RunError {
    pub message: String,
}

impl RunError {
    pub fn source(source: &str, file: &str, message: String) -> RunError {
        RunError {
            message: format!("source `{source}`, file {file}: {message}"),
        }
    }

    pub fn node(node: &str, message: String) -> RunError {
        RunError {
            message: format!("{node}: {message}"),
        }
    }

    pub fn io(path: &Path, e: std::io::Error) -> RunError {
        RunError {
            message: format!("{}: {e}", path.display()),
        }
    }
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for RunError {}

/// Progress of a run, for whoever draws it.
#[derive(Debug, Clone)]
pub enum Event {
    Started {
        node: String,
    },
    Finished {
        node: String,
        summary: String,
        seconds: f64,
    },
    Failed {
        node: String,
        error: String,
    },
}

pub struct RunOptions {
    pub date: String,
    /// Where source locations are resolved.
    pub data: PathBuf,
    pub out: PathBuf,
    pub project: String,
}

/// The manifest of a run.
#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    pub run_id: String,
    pub project: String,
    pub date: String,
    pub status: String,
    pub started_at: String,
    pub seconds: f64,
    pub inputs: Vec<InputReport>,
    pub tables: Vec<TableReport>,
    pub oneid: BTreeMap<String, oneid::OneIdReport>,
    pub checks: Vec<CheckReport>,
    pub error: Option<String>,
}

/// A data-quality check's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    pub check: String,
    pub rule: String,
    pub fact: String,
    pub severity: String,
    /// Failing rows (for `unique`: rows sharing a repeated value).
    pub failing: u64,
    /// Up to five failing rows or repeated values.
    pub examples: Vec<String>,
    /// `passed`, `warned` or `failed`.
    pub status: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct InputReport {
    pub source: String,
    pub rows_read: u64,
    pub rows_accepted: u64,
    pub rows_rejected: u64,
    pub files: Vec<FileStats>,
    /// Up to ten rejected rows' reasons.
    pub reject_examples: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TableReport {
    pub node: String,
    pub table: String,
    pub path: String,
    pub rows: u64,
    pub seconds: f64,
}

/// What a finished node hands to the nodes after it.
enum Output {
    Source(Arc<SourceData>),
    Done,
}

/// A node's partitions, written to staging by the driver (one writer at a time).
struct NodeResult {
    index: usize,
    output: Output,
    /// Tables later nodes' plans scan: (name, schema, rows).
    register: Vec<(
        String,
        arrow::datatypes::SchemaRef,
        Vec<arrow::array::RecordBatch>,
    )>,
    tables: Vec<(
        String,
        String,
        arrow::datatypes::SchemaRef,
        Vec<arrow::array::RecordBatch>,
    )>,
    input: Option<InputReport>,
    oneid: Option<(String, oneid::OneIdReport)>,
    check: Option<CheckReport>,
    summary: String,
    seconds: f64,
}

pub fn session() -> SessionContext {
    SessionContext::new_with_config(SessionConfig::new().with_target_partitions(2))
}

/// Runs the graph for one date. On failure nothing is moved into place, and the
/// manifest (status `failed`) says why.
pub async fn run(
    graph: &JobGraph,
    opts: &RunOptions,
    on_event: &(dyn Fn(Event) + Sync),
) -> (Manifest, Result<(), RunError>) {
    let started = Instant::now();
    let started_at = chrono::Utc::now();
    let run_id = format!(
        "{}_{}_{}",
        opts.date,
        started_at.format("%Y%m%dT%H%M%S%3fZ"),
        std::process::id()
    );
    let mut manifest = Manifest {
        run_id: run_id.clone(),
        project: opts.project.clone(),
        date: opts.date.clone(),
        status: "running".into(),
        started_at: started_at.to_rfc3339(),
        seconds: 0.0,
        inputs: Vec::new(),
        tables: Vec::new(),
        oneid: BTreeMap::new(),
        checks: Vec::new(),
        error: None,
    };
    let result = execute(graph, opts, &run_id, &mut manifest, on_event).await;
    manifest.seconds = started.elapsed().as_secs_f64();
    manifest.status = if result.is_ok() {
        "succeeded"
    } else {
        "failed"
    }
    .into();
    manifest.error = result.as_ref().err().map(|e| e.message.clone());
    if let Err(e) = write_manifest(&opts.out, &manifest) {
        return (manifest, Err(e));
    }
    (manifest, result)
}

fn write_manifest(out: &Path, m: &Manifest) -> Result<(), RunError> {
    let dir = out.join("_runs");
    std::fs::create_dir_all(&dir).map_err(|e| RunError::io(&dir, e))?;
    let path = dir.join(format!("{}.json", m.run_id));
    let tmp = dir.join(format!(".{}.json.tmp", m.run_id));
    let text = serde_json::to_string_pretty(m).unwrap_or_default();
    std::fs::write(&tmp, text).map_err(|e| RunError::io(&tmp, e))?;
    std::fs::rename(&tmp, &path).map_err(|e| RunError::io(&path, e))
}

async fn execute(
    graph: &JobGraph,
    opts: &RunOptions,
    run_id: &str,
    manifest: &mut Manifest,
    on_event: &(dyn Fn(Event) + Sync),
) -> Result<(), RunError> {
    let ctx = session();
    let mut staging = Staging::new(&opts.out, run_id)?;
    let n = graph.nodes.len();
    let mut outputs: Vec<Option<Output>> = (0..n).map(|_| None).collect();
    let mut started = vec![false; n];
    let mut running = FuturesUnordered::new();
    let mut failure: Option<RunError> = None;
    loop {
        if failure.is_none() {
            for i in 0..n {
                let node = &graph.nodes[i];
                if started[i] || !node.deps.iter().all(|&d| outputs[d].is_some()) {
                    continue;
                }
                started[i] = true;
                on_event(Event::Started {
                    node: node.id.clone(),
                });
                let inputs: Vec<(String, Arc<SourceData>)> = node
                    .deps
                    .iter()
                    .filter_map(|&d| match &outputs[d] {
                        Some(Output::Source(s)) => {
                            let NodeKind::Source(job) = &graph.nodes[d].kind else {
                                return None;
                            };
                            Some((job.name.clone(), s.clone()))
                        }
                        _ => None,
                    })
                    .collect();
                running.push(run_node(i, &graph.nodes[i].kind, inputs, &ctx, opts));
            }
        }
        let Some(done) = running.next().await else {
            break;
        };
        match done {
            Ok(result) => {
                let node = &graph.nodes[result.index].id;
                for (table, relative, schema, batches) in result.tables {
                    let rows = batches.iter().map(|b| b.num_rows() as u64).sum();
                    let path = staging.write(Path::new(&relative), schema, &batches)?;
                    manifest.tables.push(TableReport {
                        node: node.clone(),
                        table,
                        path: path.to_string_lossy().to_string(),
                        rows,
                        seconds: result.seconds,
                    });
                }
                if let Some(input) = result.input {
                    manifest.inputs.push(input);
                }
                if let Some((entity, report)) = result.oneid {
                    manifest.oneid.insert(entity, report);
                }
                if let Some(check) = result.check {
                    let failed = check.status == "failed";
                    let message = format!(
                        "the check `{}` ({}) fails on {} row(s) of `{}`",
                        check.check, check.rule, check.failing, check.fact
                    );
                    manifest.checks.push(check);
                    if failed {
                        on_event(Event::Failed {
                            node: node.clone(),
                            error: message.clone(),
                        });
                        failure.get_or_insert(RunError::node(node, message));
                    }
                }
                for (name, schema, batches) in result.register {
                    let table = datafusion::datasource::MemTable::try_new(schema, vec![batches])
                        .map_err(|e| RunError::node(node, e.to_string()))?;
                    ctx.register_table(name.as_str(), Arc::new(table))
                        .map_err(|e| RunError::node(node, e.to_string()))?;
                }
                on_event(Event::Finished {
                    node: node.clone(),
                    summary: result.summary,
                    seconds: result.seconds,
                });
                outputs[result.index] = Some(result.output);
            }
            Err((index, e)) => {
                on_event(Event::Failed {
                    node: graph.nodes[index].id.clone(),
                    error: e.message.clone(),
                });
                failure.get_or_insert(e);
            }
        }
    }
    manifest.inputs.sort_by(|a, b| a.source.cmp(&b.source));
    manifest.tables.sort_by(|a, b| a.table.cmp(&b.table));
    if let Some(e) = failure {
        staging.abandon();
        return Err(e);
    }
    staging.commit()
}

async fn run_node(
    index: usize,
    kind: &NodeKind,
    inputs: Vec<(String, Arc<SourceData>)>,
    ctx: &SessionContext,
    opts: &RunOptions,
) -> Result<NodeResult, (usize, RunError)> {
    let started = Instant::now();
    let dt = format!("dt={}", opts.date);
    match kind {
        NodeKind::Source(job) => {
            let data = source::read(ctx, job, &opts.data)
                .await
                .map_err(|e| (index, e))?;
            let rejected: u64 = data.rejects.iter().map(|b| b.num_rows() as u64).sum();
            let accepted = data.rows();
            let mut tables = Vec::new();
            if rejected > 0 {
                tables.push((
                    format!("rejects.{}", job.name),
                    format!("rejects/{}/{dt}", job.name),
                    source::reject_schema(job),
                    data.rejects.clone(),
                ));
            }
            let reject_examples = reject_examples(&data, 10);
            let input = InputReport {
                source: job.name.clone(),
                rows_read: accepted + rejected,
                rows_accepted: accepted,
                rows_rejected: rejected,
                files: data.files.clone(),
                reject_examples,
            };
            Ok(NodeResult {
                index,
                register: vec![(
                    format!("ods_{}", job.name),
                    data.schema.clone(),
                    data.batches.clone(),
                )],
                summary: format!(
                    "{} rows read, {accepted} accepted, {rejected} rejected",
                    accepted + rejected
                ),
                output: Output::Source(Arc::new(data)),
                tables,
                input: Some(input),
                oneid: None,
                check: None,
                seconds: started.elapsed().as_secs_f64(),
            })
        }
        NodeKind::Fact(job) => fact_node(index, job, ctx, opts).await,
        NodeKind::Summary(job) => summary_node(index, job, ctx, opts).await,
        NodeKind::Check(job) => check_node(index, job, ctx, opts).await,
        NodeKind::Dimension(job) => dimension_node(index, job, ctx, opts).await,
        NodeKind::OneId(job) => {
            let job = job.clone();
            let out = opts.out.clone();
            let date = opts.date.clone();
            let node = format!("oneid.{}", job.name);
            let work = tokio::task::spawn_blocking(move || {
                let refs: Vec<oneid::Input<'_>> = inputs
                    .iter()
                    .map(|(s, d)| oneid::Input { source: s, data: d })
                    .collect();
                let resolved = oneid::resolve(&job, &refs)?;
                let prev = oneid::previous(&out, &job.name, &date)?;
                let assignment = oneid::ids(&job, &date, &resolved, &prev);
                let report = oneid::report(&resolved, &assignment);
                let [mapping, changes, registry] = oneid::tables(&resolved, &assignment)?;
                Ok::<_, RunError>((job, report, mapping, changes, registry))
            });
            let (job, report, mapping, changes, registry) = work
                .await
                .map_err(|e| (index, RunError::node(&node, e.to_string())))?
                .map_err(|e| (index, e))?;
            let e = &job.name;
            let summary = format!(
                "{} rows, {} records, {} persons",
                report.rows, report.records, report.persons
            );
            Ok(NodeResult {
                index,
                output: Output::Done,
                register: vec![(
                    format!("oneid_{e}"),
                    mapping.schema(),
                    vec![mapping.clone()],
                )],
                tables: vec![
                    (
                        format!("oneid.{e}"),
                        format!("oneid/{e}/{dt}"),
                        mapping.schema(),
                        vec![mapping],
                    ),
                    (
                        format!("oneid.{e}_changes"),
                        format!("oneid/{e}_changes/{dt}"),
                        changes.schema(),
                        vec![changes],
                    ),
                    (
                        format!("oneid.{e}_registry"),
                        format!("oneid/{e}_registry/{dt}"),
                        registry.schema(),
                        vec![registry],
                    ),
                ],
                input: None,
                oneid: Some((job.name.clone(), report)),
                check: None,
                summary,
                seconds: started.elapsed().as_secs_f64(),
            })
        }
    }
}

async fn fact_node(
    index: usize,
    job: &mj_compiler::lower::FactJob,
    ctx: &SessionContext,
    opts: &RunOptions,
) -> Result<NodeResult, (usize, RunError)> {
    let started = Instant::now();
    let node = format!("dwd.{}", job.name);
    let fail = |e: String| (index, RunError::node(&node, e));
    let source = ctx
        .table_provider(format!("ods_{}", job.source).as_str())
        .await
        .map_err(|e| fail(e.to_string()))?;
    let oneid = match &job.entity {
        Some(e) => Some(
            ctx.table_provider(format!("oneid_{e}").as_str())
                .await
                .map_err(|e| fail(e.to_string()))?,
        ),
        None => None,
    };
    let plan = mj_plan::fact(
        job,
        datafusion::datasource::provider_as_source(source),
        oneid.map(datafusion::datasource::provider_as_source),
        &opts.date,
    )
    .map_err(|e| fail(e.message))?;
    let df = ctx
        .execute_logical_plan(plan)
        .await
        .map_err(|e| fail(e.to_string()))?;
    let schema = Arc::new(df.schema().as_arrow().clone());
    let batches = df.collect().await.map_err(|e| fail(e.to_string()))?;
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    Ok(NodeResult {
        index,
        output: Output::Done,
        register: vec![(format!("dwd_{}", job.name), schema.clone(), batches.clone())],
        tables: vec![(
            format!("dwd.{}", job.name),
            format!("dwd/{}/dt={}", job.name, opts.date),
            schema,
            batches,
        )],
        input: None,
        oneid: None,
        check: None,
        summary: format!("{rows} rows"),
        seconds: started.elapsed().as_secs_f64(),
    })
}

async fn summary_node(
    index: usize,
    job: &mj_compiler::lower::SummaryJob,
    ctx: &SessionContext,
    opts: &RunOptions,
) -> Result<NodeResult, (usize, RunError)> {
    let started = Instant::now();
    let node = format!("dws.{}", job.name);
    let fail = |e: String| (index, RunError::node(&node, e));
    let mut facts = Vec::new();
    for part in &job.parts {
        let provider = ctx
            .table_provider(format!("dwd_{}", part.fact).as_str())
            .await
            .map_err(|e| fail(e.to_string()))?;
        facts.push((
            part.fact.clone(),
            datafusion::datasource::provider_as_source(provider),
        ));
    }
    let plan = mj_plan::summary(job, &facts, &opts.date).map_err(|e| fail(e.message))?;
    let df = ctx
        .execute_logical_plan(plan)
        .await
        .map_err(|e| fail(e.to_string()))?;
    let schema = Arc::new(df.schema().as_arrow().clone());
    let batches = df.collect().await.map_err(|e| fail(e.to_string()))?;
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    Ok(NodeResult {
        index,
        output: Output::Done,
        register: vec![(job.name.clone(), schema.clone(), batches.clone())],
        tables: vec![(
            format!("dws.{}", job.name),
            format!("dws/{}/dt={}", job.name, opts.date),
            schema,
            batches,
        )],
        input: None,
        oneid: None,
        check: None,
        summary: format!("{rows} rows"),
        seconds: started.elapsed().as_secs_f64(),
    })
}

async fn dimension_node(
    index: usize,
    job: &mj_compiler::lower::DimensionJob,
    ctx: &SessionContext,
    opts: &RunOptions,
) -> Result<NodeResult, (usize, RunError)> {
    use arrow::array::Array;
    let started = Instant::now();
    let node = format!("dim.{}", job.name);
    let fail = |e: String| (index, RunError::node(&node, e));
    let provider = ctx
        .table_provider(format!("ods_{}", job.source).as_str())
        .await
        .map_err(|e| fail(e.to_string()))?;
    let (rows, repeated) =
        mj_plan::dimension(job, datafusion::datasource::provider_as_source(provider))
            .map_err(|e| fail(e.message))?;
    let collect = |plan| async move {
        let df = ctx.execute_logical_plan(plan).await?;
        let schema = Arc::new(df.schema().as_arrow().clone());
        Ok::<_, datafusion::error::DataFusionError>((schema, df.collect().await?))
    };
    let (_, dups) = collect(repeated).await.map_err(|e| fail(e.to_string()))?;
    let mut keys = Vec::new();
    for b in &dups {
        for i in 0..b.num_rows() {
            let key = b.column(0);
            let shown = if key.is_null(i) {
                "null".to_string()
            } else {
                arrow::util::display::array_value_to_string(key, i).unwrap_or_default()
            };
            let n = arrow::util::display::array_value_to_string(b.column(1), i).unwrap_or_default();
            keys.push(format!("{shown} ({n} rows)"));
        }
    }
    if !keys.is_empty() {
        let shown: Vec<&str> = keys.iter().take(10).map(String::as_str).collect();
        return Err(fail(format!(
            "the key `{}` of `{}` repeats, so joining it would multiply rows: {}{}",
            job.key,
            job.source,
            shown.join(", "),
            if keys.len() > 10 {
                format!(" and {} more", keys.len() - 10)
            } else {
                String::new()
            }
        )));
    }
    let (schema, batches) = collect(rows).await.map_err(|e| fail(e.to_string()))?;
    let n: usize = batches.iter().map(|b| b.num_rows()).sum();
    Ok(NodeResult {
        index,
        output: Output::Done,
        register: vec![(format!("dim_{}", job.name), schema.clone(), batches.clone())],
        tables: vec![(
            format!("dim.{}", job.name),
            format!("dim/{}/dt={}", job.name, opts.date),
            schema,
            batches,
        )],
        input: None,
        oneid: None,
        check: None,
        summary: format!("{n} rows"),
        seconds: started.elapsed().as_secs_f64(),
    })
}

async fn check_node(
    index: usize,
    job: &mj_compiler::lower::CheckJob,
    ctx: &SessionContext,
    opts: &RunOptions,
) -> Result<NodeResult, (usize, RunError)> {
    use arrow::array::Array;
    let started = Instant::now();
    let node = format!("check.{}", job.name);
    let fail = |e: String| (index, RunError::node(&node, e));
    let provider = ctx
        .table_provider(format!("dwd_{}", job.fact).as_str())
        .await
        .map_err(|e| fail(e.to_string()))?;
    let plan = mj_plan::check(job, datafusion::datasource::provider_as_source(provider))
        .map_err(|e| fail(e.message))?;
    let df = ctx
        .execute_logical_plan(plan)
        .await
        .map_err(|e| fail(e.to_string()))?;
    let schema = Arc::new(df.schema().as_arrow().clone());
    let batches = df.collect().await.map_err(|e| fail(e.to_string()))?;
    let unique = matches!(job.rule, mj_compiler::lower::CheckKind::Unique(_));
    let mut failing = 0u64;
    let mut examples = Vec::new();
    for b in &batches {
        for i in 0..b.num_rows() {
            failing += if unique {
                b.column(1)
                    .as_any()
                    .downcast_ref::<arrow::array::Int64Array>()
                    .map_or(1, |a| a.value(i) as u64)
            } else {
                1
            };
            if examples.len() < 5 {
                let fields: Vec<String> = schema
                    .fields()
                    .iter()
                    .zip(b.columns())
                    .map(|(f, c)| {
                        let v = if c.is_null(i) {
                            "null".to_string()
                        } else {
                            arrow::util::display::array_value_to_string(c, i).unwrap_or_default()
                        };
                        format!("{}={v}", f.name())
                    })
                    .collect();
                examples.push(fields.join(", "));
            }
        }
    }
    let status = match (failing, job.fail_run) {
        (0, _) => "passed",
        (_, true) => "failed",
        (_, false) => "warned",
    };
    Ok(NodeResult {
        index,
        output: Output::Done,
        register: Vec::new(),
        tables: if failing > 0 {
            vec![(
                format!("dq.{}", job.name),
                format!("dq/{}/dt={}", job.name, opts.date),
                schema,
                batches,
            )]
        } else {
            Vec::new()
        },
        input: None,
        oneid: None,
        check: Some(CheckReport {
            check: job.name.clone(),
            rule: job.text.clone(),
            fact: job.fact.clone(),
            severity: if job.fail_run { "error" } else { "warn" }.to_string(),
            failing,
            examples,
            status: status.to_string(),
        }),
        summary: format!("{status}, {failing} failing row(s)"),
        seconds: started.elapsed().as_secs_f64(),
    })
}

fn reject_examples(data: &SourceData, max: usize) -> Vec<String> {
    use arrow::array::AsArray;
    let mut out = Vec::new();
    for b in &data.rejects {
        let reasons = b.column(b.num_columns() - 1).as_string::<i32>();
        for i in 0..b.num_rows() {
            if out.len() == max {
                return out;
            }
            out.push(reasons.value(i).to_string());
        }
    }
    out
}

/// Reads the sources an entity links and resolves it, for `mj oneid explain`.
pub async fn resolve_entity(
    graph: &JobGraph,
    entity: Option<&str>,
    data: &Path,
) -> Result<(mj_compiler::lower::OneIdJob, oneid::Resolved), RunError> {
    let ctx = session();
    let job = graph
        .nodes
        .iter()
        .find_map(|n| match &n.kind {
            NodeKind::OneId(j) if entity.is_none_or(|e| e == j.name) => Some(j.clone()),
            _ => None,
        })
        .ok_or_else(|| RunError {
            message: match entity {
                Some(e) => format!("the project has no oneid `{e}`"),
                None => "the project has no oneid item".to_string(),
            },
        })?;
    let mut inputs = Vec::new();
    for link in &job.links {
        let Some(NodeKind::Source(s)) = graph
            .nodes
            .iter()
            .map(|n| &n.kind)
            .find(|k| matches!(k, NodeKind::Source(s) if s.name == link.source))
        else {
            continue;
        };
        inputs.push((s.name.clone(), source::read(&ctx, s, data).await?));
    }
    let refs: Vec<oneid::Input<'_>> = inputs
        .iter()
        .map(|(s, d)| oneid::Input { source: s, data: d })
        .collect();
    let resolved = oneid::resolve(&job, &refs)?;
    Ok((job, resolved))
}

/// SQL dialects `mj sql` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    DataFusion,
    Postgres,
    DuckDb,
}

/// The SQL of every planned table, unparsed from the plans `run` executes: (node, SQL).
pub async fn sql(
    graph: &JobGraph,
    date: &str,
    dialect: Dialect,
) -> Result<Vec<(String, String)>, RunError> {
    use datafusion::sql::sqlparser::ast::BinaryOperator;
    use datafusion::sql::unparser::Unparser;
    use datafusion::sql::unparser::dialect::{
        CustomDialectBuilder, DefaultDialect, PostgreSqlDialect,
    };
    let plans = logical_plans(graph, date).await?;
    // The unparser recurses deeply on nested plans: give it a thread with room.
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .stack_size(64 << 20)
            .spawn_scoped(scope, || {
                // DuckDB's own dialect writes `//` (integer division) for every
                // division; mj's divisions are over doubles, which DuckDB divides
                // with `/`.
                let (default, postgres, duckdb) = (
                    DefaultDialect {},
                    PostgreSqlDialect {},
                    CustomDialectBuilder::new()
                        .with_division_operator(BinaryOperator::Divide)
                        .build(),
                );
                let unparser = Unparser::new(match dialect {
                    Dialect::DataFusion => &default,
                    Dialect::Postgres => &postgres,
                    Dialect::DuckDb => &duckdb,
                })
                .with_pretty(true);
                let mut out = Vec::new();
                for (node, plan) in &plans {
                    let statement = unparser
                        .plan_to_sql(plan)
                        .map_err(|e| RunError::node(node, format!("cannot write SQL: {e}")))?;
                    out.push((node.clone(), statement.to_string()));
                }
                Ok(out)
            })
            .map_err(|e| RunError::node("sql", e.to_string()))?
            .join()
            .map_err(|_| RunError::node("sql", "the SQL writer panicked".to_string()))?
    })
}

/// The plans `run` would execute for each table built from a plan, without reading
/// data: (node, logical plan, physical plan), in graph order.
pub async fn plans(
    graph: &JobGraph,
    date: &str,
) -> Result<Vec<(String, String, String)>, RunError> {
    let ctx = session();
    let mut out = Vec::new();
    for (node, plan) in logical_plans_in(&ctx, graph, date).await? {
        let physical = ctx
            .state()
            .create_physical_plan(&plan)
            .await
            .map_err(|e| RunError::node(&node, e.to_string()))?;
        out.push((
            node,
            plan.display_indent().to_string(),
            datafusion::physical_plan::displayable(physical.as_ref())
                .indent(true)
                .to_string(),
        ));
    }
    Ok(out)
}

async fn logical_plans(
    graph: &JobGraph,
    date: &str,
) -> Result<Vec<(String, datafusion::logical_expr::LogicalPlan)>, RunError> {
    logical_plans_in(&session(), graph, date).await
}

/// Every planned table's logical plan, with empty tables standing in for the data.
async fn logical_plans_in(
    ctx: &SessionContext,
    graph: &JobGraph,
    date: &str,
) -> Result<Vec<(String, datafusion::logical_expr::LogicalPlan)>, RunError> {
    use datafusion::datasource::{MemTable, provider_as_source};
    let fail = |node: &str, e: String| RunError::node(node, e);
    for n in &graph.nodes {
        match &n.kind {
            NodeKind::Source(s) => {
                let table = MemTable::try_new(source::schema(s), vec![vec![]])
                    .map_err(|e| fail(&n.id, e.to_string()))?;
                ctx.register_table(format!("ods_{}", s.name).as_str(), Arc::new(table))
                    .map_err(|e| fail(&n.id, e.to_string()))?;
            }
            NodeKind::OneId(o) => {
                let table = MemTable::try_new(oneid::mapping_schema(), vec![vec![]])
                    .map_err(|e| fail(&n.id, e.to_string()))?;
                ctx.register_table(format!("oneid_{}", o.name).as_str(), Arc::new(table))
                    .map_err(|e| fail(&n.id, e.to_string()))?;
            }
            NodeKind::Fact(_)
            | NodeKind::Summary(_)
            | NodeKind::Check(_)
            | NodeKind::Dimension(_) => {}
        }
    }
    let mut out = Vec::new();
    for n in &graph.nodes {
        if let NodeKind::Summary(job) = &n.kind {
            let mut facts = Vec::new();
            for part in &job.parts {
                let provider = ctx
                    .table_provider(format!("dwd_{}", part.fact).as_str())
                    .await
                    .map_err(|e| fail(&n.id, e.to_string()))?;
                facts.push((part.fact.clone(), provider_as_source(provider)));
            }
            let plan = mj_plan::summary(job, &facts, date).map_err(|e| fail(&n.id, e.message))?;
            out.push((n.id.clone(), plan));
            continue;
        }
        let NodeKind::Fact(job) = &n.kind else {
            continue;
        };
        let source = ctx
            .table_provider(format!("ods_{}", job.source).as_str())
            .await
            .map_err(|e| fail(&n.id, e.to_string()))?;
        let oneid = match &job.entity {
            Some(e) => Some(provider_as_source(
                ctx.table_provider(format!("oneid_{e}").as_str())
                    .await
                    .map_err(|e| fail(&n.id, e.to_string()))?,
            )),
            None => None,
        };
        let plan = mj_plan::fact(job, provider_as_source(source), oneid, date)
            .map_err(|e| fail(&n.id, e.message))?;
        // Later plans scan this table: register it, empty, with the plan's schema.
        let schema = Arc::new(plan.schema().as_arrow().clone());
        let table =
            MemTable::try_new(schema, vec![vec![]]).map_err(|e| fail(&n.id, e.to_string()))?;
        ctx.register_table(format!("dwd_{}", job.name).as_str(), Arc::new(table))
            .map_err(|e| fail(&n.id, e.to_string()))?;
        out.push((n.id.clone(), plan));
    }
    Ok(out)
}
