//! The mj runtime: executes a job graph (see `mj_compiler::lower`) on DataFusion for
//! one business date, writes each table's partition atomically, and records the run
//! in a manifest `OUT/_runs/<run_id>.json`.
//!
//! Nodes whose dependencies are done run concurrently. The runtime knows nothing of
//! terminals: it reports [`Event`]s to a callback and the CLI draws them.

pub mod aipl;
pub mod attribution;
pub mod audiences;
pub mod compare;
pub mod components;
pub mod export;
pub mod near;
pub mod oneid;
pub mod rules;

pub use rules::RuleNote;
pub mod scan;
pub mod source;
pub mod tags;
pub mod travel;
pub mod write;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use datafusion::prelude::{SessionConfig, SessionContext};
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use mj_compiler::lower::{JobGraph, Node, NodeKind};
use serde::{Deserialize, Serialize};

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

    pub fn node(node: impl std::fmt::Display, message: String) -> RunError {
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
    /// Compile rules (tags' `case`) with Cranelift; off, DataFusion's `CASE` runs them.
    pub jit: bool,
    /// Take every source's and OneID's partition of this date from an earlier run
    /// (`OUT/ods/…`, `OUT/oneid/…`) instead of reading and resolving again; rebuild
    /// dimensions, facts, checks and summaries from them.
    pub reuse: bool,
    /// Show values of `pii` identifiers in clear in the manifest (masked otherwise).
    pub show_pii: bool,
}

/// The manifest of a run.
#[derive(Debug, Clone, Serialize, Deserialize)]
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
    /// Per entity: each tag's coverage and how its rules ran.
    pub tags: Vec<TagsReport>,
    /// Per AIPL model: entities in each stage and how its rule ran.
    pub aipl: Vec<AiplReport>,
    /// Per audience: its size, its overlap with the entity's other audiences and the
    /// members each route channel gets.
    pub audiences: Vec<AudienceReport>,
    /// Per comparison: the groups' sizes and the most significant differences.
    pub comparisons: Vec<compare::CompareReport>,
    /// Per export: its file and rows.
    pub exports: Vec<export::ExportReport>,
    /// Per AIPL model broken down by channel: paths, conversions, Markov credits.
    pub contributions: Vec<attribution::ContributionReport>,
    /// Per scan: rooms, area, outputs and the time of each step.
    pub scans: Vec<scan::ScanReport>,
    pub error: Option<String>,
}

/// An AIPL model in a run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AiplReport {
    pub model: String,
    /// Entities per stage (`A`, `I`, `P`, `L`, and `none`).
    pub stages: BTreeMap<String, u64>,
    /// Per breakdown (`channel`): entities per value, then per stage.
    pub by: BTreeMap<String, BTreeMap<String, BTreeMap<String, u64>>>,
    pub rule: Vec<RuleNote>,
}

/// An audience in a run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AudienceReport {
    pub audience: String,
    pub entity: String,
    pub members: u64,
    /// Members shared with each other audience of the entity.
    pub overlap: BTreeMap<String, u64>,
    /// Members per channel of the audience's route (none without a route).
    pub route: BTreeMap<String, u64>,
}

/// The tags of an entity in a run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TagsReport {
    pub entity: String,
    /// Rows of the tags table: every OneID.
    pub entities: u64,
    pub tags: Vec<tags::Coverage>,
    pub rules: Vec<RuleNote>,
}

/// A data-quality check's outcome.
#[derive(Debug, Clone, Serialize, Deserialize)]
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

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InputReport {
    pub source: String,
    pub rows_read: u64,
    pub rows_accepted: u64,
    pub rows_rejected: u64,
    pub files: Vec<FileStats>,
    /// Up to ten rejected rows' reasons.
    pub reject_examples: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
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
    /// Whether later nodes' plans scan this node's (first) table, under the name
    /// [`scan_name`] gives.
    scanned: bool,
    /// A partition of an earlier run later plans scan instead (with `reuse`).
    reused: Option<(PathBuf, arrow::datatypes::SchemaRef)>,
    tables: Vec<(
        String,
        String,
        arrow::datatypes::SchemaRef,
        Vec<arrow::array::RecordBatch>,
    )>,
    /// Tables the node streamed into staging itself, as its plan produced them:
    /// (table, partition, schema, rows).
    written: Vec<(String, String, arrow::datatypes::SchemaRef, u64)>,
    input: Option<InputReport>,
    oneid: Option<(String, oneid::OneIdReport)>,
    check: Option<CheckReport>,
    tags: Option<TagsReport>,
    aipl: Option<AiplReport>,
    audiences: Vec<AudienceReport>,
    compare: Option<compare::CompareReport>,
    /// A file to stage (partition folder, file name, bytes) and its report.
    export: Option<(PathBuf, String, Vec<u8>, export::ExportReport)>,
    contribution: Option<attribution::ContributionReport>,
    /// A scan's report and its files (output path, parts), staged by the driver.
    scan: Option<(scan::ScanReport, Vec<mj_scan::job::OutputFiles>)>,
    summary: String,
    seconds: f64,
}

impl NodeResult {
    /// A finished node that wrote nothing and reports nothing beyond its summary.
    fn new(index: usize, output: Output, summary: String, seconds: f64) -> NodeResult {
        NodeResult {
            index,
            output,
            scanned: false,
            reused: None,
            tables: Vec::new(),
            written: Vec::new(),
            input: None,
            oneid: None,
            check: None,
            tags: None,
            aipl: None,
            audiences: Vec::new(),
            compare: None,
            export: None,
            contribution: None,
            scan: None,
            summary,
            seconds,
        }
    }
}

/// Rows per batch in every plan: four times DataFusion's default. Sorts cost less
/// (each batch is sorted on its own and fewer sorted runs are merged), and so do the
/// per-batch steps of scans, joins and aggregates; a batch of a wide table is still a
/// few megabytes.
const BATCH_ROWS: usize = 32 * 1024;

pub fn session() -> SessionContext {
    SessionContext::new_with_config(
        SessionConfig::new()
            .with_target_partitions(2)
            .with_batch_size(BATCH_ROWS),
    )
}

/// Whether a node's joins are sort-merge joins rather than hash joins. A fact joins
/// every row of its source to the OneID mapping on the record key: millions of rows
/// on both sides, and the fact is written sorted by its grain. Sorting both sides and
/// merging them costs less than hashing strings into a table of millions of entries
/// and then sorting the joined rows, and when the grain is the record key the merged
/// rows come out in the order they are written in. Other nodes join small dimensions
/// or aggregates, where a hash join is the better choice.
fn merge_joins(kind: &NodeKind) -> bool {
    matches!(kind, NodeKind::Fact(job) if job.entity.is_some())
}

/// The context a node's plan is made physical and run in: the session, with its join
/// choice ([`merge_joins`]). It shares the session's tables.
fn node_context(ctx: &SessionContext, kind: &NodeKind) -> SessionContext {
    if !merge_joins(kind) {
        return ctx.clone();
    }
    let mut state = ctx.state();
    state.config_mut().options_mut().optimizer.prefer_hash_join = false;
    SessionContext::new_with_state(state)
}

/// The physical plan `run` executes for a node's logical plan (its join choice
/// included), in a fresh session: the plan reads the files it names.
pub async fn physical_plan(
    kind: &NodeKind,
    plan: &datafusion::logical_expr::LogicalPlan,
) -> datafusion::error::Result<Arc<dyn datafusion::physical_plan::ExecutionPlan>> {
    node_context(&session(), kind)
        .state()
        .create_physical_plan(plan)
        .await
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
        tags: Vec::new(),
        aipl: Vec::new(),
        audiences: Vec::new(),
        comparisons: Vec::new(),
        exports: Vec::new(),
        contributions: Vec::new(),
        scans: Vec::new(),
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

impl Manifest {
    /// A manifest written by a run (`OUT/_runs/<run_id>.json`).
    pub fn read(path: &Path) -> Result<Manifest, RunError> {
        let text = std::fs::read_to_string(path).map_err(|e| RunError::io(path, e))?;
        serde_json::from_str(&text).map_err(|e| RunError {
            message: format!("{}: not a run manifest: {e}", path.display()),
        })
    }

    /// The manifest of the latest successful run of `date` in `out`, if any.
    pub fn latest_succeeded(out: &Path, date: &str) -> Option<Manifest> {
        let mut runs: Vec<PathBuf> = std::fs::read_dir(out.join("_runs"))
            .ok()?
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.extension().is_some_and(|x| x == "json")
                    && p.file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with(date))
            })
            .collect();
        runs.sort();
        runs.iter()
            .rev()
            .filter_map(|p| Manifest::read(p).ok())
            .find(|m| m.status == "succeeded")
    }
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
            for (i, node) in graph.nodes.iter().enumerate() {
                if started[i] || !node.deps.iter().all(|&d| outputs[d].is_some()) {
                    continue;
                }
                started[i] = true;
                on_event(Event::Started {
                    node: node.id.to_string(),
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
                let staged = staging.dir().to_path_buf();
                let id = node.id.clone();
                let kind = &node.kind;
                let ctx = &ctx;
                running.push(async move {
                    let result = run_node(i, &id, kind, inputs, ctx, opts, &staged).await?;
                    // Each node writes its own partitions off the scheduler, so one
                    // node's write does not hold up the others.
                    let tables: Vec<(String, arrow::datatypes::SchemaRef, Vec<_>)> = result
                        .tables
                        .iter()
                        .map(|(_, relative, schema, batches)| {
                            (relative.clone(), schema.clone(), batches.clone())
                        })
                        .collect();
                    tokio::task::spawn_blocking(move || {
                        for (relative, schema, batches) in tables {
                            write::stage(&staged, Path::new(&relative), schema, &batches)?;
                        }
                        Ok::<_, RunError>(())
                    })
                    .await
                    .map_err(|e| (i, RunError::node(&id, e.to_string())))?
                    .map_err(|e| (i, e))?;
                    Ok(result)
                });
            }
        }
        let Some(done) = running.next().await else {
            break;
        };
        match done {
            Ok(result) => {
                let node = &graph.nodes[result.index].id;
                let scanned = result
                    .written
                    .first()
                    .map(|(_, relative, schema, _)| (relative.clone(), schema.clone()))
                    .or_else(|| {
                        result
                            .tables
                            .first()
                            .map(|(_, relative, schema, _)| (relative.clone(), schema.clone()))
                    })
                    .filter(|_| result.scanned);
                let tables =
                    result
                        .written
                        .into_iter()
                        .chain(result.tables.into_iter().map(
                            |(table, relative, schema, batches)| {
                                let rows = batches.iter().map(|b| b.num_rows() as u64).sum();
                                (table, relative, schema, rows)
                            },
                        ));
                for (table, relative, _, rows) in tables {
                    let path = staging.record(Path::new(&relative));
                    manifest.tables.push(TableReport {
                        node: node.to_string(),
                        table,
                        path: path.to_string_lossy().to_string(),
                        rows,
                        seconds: result.seconds,
                    });
                }
                if let (Some((relative, schema)), Some(name)) =
                    (scanned, scan_name(&graph.nodes[result.index]))
                {
                    // Later plans scan the staged Parquet, never memory: every plan
                    // names files, so it can travel (datafusion-proto, Ballista).
                    register_partition(&ctx, &name, &staging.staged(Path::new(&relative)), schema)
                        .map_err(|e| RunError::node(node, e))?;
                }
                if let (Some((dir, schema)), Some(name)) =
                    (result.reused, scan_name(&graph.nodes[result.index]))
                {
                    register_partition(&ctx, &name, &dir, schema)
                        .map_err(|e| RunError::node(node, e))?;
                }
                if let Some(tags) = result.tags {
                    manifest.tags.push(tags);
                }
                if let Some(aipl) = result.aipl {
                    manifest.aipl.push(aipl);
                }
                manifest.audiences.extend(result.audiences);
                if let Some(c) = result.compare {
                    manifest.comparisons.push(c);
                }
                if let Some(c) = result.contribution {
                    manifest.contributions.push(c);
                }
                if let Some((report, files)) = result.scan {
                    for (relative, parts) in &files {
                        staging.write_output(Path::new(relative), parts)?;
                    }
                    manifest.scans.push(report);
                }
                if let Some((folder, file, bytes, report)) = result.export {
                    staging.write_file(&folder, &file, &bytes)?;
                    manifest.exports.push(report);
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
                            node: node.to_string(),
                            error: message.clone(),
                        });
                        failure.get_or_insert(RunError::node(node, message));
                    }
                }
                on_event(Event::Finished {
                    node: node.to_string(),
                    summary: result.summary,
                    seconds: result.seconds,
                });
                outputs[result.index] = Some(result.output);
            }
            Err((index, e)) => {
                on_event(Event::Failed {
                    node: graph.nodes[index].id.to_string(),
                    error: e.message.clone(),
                });
                failure.get_or_insert(e);
            }
        }
    }
    manifest.inputs.sort_by(|a, b| a.source.cmp(&b.source));
    manifest.tables.sort_by(|a, b| a.table.cmp(&b.table));
    manifest.checks.sort_by(|a, b| a.check.cmp(&b.check));
    if let Some(e) = failure {
        staging.abandon();
        return Err(e);
    }
    staging.commit()
}

async fn run_node(
    index: usize,
    node: &mj_ir::Table,
    kind: &NodeKind,
    inputs: Vec<(String, Arc<SourceData>)>,
    ctx: &SessionContext,
    opts: &RunOptions,
    staged: &Path,
) -> Result<NodeResult, (usize, RunError)> {
    let started = Instant::now();
    let dt = format!("dt={}", opts.date);
    if opts.reuse && matches!(kind, NodeKind::Source(_) | NodeKind::OneId(_)) {
        let dir = opts.out.join(node.partition(&opts.date));
        if !dir.is_dir() {
            return Err((
                index,
                RunError::node(
                    node,
                    format!(
                        "no earlier run wrote {}; run without reusing sources first",
                        dir.display()
                    ),
                ),
            ));
        }
        let schema = match kind {
            NodeKind::Source(job) => source::schema(job),
            _ => oneid::mapping_schema(),
        };
        return Ok(NodeResult {
            reused: Some((dir, schema)),
            ..NodeResult::new(
                index,
                Output::Done,
                "reused from an earlier run".to_string(),
                started.elapsed().as_secs_f64(),
            )
        });
    }
    match kind {
        NodeKind::Source(job) => {
            let data = source::read(ctx, job, &opts.data)
                .await
                .map_err(|e| (index, e))?;
            let rejected: u64 = data.rejects.iter().map(|b| b.num_rows() as u64).sum();
            let accepted = data.rows();
            let mut tables = vec![(
                format!("ods.{}", job.name),
                format!("ods/{}/{dt}", job.name),
                data.schema.clone(),
                data.batches.clone(),
            )];
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
                scanned: true,
                reused: None,
                summary: format!(
                    "{} rows read, {accepted} accepted, {rejected} rejected",
                    accepted + rejected
                ),
                output: Output::Source(Arc::new(data)),
                tables,
                written: Vec::new(),
                input: Some(input),
                oneid: None,
                check: None,
                tags: None,
                aipl: None,
                audiences: Vec::new(),
                compare: None,
                export: None,
                contribution: None,
                scan: None,
                seconds: started.elapsed().as_secs_f64(),
            })
        }
        NodeKind::OneId(job) => {
            let job = job.clone();
            let out = opts.out.clone();
            let date = opts.date.clone();
            let show_pii = opts.show_pii;
            let node = format!("oneid.{}", job.name);
            let work = tokio::task::spawn_blocking(move || {
                let refs: Vec<oneid::Input<'_>> = inputs
                    .iter()
                    .map(|(s, d)| oneid::Input { source: s, data: d })
                    .collect();
                let resolved = oneid::resolve(&job, &refs)?;
                let prev = oneid::previous(&out, &job.name, &date)?;
                let assignment = oneid::ids(&job, &date, &resolved, &prev);
                let report = oneid::report(&resolved, &assignment, show_pii);
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
                scanned: true,
                reused: None,
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
                written: Vec::new(),
                input: None,
                oneid: Some((job.name.clone(), report)),
                check: None,
                tags: None,
                aipl: None,
                audiences: Vec::new(),
                compare: None,
                export: None,
                contribution: None,
                scan: None,
                summary,
                seconds: started.elapsed().as_secs_f64(),
            })
        }
        NodeKind::Contribution(job) => {
            let (tables, report) = attribution::run(ctx, job, &opts.date)
                .await
                .map_err(|e| (index, RunError::node(node, e)))?;
            let summary = format!("{} paths, {} conversions", report.paths, report.conversions);
            Ok(NodeResult {
                tables,
                contribution: Some(report),
                ..NodeResult::new(
                    index,
                    Output::Done,
                    summary,
                    started.elapsed().as_secs_f64(),
                )
            })
        }
        NodeKind::Scan(job) => {
            let job = scan::job(job, &opts.data, &opts.out);
            let (report, files) = tokio::task::spawn_blocking(move || scan::render(&job))
                .await
                .map_err(|e| (index, RunError::node(node, e.to_string())))?
                .map_err(|e| (index, RunError::node(node, e)))?;
            let summary = format!(
                "{} rooms, {:.1} m², {} panoramas, {} outputs",
                report.report.rooms,
                report.report.area_m2,
                report.report.panoramas,
                files.len()
            );
            Ok(NodeResult {
                scan: Some((report, files)),
                ..NodeResult::new(
                    index,
                    Output::Done,
                    summary,
                    started.elapsed().as_secs_f64(),
                )
            })
        }
        NodeKind::Export(job) => {
            let (folder, file, bytes, report) = export::run(ctx, job, &opts.date)
                .await
                .map_err(|e| (index, RunError::node(node, e)))?;
            let summary = format!("{} rows to {}", report.rows, report.path);
            Ok(NodeResult {
                export: Some((folder, file, bytes, report)),
                ..NodeResult::new(
                    index,
                    Output::Done,
                    summary,
                    started.elapsed().as_secs_f64(),
                )
            })
        }
        NodeKind::Compare(job) => {
            let (tables, report) = compare::run(ctx, job, &opts.date)
                .await
                .map_err(|e| (index, RunError::node(node, e)))?;
            let summary = match report.top.first() {
                Some(t) => format!(
                    "{} vs {} entities; most different by {} (p = {})",
                    report.a_entities,
                    report.b_entities,
                    t.attribute,
                    t.p_value.map_or("-".to_string(), |p| format!("{p:.3e}"))
                ),
                None => format!("{} vs {} entities", report.a_entities, report.b_entities),
            };
            Ok(NodeResult {
                tables,
                compare: Some(report),
                ..NodeResult::new(
                    index,
                    Output::Done,
                    summary,
                    started.elapsed().as_secs_f64(),
                )
            })
        }
        NodeKind::Near(job) => {
            let (schema, batches) = near::run(ctx, job)
                .await
                .map_err(|e| (index, RunError::node(node, e)))?;
            let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
            Ok(NodeResult {
                scanned: true,
                tables: vec![(
                    node.to_string(),
                    format!("{}/{}/{dt}", node.layer, node.name),
                    schema,
                    batches,
                )],
                ..NodeResult::new(
                    index,
                    Output::Done,
                    format!("{rows} located"),
                    started.elapsed().as_secs_f64(),
                )
            })
        }
        _ => planned_node(index, node, kind, ctx, opts, staged).await,
    }
}

/// A table of the session as a plan input.
async fn input(
    ctx: &SessionContext,
    name: &str,
) -> Result<Arc<dyn datafusion::logical_expr::TableSource>, String> {
    ctx.table_provider(name)
        .await
        .map(datafusion::datasource::provider_as_source)
        .map_err(|e| e.to_string())
}

/// The plan of a planned node, over the tables earlier nodes registered: the same
/// plan `run` executes, `mj plan` shows and `mj sql` writes. None for sources and
/// OneIDs, which are not plans.
async fn node_plan(
    ctx: &SessionContext,
    kind: &NodeKind,
    date: &str,
    jit: bool,
) -> Result<Option<(datafusion::logical_expr::LogicalPlan, Vec<RuleNote>)>, String> {
    let plan = match kind {
        NodeKind::Source(_)
        | NodeKind::OneId(_)
        | NodeKind::Near(_)
        | NodeKind::Compare(_)
        | NodeKind::Contribution(_)
        | NodeKind::Scan(_)
        | NodeKind::Export(_) => {
            return Ok(None);
        }
        NodeKind::Fact(job) => {
            let source = input(ctx, &format!("ods_{}", job.source)).await?;
            let oneid = match &job.entity {
                Some(e) => Some(input(ctx, &format!("oneid_{e}")).await?),
                None => None,
            };
            mj_plan::fact(job, source, oneid, date)
        }
        NodeKind::Summary(job) => {
            let mut facts = Vec::new();
            for part in &job.parts {
                facts.push((
                    part.fact.clone(),
                    input(ctx, &format!("dwd_{}", part.fact)).await?,
                ));
            }
            let mut dims = Vec::new();
            for d in job.parts.iter().flat_map(|p| &p.dims) {
                if !dims.iter().any(|(n, _)| *n == d.dimension) {
                    dims.push((
                        d.dimension.clone(),
                        input(ctx, &format!("dim_{}", d.dimension)).await?,
                    ));
                }
            }
            mj_plan::summary(job, &facts, &dims, date)
        }
        NodeKind::Check(job) => mj_plan::check(job, input(ctx, &job.table.scan_name()).await?),
        NodeKind::Dimension(job) => {
            mj_plan::dimension(job, input(ctx, &format!("ods_{}", job.source)).await?)
        }
        NodeKind::Features(job) => {
            let oneid = input(ctx, &format!("oneid_{}", job.entity)).await?;
            let mut tables = Vec::new();
            for t in &job.tables {
                tables.push((t.node.clone(), input(ctx, &t.node.scan_name()).await?));
            }
            let metrics = match &job.metrics {
                Some((table, _)) => Some(input(ctx, table).await?),
                None => None,
            };
            mj_plan::assets::features(job, oneid, &tables, metrics, date)
        }
        NodeKind::Tags(job) => {
            let features = input(ctx, &format!("ads_{}_features", job.entity)).await?;
            let (plan, rules) =
                mj_plan::assets::tags(job, features, date).map_err(|e| e.message)?;
            return rules::bind(plan, rules, jit)
                .map(Some)
                .map_err(|e| e.to_string());
        }
        NodeKind::Rfm(job) => {
            let features = input(ctx, &format!("ads_{}_features", job.entity)).await?;
            mj_plan::assets::rfm(job, features, date)
        }
        NodeKind::Aipl(job) => {
            let features = input(ctx, &format!("ads_{}_features", job.entity)).await?;
            let (plan, rules) =
                mj_plan::assets::aipl(job, features, date).map_err(|e| e.message)?;
            return rules::bind(plan, rules, jit)
                .map(Some)
                .map_err(|e| e.to_string());
        }
        NodeKind::Audiences(job) => {
            let e = &job.entity;
            let features = input(ctx, &format!("ads_{e}_features")).await?;
            let mut inputs = mj_plan::assets::AudienceInputs {
                aipl: Vec::new(),
                rfm: Vec::new(),
                near: Vec::new(),
            };
            for m in &job.aipl {
                inputs
                    .aipl
                    .push((m.clone(), input(ctx, &format!("ads_aipl_{m}")).await?));
            }
            for m in &job.rfm {
                inputs
                    .rfm
                    .push((m.clone(), input(ctx, &format!("ads_rfm_{m}")).await?));
            }
            for u in &job.near {
                let d = &u.dimension;
                inputs.near.push(mj_plan::assets::NearInput {
                    dimension: d.clone(),
                    near: input(ctx, &format!("ads_{e}_near_{d}")).await?,
                    dim: input(ctx, &format!("dim_{d}")).await?,
                });
            }
            let (plan, rules) =
                mj_plan::assets::audiences(job, features, &inputs, date).map_err(|e| e.message)?;
            return rules::bind(plan, rules, jit)
                .map(Some)
                .map_err(|e| e.to_string());
        }
    };
    plan.map(|p| Some((p, Vec::new()))).map_err(|e| e.message)
}

/// The name later plans scan a node's table by.
fn scan_name(node: &Node) -> Option<String> {
    scanned(&node.kind).then(|| node.id.scan_name())
}

/// Whether later plans scan a node's table (what is computed from finished tables is
/// not scanned).
fn scanned(kind: &NodeKind) -> bool {
    match kind {
        NodeKind::Source(_)
        | NodeKind::OneId(_)
        | NodeKind::Fact(_)
        | NodeKind::Summary(_)
        | NodeKind::Dimension(_)
        | NodeKind::Features(_)
        | NodeKind::Tags(_)
        | NodeKind::Aipl(_)
        | NodeKind::Rfm(_)
        | NodeKind::Near(_)
        | NodeKind::Audiences(_) => true,
        NodeKind::Check(_)
        | NodeKind::Compare(_)
        | NodeKind::Export(_)
        | NodeKind::Contribution(_)
        | NodeKind::Scan(_) => false,
    }
}

async fn collect(
    ctx: &SessionContext,
    plan: datafusion::logical_expr::LogicalPlan,
) -> Result<(arrow::datatypes::SchemaRef, Vec<arrow::array::RecordBatch>), String> {
    let df = ctx
        .execute_logical_plan(plan)
        .await
        .map_err(|e| e.to_string())?;
    let schema = Arc::new(df.schema().as_arrow().clone());
    let batches = df.collect().await.map_err(|e| e.to_string())?;
    Ok((schema, batches))
}

/// Runs a plan into one Parquet file, encoding row groups on the blocking pool while
/// the plan computes the next rows; returns the schema and the rows written.
async fn stream_into(
    ctx: &SessionContext,
    node: &str,
    plan: datafusion::logical_expr::LogicalPlan,
    file: PathBuf,
) -> Result<(arrow::datatypes::SchemaRef, u64), RunError> {
    let plain = |e: datafusion::error::DataFusionError| RunError::node(node, e.to_string());
    let df = ctx.execute_logical_plan(plan).await.map_err(plain)?;
    let schema = Arc::new(df.schema().as_arrow().clone());
    let mut stream = df.execute_stream().await.map_err(plain)?;
    // About one row group of batches in flight: the plan keeps going while the
    // writer encodes.
    let (tx, mut rx) =
        tokio::sync::mpsc::channel::<arrow::array::RecordBatch>(write::ROW_GROUP_ROWS / BATCH_ROWS);
    let writer_schema = schema.clone();
    let writer = tokio::task::spawn_blocking(move || {
        let mut w = write::PartWriter::create(&file, writer_schema)?;
        while let Some(b) = rx.blocking_recv() {
            w.push(&b)?;
        }
        w.finish()
    });
    let mut failed = None;
    while let Some(batch) = stream.next().await {
        match batch {
            Ok(b) => {
                if tx.send(b).await.is_err() {
                    // The writer stopped: its error says why.
                    break;
                }
            }
            Err(e) => {
                failed = Some(plain(e));
                break;
            }
        }
    }
    drop(tx);
    let written = writer
        .await
        .map_err(|e| RunError::node(node, format!("the Parquet writer stopped: {e}")))?;
    if let Some(e) = failed {
        return Err(e);
    }
    Ok((schema, written?))
}

/// Runs a planned node: its plan, then what its kind does with the rows.
async fn planned_node(
    index: usize,
    node: &mj_ir::Table,
    kind: &NodeKind,
    ctx: &SessionContext,
    opts: &RunOptions,
    staged: &Path,
) -> Result<NodeResult, (usize, RunError)> {
    let started = Instant::now();
    let fail = |e: String| (index, RunError::node(node, e));
    if let NodeKind::Dimension(job) = kind {
        // A repeated key would multiply the rows of every fact joining it.
        let source = input(ctx, &format!("ods_{}", job.source))
            .await
            .map_err(fail)?;
        let plan = mj_plan::repeated(&format!("ods_{}", job.source), source, &job.key)
            .map_err(|e| fail(e.message))?;
        let (schema, dups) = collect(ctx, plan).await.map_err(fail)?;
        let (n, examples) = examples(&schema, &dups, 10, Some(1));
        if n > 0 {
            return Err(fail(format!(
                "the key `{}` of `{}` repeats, so joining it would multiply rows: {}",
                job.key,
                job.source,
                examples.join("; ")
            )));
        }
    }
    let (plan, rules) = node_plan(ctx, kind, &opts.date, opts.jit)
        .await
        .map_err(fail)?
        .ok_or_else(|| fail("not a planned table".to_string()))?;
    let (layer, name) = (&node.layer, &node.name);
    if !matches!(
        kind,
        NodeKind::Tags(_) | NodeKind::Aipl(_) | NodeKind::Audiences(_) | NodeKind::Check(_)
    ) {
        // Only written: rows go to the Parquet writer as the plan produces them.
        let relative = format!("{layer}/{name}/dt={}", opts.date);
        let file = write::part_file(staged, Path::new(&relative)).map_err(|e| (index, e))?;
        let (schema, rows) = stream_into(&node_context(ctx, kind), &node.to_string(), plan, file)
            .await
            .map_err(|e| (index, e))?;
        let mut result = NodeResult {
            scanned: scanned(kind),
            ..NodeResult::new(
                index,
                Output::Done,
                format!("{rows} rows"),
                started.elapsed().as_secs_f64(),
            )
        };
        result
            .written
            .push((node.to_string(), relative, schema, rows));
        return Ok(result);
    }
    let (schema, batches) = collect(ctx, plan).await.map_err(fail)?;
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    let table = |schema, batches| {
        vec![(
            node.to_string(),
            format!("{layer}/{name}/dt={}", opts.date),
            schema,
            batches,
        )]
    };
    let mut result = NodeResult {
        scanned: scanned(kind),
        ..NodeResult::new(index, Output::Done, format!("{rows} rows"), 0.0)
    };
    if let NodeKind::Tags(job) = kind {
        let (long_schema, long, coverage) = tags::long(job, &schema, &batches).map_err(fail)?;
        result.tables = table(schema, batches);
        result.tables.push((
            format!("ads.{}_tag_values", job.entity),
            format!("ads/{}_tag_values/dt={}", job.entity, opts.date),
            long_schema,
            long,
        ));
        result.tags = Some(TagsReport {
            entity: job.entity.clone(),
            entities: rows as u64,
            tags: coverage,
            rules,
        });
    } else if let NodeKind::Aipl(job) = kind {
        let mut stages: BTreeMap<String, u64> = ["A", "I", "P", "L", "none"]
            .iter()
            .map(|s| (s.to_string(), 0))
            .collect();
        for b in &batches {
            let column = arrow::compute::cast(b.column(1), &arrow::datatypes::DataType::Utf8)
                .map_err(|e| fail(e.to_string()))?;
            let column = column
                .as_any()
                .downcast_ref::<arrow::array::StringArray>()
                .ok_or_else(|| fail("the stage is not text".to_string()))?;
            for i in 0..arrow::array::Array::len(column) {
                use arrow::array::Array;
                let key = if column.is_null(i) {
                    "none"
                } else {
                    column.value(i)
                };
                *stages.entry(key.to_string()).or_default() += 1;
            }
        }
        result.summary = format!(
            "{rows} rows: {}",
            stages
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let mut by = BTreeMap::new();
        let mut by_tables = Vec::new();
        for b in &job.breakdowns {
            let counts = aipl::counts_by(&batches, &b.name).map_err(|e| fail(e.message))?;
            let mut per: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
            for ((stage, value), n) in &counts {
                if stage != "none" {
                    *per.entry(value.clone())
                        .or_default()
                        .entry(stage.clone())
                        .or_default() += n;
                }
            }
            by.insert(b.name.clone(), per);
            let batch = aipl::counts_batch(&counts, &b.name).map_err(|e| fail(e.message))?;
            by_tables.push((
                format!("ads.aipl_{}_{}", job.name, b.name),
                format!("ads/aipl_{}_{}/dt={}", job.name, b.name, opts.date),
                batch.schema(),
                vec![batch],
            ));
        }
        result.aipl = Some(AiplReport {
            model: job.name.clone(),
            stages,
            by,
            rule: rules,
        });
        // The flow from the day before, when that day has run: a table for dashboards.
        let yesterday = chrono::NaiveDate::parse_from_str(&opts.date, "%Y-%m-%d")
            .map(|d| {
                (d - chrono::Duration::days(1))
                    .format("%Y-%m-%d")
                    .to_string()
            })
            .map_err(|e| fail(e.to_string()))?;
        let flow_table = match aipl::read(&opts.out, &job.name, &yesterday) {
            Ok(before) => {
                let after = aipl::stages(&batches).map_err(|e| fail(e.message))?;
                Some(
                    aipl::flow_batch(&aipl::flow(&before, &after), &yesterday)
                        .map_err(|e| fail(e.message))?,
                )
            }
            Err(_) => None,
        };
        result.tables = table(schema, batches);
        result.tables.extend(by_tables);
        if let Some(b) = flow_table {
            result.tables.push((
                format!("ads.aipl_{}_flow", job.name),
                format!("ads/aipl_{}_flow/dt={}", job.name, opts.date),
                b.schema(),
                vec![b],
            ));
        }
    } else if let NodeKind::Audiences(job) = kind {
        let (members, reports) = audiences::members(job, &schema, &batches).map_err(fail)?;
        result.summary = reports
            .iter()
            .map(|r| format!("{} {}", r.audience, r.members))
            .collect::<Vec<_>>()
            .join(", ");
        result.tables = table(schema, batches);
        for (audience, batch) in members {
            result.tables.push((
                format!("ads.audience_{audience}"),
                format!("ads/audience_{audience}/dt={}", opts.date),
                batch.schema(),
                vec![batch],
            ));
        }
        result.audiences = reports;
    } else if let NodeKind::Check(job) = kind {
        let unique = matches!(job.rule, mj_compiler::lower::CheckKind::Unique(_));
        let (failing, examples) = examples(&schema, &batches, 5, unique.then_some(1));
        let status = match (failing, job.fail_run) {
            (0, _) => "passed",
            (_, true) => "failed",
            (_, false) => "warned",
        };
        if failing > 0 {
            result.tables = table(schema, batches);
            result.tables[0].0 = format!("dq.{}", job.name);
            result.tables[0].1 = format!("dq/{}/dt={}", job.name, opts.date);
        }
        result.summary = format!("{status}, {failing} failing row(s)");
        result.check = Some(CheckReport {
            check: job.name.clone(),
            rule: job.text.clone(),
            fact: job.fact.clone(),
            severity: if job.fail_run { "error" } else { "warn" }.to_string(),
            failing,
            examples,
            status: status.to_string(),
        });
    } else {
        result.tables = table(schema, batches);
    }
    result.seconds = started.elapsed().as_secs_f64();
    Ok(result)
}

/// The number of rows (or, with `count_column`, the sum of that column: rows per
/// repeated value) and up to `max` rows shown as `column=value, …`.
fn examples(
    schema: &arrow::datatypes::SchemaRef,
    batches: &[arrow::array::RecordBatch],
    max: usize,
    count_column: Option<usize>,
) -> (u64, Vec<String>) {
    use arrow::array::Array;
    let mut n = 0u64;
    let mut shown = Vec::new();
    for b in batches {
        for i in 0..b.num_rows() {
            n += count_column
                .and_then(|c| {
                    b.column(c)
                        .as_any()
                        .downcast_ref::<arrow::array::Int64Array>()
                })
                .map_or(1, |a| a.value(i) as u64);
            if shown.len() < max {
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
                shown.push(fields.join(", "));
            }
        }
    }
    (n, shown)
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
    let (job, inputs) = read_entity_sources(graph, entity, data).await?;
    let refs: Vec<oneid::Input<'_>> = inputs
        .iter()
        .map(|(s, d)| oneid::Input { source: s, data: d })
        .collect();
    let resolved = oneid::resolve(&job, &refs)?;
    Ok((job, resolved))
}

/// Resolves `entity` again from the sources' partitions a run of `date` wrote
/// (`OUT/ods/<source>/dt=DATE`): the same rows give the same people, so this explains
/// that run, whatever the source files hold today. Fails naming the partition a run
/// of that date did not write.
pub async fn resolve_entity_of_run(
    graph: &JobGraph,
    entity: Option<&str>,
    out: &Path,
    date: &str,
) -> Result<(mj_compiler::lower::OneIdJob, oneid::Resolved), RunError> {
    let job = oneid_job(graph, entity)?;
    let mut inputs = Vec::new();
    for s in linked_sources(graph, &job) {
        let dir = out.join(format!("ods/{}/dt={date}", s.name));
        if !dir.is_dir() {
            return Err(RunError {
                message: format!(
                    "no run of {date} wrote {}; run `mj run --date {date}` first",
                    dir.display()
                ),
            });
        }
        let data = SourceData {
            schema: source::schema(s),
            batches: write::read_partition(&dir)?,
            rejects: Vec::new(),
            files: Vec::new(),
        };
        inputs.push((s.name.clone(), data));
    }
    let refs: Vec<oneid::Input<'_>> = inputs
        .iter()
        .map(|(s, d)| oneid::Input { source: s, data: d })
        .collect();
    let resolved = oneid::resolve(&job, &refs)?;
    Ok((job, resolved))
}

/// The sources a OneID job links, in the order of its links.
fn linked_sources<'a>(
    graph: &'a JobGraph,
    job: &'a mj_compiler::lower::OneIdJob,
) -> impl Iterator<Item = &'a mj_compiler::lower::SourceJob> {
    job.links.iter().filter_map(move |link| {
        graph.nodes.iter().find_map(|n| match &n.kind {
            NodeKind::Source(s) if s.name == link.source => Some(s),
            _ => None,
        })
    })
}

/// The OneID job of `entity` (the only one when `None`).
fn oneid_job(
    graph: &JobGraph,
    entity: Option<&str>,
) -> Result<mj_compiler::lower::OneIdJob, RunError> {
    graph
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
        })
}

/// The OneID job of `entity` (the only one when `None`) and the rows of the sources
/// it links, read as `mj run` reads them.
pub async fn read_entity_sources(
    graph: &JobGraph,
    entity: Option<&str>,
    data: &Path,
) -> Result<(mj_compiler::lower::OneIdJob, Vec<(String, SourceData)>), RunError> {
    let ctx = session();
    let job = oneid_job(graph, entity)?;
    let mut inputs = Vec::new();
    for s in linked_sources(graph, &job) {
        inputs.push((s.name.clone(), source::read(&ctx, s, data).await?));
    }
    Ok((job, inputs))
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
    out: &Path,
    dialect: Dialect,
) -> Result<Vec<(mj_ir::Table, String)>, RunError> {
    use datafusion::sql::sqlparser::ast::BinaryOperator;
    use datafusion::sql::unparser::Unparser;
    use datafusion::sql::unparser::dialect::{
        CustomDialectBuilder, DefaultDialect, PostgreSqlDialect,
    };
    // Other engines do not have mj's rule kernels: rules are written as CASE.
    let plans: Vec<(mj_ir::Table, datafusion::logical_expr::LogicalPlan)> =
        logical_plans_in(&session(), graph, date, out, false)
            .await?
            .into_iter()
            .map(|(n, p, _)| (n.id.clone(), p))
            .collect();
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
                    // DataFusion's SQL writer drops an aggregate's ORDER BY, which
                    // would turn `latest` into "any value": say so instead of writing
                    // SQL that means something else.
                    if let Some(f) = ordered_aggregate(plan) {
                        out.push((
                            node.clone(),
                            format!(
                                "-- not written: `{f}` aggregates in an order, which the SQL \
                                 writer cannot express yet; `mj plan --table {node}` shows the plan"
                            ),
                        ));
                        continue;
                    }
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

/// The first aggregate of a plan that takes an `ORDER BY` (`first_value(x ORDER BY t)`).
fn ordered_aggregate(plan: &datafusion::logical_expr::LogicalPlan) -> Option<String> {
    use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
    let mut found = None;
    let _ = plan.apply(|node| {
        for e in node.expressions() {
            let _ = e.apply(|x| {
                if let datafusion::logical_expr::Expr::AggregateFunction(a) = x
                    && !a.params.order_by.is_empty()
                {
                    found = Some(a.func.name().to_string());
                    return Ok(TreeNodeRecursion::Stop);
                }
                Ok(TreeNodeRecursion::Continue)
            });
        }
        Ok(if found.is_some() {
            TreeNodeRecursion::Stop
        } else {
            TreeNodeRecursion::Continue
        })
    });
    found
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
        let physical = node_context(&ctx, &node.kind)
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
    let (plan, _) = node_plan(&ctx, &NodeKind::Audiences(steps_job), date, false)
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
async fn logical_plans_in<'g>(
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
        let schema = match &n.kind {
            NodeKind::Source(s) => source::schema(s),
            NodeKind::OneId(_) => oneid::mapping_schema(),
            NodeKind::Near(j) => near::schema(j),
            // Computed by the runtime from finished tables; nothing scans them.
            NodeKind::Compare(_)
            | NodeKind::Export(_)
            | NodeKind::Contribution(_)
            | NodeKind::Scan(_) => continue,
            kind => {
                let (plan, rules) = node_plan(ctx, kind, date, jit)
                    .await
                    .map_err(fail)?
                    .ok_or_else(|| fail("not a planned table".to_string()))?;
                let schema = Arc::new(plan.schema().as_arrow().clone());
                if !matches!(kind, NodeKind::Check(_)) {
                    out_plans.push((n, plan, rules));
                }
                schema
            }
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
fn register_partition(
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
