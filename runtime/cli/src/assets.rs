//! Commands over a run's consumer assets: `mj audience`, `mj attribution`, `mj aipl flow`
//! and `mj aipl trend`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::run::{Loaded, date, load, runtime};

/// The AIPL model a command means: the one named, or the project's only one.
pub(crate) fn aipl_model(loaded: &Loaded, model: Option<&str>) -> Result<String, String> {
    let models: Vec<&str> = loaded
        .graph
        .nodes
        .iter()
        .filter_map(|n| match &n.kind {
            mj_compiler::lower::NodeKind::Aipl(a) => Some(a.name.as_str()),
            _ => None,
        })
        .collect();
    match (model, models.as_slice()) {
        (Some(m), _) if models.contains(&m) => Ok(m.to_string()),
        (Some(m), _) => Err(format!(
            "the project has no AIPL model `{m}`; it has: {}",
            models.join(", ")
        )),
        (None, [one]) => Ok(one.to_string()),
        (None, []) => Err("the project has no AIPL model".to_string()),
        (None, many) => Err(format!("name the model with --model: {}", many.join(", "))),
    }
}

pub fn audience(
    path: &Path,
    name: &str,
    date_text: &str,
    explain: bool,
    sample: usize,
    out: Option<PathBuf>,
) -> Result<ExitCode, String> {
    let day = date(date_text)?;
    let loaded = load(path)?;
    let out = out.unwrap_or_else(|| loaded.config.out.clone());
    let Some(job) = loaded.graph.nodes.iter().find_map(|n| match &n.kind {
        mj_compiler::lower::NodeKind::Audiences(j)
            if j.audiences.iter().any(|(a, _)| a == name) =>
        {
            Some(j)
        }
        _ => None,
    }) else {
        let all: Vec<&str> = loaded
            .graph
            .nodes
            .iter()
            .filter_map(|n| match &n.kind {
                mj_compiler::lower::NodeKind::Audiences(j) => Some(j),
                _ => None,
            })
            .flat_map(|j| j.audiences.iter().map(|(a, _)| a.as_str()))
            .collect();
        return Err(format!(
            "the project has no audience `{name}`; it has: {}",
            all.join(", ")
        ));
    };
    let dir = out.join(format!("ads/audience_{name}/dt={day}"));
    if !dir.is_dir() {
        return Err(format!(
            "no members of `{name}` for {day} (no {}); run that date first",
            dir.display()
        ));
    }
    let members: Vec<String> = mj_runtime::write::read_partition(&dir)
        .map_err(|e| e.message)?
        .iter()
        .flat_map(|b| {
            let c = b.column(0);
            (0..b.num_rows())
                .map(|i| arrow::util::display::array_value_to_string(c, i).unwrap_or_default())
                .collect::<Vec<_>>()
        })
        .collect();
    println!(
        "{name} on {day}: {} members ({})",
        members.len(),
        job.entity
    );
    // The latest manifest of that date tells overlaps and routes.
    if let Some(report) = mj_runtime::Manifest::latest_succeeded(&out, &day)
        .and_then(|m| m.audiences.into_iter().find(|a| a.audience == name))
    {
        for (map, label) in [(&report.overlap, "overlap"), (&report.route, "route")] {
            if !map.is_empty() {
                let parts: Vec<String> = map.iter().map(|(k, v)| format!("{k} {v}")).collect();
                println!("{label}: {}", parts.join(", "));
            }
        }
    }
    if explain {
        let rt = runtime()?;
        let steps = rt
            .block_on(mj_runtime::explain_audience(
                &loaded.graph,
                &day,
                &out,
                name,
            ))
            .map_err(|e| e.message)?;
        println!("{:>10}  condition (with every one above it)", "entities");
        for (text, n) in steps {
            println!("{n:>10}  {text}");
        }
    }
    if sample > 0 && !members.is_empty() {
        let tags_dir = out.join(format!("ads/{}_tags/dt={day}", job.entity));
        let tags = mj_runtime::write::read_partition(&tags_dir).unwrap_or_default();
        let mut shown = 0;
        println!("sample:");
        let wanted: std::collections::HashSet<&str> =
            members.iter().take(sample).map(String::as_str).collect();
        for b in &tags {
            for i in 0..b.num_rows() {
                let id =
                    arrow::util::display::array_value_to_string(b.column(0), i).unwrap_or_default();
                if !wanted.contains(id.as_str()) {
                    continue;
                }
                let cells: Vec<String> = (1..b.num_columns())
                    .filter(|&c| b.schema().field(c).name() != "dt")
                    .map(|c| {
                        format!(
                            "{}={}",
                            b.schema().field(c).name(),
                            arrow::util::display::array_value_to_string(b.column(c), i)
                                .unwrap_or_default()
                        )
                    })
                    .collect();
                println!("  {id}  {}", cells.join(" "));
                shown += 1;
            }
        }
        if shown == 0 {
            for m in members.iter().take(sample) {
                println!("  {m}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn attribution(
    path: &Path,
    date_text: &str,
    model: Option<&str>,
    out: Option<PathBuf>,
) -> Result<ExitCode, String> {
    let day = date(date_text)?;
    let loaded = load(path)?;
    let model = aipl_model(&loaded, model)?;
    let out = out.unwrap_or_else(|| loaded.config.out.clone());
    let broken_down = loaded.graph.nodes.iter().any(
        |n| matches!(&n.kind, mj_compiler::lower::NodeKind::Contribution(c) if c.model.name == model),
    );
    if !broken_down {
        return Err(format!(
            "`{model}` has no channel contribution: break it down with `by channel`"
        ));
    }
    let dir = out.join(format!("ads/aipl_{model}_contribution/dt={day}"));
    if !dir.is_dir() {
        return Err(format!(
            "no contribution of `{model}` for {day} (no {}); run that date first",
            dir.display()
        ));
    }
    let batches = mj_runtime::write::read_partition(&dir).map_err(|e| e.message)?;
    let columns = [
        "channel",
        "first_touch",
        "last_touch",
        "linear",
        "markov",
        "removal_effect",
        "p_share",
        "l_share",
    ];
    println!(
        "{:<16}{:>12}{:>12}{:>12}{:>12}{:>10}{:>9}{:>9}",
        "channel", "first touch", "last touch", "linear", "markov", "removal", "P share", "L share"
    );
    for b in &batches {
        let idx: Vec<usize> = columns
            .iter()
            .map(|c| b.schema().index_of(c).map_err(|e| e.to_string()))
            .collect::<Result<_, _>>()?;
        for i in 0..b.num_rows() {
            let cell = |k: usize| {
                arrow::util::display::array_value_to_string(b.column(idx[k]), i).unwrap_or_default()
            };
            let num = |k: usize| cell(k).parse::<f64>().unwrap_or(0.0);
            println!(
                "{:<16}{:>12.1}{:>12.1}{:>12.1}{:>12.1}{:>10.3}{:>8.1}%{:>8.1}%",
                cell(0),
                num(1),
                num(2),
                num(3),
                num(4),
                num(5),
                num(6) * 100.0,
                num(7) * 100.0
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn aipl_flow(
    path: &Path,
    from: &str,
    to: &str,
    model: Option<&str>,
    out: Option<PathBuf>,
) -> Result<ExitCode, String> {
    let (from, to) = (date(from)?, date(to)?);
    let loaded = load(path)?;
    let model = aipl_model(&loaded, model)?;
    let out = out.unwrap_or_else(|| loaded.config.out.clone());
    let before = mj_runtime::aipl::read(&out, &model, &from).map_err(|e| e.message)?;
    let after = mj_runtime::aipl::read(&out, &model, &to).map_err(|e| e.message)?;
    let m = mj_runtime::aipl::flow(&before, &after);
    let states = mj_runtime::aipl::STATES;
    println!("{model}: {from} (rows) -> {to} (columns)");
    print!("{:>6}", "");
    for t in states {
        print!("{t:>10}");
    }
    println!("{:>10}", "total");
    for f in states {
        print!("{f:>6}");
        let mut total = 0;
        for t in states {
            let n = m[&(f.to_string(), t.to_string())];
            total += n;
            print!("{n:>10}");
        }
        println!("{total:>10}");
    }
    println!();
    for f in &states[..4] {
        let get = |t: &str| m[&(f.to_string(), t.to_string())];
        let conv: Vec<String> = states[..4]
            .iter()
            .filter(|t| *t != f)
            .map(|t| format!("->{t} {}", get(t)))
            .collect();
        println!(
            "{f}: stay {}, {}, churn {}",
            get(f),
            conv.join(", "),
            get("none")
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub fn aipl_trend(
    path: &Path,
    to: &str,
    days: u32,
    model: Option<&str>,
    by: Option<&str>,
    out: Option<PathBuf>,
) -> Result<ExitCode, String> {
    let to =
        chrono::NaiveDate::parse_from_str(&date(to)?, "%Y-%m-%d").map_err(|e| e.to_string())?;
    let loaded = load(path)?;
    let model = aipl_model(&loaded, model)?;
    let out = out.unwrap_or_else(|| loaded.config.out.clone());
    if let Some(by) = by {
        let breakdowns: Vec<&str> = loaded
            .graph
            .nodes
            .iter()
            .filter_map(|n| match &n.kind {
                mj_compiler::lower::NodeKind::Aipl(a) if a.name == model => Some(a),
                _ => None,
            })
            .flat_map(|a| a.breakdowns.iter().map(|b| b.name.as_str()))
            .collect();
        if !breakdowns.contains(&by) {
            return Err(if breakdowns.is_empty() {
                format!("`{model}` is not broken down (its header has no `by`)")
            } else {
                format!(
                    "`{model}` is not broken down by `{by}`; it is by: {}",
                    breakdowns.join(", ")
                )
            });
        }
        let rows = mj_runtime::aipl::trend_by(&out, &model, by, to, days).map_err(|e| e.message)?;
        if rows.is_empty() {
            return Err(format!(
                "no stages of `{model}` in the {days} days up to {to}"
            ));
        }
        let stages = &mj_runtime::aipl::STATES[..4];
        print!("{:<12}{by:<16}", "date");
        for s in stages {
            print!("{s:>10}");
        }
        println!();
        for (day, counts) in rows {
            let mut values: Vec<&str> = counts
                .keys()
                .filter(|(s, _)| s != "none")
                .map(|(_, v)| v.as_str())
                .collect();
            values.sort();
            values.dedup();
            for v in values {
                print!("{day:<12}{v:<16}");
                for s in stages {
                    let n = counts
                        .get(&(s.to_string(), v.to_string()))
                        .copied()
                        .unwrap_or(0);
                    print!("{n:>10}");
                }
                println!();
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let rows = mj_runtime::aipl::trend(&out, &model, to, days).map_err(|e| e.message)?;
    if rows.is_empty() {
        return Err(format!(
            "no stages of `{model}` in the {days} days up to {to}"
        ));
    }
    print!("{:<12}", "date");
    for s in mj_runtime::aipl::STATES {
        print!("{s:>10}");
    }
    println!();
    for (day, counts) in rows {
        print!("{day:<12}");
        for s in mj_runtime::aipl::STATES {
            print!("{:>10}", counts.get(s).copied().unwrap_or(0));
        }
        println!();
    }
    Ok(ExitCode::SUCCESS)
}
