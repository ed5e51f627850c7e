//! Lowering: a checked project becomes a job graph, one node per table to build,
//! each with the nodes it depends on. The runtime executes the graph; later stages
//! (facts, metrics, tags, AIPL…) add node kinds here, never special cases there.
//!
//! Lowering assumes a project without errors (`mj run` checks first) and does no IO.

use mj_ir::Table;
use serde::Serialize;

use mj_lang::ast::{Binding, Expr, ExprKind, Fact, ItemKind, Nullability, OneId, Source, Strength};

use crate::db::{Db, Project};
use crate::queries::file_items;

mod metrics;
mod scan;

pub(crate) use metrics::*;
use scan::*;

/// The tables of a run and their dependencies, in a topological order.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct JobGraph {
    pub nodes: Vec<Node>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Node {
    /// `<layer>.<table>`: `ods.pos_order`, `oneid.consumer`.
    pub id: Table,
    pub kind: NodeKind,
    /// Indexes of the nodes this one reads.
    pub deps: Vec<usize>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NodeKind {
    Source(SourceJob),
    OneId(OneIdJob),
    Fact(FactJob),
    Summary(SummaryJob),
    Check(CheckJob),
    Dimension(DimensionJob),
    /// `ads.<entity>_features`: per-entity aggregates and metrics (see `crate::assets`).
    Features(crate::assets::FeaturesJob),
    /// `ads.<entity>_tags` (wide) and `ads.<entity>_tag_values` (long).
    Tags(crate::assets::TagsJob),
    /// `ads.aipl_<model>`: each entity's funnel stage for the date.
    Aipl(crate::assets::AiplJob),
    /// `ads.rfm_<model>`: recency, frequency, monetary, scores and segments.
    Rfm(crate::assets::RfmJob),
    /// `ads.<entity>_near_<dimension>`: each entity's location and nearest row.
    Near(crate::assets::NearJob),
    /// `ads.<entity>_audiences`: audience membership and routes.
    Audiences(crate::assets::AudiencesJob),
    /// `ads.compare_<a>_<b>`: an audience's make-up against another's, TGI and χ².
    Compare(crate::assets::CompareJob),
    /// An audience's file for the date, written with the run's partitions.
    Export(crate::assets::ExportJob),
    /// `ads.aipl_<model>_contribution`: each channel's credit for conversions.
    Contribution(crate::assets::AiplJob),
    /// `scan.<name>`: a showroom scan's reconstruction and its files.
    Scan(ScanJob),
}

/// A scan item, resolved: what it captures, its steps with their defaults filled in,
/// its hotspots and outputs. Paths are as written (captures relative to the data root,
/// outputs to the output folder, without a trailing `/`).
#[derive(Clone, Debug, Serialize, PartialEq)]
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
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
pub enum ScanMerge {
    /// By the doors two rooms share.
    Doors,
    /// By transforms given in the annotations.
    Transforms,
}

/// What a scan writes (`glb(…)`, `obj(…)`, `floorplan(…)`, `tour(…)`, `summary(…)`).
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
pub enum ScanOutput {
    Glb,
    Obj,
    Floorplan,
    Tour,
    Summary,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ScanHotspot {
    pub name: String,
    pub display: Option<String>,
    pub kind: String,
    pub target: String,
    pub place: HotspotAt,
}

/// Where a hotspot is: metres in the floor plan's frame, or a room.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub enum HotspotAt {
    Point([f64; 3]),
    Room(String),
}

/// A dimension table: its source's rows, one per key (a repeated key is an error
/// naming the keys), with the key and the attributes.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct DimensionJob {
    pub name: String,
    pub source: String,
    pub key: String,
    pub attributes: Vec<String>,
}

/// A data-quality rule run against a fact's detail table or a source's accepted rows.
#[derive(Clone, Debug, Serialize, PartialEq)]
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

#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum CheckKind {
    /// No two rows share a value of the column.
    Unique(String),
    /// Every row satisfies the condition (a row where it is null passes).
    Condition(mj_lang::ast::Expr),
}

/// A summary (DWS) table: every derived metric of one granularity, and the composite
/// metrics built from them, for one business date. Named `dws_<granularity>`, the
/// granularity's dimensions joined with `_` (`dws_consumer`, `dws_store_category`),
/// `dws_total` without any.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct SummaryJob {
    pub name: String,
    /// The granularity: columns of the facts (dims or the entity), sorted.
    pub by: Vec<String>,
    /// One aggregation per fact.
    pub parts: Vec<SummaryPart>,
    /// (name, expression over the derived metrics' columns).
    pub composites: Vec<(String, mj_lang::ast::Expr)>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
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
#[derive(Clone, Debug, Serialize, PartialEq)]
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
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct MetricJob {
    pub name: String,
    /// `sum`, `count`, `count_distinct`, `avg`, `min`, `max`, `median`, `stddev`.
    pub aggregate: mj_ir::Aggregate,
    /// What is aggregated (a fact column or expression); none counts rows.
    pub arg: Option<mj_lang::ast::Expr>,
    /// Conditions on the rows: the atomic metric's own `where`, then the modifiers.
    pub filters: Vec<mj_lang::ast::Expr>,
    pub period: mj_lang::ast::PeriodSpec,
    /// A `count_distinct` of a column that an `error` check keeps unique: the check.
    /// The summary counts the values (no distinct pass) and runs after that check, whose
    /// failure fails the run before any partition is committed.
    pub unique_by: Option<String>,
}

/// A business process as a detail (DWD) table: its source's rows up to the business
/// date, filtered by its `where`, with its grain, time, entity key, dimension keys and
/// measures.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct FactJob {
    pub name: String,
    pub source: String,
    /// The source's key column, joined with the OneID mapping for the entity key.
    pub source_key: Option<String>,
    pub filter: Option<mj_lang::ast::Expr>,
    pub grain: Vec<String>,
    pub time: Option<String>,
    /// The time column's type (date or timestamp), for the business-date bound.
    pub time_is_date: bool,
    pub entity: Option<String>,
    /// (column name, expression over the source's row).
    pub dims: Vec<(String, mj_lang::ast::Expr)>,
    pub measures: Vec<(String, mj_lang::ast::Expr)>,
}

/// Reads one declared source with its declared schema; bad rows go to rejects.
#[derive(Clone, Debug, Serialize, PartialEq)]
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
}

#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Csv,
    Parquet,
    Ndjson,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ColumnJob {
    pub name: String,
    pub ty: ColType,
    pub not_null: bool,
    /// Declared `pii`: its values are masked outside the data layers.
    pub pii: bool,
}

#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
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
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct OneIdJob {
    pub name: String,
    pub identifiers: Vec<IdentifierJob>,
    pub links: Vec<LinkJob>,
    /// (identifier index, value) never used for linking.
    pub rejects: Vec<(usize, String)>,
    pub frequent_above: Option<u64>,
    pub max_component: Option<u64>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
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

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct LinkJob {
    pub source: String,
    /// The source's key column (see [`SourceJob::key`]).
    pub key: Option<String>,
    /// (identifier index, columns): one column, or the parts of a compound value.
    pub fields: Vec<(usize, Vec<String>)>,
}

/// The job graph of a project.
pub fn lower(db: &dyn Db, project: Project) -> JobGraph {
    let mut sources: Vec<&Source> = Vec::new();
    let mut oneids: Vec<&OneId> = Vec::new();
    let mut facts: Vec<&Fact> = Vec::new();
    let mut dimensions: Vec<&mj_lang::ast::Dimension> = Vec::new();
    let mut items: Vec<&mj_lang::ast::Item> = Vec::new();
    for &file in project.files(db) {
        for item in file_items(db, file).iter() {
            match &item.kind {
                ItemKind::Source(s) => sources.push(s),
                ItemKind::OneId(o) => oneids.push(o),
                ItemKind::Fact(f) => facts.push(f),
                ItemKind::Dimension(d) => dimensions.push(d),
                _ => {}
            }
            items.push(item);
        }
    }
    let mut nodes = Vec::new();
    for s in &sources {
        nodes.push(Node {
            id: Table::new("ods", &s.header.name.text),
            kind: NodeKind::Source(source_job(s)),
            deps: Vec::new(),
        });
    }
    for o in oneids {
        let job = oneid_job(o, &sources);
        let deps = job
            .links
            .iter()
            .filter_map(|l| {
                nodes
                    .iter()
                    .position(|n| n.id == Table::new("ods", &l.source))
            })
            .collect();
        nodes.push(Node {
            id: Table::new("oneid", &o.header.name.text),
            kind: NodeKind::OneId(job),
            deps,
        });
    }
    for d in &dimensions {
        let Some(key) = &d.key else { continue };
        let Some(dep) = nodes
            .iter()
            .position(|n| n.id == Table::new("ods", &d.source.text))
        else {
            continue;
        };
        nodes.push(Node {
            id: Table::new("dim", &d.header.name.text),
            kind: NodeKind::Dimension(DimensionJob {
                name: d.header.name.text.clone(),
                source: d.source.text.clone(),
                key: key.text.clone(),
                attributes: d.attributes.iter().map(|a| a.text.clone()).collect(),
            }),
            deps: vec![dep],
        });
    }
    for f in &facts {
        let Some(source) = sources.iter().find(|s| s.header.name.text == f.source.text) else {
            continue;
        };
        let job = fact_job(f, source);
        let mut deps: Vec<usize> = nodes
            .iter()
            .position(|n| n.id == Table::new("ods", &f.source.text))
            .into_iter()
            .collect();
        if let Some(e) = &job.entity {
            deps.extend(nodes.iter().position(|n| n.id == Table::new("oneid", e)));
        }
        // Dimensions the fact's dims name: a repeated key fails there, before any
        // join could multiply the fact's rows.
        for (name, _) in &job.dims {
            deps.extend(nodes.iter().position(|n| n.id == Table::new("dim", name)));
        }
        nodes.push(Node {
            id: Table::new("dwd", &f.header.name.text),
            kind: NodeKind::Fact(job),
            deps,
        });
    }
    let mut counts: Vec<(String, usize)> = Vec::new();
    for item in &items {
        let ItemKind::Check(c) = &item.kind else {
            continue;
        };
        let (fact, rule, text) = match &c.rule {
            mj_lang::ast::CheckRule::Unique { process, column } => (
                process.text.clone(),
                CheckKind::Unique(column.text.clone()),
                format!("unique {}.{}", process.text, column.text),
            ),
            mj_lang::ast::CheckRule::Expr(e) => {
                // `pay_order.amount >= 0`: the fact is the qualifier of the columns.
                let mut fact = None;
                let stripped = strip_qualifier(e, &mut fact);
                let Some(fact) = fact else { continue };
                let text = mj_lang::format::expr_text(e);
                (fact, CheckKind::Condition(stripped), text)
            }
        };
        // A business process's detail rows, or else a source's accepted rows.
        let Some((dep, table)) = [Table::new("dwd", &fact), Table::new("ods", &fact)]
            .into_iter()
            .find_map(|id| nodes.iter().position(|n| n.id == id).map(|i| (i, id)))
        else {
            continue;
        };
        let n = match counts.iter_mut().find(|(f, _)| *f == fact) {
            Some(entry) => {
                entry.1 += 1;
                entry.1
            }
            None => {
                counts.push((fact.clone(), 1));
                1
            }
        };
        let name = format!("check_{fact}_{n}");
        nodes.push(Node {
            id: Table::new("check", &name),
            kind: NodeKind::Check(CheckJob {
                name,
                text,
                fact,
                table,
                rule,
                fail_run: c.severity.as_ref().is_none_or(|s| s.text != "warn"),
            }),
            deps: vec![dep],
        });
    }
    for mut job in summaries(&items, &facts, &sources, &dimensions) {
        // A distinct count of values an `error` check keeps unique is a count.
        for part in &mut job.parts {
            for m in &mut part.metrics {
                let Some(ExprKind::Name(column)) = m.arg.as_ref().map(|a| &a.kind) else {
                    continue;
                };
                if m.aggregate != mj_ir::Aggregate::CountDistinct {
                    continue;
                }
                let check = nodes.iter().find_map(|n| match &n.kind {
                    NodeKind::Check(c)
                        if c.fail_run
                            && c.table == Table::new("dwd", &part.fact)
                            && c.rule == CheckKind::Unique(column.text.clone()) =>
                    {
                        Some(c.name.clone())
                    }
                    _ => None,
                });
                if let Some(check) = check {
                    m.aggregate = mj_ir::Aggregate::Count;
                    m.unique_by = Some(check);
                }
            }
        }
        let mut deps: Vec<usize> = job
            .parts
            .iter()
            .flat_map(|p| {
                std::iter::once(Table::new("dwd", &p.fact))
                    .chain(p.dims.iter().map(|d| Table::new("dim", &d.dimension)))
                    .chain(
                        p.metrics
                            .iter()
                            .filter_map(|m| m.unique_by.as_ref())
                            .map(|c| Table::new("check", c)),
                    )
            })
            .filter_map(|id| nodes.iter().position(|n| n.id == id))
            .collect();
        deps.sort_unstable();
        deps.dedup();
        nodes.push(Node {
            id: Table::new("dws", &job.name),
            kind: NodeKind::Summary(job),
            deps,
        });
    }
    let source_jobs: Vec<SourceJob> = sources.iter().map(|s| source_job(s)).collect();
    for assets in crate::assets::lower_assets(&items, &source_jobs) {
        let features = assets.features;
        let entity = features.entity.clone();
        let mut ids: Vec<Table> = vec![Table::new("oneid", &entity)];
        ids.extend(features.tables.iter().map(|t| t.node.clone()));
        ids.extend(features.metrics.iter().map(|(t, _)| Table::new("dws", t)));
        let deps: Vec<usize> = ids
            .iter()
            .filter_map(|id| nodes.iter().position(|n| n.id == *id))
            .collect();
        nodes.push(Node {
            id: Table::new("ads", &format!("{entity}_features")),
            kind: NodeKind::Features(features),
            deps,
        });
        let dep = nodes.len() - 1;
        if let Some(tags) = assets.tags {
            nodes.push(Node {
                id: Table::new("ads", &format!("{entity}_tags")),
                kind: NodeKind::Tags(tags),
                deps: vec![dep],
            });
        }
        for model in assets.rfm {
            nodes.push(Node {
                id: Table::new("ads", &format!("rfm_{}", model.name)),
                kind: NodeKind::Rfm(model),
                deps: vec![dep],
            });
        }
        for model in assets.aipl {
            let contribution = (!model.touches.is_empty()).then(|| model.clone());
            nodes.push(Node {
                id: Table::new("ads", &format!("aipl_{}", model.name)),
                kind: NodeKind::Aipl(model),
                deps: vec![dep],
            });
            if let Some(model) = contribution {
                let mut deps = vec![nodes.len() - 1, oneid_node(&nodes, &entity)];
                deps.extend(
                    model
                        .touches
                        .iter()
                        .filter_map(|t| nodes.iter().position(|n| n.id == t.table.node)),
                );
                deps.sort_unstable();
                deps.dedup();
                nodes.push(Node {
                    id: Table::new("ads", &format!("aipl_{}_contribution", model.name)),
                    kind: NodeKind::Contribution(model),
                    deps,
                });
            }
        }
        for near in assets.near {
            let mut deps = vec![dep];
            deps.extend(
                nodes
                    .iter()
                    .position(|n| n.id == Table::new("dim", &near.dimension)),
            );
            nodes.push(Node {
                id: Table::new("ads", &format!("{entity}_near_{}", near.dimension)),
                kind: NodeKind::Near(near),
                deps,
            });
        }
        if let Some(job) = assets.audiences {
            let mut ids: Vec<Table> = job
                .aipl
                .iter()
                .map(|m| Table::new("ads", &format!("aipl_{m}")))
                .collect();
            ids.extend(
                job.rfm
                    .iter()
                    .map(|m| Table::new("ads", &format!("rfm_{m}"))),
            );
            for u in &job.near {
                ids.push(Table::new("ads", &format!("{entity}_near_{}", u.dimension)));
                ids.push(Table::new("dim", &u.dimension));
            }
            let mut deps = vec![dep];
            deps.extend(
                ids.iter()
                    .filter_map(|id| nodes.iter().position(|n| n.id == *id)),
            );
            nodes.push(Node {
                id: Table::new("ads", &format!("{entity}_audiences")),
                kind: NodeKind::Audiences(job),
                deps,
            });
            let audiences = nodes.len() - 1;
            for c in assets.compares {
                let mut deps = vec![audiences];
                for b in &c.by {
                    let id = match b {
                        crate::assets::CompareBy::Tag(_) => {
                            Table::new("ads", &format!("{entity}_tags"))
                        }
                        crate::assets::CompareBy::Aipl(m) => {
                            Table::new("ads", &format!("aipl_{m}"))
                        }
                        crate::assets::CompareBy::Rfm(m) => Table::new("ads", &format!("rfm_{m}")),
                    };
                    deps.extend(nodes.iter().position(|n| n.id == id));
                }
                deps.sort_unstable();
                deps.dedup();
                nodes.push(Node {
                    id: Table::new("ads", &c.table()),
                    kind: NodeKind::Compare(c),
                    deps,
                });
            }
            for x in assets.exports {
                let stem = std::path::Path::new(&x.path)
                    .file_stem()
                    .map_or(x.audience.clone(), |s| s.to_string_lossy().to_string());
                nodes.push(Node {
                    id: Table::new("export", &stem),
                    kind: NodeKind::Export(x),
                    deps: vec![audiences],
                });
            }
        }
    }
    for item in &items {
        if let ItemKind::Scan(s) = &item.kind {
            nodes.push(Node {
                id: Table::new("scan", &s.header.name.text),
                kind: NodeKind::Scan(scan_job(s)),
                deps: Vec::new(),
            });
        }
    }
    JobGraph { nodes }
}

/// The OneID node of an entity (its mapping is read by plans over sources).
pub(crate) fn oneid_node(nodes: &[Node], entity: &str) -> usize {
    nodes
        .iter()
        .position(|n| n.id == Table::new("oneid", entity))
        .unwrap_or(0)
}

pub(crate) fn fact_job(f: &Fact, source: &Source) -> FactJob {
    let src = source_job(source);
    let time_is_date = f.time.as_ref().is_some_and(|t| {
        src.columns
            .iter()
            .any(|c| c.name == t.text && c.ty == ColType::Date)
    });
    FactJob {
        name: f.header.name.text.clone(),
        source: f.source.text.clone(),
        source_key: src.key,
        filter: f.filter.clone(),
        grain: f.grain.iter().map(|g| g.text.clone()).collect(),
        time: f.time.as_ref().map(|t| t.text.clone()),
        time_is_date,
        entity: f.entity.as_ref().map(|e| e.text.clone()),
        dims: f.dims.iter().map(binding).collect(),
        measures: f.measures.iter().map(binding).collect(),
    }
}

/// A location's format, `header` and delimiter (exports take no `"whitespace"`).
pub(crate) fn location_job(l: &mj_lang::ast::Location) -> (Format, bool, u8) {
    let (format, header, delimiter, _) = location_parts(l);
    (format, header, delimiter)
}

pub(crate) fn location_parts(l: &mj_lang::ast::Location) -> (Format, bool, u8, bool) {
    let format = match l.format.text.as_str() {
        "parquet" => Format::Parquet,
        "ndjson" => Format::Ndjson,
        _ => Format::Csv,
    };
    let mut header = true;
    let mut delimiter = b',';
    let mut whitespace = false;
    for opt in &l.options {
        match (opt.name.text.as_str(), &opt.value.kind) {
            ("header", mj_lang::ast::ExprKind::Bool(b)) => header = *b,
            ("delimiter", mj_lang::ast::ExprKind::Str(d)) if d == "whitespace" => whitespace = true,
            ("delimiter", mj_lang::ast::ExprKind::Str(d)) => {
                delimiter = d.bytes().next().unwrap_or(b',')
            }
            _ => {}
        }
    }
    (format, header, delimiter, whitespace)
}

pub(crate) fn source_job(s: &Source) -> SourceJob {
    let (format, header, delimiter, whitespace) = location_parts(&s.location);
    let columns: Vec<ColumnJob> = s
        .columns
        .iter()
        .map(|c| ColumnJob {
            name: c.name.text.clone(),
            ty: ColType::of(&c.ty.name.text, &c.ty.params).unwrap_or(ColType::String),
            not_null: c.nullability == Nullability::NotNull,
            pii: c.pii,
        })
        .collect();
    let key = columns.iter().find(|c| c.not_null).map(|c| c.name.clone());
    SourceJob {
        name: s.header.name.text.clone(),
        format,
        path: s.location.path.value.clone(),
        header,
        delimiter,
        whitespace,
        columns,
        key,
    }
}

pub(crate) fn oneid_job(o: &OneId, sources: &[&Source]) -> OneIdJob {
    let mut identifiers: Vec<IdentifierJob> = o
        .identifiers
        .iter()
        .map(|i| IdentifierJob {
            name: i.name.text.clone(),
            normalize: i.normalize.as_ref().map(|n| n.text.clone()),
            weak: i.strength == Some(Strength::Weak),
            unique: i.unique,
            max_per_person: i.max_per_person.as_ref().map(|g| g.value),
            scoped_by: i.scoped_by.as_ref().map(|s| s.text.clone()),
            pii: false,
        })
        .collect();
    let index = |name: &str| identifiers.iter().position(|i| i.name == name);
    let links: Vec<LinkJob> = o
        .links
        .iter()
        .map(|l| LinkJob {
            source: l.source.text.clone(),
            key: sources
                .iter()
                .find(|s| s.header.name.text == l.source.text)
                .and_then(|s| source_job(s).key),
            fields: l
                .fields
                .iter()
                .filter_map(|f| {
                    Some((
                        index(&f.identifier.text)?,
                        f.parts().iter().map(|p| p.text.clone()).collect(),
                    ))
                })
                .collect(),
        })
        .collect();
    // An identifier is personal when any column a link reads it from is.
    for l in &o.links {
        let Some(source) = sources.iter().find(|s| s.header.name.text == l.source.text) else {
            continue;
        };
        for f in &l.fields {
            let pii = f.parts().iter().any(|p| {
                source
                    .columns
                    .iter()
                    .any(|c| c.pii && c.name.text == p.text)
            });
            if let Some(i) = identifiers.iter().position(|i| i.name == f.identifier.text) {
                identifiers[i].pii |= pii;
            }
        }
    }
    let index = |name: &str| identifiers.iter().position(|i| i.name == name);
    let rejects = o
        .rejects
        .iter()
        .filter_map(|r| {
            let i = index(&r.identifier.text)?;
            Some(r.values.iter().map(move |v| (i, v.value.clone())))
        })
        .flatten()
        .collect();
    OneIdJob {
        name: o.header.name.text.clone(),
        identifiers,
        links,
        rejects,
        frequent_above: o.reject_frequent.as_ref().map(|g| g.value),
        max_component: o.max_component.as_ref().map(|g| g.value),
    }
}
