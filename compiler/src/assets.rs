//! Lowering of consumer assets (the ADS layer): per-entity features and tags.
//!
//! Every aggregate an asset uses over a table's rows (`latest(crm_member.gender)`,
//! `top(app_event.style where event == "view", window = 90d)`, `exists(media_touch …)`,
//! `max(pay_order.paid_at)`) becomes a column of one features table per entity,
//! `ads/<entity>_features`: one row per OneID, the aggregates of each table computed in
//! one pass over it, and the entity's derived metrics (`dws_<entity>`) beside them. Tags
//! (and, later, AIPL stages, RFM scores and audiences) are then row expressions over
//! that one table — decision lists the runtime compiles to native kernels.

use mj_lang::ast::{Arg, Expr, ExprKind, Ident, Item, ItemKind, QuantityUnit};
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
    pub node: String,
    /// The column holding the entity (facts), or none: the rows reach the entity through
    /// the OneID mapping, joined on the source's key.
    pub entity_column: Option<String>,
    /// The source's key (`record_id` in the OneID mapping), for sources.
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
        out.push(EntityAssets {
            rfm,
            features: cx.features,
            tags: (!jobs.is_empty()).then(|| TagsJob {
                entity: entity.to_string(),
                tags: jobs,
            }),
            aipl,
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
        let kind = match &e.kind {
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
        let spec = self.table(&table)?;
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
        let agg = FeatureAgg {
            column: String::new(),
            func: func.to_string(),
            arg,
            filter,
            window_days,
        };
        // The same aggregate written twice is one column.
        if let Some(existing) = t.aggregates.iter().find(|a| same(a, &agg)) {
            return Some(existing.column.clone());
        }
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
        Some(column)
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
                    node: format!("dwd.{name}"),
                    entity_column: f.entity.as_ref().map(|e| e.text.clone()),
                    key: None,
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
                    node: format!("ods.{name}"),
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
    a.func == b.func
        && text(&a.arg) == text(&b.arg)
        && text(&a.filter) == text(&b.filter)
        && a.window_days == b.window_days
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
        _ => return None,
    })
}
