//! Connected components as a bounded-round SQL algorithm, for engines where one
//! machine's union-find is not enough (Ballista executes the same statements).
//!
//! Large-star / small-star (Kiveris et al., "Connected Components in MapReduce and
//! Beyond", 2014): each round is two joins and aggregations over the edge table and
//! the number of rounds grows with the logarithm of the component diameter. After
//! convergence every node points at the smallest node of its component.
//!
//! Every table a statement reads is a Parquet file in a work folder ([`Work`]), so the
//! statements travel: on a cluster each is a Ballista job, and the folder must be one
//! every executor reads (the run's staging folder, under OUT).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{AsArray, RecordBatch, UInt64Array};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, UInt64Type};
use datafusion::prelude::SessionContext;

use crate::RunError;

const LARGE_STAR: &str = "
WITH d AS (SELECT u, v FROM {e} UNION SELECT v AS u, u AS v FROM {e}),
     m AS (SELECT u, LEAST(u, MIN(v)) AS m FROM d GROUP BY u)
SELECT DISTINCT d.v AS u, m.m AS v FROM d JOIN m ON d.u = m.u WHERE d.v > d.u";

const SMALL_STAR: &str = "
WITH d AS (SELECT GREATEST(u, v) AS u, LEAST(u, v) AS v FROM {e} WHERE u <> v),
     m AS (SELECT u, LEAST(u, MIN(v)) AS m FROM d GROUP BY u)
SELECT DISTINCT d.v AS u, m.m AS v FROM d JOIN m ON d.u = m.u WHERE d.v <> m.m
UNION
SELECT u, m AS v FROM m WHERE u <> m";

const LABELS: &str = "
WITH d AS (SELECT u, v FROM {e} UNION SELECT v AS u, u AS v FROM {e})
SELECT u AS node, LEAST(u, MIN(v)) AS label FROM d GROUP BY u";

/// Tables of one job in a session, each a Parquet file in `dir`, named after `prefix`
/// (so that two jobs in one session do not meet).
pub struct Work<'a> {
    pub ctx: &'a SessionContext,
    dir: PathBuf,
    prefix: String,
    files: usize,
    /// Statements run.
    pub statements: usize,
}

impl<'a> Work<'a> {
    pub fn new(ctx: &'a SessionContext, dir: &Path, prefix: &str) -> Result<Work<'a>, RunError> {
        std::fs::create_dir_all(dir).map_err(|e| RunError::io(dir, e))?;
        Ok(Work {
            ctx,
            dir: dir.to_path_buf(),
            prefix: prefix.to_string(),
            files: 0,
            statements: 0,
        })
    }

    /// The session's name of table `name`.
    pub fn name(&self, name: &str) -> String {
        format!("{}_{name}", self.prefix)
    }

    /// Writes `batches` as table `name` (replacing what it held) and returns its name
    /// in the session.
    pub async fn put(
        &mut self,
        name: &str,
        schema: SchemaRef,
        batches: &[RecordBatch],
    ) -> Result<String, RunError> {
        self.files += 1;
        let folder = self.dir.join(format!("{name}-{}", self.files));
        let batches: Vec<RecordBatch> = batches
            .iter()
            .map(|b| RecordBatch::try_new(schema.clone(), b.columns().to_vec()))
            .collect::<Result<_, _>>()
            .map_err(err)?;
        crate::write::stage(&folder, Path::new(""), schema.clone(), &batches)?;
        let table = self.name(name);
        crate::plans::register_partition(self.ctx, &table, &folder, schema).map_err(err)?;
        Ok(table)
    }

    /// Runs a statement, `{name}` standing for this job's table `name`.
    pub async fn query(
        &mut self,
        sql: &str,
        tables: &[&str],
    ) -> Result<Vec<RecordBatch>, RunError> {
        let mut sql = sql.to_string();
        for t in tables {
            sql = sql.replace(&format!("{{{t}}}"), &self.name(t));
        }
        self.statements += 1;
        self.ctx
            .sql(&sql)
            .await
            .map_err(err)?
            .collect()
            .await
            .map_err(err)
    }

    /// Drops the job's tables from the session (their files go with the staging).
    pub fn close(self, tables: &[&str]) {
        for t in tables {
            let _ = self.ctx.deregister_table(self.name(t));
        }
    }
}

fn err(e: impl std::fmt::Display) -> RunError {
    RunError::node("components", e.to_string())
}

fn edge_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("u", DataType::UInt64, false),
        Field::new("v", DataType::UInt64, false),
    ]))
}

fn pairs(batches: &[RecordBatch]) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    for b in batches {
        let u = b.column(0).as_primitive::<UInt64Type>();
        let v = b.column(1).as_primitive::<UInt64Type>();
        out.extend((0..b.num_rows()).map(|i| (u.value(i), v.value(i))));
    }
    out.sort_unstable();
    out
}

/// Components of the undirected graph whose edges (`u`, `v`, both UInt64) are
/// `edges`: (node, smallest node of its component) for every node that has an edge,
/// sorted by node; and the number of rounds run. Table `e` of `work` holds the
/// edges as the rounds go.
pub async fn star(
    work: &mut Work<'_>,
    edges: &[RecordBatch],
) -> Result<(Vec<(u64, u64)>, usize), RunError> {
    work.put("e", edge_schema(), edges).await?;
    let mut rounds = 0;
    let mut last = pairs(edges);
    loop {
        rounds += 1;
        for step in [LARGE_STAR, SMALL_STAR] {
            let next = work.query(step, &["e"]).await?;
            work.put("e", edge_schema(), &next).await?;
            if step == SMALL_STAR {
                let now = pairs(&next);
                if now == last {
                    let labels = work.query(LABELS, &["e"]).await?;
                    return Ok((pairs(&labels), rounds));
                }
                last = now;
            }
        }
    }
}

/// [`star`] over an edge list, in a work folder of its own.
pub async fn star_components(
    ctx: &SessionContext,
    dir: &Path,
    edges: &[(u64, u64)],
) -> Result<(Vec<(u64, u64)>, usize), RunError> {
    let batch = RecordBatch::try_new(
        edge_schema(),
        vec![
            Arc::new(UInt64Array::from_iter_values(edges.iter().map(|e| e.0))),
            Arc::new(UInt64Array::from_iter_values(edges.iter().map(|e| e.1))),
        ],
    )
    .map_err(err)?;
    let mut work = Work::new(ctx, dir, "components")?;
    let out = star(&mut work, &[batch]).await;
    work.close(&["e"]);
    out
}
