//! Node kinds: every kind of the job graph behind one trait, [`Kind`] — whether later
//! plans scan its table, its plan (for planned tables), how it runs and what it reports
//! to the manifest. Each kind's implementation is in its own module (`source.rs`,
//! `oneid.rs`, `planned.rs` for the plain tables, `tags.rs`, `aipl.rs`,
//! `audiences.rs`, `near.rs`, `compare.rs`, `export.rs`, `attribution.rs`,
//! `scan.rs`); [`kind`] is the one registration. The driver (`execute`) stages what a
//! node hands back and records its report; it matches on no kind.

use crate::*;
use futures::future::BoxFuture;

/// A table a node computed in memory: (table, partition folder relative to OUT,
/// schema, rows).
pub(crate) type Collected = (
    String,
    String,
    arrow::datatypes::SchemaRef,
    Vec<arrow::array::RecordBatch>,
);

/// A planned node's plan and the notes on its rules (kernel or `CASE`).
pub(crate) type Planned = (datafusion::logical_expr::LogicalPlan, Vec<RuleNote>);

/// A write outside OUT (an export to a database), made once the run's partitions are
/// committed, so that a failed run leaves it undone.
pub(crate) type Publish = Box<dyn FnOnce() -> BoxFuture<'static, Result<(), RunError>> + Send>;

/// What a node adds to the manifest, applied by the driver when the node finishes.
pub(crate) type Report = Box<dyn FnOnce(&mut Manifest) + Send>;

/// One kind of node.
pub(crate) trait Kind: Sync {
    /// Whether later plans scan the node's (first) table, by `Table::scan_name`.
    fn scanned(&self) -> bool;

    /// The schema of the node's table when it is no plan (sources, OneID, nearest
    /// rows): what `mj plan` registers for later plans to read. None otherwise.
    fn schema(&self) -> Option<arrow::datatypes::SchemaRef> {
        None
    }

    /// Whether `--reuse` takes its partition from an earlier run (with [`Kind::schema`]).
    fn reusable(&self) -> bool {
        false
    }

    /// Whether its plan joins with sort-merge joins rather than hash joins (see
    /// [`merge_joins`](crate::node_context)).
    fn merge_joins(&self) -> bool {
        false
    }

    /// Whether the node is its plan (run where plans run: on the cluster when there
    /// is one), rather than computed by mj from finished tables.
    fn planned(&self) -> bool {
        false
    }

    /// Whether `mj plan` and `mj sql` show its plan (checks are planned, not shown).
    fn listed(&self) -> bool {
        true
    }

    /// Its plan over the tables earlier nodes registered: the plan `run` executes,
    /// `mj plan` shows and `mj sql` writes. None for kinds that are not plans.
    fn plan<'a>(
        &'a self,
        ctx: &'a SessionContext,
        date: &'a str,
        jit: bool,
    ) -> BoxFuture<'a, Result<Option<Planned>, String>> {
        let _ = (ctx, date, jit);
        Box::pin(async { Ok(None) })
    }

    /// Runs the node.
    fn run<'a>(&'a self, cx: NodeCx<'a>) -> BoxFuture<'a, Result<Done, RunError>>;
}

/// The one registration: each kind of the job graph and its implementation.
pub(crate) fn kind(k: &NodeKind) -> &dyn Kind {
    match k {
        NodeKind::Source(j) => j,
        NodeKind::OneId(j) => j,
        NodeKind::Fact(j) => j,
        NodeKind::Summary(j) => j,
        NodeKind::Check(j) => j,
        NodeKind::Dimension(j) => j,
        NodeKind::Features(j) => j,
        NodeKind::Tags(j) => j,
        NodeKind::Aipl(j) => j,
        NodeKind::Rfm(j) => j,
        NodeKind::Near(j) => j,
        NodeKind::Audiences(j) => j,
        NodeKind::Compare(j) => j,
        NodeKind::Export(j) => j,
        NodeKind::Contribution(j) => j,
        NodeKind::Scan(j) => j,
    }
}

/// What a node runs with.
pub(crate) struct NodeCx<'a> {
    pub(crate) node: &'a mj_ir::Table,
    /// The rows of the sources it depends on, by source name (for OneID).
    pub(crate) inputs: Vec<(String, Arc<SourceData>)>,
    /// Where the node's queries run, every finished table registered: the cluster's
    /// session for a planned kind on a cluster run, this process's otherwise.
    pub(crate) ctx: &'a SessionContext,
    /// The cluster's session, on a cluster run (for kinds that choose to run there).
    pub(crate) cluster: Option<&'a SessionContext>,
    pub(crate) opts: &'a RunOptions,
    /// The run's staging folder (planned tables stream their rows into it).
    pub(crate) staged: &'a Path,
}

impl NodeCx<'_> {
    pub(crate) fn fail(&self, e: impl std::fmt::Display) -> RunError {
        RunError::node(self.node, e.to_string())
    }

    pub(crate) fn date(&self) -> &str {
        &self.opts.date
    }

    /// A table of this run with its rows: `layer.name` in `layer/name/dt=D`.
    pub(crate) fn table(
        &self,
        layer: &str,
        name: &str,
        schema: arrow::datatypes::SchemaRef,
        batches: Vec<arrow::array::RecordBatch>,
    ) -> Collected {
        (
            format!("{layer}.{name}"),
            format!("{layer}/{name}/dt={}", self.opts.date),
            schema,
            batches,
        )
    }

    /// The node's own table with its rows.
    pub(crate) fn own(
        &self,
        schema: arrow::datatypes::SchemaRef,
        batches: Vec<arrow::array::RecordBatch>,
    ) -> Collected {
        self.table(&self.node.layer, &self.node.name, schema, batches)
    }
}

/// What a node hands back: what later nodes read, the tables and files to stage, its
/// report and its one-line summary.
#[derive(Default)]
pub(crate) struct Done {
    pub(crate) output: Output,
    /// A partition of an earlier run later plans scan instead (with `reuse`).
    pub(crate) reused: Option<(PathBuf, arrow::datatypes::SchemaRef)>,
    /// Tables computed in memory, written to staging by the driver.
    pub(crate) tables: Vec<Collected>,
    /// Tables the node streamed into staging itself, as its plan produced them:
    /// (table, partition, schema, rows).
    pub(crate) written: Vec<(String, String, arrow::datatypes::SchemaRef, u64)>,
    /// Files to stage: (partition folder, file name, bytes).
    pub(crate) files: Vec<(PathBuf, String, Vec<u8>)>,
    /// Files of a scan's outputs (output path, parts).
    pub(crate) outputs: Vec<mj_scan::job::OutputFiles>,
    pub(crate) report: Option<Report>,
    /// Why the run fails though the node finished (an `error` check that fails).
    pub(crate) fails: Option<String>,
    pub(crate) summary: String,
    /// Whether a kind that is no plan ran its queries on the cluster (OneID with
    /// `engine = "cluster"`).
    pub(crate) on_cluster: bool,
    /// Writes to make after the commit.
    pub(crate) publish: Vec<Publish>,
}

impl Done {
    pub(crate) fn report(mut self, f: impl FnOnce(&mut Manifest) + Send + 'static) -> Done {
        self.report = Some(Box::new(f));
        self
    }
}

/// A finished node, as the driver records it.
pub(crate) struct Finished {
    pub(crate) index: usize,
    pub(crate) scanned: bool,
    /// Whether its queries ran on the cluster.
    pub(crate) on_cluster: bool,
    pub(crate) done: Done,
    pub(crate) seconds: f64,
}

/// Runs one node: its kind's `run`, or with `--reuse` the partition of an earlier run.
pub(crate) async fn run_node(
    index: usize,
    node: &mj_ir::Table,
    k: &NodeKind,
    inputs: Vec<(String, Arc<SourceData>)>,
    cluster: Option<&SessionContext>,
    local: &SessionContext,
    opts: &RunOptions,
    staged: &Path,
) -> Result<Finished, (usize, RunError)> {
    let started = Instant::now();
    let kind = kind(k);
    let ctx = cluster.filter(|_| kind.planned()).unwrap_or(local);
    let done = match kind.schema() {
        Some(schema) if opts.reuse && kind.reusable() => {
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
            Done {
                reused: Some((dir, schema)),
                summary: "reused from an earlier run".to_string(),
                ..Done::default()
            }
        }
        _ => {
            let cx = NodeCx {
                node,
                inputs,
                ctx,
                cluster,
                opts,
                staged,
            };
            kind.run(cx).await.map_err(|e| (index, e))?
        }
    };
    Ok(Finished {
        index,
        scanned: kind.scanned(),
        on_cluster: (cluster.is_some() && kind.planned()) || done.on_cluster,
        done,
        seconds: started.elapsed().as_secs_f64(),
    })
}

pub(crate) async fn collect(
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
pub(crate) async fn stream_into(
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

/// The number of rows (or, with `count_column`, the sum of that column: rows per
/// repeated value) and up to `max` rows shown as `column=value, …`.
pub(crate) fn examples(
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

pub(crate) fn reject_examples(data: &SourceData, max: usize) -> Vec<String> {
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
