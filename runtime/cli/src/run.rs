//! `mj run`, `mj gen` and `mj oneid explain`: the commands that touch data.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use mj_runtime::{Event, RunOptions};

use crate::project;

/// A project that checks clean, lowered to its job graph.
pub struct Loaded {
    pub config: project::Config,
    pub graph: mj_compiler::lower::JobGraph,
}

/// Why a project could not be loaded.
pub enum LoadError {
    /// The specs have errors (already printed).
    Invalid(String),
    /// The files or `mj.toml` could not be read.
    Unreadable(String),
}

impl From<LoadError> for String {
    fn from(e: LoadError) -> String {
        match e {
            LoadError::Invalid(m) | LoadError::Unreadable(m) => m,
        }
    }
}

pub fn load(path: &Path) -> Result<Loaded, LoadError> {
    let files = project::load(&[path.to_path_buf()]).map_err(LoadError::Unreadable)?;
    let config = project::config(path).map_err(LoadError::Unreadable)?;
    let db = mj_compiler::Database::default();
    let project = mj_compiler::load(&db, &files.inputs());
    let diags = mj_compiler::all_diagnostics(&db, project);
    if diags.iter().any(|d| d.is_error()) {
        let texts = crate::render::Texts::new(&db, project);
        crate::render::human(&mut std::io::stderr().lock(), &diags, &texts);
        return Err(LoadError::Invalid(
            "the project has errors; fix them first (`mj check`)".to_string(),
        ));
    }
    Ok(Loaded {
        config,
        graph: mj_compiler::lower::job_graph(&db, project).clone(),
    })
}

pub fn date(text: &str) -> Result<String, String> {
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map(|d| d.format("%Y-%m-%d").to_string())
        .map_err(|_| format!("`{text}` is not a date (YYYY-MM-DD)"))
}

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())
}

pub fn run(
    path: &Path,
    date_text: &str,
    out: Option<PathBuf>,
    data: Option<PathBuf>,
    flags: Flags,
    cluster: Option<String>,
) -> Result<ExitCode, String> {
    let Flags {
        reuse,
        jit,
        show_pii,
        full,
    } = flags;
    let date = date(date_text)?;
    // A spec with errors is a failed run (exit 1), as a missing file is; an unreadable
    // project is a usage error (exit 2).
    let loaded = match load(path) {
        Ok(loaded) => loaded,
        Err(LoadError::Invalid(message)) => {
            eprintln!("error: {message}");
            eprintln!("failed: nothing was run; earlier outputs are unchanged");
            return Ok(ExitCode::from(1));
        }
        Err(e) => return Err(e.into()),
    };
    let mut data = data.unwrap_or_else(|| loaded.config.data.clone());
    let mut out = out.unwrap_or_else(|| loaded.config.out.clone());
    let cluster = cluster.or_else(|| loaded.config.cluster.clone());
    let rt = runtime()?;
    let cluster = match cluster {
        Some(url) => {
            // Executors run elsewhere: they read and plans name absolute paths.
            std::fs::create_dir_all(&out)
                .map_err(|e| format!("cannot create {}: {e}", out.display()))?;
            out = absolute(&out)?;
            data = absolute(&data)?;
            match rt.block_on(mj_cluster::session(&url)) {
                Ok(session) => Some(mj_runtime::Cluster { url, session }),
                Err(e) => {
                    eprintln!("error: {e}");
                    eprintln!("failed: nothing was run; earlier outputs are unchanged");
                    return Ok(ExitCode::from(1));
                }
            }
        }
        None => None,
    };
    let opts = RunOptions {
        date,
        data,
        out,
        project: loaded.config.name.clone(),
        reuse,
        jit,
        show_pii,
        oneid_engine: loaded.config.oneid_engine,
        database_urls: loaded.config.database_urls.clone(),
        full,
    };
    let total = loaded.graph.nodes.len();
    let progress = Progress::new(total);
    let (manifest, result) = rt.block_on(mj_runtime::run_on(cluster, &loaded.graph, &opts, &|e| {
        progress.event(e)
    }));
    progress.finish();
    let manifest_path = opts
        .out
        .join("_runs")
        .join(format!("{}.json", manifest.run_id));
    match result {
        Ok(()) => {
            for t in &manifest.tables {
                eprintln!("  {:<32} {:>10} rows  {}", t.table, t.rows, t.path);
            }
            for s in &manifest.scans {
                for o in &s.report.outputs {
                    let scan = format!("scan.{}", s.scan);
                    eprintln!(
                        "  {scan:<32} {:>10}       {}",
                        "",
                        opts.out.join(o).display()
                    );
                }
            }
            eprintln!(
                "ok: {} table(s) for {} in {:.1} s; manifest {}",
                manifest.tables.len(),
                manifest.date,
                manifest.seconds,
                manifest_path.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("error: {e}");
            if e.message.contains(mj_runtime::COMMITTED) {
                eprintln!(
                    "failed after the commit: this run's partitions are in place; manifest {}",
                    manifest_path.display()
                );
            } else {
                eprintln!(
                    "failed: earlier outputs are unchanged; manifest {}",
                    manifest_path.display()
                );
            }
            Ok(ExitCode::from(1))
        }
    }
}

/// The bars of a terminal: one per running node, by node id.
type Bars = (MultiProgress, Mutex<Vec<(String, ProgressBar)>>);

/// Progress: bars on a terminal, one line per event otherwise.
struct Progress {
    bars: Option<Bars>,
    total: usize,
    done: Mutex<usize>,
}

impl Progress {
    fn new(total: usize) -> Progress {
        let bars = std::io::stderr()
            .is_terminal()
            .then(|| (MultiProgress::new(), Mutex::new(Vec::new())));
        Progress {
            bars,
            total,
            done: Mutex::new(0),
        }
    }

    fn event(&self, e: Event) {
        match (&self.bars, e) {
            (Some((multi, bars)), Event::Started { node }) => {
                let bar = multi.add(ProgressBar::new_spinner());
                bar.set_style(ProgressStyle::with_template("{spinner} {msg}").expect("template"));
                bar.set_message(node.clone());
                bar.enable_steady_tick(std::time::Duration::from_millis(120));
                bars.lock().expect("lock").push((node, bar));
            }
            (
                Some((_, bars)),
                Event::Finished {
                    node,
                    summary,
                    seconds,
                },
            ) => {
                if let Some((_, bar)) = bars.lock().expect("lock").iter().find(|(n, _)| *n == node)
                {
                    bar.finish_with_message(format!("✓ {node}: {summary} ({seconds:.1} s)"));
                }
            }
            (Some((_, bars)), Event::Failed { node, error }) => {
                if let Some((_, bar)) = bars.lock().expect("lock").iter().find(|(n, _)| *n == node)
                {
                    bar.abandon_with_message(format!("✗ {node}: {error}"));
                }
            }
            (None, Event::Started { .. }) => {}
            (
                None,
                Event::Finished {
                    node,
                    summary,
                    seconds,
                },
            ) => {
                let mut done = self.done.lock().expect("lock");
                *done += 1;
                eprintln!(
                    "[{}/{}] {node}: {summary} ({seconds:.1} s)",
                    *done, self.total
                );
            }
            (None, Event::Failed { node, error }) => eprintln!("failed {node}: {error}"),
        }
    }

    fn finish(&self) {
        if let Some((multi, _)) = &self.bars {
            let _ = multi.clear();
        }
    }
}

pub fn generate(
    path: &Path,
    consumers: u64,
    days: u32,
    seed: u64,
    end: &str,
    out: &Path,
    places: Option<PathBuf>,
) -> Result<ExitCode, String> {
    let end = chrono::NaiveDate::parse_from_str(end, "%Y-%m-%d")
        .map_err(|_| format!("`{end}` is not a date (YYYY-MM-DD)"))?;
    let loaded = load(path)?;
    let declares =
        |name: &str| {
            loaded.graph.nodes.iter().any(
                |n| matches!(&n.kind, mj_compiler::lower::NodeKind::Source(s) if s.name == name),
            )
        };
    let sources = mj_gen::layout().iter().any(|(name, _, _)| declares(name));
    // The generator writes the example's sources: the spec must declare them alike.
    for (name, location, columns) in mj_gen::layout().into_iter().filter(|_| sources) {
        let found = loaded.graph.nodes.iter().find_map(|n| match &n.kind {
            mj_compiler::lower::NodeKind::Source(s) if s.name == name => Some(s),
            _ => None,
        });
        let Some(s) = found else {
            return Err(format!(
                "the project declares no source `{name}`, which `mj gen` writes"
            ));
        };
        let declared: Vec<&str> = s.columns.iter().map(|c| c.name.as_str()).collect();
        if s.path != location || declared != columns {
            return Err(format!(
                "source `{name}` is declared at {:?} with columns ({}); `mj gen` writes {location:?} with ({})",
                s.path,
                declared.join(", "),
                columns.join(", ")
            ));
        }
    }
    let started = std::time::Instant::now();
    let scans = generate_scans(&loaded.graph, out, seed)?;
    if !sources && scans.is_empty() {
        return Err(
            "the project declares neither the sources `mj gen` writes nor a scan it can capture"
                .to_string(),
        );
    }
    let mut files = 0;
    let mut persons = 0;
    if sources {
        let cfg = mj_gen::GenConfig {
            consumers,
            days,
            seed,
            end,
            places,
        };
        let summary = mj_gen::generate(&cfg, out).map_err(|e| e.to_string())?;
        persons = summary.persons;
        for (file, rows) in &summary.files {
            eprintln!("  {file:<40} {rows:>10} rows");
        }
        files = summary.files.len();
    }
    for (dir, n) in &scans {
        eprintln!("  {dir:<40} {n:>10} files");
    }
    eprintln!(
        "ok: {persons} persons, {files} files, {} scan capture(s) in {:.1} s under {}",
        scans.len(),
        started.elapsed().as_secs_f64(),
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

pub fn explain(
    path: &Path,
    date_text: &str,
    entity: Option<&str>,
    a: &str,
    b: &str,
    out: Option<PathBuf>,
    show_pii: bool,
) -> Result<ExitCode, String> {
    let date = date(date_text)?;
    let loaded = load(path)?;
    let out = out.unwrap_or_else(|| loaded.config.out.clone());
    let rt = runtime()?;
    // The run of that date: its sources' partitions, resolved again (the same rows give
    // the same people), and the OneIDs it gave.
    let (job, resolved) = rt
        .block_on(mj_runtime::resolve_entity_of_run(
            &loaded.graph,
            entity,
            &out,
            &date,
        ))
        .map_err(|e| e.to_string())?;
    let ids = run_oneids(&out, &job.name, &date, &[a, b])?;
    let find = |name: &str| {
        resolved.find(name).ok_or(format!(
            "no record `{name}` in `{}` on {date} (write SOURCE:KEY, e.g. crm_member:M00000001)",
            job.name
        ))
    };
    let (ra, rb) = (find(a)?, find(b)?);
    let id = |name: &str| ids.get(name).map_or("no OneID", String::as_str).to_string();
    let explanation = resolved.explain(ra, rb, show_pii);
    let same = matches!(explanation, mj_oneid::Explanation::Same(_));
    if same != (ids.contains_key(a) && ids.get(a) == ids.get(b)) {
        eprintln!(
            "warning: the run of {date} gave {a} {} and {b} {}, which the rules of the project as it is now do not; the explanation follows today's rules",
            id(a),
            id(b)
        );
    }
    match explanation {
        mj_oneid::Explanation::Same(hops) => {
            println!(
                "{a} and {b} are one {}, {} in the run of {date} ({} hop(s)):",
                job.name,
                id(a),
                hops.len()
            );
            for h in hops {
                println!(
                    "  {} --{} {:?} [{}]--> {}",
                    resolved.record_name(h.from),
                    h.identifier,
                    h.value,
                    h.rule,
                    resolved.record_name(h.to)
                );
            }
        }
        mj_oneid::Explanation::Apart(reasons) => {
            println!(
                "{a} and {b} are different {}s in the run of {date} ({} and {}):",
                job.name,
                id(a),
                id(b)
            );
            for r in reasons {
                println!("  - {r}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The OneID the run of `date` gave each of `names` (`SOURCE:KEY`), from its
/// `oneid/<entity>` partition.
fn run_oneids(
    out: &Path,
    entity: &str,
    date: &str,
    names: &[&str],
) -> Result<std::collections::HashMap<String, String>, String> {
    use arrow::array::{Array, AsArray};
    let dir = out.join(format!("oneid/{entity}/dt={date}"));
    if !dir.is_dir() {
        return Err(format!(
            "no run of {date} wrote {}; run `mj run --date {date}` first",
            dir.display()
        ));
    }
    let mut found = std::collections::HashMap::new();
    for b in mj_runtime::write::read_partition(&dir).map_err(|e| e.to_string())? {
        let column = |name: &str| b.schema().index_of(name).map(|i| b.column(i).clone());
        let (Ok(source), Ok(record), Ok(oneid), Ok(first)) = (
            column("source"),
            column("record_id"),
            column("oneid"),
            column("key_first"),
        ) else {
            return Err(format!("{} is not a OneID mapping", dir.display()));
        };
        let (source, record, oneid) = (
            source.as_string::<i32>(),
            record.as_string::<i32>(),
            oneid.as_string::<i32>(),
        );
        let first = first.as_boolean();
        for i in 0..b.num_rows() {
            if !first.value(i) || record.is_null(i) {
                continue;
            }
            let name = format!("{}:{}", source.value(i), record.value(i));
            if names.contains(&name.as_str()) {
                found.insert(name, oneid.value(i).to_string());
            }
        }
    }
    Ok(found)
}

pub fn plan(
    path: &Path,
    table: Option<&str>,
    date_text: Option<&str>,
    out: Option<PathBuf>,
    jit: bool,
) -> Result<ExitCode, String> {
    let date = match date_text {
        Some(d) => date(d)?,
        None => chrono::Local::now().format("%Y-%m-%d").to_string(),
    };
    let loaded = load(path)?;
    let rt = runtime()?;
    let plans = rt
        .block_on(mj_runtime::plans(
            &loaded.graph,
            &date,
            &out.unwrap_or_else(|| loaded.config.out.clone()),
            jit,
        ))
        .map_err(|e| e.to_string())?;
    let chosen: Vec<_> = plans
        .iter()
        .filter(|p| {
            let node = &p.node;
            table.is_none_or(|t| node.to_string() == t || node.name == t)
        })
        .collect();
    if chosen.is_empty() {
        let known: Vec<String> = plans.iter().map(|p| p.node.to_string()).collect();
        return Err(format!(
            "no planned table {}; planned tables: {}",
            table.unwrap_or(""),
            known.join(", ")
        ));
    }
    for p in chosen {
        println!(
            "== {} ({date})\n-- logical\n{}\n-- physical\n{}",
            p.node, p.logical, p.physical
        );
        if !p.rules.is_empty() {
            println!("-- rules");
            for r in &p.rules {
                println!("{r}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn sql(
    path: &Path,
    dialect: mj_runtime::Dialect,
    date_text: Option<&str>,
    out: Option<PathBuf>,
) -> Result<ExitCode, String> {
    let date = match date_text {
        Some(d) => date(d)?,
        None => chrono::Local::now().format("%Y-%m-%d").to_string(),
    };
    let loaded = load(path)?;
    let rt = runtime()?;
    let statements = rt
        .block_on(mj_runtime::sql(
            &loaded.graph,
            &date,
            &out.unwrap_or_else(|| loaded.config.out.clone()),
            dialect,
        ))
        .map_err(|e| e.to_string())?;
    println!(
        "-- SQL of each planned table for business date {date}. Tables read: ods_<source>\n\
         -- (a source's accepted rows, OUT/ods/<source>/dt=D), oneid_<entity> (the OneID\n\
         -- mapping, OUT/oneid/<entity>/dt=D), dwd_<fact>, dim_<dimension>."
    );
    for (node, sql) in statements {
        // The names plans read: dwd_<fact>; summary tables are already dws_….
        let name = match node.layer.as_str() {
            "dwd" | "dim" | "ads" => node.scan_name(),
            _ => node.name.clone(),
        };
        if sql.starts_with("--") {
            println!("\n-- {node}\n{sql}");
        } else {
            println!("\n-- {node}\nCREATE VIEW {name} AS\n{sql};");
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn lineage(path: &Path, target: &str, json: bool) -> Result<ExitCode, String> {
    let loaded = load(path)?;
    let Some(l) = mj_compiler::lineage::lineage(&loaded.graph, target) else {
        return Err(format!(
            "`{target}` is neither a derived or composite metric nor a column of a generated table (write `pay_amt_30d`, `dwd.pay_order.amount`, `dws.dws_consumer.pay_amt_30d`, `ads.consumer_tags.price_level` or `export.sofa_intent.phone_sha256`)"
        ));
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&l).unwrap_or_default());
    } else {
        print!("{}", l.render());
    }
    Ok(ExitCode::SUCCESS)
}

fn absolute(p: &Path) -> Result<PathBuf, String> {
    std::path::absolute(p).map_err(|e| format!("{}: {e}", p.display()))
}

/// Ballista's own log on stderr: warnings and errors, or what `RUST_LOG` asks for.
fn server_log() {
    let _ = env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn"))
        .try_init();
}

/// Serves a scheduler or an executor until SIGTERM or Ctrl-C: exit 0 when it stops,
/// 1 with its error when it cannot start.
fn serve(
    what: &str,
    server: impl std::future::Future<Output = Result<(), String>>,
) -> Result<ExitCode, String> {
    server_log();
    match runtime()?.block_on(server) {
        Ok(()) => {
            eprintln!("mj {what} stopped");
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("error: {e}");
            Ok(ExitCode::from(1))
        }
    }
}

/// `mj run`'s switches.
pub struct Flags {
    pub reuse: bool,
    pub jit: bool,
    pub show_pii: bool,
    /// Read `incremental by` sources whole.
    pub full: bool,
}

/// `mj scheduler`: serves until SIGTERM or Ctrl-C.
pub fn scheduler(bind: &str, port: u16) -> Result<ExitCode, String> {
    serve(
        "scheduler",
        mj_cluster::scheduler(bind, port, |at| {
            eprintln!("mj scheduler listening on {at}");
        }),
    )
}

/// `mj executor`: serves the scheduler's tasks until SIGTERM or Ctrl-C.
pub fn executor(opts: mj_cluster::ExecutorOptions) -> Result<ExitCode, String> {
    let scheduler = opts.scheduler.clone();
    serve(
        "executor",
        mj_cluster::executor(&opts, move |at| {
            eprintln!("mj executor listening on {at} for the scheduler at {scheduler}");
        }),
    )
}

/// `mj scan`: runs the project's scan jobs (or one) alone, each output written beside
/// its place and renamed into it.
pub fn scan(
    path: &Path,
    name: Option<&str>,
    out: Option<PathBuf>,
    data: Option<PathBuf>,
) -> Result<ExitCode, String> {
    let loaded = load(path)?;
    let data = data.unwrap_or_else(|| loaded.config.data.clone());
    let out = out.unwrap_or_else(|| loaded.config.out.clone());
    let scans: Vec<&mj_compiler::lower::ScanJob> = loaded
        .graph
        .nodes
        .iter()
        .filter_map(|n| match &n.kind {
            mj_compiler::lower::NodeKind::Scan(s) => Some(s),
            _ => None,
        })
        .collect();
    let chosen: Vec<_> = scans
        .iter()
        .filter(|s| name.is_none_or(|n| n == s.name))
        .collect();
    if chosen.is_empty() {
        let known: Vec<&str> = scans.iter().map(|s| s.name.as_str()).collect();
        return Err(match name {
            Some(n) if !known.is_empty() => {
                format!(
                    "the project has no scan `{n}` (scans: {})",
                    known.join(", ")
                )
            }
            _ => "the project declares no scan".to_string(),
        });
    }
    let mut failed = false;
    for s in chosen {
        let job = mj_runtime::scan::job(s, &data, &out);
        let started = std::time::Instant::now();
        match mj_scan::job::run(&job) {
            Ok(report) => {
                eprintln!(
                    "scan.{}: {} rooms, {:.2} m², {} panoramas, {} triangles in {:.1} s",
                    s.name,
                    report.rooms,
                    report.area_m2,
                    report.panoramas,
                    report.triangles,
                    started.elapsed().as_secs_f64()
                );
                for (step, secs) in &report.steps {
                    eprintln!("  {step:<18} {secs:>7.3} s");
                }
                for o in &report.outputs {
                    println!("{}", out.join(o).display());
                }
            }
            Err(e) => {
                eprintln!("error: scan.{}: {e}", s.name);
                failed = true;
            }
        }
    }
    Ok(if failed {
        eprintln!("failed: the outputs of the failed scans are unchanged");
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Writes synthetic captures of the showroom of `mj_scan::synth::showroom` for the
/// project's scans: panoramas and their corner annotations (2 px of click noise) for a
/// scan whose captures are `DIR/*.jpg` and `DIR/layout.json`, a scanned point cloud of
/// its living room (binary PLY, Z up, 1 cm of noise) for a scan that captures one
/// `….ply`; returns (what was written, files), or says why a scan was left alone.
fn generate_scans(
    graph: &mj_compiler::lower::JobGraph,
    out: &Path,
    seed: u64,
) -> Result<Vec<(String, usize)>, String> {
    let plan = mj_scan::synth::showroom();
    let mut written = Vec::new();
    for n in &graph.nodes {
        let mj_compiler::lower::NodeKind::Scan(s) = &n.kind else {
            continue;
        };
        let folder = match (s.panoramas.as_slice(), s.annotations.as_slice()) {
            ([p], [a]) if a.ends_with("/layout.json") && p.ends_with("/*.jpg") => {
                let dir = a.trim_end_matches("/layout.json");
                (p.trim_end_matches("/*.jpg") == dir).then_some(dir)
            }
            _ => None,
        };
        let cloud = match (s.panoramas.as_slice(), s.pointclouds.as_slice()) {
            ([], [c]) if c.ends_with(".ply") && !c.contains('*') => Some(c),
            _ => None,
        };
        if let Some(dir) = folder {
            let files = mj_scan::synth::write_capture(&plan, &out.join(dir), 1024, 2.0, seed)
                .map_err(|e| e.to_string())?;
            written.push((format!("{dir}/ (scan {})", s.name), files.len()));
        } else if let Some(file) = cloud {
            // The living room, as a laser scanner would capture it.
            mj_scan::synth::write_cloud(&plan, 1, &out.join(file), seed)
                .map_err(|e| e.to_string())?;
            written.push((format!("{file} (scan {})", s.name), 1));
        } else {
            eprintln!(
                "  scan.{}: not generated (mj gen writes captures given as DIR/*.jpg with DIR/layout.json, or one .ply)",
                s.name
            );
        }
    }
    Ok(written)
}
