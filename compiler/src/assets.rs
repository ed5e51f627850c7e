//! Lowering of consumer assets (the ADS layer): per-entity features and tags.
//!
//! Every aggregate an asset uses over a table's rows (`latest(crm_member.gender)`,
//! `top(app_event.style where event == "view", window = 90d)`, `exists(media_touch …)`,
//! `max(pay_order.paid_at)`) becomes a column of one features table per entity,
//! `ads/<entity>_features`: one row per OneID, the aggregates of each table computed in
//! one pass over it, and the entity's derived metrics (`dws_<entity>`) beside them. Tags
//! (and, later, AIPL stages, RFM scores and audiences) are then row expressions over
//! that one table — decision lists the runtime compiles to native kernels.

use mj_lang::ast::{
    Arg, BinaryOp, Derived, Expr, ExprKind, Ident, Item, ItemKind, PeriodSpec, QuantityUnit, Span,
    UnaryOp,
};
use serde::Serialize;

use crate::lower::{ColType, SourceJob};

/// The features of one entity.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct FeaturesJob {
    pub entity: String,
    /// `dws_<entity>`, when assets use metrics computed per the entity, and those metrics.
    pub metrics: Option<(String, Vec<String>)>,
    pub tables: Vec<FeatureTable>,
}

/// The aggregates over one table's rows, computed in one pass.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct FeatureTable {
    /// The node whose table is read: `ods.<source>` or `dwd.<fact>`.
    pub node: mj_ir::Table,
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
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct FeatureAgg {
    /// Its column in the features table.
    pub column: String,
    /// `latest`, `first`, `top`, `exists`, `sum`, `count`, `count_distinct`, `avg`,
    /// `min`, `max`, `median`, `stddev`.
    pub func: String,
    /// The value aggregated (a column or row expression); none for `exists` and `count`.
    pub arg: Option<Expr>,
    /// The rows kept (`where`).
    pub filter: Option<Expr>,
    /// `window = N d`: the rows of the last N days up to the business date.
    pub window_days: Option<i64>,
    /// A metric's period: the rows from its start up to the business date.
    pub period: Option<PeriodSpec>,
    /// Row values that must not be null for a row to count (beside the value itself).
    pub present: Vec<Expr>,
}

/// The tags of one entity: `ads/<entity>_tags` (wide) and `ads/<entity>_tag_values`
/// (long), computed from `ads/<entity>_features`.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct TagsJob {
    pub entity: String,
    pub tags: Vec<TagJob>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
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
#[derive(Clone, Debug, Serialize, PartialEq)]
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

/// Rows of a table that touch an entity: the table (without aggregates) and the rows
/// as an aggregate would keep them (`where`, window or period, values present); the
/// aggregate's value is the row's channel.
#[derive(Clone, Debug, Serialize, PartialEq)]
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
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct BreakdownJob {
    pub name: String,
    /// Per stage, highest first as in the rule: what can qualify it.
    pub stages: Vec<(String, Vec<Qualifier>)>,
}

/// Rows that qualify a stage when `condition` holds: the time of the most recent of
/// them and its value, as columns of the features table (the time is absent for a
/// table without a time).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Qualifier {
    pub condition: Expr,
    pub time: Option<String>,
    pub value: String,
}

/// Rows that an entity-level expression reads.
pub(crate) enum Read<'a> {
    /// An aggregate over a table's rows: `exists(media_touch where …, window = 15d)`.
    Aggregate {
        func: &'a str,
        args: &'a [Arg],
        span: Span,
    },
    /// A derived metric's rows (reached directly, or through a composite metric).
    Metric { derived: &'a Derived, span: Span },
}

impl Read<'_> {
    /// Where the expression reads it (the tag or composite metric that leads to it).
    pub(crate) fn span(&self) -> Span {
        match self {
            Read::Aggregate { span, .. } | Read::Metric { span, .. } => *span,
        }
    }
}

/// The table an aggregate reads: `media_touch` in `exists(media_touch where …)` or
/// `latest(crm_member.level)`.
pub(crate) fn aggregate_table(args: &[Arg]) -> Option<&Ident> {
    let Some(Arg::Positional { value, .. }) = args.first() else {
        return None;
    };
    match &value.kind {
        ExprKind::Field(base, _) => match &base.kind {
            ExprKind::Name(t) => Some(t),
            _ => None,
        },
        ExprKind::Name(t) => Some(t),
        _ => None,
    }
}

/// The rows `e` reads, through tags (inlined) and composite metrics (their parts).
pub(crate) fn reads<'a>(
    e: &'a Expr,
    lookup: &dyn Fn(&str) -> Option<&'a ItemKind>,
    at: Option<Span>,
    stack: &mut Vec<String>,
    out: &mut Vec<Read<'a>>,
) {
    let here = at.unwrap_or(e.span);
    match &e.kind {
        ExprKind::Call(f, args)
            if matches!(
                lookup(&f.text),
                Some(ItemKind::Function(x)) if x.flags.iter().any(|g| g.text == "aggregate")
            ) =>
        {
            out.push(Read::Aggregate {
                func: &f.text,
                args,
                span: here,
            });
        }
        ExprKind::Name(n) => match lookup(&n.text) {
            Some(ItemKind::Derived(d)) => out.push(Read::Metric {
                derived: d,
                span: here,
            }),
            Some(ItemKind::Composite(c)) if !stack.contains(&n.text) => {
                stack.push(n.text.clone());
                reads(&c.expr, lookup, Some(here), stack, out);
                stack.pop();
            }
            Some(ItemKind::Tag(t)) if !stack.contains(&n.text) => {
                stack.push(n.text.clone());
                reads(&t.expr, lookup, Some(here), stack, out);
                stack.pop();
            }
            _ => {}
        },
        ExprKind::Field(b, _) | ExprKind::Index(b, _) | ExprKind::Unary(_, b) => {
            reads(b, lookup, at, stack, out)
        }
        ExprKind::Binary(_, l, r) => {
            reads(l, lookup, at, stack, out);
            reads(r, lookup, at, stack, out);
        }
        ExprKind::In { expr, list, .. } => {
            reads(expr, lookup, at, stack, out);
            for x in list {
                reads(x, lookup, at, stack, out);
            }
        }
        ExprKind::Case { arms, otherwise } => {
            for a in arms {
                reads(&a.condition, lookup, at, stack, out);
                reads(&a.value, lookup, at, stack, out);
            }
            if let Some(o) = otherwise {
                reads(o, lookup, at, stack, out);
            }
        }
        ExprKind::Call(_, args) => {
            for a in args {
                match a {
                    Arg::Positional { value, .. } => reads(value, lookup, at, stack, out),
                    Arg::Named(n) => reads(&n.value, lookup, at, stack, out),
                }
            }
        }
        _ => {}
    }
}

/// The conditions through which `e` can hold: its parts joined by `and` and `or`,
/// but those under a `not`.
pub(crate) fn positive_conditions<'a>(e: &'a Expr, positive: bool, out: &mut Vec<&'a Expr>) {
    match &e.kind {
        ExprKind::Binary(BinaryOp::And | BinaryOp::Or, l, r) => {
            positive_conditions(l, positive, out);
            positive_conditions(r, positive, out);
        }
        ExprKind::Unary(UnaryOp::Not, x) => positive_conditions(x, !positive, out),
        _ if positive => out.push(e),
        _ => {}
    }
}

/// An RFM model: `ads/rfm_<model>/dt=D`, one row per entity with a recency, frequency
/// and monetary value: the values, their scores, H or L against the baseline, the
/// segment code and its label.
#[derive(Clone, Debug, Serialize, PartialEq)]
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

#[derive(Clone, Debug, Serialize, PartialEq)]
pub enum ScoreJob {
    /// Increasing thresholds: a frequency or monetary value scores 1 plus the number of
    /// thresholds it reaches (≥); a recency (days), 1 plus the number it does not exceed (≤).
    Thresholds(Vec<f64>),
    /// `N` quantiles: 1 to N, N for the most recent, most frequent, highest.
    Quantiles(u32),
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub enum BaselineJob {
    Mean,
    Median,
    Value(f64),
}

/// What an entity's assets compute.
pub struct EntityAssets {
    pub features: FeaturesJob,
    pub tags: Option<TagsJob>,
    pub aipl: Vec<AiplJob>,
    pub rfm: Vec<RfmJob>,
    pub near: Vec<NearJob>,
    pub audiences: Option<AudiencesJob>,
    pub compares: Vec<CompareJob>,
    pub exports: Vec<ExportJob>,
}

/// `export AUDIENCE to FORMAT("PATH") { … }`: the audience's members for the date, one
/// file at `OUT/<folder>/<stem>/dt=D/<file>` written with the run's partitions.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ExportJob {
    pub entity: String,
    pub audience: String,
    pub format: crate::lower::Format,
    /// The location as declared (`audiences/sofa_intent.csv`).
    pub path: String,
    pub header: bool,
    pub delimiter: u8,
    pub columns: Vec<ExportColumnJob>,
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
#[derive(Clone, Debug, Serialize, PartialEq)]
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
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct CompareJob {
    pub entity: String,
    pub audience: String,
    /// Another audience, or none for every entity (`all`).
    pub against: Option<String>,
    /// What the make-up is compared along, in the order written.
    pub by: Vec<CompareBy>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
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
#[derive(Clone, Debug, Serialize, PartialEq)]
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
#[derive(Clone, Debug, Serialize, PartialEq)]
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

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct NearUse {
    pub dimension: String,
    pub key: String,
    pub attributes: Vec<String>,
}

/// Features, tags and AIPL models per entity, in the order the entities' OneIDs are
/// declared.
pub fn lower_assets(items: &[&Item], sources: &[SourceJob]) -> Vec<EntityAssets> {
    let mut out = Vec::new();
    let entities: Vec<&str> = items
        .iter()
        .filter_map(|i| match &i.kind {
            ItemKind::OneId(o) => Some(o.header.name.text.as_str()),
            _ => None,
        })
        .collect();
    for entity in entities {
        let tags: Vec<&mj_lang::ast::Tag> = items
            .iter()
            .filter_map(|i| match &i.kind {
                ItemKind::Tag(t) if t.entity.text == entity => Some(t),
                _ => None,
            })
            .collect();
        let models: Vec<&mj_lang::ast::Aipl> = items
            .iter()
            .filter_map(|i| match &i.kind {
                ItemKind::Aipl(a) if a.entity.text == entity => Some(a),
                _ => None,
            })
            .collect();
        let rfms: Vec<&mj_lang::ast::Rfm> = items
            .iter()
            .filter_map(|i| match &i.kind {
                ItemKind::Rfm(r) if r.entity.text == entity => Some(r),
                _ => None,
            })
            .collect();
        if tags.is_empty() && models.is_empty() && rfms.is_empty() {
            continue;
        }
        let mut cx = Lowering {
            items,
            sources,
            entity,
            features: FeaturesJob {
                entity: entity.to_string(),
                metrics: None,
                tables: Vec::new(),
            },
            stack: Vec::new(),
            models: Vec::new(),
            segments: Vec::new(),
            near: Vec::new(),
            touches: Vec::new(),
        };
        let mut jobs = Vec::new();
        for t in &tags {
            let expr = cx.rewrite(&t.expr);
            jobs.push(TagJob {
                name: t.header.name.text.clone(),
                values: t.values.iter().map(|v| v.value.clone()).collect(),
                expr,
            });
        }
        let mut aipl = Vec::new();
        for m in &models {
            let mut arms = Vec::new();
            for stage in ["L", "P", "I", "A"] {
                if let Some(s) = m.stages.iter().find(|s| s.name.text == stage) {
                    arms.push(mj_lang::ast::CaseArm {
                        condition: cx.rewrite(&s.expr),
                        value: Expr {
                            kind: ExprKind::Str(stage.to_string()),
                            span: s.name.span,
                        },
                        span: s.span,
                    });
                }
            }
            let mut breakdowns = Vec::new();
            let mut touches = Vec::new();
            for (k, by) in m.by.iter().enumerate() {
                let mut stages = Vec::new();
                for stage in ["L", "P", "I", "A"] {
                    let Some(s) = m.stages.iter().find(|s| s.name.text == stage) else {
                        continue;
                    };
                    cx.touches.clear();
                    stages.push((stage.to_string(), cx.qualifiers(m, &by.text, &s.expr)));
                    // The rows behind awareness and interest are the touches whose
                    // channels make the paths that contribution credits.
                    if k == 0 && matches!(stage, "A" | "I") {
                        for t in cx.touches.drain(..) {
                            if !touches.iter().any(|x: &TouchRows| {
                                x.table.node == t.table.node && same(&x.rows, &t.rows)
                            }) {
                                touches.push(t);
                            }
                        }
                    }
                }
                breakdowns.push(BreakdownJob {
                    name: by.text.clone(),
                    stages,
                });
            }
            aipl.push(AiplJob {
                entity: entity.to_string(),
                name: m.header.name.text.clone(),
                rule: Expr {
                    kind: ExprKind::Case {
                        arms,
                        otherwise: None,
                    },
                    span: m.header.name.span,
                },
                breakdowns,
                touches,
            });
        }
        let mut rfm = Vec::new();
        for r in &rfms {
            use mj_lang::ast::{RfmKind, Score};
            let measure = |k: RfmKind| r.measures.iter().find(|m| m.kind == k);
            let (Some(rec), Some(freq), Some(mon)) = (
                measure(RfmKind::Recency),
                measure(RfmKind::Frequency),
                measure(RfmKind::Monetary),
            ) else {
                continue;
            };
            let score = |s: &Score| match s {
                Score::Thresholds(t, _) => {
                    ScoreJob::Thresholds(t.iter().filter_map(|x| x.parse().ok()).collect())
                }
                Score::Quantiles(n, _) => ScoreJob::Quantiles(*n),
            };
            let baseline = match &r.baseline {
                Some(mj_lang::ast::Baseline::Named(n)) if n.text == "median" => BaselineJob::Median,
                Some(mj_lang::ast::Baseline::Value(v, _)) => {
                    BaselineJob::Value(v.parse().unwrap_or(0.0))
                }
                _ => BaselineJob::Mean,
            };
            let segments = if r.segments.is_empty() {
                crate::check::DEFAULT_SEGMENTS
                    .iter()
                    .map(|(c, l)| (c.to_string(), l.to_string()))
                    .collect()
            } else {
                r.segments
                    .iter()
                    .map(|s| (s.code.text.clone(), s.label.value.clone()))
                    .collect()
            };
            rfm.push(RfmJob {
                entity: entity.to_string(),
                name: r.header.name.text.clone(),
                recency: cx.rewrite(&rec.expr),
                frequency: cx.rewrite(&freq.expr),
                monetary: cx.rewrite(&mon.expr),
                scores: [score(&rec.score), score(&freq.score), score(&mon.score)],
                baseline,
                segments,
            });
        }
        let audience_items: Vec<&mj_lang::ast::Audience> = items
            .iter()
            .filter_map(|i| match &i.kind {
                ItemKind::Audience(a) if a.entity.text == entity => Some(a),
                _ => None,
            })
            .collect();
        let mut audiences = Vec::new();
        let mut explain = Vec::new();
        for a in &audience_items {
            audiences.push((a.header.name.text.clone(), cx.rewrite(&a.expr)));
            let mut parts = Vec::new();
            conjuncts(&a.expr, &mut parts);
            let mut steps = Vec::new();
            let mut so_far: Option<Expr> = None;
            for part in parts {
                let joined = match so_far.take() {
                    None => part.clone(),
                    Some(prev) => Expr {
                        span: part.span,
                        kind: ExprKind::Binary(
                            BinaryOp::And,
                            Box::new(prev),
                            Box::new(part.clone()),
                        ),
                    },
                };
                steps.push((mj_lang::format::expr_text(part), cx.rewrite(&joined)));
                so_far = Some(joined);
            }
            explain.push((a.header.name.text.clone(), steps));
        }
        let mut routes = Vec::new();
        for i in items {
            let ItemKind::Route(r) = &i.kind else {
                continue;
            };
            if !audience_items
                .iter()
                .any(|a| a.header.name.text == r.audience.text)
            {
                continue;
            }
            let text = |id: &Ident| Expr {
                kind: ExprKind::Str(id.text.clone()),
                span: id.span,
            };
            let arms = r
                .arms
                .iter()
                .map(|arm| mj_lang::ast::CaseArm {
                    condition: cx.rewrite(&arm.condition),
                    value: text(&arm.channel),
                    span: arm.span,
                })
                .collect();
            routes.push((
                r.audience.text.clone(),
                Expr {
                    kind: ExprKind::Case {
                        arms,
                        otherwise: r.otherwise.as_ref().map(|o| Box::new(text(o))),
                    },
                    span: r.audience.span,
                },
            ));
        }
        let mut exports = Vec::new();
        let mut values = Vec::new();
        for i in items {
            let ItemKind::Export(x) = &i.kind else {
                continue;
            };
            if !audience_items
                .iter()
                .any(|a| a.header.name.text == x.audience.text)
            {
                continue;
            }
            let mut columns = Vec::new();
            for (k, c) in x.columns.iter().enumerate() {
                let (inner, hash, salt) = hashed(&c.expr);
                let name = match (&c.alias, &c.expr.kind) {
                    (Some(a), _) => a.text.clone(),
                    (None, ExprKind::Name(n)) => n.text.clone(),
                    _ => format!("column_{}", k + 1),
                };
                if matches!(&inner.kind, ExprKind::Name(n) if n.text == "oneid") {
                    columns.push(ExportColumnJob {
                        name,
                        column: None,
                        normalize: None,
                        hash,
                        salt,
                    });
                    continue;
                }
                let (value, normalize) = match cx.identifier_value(inner) {
                    Some((e, n)) => (e, n),
                    None => (cx.rewrite(inner), None),
                };
                let column = format!("export_{}_{}", x.audience.text, k + 1);
                values.push((x.audience.text.clone(), column.clone(), value));
                columns.push(ExportColumnJob {
                    name,
                    column: Some(column),
                    normalize,
                    hash,
                    salt,
                });
            }
            let src = crate::lower::location_job(&x.location);
            exports.push(ExportJob {
                entity: entity.to_string(),
                audience: x.audience.text.clone(),
                format: src.0,
                path: x.location.path.value.clone(),
                header: src.1,
                delimiter: src.2,
                columns,
            });
        }
        let near: Vec<NearJob> = cx
            .near
            .iter()
            .map(|u| u.dimension.clone())
            .collect::<Vec<_>>()
            .iter()
            .filter_map(|d| cx.near_job(d))
            .collect();
        let activation = (!audiences.is_empty()).then(|| AudiencesJob {
            entity: entity.to_string(),
            aipl: cx.models.clone(),
            rfm: cx.segments.clone(),
            near: cx.near.clone(),
            audiences,
            routes,
            values,
            explain,
        });
        let mut compares = Vec::new();
        for i in items {
            let ItemKind::Compare(c) = &i.kind else {
                continue;
            };
            if !audience_items
                .iter()
                .any(|a| a.header.name.text == c.audience.text)
            {
                continue;
            }
            let by =
                c.by.iter()
                    .filter_map(|b| match cx.item(&b.text) {
                        Some(ItemKind::Tag(_)) => Some(CompareBy::Tag(b.text.clone())),
                        Some(ItemKind::Aipl(_)) => Some(CompareBy::Aipl(b.text.clone())),
                        Some(ItemKind::Rfm(_)) => Some(CompareBy::Rfm(b.text.clone())),
                        _ => None,
                    })
                    .collect();
            compares.push(CompareJob {
                entity: entity.to_string(),
                audience: c.audience.text.clone(),
                against: (c.against.text != "all").then(|| c.against.text.clone()),
                by,
            });
        }
        out.push(EntityAssets {
            exports,
            compares,
            rfm,
            features: cx.features,
            tags: (!jobs.is_empty()).then(|| TagsJob {
                entity: entity.to_string(),
                tags: jobs,
            }),
            aipl,
            near,
            audiences: activation,
        });
    }
    out
}

struct Lowering<'a> {
    items: &'a [&'a Item],
    sources: &'a [SourceJob],
    entity: &'a str,
    features: FeaturesJob,
    /// Tags being inlined, against cycles (reported by the checker).
    stack: Vec<String>,
    /// AIPL and RFM models whose stage or segment an expression reads.
    models: Vec<String>,
    segments: Vec<String>,
    /// Dimensions whose nearest row an expression reads.
    near: Vec<NearUse>,
    /// The row sets `qualifying_rows` read last (a stage's touches).
    touches: Vec<TouchRows>,
}

impl Lowering<'_> {
    fn item(&self, name: &str) -> Option<&ItemKind> {
        self.items
            .iter()
            .map(|i| &i.kind)
            .find(|k| item_name(k) == Some(name))
    }

    /// The expression over the features table's columns.
    fn rewrite(&mut self, e: &Expr) -> Expr {
        let span = e.span;
        let name = |text: String| Expr {
            kind: ExprKind::Name(Ident { text, span }),
            span,
        };
        let kind = match &e.kind {
            // `distance(nearest(store))`: the nearest row's distance in km.
            ExprKind::Call(f, args) if f.text == "distance" => match near_of(args) {
                Some(d) => {
                    self.nearest(&d, None);
                    return name(format!("__near_{d}_km"));
                }
                None => e.kind.clone(),
            },
            // `nearest(store).city`: an attribute of the nearest row.
            ExprKind::Field(base, attr) if matches!(&base.kind, ExprKind::Call(f, _) if f.text == "nearest") =>
            {
                let ExprKind::Call(_, args) = &base.kind else {
                    unreachable!("matched above")
                };
                match args.first() {
                    Some(Arg::Positional { value, .. }) => match &value.kind {
                        ExprKind::Name(d) => {
                            let column = self.nearest(&d.text, Some(&attr.text));
                            return name(column);
                        }
                        _ => e.kind.clone(),
                    },
                    _ => e.kind.clone(),
                }
            }
            // `brand.P`: the model's stage is P.
            ExprKind::Field(base, stage) if self.model_column(base).is_some() => {
                let column = self.model_column(base).unwrap_or_default();
                ExprKind::Binary(
                    BinaryOp::Eq,
                    Box::new(name(column)),
                    Box::new(Expr {
                        kind: ExprKind::Str(stage.text.clone()),
                        span: stage.span,
                    }),
                )
            }
            // `brand == I`, `value in (HHH, LHH)`: stage and segment names as text.
            ExprKind::Binary(op, l, r)
                if self.model_column(l).is_some() || self.model_column(r).is_some() =>
            {
                ExprKind::Binary(*op, Box::new(self.label(l)), Box::new(self.label(r)))
            }
            ExprKind::In {
                expr,
                list,
                negated,
            } if self.model_column(expr).is_some() => ExprKind::In {
                expr: Box::new(self.rewrite(expr)),
                list: list.iter().map(|x| self.label(x)).collect(),
                negated: *negated,
            },
            ExprKind::Name(n) if self.model_column(e).is_some() => {
                let _ = n;
                return name(self.model_column(e).unwrap_or_default());
            }
            ExprKind::Name(n)
                if matches!(self.item(&n.text), Some(ItemKind::Audience(_)))
                    && !self.stack.contains(&n.text) =>
            {
                let Some(ItemKind::Audience(a)) = self.item(&n.text).cloned() else {
                    unreachable!("matched above")
                };
                self.stack.push(n.text.clone());
                let inlined = self.rewrite(&a.expr);
                self.stack.pop();
                return inlined;
            }
            ExprKind::Quantity(q) if kilometres(q).is_some() => {
                ExprKind::Number(kilometres(q).unwrap_or_default())
            }
            ExprKind::Call(f, args) if self.is_aggregate(&f.text) => {
                match self.feature(&f.text, args) {
                    Some(column) => ExprKind::Name(Ident {
                        text: column,
                        span: f.span,
                    }),
                    None => e.kind.clone(),
                }
            }
            ExprKind::Name(n) => match self.item(&n.text) {
                Some(ItemKind::Tag(t)) if !self.stack.contains(&n.text) => {
                    let t = t.clone();
                    self.stack.push(n.text.clone());
                    let inlined = self.rewrite(&t.expr);
                    self.stack.pop();
                    return inlined;
                }
                Some(ItemKind::Derived(_) | ItemKind::Composite(_)) => {
                    self.metric(&n.text);
                    e.kind.clone()
                }
                _ => e.kind.clone(),
            },
            ExprKind::Call(f, args) => ExprKind::Call(
                f.clone(),
                args.iter()
                    .map(|a| match a {
                        Arg::Positional { value, filter } => Arg::Positional {
                            value: self.rewrite(value),
                            filter: filter.clone(),
                        },
                        Arg::Named(n) => {
                            let mut n = n.clone();
                            n.value = self.rewrite(&n.value);
                            Arg::Named(n)
                        }
                    })
                    .collect(),
            ),
            ExprKind::Unary(op, x) => ExprKind::Unary(*op, Box::new(self.rewrite(x))),
            ExprKind::Binary(op, l, r) => {
                ExprKind::Binary(*op, Box::new(self.rewrite(l)), Box::new(self.rewrite(r)))
            }
            ExprKind::In {
                expr,
                list,
                negated,
            } => ExprKind::In {
                expr: Box::new(self.rewrite(expr)),
                list: list.iter().map(|x| self.rewrite(x)).collect(),
                negated: *negated,
            },
            ExprKind::Case { arms, otherwise } => ExprKind::Case {
                arms: arms
                    .iter()
                    .map(|a| mj_lang::ast::CaseArm {
                        condition: self.rewrite(&a.condition),
                        value: self.rewrite(&a.value),
                        span: a.span,
                    })
                    .collect(),
                otherwise: otherwise.as_ref().map(|o| Box::new(self.rewrite(o))),
            },
            _ => e.kind.clone(),
        };
        Expr { kind, span }
    }

    /// An identifier of the entity's OneID named in an export (`phone`): its value,
    /// that of the entity's most recent record with one in the first linked source that
    /// has one, and the identifier's normalizer.
    fn identifier_value(&mut self, e: &Expr) -> Option<(Expr, Option<String>)> {
        let ExprKind::Name(n) = &e.kind else {
            return None;
        };
        let oneid = self.items.iter().find_map(|i| match &i.kind {
            ItemKind::OneId(o) if o.header.name.text == self.entity => Some(o),
            _ => None,
        })?;
        let id = oneid.identifiers.iter().find(|i| i.name.text == n.text)?;
        let normalize = id.normalize.as_ref().map(|x| x.text.clone());
        let mut parts: Vec<Expr> = Vec::new();
        for link in &oneid.links {
            for f in link.fields.iter().filter(|f| f.identifier.text == n.text) {
                let [column] = f.parts() else { continue };
                let call = Expr {
                    kind: ExprKind::Call(
                        Ident {
                            text: "latest".to_string(),
                            span: e.span,
                        },
                        vec![Arg::Positional {
                            value: Expr {
                                kind: ExprKind::Field(
                                    Box::new(Expr {
                                        kind: ExprKind::Name(link.source.clone()),
                                        span: e.span,
                                    }),
                                    column.clone(),
                                ),
                                span: e.span,
                            },
                            filter: None,
                        }],
                    ),
                    span: e.span,
                };
                parts.push(call);
            }
        }
        let value = parts.into_iter().rev().reduce(|acc, x| Expr {
            span: e.span,
            kind: ExprKind::Binary(BinaryOp::Coalesce, Box::new(x), Box::new(acc)),
        })?;
        Some((self.rewrite(&value), normalize))
    }

    /// The column of an AIPL model's stage or an RFM model's segment that `e` names.
    fn model_column(&mut self, e: &Expr) -> Option<String> {
        let ExprKind::Name(n) = &e.kind else {
            return None;
        };
        match self.item(&n.text)? {
            ItemKind::Aipl(_) => {
                if !self.models.contains(&n.text) {
                    self.models.push(n.text.clone());
                }
                Some(format!("__aipl_{}", n.text))
            }
            ItemKind::Rfm(_) => {
                if !self.segments.contains(&n.text) {
                    self.segments.push(n.text.clone());
                }
                Some(format!("__rfm_{}", n.text))
            }
            _ => None,
        }
    }

    /// A side of a comparison with a model: a stage or segment name as text.
    fn label(&mut self, e: &Expr) -> Expr {
        match &e.kind {
            ExprKind::Name(n) if self.item(&n.text).is_none() => Expr {
                kind: ExprKind::Str(n.text.clone()),
                span: e.span,
            },
            _ => self.rewrite(e),
        }
    }

    /// Notes that the nearest row of `dimension` is read (and `attribute` of it): the
    /// column that holds it.
    fn nearest(&mut self, dimension: &str, attribute: Option<&str>) -> String {
        let key = match self.item(dimension) {
            Some(ItemKind::Dimension(d)) => d.key.as_ref().map(|k| k.text.clone()),
            _ => None,
        }
        .unwrap_or_default();
        let entry = match self.near.iter().position(|u| u.dimension == dimension) {
            Some(i) => i,
            None => {
                self.near.push(NearUse {
                    dimension: dimension.to_string(),
                    key: key.clone(),
                    attributes: Vec::new(),
                });
                self.near.len() - 1
            }
        };
        match attribute {
            None => format!("__near_{dimension}_km"),
            Some(a) if a == key => format!("__near_{dimension}"),
            Some(a) => {
                let u = &mut self.near[entry];
                if !u.attributes.iter().any(|x| x == a) {
                    u.attributes.push(a.to_string());
                }
                format!("__near_{dimension}_{a}")
            }
        }
    }

    /// The features that locate an entity for `dimension`, and the job that finds its
    /// nearest row.
    fn near_job(&mut self, dimension: &str) -> Option<NearJob> {
        let Some(ItemKind::Dimension(d)) = self.item(dimension).cloned() else {
            return None;
        };
        let key = d.key.as_ref()?.text.clone();
        let has_city = d.attributes.iter().any(|a| a.text == "city");
        let at = d.header.name.span;
        let column = |text: &str| Expr {
            kind: ExprKind::Name(Ident {
                text: text.to_string(),
                span: at,
            }),
            span: at,
        };
        let links: Vec<String> = self
            .items
            .iter()
            .find_map(|i| match &i.kind {
                ItemKind::OneId(o) if o.header.name.text == self.entity => {
                    Some(o.links.iter().map(|l| l.source.text.clone()).collect())
                }
                _ => None,
            })
            .unwrap_or_default();
        let agg = |func: &str, arg: Expr, present: Vec<Expr>| FeatureAgg {
            column: String::new(),
            func: func.to_string(),
            arg: Some(arg),
            filter: None,
            window_days: None,
            period: None,
            present,
        };
        let mut job = NearJob {
            entity: self.entity.to_string(),
            dimension: dimension.to_string(),
            key,
            has_city,
            points: Vec::new(),
            visits: Vec::new(),
            cities: Vec::new(),
        };
        for source in &links {
            let Some(spec) = self.table(source) else {
                continue;
            };
            let columns: Vec<(String, ColType)> = self
                .sources
                .iter()
                .find(|s| &s.name == source)
                .map(|s| s.columns.iter().map(|c| (c.name.clone(), c.ty)).collect())
                .unwrap_or_default();
            let number = |name: &str| {
                columns.iter().any(|(c, ty)| {
                    c == name && matches!(ty, ColType::Float | ColType::Double | ColType::Int)
                })
            };
            if number("lat") && number("lon") {
                let both = vec![column("lat"), column("lon")];
                let lat = self.push_feature(
                    spec.clone(),
                    source,
                    agg("latest", column("lat"), both.clone()),
                );
                let lon = self.push_feature(
                    spec.clone(),
                    source,
                    agg("latest", column("lon"), both.clone()),
                );
                let time = spec.time.clone().map(|(t, _)| {
                    self.push_feature(spec.clone(), source, agg("max", column(&t), both.clone()))
                });
                job.points.push((source.clone(), lat, lon, time));
            }
            if has_city && columns.iter().any(|(c, _)| c == "city") {
                let city = self.push_feature(
                    spec.clone(),
                    source,
                    agg("latest", column("city"), Vec::new()),
                );
                job.cities.push(city);
            }
        }
        let facts: Vec<String> = self
            .items
            .iter()
            .filter_map(|i| match &i.kind {
                ItemKind::Fact(f)
                    if f.entity.as_ref().is_some_and(|e| e.text == self.entity)
                        && f.dims.iter().any(|b| b.name.text == dimension) =>
                {
                    Some(f.header.name.text.clone())
                }
                _ => None,
            })
            .collect();
        for fact in facts {
            let Some(spec) = self.table(&fact) else {
                continue;
            };
            let visit = self.push_feature(
                spec.clone(),
                &fact,
                agg("latest", column(dimension), Vec::new()),
            );
            let time = spec.time.clone().map(|(t, _)| {
                self.push_feature(
                    spec.clone(),
                    &fact,
                    agg("max", column(&t), vec![column(dimension)]),
                )
            });
            job.visits.push((fact.clone(), visit, time));
        }
        Some(job)
    }

    fn is_aggregate(&self, name: &str) -> bool {
        matches!(
            self.item(name),
            Some(ItemKind::Function(f)) if f.flags.iter().any(|x| x.text == "aggregate")
        )
    }

    /// Notes a metric per the entity: a column of `dws_<entity>`.
    fn metric(&mut self, name: &str) {
        let table = format!("dws_{}", self.entity);
        let (_, names) = self
            .features
            .metrics
            .get_or_insert_with(|| (table, Vec::new()));
        if !names.iter().any(|n| n == name) {
            names.push(name.to_string());
        }
    }

    /// The feature column of an aggregate call, added to its table's aggregates.
    fn feature(&mut self, func: &str, args: &[Arg]) -> Option<String> {
        let (table, arg, filter, window_days) = aggregate_parts(args)?;
        let spec = self.table(&table)?;
        let agg = FeatureAgg {
            column: String::new(),
            func: func.to_string(),
            arg,
            filter,
            window_days,
            period: None,
            present: Vec::new(),
        };
        Some(self.push_feature(spec, &table, agg))
    }

    /// Adds an aggregate to its table's, or finds the same one there: its column.
    fn push_feature(&mut self, spec: FeatureTable, table: &str, agg: FeatureAgg) -> String {
        let index = match self
            .features
            .tables
            .iter()
            .position(|t| t.node == spec.node)
        {
            Some(i) => i,
            None => {
                self.features.tables.push(spec);
                self.features.tables.len() - 1
            }
        };
        let t = &mut self.features.tables[index];
        // The same aggregate written twice is one column.
        if let Some(existing) = t.aggregates.iter().find(|a| same(a, &agg)) {
            return existing.column.clone();
        }
        let func = &agg.func;
        let base = match &agg.arg {
            Some(Expr {
                kind: ExprKind::Name(c),
                ..
            }) => format!("{func}_{table}_{}", c.text),
            _ => format!("{func}_{table}"),
        };
        let taken = |name: &str, tables: &[FeatureTable]| {
            tables
                .iter()
                .flat_map(|t| &t.aggregates)
                .any(|a| a.column == name)
        };
        let mut column = base.clone();
        let mut n = 2;
        while taken(&column, &self.features.tables) {
            column = format!("{base}_{n}");
            n += 1;
        }
        let agg = FeatureAgg {
            column: column.clone(),
            ..agg
        };
        self.features.tables[index].aggregates.push(agg);
        column
    }

    /// What can qualify a stage of `model` for its breakdown `by`: per condition
    /// through which the stage can hold, the rows it reads, each as the time of the
    /// most recent row and that row's value of `by`.
    fn qualifiers(&mut self, model: &mj_lang::ast::Aipl, by: &str, stage: &Expr) -> Vec<Qualifier> {
        let items = self.items;
        let lookup = move |name: &str| {
            items
                .iter()
                .map(|i| &i.kind)
                .find(|k| item_name(k) == Some(name))
        };
        let mut conditions = Vec::new();
        positive_conditions(stage, true, &mut conditions);
        let mut out = Vec::new();
        for c in conditions {
            let condition = self.rewrite(c);
            let mut read = Vec::new();
            reads(c, &lookup, None, &mut Vec::new(), &mut read);
            for r in read {
                if let Some((time, value)) = self.qualifying_rows(model, by, &r) {
                    out.push(Qualifier {
                        condition: condition.clone(),
                        time,
                        value,
                    });
                }
            }
        }
        out
    }

    /// The features of one read's rows: the time of the most recent row and its value
    /// of `by` (a column of that name, or the model's `by of TABLE = …`).
    fn qualifying_rows(
        &mut self,
        model: &mj_lang::ast::Aipl,
        by: &str,
        read: &Read<'_>,
    ) -> Option<(Option<String>, String)> {
        let (table, value_of_row, filter, window_days, period) = match read {
            Read::Aggregate { func, args, .. } => {
                let (table, arg, filter, window_days) = aggregate_parts(args)?;
                let counted = (!matches!(*func, "exists" | "count")).then_some(arg);
                (table, counted.flatten(), filter, window_days, None)
            }
            Read::Metric { derived, .. } => {
                let (fact, metric) = crate::lower::metric_job(self.items, derived)?;
                let counted = (metric.aggregate != mj_ir::Aggregate::Count)
                    .then_some(metric.arg)
                    .flatten();
                let filter = metric.filters.into_iter().reduce(|l, r| Expr {
                    span: l.span,
                    kind: ExprKind::Binary(BinaryOp::And, Box::new(l), Box::new(r)),
                });
                (fact, counted, filter, None, Some(metric.period))
            }
        };
        let spec = self.table(&table)?;
        let value = model
            .breakdowns
            .iter()
            .find(|b| b.by.text == by && b.table.text == table)
            .map(|b| b.expr.clone())
            .unwrap_or_else(|| Expr {
                kind: ExprKind::Name(Ident {
                    text: by.to_string(),
                    span: model.header.name.span,
                }),
                span: model.header.name.span,
            });
        let mut present = vec![value.clone()];
        present.extend(value_of_row);
        let time = spec.time.clone();
        let time_column = match time {
            Some((t, _)) => {
                let agg = FeatureAgg {
                    column: String::new(),
                    func: "max".to_string(),
                    arg: Some(Expr {
                        kind: ExprKind::Name(Ident {
                            text: t,
                            span: model.header.name.span,
                        }),
                        span: model.header.name.span,
                    }),
                    filter: filter.clone(),
                    window_days,
                    period: period.clone(),
                    present: present.clone(),
                };
                Some(self.push_feature(spec.clone(), &table, agg))
            }
            None => None,
        };
        let agg = FeatureAgg {
            column: String::new(),
            func: "latest".to_string(),
            arg: Some(value),
            filter,
            window_days,
            period,
            present,
        };
        let touch = TouchRows {
            table: spec.clone(),
            rows: FeatureAgg {
                column: String::new(),
                ..agg.clone()
            },
        };
        if !self
            .touches
            .iter()
            .any(|t| t.table.node == touch.table.node && same(&t.rows, &touch.rows))
        {
            self.touches.push(touch);
        }
        let value_column = self.push_feature(spec, &table, agg);
        Some((time_column, value_column))
    }

    /// How the rows of a fact or source reach the entity.
    fn table(&self, name: &str) -> Option<FeatureTable> {
        match self.item(name)? {
            ItemKind::Fact(f) => {
                let source = self.sources.iter().find(|s| s.name == f.source.text)?;
                let time = f.time.as_ref().map(|t| {
                    let is_date = source
                        .columns
                        .iter()
                        .any(|c| c.name == t.text && c.ty == ColType::Date);
                    (t.text.clone(), is_date)
                });
                Some(FeatureTable {
                    node: mj_ir::Table::new("dwd", name),
                    entity_column: f.entity.as_ref().map(|e| e.text.clone()),
                    // Ties in time are decided by the grain's first column.
                    key: f.grain.first().map(|g| g.text.clone()),
                    source: f.source.text.clone(),
                    time,
                    aggregates: Vec::new(),
                })
            }
            ItemKind::Source(_) => {
                let source = self.sources.iter().find(|s| s.name == name)?;
                let first = |ty: ColType| source.columns.iter().find(|c| c.ty == ty);
                let time = first(ColType::Timestamp)
                    .map(|c| (c.name.clone(), false))
                    .or_else(|| first(ColType::Date).map(|c| (c.name.clone(), true)));
                Some(FeatureTable {
                    node: mj_ir::Table::new("ods", name),
                    entity_column: None,
                    key: source.key.clone(),
                    source: name.to_string(),
                    time,
                    aggregates: Vec::new(),
                })
            }
            _ => None,
        }
    }
}

fn same(a: &FeatureAgg, b: &FeatureAgg) -> bool {
    let text = |e: &Option<Expr>| e.as_ref().map(mj_lang::format::expr_text);
    let texts = |es: &[Expr]| {
        es.iter()
            .map(mj_lang::format::expr_text)
            .collect::<Vec<_>>()
    };
    a.func == b.func
        && text(&a.arg) == text(&b.arg)
        && text(&a.filter) == text(&b.filter)
        && a.window_days == b.window_days
        && a.period == b.period
        && texts(&a.present) == texts(&b.present)
}

/// An aggregate call's table, value (a column of it), `where` and `window`.
#[allow(clippy::type_complexity)]
fn aggregate_parts(args: &[Arg]) -> Option<(String, Option<Expr>, Option<Expr>, Option<i64>)> {
    let mut value = None;
    let mut filter = None;
    let mut window_days = None;
    for a in args {
        match a {
            Arg::Positional {
                value: v,
                filter: f,
            } if value.is_none() => {
                value = Some(v);
                filter = f.clone();
            }
            Arg::Named(n) if n.name.text == "window" => window_days = days(&n.value),
            _ => {}
        }
    }
    let (table, arg) = match &value?.kind {
        ExprKind::Field(base, column) => match &base.kind {
            ExprKind::Name(t) => (
                t.text.clone(),
                Some(Expr {
                    kind: ExprKind::Name(column.clone()),
                    span: column.span,
                }),
            ),
            _ => return None,
        },
        ExprKind::Name(t) => (t.text.clone(), None),
        _ => return None,
    };
    Some((table, arg, filter, window_days))
}

/// The conditions joined by `and` at the top of `e`, in order.
fn conjuncts<'a>(e: &'a Expr, out: &mut Vec<&'a Expr>) {
    match &e.kind {
        ExprKind::Binary(BinaryOp::And, l, r) => {
            conjuncts(l, out);
            conjuncts(r, out);
        }
        _ => out.push(e),
    }
}

/// An exported expression without its `sha256(…)`, `md5(…)` or `plain(…)`: the value,
/// the hash and its salt.
fn hashed(e: &Expr) -> (&Expr, Option<String>, Option<String>) {
    let ExprKind::Call(f, args) = &e.kind else {
        return (e, None, None);
    };
    if !matches!(f.text.as_str(), "sha256" | "md5" | "plain") {
        return (e, None, None);
    }
    let Some(Arg::Positional { value, .. }) = args.first() else {
        return (e, None, None);
    };
    let salt = args.iter().find_map(|a| match a {
        Arg::Named(n) if n.name.text == "salt" => match &n.value.kind {
            ExprKind::Str(s) => Some(s.clone()),
            _ => None,
        },
        _ => None,
    });
    let hash = (f.text != "plain").then(|| f.text.clone());
    (value, hash, salt)
}

/// `nearest(D)` as the argument of `distance`: the dimension D.
fn near_of(args: &[Arg]) -> Option<String> {
    let Some(Arg::Positional { value, .. }) = args.first() else {
        return None;
    };
    let ExprKind::Call(f, inner) = &value.kind else {
        return None;
    };
    if f.text != "nearest" {
        return None;
    }
    match inner.first() {
        Some(Arg::Positional { value, .. }) => match &value.kind {
            ExprKind::Name(d) => Some(d.text.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// A distance as kilometres: `3km` → 3, `500m` → 0.5.
fn kilometres(q: &mj_lang::ast::Quantity) -> Option<String> {
    let n: f64 = q.value.parse().ok()?;
    let km = match q.unit {
        QuantityUnit::Kilometres => n,
        QuantityUnit::Metres => n / 1000.0,
        _ => return None,
    };
    Some(format!("{}", if q.negative { -km } else { km }))
}

/// A window as days: `15d`, `2w`.
fn days(e: &Expr) -> Option<i64> {
    let ExprKind::Quantity(q) = &e.kind else {
        return None;
    };
    let n: f64 = q.value.parse().ok()?;
    let per = match q.unit {
        QuantityUnit::Days => 1.0,
        QuantityUnit::Weeks => 7.0,
        _ => return None,
    };
    Some((n * per).ceil() as i64)
}

fn item_name(k: &ItemKind) -> Option<&str> {
    Some(match k {
        ItemKind::Tag(t) => &t.header.name.text,
        ItemKind::Derived(d) => &d.header.name.text,
        ItemKind::Composite(c) => &c.header.name.text,
        ItemKind::Fact(f) => &f.header.name.text,
        ItemKind::Source(s) => &s.header.name.text,
        ItemKind::Function(f) => &f.header.name.text,
        ItemKind::Aipl(a) => &a.header.name.text,
        ItemKind::Rfm(r) => &r.header.name.text,
        ItemKind::Audience(a) => &a.header.name.text,
        ItemKind::Dimension(d) => &d.header.name.text,
        ItemKind::OneId(o) => &o.header.name.text,
        _ => return None,
    })
}
