//! OneID throughput on the example's generated data.
//!
//! `cargo run --release -p mj-runtime --example bench_oneid -- PROJECT DATA [LINKS_CSV]`
//!
//! Reads the sources PROJECT's `oneid` item links from DATA as `mj run` reads them
//! (not timed: `mj gen` writes them), then times what the OneID node computes from
//! those rows: normalization, fingerprint → dense id mapping, union-find with the
//! guards, stable-id assignment (a first run). Prints one JSON object: rows, links
//! (usable identifier values over all rows), records, persons, seconds, links per
//! second, each phase, the minor page faults of the timed part and peak memory.
//! With LINKS_CSV, also writes every link (row → value) for an outside
//! connected-components pass over the same links (`bench/oneid.py` runs DuckDB on
//! them).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use mj_oneid::stable::Previous;
use mj_runtime::oneid;

fn peak_rss_mb() -> f64 {
    status_kb("VmHWM:").map_or(0.0, |kb| kb / 1024.0)
}

fn status_kb(field: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Field `n` of `/proc/self/stat` after the command name (which is in parentheses).
fn stat_field(n: usize) -> u64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            s.rsplit(')')
                .next()?
                .split_whitespace()
                .nth(n)?
                .parse()
                .ok()
        })
        .unwrap_or(0)
}

/// Minor page faults so far: fresh memory costs one per 4 KiB page.
fn minor_faults() -> u64 {
    stat_field(7)
}

/// CPU time of all threads so far (user and system), in clock ticks of 10 ms.
fn cpu_ticks() -> u64 {
    stat_field(11) + stat_field(12)
}

/// The project's `.mj` files, in name order.
fn project_files(dir: &Path) -> Vec<(String, String)> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| Some(e.ok()?.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "mj"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("a readable .mj file");
            (p.display().to_string(), text)
        })
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [project, data, rest @ ..] = args.as_slice() else {
        eprintln!("usage: bench_oneid PROJECT DATA [--runs N] [LINKS_CSV]");
        std::process::exit(2);
    };
    let db = mj_compiler::Database::default();
    let files = project_files(Path::new(project));
    let loaded = mj_compiler::load(&db, &files);
    if mj_compiler::all_diagnostics(&db, loaded)
        .iter()
        .any(|d| d.is_error())
    {
        eprintln!("{project} has errors: run `mj check {project}`");
        std::process::exit(1);
    }
    let graph = mj_compiler::lower::job_graph(&db, loaded).clone();
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let (job, inputs) = runtime
        .block_on(mj_runtime::read_entity_sources(
            &graph,
            None,
            Path::new(data),
        ))
        .unwrap_or_else(|e| panic!("reading the sources: {}", e.message));
    let refs: Vec<oneid::Input<'_>> = inputs
        .iter()
        .map(|(s, d)| oneid::Input { source: s, data: d })
        .collect();

    // `--runs N`: N resolutions in this process, one JSON line each. The first pays
    // for mapping fresh memory into the process; on a virtual machine that memory may
    // also be new to the host, which costs more than the work itself.
    let (runs, rest): (usize, Vec<&String>) = match rest {
        [flag, n, tail @ ..] if flag == "--runs" => (
            n.parse().expect("--runs takes a number"),
            tail.iter().collect(),
        ),
        _ => (1, rest.iter().collect()),
    };
    for run in 0..runs.max(1) {
        let faults = minor_faults();
        let ticks = cpu_ticks();
        let started = Instant::now();
        let resolved = oneid::resolve(&job, &refs).expect("resolving");
        let resolved_at = started.elapsed().as_secs_f64();
        let ids = oneid::ids(&job, "2025-06-30", &resolved, &Previous::default());
        let total = started.elapsed().as_secs_f64();
        let faults = minor_faults() - faults;
        let cpu = (cpu_ticks() - ticks) as f64 / 100.0;

        let res = &resolved.resolution;
        let phased: f64 = res.phases.iter().map(|(_, d)| d.as_secs_f64()).sum();
        let mut phases = format!("\"map\": {:.3}", resolved_at - phased);
        for (name, d) in &res.phases {
            phases.push_str(&format!(", \"{name}\": {:.3}", d.as_secs_f64()));
        }
        phases.push_str(&format!(", \"ids\": {:.3}", total - resolved_at));
        println!(
            "{{\"rows\": {}, \"links\": {}, \"records\": {}, \"persons\": {}, \"ids\": {}, \"seconds\": {total:.3}, \"links_per_second\": {:.0}, \"cpu_seconds\": {cpu:.2}, \"page_faults\": {faults}, \"peak_rss_mb\": {:.0}, \"phases\": {{{phases}}}}}",
            res.rows,
            res.row_links,
            res.records(),
            res.components,
            ids.ids.len(),
            res.row_links as f64 / total,
            peak_rss_mb(),
        );
        if run + 1 < runs {
            continue;
        }
        if let Some(path) = rest.first() {
            // Every link as given: row → value (values numbered after the rows).
            let mut w = std::io::BufWriter::new(std::fs::File::create(path).expect("links file"));
            writeln!(w, "u,v").expect("write");
            for row in 0..res.rows as u32 {
                for &v in res.record_values(res.record_of(row)) {
                    writeln!(w, "{row},{}", res.rows + u64::from(v)).expect("write");
                }
            }
        }
    }
}
