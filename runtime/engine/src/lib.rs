//! The mj runtime: executes a job graph (see `mj_ir::jobs`) on DataFusion for
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
mod identity;
mod manifest;
pub mod near;
mod node;
pub mod oneid;
pub mod oneid_sql;
mod planned;
mod plans;
pub mod postgres;
pub mod rules;
pub mod scan;
pub mod source;
pub mod tags;
pub mod travel;
pub mod write;

pub use identity::*;
pub use manifest::*;
use node::*;
pub use plans::*;
pub use rules::RuleNote;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use datafusion::prelude::{SessionConfig, SessionContext};
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use mj_ir::jobs::{JobGraph, Node, NodeKind};
use serde::{Deserialize, Serialize};

use crate::source::{FileStats, SourceData};
use crate::write::Staging;

/// What the error of a run says when its partitions were committed and a write after
/// the commit (an export to a database) failed.
pub const COMMITTED: &str = "the run's partitions are committed";

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
    /// How OneID finds people (`[oneid] engine` of mj.toml).
    pub oneid_engine: OneIdEngine,
    /// Database URLs of mj.toml by `sources.<name>` and `exports.<audience>`
    /// (`[sources.<name>] url`, `[exports.<audience>] url`), for locations without
    /// `url = env(…)`.
    pub database_urls: BTreeMap<String, String>,
    /// Read `incremental by` sources whole (`mj run --full`).
    pub full: bool,
}

/// How OneID finds people.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OneIdEngine {
    /// The union-find of this process.
    #[default]
    Local,
    /// SQL statements where plans run — the cluster's executors on a cluster run,
    /// this process's DataFusion otherwise — with the components a guard could act on
    /// resolved here by the union-find's rules (see `oneid_sql`). Same people.
    Cluster,
}

/// What a finished node hands to the nodes after it.
#[derive(Default)]
pub(crate) enum Output {
    Source(Arc<SourceData>),
    #[default]
    Done,
}

/// Rows per batch in every plan: four times DataFusion's default. Sorts cost less
/// (each batch is sorted on its own and fewer sorted runs are merged), and so do the
/// per-batch steps of scans, joins and aggregates; a batch of a wide table is still a
/// few megabytes.
pub(crate) const BATCH_ROWS: usize = 32 * 1024;

pub fn session() -> SessionContext {
    SessionContext::new_with_config(
        SessionConfig::new()
            .with_target_partitions(2)
            .with_batch_size(BATCH_ROWS),
    )
}

/// The context a node's plan is made physical and run in: the session, with its join
/// choice. With `merge_joins` (a fact joining every row of its source to the OneID
/// mapping on the record key: millions of rows on both sides, written sorted by its
/// grain), sort-merge joins rather than hash joins: sorting both sides and merging them
/// costs less than hashing strings into a table of millions of entries and then
/// sorting the joined rows, and when the grain is the record key the merged rows come
/// out in the order they are written in. Other nodes join small dimensions or
/// aggregates, where a hash join is the better choice. It shares the session's tables.
pub(crate) fn node_context(ctx: &SessionContext, merge_joins: bool) -> SessionContext {
    if !merge_joins {
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
    node_context(&session(), node::kind(kind).merge_joins())
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
    run_on(None, graph, opts, on_event).await
}

/// A cluster to run a graph's plans on: its address and the session that plans there
/// (Ballista's planner; see `mj-cluster`).
pub struct Cluster {
    pub url: String,
    pub session: SessionContext,
}

/// Runs the graph for one date, its planned tables on `cluster` when given (each plan a
/// Ballista job; the rows come back to be written here, staged and committed as a
/// local run's); sources, OneID, scans and the other computed tables run here.
pub async fn run_on(
    cluster: Option<Cluster>,
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
        cluster: cluster.as_ref().map(|c| c.url.clone()),
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
    let result = execute(cluster, graph, opts, &run_id, &mut manifest, on_event).await;
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

pub(crate) async fn execute(
    cluster: Option<Cluster>,
    graph: &JobGraph,
    opts: &RunOptions,
    run_id: &str,
    manifest: &mut Manifest,
    on_event: &(dyn Fn(Event) + Sync),
) -> Result<(), RunError> {
    // Planned tables run on the cluster's session when there is one; every other kind
    // queries this process's (`local`). Every finished table is registered in both.
    let local = session();
    let cluster = cluster.map(|c| c.session);
    let mut staging = Staging::new(&opts.out, run_id)?;
    let n = graph.nodes.len();
    let mut outputs: Vec<Option<Output>> = (0..n).map(|_| None).collect();
    let mut started = vec![false; n];
    let mut running = FuturesUnordered::new();
    let mut failure: Option<RunError> = None;
    let mut publish: Vec<node::Publish> = Vec::new();
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
                        // A source's node is `ods.<source>`.
                        Some(Output::Source(s)) => {
                            Some((graph.nodes[d].id.name.clone(), s.clone()))
                        }
                        _ => None,
                    })
                    .collect();
                let staged = staging.dir().to_path_buf();
                let id = node.id.clone();
                let kind = &node.kind;
                let (cluster, local) = (cluster.as_ref(), &local);
                running.push(async move {
                    let result =
                        run_node(i, &id, kind, inputs, cluster, local, opts, &staged).await?;
                    // Each node writes its own partitions off the scheduler, so one
                    // node's write does not hold up the others.
                    let tables: Vec<(String, arrow::datatypes::SchemaRef, Vec<_>)> = result
                        .done
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
            Ok(Finished {
                index,
                scanned,
                on_cluster,
                done,
                seconds,
            }) => {
                let ran_on = if on_cluster { "cluster" } else { "client" };
                let node = &graph.nodes[index].id;
                let scanned = done
                    .written
                    .first()
                    .map(|(_, relative, schema, _)| (relative.clone(), schema.clone()))
                    .or_else(|| {
                        done.tables
                            .first()
                            .map(|(_, relative, schema, _)| (relative.clone(), schema.clone()))
                    })
                    .filter(|_| scanned);
                let tables = done.written.into_iter().chain(done.tables.into_iter().map(
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
                        seconds,
                        ran_on: ran_on.to_string(),
                    });
                }
                let name = scan_name(&graph.nodes[index]);
                if let (Some((relative, schema)), Some(name)) = (scanned, &name) {
                    // Later plans scan the staged Parquet, never memory: every plan
                    // names files, so it can travel (datafusion-proto, Ballista).
                    let dir = staging.staged(Path::new(&relative));
                    for ctx in std::iter::once(&local).chain(&cluster) {
                        register_partition(ctx, name, &dir, schema.clone())
                            .map_err(|e| RunError::node(node, e))?;
                    }
                }
                if let (Some((dir, schema)), Some(name)) = (done.reused, &name) {
                    for ctx in std::iter::once(&local).chain(&cluster) {
                        register_partition(ctx, name, &dir, schema.clone())
                            .map_err(|e| RunError::node(node, e))?;
                    }
                }
                for (relative, parts) in &done.outputs {
                    staging.write_output(Path::new(relative), parts)?;
                }
                for (folder, file, bytes) in &done.files {
                    staging.write_file(folder, file, bytes)?;
                }
                if let Some(report) = done.report {
                    report(manifest);
                }
                publish.extend(done.publish);
                if let Some(message) = done.fails {
                    on_event(Event::Failed {
                        node: node.to_string(),
                        error: message.clone(),
                    });
                    failure.get_or_insert(RunError::node(node, message));
                }
                on_event(Event::Finished {
                    node: node.to_string(),
                    summary: done.summary,
                    seconds,
                });
                outputs[index] = Some(done.output);
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
    staging.commit()?;
    for write in publish {
        write().await.map_err(|e| RunError {
            message: format!(
                "{}; {COMMITTED}: rerun the date to write it again",
                e.message
            ),
        })?;
    }
    Ok(())
}
