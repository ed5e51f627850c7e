//! Exports: an audience's members for the date, the way ad platforms take them — the
//! OneID, identifier values normalized as OneID normalizes them, and hashes of the
//! lower-cased, trimmed value (after an optional salt), as lowercase hex.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, BooleanArray, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use datafusion::prelude::SessionContext;
use md5::Digest as _;
use mj_ir::jobs::ExportJob;
use mj_ir::jobs::Format;
use serde::{Deserialize, Serialize};

/// An export in a run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExportReport {
    pub audience: String,
    /// The file, relative to OUT.
    pub path: String,
    pub rows: u64,
    pub columns: Vec<String>,
}

/// The hash of a value as exported: lower-cased and trimmed, after the salt.
pub fn hash(algorithm: &str, salt: Option<&str>, value: &str) -> String {
    let text = format!("{}{}", salt.unwrap_or(""), value.trim().to_lowercase());
    let bytes: Vec<u8> = match algorithm {
        "md5" => md5::Md5::digest(text.as_bytes()).to_vec(),
        _ => sha2::Sha256::digest(text.as_bytes()).to_vec(),
    };
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The export's rows: its columns of the audience's members.
pub async fn rows(
    ctx: &SessionContext,
    job: &ExportJob,
) -> Result<(Arc<Schema>, Vec<RecordBatch>), String> {
    let e = job.entity.as_str();
    let mut wanted = vec![e, job.audience.as_str()];
    wanted.extend(job.columns.iter().filter_map(|c| c.column.as_deref()));
    let batches = ctx
        .table(format!("ads_{e}_audiences"))
        .await
        .map_err(|x| x.to_string())?
        .select_columns(&wanted)
        .map_err(|x| x.to_string())?
        .collect()
        .await
        .map_err(|x| x.to_string())?;
    let mut out_batches = Vec::new();
    let mut schema: Option<Arc<Schema>> = None;
    for b in &batches {
        let members = b
            .column(1)
            .as_any()
            .downcast_ref::<BooleanArray>()
            .ok_or("the audience is not a condition")?;
        let keep = arrow::compute::filter_record_batch(b, members).map_err(|x| x.to_string())?;
        let mut fields = Vec::new();
        let mut arrays: Vec<ArrayRef> = Vec::new();
        for c in &job.columns {
            let raw = match &c.column {
                None => keep.column(0).clone(),
                Some(name) => keep
                    .column(keep.schema().index_of(name).map_err(|x| x.to_string())?)
                    .clone(),
            };
            let normalizer = c
                .normalize
                .as_deref()
                .and_then(mj_oneid::normalize::Normalizer::by_name);
            let array: ArrayRef = if c.hash.is_some() || normalizer.is_some() {
                let text =
                    arrow::compute::cast(&raw, &DataType::Utf8).map_err(|x| x.to_string())?;
                let text = text
                    .as_any()
                    .downcast_ref::<StringArray>()
                    .ok_or("not text")?;
                let values: Vec<Option<String>> = (0..text.len())
                    .map(|i| {
                        if text.is_null(i) {
                            return None;
                        }
                        let v = match normalizer {
                            Some(n) => n.apply(text.value(i))?.to_string(),
                            None => text.value(i).to_string(),
                        };
                        Some(match &c.hash {
                            Some(h) => hash(h, c.salt.as_deref(), &v),
                            None => v,
                        })
                    })
                    .collect();
                Arc::new(StringArray::from(values))
            } else {
                raw
            };
            fields.push(Field::new(&c.name, array.data_type().clone(), true));
            arrays.push(array);
        }
        let s = Arc::new(Schema::new(fields));
        out_batches.push(RecordBatch::try_new(s.clone(), arrays).map_err(|x| x.to_string())?);
        schema = Some(s);
    }
    let schema = schema.unwrap_or_else(|| {
        Arc::new(Schema::new(
            job.columns
                .iter()
                .map(|c| Field::new(&c.name, DataType::Utf8, true))
                .collect::<Vec<_>>(),
        ))
    });
    Ok((schema, out_batches))
}

/// The file's bytes: where it goes (a partition folder relative to OUT and a file
/// name) and its report.
pub async fn run(
    ctx: &SessionContext,
    job: &ExportJob,
    date: &str,
) -> Result<(std::path::PathBuf, String, Vec<u8>, ExportReport), String> {
    let (schema, out_batches) = rows(ctx, job).await?;
    let rows: usize = out_batches.iter().map(|b| b.num_rows()).sum();
    let mut bytes = Vec::new();
    match job.format {
        Format::Csv => {
            let mut w = arrow::csv::WriterBuilder::new()
                .with_header(job.header)
                .with_delimiter(job.delimiter)
                .build(&mut bytes);
            for b in &out_batches {
                w.write(b).map_err(|x| x.to_string())?;
            }
        }
        Format::Ndjson => {
            let mut w = arrow::json::LineDelimitedWriter::new(&mut bytes);
            for b in &out_batches {
                w.write(b).map_err(|x| x.to_string())?;
            }
            w.finish().map_err(|x| x.to_string())?;
        }
        Format::Parquet => {
            let mut w = parquet::arrow::ArrowWriter::try_new(&mut bytes, schema.clone(), None)
                .map_err(|x| x.to_string())?;
            for b in &out_batches {
                w.write(b).map_err(|x| x.to_string())?;
            }
            w.close().map_err(|x| x.to_string())?;
        }
        Format::Postgres => {
            return Err("a database export is written after the commit, not as a file".to_string());
        }
    }
    let (folder, file) = job.target(date);
    let report = ExportReport {
        audience: job.audience.clone(),
        path: folder.join(&file).to_string_lossy().to_string(),
        rows: rows as u64,
        columns: job.columns.iter().map(|c| c.name.clone()).collect(),
    };
    Ok((folder, file, bytes, report))
}

// ------------------------------------------------------------------ the node kind

use crate::node::{Done, Kind, NodeCx};
use futures::future::BoxFuture;

/// An audience's file for the date, staged with the run's partitions.
impl Kind for ExportJob {
    fn scanned(&self) -> bool {
        false
    }

    fn run<'a>(&'a self, cx: NodeCx<'a>) -> BoxFuture<'a, Result<Done, crate::RunError>> {
        Box::pin(async move {
            if self.format == Format::Postgres {
                return to_database(self, &cx).await;
            }
            let (folder, file, bytes, report) =
                run(cx.ctx, self, cx.date()).await.map_err(|e| cx.fail(e))?;
            Ok(Done {
                summary: format!("{} rows to {}", report.rows, report.path),
                files: vec![(folder, file, bytes)],
                ..Done::default()
            }
            .report(move |m| m.exports.push(report)))
        })
    }
}

/// An export to a PostgreSQL table: the rows now, the write once the run's partitions
/// are committed (a run that fails leaves the table as it was).
async fn to_database(job: &ExportJob, cx: &NodeCx<'_>) -> Result<Done, crate::RunError> {
    let url = crate::postgres::url_of(
        "export",
        &job.audience,
        job.url_env.as_deref(),
        cx.opts
            .database_urls
            .get(&format!("exports.{}", job.audience)),
    )?;
    let (schema, batches) = rows(cx.ctx, job).await.map_err(|e| cx.fail(e))?;
    let n: u64 = batches.iter().map(|b| b.num_rows() as u64).sum();
    let report = ExportReport {
        audience: job.audience.clone(),
        path: format!("{}#{}", crate::postgres::shown_url(&url), job.path),
        rows: n,
        columns: job.columns.iter().map(|c| c.name.clone()).collect(),
    };
    let (audience, table, date) = (
        job.audience.clone(),
        job.path.clone(),
        cx.date().to_string(),
    );
    let publish: crate::node::Publish = Box::new(move || {
        Box::pin(async move {
            crate::postgres::write(&audience, &url, &table, &date, &schema, &batches)
                .await
                .map(|_| ())
        })
    });
    Ok(Done {
        summary: format!("{n} rows for {}, written after the commit", report.path),
        publish: vec![publish],
        ..Done::default()
    }
    .report(move |m| m.exports.push(report)))
}
