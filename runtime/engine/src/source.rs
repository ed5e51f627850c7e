//! Reading declared sources: every row is either accepted with the declared types or
//! kept in the rejects with its reason; a file that cannot be read at all is an error
//! naming the source and the file.
//!
//! Parquet files are read through DataFusion. CSV and NDJSON files are read as text
//! by mj's own readers, so that one malformed row (a wrong field count, a broken JSON
//! line) is a reject rather than a failed file. Every value is then cast to its
//! declared type with Arrow's casts; a value that does not cast is a reject, as is a
//! null in a `not null` column.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, BooleanArray, RecordBatch, StringArray, StringBuilder};
use arrow::compute::{CastOptions, cast_with_options, filter_record_batch};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use mj_ir::jobs::{ColType, Format, SourceJob};

use crate::RunError;

/// What reading a source gave.
#[derive(Debug, Clone)]
pub struct SourceData {
    pub schema: SchemaRef,
    pub batches: Vec<RecordBatch>,
    /// Raw columns (text) + `_file` + `_reason`.
    pub rejects: Vec<RecordBatch>,
    pub files: Vec<FileStats>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct FileStats {
    pub path: String,
    pub bytes: u64,
    pub rows_read: u64,
    pub rows_accepted: u64,
    pub rows_rejected: u64,
}

impl SourceData {
    pub fn rows(&self) -> u64 {
        self.batches.iter().map(|b| b.num_rows() as u64).sum()
    }
}

pub fn arrow_type(t: ColType) -> DataType {
    match t {
        ColType::String => DataType::Utf8,
        ColType::Int => DataType::Int32,
        ColType::BigInt => DataType::Int64,
        ColType::SmallInt => DataType::Int16,
        ColType::Float => DataType::Float32,
        ColType::Double => DataType::Float64,
        ColType::Decimal(p, s) => DataType::Decimal128(p, s),
        ColType::Bool => DataType::Boolean,
        ColType::Date => DataType::Date32,
        ColType::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, None),
    }
}

pub(crate) fn type_name(t: ColType) -> String {
    match t {
        ColType::Decimal(p, s) => format!("decimal({p},{s})"),
        other => format!("{other:?}").to_lowercase(),
    }
}

/// The declared schema.
pub fn schema(job: &SourceJob) -> SchemaRef {
    Arc::new(Schema::new(
        job.columns
            .iter()
            .map(|c| Field::new(&c.name, arrow_type(c.ty), !c.not_null))
            .collect::<Vec<_>>(),
    ))
}

/// The schema of rejects: every declared column as text, then where and why.
pub fn reject_schema(job: &SourceJob) -> SchemaRef {
    let mut fields: Vec<Field> = job
        .columns
        .iter()
        .map(|c| Field::new(&c.name, DataType::Utf8, true))
        .collect();
    fields.push(Field::new("_file", DataType::Utf8, false));
    fields.push(Field::new("_reason", DataType::Utf8, false));
    Arc::new(Schema::new(fields))
}

/// The files a location names, sorted; an error when there are none.
pub fn files(job: &SourceJob, root: &Path) -> Result<Vec<PathBuf>, RunError> {
    let pattern = root.join(&job.path);
    let text = pattern.to_string_lossy().to_string();
    let mut out: Vec<PathBuf> = match glob::glob(&text) {
        Ok(paths) => paths
            .filter_map(Result::ok)
            .filter(|p| p.is_file())
            .collect(),
        Err(e) => {
            return Err(RunError::source(
                &job.name,
                &text,
                format!("the location is not a valid pattern: {e}"),
            ));
        }
    };
    out.sort();
    if out.is_empty() {
        return Err(RunError::source(
            &job.name,
            &text,
            "no file matches this location".to_string(),
        ));
    }
    Ok(out)
}

/// Reads a source: its files under `root`, or its PostgreSQL table (`urls`: mj.toml's
/// database URLs, [`RunOptions::database_urls`](crate::RunOptions)).
pub async fn read(
    ctx: &SessionContext,
    job: &SourceJob,
    root: &Path,
    urls: &std::collections::BTreeMap<String, String>,
    since: Option<&str>,
) -> Result<SourceData, RunError> {
    let mut data = SourceData {
        schema: schema(job),
        batches: Vec::new(),
        rejects: Vec::new(),
        files: Vec::new(),
    };
    if job.format == Format::Postgres {
        let url = crate::postgres::url_of(
            "source",
            &job.name,
            job.url_env.as_deref(),
            urls.get(&format!("sources.{}", job.name)),
        )?;
        let (bytes, shown) = crate::postgres::read(job, &url, since).await?;
        let size = bytes.len() as u64;
        let raw = tokio::task::spawn_blocking({
            let job = job.clone();
            let shown = shown.clone();
            move || {
                let reader = csv::ReaderBuilder::new()
                    .has_headers(false)
                    .flexible(true)
                    .from_reader(std::io::Cursor::new(bytes));
                csv_rows(&job, reader, &shown, false)
            }
        })
        .await
        .map_err(|e| RunError::source(&job.name, &shown, e.to_string()))??;
        add_rows(job, &mut data, vec![raw], shown, size)?;
        return Ok(data);
    }
    for file in files(job, root)? {
        let shown = file.to_string_lossy().to_string();
        let bytes = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
        let raw: Vec<RawBatch> = match job.format {
            Format::Csv if job.whitespace => vec![read_blank_separated(job, &file)?],
            Format::Csv => vec![read_csv(job, &file)?],
            Format::Ndjson => vec![read_ndjson(job, &file)?],
            Format::Parquet => read_parquet(ctx, job, &file).await?,
            Format::Postgres => unreachable!("read above"),
        };
        add_rows(job, &mut data, raw, shown, bytes)?;
    }
    Ok(data)
}

/// Types the rows read from one file (or table) and counts them.
fn add_rows(
    job: &SourceJob,
    data: &mut SourceData,
    raw: Vec<RawBatch>,
    shown: String,
    bytes: u64,
) -> Result<(), RunError> {
    let mut stats = FileStats {
        path: shown.clone(),
        bytes,
        rows_read: 0,
        rows_accepted: 0,
        rows_rejected: 0,
    };
    for r in raw {
        let (ok, bad) = type_rows(job, &data.schema, r, &shown)?;
        stats.rows_read += (ok.num_rows() + bad.num_rows()) as u64;
        stats.rows_accepted += ok.num_rows() as u64;
        stats.rows_rejected += bad.num_rows() as u64;
        if ok.num_rows() > 0 {
            data.batches.push(ok);
        }
        if bad.num_rows() > 0 {
            data.rejects.push(bad);
        }
    }
    data.files.push(stats);
    Ok(())
}

/// Columns as read, before typing, with the reasons already known per row (a
/// malformed line) and the number of rows.
struct RawBatch {
    columns: Vec<ArrayRef>,
    early: Vec<Option<String>>,
}

/// Text columns built row by row, for the readers of text formats.
struct RawRows {
    builders: Vec<StringBuilder>,
    early: Vec<Option<String>>,
}

impl RawRows {
    fn new(columns: usize) -> RawRows {
        RawRows {
            builders: (0..columns).map(|_| StringBuilder::new()).collect(),
            early: Vec::new(),
        }
    }

    /// A row whose values were appended to the builders.
    fn read(&mut self) {
        self.early.push(None);
    }

    /// A row that could not be read: all nulls, kept as a reject with its reason.
    fn broken(&mut self, reason: String) {
        for b in &mut self.builders {
            b.append_null();
        }
        self.early.push(Some(reason));
    }

    fn finish(self) -> RawBatch {
        RawBatch {
            columns: self
                .builders
                .into_iter()
                .map(|mut b| Arc::new(b.finish()) as ArrayRef)
                .collect(),
            early: self.early,
        }
    }
}

fn read_csv(job: &SourceJob, file: &Path) -> Result<RawBatch, RunError> {
    let shown = file.to_string_lossy();
    let reader = csv::ReaderBuilder::new()
        .has_headers(job.header)
        .delimiter(job.delimiter)
        .flexible(true)
        .from_path(file)
        .map_err(|e| RunError::source(&job.name, &shown, format!("cannot open: {e}")))?;
    csv_rows(job, reader, &shown, job.header)
}

/// The rows of a CSV reader: by the header's names when `header`, else the declared
/// columns in order.
fn csv_rows<R: std::io::Read>(
    job: &SourceJob,
    mut reader: csv::Reader<R>,
    shown: &str,
    header: bool,
) -> Result<RawBatch, RunError> {
    let n = job.columns.len();
    let order: Vec<usize> = if header {
        let header = reader
            .headers()
            .map_err(|e| {
                RunError::source(&job.name, &shown, format!("cannot read the header: {e}"))
            })?
            .clone();
        column_order(job, &header.iter().collect::<Vec<_>>(), shown)?
    } else {
        (0..n).collect()
    };
    let width = if header {
        reader.headers().map(|h| h.len()).unwrap_or(n)
    } else {
        n
    };
    let mut rows = RawRows::new(n);
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = record.position().map_or(0, |p| p.line());
                if record.len() != width {
                    rows.broken(format!(
                        "line {line}: {} field(s), expected {width}",
                        record.len()
                    ));
                    continue;
                }
                for (b, &i) in rows.builders.iter_mut().zip(&order) {
                    match record.get(i) {
                        Some("") | None => b.append_null(),
                        Some(v) => b.append_value(v),
                    }
                }
                rows.read();
            }
            Err(e) => {
                // Invalid UTF-8 and the like: keep the row as a reject.
                rows.broken(format!("unreadable row: {e}"));
                if !matches!(e.kind(), csv::ErrorKind::Utf8 { .. }) {
                    return Err(RunError::source(
                        &job.name,
                        shown,
                        format!("cannot read: {e}"),
                    ));
                }
            }
        }
    }
    Ok(rows.finish())
}

/// Where each declared column is in the file, by the header's names in any order;
/// declared names the header lacks are an error naming them.
fn column_order(job: &SourceJob, header: &[&str], shown: &str) -> Result<Vec<usize>, RunError> {
    let names: Vec<&str> = header.iter().map(|h| h.trim()).collect();
    let missing: Vec<&str> = job
        .columns
        .iter()
        .map(|c| c.name.as_str())
        .filter(|c| !names.contains(c))
        .collect();
    if !missing.is_empty() {
        return Err(RunError::source(
            &job.name,
            shown,
            format!(
                "the file's header lacks declared column(s) {}; it has: {}",
                missing.join(", "),
                names.join(", ")
            ),
        ));
    }
    Ok(job
        .columns
        .iter()
        .map(|c| names.iter().position(|h| *h == c.name).unwrap_or(0))
        .collect())
}

/// `csv(…, delimiter = "whitespace")`: fields separated by runs of spaces and tabs,
/// blanks at the start and end of a line ignored, blank lines skipped. There is no
/// quoting, so no field holds a blank and none is empty.
fn read_blank_separated(job: &SourceJob, file: &Path) -> Result<RawBatch, RunError> {
    let shown = file.to_string_lossy();
    let bytes = std::fs::read(file)
        .map_err(|e| RunError::source(&job.name, &shown, format!("cannot open: {e}")))?;
    let n = job.columns.len();
    let mut rows = RawRows::new(n);
    let mut order: Option<Vec<usize>> = (!job.header).then(|| (0..n).collect());
    let mut width = n;
    for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
        let number = i + 1;
        let Ok(line) = std::str::from_utf8(line) else {
            rows.broken(format!("line {number}: not UTF-8"));
            continue;
        };
        let fields: Vec<&str> = line.split_ascii_whitespace().collect();
        if fields.is_empty() {
            continue;
        }
        let Some(order) = &order else {
            order = Some(column_order(job, &fields, &shown)?);
            width = fields.len();
            continue;
        };
        if fields.len() != width {
            rows.broken(format!(
                "line {number}: {} field(s), expected {width}",
                fields.len()
            ));
            continue;
        }
        for (b, &k) in rows.builders.iter_mut().zip(order) {
            b.append_value(fields[k]);
        }
        rows.read();
    }
    Ok(rows.finish())
}

fn read_ndjson(job: &SourceJob, file: &Path) -> Result<RawBatch, RunError> {
    let shown = file.to_string_lossy();
    let text = std::fs::read(file)
        .map_err(|e| RunError::source(&job.name, &shown, format!("cannot open: {e}")))?;
    let n = job.columns.len();
    let mut rows = RawRows::new(n);
    for (i, line) in text.split(|&b| b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(line) {
            Ok(obj) => {
                for (b, c) in rows.builders.iter_mut().zip(&job.columns) {
                    match obj.get(&c.name) {
                        None | Some(serde_json::Value::Null) => b.append_null(),
                        Some(serde_json::Value::String(s)) if s.is_empty() => b.append_null(),
                        Some(serde_json::Value::String(s)) => b.append_value(s),
                        Some(other) => b.append_value(other.to_string()),
                    }
                }
                rows.read();
            }
            Err(e) => {
                rows.broken(format!("line {}: not a JSON object ({e})", i + 1));
            }
        }
    }
    Ok(rows.finish())
}

async fn read_parquet(
    ctx: &SessionContext,
    job: &SourceJob,
    file: &Path,
) -> Result<Vec<RawBatch>, RunError> {
    let shown = file.to_string_lossy().to_string();
    let err = |e: datafusion::error::DataFusionError| {
        RunError::source(&job.name, &shown, format!("cannot read: {e}"))
    };
    let df = ctx
        .read_parquet(shown.as_str(), ParquetReadOptions::default())
        .await
        .map_err(err)?;
    let file_schema = df.schema().as_arrow().clone();
    let mut idx = Vec::new();
    for c in &job.columns {
        match file_schema.index_of(&c.name) {
            Ok(i) => idx.push(i),
            Err(_) => {
                let has: Vec<String> = file_schema
                    .fields()
                    .iter()
                    .map(|f| format!("{} {}", f.name(), f.data_type()))
                    .collect();
                return Err(RunError::source(
                    &job.name,
                    &shown,
                    format!(
                        "the file has no column `{}`; it has: {}",
                        c.name,
                        has.join(", ")
                    ),
                ));
            }
        }
    }
    let batches = df.collect().await.map_err(err)?;
    Ok(batches
        .into_iter()
        .map(|b| RawBatch {
            columns: idx.iter().map(|&i| b.column(i).clone()).collect(),
            early: vec![None; b.num_rows()],
        })
        .collect())
}

/// Casts raw columns to the declared types; returns (accepted, rejected) rows.
fn type_rows(
    job: &SourceJob,
    schema: &SchemaRef,
    raw: RawBatch,
    file: &str,
) -> Result<(RecordBatch, RecordBatch), RunError> {
    let rows = raw.early.len();
    let mut reasons = raw.early;
    let options = CastOptions {
        safe: true,
        ..Default::default()
    };
    let mut typed = Vec::with_capacity(job.columns.len());
    for (c, col) in job.columns.iter().zip(&raw.columns) {
        let to = arrow_type(c.ty);
        let out = cast_with_options(col, &to, &options)
            .map_err(|e| RunError::source(&job.name, file, format!("column `{}`: {e}", c.name)))?;
        for (i, reason) in reasons.iter_mut().enumerate() {
            if reason.is_some() {
                continue;
            }
            if col.is_valid(i) && out.is_null(i) {
                let mut shown =
                    arrow::util::display::array_value_to_string(col, i).unwrap_or_default();
                // The reason reaches the manifest: a personal value is masked there (the
                // reject row keeps it in its column).
                if c.pii {
                    shown = mj_oneid::mask(&shown);
                }
                *reason = Some(format!(
                    "{}: cannot read {:?} as {}",
                    c.name,
                    shown,
                    type_name(c.ty)
                ));
            } else if c.not_null && out.is_null(i) {
                *reason = Some(format!("{}: null in a `not null` column", c.name));
            }
        }
        typed.push(out);
    }
    let keep: BooleanArray = reasons.iter().map(|r| Some(r.is_none())).collect();
    // Nullable while rejected rows are still in; the accepted rows fit the declared
    // schema.
    let loose = Arc::new(Schema::new(
        schema
            .fields()
            .iter()
            .map(|f| f.as_ref().clone().with_nullable(true))
            .collect::<Vec<_>>(),
    ));
    let all = RecordBatch::try_new(loose, typed)
        .map_err(|e| RunError::source(&job.name, file, e.to_string()))?;
    let ok = filter_record_batch(&all, &keep)
        .and_then(|b| RecordBatch::try_new(schema.clone(), b.columns().to_vec()))
        .map_err(|e| RunError::source(&job.name, file, e.to_string()))?;
    // Rejects keep the values as they were read.
    let drop: BooleanArray = reasons.iter().map(|r| Some(r.is_some())).collect();
    let mut cols: Vec<ArrayRef> = Vec::new();
    for col in &raw.columns {
        let text = cast_with_options(col, &DataType::Utf8, &options)
            .map_err(|e| RunError::source(&job.name, file, e.to_string()))?;
        cols.push(text);
    }
    cols.push(Arc::new(StringArray::from(vec![file; rows])));
    cols.push(Arc::new(StringArray::from(
        reasons
            .iter()
            .map(|r| r.clone().unwrap_or_default())
            .collect::<Vec<_>>(),
    )));
    let raw_all = RecordBatch::try_new(reject_schema(job), cols)
        .map_err(|e| RunError::source(&job.name, file, e.to_string()))?;
    let bad = filter_record_batch(&raw_all, &drop)
        .map_err(|e| RunError::source(&job.name, file, e.to_string()))?;
    Ok((ok, bad))
}

// ------------------------------------------------------------------ incremental reads

/// The previous partition of an `incremental by` source and its watermark.
struct Previous {
    dt: String,
    batches: Vec<RecordBatch>,
    /// The largest value of the column in it, as text (none when it has no value).
    watermark: Option<String>,
}

fn previous_partition(
    job: &SourceJob,
    column: &str,
    opts: &crate::RunOptions,
) -> Result<Option<Previous>, RunError> {
    let dir = opts.out.join("ods").join(&job.name);
    let Some(dt) = crate::oneid::latest_before(&dir, &opts.date) else {
        return Ok(None);
    };
    let batches = crate::write::read_partition(&dir.join(format!("dt={dt}")))?;
    let Some(i) = job.columns.iter().position(|c| c.name == column) else {
        return Ok(None);
    };
    let mut best: Option<String> = None;
    let mut best_sort: Option<ArrayRef> = None;
    for b in &batches {
        let col = b.column(i);
        let Some(m) = max_of(col) else { continue };
        let larger = match &best_sort {
            None => true,
            Some(cur) => arrow::compute::kernels::cmp::gt(&m, cur)
                .map_err(|e| RunError::node(format!("ods.{}", job.name), e.to_string()))?
                .value(0),
        };
        if larger {
            best = Some(
                arrow::util::display::array_value_to_string(&m, 0)
                    .map_err(|e| RunError::node(format!("ods.{}", job.name), e.to_string()))?,
            );
            best_sort = Some(m);
        }
    }
    Ok(Some(Previous {
        dt,
        batches,
        watermark: best,
    }))
}

/// The largest non-null value of a column, as a one-row array of its type.
fn max_of(col: &ArrayRef) -> Option<ArrayRef> {
    let valid = col.len() - col.null_count();
    if valid == 0 {
        return None;
    }
    let sorted = arrow::compute::sort_to_indices(
        col,
        Some(arrow::compute::SortOptions {
            descending: true,
            nulls_first: false,
        }),
        Some(1),
    )
    .ok()?;
    arrow::compute::take(col, &sorted, None).ok()
}

/// Keeps the rows read past the watermark (a file source reads every row; a
/// database source was asked for those only) and merges the previous partition's rows
/// under them: a row whose key was read again is replaced.
fn merge(
    job: &SourceJob,
    column: &str,
    data: &mut SourceData,
    previous: Option<Previous>,
) -> Result<crate::IncrementalReport, RunError> {
    let fail =
        |e: arrow::error::ArrowError| RunError::node(format!("ods.{}", job.name), e.to_string());
    let i = job
        .columns
        .iter()
        .position(|c| c.name == column)
        .ok_or_else(|| {
            RunError::node(format!("ods.{}", job.name), format!("no column `{column}`"))
        })?;
    let Some(prev) = previous else {
        return Ok(crate::IncrementalReport {
            column: column.to_string(),
            previous: None,
            watermark: None,
            rows_carried: 0,
        });
    };
    if let Some(w) = &prev.watermark {
        let ty = data.schema.field(i).data_type().clone();
        let mark = arrow::compute::cast(
            &(Arc::new(StringArray::from(vec![w.as_str()])) as ArrayRef),
            &ty,
        )
        .map_err(fail)?;
        let mark = arrow::array::Scalar::new(mark);
        let mut kept = Vec::new();
        for b in &data.batches {
            let past = arrow::compute::kernels::cmp::gt(b.column(i), &mark).map_err(fail)?;
            kept.push(filter_record_batch(b, &past).map_err(fail)?);
        }
        data.batches = kept;
    }
    // Keys read now replace the previous partition's rows.
    let key = job
        .key
        .as_ref()
        .and_then(|k| job.columns.iter().position(|c| &c.name == k));
    let mut read_keys = std::collections::HashSet::new();
    if let Some(k) = key {
        for b in &data.batches {
            let text = arrow::compute::cast(b.column(k), &DataType::Utf8).map_err(fail)?;
            let text = text.as_any().downcast_ref::<StringArray>().expect("text");
            read_keys.extend(text.iter().flatten().map(str::to_string));
        }
    }
    let mut carried = Vec::new();
    let mut rows_carried = 0;
    for b in prev.batches {
        let b = RecordBatch::try_new(data.schema.clone(), b.columns().to_vec()).map_err(fail)?;
        let keep: BooleanArray = match key {
            Some(k) => {
                let text = arrow::compute::cast(b.column(k), &DataType::Utf8).map_err(fail)?;
                let text = text.as_any().downcast_ref::<StringArray>().expect("text");
                text.iter()
                    .map(|v| Some(!v.is_some_and(|v| read_keys.contains(v))))
                    .collect()
            }
            None => BooleanArray::from(vec![true; b.num_rows()]),
        };
        let b = filter_record_batch(&b, &keep).map_err(fail)?;
        rows_carried += b.num_rows() as u64;
        carried.push(b);
    }
    carried.append(&mut data.batches);
    data.batches = carried;
    Ok(crate::IncrementalReport {
        column: column.to_string(),
        previous: Some(prev.dt),
        watermark: prev.watermark,
        rows_carried,
    })
}

// ------------------------------------------------------------------ the node kind

use crate::Output;
use crate::node::{Done, Kind, NodeCx};
use futures::future::BoxFuture;

/// `ods.<source>` (accepted rows, typed) and `rejects.<source>` (the bad rows with
/// their reasons); the rows also go to the OneID nodes that link the source.
impl Kind for SourceJob {
    fn scanned(&self) -> bool {
        true
    }

    fn schema(&self) -> Option<SchemaRef> {
        Some(schema(self))
    }

    fn reusable(&self) -> bool {
        true
    }

    fn run<'a>(&'a self, cx: NodeCx<'a>) -> BoxFuture<'a, Result<Done, RunError>> {
        Box::pin(async move {
            let previous = match &self.incremental {
                Some(col) if !cx.opts.full => previous_partition(self, col, cx.opts)?,
                _ => None,
            };
            let since = previous.as_ref().and_then(|p| p.watermark.clone());
            let mut data = read(
                cx.ctx,
                self,
                &cx.opts.data,
                &cx.opts.database_urls,
                since.as_deref(),
            )
            .await?;
            let rejected: u64 = data.rejects.iter().map(|b| b.num_rows() as u64).sum();
            let accepted = data.rows();
            let incremental = match &self.incremental {
                Some(col) => Some(merge(self, col, &mut data, previous)?),
                None => None,
            };
            let mut tables = vec![cx.own(data.schema.clone(), data.batches.clone())];
            if rejected > 0 {
                tables.push(cx.table(
                    "rejects",
                    &self.name,
                    reject_schema(self),
                    data.rejects.clone(),
                ));
            }
            let input = crate::InputReport {
                source: self.name.clone(),
                rows_read: accepted + rejected,
                rows_accepted: accepted,
                rows_rejected: rejected,
                files: data.files.clone(),
                reject_examples: crate::node::reject_examples(&data, 10),
                incremental: incremental.clone(),
            };
            let carried = incremental
                .map(|i| format!(", {} carried over", i.rows_carried))
                .unwrap_or_default();
            Ok(Done {
                summary: format!(
                    "{} rows read, {accepted} accepted, {rejected} rejected{carried}",
                    accepted + rejected
                ),
                output: Output::Source(Arc::new(data)),
                tables,
                ..Done::default()
            }
            .report(move |m| m.inputs.push(input)))
        })
    }
}
