//! Lineage: where a metric or a column of a generated table comes from, down to the
//! source columns, read off the job graph.

use serde::Serialize;

use mj_ir::Expr;

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

/// The columns an expression reads; a dimension's attribute (`store.city`) reads the
/// column that binds the dimension (`store`).
fn names(e: &Expr) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    e.visit(&mut |x| {
        let name = match x {
            Expr::Column(c) => c,
            Expr::Attribute(d, _) => d,
            _ => return,
        };
        if !out.contains(name) {
            out.push(name.clone());
        }
    });
    out
}

fn period_text(p: &mj_ir::expr::Period) -> String {
    use mj_ir::expr::{Period as PeriodSpec, PeriodUnit, ToDate};
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
    e.to_string()
}

/// The lineage of a derived or composite metric (`pay_amt_30d`) or of a column of a
/// generated table (`dwd.pay_order.amount`, `dws.dws_consumer.pay_amt_30d`,
/// `ads.consumer_tags.price_level`, `ads.aipl_brand.stage`, `ads.rfm_value.segment`,
/// `ads.consumer_audiences.high_value`, `ads.consumer_audiences.route_sofa_intent`) or
/// of an export (`export.sofa_intent.phone_sha256`: the audience and the exported
/// column's name).
pub fn lineage(graph: &JobGraph, target: &str) -> Option<Lineage> {
    let parts: Vec<&str> = target.split('.').collect();
    match parts[..] {
        [metric] => metric_lineage(graph, metric),
        ["dws", _, metric] => metric_lineage(graph, metric),
        ["dwd", fact, column] => fact_column(graph, fact, column),
        ["dim", dimension, column] => dim_column(graph, dimension, column),
        ["ods", source, column] => source_column(graph, source, column),
        ["ads", table, column] => asset_column(graph, table, column),
        ["export", audience, column] => export_column(graph, audience, column),
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
                    f.visit(&mut |e| {
                        if let Expr::Attribute(b, attr) = e
                            && *b == d.dimension
                        {
                            let id = format!("dim.{}.{}", d.dimension, attr);
                            if !from.iter().any(|l: &Lineage| l.column == id)
                                && let Some(mut l) = dim_column(graph, &d.dimension, attr)
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

/// A column of the asset layer: a feature, a tag, an AIPL stage, an RFM value or
/// score, an audience's membership.
fn asset_column(graph: &JobGraph, table: &str, column: &str) -> Option<Lineage> {
    for n in &graph.nodes {
        match &n.kind {
            NodeKind::Features(f) if table == format!("{}_features", f.entity) => {
                return feature_column(graph, &f.entity, column);
            }
            NodeKind::Tags(t) if table == format!("{}_tags", t.entity) => {
                let tag = t.tags.iter().find(|g| g.name == column)?;
                return Some(over_features(
                    graph,
                    &t.entity,
                    format!("ads.{table}.{column}"),
                    &tag.expr,
                ));
            }
            NodeKind::Aipl(a) if table == format!("aipl_{}", a.name) && column == "stage" => {
                return Some(over_features(
                    graph,
                    &a.entity,
                    format!("ads.{table}.stage"),
                    &a.rule,
                ));
            }
            NodeKind::Rfm(r) if table == format!("rfm_{}", r.name) => {
                let value = |c: &str| match c {
                    "recency" | "r_score" => Some(("recency", &r.recency)),
                    "frequency" | "f_score" => Some(("frequency", &r.frequency)),
                    "monetary" | "m_score" => Some(("monetary", &r.monetary)),
                    _ => None,
                };
                let id = |c: &str| format!("ads.{table}.{c}");
                if let Some((v, e)) = value(column) {
                    let of_value = over_features(graph, &r.entity, id(v), e);
                    if v == column {
                        return Some(of_value);
                    }
                    return Some(Lineage {
                        column: id(column),
                        how: format!("score of {v}"),
                        from: vec![of_value],
                    });
                }
                if matches!(column, "segment" | "label") {
                    let from = ["r_score", "f_score", "m_score"]
                        .iter()
                        .filter_map(|c| asset_column(graph, table, c))
                        .collect();
                    return Some(Lineage {
                        column: id(column),
                        how: "H or L of each score against the baseline, as R, F, M".to_string(),
                        from,
                    });
                }
                return None;
            }
            NodeKind::Audiences(a) if table == format!("{}_audiences", a.entity) => {
                let id = format!("ads.{table}.{column}");
                if let Some((_, e)) = a.audiences.iter().find(|(name, _)| name == column) {
                    return Some(over_features(graph, &a.entity, id, e));
                }
                // A route's channel, for the audience's members.
                let audience = column.strip_prefix("route_")?;
                let (_, rule) = a.routes.iter().find(|(name, _)| name == audience)?;
                let mut l = over_features(graph, &a.entity, id, rule);
                l.from.extend(asset_column(graph, table, audience));
                return Some(l);
            }
            _ => {}
        }
    }
    None
}

/// An expression over an entity's features table (and the stages and segments it joins).
fn over_features(graph: &JobGraph, entity: &str, column: String, e: &Expr) -> Lineage {
    let from = names(e)
        .iter()
        .filter_map(|name| {
            // Stages and segments are joined as `__aipl_<model>`, `__rfm_<model>`.
            let model = |prefix: &str| name.strip_prefix(prefix).unwrap_or(name).to_string();
            feature_column(graph, entity, name)
                .or_else(|| asset_column(graph, &format!("aipl_{}", model("__aipl_")), "stage"))
                .or_else(|| asset_column(graph, &format!("rfm_{}", model("__rfm_")), "segment"))
                .or_else(|| near_column(graph, entity, name))
        })
        .collect();
    Lineage {
        column,
        how: text(e),
        from,
    }
}

/// What an expression reads of the nearest row of a dimension (`__near_<d>`, its key;
/// `__near_<d>_km`, the distance; `__near_<d>_<attribute>`): the row of
/// `ads.<entity>_near_<d>`, found from the entity's location and the dimension's.
fn near_column(graph: &JobGraph, entity: &str, name: &str) -> Option<Lineage> {
    let rest = name.strip_prefix("__near_")?;
    let job = graph.nodes.iter().find_map(|n| match &n.kind {
        NodeKind::Near(j)
            if j.entity == entity
                && (rest == j.dimension || rest.starts_with(&format!("{}_", j.dimension))) =>
        {
            Some(j)
        }
        _ => None,
    })?;
    let d = &job.dimension;
    let table = format!("ads.{entity}_near_{d}");
    // Where the entity is: its latest point in a linked source, else the row of its
    // latest visit, else its city's centre.
    let mut located: Vec<Lineage> = Vec::new();
    let mut feature = |c: &str| {
        if !located.iter().any(|l| l.column.ends_with(&format!(".{c}"))) {
            located.extend(feature_column(graph, entity, c));
        }
    };
    for (_, lat, lon, time) in &job.points {
        feature(lat);
        feature(lon);
        time.iter().for_each(|t| feature(t));
    }
    for (_, key, time) in &job.visits {
        feature(key);
        time.iter().for_each(|t| feature(t));
    }
    for c in &job.cities {
        feature(c);
    }
    // The dimension's key (the value), and where its rows are.
    let mut places: Vec<&str> = vec![job.key.as_str(), "lat", "lon"];
    if job.has_city {
        places.push("city");
    }
    located.extend(places.iter().filter_map(|c| dim_column(graph, d, c)));
    let nearest = Lineage {
        column: format!("{table}.{d}"),
        how: format!(
            "the {d} nearest the {entity}: located by its latest point in a linked source, \
             else by its latest visit's {d}, else at its city's centre"
        ),
        from: located,
    };
    let after = &rest[d.len()..];
    Some(match after {
        "" => nearest,
        "_km" => Lineage {
            column: format!("{table}.distance_km"),
            how: format!("great-circle distance from the {entity} to the nearest {d}, in km"),
            from: vec![nearest],
        },
        _ => {
            let attribute = after.strip_prefix('_')?;
            let mut from: Vec<Lineage> = dim_column(graph, d, attribute).into_iter().collect();
            from.push(nearest);
            Lineage {
                column: format!("dim.{d}.{attribute}"),
                how: format!(
                    "of the nearest {d}, joined on {table}.{d} = dim.{d}.{}",
                    job.key
                ),
                from,
            }
        }
    })
}

/// A column of an audience's export: the value for each member, hashed or in clear.
fn export_column(graph: &JobGraph, audience: &str, column: &str) -> Option<Lineage> {
    let job = graph.nodes.iter().find_map(|n| match &n.kind {
        NodeKind::Export(x) if x.audience == audience => Some(x),
        _ => None,
    })?;
    let c = job.columns.iter().find(|c| c.name == column)?;
    let table = format!("{}_audiences", job.entity);
    let members = asset_column(graph, &table, audience);
    let mut from: Vec<Lineage> = Vec::new();
    let value = match &c.column {
        // The OneID: the entity resolved from its identifiers.
        None => oneid_lineage(graph, &job.entity),
        Some(v) => {
            let (_, _, e) = graph.nodes.iter().find_map(|n| match &n.kind {
                NodeKind::Audiences(a) if a.entity == job.entity => {
                    a.values.iter().find(|(_, name, _)| name == v)
                }
                _ => None,
            })?;
            Some(over_features(
                graph,
                &job.entity,
                format!("ads.{table}.{v}"),
                e,
            ))
        }
    };
    from.extend(value);
    from.extend(members);
    let mut how = match (&c.hash, &c.salt) {
        (Some(h), Some(_)) => format!("{h} of the salted, lower-cased, trimmed value"),
        (Some(h), None) => format!("{h} of the lower-cased, trimmed value"),
        (None, _) => "the value in clear".to_string(),
    };
    if let Some(n) = &c.normalize {
        how.push_str(&format!(", normalized by {n}"));
    }
    how.push_str(&format!(
        ", for each member of `{audience}`, to {}",
        job.path
    ));
    Some(Lineage {
        column: format!("export.{audience}.{column}"),
        how,
        from,
    })
}

/// `oneid.<entity>.oneid`: one id per person, from the identifiers its links read.
fn oneid_lineage(graph: &JobGraph, entity: &str) -> Option<Lineage> {
    let job = graph.nodes.iter().find_map(|n| match &n.kind {
        NodeKind::OneId(o) if o.name == entity => Some(o),
        _ => None,
    })?;
    let from = job
        .links
        .iter()
        .flat_map(|l| {
            l.fields
                .iter()
                .flat_map(|(_, columns)| columns.iter())
                .filter_map(|c| source_column(graph, &l.source, c))
        })
        .collect();
    Some(Lineage {
        column: format!("oneid.{entity}.oneid"),
        how: format!(
            "the {entity}'s OneID: records joined by the identifiers they share ({})",
            job.identifiers
                .iter()
                .map(|i| i.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        from,
    })
}

/// A column of `ads.<entity>_features`: one aggregate per entity over a table's rows,
/// or a metric computed per the entity.
fn feature_column(graph: &JobGraph, entity: &str, column: &str) -> Option<Lineage> {
    let f = graph.nodes.iter().find_map(|n| match &n.kind {
        NodeKind::Features(f) if f.entity == entity => Some(f),
        _ => None,
    })?;
    let id = format!("ads.{entity}_features.{column}");
    for t in &f.tables {
        let Some(a) = t.aggregates.iter().find(|a| a.column == column) else {
            continue;
        };
        let mut columns: Vec<String> = Vec::new();
        for e in a.arg.iter().chain(&a.filter).chain(&a.present) {
            for c in names(e) {
                if !columns.contains(&c) {
                    columns.push(c);
                }
            }
        }
        if let Some((time, _)) = &t.time
            && (a.window_days.is_some() || a.period.is_some())
            && !columns.contains(time)
        {
            columns.push(time.clone());
        }
        let from = columns
            .iter()
            .filter_map(|c| match t.node.layer.as_str() {
                "dwd" => fact_column(graph, &t.node.name, c),
                _ => source_column(graph, &t.node.name, c),
            })
            .collect();
        let mut how = format!(
            "{}({}) per {entity} over {}",
            a.func,
            a.arg.as_ref().map_or("*".to_string(), text),
            t.node
        );
        if let Some(w) = &a.filter {
            how.push_str(&format!(" where {}", text(w)));
        }
        if let Some(d) = a.window_days {
            how.push_str(&format!(", last {d} days"));
        }
        if let Some(p) = &a.period {
            how.push_str(&format!(", {}", period_text(p)));
        }
        return Some(Lineage {
            column: id,
            how,
            from,
        });
    }
    let (table, metrics) = f.metrics.as_ref()?;
    if !metrics.iter().any(|m| m == column) {
        return None;
    }
    let metric = metric_lineage(graph, column)?;
    Some(Lineage {
        column: id,
        how: format!("dws.{table}.{column} of the {entity}"),
        from: vec![metric],
    })
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
