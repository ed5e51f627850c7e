//! Audience membership from an entity's audiences table: one member table per
//! audience, sizes, pairwise overlaps and route counts for the manifest.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{Array, BooleanArray, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use mj_ir::jobs::AudiencesJob;

use crate::AudienceReport;

/// The members of each audience (one column, the entity, sorted as the table is) and
/// each audience's report.
#[allow(clippy::type_complexity)]
pub fn members(
    job: &AudiencesJob,
    schema: &SchemaRef,
    batches: &[RecordBatch],
) -> Result<(Vec<(String, RecordBatch)>, Vec<AudienceReport>), String> {
    let entity = schema.index_of(&job.entity).map_err(|e| e.to_string())?;
    let names: Vec<&str> = job.audiences.iter().map(|(n, _)| n.as_str()).collect();
    let mut ids: Vec<Vec<String>> = vec![Vec::new(); names.len()];
    // Per entity, which audiences hold (as bits), to count overlaps.
    let mut together: BTreeMap<Vec<bool>, u64> = BTreeMap::new();
    let mut routes: Vec<BTreeMap<String, u64>> = vec![BTreeMap::new(); names.len()];
    for b in batches {
        let id =
            arrow::compute::cast(b.column(entity), &DataType::Utf8).map_err(|e| e.to_string())?;
        let id = id
            .as_any()
            .downcast_ref::<StringArray>()
            .ok_or("the entity is not text")?;
        let mut holds: Vec<&BooleanArray> = Vec::new();
        for n in &names {
            let i = schema.index_of(n).map_err(|e| e.to_string())?;
            holds.push(
                b.column(i)
                    .as_any()
                    .downcast_ref::<BooleanArray>()
                    .ok_or_else(|| format!("`{n}` is not a condition"))?,
            );
        }
        let mut route_cols: Vec<Option<StringArray>> = Vec::new();
        for n in &names {
            let col = match schema.index_of(&format!("route_{n}")) {
                Ok(i) => Some(
                    arrow::compute::cast(b.column(i), &DataType::Utf8)
                        .map_err(|e| e.to_string())?
                        .as_any()
                        .downcast_ref::<StringArray>()
                        .cloned()
                        .ok_or("a route is not text")?,
                ),
                Err(_) => None,
            };
            route_cols.push(col);
        }
        for r in 0..b.num_rows() {
            let bits: Vec<bool> = holds.iter().map(|h| h.is_valid(r) && h.value(r)).collect();
            for (k, &member) in bits.iter().enumerate() {
                if !member {
                    continue;
                }
                ids[k].push(id.value(r).to_string());
                if let Some(c) = &route_cols[k] {
                    let channel = if c.is_null(r) {
                        "(none)".to_string()
                    } else {
                        c.value(r).to_string()
                    };
                    *routes[k].entry(channel).or_default() += 1;
                }
            }
            if bits.iter().any(|x| *x) {
                *together.entry(bits).or_default() += 1;
            }
        }
    }
    let mut tables = Vec::new();
    let mut reports = Vec::new();
    for (k, name) in names.iter().enumerate() {
        let schema = Arc::new(Schema::new(vec![Field::new(
            &job.entity,
            DataType::Utf8,
            false,
        )]));
        let batch = RecordBatch::try_new(schema, vec![Arc::new(StringArray::from(ids[k].clone()))])
            .map_err(|e| e.to_string())?;
        tables.push((name.to_string(), batch));
        let mut overlap = BTreeMap::new();
        for (j, other) in names.iter().enumerate() {
            if j == k {
                continue;
            }
            let both: u64 = together
                .iter()
                .filter(|(bits, _)| bits[k] && bits[j])
                .map(|(_, n)| n)
                .sum();
            overlap.insert(other.to_string(), both);
        }
        reports.push(AudienceReport {
            audience: name.to_string(),
            entity: job.entity.clone(),
            members: ids[k].len() as u64,
            overlap,
            route: routes[k].clone(),
        });
    }
    Ok((tables, reports))
}

// ------------------------------------------------------------------ the node kind

use crate::node::{Done, Kind, NodeCx, Planned};
use futures::future::BoxFuture;

/// `ads.<entity>_audiences` (membership and routes, the plan's rows) and one
/// `ads.audience_<name>` per audience (its members).
impl Kind for AudiencesJob {
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
            let input = |name: String| async move { crate::input(ctx, &name).await };
            let e = &self.entity;
            let features = input(format!("ads_{e}_features")).await?;
            let mut inputs = mj_plan::assets::AudienceInputs {
                aipl: Vec::new(),
                rfm: Vec::new(),
                near: Vec::new(),
            };
            for m in &self.aipl {
                inputs
                    .aipl
                    .push((m.clone(), input(format!("ads_aipl_{m}")).await?));
            }
            for m in &self.rfm {
                inputs
                    .rfm
                    .push((m.clone(), input(format!("ads_rfm_{m}")).await?));
            }
            for u in &self.near {
                let d = &u.dimension;
                inputs.near.push(mj_plan::assets::NearInput {
                    dimension: d.clone(),
                    near: input(format!("ads_{e}_near_{d}")).await?,
                    dim: input(format!("dim_{d}")).await?,
                });
            }
            crate::planned::with_rules(
                mj_plan::assets::audiences(self, features, &inputs, date),
                jit,
            )
        })
    }

    fn run<'a>(&'a self, cx: NodeCx<'a>) -> BoxFuture<'a, Result<Done, crate::RunError>> {
        Box::pin(async move {
            let (schema, batches, _) = crate::planned::collected(self, &cx).await?;
            let (members, reports) = members(self, &schema, &batches).map_err(|e| cx.fail(e))?;
            let summary = reports
                .iter()
                .map(|r| format!("{} {}", r.audience, r.members))
                .collect::<Vec<_>>()
                .join(", ");
            let mut tables = vec![cx.own(schema, batches)];
            for (audience, batch) in members {
                tables.push(cx.table(
                    "ads",
                    &format!("audience_{audience}"),
                    batch.schema(),
                    vec![batch],
                ));
            }
            Ok(Done {
                summary,
                tables,
                ..Done::default()
            }
            .report(move |m| m.audiences.extend(reports)))
        })
    }
}
