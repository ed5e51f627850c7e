//! Channel contribution: how much each channel contributed to conversions, from each
//! entity's path of touches (their channels in time order) and whether it converted.
//!
//! - first touch: each conversion's credit to its path's first channel;
//! - last touch: to its last;
//! - linear: split equally over its touches (a channel touched twice gets two shares);
//! - Markov removal effect: a first-order Markov chain over start → channels →
//!   conversion or null, estimated from every path (converted or not); the removal
//!   effect of channel c is 1 − P(conversion without c) / P(conversion), where removing
//!   c sends every transition into c to null; conversions are credited in proportion to
//!   the removal effects.
//!
//! A converted path without touches is credited to `(direct)` by the first, last and
//! linear models; the Markov chain sees it as start → conversion.

use std::collections::BTreeMap;

use nalgebra::{DMatrix, DVector};

/// One entity's path.
#[derive(Debug, Clone)]
pub struct Path {
    pub touches: Vec<String>,
    pub converted: bool,
}

/// The credit of each channel under each model, in conversions.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Credit {
    pub first_touch: f64,
    pub last_touch: f64,
    pub linear: f64,
    pub markov: f64,
    pub removal_effect: f64,
}

pub const DIRECT: &str = "(direct)";

/// Credits per channel (sorted by name).
pub fn attribute(paths: &[Path]) -> BTreeMap<String, Credit> {
    let mut out: BTreeMap<String, Credit> = BTreeMap::new();
    for p in paths {
        for t in &p.touches {
            out.entry(t.clone()).or_default();
        }
        if !p.converted {
            continue;
        }
        match (p.touches.first(), p.touches.last()) {
            (Some(first), Some(last)) => {
                out.entry(first.clone()).or_default().first_touch += 1.0;
                out.entry(last.clone()).or_default().last_touch += 1.0;
                let share = 1.0 / p.touches.len() as f64;
                for t in &p.touches {
                    out.entry(t.clone()).or_default().linear += share;
                }
            }
            _ => {
                let d = out.entry(DIRECT.to_string()).or_default();
                d.first_touch += 1.0;
                d.last_touch += 1.0;
                d.linear += 1.0;
            }
        }
    }
    let conversions = paths.iter().filter(|p| p.converted).count() as f64;
    let channels: Vec<String> = out.keys().filter(|c| *c != DIRECT).cloned().collect();
    let base = conversion_probability(paths, &channels, None);
    let mut effects = Vec::new();
    for c in &channels {
        let without = conversion_probability(paths, &channels, Some(c));
        let effect = if base > 0.0 {
            1.0 - without / base
        } else {
            0.0
        };
        effects.push(effect.max(0.0));
    }
    let total: f64 = effects.iter().sum();
    // What the chain does not give to channels is the direct conversions' share.
    let direct = paths
        .iter()
        .filter(|p| p.converted && p.touches.is_empty())
        .count() as f64;
    let attributable = conversions - direct;
    for (c, e) in channels.iter().zip(&effects) {
        let credit = out.entry(c.clone()).or_default();
        credit.removal_effect = *e;
        credit.markov = if total > 0.0 {
            e / total * attributable
        } else {
            0.0
        };
    }
    if direct > 0.0 {
        out.entry(DIRECT.to_string()).or_default().markov = direct;
    }
    out
}

/// The probability of reaching conversion from start in the chain estimated from the
/// paths, with `removed`'s incoming transitions sent to null.
pub fn conversion_probability(paths: &[Path], channels: &[String], removed: Option<&str>) -> f64 {
    // States: 0 start, 1..=n channels; absorbing conversion and null.
    let n = channels.len();
    let index = |c: &str| channels.iter().position(|x| x == c).map(|i| i + 1);
    let mut counts = vec![vec![0.0f64; n + 3]; n + 1]; // to: 0..=n, n+1 conv, n+2 null
    for p in paths {
        let mut from = 0usize;
        for t in &p.touches {
            let Some(to) = index(t) else { continue };
            counts[from][to] += 1.0;
            from = to;
        }
        counts[from][if p.converted { n + 1 } else { n + 2 }] += 1.0;
    }
    // x = T x + b over transient states, where b is the step into conversion.
    let mut a = DMatrix::<f64>::identity(n + 1, n + 1);
    let mut b = DVector::<f64>::zeros(n + 1);
    for (s, row) in counts.iter().enumerate() {
        let total: f64 = row.iter().sum();
        if total == 0.0 {
            continue;
        }
        for (t, &c) in row.iter().enumerate().take(n + 1) {
            let into_removed = removed.is_some_and(|r| t > 0 && channels[t - 1] == r);
            if c > 0.0 && !into_removed {
                a[(s, t)] -= c / total;
            }
        }
        b[s] = row[n + 1] / total;
    }
    a.lu().solve(&b).map_or(0.0, |x| x[0])
}

/// A model's contribution table in a run.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ContributionReport {
    pub model: String,
    pub paths: u64,
    pub conversions: u64,
    /// Per channel: the Markov credit.
    pub markov: BTreeMap<String, f64>,
}

type Table = (
    String,
    String,
    arrow::datatypes::SchemaRef,
    Vec<arrow::array::RecordBatch>,
);

fn text(a: &arrow::array::ArrayRef) -> Result<arrow::array::StringArray, String> {
    let t =
        arrow::compute::cast(a, &arrow::datatypes::DataType::Utf8).map_err(|e| e.to_string())?;
    t.as_any()
        .downcast_ref::<arrow::array::StringArray>()
        .cloned()
        .ok_or_else(|| "not text".to_string())
}

/// Channel contribution of an AIPL model on a date: every entity's path of touches
/// (the rows behind its A and I stages, in time order) converts when its stage is P
/// or L; each channel's credit under each model, and its share of P and L entities
/// (by the channel that qualified them).
pub(crate) async fn run(
    ctx: &datafusion::prelude::SessionContext,
    job: &mj_ir::jobs::AiplJob,
    date: &str,
) -> Result<(Vec<Table>, ContributionReport), String> {
    use arrow::array::{Array, Float64Array, Int64Array, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};
    use std::sync::Arc;
    let mut tables = Vec::new();
    for t in &job.touches {
        if !tables.iter().any(|(n, _)| *n == t.table.node) {
            tables.push((
                t.table.node.clone(),
                crate::input(ctx, &t.table.node.scan_name()).await?,
            ));
        }
    }
    let oneid = crate::input(ctx, &format!("oneid_{}", job.entity)).await?;
    let plan = mj_plan::assets::touches(job, &tables, oneid, date).map_err(|e| e.message)?;
    let (_, batches) = crate::collect(ctx, plan).await?;
    let mut paths: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for b in &batches {
        let (ids, channels) = (text(b.column(0))?, text(b.column(2))?);
        for i in 0..b.num_rows() {
            if ids.is_null(i) || channels.is_null(i) {
                continue;
            }
            paths
                .entry(ids.value(i).to_string())
                .or_default()
                .push(channels.value(i).to_string());
        }
    }
    // Stages and the channel that qualified them.
    let by = job
        .breakdowns
        .first()
        .map(|b| b.name.clone())
        .unwrap_or_default();
    let stages = ctx
        .table(format!("ads_aipl_{}", job.name))
        .await
        .map_err(|e| e.to_string())?
        .select_columns(&[job.entity.as_str(), "stage", by.as_str()])
        .map_err(|e| e.to_string())?
        .collect()
        .await
        .map_err(|e| e.to_string())?;
    let mut converted: BTreeMap<String, bool> = BTreeMap::new();
    let mut staged: BTreeMap<(String, String), u64> = BTreeMap::new();
    let (mut p_total, mut l_total) = (0u64, 0u64);
    for b in &stages {
        let (ids, stage, channel) = (text(b.column(0))?, text(b.column(1))?, text(b.column(2))?);
        for i in 0..b.num_rows() {
            if ids.is_null(i) || stage.is_null(i) {
                continue;
            }
            let s = stage.value(i);
            if matches!(s, "P" | "L") {
                converted.insert(ids.value(i).to_string(), true);
                let c = if channel.is_null(i) {
                    "(none)"
                } else {
                    channel.value(i)
                };
                *staged.entry((s.to_string(), c.to_string())).or_default() += 1;
                if s == "P" {
                    p_total += 1;
                } else {
                    l_total += 1;
                }
            }
        }
    }
    let mut all: Vec<Path> = Vec::new();
    for (id, touches) in &paths {
        all.push(Path {
            touches: touches.clone(),
            converted: converted.contains_key(id),
        });
    }
    for id in converted.keys() {
        if !paths.contains_key(id) {
            all.push(Path {
                touches: Vec::new(),
                converted: true,
            });
        }
    }
    let mut credits = attribute(&all);
    for (_, c) in staged.keys() {
        credits.entry(c.clone()).or_default();
    }
    let share = |n: u64, of: u64| if of == 0 { 0.0 } else { n as f64 / of as f64 };
    let count = |s: &str, c: &str| {
        staged
            .get(&(s.to_string(), c.to_string()))
            .copied()
            .unwrap_or(0)
    };
    let names: Vec<&String> = credits.keys().collect();
    let f = |n: &str, t: DataType| Field::new(n, t, false);
    let schema = Arc::new(Schema::new(vec![
        f("channel", DataType::Utf8),
        f("first_touch", DataType::Float64),
        f("last_touch", DataType::Float64),
        f("linear", DataType::Float64),
        f("markov", DataType::Float64),
        f("removal_effect", DataType::Float64),
        f("p_entities", DataType::Int64),
        f("p_share", DataType::Float64),
        f("l_entities", DataType::Int64),
        f("l_share", DataType::Float64),
    ]));
    let col = |g: &dyn Fn(&Credit) -> f64| -> Arc<dyn Array> {
        Arc::new(Float64Array::from_iter_values(
            names.iter().map(|n| g(&credits[*n])),
        ))
    };
    let batch = arrow::array::RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(StringArray::from_iter_values(
                names.iter().map(|n| n.as_str()),
            )),
            col(&|c| c.first_touch),
            col(&|c| c.last_touch),
            col(&|c| c.linear),
            col(&|c| c.markov),
            col(&|c| c.removal_effect),
            Arc::new(Int64Array::from_iter_values(
                names.iter().map(|n| count("P", n) as i64),
            )),
            Arc::new(Float64Array::from_iter_values(
                names.iter().map(|n| share(count("P", n), p_total)),
            )),
            Arc::new(Int64Array::from_iter_values(
                names.iter().map(|n| count("L", n) as i64),
            )),
            Arc::new(Float64Array::from_iter_values(
                names.iter().map(|n| share(count("L", n), l_total)),
            )),
        ],
    )
    .map_err(|e| e.to_string())?;
    let name = format!("aipl_{}_contribution", job.name);
    let report = ContributionReport {
        model: job.name.clone(),
        paths: all.len() as u64,
        conversions: all.iter().filter(|p| p.converted).count() as u64,
        markov: credits.iter().map(|(k, c)| (k.clone(), c.markov)).collect(),
    };
    Ok((
        vec![(
            format!("ads.{name}"),
            format!("ads/{name}/dt={date}"),
            schema,
            vec![batch],
        )],
        report,
    ))
}

// ------------------------------------------------------------------ the node kind

use crate::node::{Done, Kind, NodeCx};
use futures::future::BoxFuture;

/// `ads.aipl_<model>_contribution`, from the touches and the model's stages.
impl Kind for mj_ir::jobs::ContributionJob {
    fn scanned(&self) -> bool {
        false
    }

    fn run<'a>(&'a self, cx: NodeCx<'a>) -> BoxFuture<'a, Result<Done, crate::RunError>> {
        Box::pin(async move {
            let (tables, report) = run(cx.ctx, &self.model, cx.date())
                .await
                .map_err(|e| cx.fail(e))?;
            Ok(Done {
                summary: format!("{} paths, {} conversions", report.paths, report.conversions),
                tables,
                ..Done::default()
            }
            .report(move |m| m.contributions.push(report)))
        })
    }
}
