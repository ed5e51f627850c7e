//! An entity's assets lowered: its features, tags, AIPL and RFM models, nearest rows,
//! audiences, comparisons and exports.

use super::*;

/// Features, tags and AIPL models per entity, in the order the entities' OneIDs are
/// declared.
pub fn lower_assets(model: &crate::model::Model, sources: &[SourceJob]) -> Vec<EntityAssets> {
    let items = model.items();
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
            model,
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
            let expr = cx.lower(&t.expr);
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
                rule: crate::to_ir::expr(&Expr {
                    kind: ExprKind::Case {
                        arms,
                        otherwise: None,
                    },
                    span: m.header.name.span,
                }),
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
                super::DEFAULT_SEGMENTS
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
                recency: cx.lower(&rec.expr),
                frequency: cx.lower(&freq.expr),
                monetary: cx.lower(&mon.expr),
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
            audiences.push((a.header.name.text.clone(), cx.lower(&a.expr)));
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
                steps.push((mj_lang::format::expr_text(part), cx.lower(&joined)));
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
                crate::to_ir::expr(&Expr {
                    kind: ExprKind::Case {
                        arms,
                        otherwise: r.otherwise.as_ref().map(|o| Box::new(text(o))),
                    },
                    span: r.audience.span,
                }),
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
                    Some((e, n)) => (crate::to_ir::expr(&e), n),
                    None => (cx.lower(inner), None),
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
            let src = crate::sources::location_job(&x.location);
            exports.push(ExportJob {
                entity: entity.to_string(),
                audience: x.audience.text.clone(),
                format: src.0,
                path: x.location.path.value.clone(),
                header: src.1,
                delimiter: src.2,
                columns,
                url_env: crate::sources::database_options(&x.location).0,
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
