//! The OneID node: rows of the linked sources → records → people → stable ids.
//!
//! Output tables (each partitioned by business date):
//! - `oneid/<entity>`: one row per source row — `source`, `record_id` (the source's
//!   key column), `record_fp` (the record's fingerprint, stable between runs),
//!   `oneid`, and `key_first`: whether the row is the one a fact joins for its source
//!   and record id (the smallest OneID among the rows sharing them, should a key
//!   repeat; never for a row without a record id); sorted by source and record id;
//! - `oneid/<entity>_changes`: the run's `new`, `merge` and `split` ids;
//! - `oneid/<entity>_registry`: every id ever issued, its creation date, whether active.

use std::fmt::Write;
use std::path::Path;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, RecordBatch, StringArray, UInt32Array, UInt64Array,
};
use arrow::compute::{CastOptions, cast_with_options};
use arrow::datatypes::{DataType, Field, Schema};
use mj_ir::jobs::OneIdJob;
use mj_oneid::stable::{Assignment, Previous, assign, date_text, parse, render};
use mj_oneid::{Builder, IdentifierRule, Normalizer, Resolution, Rules, ValueState};
use serde::{Deserialize, Serialize};

use crate::RunError;
use crate::source::SourceData;

/// Rows of each linked source, in link order.
pub struct Input<'a> {
    pub source: &'a str,
    pub data: &'a SourceData,
}

/// A resolved entity, with the row → record mapping needed to write and explain it.
pub struct Resolved {
    pub resolution: Resolution,
    /// Per link, in link order.
    pub rows: Vec<LinkRows>,
}

/// The rows one link fed in.
pub struct LinkRows {
    pub source: String,
    /// The record id of each row: the link's key column, batch by batch, or (without
    /// a key) the row's number from 1 as `row<N>`.
    keys: Option<Vec<StringArray>>,
    /// Its rows among all rows the engine resolved ([`Resolution::row_record`]).
    span: std::ops::Range<usize>,
    /// The values it gave: (identifier, values, scope values), each batch by batch.
    columns: Vec<Column>,
}

/// An identifier's values in a link's rows, and their scopes, batch by batch.
type Column = (usize, Vec<StringArray>, Option<Vec<StringArray>>);

/// The batch holding row `i` of batches `arrays`, and the row within it.
fn locate(arrays: &[StringArray], mut i: usize) -> Option<(usize, usize)> {
    for (b, a) in arrays.iter().enumerate() {
        if i < a.len() {
            return Some((b, i));
        }
        i -= a.len();
    }
    None
}

/// The record id of the `i`th row (from 0) of a link without a key column:
/// `row<N>`, N counting from 1.
fn write_numbered(out: &mut String, i: usize) {
    write!(out, "row{}", i + 1).expect("to a string");
}

fn numbered(i: usize) -> String {
    let mut out = String::new();
    write_numbered(&mut out, i);
    out
}

impl LinkRows {
    /// The record id of row `i`.
    pub fn key(&self, i: usize) -> Option<std::borrow::Cow<'_, str>> {
        let Some(keys) = &self.keys else {
            return Some(numbered(i).into());
        };
        let (b, i) = locate(keys, i)?;
        keys[b].is_valid(i).then(|| keys[b].value(i).into())
    }

    /// Every row's record id, in row order.
    fn keys(&self) -> Vec<Option<std::borrow::Cow<'_, str>>> {
        match &self.keys {
            Some(keys) => keys
                .iter()
                .flat_map(|k| k.iter().map(|v| v.map(Into::into)))
                .collect(),
            None => (0..self.span.len())
                .map(|i| Some(numbered(i).into()))
                .collect(),
        }
    }
}

/// The resolved rows, read back for the values' text.
impl mj_oneid::Rows for Resolved {
    fn fields(&self, row: u32, field: &mut dyn FnMut(usize, &str, Option<&str>)) {
        let row = row as usize;
        let Some(link) = self.rows.iter().find(|l| l.span.contains(&row)) else {
            return;
        };
        for (ident, values, scope) in &link.columns {
            let Some((b, i)) = locate(values, row - link.span.start) else {
                continue;
            };
            if values[b].is_valid(i) {
                let scope = scope.as_ref().map(|s| &s[b]);
                let scope = scope.and_then(|s| s.is_valid(i).then(|| s.value(i)));
                field(*ident, values[b].value(i), scope);
            }
        }
    }
}

impl Resolved {
    /// Why two records are, or are not, one person ([`Resolution::explain`]); values
    /// of `pii` identifiers masked unless `show_pii`.
    pub fn explain(&self, a: u32, b: u32, show_pii: bool) -> mj_oneid::Explanation {
        self.resolution.explain(a, b, self, show_pii)
    }

    /// The record of each row of `link`.
    pub fn records(&self, link: &LinkRows) -> &[u32] {
        &self.resolution.row_record[link.span.clone()]
    }

    /// The first row of a record, as `source:record_id`.
    pub fn record_name(&self, record: u32) -> String {
        for rows in &self.rows {
            if let Some(i) = self.records(rows).iter().position(|&r| r == record) {
                return format!("{}:{}", rows.source, rows.key(i).as_deref().unwrap_or("?"));
            }
        }
        format!("record {record}")
    }

    /// The record of `source:record_id`.
    pub fn find(&self, name: &str) -> Option<u32> {
        let (source, id) = name.split_once(':')?;
        self.rows
            .iter()
            .filter(|rows| rows.source == source)
            .find_map(|rows| {
                rows.keys()
                    .iter()
                    .position(|x| x.as_deref() == Some(id))
                    .map(|i| self.records(rows)[i])
            })
    }
}

pub fn rules(job: &OneIdJob) -> Rules {
    Rules {
        identifiers: job
            .identifiers
            .iter()
            .map(|i| IdentifierRule {
                name: i.name.clone(),
                normalizer: i
                    .normalize
                    .as_deref()
                    .and_then(Normalizer::by_name)
                    .unwrap_or(Normalizer::Trim),
                weak: i.weak,
                capacity: if i.unique {
                    Some(1)
                } else {
                    i.max_per_person.map(|n| n.min(u64::from(u32::MAX)) as u32)
                },
                scoped: i.scoped_by.is_some(),
                pii: i.pii,
            })
            .collect(),
        rejects: job.rejects.clone(),
        frequent_above: job.frequent_above,
        max_component: job.max_component,
    }
}

/// A source's column as text, batch by batch.
fn text_column(data: &SourceData, name: &str) -> Option<Vec<StringArray>> {
    let idx = data.schema.index_of(name).ok()?;
    let options = CastOptions::default();
    data.batches
        .iter()
        .map(|b| {
            let col = cast_with_options(b.column(idx), &DataType::Utf8, &options).ok()?;
            Some(col.as_string::<i32>().clone())
        })
        .collect()
}

/// One column's values, or a compound value: the parts trimmed and joined with `|`,
/// missing when any part is missing.
fn compound(mut parts: Vec<Vec<StringArray>>) -> Vec<StringArray> {
    if parts.len() == 1 {
        return parts.pop().unwrap_or_default();
    }
    let batches = parts.first().map_or(0, Vec::len);
    let mut out = String::new();
    (0..batches)
        .map(|b| {
            (0..parts[0][b].len())
                .map(|i| {
                    out.clear();
                    for (k, p) in parts.iter().enumerate() {
                        let p = &p[b];
                        let v = p
                            .is_valid(i)
                            .then(|| p.value(i).trim())
                            .filter(|v| !v.is_empty())?;
                        if k > 0 {
                            out.push('|');
                        }
                        out.push_str(v);
                    }
                    Some(out.clone())
                })
                .collect()
        })
        .collect()
}

/// Rows of a source one core normalizes at a time: small enough that the core that
/// finishes last finishes soon after the other, large enough that the cores rarely
/// meet taking the next run.
const RUN: usize = 1 << 16;

/// Feeds the rows of every linked source into the engine and resolves them.
pub fn resolve(job: &OneIdJob, inputs: &[Input<'_>]) -> Result<Resolved, RunError> {
    let (builder, rows) = build(job, inputs)?;
    Ok(Resolved {
        resolution: builder.resolve(),
        rows,
    })
}

/// Feeds the rows of every linked source into a builder. Values are read from the
/// sources' Arrow columns in place; each source's rows are normalized on two cores,
/// run by run ([`RUN`]).
pub fn build(job: &OneIdJob, inputs: &[Input<'_>]) -> Result<(Builder, Vec<LinkRows>), RunError> {
    if job.identifiers.len() > mj_oneid::MAX_IDENTIFIERS {
        return Err(RunError::node(
            format!("oneid.{}", job.name),
            format!(
                "{} identifiers declared; a oneid may declare at most {}",
                job.identifiers.len(),
                mj_oneid::MAX_IDENTIFIERS
            ),
        ));
    }
    let mut builder = Builder::new(rules(job));
    let mut rows = Vec::new();
    let missing = |source: &str, column: &str| {
        RunError::node(
            format!("oneid.{}", job.name),
            format!("`{source}` has no column `{column}`"),
        )
    };
    for (li, link) in job.links.iter().enumerate() {
        let Some(input) = inputs.iter().find(|i| i.source == link.source) else {
            continue;
        };
        let keys = link.key.as_ref().and_then(|k| text_column(input.data, k));
        // (identifier, values, scope values), each batch by batch.
        let mut columns = Vec::new();
        for (ident, parts) in &link.fields {
            let mut part_values = Vec::new();
            for column in parts {
                part_values.push(
                    text_column(input.data, column).ok_or_else(|| missing(&link.source, column))?,
                );
            }
            let scope = match &job.identifiers[*ident].scoped_by {
                Some(s) => {
                    Some(text_column(input.data, s).ok_or_else(|| missing(&link.source, s))?)
                }
                None => None,
            };
            columns.push((*ident, compound(part_values), scope));
        }
        // The first row of each batch.
        let firsts: Vec<usize> = input
            .data
            .batches
            .iter()
            .scan(0, |at, b| {
                *at += b.num_rows();
                Some(*at - b.num_rows())
            })
            .collect();
        // Adds the link's rows `range`, counted over all its batches.
        let fill = |builder: &mut Builder, range: std::ops::Range<usize>| {
            let mut fields = Vec::new();
            let mut row_name = String::new();
            for (b, batch) in input.data.batches.iter().enumerate() {
                let first = firsts[b];
                let from = range.start.clamp(first, first + batch.num_rows()) - first;
                let to = range.end.clamp(first, first + batch.num_rows()) - first;
                for row in from..to {
                    fields.clear();
                    for (ident, values, scope) in &columns {
                        let values = &values[b];
                        if values.is_valid(row) {
                            let s = scope
                                .as_ref()
                                .map(|s| &s[b])
                                .and_then(|s| s.is_valid(row).then(|| s.value(row)));
                            fields.push((*ident, values.value(row), s));
                        }
                    }
                    let key = match &keys {
                        Some(k) if k[b].is_valid(row) => k[b].value(row),
                        Some(_) => "",
                        None => {
                            // Without a key column a row is named by its number.
                            row_name.clear();
                            write_numbered(&mut row_name, firsts[b] + row);
                            &row_name
                        }
                    };
                    builder.add(li as u32, key, &fields);
                }
            }
        };
        // The result does not depend on the order of rows: records are numbered by
        // their fingerprints. Two cores take the rows run by run, one from the first
        // row on, the other from the last row back, until they meet: neither waits for
        // the other at the end (runs cost more or less as their values repeat less or
        // more), and each core's rows are still one stretch of the source (rows near
        // one another share values more often, and a value two cores both see is kept
        // twice until indexing). A run's rows keep their numbers; a source's batches
        // may be whole files of very different sizes, so runs are counted in rows.
        let n = input.data.rows() as usize;
        // The link's rows are numbered on from the rows before it.
        let first_row = builder.rows as usize;
        let mut fork = builder.fork();
        builder.reserve(n / 2, link.fields.len());
        fork.reserve(n - n / 2, link.fields.len());
        // The rows neither core has taken.
        let left = std::sync::Mutex::new(0..n);
        let take_runs = |builder: &mut Builder, from_end: bool| loop {
            let run = {
                let mut left = left.lock().unwrap_or_else(|e| e.into_inner());
                if from_end {
                    let start = left.end.saturating_sub(RUN).max(left.start);
                    start..std::mem::replace(&mut left.end, start)
                } else {
                    let end = (left.start + RUN).min(left.end);
                    std::mem::replace(&mut left.start, end)..end
                }
            };
            if run.is_empty() {
                break;
            }
            builder.seek((first_row + run.start) as u64);
            fill(builder, run);
        };
        std::thread::scope(|scope| {
            let other = scope.spawn(|| take_runs(&mut fork, true));
            take_runs(&mut builder, false);
            other.join().expect("normalizing does not panic");
        });
        builder.append(fork);
        rows.push(LinkRows {
            source: link.source.clone(),
            columns,
            keys: link.key.as_ref().map(|_| {
                // A key column the source lacks names no row.
                keys.unwrap_or_else(|| {
                    let nulls = |b: &RecordBatch| StringArray::new_null(b.num_rows());
                    input.data.batches.iter().map(nulls).collect()
                })
            }),
            span: first_row..builder.rows as usize,
        });
    }
    Ok((builder, rows))
}

/// What the node did, for the manifest.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OneIdReport {
    pub rows: u64,
    pub records: u64,
    pub persons: u64,
    pub largest_person: u32,
    pub unusable_values: u64,
    pub rejected_values: Vec<String>,
    pub frequent_values: Vec<String>,
    pub cut_values: Vec<String>,
    pub conflicts: u64,
    pub conflict_examples: Vec<String>,
    /// Weak values that joined none of the people carrying them (a family tablet).
    pub weak_refused: u64,
    pub new_ids: u64,
    pub merged_ids: u64,
    pub split_ids: u64,
    /// With `engine = "cluster"`: what the SQL engine did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sql: Option<crate::oneid_sql::SqlReport>,
}

const EXAMPLES: usize = 10;

/// What the node did. Values of `pii` identifiers are masked unless `show_pii`: the
/// manifest is what gets pasted into tickets and logs.
pub fn report(r: &Resolved, a: &Assignment, show_pii: bool) -> OneIdReport {
    let res = &r.resolution;
    let values = |state: ValueState| -> Vec<String> {
        let listed: Vec<u32> = (0..res.values.len() as u32)
            .filter(|&v| res.values[v as usize].state == state)
            .collect();
        let texts = res.value_texts(&listed, r);
        let mut v: Vec<(u32, String)> = listed
            .into_iter()
            .zip(texts)
            .map(|(v, text)| {
                let text = res.shown(v, text, show_pii);
                let value = &res.values[v as usize];
                (
                    value.records,
                    format!(
                        "{} {text:?} ({} records)",
                        res.rules.identifiers[value.identifier as usize].name, value.records
                    ),
                )
            })
            .collect();
        v.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        v.into_iter().map(|(_, s)| s).collect()
    };
    let examples: Vec<u32> = res
        .conflicts
        .iter()
        .take(EXAMPLES)
        .map(|c| c.value)
        .collect();
    let conflict_examples = res
        .conflicts
        .iter()
        .zip(res.value_texts(&examples, r))
        .map(|(c, text)| {
            let text = res.shown(c.value, text, show_pii);
            format!(
                "{} kept apart: joining through {} {text:?} would give one person two `{}` values",
                r.record_name(c.record),
                res.rules.identifiers[res.values[c.value as usize].identifier as usize].name,
                res.rules.identifiers[c.identifier as usize].name
            )
        })
        .collect();
    let count = |k: &str| a.changes.iter().filter(|c| c.kind.as_str() == k).count() as u64;
    OneIdReport {
        rows: res.rows,
        records: res.records() as u64,
        persons: u64::from(res.components),
        largest_person: res.component_sizes().into_iter().max().unwrap_or(0),
        unusable_values: res.unusable,
        rejected_values: values(ValueState::Rejected),
        frequent_values: values(ValueState::Frequent)
            .into_iter()
            .take(EXAMPLES)
            .collect(),
        cut_values: values(ValueState::Cut).into_iter().take(EXAMPLES).collect(),
        conflicts: res.conflicts.len() as u64,
        conflict_examples,
        weak_refused: res.refused.len() as u64,
        new_ids: count("new"),
        merged_ids: count("merge"),
        split_ids: count("split"),
        sql: None,
    }
}

/// Stable ids against the previous run's state.
pub fn ids(job: &OneIdJob, date: &str, r: &Resolved, prev: &Previous) -> Assignment {
    assign(&job.name, date, &r.resolution, prev)
}

/// The schema of `oneid/<entity>`.
pub fn mapping_schema() -> arrow::datatypes::SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("source", DataType::Utf8, false),
        Field::new("record_id", DataType::Utf8, true),
        Field::new("record_fp", DataType::UInt64, false),
        Field::new("oneid", DataType::Utf8, false),
        Field::new("key_first", DataType::Boolean, false),
    ]))
}

/// The three output tables: mapping, changes, registry.
pub fn tables(r: &Resolved, a: &Assignment) -> Result<[RecordBatch; 3], RunError> {
    let res = &r.resolution;
    let keys: Vec<_> = r.rows.iter().map(LinkRows::keys).collect();
    let mut rows: Vec<(&str, Option<&str>, u32)> = Vec::new();
    for (link, keys) in r.rows.iter().zip(&keys) {
        for (id, &rec) in keys.iter().zip(r.records(link)) {
            rows.push((link.source.as_str(), id.as_deref(), rec));
        }
    }
    let link_order = |s: &str| r.rows.iter().position(|x| x.source == s);
    rows.sort_by(|x, y| (link_order(x.0), x.1).cmp(&(link_order(y.0), y.1)));
    let err = |e: arrow::error::ArrowError| RunError::node("oneid", e.to_string());
    let id_of = |rec: u32| a.ids[res.record_component[rec as usize] as usize];
    // The row facts join per (source, record id): rows sharing them are adjacent; the
    // smallest id wins (ids render at a fixed width, so text order is number order).
    let mut key_first = vec![false; rows.len()];
    let mut start = 0;
    while start < rows.len() {
        let mut end = start + 1;
        while end < rows.len() && rows[end].0 == rows[start].0 && rows[end].1 == rows[start].1 {
            end += 1;
        }
        if rows[start].1.is_some() {
            let best = (start..end)
                .min_by_key(|&i| id_of(rows[i].2))
                .unwrap_or(start);
            key_first[best] = true;
        }
        start = end;
    }
    let mapping = RecordBatch::try_new(
        mapping_schema(),
        vec![
            Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.0))) as ArrayRef,
            Arc::new(StringArray::from_iter(rows.iter().map(|r| r.1))),
            Arc::new(UInt64Array::from_iter_values(
                rows.iter().map(|r| res.record_fps[r.2 as usize]),
            )),
            Arc::new(StringArray::from_iter_values(
                rows.iter().map(|r| render(id_of(r.2))),
            )),
            Arc::new(BooleanArray::from(key_first)),
        ],
    )
    .map_err(err)?;
    let changes = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("kind", DataType::Utf8, false),
            Field::new("oneid", DataType::Utf8, false),
            Field::new("other", DataType::Utf8, true),
            Field::new("records", DataType::UInt32, false),
        ])),
        vec![
            Arc::new(StringArray::from_iter_values(
                a.changes.iter().map(|c| c.kind.as_str()),
            )) as ArrayRef,
            Arc::new(StringArray::from_iter_values(
                a.changes.iter().map(|c| render(c.oneid)),
            )),
            Arc::new(StringArray::from_iter(
                a.changes.iter().map(|c| c.other.map(render)),
            )),
            Arc::new(UInt32Array::from_iter_values(
                a.changes.iter().map(|c| c.records),
            )),
        ],
    )
    .map_err(err)?;
    let registry = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("oneid", DataType::Utf8, false),
            Field::new("created", DataType::Utf8, false),
            Field::new("active", DataType::Boolean, false),
        ])),
        vec![
            Arc::new(StringArray::from_iter_values(
                a.registry.iter().map(|r| render(r.0)),
            )) as ArrayRef,
            Arc::new(StringArray::from_iter_values(
                a.registry.iter().map(|r| date_text(r.1)),
            )),
            Arc::new(BooleanArray::from_iter(
                a.registry.iter().map(|r| Some(r.2)),
            )),
        ],
    )
    .map_err(err)?;
    Ok([mapping, changes, registry])
}

/// The state the latest earlier run left (`dt` before `date`), if any.
pub fn previous(out: &Path, entity: &str, date: &str) -> Result<Previous, RunError> {
    let mut prev = Previous::default();
    let dir = out.join("oneid").join(entity);
    let Some(dt) = latest_before(&dir, date) else {
        return Ok(prev);
    };
    for batch in crate::write::read_partition(&dir.join(format!("dt={dt}")))? {
        let fps = batch
            .column(2)
            .as_primitive::<arrow::datatypes::UInt64Type>();
        let ids = batch.column(3).as_string::<i32>();
        for i in 0..batch.num_rows() {
            prev.records.insert(fps.value(i), oneid_of(ids.value(i))?);
        }
    }
    let reg = out
        .join("oneid")
        .join(format!("{entity}_registry"))
        .join(format!("dt={dt}"));
    for batch in crate::write::read_partition(&reg)? {
        let ids = batch.column(0).as_string::<i32>();
        let created = batch.column(1).as_string::<i32>();
        let active = batch.column(2).as_boolean();
        for i in 0..batch.num_rows() {
            prev.registry.insert(
                oneid_of(ids.value(i))?,
                (mj_oneid::stable::day(created.value(i)), active.value(i)),
            );
        }
    }
    Ok(prev)
}

fn oneid_of(text: &str) -> Result<u64, RunError> {
    parse(text).ok_or_else(|| {
        RunError::node(
            "oneid",
            format!("the previous run's OneID {text:?} is not `C` + 16 hex digits"),
        )
    })
}

/// The latest `dt=` partition under `dir` before `date`.
pub(crate) fn latest_before(dir: &Path, date: &str) -> Option<String> {
    let mut dates: Vec<String> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            e.file_name()
                .to_str()?
                .strip_prefix("dt=")
                .map(str::to_string)
        })
        .filter(|d| d.as_str() < date)
        .collect();
    dates.sort();
    dates.pop()
}

// ------------------------------------------------------------------ the node kind

use crate::OneIdEngine;
use crate::node::{Done, Kind, NodeCx};
use futures::future::BoxFuture;

/// `oneid.<entity>` (record → OneID), `oneid.<entity>_changes` and
/// `oneid.<entity>_registry`, from the rows of the sources it links.
impl Kind for OneIdJob {
    fn scanned(&self) -> bool {
        true
    }

    fn schema(&self) -> Option<arrow::datatypes::SchemaRef> {
        Some(mapping_schema())
    }

    fn reusable(&self) -> bool {
        true
    }

    fn run<'a>(&'a self, mut cx: NodeCx<'a>) -> BoxFuture<'a, Result<Done, RunError>> {
        Box::pin(async move {
            let job = self.clone();
            let out = cx.opts.out.clone();
            let date = cx.date().to_string();
            let show_pii = cx.opts.show_pii;
            let inputs = std::mem::take(&mut cx.inputs);
            let node = cx.node;
            let failed = |e: tokio::task::JoinError| RunError::node(node, e.to_string());
            let (resolved, sql) = match cx.opts.oneid_engine {
                OneIdEngine::Local => {
                    let job = job.clone();
                    let resolved = tokio::task::spawn_blocking(move || {
                        let refs: Vec<Input<'_>> = inputs
                            .iter()
                            .map(|(s, d)| Input { source: s, data: d })
                            .collect();
                        resolve(&job, &refs)
                    })
                    .await
                    .map_err(failed)??;
                    (resolved, None)
                }
                OneIdEngine::Cluster => {
                    let job2 = job.clone();
                    let (evidence, rows) = tokio::task::spawn_blocking(move || {
                        let refs: Vec<Input<'_>> = inputs
                            .iter()
                            .map(|(s, d)| Input { source: s, data: d })
                            .collect();
                        let (builder, rows) = build(&job2, &refs)?;
                        Ok::<_, RunError>((builder.evidence(), rows))
                    })
                    .await
                    .map_err(failed)??;
                    let ctx = cx.cluster.unwrap_or(cx.ctx);
                    let dir = cx.staged.join("_oneid").join(&job.name);
                    let (found, mut sql) =
                        crate::oneid_sql::components(ctx, &dir, &job.name, &evidence)
                            .await
                            .map_err(|e| cx.fail(e.message))?;
                    let _ = std::fs::remove_dir_all(&dir);
                    sql.ran_on = if cx.cluster.is_some() {
                        "cluster"
                    } else {
                        "client"
                    }
                    .into();
                    let (resolution, here) =
                        tokio::task::spawn_blocking(move || evidence.resolve(found))
                            .await
                            .map_err(failed)?;
                    sql.records_resolved_in_client = here;
                    (Resolved { resolution, rows }, Some(sql))
                }
            };
            let work = tokio::task::spawn_blocking(move || {
                let prev = previous(&out, &job.name, &date)?;
                let assignment = ids(&job, &date, &resolved, &prev);
                let mut report = report(&resolved, &assignment, show_pii);
                report.sql = sql;
                let [mapping, changes, registry] = tables(&resolved, &assignment)?;
                Ok::<_, RunError>((report, mapping, changes, registry))
            });
            let (report, mapping, changes, registry) = work.await.map_err(failed)??;
            let on_cluster = report.sql.as_ref().is_some_and(|s| s.ran_on == "cluster");
            let e = &self.name;
            let summary = format!(
                "{} rows, {} records, {} persons",
                report.rows, report.records, report.persons
            );
            let entity = self.name.clone();
            let table = |name: String, b: RecordBatch| {
                (
                    format!("oneid.{name}"),
                    format!("oneid/{name}/dt={}", cx.date()),
                    b.schema(),
                    vec![b],
                )
            };
            Ok(Done {
                summary,
                tables: vec![
                    table(e.clone(), mapping),
                    table(format!("{e}_changes"), changes),
                    table(format!("{e}_registry"), registry),
                ],
                on_cluster,
                ..Done::default()
            }
            .report(move |m| {
                m.oneid.insert(entity, report);
            }))
        })
    }
}
