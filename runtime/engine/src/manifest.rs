//! The run manifest (`OUT/_runs/<run_id>.json`): what each node read, wrote and found.

use crate::*;

/// The manifest of a run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub run_id: String,
    /// The Ballista scheduler the run's plans ran on (`df://host:port`), if any.
    #[serde(default)]
    pub cluster: Option<String>,
    pub project: String,
    pub date: String,
    pub status: String,
    pub started_at: String,
    pub seconds: f64,
    pub inputs: Vec<InputReport>,
    pub tables: Vec<TableReport>,
    pub oneid: BTreeMap<String, oneid::OneIdReport>,
    pub checks: Vec<CheckReport>,
    /// Per entity: each tag's coverage and how its rules ran.
    pub tags: Vec<TagsReport>,
    /// Per AIPL model: entities in each stage and how its rule ran.
    pub aipl: Vec<AiplReport>,
    /// Per audience: its size, its overlap with the entity's other audiences and the
    /// members each route channel gets.
    pub audiences: Vec<AudienceReport>,
    /// Per comparison: the groups' sizes and the most significant differences.
    pub comparisons: Vec<compare::CompareReport>,
    /// Per export: its file and rows.
    pub exports: Vec<export::ExportReport>,
    /// Per AIPL model broken down by channel: paths, conversions, Markov credits.
    pub contributions: Vec<attribution::ContributionReport>,
    /// Per scan: rooms, area, outputs and the time of each step.
    pub scans: Vec<scan::ScanReport>,
    pub error: Option<String>,
}

/// An AIPL model in a run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AiplReport {
    pub model: String,
    /// Entities per stage (`A`, `I`, `P`, `L`, and `none`).
    pub stages: BTreeMap<String, u64>,
    /// Per breakdown (`channel`): entities per value, then per stage.
    pub by: BTreeMap<String, BTreeMap<String, BTreeMap<String, u64>>>,
    pub rule: Vec<RuleNote>,
}

/// An audience in a run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AudienceReport {
    pub audience: String,
    pub entity: String,
    pub members: u64,
    /// Members shared with each other audience of the entity.
    pub overlap: BTreeMap<String, u64>,
    /// Members per channel of the audience's route (none without a route).
    pub route: BTreeMap<String, u64>,
}

/// The tags of an entity in a run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TagsReport {
    pub entity: String,
    /// Rows of the tags table: every OneID.
    pub entities: u64,
    pub tags: Vec<tags::Coverage>,
    pub rules: Vec<RuleNote>,
}

/// A data-quality check's outcome.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckReport {
    pub check: String,
    pub rule: String,
    pub fact: String,
    pub severity: String,
    /// Failing rows (for `unique`: rows sharing a repeated value).
    pub failing: u64,
    /// Up to five failing rows or repeated values.
    pub examples: Vec<String>,
    /// `passed`, `warned` or `failed`.
    pub status: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InputReport {
    pub source: String,
    pub rows_read: u64,
    pub rows_accepted: u64,
    pub rows_rejected: u64,
    pub files: Vec<FileStats>,
    /// Up to ten rejected rows' reasons.
    pub reject_examples: Vec<String>,
    /// For an `incremental by` source: what was read and what was carried over.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incremental: Option<IncrementalReport>,
}

/// An incremental read.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct IncrementalReport {
    pub column: String,
    /// The previous partition the rows were merged into, and its largest value of the
    /// column (rows past it were read); none on a first or a `--full` read.
    pub previous: Option<String>,
    pub watermark: Option<String>,
    /// Rows of the previous partition kept (their key not read again).
    pub rows_carried: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TableReport {
    pub node: String,
    pub table: String,
    pub path: String,
    pub rows: u64,
    pub seconds: f64,
    /// Where the node's work ran: `cluster` (a planned table, as Ballista jobs) or
    /// `client` (in `mj run` itself).
    #[serde(default = "client")]
    pub ran_on: String,
}

fn client() -> String {
    "client".to_string()
}

pub(crate) fn write_manifest(out: &Path, m: &Manifest) -> Result<(), RunError> {
    let dir = out.join("_runs");
    std::fs::create_dir_all(&dir).map_err(|e| RunError::io(&dir, e))?;
    let path = dir.join(format!("{}.json", m.run_id));
    let tmp = dir.join(format!(".{}.json.tmp", m.run_id));
    let text = serde_json::to_string_pretty(m).unwrap_or_default();
    std::fs::write(&tmp, text).map_err(|e| RunError::io(&tmp, e))?;
    std::fs::rename(&tmp, &path).map_err(|e| RunError::io(&path, e))
}

impl Manifest {
    /// A manifest written by a run (`OUT/_runs/<run_id>.json`).
    pub fn read(path: &Path) -> Result<Manifest, RunError> {
        let text = std::fs::read_to_string(path).map_err(|e| RunError::io(path, e))?;
        serde_json::from_str(&text).map_err(|e| RunError {
            message: format!("{}: not a run manifest: {e}", path.display()),
        })
    }

    /// The manifest of the latest successful run of `date` in `out`, if any.
    pub fn latest_succeeded(out: &Path, date: &str) -> Option<Manifest> {
        let mut runs: Vec<PathBuf> = std::fs::read_dir(out.join("_runs"))
            .ok()?
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.extension().is_some_and(|x| x == "json")
                    && p.file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with(date))
            })
            .collect();
        runs.sort();
        runs.iter()
            .rev()
            .filter_map(|p| Manifest::read(p).ok())
            .find(|m| m.status == "succeeded")
    }
}
