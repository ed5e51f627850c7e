//! What hover says an item computes: the table the runtime writes it to and, for a
//! metric, the SQL of its aggregate as the plan stage builds it.

use mj_compiler::lower::{JobGraph, NodeKind};
use mj_compiler::queries::Def;
use mj_compiler::{Db, Project};
use mj_lang::ast::ItemKind;

/// Today, in days since 1970-01-01: the business date the SQL fragment is shown for.
fn today() -> i32 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    (secs / 86_400) as i32
}

/// Markdown paragraphs (each starting with a blank line) for an item.
pub fn computes(db: &dyn Db, project: Project, def: &Def, name: &str) -> String {
    match &def.item.kind {
        // Only a metric needs the job graph (its summary table and aggregate).
        ItemKind::Derived(_) | ItemKind::Composite(_) => {
            metric(&mj_compiler::lower::job_graph(db, project), name)
        }
        ItemKind::Fact(_) => format!("\n\nDetail table `dwd.{name}`."),
        ItemKind::Dimension(_) => format!("\n\nDimension table `dim.{name}`."),
        ItemKind::Source(_) => {
            format!("\n\nAccepted rows in `ods.{name}`; rejected rows in `rejects/{name}/`.")
        }
        ItemKind::OneId(_) => format!("\n\nOneID mapping `oneid.{name}` (record → OneID)."),
        ItemKind::Tag(t) => format!("\n\nColumn `{name}` of `ads.{}_tags`.", t.entity.text),
        ItemKind::Aipl(a) => {
            let stages: Vec<String> = a
                .stages
                .iter()
                .map(|s| format!("`{}`", s.name.text))
                .collect();
            format!(
                "\n\nStage per {} in `ads.aipl_{name}`: {} (the highest that holds).",
                a.entity.text,
                stages.join(", ")
            )
        }
        ItemKind::Rfm(r) => format!(
            "\n\nScores and segment per {} in `ads.rfm_{name}`.",
            r.entity.text
        ),
        ItemKind::Audience(a) => format!(
            "\n\nMembers in `ads.audience_{name}`; column `{name}` of `ads.{}_audiences`.",
            a.entity.text
        ),
        _ => String::new(),
    }
}

/// A derived or composite metric: its summary table, and the SQL of its column.
fn metric(graph: &JobGraph, name: &str) -> String {
    for node in &graph.nodes {
        let NodeKind::Summary(job) = &node.kind else {
            continue;
        };
        for part in &job.parts {
            let Some(m) = part.metrics.iter().find(|m| m.name == name) else {
                continue;
            };
            let mut out = format!(
                "\n\nComputed in the summary table `{}`, column `{name}`.",
                node.id
            );
            let day = today();
            let date = mj_plan::date_text(day);
            let sql = mj_plan::metric_aggregate(part, m, day)
                .ok()
                .and_then(|e| datafusion::sql::unparser::expr_to_sql(&e).ok());
            if let Some(sql) = sql {
                out.push_str(&format!(
                    "\n\nFor business date {date}:\n\n```sql\n{sql}\n```"
                ));
            }
            return out;
        }
        if job.composites.iter().any(|(n, _)| n == name) {
            return format!(
                "\n\nComputed in the summary table `{}`, column `{name}`.",
                node.id
            );
        }
    }
    String::new()
}
