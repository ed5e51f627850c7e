//! `compare A against B by …`: an audience's make-up beside another's (or everyone's)
//! along tags, AIPL stages and RFM segments, with Quick Audience's TGI and a χ² test of
//! homogeneity per `by`.
//!
//! For each value v of a `by`: share_A(v) = members of A with v / members of A, the same
//! for B, and TGI = share_A / share_B × 100 (0 where share_B is 0). Against `all`, B is
//! every entity of the audiences table. The χ² test compares two disjoint groups: A and
//! the entities outside A when against `all`; A and B as given otherwise (members of
//! both count in both). The table is 2 × k over the k values seen in either group (an
//! entity without a value counts under `(none)`); χ² = Σ (O − E)² / E with
//! E = row total × column total / N, k − 1 degrees of freedom, and p the upper tail of
//! the χ² distribution. Tests are ranked by p, then by χ² (largest first).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray,
};
use arrow::datatypes::{DataType, Field, Schema};
use datafusion::prelude::SessionContext;
use mj_ir::jobs::{CompareBy, CompareJob};
use serde::{Deserialize, Serialize};
use statrs::distribution::{ChiSquared, ContinuousCDF};

/// The χ² statistic, degrees of freedom and p-value of a 2 × k table given as two rows
/// of counts over the same k categories; categories empty in both rows are left out.
/// None when either row is empty or fewer than two categories remain.
pub fn chi2_homogeneity(a: &[u64], b: &[u64]) -> Option<(f64, u64, f64)> {
    let cols: Vec<(f64, f64)> = a
        .iter()
        .zip(b)
        .filter(|(x, y)| **x + **y > 0)
        .map(|(x, y)| (*x as f64, *y as f64))
        .collect();
    let (ra, rb): (f64, f64) = cols.iter().fold((0.0, 0.0), |s, c| (s.0 + c.0, s.1 + c.1));
    if ra == 0.0 || rb == 0.0 || cols.len() < 2 {
        return None;
    }
    let n = ra + rb;
    let mut chi2 = 0.0;
    for (x, y) in &cols {
        let total = x + y;
        let (ea, eb) = (ra * total / n, rb * total / n);
        chi2 += (x - ea).powi(2) / ea + (y - eb).powi(2) / eb;
    }
    let dof = cols.len() as u64 - 1;
    let p = ChiSquared::new(dof as f64).ok()?.sf(chi2);
    Some((chi2, dof, p))
}

/// One test in the manifest.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TestReport {
    /// The tag or model compared along.
    pub attribute: String,
    pub chi2: Option<f64>,
    pub dof: Option<u64>,
    pub p_value: Option<f64>,
}

/// A comparison in a run: the groups' sizes and the ten most significant `by`s.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CompareReport {
    pub table: String,
    pub audience: String,
    pub against: String,
    pub a_entities: u64,
    pub b_entities: u64,
    pub top: Vec<TestReport>,
}

fn text(a: &ArrayRef) -> Result<StringArray, String> {
    let t = arrow::compute::cast(a, &DataType::Utf8).map_err(|e| e.to_string())?;
    t.as_any()
        .downcast_ref::<StringArray>()
        .cloned()
        .ok_or_else(|| "not text".to_string())
}

async fn read(
    ctx: &SessionContext,
    table: &str,
    columns: &[&str],
) -> Result<Vec<RecordBatch>, String> {
    ctx.table(table)
        .await
        .map_err(|e| e.to_string())?
        .select_columns(columns)
        .map_err(|e| e.to_string())?
        .collect()
        .await
        .map_err(|e| e.to_string())
}

type Table = (
    String,
    String,
    arrow::datatypes::SchemaRef,
    Vec<RecordBatch>,
);

/// Runs a comparison over the tables of the run: its shares table, its tests table
/// and its report.
pub async fn run(
    ctx: &SessionContext,
    job: &CompareJob,
    date: &str,
) -> Result<(Vec<Table>, CompareReport), String> {
    let e = job.entity.as_str();
    let mut cols = vec![e, job.audience.as_str()];
    if let Some(b) = &job.against {
        cols.push(b);
    }
    let members = read(ctx, &format!("ads_{e}_audiences"), &cols).await?;
    // entity → (in A, in B, outside A as the second group of the test)
    let mut groups: Vec<(String, bool, bool, bool)> = Vec::new();
    for b in &members {
        let id = text(b.column(0))?;
        let flag = |i: usize| -> Result<BooleanArray, String> {
            b.column(i)
                .as_any()
                .downcast_ref::<BooleanArray>()
                .cloned()
                .ok_or_else(|| "an audience is not a condition".to_string())
        };
        let a = flag(1)?;
        let other = if job.against.is_some() {
            Some(flag(2)?)
        } else {
            None
        };
        for r in 0..b.num_rows() {
            let in_a = a.is_valid(r) && a.value(r);
            let (in_b, second) = match &other {
                Some(o) => {
                    let x = o.is_valid(r) && o.value(r);
                    (x, x)
                }
                None => (true, !in_a),
            };
            groups.push((id.value(r).to_string(), in_a, in_b, second));
        }
    }
    let a_size = groups.iter().filter(|g| g.1).count() as u64;
    let b_size = groups.iter().filter(|g| g.2).count() as u64;
    let mut shares: Vec<(String, String, u64, u64)> = Vec::new();
    let mut tests: Vec<TestReport> = Vec::new();
    for by in &job.by {
        let (table, column, name) = match by {
            CompareBy::Tag(t) => (format!("ads_{e}_tags"), t.clone(), t.clone()),
            CompareBy::Aipl(m) => (format!("ads_aipl_{m}"), "stage".to_string(), m.clone()),
            CompareBy::Rfm(m) => (format!("ads_rfm_{m}"), "segment".to_string(), m.clone()),
        };
        let mut value_of: HashMap<String, String> = HashMap::new();
        for b in read(ctx, &table, &[e, &column]).await? {
            let (ids, values) = (text(b.column(0))?, text(b.column(1))?);
            for r in 0..b.num_rows() {
                if !ids.is_null(r) && !values.is_null(r) {
                    value_of.insert(ids.value(r).to_string(), values.value(r).to_string());
                }
            }
        }
        // value → (in A, in B, in the test's second group)
        let mut counts: BTreeMap<String, (u64, u64, u64)> = BTreeMap::new();
        for (id, in_a, in_b, second) in &groups {
            let v = value_of
                .get(id)
                .cloned()
                .unwrap_or_else(|| "(none)".to_string());
            let c = counts.entry(v).or_default();
            c.0 += u64::from(*in_a);
            c.1 += u64::from(*in_b);
            c.2 += u64::from(*second);
        }
        let a: Vec<u64> = counts.values().map(|c| c.0).collect();
        let second: Vec<u64> = counts.values().map(|c| c.2).collect();
        let test = chi2_homogeneity(&a, &second);
        tests.push(TestReport {
            attribute: name.clone(),
            chi2: test.map(|t| t.0),
            dof: test.map(|t| t.1),
            p_value: test.map(|t| t.2),
        });
        for (v, (x, y, _)) in counts {
            shares.push((name.clone(), v, x, y));
        }
    }
    // Most significant first: smallest p, then largest χ²; untestable last.
    let mut ranked: Vec<usize> = (0..tests.len()).collect();
    ranked.sort_by(|&i, &j| {
        let key = |t: &TestReport| (t.p_value.unwrap_or(f64::INFINITY), -t.chi2.unwrap_or(0.0));
        let (a, b) = (key(&tests[i]), key(&tests[j]));
        a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1))
    });
    let share = |n: u64, of: u64| if of == 0 { 0.0 } else { n as f64 / of as f64 };
    let f = |n: &str, t: DataType, null: bool| Field::new(n, t, null);
    let schema = Arc::new(Schema::new(vec![
        f("attribute", DataType::Utf8, false),
        f("value", DataType::Utf8, false),
        f("a_entities", DataType::Int64, false),
        f("a_share", DataType::Float64, false),
        f("b_entities", DataType::Int64, false),
        f("b_share", DataType::Float64, false),
        f("tgi", DataType::Float64, false),
    ]));
    let tgi = |x: u64, y: u64| {
        let sb = share(y, b_size);
        if sb == 0.0 {
            0.0
        } else {
            share(x, a_size) / sb * 100.0
        }
    };
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(StringArray::from_iter_values(
                shares.iter().map(|s| s.0.as_str()),
            )),
            Arc::new(StringArray::from_iter_values(
                shares.iter().map(|s| s.1.as_str()),
            )),
            Arc::new(Int64Array::from_iter_values(
                shares.iter().map(|s| s.2 as i64),
            )),
            Arc::new(Float64Array::from_iter_values(
                shares.iter().map(|s| share(s.2, a_size)),
            )),
            Arc::new(Int64Array::from_iter_values(
                shares.iter().map(|s| s.3 as i64),
            )),
            Arc::new(Float64Array::from_iter_values(
                shares.iter().map(|s| share(s.3, b_size)),
            )),
            Arc::new(Float64Array::from_iter_values(
                shares.iter().map(|s| tgi(s.2, s.3)),
            )),
        ],
    )
    .map_err(|e| e.to_string())?;
    let test_schema = Arc::new(Schema::new(vec![
        f("attribute", DataType::Utf8, false),
        f("chi2", DataType::Float64, true),
        f("dof", DataType::Int64, true),
        f("p_value", DataType::Float64, true),
        f("rank", DataType::Int64, false),
    ]));
    let order: Vec<&TestReport> = ranked.iter().map(|&i| &tests[i]).collect();
    let test_batch = RecordBatch::try_new(
        test_schema.clone(),
        vec![
            Arc::new(StringArray::from_iter_values(
                order.iter().map(|t| t.attribute.as_str()),
            )),
            Arc::new(Float64Array::from(
                order.iter().map(|t| t.chi2).collect::<Vec<_>>(),
            )),
            Arc::new(Int64Array::from(
                order
                    .iter()
                    .map(|t| t.dof.map(|d| d as i64))
                    .collect::<Vec<_>>(),
            )),
            Arc::new(Float64Array::from(
                order.iter().map(|t| t.p_value).collect::<Vec<_>>(),
            )),
            Arc::new(Int64Array::from_iter_values(1..=order.len() as i64)),
        ],
    )
    .map_err(|e| e.to_string())?;
    let name = job.table();
    let report = CompareReport {
        table: format!("ads.{name}"),
        audience: job.audience.clone(),
        against: job.against.clone().unwrap_or_else(|| "all".to_string()),
        a_entities: a_size,
        b_entities: b_size,
        top: order.iter().take(10).map(|t| (*t).clone()).collect(),
    };
    Ok((
        vec![
            (
                format!("ads.{name}"),
                format!("ads/{name}/dt={date}"),
                schema,
                vec![batch],
            ),
            (
                format!("ads.{name}_tests"),
                format!("ads/{name}_tests/dt={date}"),
                test_schema,
                vec![test_batch],
            ),
        ],
        report,
    ))
}

// ------------------------------------------------------------------ the node kind

use crate::node::{Done, Kind, NodeCx};
use futures::future::BoxFuture;

/// `ads.compare_<a>_<b>` and its tests, from finished tables.
impl Kind for CompareJob {
    fn scanned(&self) -> bool {
        false
    }

    fn run<'a>(&'a self, cx: NodeCx<'a>) -> BoxFuture<'a, Result<Done, crate::RunError>> {
        Box::pin(async move {
            let (tables, report) = run(cx.ctx, self, cx.date()).await.map_err(|e| cx.fail(e))?;
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
            Ok(Done {
                summary,
                tables,
                ..Done::default()
            }
            .report(move |m| m.comparisons.push(report)))
        })
    }
}
