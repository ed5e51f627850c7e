//! Lineage: where a metric or a column of a generated table comes from, down to the
//! source columns, read off the job graph.

use serde::Serialize;

use mj_lang::ast::{Expr, ExprKind};

use crate::jobs::{JobGraph, NodeKind};

/// One step of a lineage: a column of a table, how it is computed, and its inputs.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Lineage {
    /// `layer.table.column`: `dws.dws_consumer.pay_amt_30d`, `ods.pos_order.amount`.
    pub column: String,
    /// How the column is computed from its inputs (empty for source columns).
    pub how: String,
    pub from: Vec<Lineage>,
}

fn names(e: &Expr) -> Vec<String> {
    let mut out = Vec::new();
    e.walk(&mut |x| {
        if let ExprKind::Name(n) = &x.kind
            && !out.contains(&n.text)
        {
            out.push(n.text.clone());
        }
    });
    out
}

fn period_text(p: &mj_lang::ast::PeriodSpec) -> String {
    use mj_lang::ast::{PeriodSpec, PeriodUnit, ToDate};
    match p {
        PeriodSpec::Last { count, unit } => format!(
            "the last {count} {}",
            match unit {
                PeriodUnit::Hours => "hours",
                PeriodUnit::Days => "days",
                PeriodUnit::Weeks => "weeks",
                PeriodUnit::Months => "months",
            }
        ),
        PeriodSpec::ToDate(t) => match t {
            ToDate::All => "everything up to the business date",
            ToDate::Week => "the week to date",
            ToDate::Month => "the month to date",
            ToDate::Quarter => "the quarter to date",
            ToDate::Year => "the year to date",
        }
        .to_string(),
    }
}

fn text(e: &Expr) -> String {
    mj_lang::format::expr_text(e)
}

/// The lineage of a derived or composite metric (`pay_amt_30d`) or of a column of a
/// generated table (`dwd.pay_order.amount`, `dws.dws_consumer.pay_amt_30d`).
pub fn lineage(graph: &JobGraph, target: &str) -> Option<Lineage> {
    let parts: Vec<&str> = target.split('.').collect();
    match parts[..] {
        [metric] => metric_lineage(graph, metric),
        ["dws", _, metric] => metric_lineage(graph, metric),
        ["dwd", fact, column] => fact_column(graph, fact, column),
        ["dim", dimension, column] => dim_column(graph, dimension, column),
        ["ods", source, column] => source_column(graph, source, column),
        _ => None,
    }
}

fn source_column(graph: &JobGraph, source: &str, column: &str) -> Option<Lineage> {
    graph.nodes.iter().find_map(|n| match &n.kind {
        NodeKind::Source(s) if s.name == source && s.columns.iter().any(|c| c.name == column) => {
            Some(Lineage {
                column: format!("ods.{source}.{column}"),
                how: format!("read from {}", s.path),
                from: Vec::new(),
            })
        }
        _ => None,
    })
}

fn dim_column(graph: &JobGraph, dimension: &str, column: &str) -> Option<Lineage> {
    graph.nodes.iter().find_map(|n| match &n.kind {
        NodeKind::Dimension(d)
            if d.name == dimension
                && (d.key == column || d.attributes.iter().any(|a| a == column)) =>
        {
            Some(Lineage {
                column: format!("dim.{dimension}.{column}"),
                how: if d.key == column {
                    format!("the key of `{dimension}`, one row per value")
                } else {
                    format!("an attribute of `{dimension}`, one row per `{}`", d.key)
                },
                from: source_column(graph, &d.source, column)
                    .into_iter()
                    .collect(),
            })
        }
        _ => None,
    })
}

fn fact_column(graph: &JobGraph, fact: &str, column: &str) -> Option<Lineage> {
    let job = graph.nodes.iter().find_map(|n| match &n.kind {
        NodeKind::Fact(f) if f.name == fact => Some(f),
        _ => None,
    })?;
    let col = |c: &str| source_column(graph, &job.source, c);
    let bound = job
        .dims
        .iter()
        .chain(&job.measures)
        .find(|(name, _)| name == column);
    let mut from: Vec<Lineage> = Vec::new();
    let how;
    if let Some((_, e)) = bound {
        from.extend(names(e).iter().filter_map(|n| col(n)));
        how = format!("{} of the rows of `{}`", text(e), job.source);
    } else if job.entity.as_deref() == Some(column) {
        let entity = column;
        let oneid = graph.nodes.iter().find_map(|n| match &n.kind {
            NodeKind::OneId(o) if o.name == entity => Some(o),
            _ => None,
        })?;
        let link = oneid.links.iter().find(|l| l.source == job.source)?;
        for (_, parts) in &link.fields {
            from.extend(parts.iter().filter_map(|p| col(p)));
        }
        how = format!(
            "the OneID `{entity}` of the row, resolved from its identifiers (joined on `{}`)",
            job.source_key.clone().unwrap_or_default()
        );
    } else if job.grain.iter().any(|g| g == column) || job.time.as_deref() == Some(column) {
        from.extend(col(column));
        how = format!("the column of `{}`", job.source);
    } else {
        return None;
    }
    if let Some(w) = &job.filter {
        for n in names(w) {
            if let Some(c) = col(&n)
                && !from.contains(&c)
            {
                from.push(Lineage {
                    how: format!("filters the rows: where {}", text(w)),
                    ..c
                });
            }
        }
    }
    Some(Lineage {
        column: format!("dwd.{fact}.{column}"),
        how,
        from,
    })
}

fn metric_lineage(graph: &JobGraph, metric: &str) -> Option<Lineage> {
    for n in &graph.nodes {
        let NodeKind::Summary(s) = &n.kind else {
            continue;
        };
        for part in &s.parts {
            let Some(m) = part.metrics.iter().find(|m| m.name == metric) else {
                continue;
            };
            let mut from = Vec::new();
            let mut columns: Vec<String> = Vec::new();
            if let Some(a) = &m.arg {
                columns.extend(names(a));
            }
            if let Some(t) = &part.time {
                columns.push(t.clone());
            }
            for f in &m.filters {
                columns.extend(names(f));
            }
            // Dimension attributes the filters use, joined on the fact's key column.
            for d in &part.dims {
                for f in &m.filters {
                    f.walk(&mut |e| {
                        if let ExprKind::Field(base, attr) = &e.kind
                            && matches!(&base.kind, ExprKind::Name(b) if b.text == d.dimension)
                        {
                            let id = format!("dim.{}.{}", d.dimension, attr.text);
                            if !from.iter().any(|l: &Lineage| l.column == id)
                                && let Some(mut l) = dim_column(graph, &d.dimension, &attr.text)
                            {
                                l.how = format!(
                                    "{}, joined on dwd.{}.{} = {}",
                                    l.how, part.fact, d.column, d.key
                                );
                                from.push(l);
                            }
                        }
                    });
                }
            }
            columns.extend(s.by.iter().cloned());
            let mut seen = Vec::new();
            for c in columns {
                if seen.contains(&c) {
                    continue;
                }
                seen.push(c.clone());
                from.extend(fact_column(graph, &part.fact, &c));
            }
            let filters: Vec<String> = m.filters.iter().map(text).collect();
            let how = format!(
                "{}({}) per {} over {}{}",
                m.aggregate,
                m.arg.as_ref().map_or("*".to_string(), text),
                if s.by.is_empty() {
                    "everything".to_string()
                } else {
                    s.by.join(", ")
                },
                period_text(&m.period),
                if filters.is_empty() {
                    String::new()
                } else {
                    format!(" where {}", filters.join(" and "))
                }
            );
            return Some(Lineage {
                column: format!("dws.{}.{metric}", s.name),
                how,
                from,
            });
        }
        for (name, e) in &s.composites {
            if name != metric {
                continue;
            }
            let from = names(e)
                .iter()
                .filter_map(|d| metric_lineage(graph, d))
                .collect();
            return Some(Lineage {
                column: format!("dws.{}.{metric}", s.name),
                how: text(e),
                from,
            });
        }
    }
    None
}

impl Lineage {
    /// An indented tree, one column a line.
    pub fn render(&self) -> String {
        let mut out = String::new();
        self.render_into(0, &mut out);
        out
    }

    fn render_into(&self, depth: usize, out: &mut String) {
        out.push_str(&"  ".repeat(depth));
        out.push_str(&self.column);
        if !self.how.is_empty() {
            out.push_str("  ← ");
            out.push_str(&self.how);
        }
        out.push('\n');
        for f in &self.from {
            f.render_into(depth + 1, out);
        }
    }
}
