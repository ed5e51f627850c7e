//! The long form of an entity's tags and their coverage.
//!
//! `ads/<entity>_tag_values` has one row per entity and tag that has a value:
//! `(<entity>, tag, value)`, the value as text (numbers and booleans as Arrow prints
//! them), sorted by entity then tag — for tools that want tags as rows.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, RecordBatch, StringBuilder};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use mj_ir::jobs::TagsJob;
use serde::{Deserialize, Serialize};

/// How many entities a tag has a value for.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Coverage {
    pub tag: String,
    pub covered: u64,
    /// covered / entities (0 without entities).
    pub coverage: f64,
}

/// The long table and each tag's coverage, from the wide table's batches.
pub fn long(
    job: &TagsJob,
    schema: &SchemaRef,
    batches: &[RecordBatch],
) -> Result<(SchemaRef, Vec<RecordBatch>, Vec<Coverage>), String> {
    let entity = job.entity.as_str();
    let long_schema = Arc::new(Schema::new(vec![
        Field::new(entity, DataType::Utf8, false),
        Field::new("tag", DataType::Utf8, false),
        Field::new("value", DataType::Utf8, false),
    ]));
    let key = schema.index_of(entity).map_err(|e| e.to_string())?;
    let mut columns = Vec::new();
    for t in &job.tags {
        columns.push(schema.index_of(&t.name).map_err(|e| e.to_string())?);
    }
    // Tags in name order within an entity.
    let mut order: Vec<usize> = (0..job.tags.len()).collect();
    order.sort_by(|&a, &b| job.tags[a].name.cmp(&job.tags[b].name));
    let mut covered = vec![0u64; job.tags.len()];
    let mut total = 0u64;
    let mut out = Vec::new();
    for b in batches {
        total += b.num_rows() as u64;
        let ids =
            arrow::compute::cast(b.column(key), &DataType::Utf8).map_err(|e| e.to_string())?;
        let ids = ids
            .as_any()
            .downcast_ref::<arrow::array::StringArray>()
            .ok_or("entity ids are not text")?;
        let texts: Vec<ArrayRef> = columns
            .iter()
            .map(|&c| arrow::compute::cast(b.column(c), &DataType::Utf8))
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())?;
        let (mut e, mut t, mut v) = (
            StringBuilder::new(),
            StringBuilder::new(),
            StringBuilder::new(),
        );
        for row in 0..b.num_rows() {
            for &i in &order {
                let text = texts[i]
                    .as_any()
                    .downcast_ref::<arrow::array::StringArray>()
                    .ok_or("a tag is not text")?;
                if text.is_null(row) || ids.is_null(row) {
                    continue;
                }
                covered[i] += 1;
                e.append_value(ids.value(row));
                t.append_value(&job.tags[i].name);
                v.append_value(text.value(row));
            }
        }
        out.push(
            RecordBatch::try_new(
                long_schema.clone(),
                vec![
                    Arc::new(e.finish()),
                    Arc::new(t.finish()),
                    Arc::new(v.finish()),
                ],
            )
            .map_err(|e| e.to_string())?,
        );
    }
    let coverage = job
        .tags
        .iter()
        .zip(&covered)
        .map(|(t, &c)| Coverage {
            tag: t.name.clone(),
            covered: c,
            coverage: if total == 0 {
                0.0
            } else {
                c as f64 / total as f64
            },
        })
        .collect();
    Ok((long_schema, out, coverage))
}

// ------------------------------------------------------------------ the node kind

use crate::node::{Done, Kind, NodeCx, Planned};
use futures::future::BoxFuture;

/// `ads.<entity>_tags` (wide, the plan's rows) and `ads.<entity>_tag_values` (long).
impl Kind for TagsJob {
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
            crate::planned::with_rules(mj_plan::assets::tags(self, features, date), jit)
        })
    }

    fn run<'a>(&'a self, cx: NodeCx<'a>) -> BoxFuture<'a, Result<Done, crate::RunError>> {
        Box::pin(async move {
            let (schema, batches, rules) = crate::planned::collected(self, &cx).await?;
            let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
            let (long_schema, long, coverage) =
                long(self, &schema, &batches).map_err(|e| cx.fail(e))?;
            let report = crate::TagsReport {
                entity: self.entity.clone(),
                entities: rows as u64,
                tags: coverage,
                rules,
            };
            Ok(Done {
                summary: format!("{rows} rows"),
                tables: vec![
                    cx.own(schema, batches),
                    cx.table(
                        "ads",
                        &format!("{}_tag_values", self.entity),
                        long_schema,
                        long,
                    ),
                ],
                ..Done::default()
            }
            .report(move |m| m.tags.push(report)))
        })
    }
}
