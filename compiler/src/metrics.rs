//! Metrics lowered: each derived metric as fact, aggregate, argument, filters and
//! period, grouped into summary tables by granularity.

use mj_lang::ast::{Binding, Expr, ExprKind, Fact, ItemKind, Source};

use crate::jobs::*;
use crate::sources::source_job;

/// The summary tables: derived metrics grouped by granularity.
pub(crate) fn summaries(
    model: &crate::model::Model,
    facts: &[&Fact],
    sources: &[&Source],
    dimensions: &[&mj_lang::ast::Dimension],
) -> Vec<SummaryJob> {
    let mut jobs: Vec<SummaryJob> = Vec::new();
    let mut derived_names: Vec<(String, Vec<String>)> = Vec::new();
    for item in model.items() {
        let ItemKind::Derived(d) = &item.kind else {
            continue;
        };
        let Some((fact, metric)) = model.metric(&d.header.name.text).cloned() else {
            continue;
        };
        let Some(fact_item) = facts.iter().find(|f| f.header.name.text == fact) else {
            continue;
        };
        let mut by: Vec<String> = d.by.iter().map(|b| b.text.clone()).collect();
        by.sort();
        by.dedup();
        let name = if by.is_empty() {
            "dws_total".to_string()
        } else {
            format!("dws_{}", by.join("_"))
        };
        derived_names.push((metric.name.clone(), by.clone()));
        let job = match jobs.iter_mut().find(|j| j.name == name) {
            Some(j) => j,
            None => {
                jobs.push(SummaryJob {
                    name: name.clone(),
                    by: by.clone(),
                    parts: Vec::new(),
                    composites: Vec::new(),
                });
                jobs.last_mut().expect("just pushed")
            }
        };
        let joins = dim_joins(&metric.filters, fact_item, dimensions);
        match job.parts.iter_mut().find(|p| p.fact == fact) {
            Some(p) => {
                p.metrics.push(metric);
                for j in joins {
                    match p.dims.iter_mut().find(|d| d.dimension == j.dimension) {
                        Some(d) => {
                            d.attributes.extend(j.attributes);
                            d.attributes.sort();
                            d.attributes.dedup();
                        }
                        None => p.dims.push(j),
                    }
                }
            }
            None => {
                let src = sources
                    .iter()
                    .find(|s| s.header.name.text == fact_item.source.text)
                    .map(|s| source_job(s));
                let time = fact_item.time.as_ref().map(|t| t.text.clone());
                let time_is_date = src.is_some_and(|s| {
                    s.columns
                        .iter()
                        .any(|c| Some(&c.name) == time.as_ref() && c.ty == ColType::Date)
                });
                job.parts.push(SummaryPart {
                    fact,
                    time,
                    time_is_date,
                    metrics: vec![metric],
                    dims: joins,
                });
            }
        }
    }
    // Composite metrics go to the table of the derived metrics they use.
    for item in model.items() {
        let ItemKind::Composite(c) = &item.kind else {
            continue;
        };
        let mut first = None;
        c.expr.walk(&mut |e| {
            if let (None, ExprKind::Name(n)) = (&first, &e.kind) {
                first = Some(n.text.clone());
            }
        });
        let Some(by) = first.and_then(|f| derived_names.iter().find(|(n, _)| *n == f)) else {
            continue;
        };
        if let Some(job) = jobs.iter_mut().find(|j| j.by == by.1) {
            job.composites
                .push((c.header.name.text.clone(), crate::to_ir::expr(&c.expr)));
        }
    }
    jobs
}

/// The dimensions whose attributes `filters` use: `store.city` where the fact binds a
/// dimension `store` among its dims.
pub(crate) fn dim_joins(
    filters: &[mj_ir::Expr],
    fact: &Fact,
    dimensions: &[&mj_lang::ast::Dimension],
) -> Vec<DimJoin> {
    let mut joins: Vec<DimJoin> = Vec::new();
    for f in filters {
        f.visit(&mut |e| {
            let mj_ir::Expr::Attribute(b, attr) = e else {
                return;
            };
            if !fact.dims.iter().any(|d| d.name.text == *b) {
                return;
            }
            let Some(dim) = dimensions.iter().find(|d| d.header.name.text == *b) else {
                return;
            };
            let Some(key) = &dim.key else { return };
            match joins.iter_mut().find(|j| j.dimension == *b) {
                Some(j) => j.attributes.push(attr.clone()),
                None => joins.push(DimJoin {
                    column: b.clone(),
                    dimension: b.clone(),
                    key: key.text.clone(),
                    attributes: vec![attr.clone()],
                }),
            }
        });
    }
    for j in &mut joins {
        j.attributes.sort();
        j.attributes.dedup();
    }
    joins
}

/// `fact.column` → `column`, noting the fact.
pub(crate) fn strip_qualifier(e: &Expr, fact: &mut Option<String>) -> Expr {
    let mut e = e.clone();
    fn walk(e: &mut Expr, fact: &mut Option<String>) {
        if let ExprKind::Field(base, column) = &e.kind
            && let ExprKind::Name(f) = &base.kind
        {
            fact.get_or_insert_with(|| f.text.clone());
            e.kind = ExprKind::Name(column.clone());
            return;
        }
        match &mut e.kind {
            ExprKind::Unary(_, x) => walk(x, fact),
            ExprKind::Binary(_, l, r) => {
                walk(l, fact);
                walk(r, fact);
            }
            ExprKind::In { expr, list, .. } => {
                walk(expr, fact);
                for x in list {
                    walk(x, fact);
                }
            }
            ExprKind::Call(_, args) => {
                for a in args {
                    if let mj_lang::ast::Arg::Positional { value, .. } = a {
                        walk(value, fact);
                    }
                }
            }
            ExprKind::Case { arms, otherwise } => {
                for arm in arms {
                    walk(&mut arm.condition, fact);
                    walk(&mut arm.value, fact);
                }
                if let Some(o) = otherwise {
                    walk(o, fact);
                }
            }
            _ => {}
        }
    }
    walk(&mut e, fact);
    e
}

pub(crate) fn binding(b: &Binding) -> (String, mj_ir::Expr) {
    let value = match &b.value {
        Some(v) => crate::to_ir::expr(v),
        None => mj_ir::Expr::column(&b.name.text),
    };
    (b.name.text.clone(), value)
}
