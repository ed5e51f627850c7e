//! Jobs of the consumer-asset layer: features, tags, AIPL and RFM models, nearest rows,
//! audiences, comparisons and exports.

use crate::expr::{Expr, Period};
use serde::{Deserialize, Serialize};

/// The features of one entity.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct FeaturesJob {
    pub entity: String,
    /// `dws_<entity>`, when assets use metrics computed per the entity, and those metrics.
    pub metrics: Option<(String, Vec<String>)>,
    pub tables: Vec<FeatureTable>,
}

/// The aggregates over one table's rows, computed in one pass.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct FeatureTable {
    /// The node whose table is read: `ods.<source>` or `dwd.<fact>`.
    pub node: crate::Table,
    /// The column holding the entity (facts), or none: the rows reach the entity through
    /// the OneID mapping, joined on the source's key.
    pub entity_column: Option<String>,
    /// The source's key (`record_id` in the OneID mapping), for sources; a fact's
    /// first grain column. Rows of the same time are ordered by it.
    pub key: Option<String>,
    pub source: String,
    /// The rows' time and whether it is a date: a fact's `time`; a source's first
    /// `timestamp` column, else its first `date` column.
    pub time: Option<(String, bool)>,
    pub aggregates: Vec<FeatureAgg>,
}

/// One aggregate per entity.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct FeatureAgg {
    /// Its column in the features table.
    pub column: String,
    pub func: crate::Aggregate,
    /// The value aggregated (a column or row expression); none for `exists` and `count`.
    pub arg: Option<Expr>,
    /// The rows kept (`where`).
    pub filter: Option<Expr>,
    /// `window = N d`: the rows of the last N days up to the business date.
    pub window_days: Option<i64>,
    /// A metric's period: the rows from its start up to the business date.
    pub period: Option<Period>,
    /// Row values that must not be null for a row to count (beside the value itself).
    pub present: Vec<Expr>,
}

/// The tags of one entity: `ads/<entity>_tags` (wide) and `ads/<entity>_tag_values`
/// (long), computed from `ads/<entity>_features`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct TagsJob {
    pub entity: String,
    pub tags: Vec<TagJob>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct TagJob {
    pub name: String,
    /// The declared values of an enumerated tag.
    pub values: Vec<String>,
    /// The tag over the features table's columns: aggregates replaced by their feature
    /// columns, other tags inlined.
    pub expr: Expr,
}

/// An AIPL model: each entity's stage for the business date, the highest whose
/// condition holds (L > P > I > A), or none. `ads/aipl_<model>/dt=D`; the partitions of
/// successive dates are the model's history.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct AiplJob {
    pub entity: String,
    pub name: String,
    /// The stages as one decision list over the features table, highest first:
    /// `case { L-condition => "L"  P-condition => "P" … }`.
    pub rule: Expr,
    /// `by channel`: each entity's channel, from the rows that qualified its stage.
    pub breakdowns: Vec<BreakdownJob>,
    /// For the first breakdown: the rows behind the A and I stages, each with its
    /// channel — the touches of each entity's path, for channel contribution.
    pub touches: Vec<TouchRows>,
}

/// `ads.aipl_<model>_contribution`: each channel's credit for an AIPL model's
/// conversions, over the touches its first breakdown reads (`AiplJob::touches`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ContributionJob {
    pub model: AiplJob,
}

/// Rows of a table that touch an entity: the table (without aggregates) and the rows
/// as an aggregate would keep them (`where`, window or period, values present); the
/// aggregate's value is the row's channel.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct TouchRows {
    pub table: FeatureTable,
    pub rows: FeatureAgg,
}

/// A `by` of an AIPL model (`channel`): each entity's value is that of the most recent
/// row among the rows that qualified it for its stage. A stage's condition qualifies
/// through its conditions that hold (the parts joined by `and` / `or`, not under a
/// `not`); each reads rows — an aggregate's rows, a metric's rows in its period —
/// and the most recent of those rows, over every condition that holds, gives the
/// value. Ties go to the condition written first.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct BreakdownJob {
    pub name: String,
    /// Per stage, highest first as in the rule: what can qualify it.
    pub stages: Vec<(String, Vec<Qualifier>)>,
}

/// Rows that qualify a stage when `condition` holds: the time of the most recent of
/// them and its value, as columns of the features table (the time is absent for a
/// table without a time).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Qualifier {
    pub condition: Expr,
    pub time: Option<String>,
    pub value: String,
}

/// An RFM model: `ads/rfm_<model>/dt=D`, one row per entity with a recency, frequency
/// and monetary value: the values, their scores, H or L against the baseline, the
/// segment code and its label.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct RfmJob {
    pub entity: String,
    pub name: String,
    /// Recency, frequency and monetary, each over the features table.
    pub recency: Expr,
    pub frequency: Expr,
    pub monetary: Expr,
    /// Scores of recency, frequency and monetary.
    pub scores: [ScoreJob; 3],
    pub baseline: BaselineJob,
    /// Segment code (`HLH`: R, F, M) → label.
    pub segments: Vec<(String, String)>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub enum ScoreJob {
    /// Increasing thresholds: a frequency or monetary value scores 1 plus the number of
    /// thresholds it reaches (≥); a recency (days), 1 plus the number it does not exceed (≤).
    Thresholds(Vec<f64>),
    /// `N` quantiles: 1 to N, N for the most recent, most frequent, highest.
    Quantiles(u32),
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub enum BaselineJob {
    Mean,
    Median,
    Value(f64),
}

/// `export AUDIENCE to FORMAT("PATH") { … }`: the audience's members for the date, one
/// file at `OUT/<folder>/<stem>/dt=D/<file>` written with the run's partitions.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ExportJob {
    pub entity: String,
    pub audience: String,
    pub format: super::Format,
    /// The location as declared (`audiences/sofa_intent.csv`).
    pub path: String,
    pub header: bool,
    pub delimiter: u8,
    pub columns: Vec<ExportColumnJob>,
    /// `postgres(…, url = env("VAR"))`: the variable holding the connection URL (else
    /// `[exports.<audience>] url` of mj.toml).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_env: Option<String>,
}

impl ExportJob {
    /// Where the file goes, relative to OUT: (partition folder, file name).
    pub fn target(&self, date: &str) -> (std::path::PathBuf, String) {
        let p = std::path::Path::new(&self.path);
        let file = p
            .file_name()
            .map(|f| f.to_string_lossy().to_string())
            .unwrap_or_else(|| format!("{}.csv", self.audience));
        let stem = p
            .file_stem()
            .map(|f| f.to_string_lossy().to_string())
            .unwrap_or_else(|| self.audience.clone());
        let folder = p.parent().unwrap_or(std::path::Path::new(""));
        (folder.join(stem).join(format!("dt={date}")), file)
    }
}

/// One exported column.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ExportColumnJob {
    pub name: String,
    /// The column of `ads.<entity>_audiences` holding the value; none for the OneID.
    pub column: Option<String>,
    /// The identifier's normalizer, for an identifier's value (`phone_cn`).
    pub normalize: Option<String>,
    /// `sha256` or `md5` of the lower-cased, trimmed value (after `salt`); none in clear.
    pub hash: Option<String>,
    pub salt: Option<String>,
}

/// `compare A against B by …`: `ads.compare_<a>_<b>` and its tests.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct CompareJob {
    pub entity: String,
    pub audience: String,
    /// Another audience, or none for every entity (`all`).
    pub against: Option<String>,
    /// What the make-up is compared along, in the order written.
    pub by: Vec<CompareBy>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub enum CompareBy {
    /// A tag: the column of `ads.<entity>_tags`.
    Tag(String),
    /// An AIPL model's stage, an RFM model's segment.
    Aipl(String),
    Rfm(String),
}

impl CompareJob {
    /// `compare_<a>_<b>`, or `compare_<a>_all`.
    pub fn table(&self) -> String {
        format!(
            "compare_{}_{}",
            self.audience,
            self.against.as_deref().unwrap_or("all")
        )
    }
}

/// `ads.<entity>_near_<dimension>`: each entity's location and the nearest row of the
/// dimension, from features of the features table and `dim_<dimension>`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct NearJob {
    pub entity: String,
    pub dimension: String,
    /// The dimension's key; its `lat`, `lon` and (for the city fallback) `city`.
    pub key: String,
    pub has_city: bool,
    /// Per linked source with `lat` and `lon`: the source and the feature columns of
    /// its most recent row with both (lat, lon, time).
    pub points: Vec<(String, String, String, Option<String>)>,
    /// Per fact of the entity that binds the dimension: the fact and the feature
    /// columns of its most recent row's key and time.
    pub visits: Vec<(String, String, Option<String>)>,
    /// Feature columns of the entity's latest `city` in its linked sources.
    pub cities: Vec<String>,
}

/// The audiences and routes of an entity, in one table `ads.<entity>_audiences`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct AudiencesJob {
    pub entity: String,
    /// AIPL models and RFM models whose stage or segment the expressions read.
    pub aipl: Vec<String>,
    pub rfm: Vec<String>,
    /// Dimensions whose nearest row the expressions read, with the attributes read.
    pub near: Vec<NearUse>,
    /// Each audience's condition over the joined row.
    pub audiences: Vec<(String, Expr)>,
    /// Each route: its audience and its decision list, giving the channel's name.
    pub routes: Vec<(String, Expr)>,
    /// Values exported for an audience's members: (audience, column, expression).
    pub values: Vec<(String, String, Expr)>,
    /// Per audience, for `mj audience --explain`: its conditions joined by `and`, each
    /// as written and as the condition of all of them up to it.
    pub explain: Vec<(String, Vec<(String, Expr)>)>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct NearUse {
    pub dimension: String,
    pub key: String,
    pub attributes: Vec<String>,
}
