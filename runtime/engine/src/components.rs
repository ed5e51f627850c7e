//! Connected components as a bounded-round SQL algorithm, for engines where one
//! machine's union-find is not enough (Ballista executes the same statements).
//!
//! Large-star / small-star (Kiveris et al., "Connected Components in MapReduce and
//! Beyond", 2014): each round is two joins and aggregations over the edge table and
//! the number of rounds grows with the logarithm of the component diameter. After
//! convergence every node points at the smallest node of its component.

use std::sync::Arc;

use arrow::array::{AsArray, RecordBatch, UInt64Array};
use arrow::datatypes::{DataType, Field, Schema, UInt64Type};
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;

use crate::RunError;

const LARGE_STAR: &str = "
WITH d AS (SELECT u, v FROM e UNION SELECT v AS u, u AS v FROM e),
     m AS (SELECT u, LEAST(u, MIN(v)) AS m FROM d GROUP BY u)
SELECT DISTINCT d.v AS u, m.m AS v FROM d JOIN m ON d.u = m.u WHERE d.v > d.u";

const SMALL_STAR: &str = "
WITH d AS (SELECT GREATEST(u, v) AS u, LEAST(u, v) AS v FROM e WHERE u <> v),
     m AS (SELECT u, LEAST(u, MIN(v)) AS m FROM d GROUP BY u)
SELECT DISTINCT d.v AS u, m.m AS v FROM d JOIN m ON d.u = m.u WHERE d.v <> m.m
UNION
SELECT u, m AS v FROM m WHERE u <> m";

const LABELS: &str = "
WITH d AS (SELECT u, v FROM e UNION SELECT v AS u, u AS v FROM e)
SELECT u AS node, LEAST(u, MIN(v)) AS label FROM d GROUP BY u";

fn err(e: impl std::fmt::Display) -> RunError {
    RunError::node("components", e.to_string())
}

async fn set_edges(ctx: &SessionContext, batches: Vec<RecordBatch>) -> Result<(), RunError> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("u", DataType::UInt64, false),
        Field::new("v", DataType::UInt64, false),
    ]));
    let batches: Vec<RecordBatch> = batches
        .into_iter()
        .map(|b| RecordBatch::try_new(schema.clone(), b.columns().to_vec()))
        .collect::<Result<_, _>>()
        .map_err(err)?;
    let table = MemTable::try_new(schema, vec![batches]).map_err(err)?;
    ctx.deregister_table("e").map_err(err)?;
    ctx.register_table("e", Arc::new(table)).map_err(err)?;
    Ok(())
}

async fn edge_set(ctx: &SessionContext) -> Result<Vec<(u64, u64)>, RunError> {
    let batches = ctx
        .sql("SELECT u, v FROM e")
        .await
        .map_err(err)?
        .collect()
        .await
        .map_err(err)?;
    let mut out = Vec::new();
    for b in batches {
        let u = b.column(0).as_primitive::<UInt64Type>();
        let v = b.column(1).as_primitive::<UInt64Type>();
        out.extend((0..b.num_rows()).map(|i| (u.value(i), v.value(i))));
    }
    out.sort_unstable();
    Ok(out)
}

/// Components of an undirected graph: (node, smallest node of its component) for
/// every node that has an edge, sorted by node; and the number of rounds run.
pub async fn star_components(
    ctx: &SessionContext,
    edges: &[(u64, u64)],
) -> Result<(Vec<(u64, u64)>, usize), RunError> {
    let batch = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("u", DataType::UInt64, false),
            Field::new("v", DataType::UInt64, false),
        ])),
        vec![
            Arc::new(UInt64Array::from_iter_values(edges.iter().map(|e| e.0))),
            Arc::new(UInt64Array::from_iter_values(edges.iter().map(|e| e.1))),
        ],
    )
    .map_err(err)?;
    set_edges(ctx, vec![batch]).await?;
    let mut rounds = 0;
    let mut last = edge_set(ctx).await?;
    loop {
        rounds += 1;
        for step in [LARGE_STAR, SMALL_STAR] {
            let next = ctx
                .sql(step)
                .await
                .map_err(err)?
                .collect()
                .await
                .map_err(err)?;
            set_edges(ctx, next).await?;
        }
        let now = edge_set(ctx).await?;
        if now == last {
            break;
        }
        last = now;
    }
    let batches = ctx
        .sql(LABELS)
        .await
        .map_err(err)?
        .collect()
        .await
        .map_err(err)?;
    let mut labels = Vec::new();
    for b in batches {
        let n = b.column(0).as_primitive::<UInt64Type>();
        let l = b.column(1).as_primitive::<UInt64Type>();
        labels.extend((0..b.num_rows()).map(|i| (n.value(i), l.value(i))));
    }
    labels.sort_unstable();
    Ok((labels, rounds))
}
