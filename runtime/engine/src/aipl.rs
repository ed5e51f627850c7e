//! AIPL history: the flow of entities between stages from one business date to another,
//! and the trend of each stage over days, read from the daily partitions
//! `OUT/ads/aipl_<model>/dt=D` (each entity's stage, or none).
//!
//! Flow from d0 to d1, for every stage X (and `none`, an entity without a stage or not
//! yet known): `stay(X)` = entities in X on both dates, `conv(X → Y)` = in X on d0 and
//! in Y ≠ X on d1 (forward when Y is higher, backward when lower), `churn(X)` = in X on
//! d0 and in no stage on d1. So N₀(X) = stay(X) + Σ conv(X → Y) + churn(X).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use arrow::array::{Array, RecordBatch, StringArray};
use arrow::datatypes::DataType;

use crate::RunError;

/// Stages in funnel order, then `none`.
pub const STATES: [&str; 5] = ["A", "I", "P", "L", "none"];

/// Entity → stage of one partition's batches (entity in column 0, stage in column 1).
pub fn stages(batches: &[RecordBatch]) -> Result<HashMap<String, String>, RunError> {
    let mut out = HashMap::new();
    let err = |e: arrow::error::ArrowError| RunError {
        message: e.to_string(),
    };
    for b in batches {
        let ids = arrow::compute::cast(b.column(0), &DataType::Utf8).map_err(err)?;
        let st = arrow::compute::cast(b.column(1), &DataType::Utf8).map_err(err)?;
        let (Some(ids), Some(st)) = (
            ids.as_any().downcast_ref::<StringArray>(),
            st.as_any().downcast_ref::<StringArray>(),
        ) else {
            continue;
        };
        for i in 0..ids.len() {
            if ids.is_null(i) {
                continue;
            }
            let s = if st.is_null(i) { "none" } else { st.value(i) };
            out.insert(ids.value(i).to_string(), s.to_string());
        }
    }
    Ok(out)
}

/// The flow matrix: (from, to) → entities, over every entity of either date.
pub fn flow(
    before: &HashMap<String, String>,
    after: &HashMap<String, String>,
) -> BTreeMap<(String, String), u64> {
    let mut m = BTreeMap::new();
    for from in STATES {
        for to in STATES {
            m.insert((from.to_string(), to.to_string()), 0);
        }
    }
    let none = "none".to_string();
    for (id, from) in before {
        let to = after.get(id).unwrap_or(&none);
        *m.entry((from.clone(), to.clone())).or_default() += 1;
    }
    for (id, to) in after {
        if !before.contains_key(id) {
            *m.entry((none.clone(), to.clone())).or_default() += 1;
        }
    }
    m
}

/// The stages of a model on a date, from its partition.
pub fn read(out: &Path, model: &str, date: &str) -> Result<HashMap<String, String>, RunError> {
    let dir = out.join(format!("ads/aipl_{model}/dt={date}"));
    if !dir.is_dir() {
        return Err(RunError {
            message: format!(
                "no stages of `{model}` for {date} (no {}); run that date first",
                dir.display()
            ),
        });
    }
    stages(&crate::write::read_partition(&dir)?)
}

/// One date of a trend and its counts.
pub type Day<K> = (String, BTreeMap<K, u64>);

/// Entities per stage on each of the `days` dates up to `to` (dates without a partition
/// are skipped): (date, stage → entities).
pub fn trend(
    out: &Path,
    model: &str,
    to: chrono::NaiveDate,
    days: u32,
) -> Result<Vec<Day<String>>, RunError> {
    let mut rows = Vec::new();
    for back in (0..days).rev() {
        let day = (to - chrono::Duration::days(i64::from(back)))
            .format("%Y-%m-%d")
            .to_string();
        let Ok(stages) = read(out, model, &day) else {
            continue;
        };
        let mut counts: BTreeMap<String, u64> = STATES.iter().map(|s| (s.to_string(), 0)).collect();
        for s in stages.values() {
            *counts.entry(s.clone()).or_default() += 1;
        }
        rows.push((day, counts));
    }
    Ok(rows)
}

/// Entities per (stage, value of the breakdown `by`) in one partition's batches; an
/// entity without a stage counts under `none` with no value (`none`).
pub fn counts_by(
    batches: &[RecordBatch],
    by: &str,
) -> Result<BTreeMap<(String, String), u64>, RunError> {
    let err = |e: arrow::error::ArrowError| RunError {
        message: e.to_string(),
    };
    let mut out = BTreeMap::new();
    for b in batches {
        let column = |name: &str| -> Result<StringArray, RunError> {
            let i = b.schema().index_of(name).map_err(|_| RunError {
                message: format!("the AIPL table has no column `{name}`"),
            })?;
            let c = arrow::compute::cast(b.column(i), &DataType::Utf8).map_err(err)?;
            Ok(c.as_any()
                .downcast_ref::<StringArray>()
                .cloned()
                .unwrap_or_else(|| StringArray::from(Vec::<Option<&str>>::new())))
        };
        let (stage, value) = (column("stage")?, column(by)?);
        for i in 0..b.num_rows() {
            let text = |a: &StringArray| {
                if a.is_null(i) {
                    "none".to_string()
                } else {
                    a.value(i).to_string()
                }
            };
            *out.entry((text(&stage), text(&value))).or_default() += 1;
        }
    }
    Ok(out)
}

/// Entities per stage and value of the breakdown `by` on each of the `days` dates up
/// to `to` (dates without a partition are skipped).
pub fn trend_by(
    out: &Path,
    model: &str,
    by: &str,
    to: chrono::NaiveDate,
    days: u32,
) -> Result<Vec<Day<(String, String)>>, RunError> {
    let mut rows = Vec::new();
    for back in (0..days).rev() {
        let day = (to - chrono::Duration::days(i64::from(back)))
            .format("%Y-%m-%d")
            .to_string();
        let dir = out.join(format!("ads/aipl_{model}/dt={day}"));
        if !dir.is_dir() {
            continue;
        }
        let batches = crate::write::read_partition(&dir)?;
        rows.push((day, counts_by(&batches, by)?));
    }
    Ok(rows)
}

/// Counts per stage and breakdown value as a table for dashboards: `stage`, the
/// breakdown (`channel`), `entities`; stages in funnel order.
pub fn counts_batch(
    counts: &BTreeMap<(String, String), u64>,
    by: &str,
) -> Result<RecordBatch, RunError> {
    use std::sync::Arc;
    let field = |n: &str, t: DataType| arrow::datatypes::Field::new(n, t, false);
    let schema = Arc::new(arrow::datatypes::Schema::new(vec![
        field("stage", DataType::Utf8),
        field(by, DataType::Utf8),
        field("entities", DataType::Int64),
    ]));
    let order = |s: &str| STATES.iter().position(|x| *x == s).unwrap_or(STATES.len());
    let mut cells: Vec<(&(String, String), &u64)> = counts.iter().collect();
    cells.sort_by(|((s1, v1), _), ((s2, v2), _)| (order(s1), v1).cmp(&(order(s2), v2)));
    let columns: Vec<arrow::array::ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(
            cells.iter().map(|((s, _), _)| s.as_str()),
        )),
        Arc::new(StringArray::from_iter_values(
            cells.iter().map(|((_, v), _)| v.as_str()),
        )),
        Arc::new(arrow::array::Int64Array::from_iter_values(
            cells.iter().map(|(_, n)| **n as i64),
        )),
    ];
    RecordBatch::try_new(schema, columns).map_err(|e| RunError {
        message: e.to_string(),
    })
}

/// The flow matrix as a table: `from_date`, `from_stage`, `to_stage`, `entities`.
pub fn flow_batch(
    m: &BTreeMap<(String, String), u64>,
    from_date: &str,
) -> Result<RecordBatch, RunError> {
    use std::sync::Arc;
    let field = |n: &str, t: DataType| arrow::datatypes::Field::new(n, t, false);
    let schema = Arc::new(arrow::datatypes::Schema::new(vec![
        field("from_date", DataType::Utf8),
        field("from_stage", DataType::Utf8),
        field("to_stage", DataType::Utf8),
        field("entities", DataType::Int64),
    ]));
    let order = |s: &str| STATES.iter().position(|x| *x == s).unwrap_or(STATES.len());
    let mut cells: Vec<(&(String, String), &u64)> = m.iter().collect();
    cells.sort_by_key(|((f, t), _)| (order(f), order(t)));
    let columns: Vec<arrow::array::ArrayRef> = vec![
        Arc::new(StringArray::from(vec![from_date; cells.len()])),
        Arc::new(StringArray::from_iter_values(
            cells.iter().map(|((f, _), _)| f.as_str()),
        )),
        Arc::new(StringArray::from_iter_values(
            cells.iter().map(|((_, t), _)| t.as_str()),
        )),
        Arc::new(arrow::array::Int64Array::from_iter_values(
            cells.iter().map(|(_, n)| **n as i64),
        )),
    ];
    RecordBatch::try_new(schema, columns).map_err(|e| RunError {
        message: e.to_string(),
    })
}

// ------------------------------------------------------------------ the node kind

use crate::node::{Done, Kind, NodeCx, Planned};
use futures::future::BoxFuture;
use mj_ir::jobs::AiplJob;

/// `ads.aipl_<model>` (each entity's stage and breakdowns, the plan's rows), the
/// counts per breakdown value (`ads.aipl_<model>_<by>`), and the flow from the day
/// before when that day has run (`ads.aipl_<model>_flow`).
impl Kind for AiplJob {
    fn scanned(&self) -> bool {
        true
    }

    fn planned(&self) -> bool {
        true
    }

    fn plan<'a>(
        &'a self,
        ctx: &'a datafusion::prelude::SessionContext,
        date: &'a str,
        jit: bool,
    ) -> BoxFuture<'a, Result<Option<Planned>, String>> {
        Box::pin(async move {
            let features = crate::input(ctx, &format!("ads_{}_features", self.entity)).await?;
            crate::planned::with_rules(mj_plan::assets::aipl(self, features, date), jit)
        })
    }

    fn run<'a>(&'a self, cx: NodeCx<'a>) -> BoxFuture<'a, Result<Done, RunError>> {
        Box::pin(async move {
            let (schema, batches, rules) = crate::planned::collected(self, &cx).await?;
            let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
            let fail = |e: String| cx.fail(e);
            let mut stages: BTreeMap<String, u64> = ["A", "I", "P", "L", "none"]
                .iter()
                .map(|s| (s.to_string(), 0))
                .collect();
            for b in &batches {
                let column = arrow::compute::cast(b.column(1), &DataType::Utf8)
                    .map_err(|e| fail(e.to_string()))?;
                let column = column
                    .as_any()
                    .downcast_ref::<StringArray>()
                    .ok_or_else(|| fail("the stage is not text".to_string()))?;
                for i in 0..column.len() {
                    let key = if column.is_null(i) {
                        "none"
                    } else {
                        column.value(i)
                    };
                    *stages.entry(key.to_string()).or_default() += 1;
                }
            }
            let summary = format!(
                "{rows} rows: {}",
                stages
                    .iter()
                    .map(|(k, v)| format!("{k} {v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let mut by = BTreeMap::new();
            let mut by_tables = Vec::new();
            for b in &self.breakdowns {
                let counts = counts_by(&batches, &b.name).map_err(|e| fail(e.message))?;
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
                let batch = counts_batch(&counts, &b.name).map_err(|e| fail(e.message))?;
                by_tables.push(cx.table(
                    "ads",
                    &format!("aipl_{}_{}", self.name, b.name),
                    batch.schema(),
                    vec![batch],
                ));
            }
            let report = crate::AiplReport {
                model: self.name.clone(),
                stages,
                by,
                rule: rules,
            };
            // The flow from the day before, when that day has run: a table for
            // dashboards.
            let yesterday = chrono::NaiveDate::parse_from_str(cx.date(), "%Y-%m-%d")
                .map(|d| {
                    (d - chrono::Duration::days(1))
                        .format("%Y-%m-%d")
                        .to_string()
                })
                .map_err(|e| fail(e.to_string()))?;
            let flow_table = match read(&cx.opts.out, &self.name, &yesterday) {
                Ok(before) => {
                    let after = self::stages(&batches).map_err(|e| fail(e.message))?;
                    Some(
                        flow_batch(&flow(&before, &after), &yesterday)
                            .map_err(|e| fail(e.message))?,
                    )
                }
                Err(_) => None,
            };
            let mut tables = vec![cx.own(schema, batches)];
            tables.extend(by_tables);
            if let Some(b) = flow_table {
                tables.push(cx.table(
                    "ads",
                    &format!("aipl_{}_flow", self.name),
                    b.schema(),
                    vec![b],
                ));
            }
            Ok(Done {
                summary,
                tables,
                ..Done::default()
            }
            .report(move |m| m.aipl.push(report)))
        })
    }
}
