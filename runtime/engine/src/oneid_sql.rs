//! OneID with `[oneid] engine = "cluster"`: the people found by SQL statements that run
//! where plans run (a Ballista job each on a cluster), with the same result as the
//! union-find of one machine.
//!
//! The client normalizes and fingerprints the rows into records and values (as the
//! local engine does: the rows are here, read by the sources) and writes the evidence
//! — one row per (record, value) — as Parquet. Then, in SQL:
//! 1. **junk**: values in a `reject` list (a join with the rejected fingerprints) or
//!    carried by more than `reject frequent above N` records (a count per value);
//! 2. **components** of records over the usable values, by large-star / small-star
//!    ([`components`](crate::components));
//! 3. **guards**: the components a guard could act on — more values of an
//!    identifier than its `unique` / `max_per_person`, a weak value where the people
//!    hold two values of one strong identifier, more records than `max_component`.
//!
//! Every other component is one person as it stands: no join in it can be refused and
//! nothing in it is cut. The flagged components (the joins of their people depend on
//! the order the rules take values in, which SQL does not have) are resolved here,
//! exactly, by the union-find's rules over their records alone
//! ([`mj_oneid::Evidence::resolve`]). The manifest says how many records that was.

use std::path::Path;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, RecordBatch, UInt64Array};
use arrow::datatypes::{DataType, Field, Schema, UInt64Type};
use datafusion::prelude::SessionContext;
use mj_oneid::{Components, Evidence, ValueState};
use serde::{Deserialize, Serialize};

use crate::RunError;
use crate::components::{Work, star};

/// What the SQL engine did, for the manifest.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SqlReport {
    /// Where the statements ran: `cluster` or `client`.
    pub ran_on: String,
    pub statements: usize,
    /// Large-star / small-star rounds to converge.
    pub rounds: usize,
    /// Components a guard could act on, and their records: resolved in the client.
    pub flagged_components: u64,
    pub records_resolved_in_client: u64,
}

const USABLE: &str = "u AS (SELECT * FROM {links} WHERE v NOT IN (SELECT v FROM {junk}))";

fn err(e: impl std::fmt::Display) -> RunError {
    RunError::node("oneid", e.to_string())
}

fn u64s(batches: &[RecordBatch], col: usize) -> Vec<u64> {
    batches
        .iter()
        .flat_map(|b| {
            let c = b.column(col).as_primitive::<UInt64Type>();
            (0..b.num_rows()).map(|i| c.value(i)).collect::<Vec<_>>()
        })
        .collect()
}

fn one_column(name: &str, values: Vec<u64>) -> (Arc<Schema>, RecordBatch) {
    let schema = Arc::new(Schema::new(vec![Field::new(name, DataType::UInt64, false)]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![Arc::new(UInt64Array::from(values)) as ArrayRef],
    )
    .expect("one column of its schema");
    (schema, batch)
}

/// The evidence as a table: (record, value, value fingerprint, identifier, weak,
/// capacity) per value a record carries.
fn links(e: &Evidence) -> (Arc<Schema>, RecordBatch) {
    let rules = e.rules();
    let values = e.values();
    let (mut r, mut v, mut fp, mut ident, mut weak, mut cap) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    for rec in 0..e.records() as u32 {
        for &val in e.record_values(rec) {
            let value = &values[val as usize];
            let rule = &rules.identifiers[value.identifier as usize];
            r.push(u64::from(rec));
            v.push(u64::from(val));
            fp.push(value.fingerprint);
            ident.push(u64::from(value.identifier));
            weak.push(rule.weak);
            cap.push(rule.capacity.map(u64::from));
        }
    }
    let schema = Arc::new(Schema::new(vec![
        Field::new("r", DataType::UInt64, false),
        Field::new("v", DataType::UInt64, false),
        Field::new("fp", DataType::UInt64, false),
        Field::new("ident", DataType::UInt64, false),
        Field::new("weak", DataType::Boolean, false),
        Field::new("cap", DataType::UInt64, true),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(UInt64Array::from(r)) as ArrayRef,
            Arc::new(UInt64Array::from(v)),
            Arc::new(UInt64Array::from(fp)),
            Arc::new(UInt64Array::from(ident)),
            Arc::new(BooleanArray::from(weak)),
            Arc::new(UInt64Array::from(cap)),
        ],
    )
    .expect("columns of the schema");
    (schema, batch)
}

/// Junk, components and flagged components of `evidence`, by SQL in `ctx`; work files
/// under `dir`, tables named after `entity`.
pub async fn components(
    ctx: &SessionContext,
    dir: &Path,
    entity: &str,
    evidence: &Evidence,
) -> Result<(Components, SqlReport), RunError> {
    let mut work = Work::new(ctx, dir, &format!("oneid_{entity}"))?;
    let tables = ["links", "rejects", "junk", "labels", "e"];
    let out = run(&mut work, evidence).await;
    let statements = work.statements;
    work.close(&tables);
    let (found, rounds) = out?;
    let report = SqlReport {
        ran_on: String::new(),
        statements,
        rounds,
        flagged_components: found.flagged.len() as u64,
        records_resolved_in_client: 0,
    };
    Ok((found, report))
}

async fn run(work: &mut Work<'_>, e: &Evidence) -> Result<(Components, usize), RunError> {
    let rules = e.rules();
    let (schema, batch) = links(e);
    work.put("links", schema, &[batch]).await?;
    let (schema, batch) = one_column("fp", e.reject_fps().to_vec());
    work.put("rejects", schema, &[batch]).await?;
    // 1. Junk.
    let frequent = rules
        .frequent_above
        .map_or_else(String::new, |n| format!(" OR COUNT(*) > {n}"));
    let rejected = "MAX(CASE WHEN j.fp IS NULL THEN 0 ELSE 1 END)";
    let junk = work
        .query(
            &format!(
                "SELECT l.v, {rejected} AS rejected FROM {{links}} l \
                 LEFT JOIN {{rejects}} j ON l.fp = j.fp \
                 GROUP BY l.v HAVING {rejected} = 1{frequent}"
            ),
            &["links", "rejects"],
        )
        .await?;
    let mut junk_values = Vec::new();
    for b in &junk {
        let v = b.column(0).as_primitive::<UInt64Type>();
        let rejected = arrow::compute::cast(b.column(1), &DataType::Int64).map_err(err)?;
        let rejected = rejected.as_primitive::<arrow::datatypes::Int64Type>();
        for i in 0..b.num_rows() {
            let state = if rejected.is_valid(i) && rejected.value(i) == 1 {
                ValueState::Rejected
            } else {
                ValueState::Frequent
            };
            junk_values.push((v.value(i) as u32, state));
        }
    }
    junk_values.sort_unstable_by_key(|&(v, _)| v);
    let (schema, batch) = one_column(
        "v",
        junk_values.iter().map(|&(v, _)| u64::from(v)).collect(),
    );
    work.put("junk", schema, &[batch]).await?;
    // 2. Components: each usable value joins its records to its first record.
    let edges = work
        .query(
            &format!(
                "WITH {USABLE}, f AS (SELECT v, MIN(r) AS f FROM u GROUP BY v) \
                 SELECT u.r AS u, f.f AS v FROM u JOIN f ON u.v = f.v WHERE u.r <> f.f"
            ),
            &["links", "junk"],
        )
        .await?;
    let (labels, rounds) = star(work, &edges).await?;
    let mut label: Vec<u32> = (0..e.records() as u32).collect();
    for &(node, l) in &labels {
        label[node as usize] = l as u32;
    }
    let schema = Arc::new(Schema::new(vec![
        Field::new("node", DataType::UInt64, false),
        Field::new("label", DataType::UInt64, false),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(UInt64Array::from_iter_values(labels.iter().map(|l| l.0))) as ArrayRef,
            Arc::new(UInt64Array::from_iter_values(labels.iter().map(|l| l.1))),
        ],
    )
    .map_err(err)?;
    work.put("labels", schema, &[batch]).await?;
    // 3. Components a guard could act on.
    let oversized = rules.max_component.map_or_else(String::new, |max| {
        format!(" UNION SELECT c FROM c GROUP BY c HAVING COUNT(DISTINCT r) > {max}")
    });
    let flagged = work
        .query(
            &format!(
                "WITH {USABLE}, \
                 c AS (SELECT COALESCE(l.label, u.r) AS c, u.r, u.v, u.ident, u.weak, u.cap \
                       FROM u LEFT JOIN {{labels}} l ON u.r = l.node), \
                 per AS (SELECT c, ident, MAX(CASE WHEN weak THEN 1 ELSE 0 END) AS weak, \
                         MAX(cap) AS cap, COUNT(DISTINCT v) AS n FROM c GROUP BY c, ident) \
                 SELECT c FROM per GROUP BY c HAVING \
                   MAX(CASE WHEN cap IS NOT NULL AND n > cap THEN 1 ELSE 0 END) = 1 \
                   OR (MAX(weak) = 1 AND MAX(CASE WHEN weak = 0 AND n > 1 THEN 1 ELSE 0 END) = 1)\
                 {oversized}"
            ),
            &["links", "junk", "labels"],
        )
        .await?;
    let flagged = u64s(&flagged, 0).into_iter().map(|c| c as u32).collect();
    Ok((
        Components {
            junk: junk_values,
            label,
            flagged,
        },
        rounds,
    ))
}
