//! The job graph: the tables of a run and what builds each, as lowering leaves them
//! for the planner and the runtime. Types only: lowering (`crate::lower`,
//! `crate::assets`) fills them in.

use crate::Table;
use crate::expr::{Expr, Period};
use serde::{Deserialize, Serialize};

pub mod assets;

pub use assets::*;

/// The tables of a run and their dependencies, in a topological order.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct JobGraph {
    pub nodes: Vec<Node>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Node {
    /// `<layer>.<table>`: `ods.pos_order`, `oneid.consumer`.
    pub id: Table,
    pub kind: NodeKind,
    /// Indexes of the nodes this one reads.
    pub deps: Vec<usize>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NodeKind {
    Source(SourceJob),
    OneId(OneIdJob),
    Fact(FactJob),
    Summary(SummaryJob),
    Check(CheckJob),
    Dimension(DimensionJob),
    /// `ads.<entity>_features`: per-entity aggregates and metrics (see `crate::assets`).
    Features(assets::FeaturesJob),
    /// `ads.<entity>_tags` (wide) and `ads.<entity>_tag_values` (long).
    Tags(assets::TagsJob),
    /// `ads.aipl_<model>`: each entity's funnel stage for the date.
    Aipl(assets::AiplJob),
    /// `ads.rfm_<model>`: recency, frequency, monetary, scores and segments.
    Rfm(assets::RfmJob),
    /// `ads.<entity>_near_<dimension>`: each entity's location and nearest row.
    Near(assets::NearJob),
    /// `ads.<entity>_audiences`: audience membership and routes.
    Audiences(assets::AudiencesJob),
    /// `ads.compare_<a>_<b>`: an audience's make-up against another's, TGI and χ².
    Compare(assets::CompareJob),
    /// An audience's file for the date, written with the run's partitions.
    Export(assets::ExportJob),
    /// `ads.aipl_<model>_contribution`: each channel's credit for conversions.
    Contribution(assets::ContributionJob),
    /// `scan.<name>`: a showroom scan's reconstruction and its files.
    Scan(ScanJob),
}

/// A scan item, resolved: what it captures, its steps with their defaults filled in,
/// its hotspots and outputs. Paths are as written (captures relative to the data root,
/// outputs to the output folder, without a trailing `/`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ScanJob {
    pub name: String,
    pub display: Option<String>,
    pub panoramas: Vec<String>,
    pub annotations: Vec<String>,
    pub pointclouds: Vec<String>,
    /// Metres; 1.6 when the scan does not say.
    pub camera_height: f64,
    pub upright: bool,
    /// The Manhattan tolerance in degrees; `None` for `layout free`. 10° when the scan
    /// has no `layout` step.
    pub manhattan_deg: Option<f64>,
    /// `merge by doors` unless the scan says `transforms`.
    pub merge: ScanMerge,
    /// Texture size in pixels; 1024 when the scan does not say.
    pub texture: u32,
    pub hotspots: Vec<ScanHotspot>,
    pub outputs: Vec<(ScanOutput, String)>,
}

/// How a scan's rooms are placed in one floor plan.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub enum ScanMerge {
    /// By the doors two rooms share.
    Doors,
    /// By transforms given in the annotations.
    Transforms,
}

/// What a scan writes (`glb(…)`, `obj(…)`, `floorplan(…)`, `tour(…)`, `summary(…)`).
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub enum ScanOutput {
    Glb,
    Obj,
    Floorplan,
    Tour,
    Summary,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ScanHotspot {
    pub name: String,
    pub display: Option<String>,
    pub kind: String,
    pub target: String,
    pub place: HotspotAt,
}

/// Where a hotspot is: metres in the floor plan's frame, or a room.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub enum HotspotAt {
    Point([f64; 3]),
    Room(String),
}

/// A dimension table: its source's rows, one per key (a repeated key is an error
/// naming the keys), with the key and the attributes.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct DimensionJob {
    pub name: String,
    pub source: String,
    pub key: String,
    pub attributes: Vec<String>,
}

/// A data-quality rule run against a fact's detail table or a source's accepted rows.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct CheckJob {
    /// `check_<fact or source>_<n>`, numbered in the order the checks are declared.
    pub name: String,
    /// The rule as written, for reports.
    pub text: String,
    /// The fact or source checked, as named in the spec.
    pub fact: String,
    /// The node whose table is checked: `dwd.<fact>` or `ods.<source>`.
    pub table: Table,
    pub rule: CheckKind,
    /// A failing `error` check fails the run; a `warn` check is reported.
    pub fail_run: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum CheckKind {
    /// No two rows share a value of the column.
    Unique(String),
    /// Every row satisfies the condition (a row where it is null passes).
    Condition(Expr),
}

/// A summary (DWS) table: every derived metric of one granularity, and the composite
/// metrics built from them, for one business date. Named `dws_<granularity>`, the
/// granularity's dimensions joined with `_` (`dws_consumer`, `dws_store_category`),
/// `dws_total` without any.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SummaryJob {
    pub name: String,
    /// The granularity: columns of the facts (dims or the entity), sorted.
    pub by: Vec<String>,
    /// One aggregation per fact.
    pub parts: Vec<SummaryPart>,
    /// (name, expression over the derived metrics' columns).
    pub composites: Vec<(String, Expr)>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SummaryPart {
    pub fact: String,
    pub time: Option<String>,
    pub time_is_date: bool,
    pub metrics: Vec<MetricJob>,
    /// Dimensions whose attributes the metrics' filters use (`store.city == "上海"`),
    /// joined to the fact's rows on their keys before aggregating.
    pub dims: Vec<DimJoin>,
}

/// A dimension joined to a fact's rows: `dim_<dimension>` (unique on its key, or the
/// run has failed before) on `dwd_<fact>.<column> = <dimension>.<key>`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct DimJoin {
    /// The fact's column holding the key (the dims binding, named as the dimension).
    pub column: String,
    pub dimension: String,
    pub key: String,
    /// The attributes used, sorted.
    pub attributes: Vec<String>,
}

/// One derived metric: an aggregate over the fact's rows in a period, filtered by
/// modifiers.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct MetricJob {
    pub name: String,
    /// `sum`, `count`, `count_distinct`, `avg`, `min`, `max`, `median`, `stddev`.
    pub aggregate: crate::Aggregate,
    /// What is aggregated (a fact column or expression); none counts rows.
    pub arg: Option<Expr>,
    /// Conditions on the rows: the atomic metric's own `where`, then the modifiers.
    pub filters: Vec<Expr>,
    pub period: Period,
    /// A `count_distinct` of a column that an `error` check keeps unique: the check.
    /// The summary counts the values (no distinct pass) and runs after that check, whose
    /// failure fails the run before any partition is committed.
    pub unique_by: Option<String>,
}

/// A business process as a detail (DWD) table: its source's rows up to the business
/// date, filtered by its `where`, with its grain, time, entity key, dimension keys and
/// measures.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct FactJob {
    pub name: String,
    pub source: String,
    /// The source's key column, joined with the OneID mapping for the entity key.
    pub source_key: Option<String>,
    pub filter: Option<Expr>,
    pub grain: Vec<String>,
    pub time: Option<String>,
    /// The time column's type (date or timestamp), for the business-date bound.
    pub time_is_date: bool,
    pub entity: Option<String>,
    /// (column name, expression over the source's row).
    pub dims: Vec<(String, Expr)>,
    pub measures: Vec<(String, Expr)>,
}

/// Reads one declared source with its declared schema; bad rows go to rejects.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SourceJob {
    pub name: String,
    pub format: Format,
    /// The location as declared, relative to the data root; may hold globs.
    pub path: String,
    pub header: bool,
    pub delimiter: u8,
    /// `delimiter = "whitespace"`: fields are separated by runs of spaces and tabs, and
    /// leading and trailing blanks are ignored (fixed-width exports, many public data sets).
    pub whitespace: bool,
    pub columns: Vec<ColumnJob>,
    /// The column that names a row in rejects, OneID output and evidence: the first
    /// column declared `not null`.
    pub key: Option<String>,
    /// `postgres(…, url = env("VAR"))`: the environment variable holding the
    /// connection URL (else `[sources.<name>] url` of mj.toml).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_env: Option<String>,
    /// `postgres(…, query = "…")`: the rows of this query instead of the table's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// `incremental by COLUMN`: read the rows past the previous partition's largest
    /// value of the column; the partition is the previous one with them merged in (by
    /// `key`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incremental: Option<String>,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Csv,
    Parquet,
    Ndjson,
    /// A PostgreSQL table (`path` is `schema.table`) or query.
    Postgres,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ColumnJob {
    pub name: String,
    pub ty: ColType,
    pub not_null: bool,
    /// Declared `pii`: its values are masked outside the data layers.
    pub pii: bool,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ColType {
    String,
    Int,
    BigInt,
    SmallInt,
    Float,
    Double,
    Decimal(u8, i8),
    Bool,
    Date,
    Timestamp,
}

impl ColType {
    pub fn of(name: &str, params: &[u32]) -> Option<ColType> {
        Some(match name {
            "string" | "text" => ColType::String,
            "int" => ColType::Int,
            "bigint" => ColType::BigInt,
            "smallint" => ColType::SmallInt,
            "float" => ColType::Float,
            "double" => ColType::Double,
            "decimal" => ColType::Decimal(
                params.first().map_or(38, |&p| p.min(38) as u8),
                params.get(1).map_or(10, |&s| s.min(38) as i8),
            ),
            "bool" | "boolean" => ColType::Bool,
            "date" => ColType::Date,
            "timestamp" => ColType::Timestamp,
            _ => return None,
        })
    }
}

/// Resolves one OneID entity from the sources it links.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct OneIdJob {
    pub name: String,
    pub identifiers: Vec<IdentifierJob>,
    pub links: Vec<LinkJob>,
    /// (identifier index, value) never used for linking.
    pub rejects: Vec<(usize, String)>,
    pub frequent_above: Option<u64>,
    pub max_component: Option<u64>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct IdentifierJob {
    pub name: String,
    pub normalize: Option<String>,
    pub weak: bool,
    pub unique: bool,
    pub max_per_person: Option<u64>,
    pub scoped_by: Option<String>,
    /// A linked column carrying it is `pii`: its values are masked in manifests and
    /// explanations.
    pub pii: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct LinkJob {
    pub source: String,
    /// The source's key column (see [`SourceJob::key`]).
    pub key: Option<String>,
    /// (identifier index, columns): one column, or the parts of a compound value.
    pub fields: Vec<(usize, Vec<String>)>,
}
