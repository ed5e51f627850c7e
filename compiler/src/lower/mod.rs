//! Lowering: a checked project becomes a job graph, one node per table to build,
//! each with the nodes it depends on. The runtime executes the graph; later stages
//! (facts, metrics, tags, AIPL…) add node kinds here, never special cases there.
//!
//! Lowering assumes a project without errors (`mj run` checks first) and does no IO.

use mj_ir::Table;

use mj_lang::ast::{ExprKind, Fact, ItemKind, OneId, Source, Strength};

use crate::db::{Db, Project};

mod scan;

pub use crate::jobs::*;

use crate::metrics::*;
use crate::sources::*;
use scan::*;

/// The job graph of a project: a tracked query, so `mj plan`, `mj run` and the language
/// server's hovers share one lowering per revision. It holds no spans (expressions are
/// IR), so an edit that moves items without changing them leaves it equal, and
/// whatever reads it is not run again.
#[salsa::tracked(returns(ref))]
pub fn job_graph(db: &dyn Db, project: Project) -> JobGraph {
    lower(db, project)
}

fn lower(db: &dyn Db, project: Project) -> JobGraph {
    let model = crate::model::model(db, project);
    let mut sources: Vec<&Source> = Vec::new();
    let mut oneids: Vec<&OneId> = Vec::new();
    let mut facts: Vec<&Fact> = Vec::new();
    let mut dimensions: Vec<&mj_lang::ast::Dimension> = Vec::new();
    let items: Vec<&mj_lang::ast::Item> = model.items().iter().collect();
    for item in &items {
        match &item.kind {
            ItemKind::Source(s) => sources.push(s),
            ItemKind::OneId(o) => oneids.push(o),
            ItemKind::Fact(f) => facts.push(f),
            ItemKind::Dimension(d) => dimensions.push(d),
            _ => {}
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
                (
                    fact,
                    CheckKind::Condition(crate::to_ir::expr(&stripped)),
                    text,
                )
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
    for mut job in summaries(model, &facts, &sources, &dimensions) {
        // A distinct count of values an `error` check keeps unique is a count.
        for part in &mut job.parts {
            for m in &mut part.metrics {
                let Some(mj_ir::Expr::Column(column)) = m.arg.as_ref() else {
                    continue;
                };
                if m.aggregate != mj_ir::Aggregate::CountDistinct {
                    continue;
                }
                let check = nodes.iter().find_map(|n| match &n.kind {
                    NodeKind::Check(c)
                        if c.fail_run
                            && c.table == Table::new("dwd", &part.fact)
                            && c.rule == CheckKind::Unique(column.clone()) =>
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
    for assets in crate::assets::lower_assets(model, &source_jobs) {
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
                    kind: NodeKind::Contribution(ContributionJob { model }),
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
        filter: f.filter.as_ref().map(crate::to_ir::expr),
        grain: f.grain.iter().map(|g| g.text.clone()).collect(),
        time: f.time.as_ref().map(|t| t.text.clone()),
        time_is_date,
        entity: f.entity.as_ref().map(|e| e.text.clone()),
        dims: f.dims.iter().map(binding).collect(),
        measures: f.measures.iter().map(binding).collect(),
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
