//! Helpers shared by the test modules.

use std::path::{Path, PathBuf};

use mj_compiler::Database;
use mj_lang::Diagnostic;
use mj_lang::diagnostic::line_col;

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// The `.mj` files under a folder, recursively, sorted, as (path relative to `root`, text).
pub fn mj_files(dir: &Path, root: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("readable folder") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "mj") {
                let rel = path
                    .strip_prefix(root)
                    .unwrap_or(&path)
                    .display()
                    .to_string();
                out.push((rel, std::fs::read_to_string(&path).expect("utf-8 file")));
            }
        }
    }
    out.sort();
    out
}

/// Checks files as one project; returns the diagnostics rendered one per line block.
pub fn check_rendered(files: &[(String, String)]) -> (Vec<Diagnostic>, String) {
    let db = Database::default();
    let project = mj_compiler::load(&db, files);
    let diags = mj_compiler::all_diagnostics(&db, project);
    let mut texts: Vec<(mj_lang::ast::FileId, String, String)> = Vec::new();
    for f in project.files(&db) {
        texts.push((f.id(&db), f.path(&db).clone(), f.text(&db).clone()));
    }
    let pos = |span: mj_lang::ast::Span| {
        let (_, path, text) = texts.iter().find(|t| t.0 == span.file).expect("known file");
        let (l, c) = line_col(text, span.start as usize);
        let (el, ec) = line_col(text, span.end as usize);
        format!("{path}:{l}:{c}-{el}:{ec}")
    };
    let mut out = String::new();
    for d in &diags {
        out.push_str(&format!(
            "{}: {}[{}] {}\n",
            pos(d.span),
            d.severity.as_str(),
            d.code,
            d.message
        ));
        if let Some(l) = &d.span_label {
            out.push_str(&format!("  label: {l}\n"));
        }
        for l in &d.labels {
            out.push_str(&format!("  also {}: {}\n", pos(l.span), l.message));
        }
        if let Some(h) = &d.help {
            out.push_str(&format!("  help: {h}\n"));
        }
        if let Some(f) = &d.fix {
            for e in &f.edits {
                out.push_str(&format!(
                    "  fix ({}): {} -> {:?}\n",
                    f.message,
                    pos(e.span),
                    e.replacement
                ));
            }
        }
    }
    (diags, out)
}

/// A project folder lowered to its job graph; panics on errors.
pub fn graph(dir: &Path) -> mj_compiler::lower::JobGraph {
    let files = mj_files(dir, dir);
    let db = Database::default();
    let project = mj_compiler::load(&db, &files);
    let errors: Vec<_> = mj_compiler::all_diagnostics(&db, project)
        .into_iter()
        .filter(|d| d.is_error())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    mj_compiler::lower::job_graph(&db, project).clone()
}

/// Runs a graph for a date; returns the manifest and whether it succeeded.
pub fn run(
    graph: &mj_compiler::lower::JobGraph,
    data: &Path,
    out: &Path,
    date: &str,
) -> (mj_runtime::Manifest, Result<(), mj_runtime::RunError>) {
    run_with(graph, data, out, date, false)
}

/// [`run`], optionally reusing the sources and OneIDs of an earlier run.
pub fn run_with(
    graph: &mj_compiler::lower::JobGraph,
    data: &Path,
    out: &Path,
    date: &str,
    reuse: bool,
) -> (mj_runtime::Manifest, Result<(), mj_runtime::RunError>) {
    run_engine(
        graph,
        data,
        out,
        date,
        reuse,
        mj_runtime::OneIdEngine::Local,
    )
}

/// [`run_with`], OneID resolved by `engine`.
pub fn run_engine(
    graph: &mj_compiler::lower::JobGraph,
    data: &Path,
    out: &Path,
    date: &str,
    reuse: bool,
    oneid_engine: mj_runtime::OneIdEngine,
) -> (mj_runtime::Manifest, Result<(), mj_runtime::RunError>) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio");
    let opts = mj_runtime::RunOptions {
        date: date.to_string(),
        data: data.to_path_buf(),
        out: out.to_path_buf(),
        project: "test".to_string(),
        reuse,
        jit: true,
        show_pii: false,
        oneid_engine,
        database_urls: Default::default(),
        full: false,
    };
    rt.block_on(mj_runtime::run(graph, &opts, &|_| {}))
}

/// A fresh scratch folder under the system's temp folder, removed when the test is
/// done with it; kept, and named on stderr, when the test fails, to look into.
pub fn scratch(name: &str) -> Scratch {
    let dir = std::env::temp_dir().join(format!("mj-suite-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch");
    Scratch(dir)
}

/// See [`scratch`].
pub struct Scratch(PathBuf);

impl std::ops::Deref for Scratch {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for Scratch {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("kept for a look: {}", self.0.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// Every row of a partition's Parquet files.
pub fn partition(dir: &Path) -> Vec<arrow::array::RecordBatch> {
    mj_runtime::write::read_partition(dir).expect("readable partition")
}

/// Pairwise precision, recall and F1 of a clustering against the truth. Items of the
/// prediction the truth does not know (records that are nobody's) are left out; an
/// item of the truth missing from the prediction is a person of its own there, so
/// its pairs are lost recall.
pub fn pairwise(pred: &[(String, String)], truth: &[(String, String)]) -> (f64, f64, f64) {
    use std::collections::HashMap;
    let truth_of: HashMap<&str, &str> = truth
        .iter()
        .map(|(i, c)| (i.as_str(), c.as_str()))
        .collect();
    // Pairs counted through cluster sizes: within predicted clusters, within truth
    // clusters, and within their intersections.
    let mut pred_sizes: HashMap<&str, u64> = HashMap::new();
    let mut truth_sizes: HashMap<&str, u64> = HashMap::new();
    let mut both: HashMap<(&str, &str), u64> = HashMap::new();
    let mut seen: std::collections::HashSet<&str> = std::collections::HashSet::new();
    for (item, p) in pred {
        let Some(t) = truth_of.get(item.as_str()) else {
            continue;
        };
        // A key that repeats (two rows with one order id) is scored once, as facts
        // join it: its first row.
        if !seen.insert(item) {
            continue;
        }
        *pred_sizes.entry(p).or_default() += 1;
        *both.entry((p, t)).or_default() += 1;
    }
    for (_, t) in truth {
        *truth_sizes.entry(t).or_default() += 1;
    }
    let pairs = |n: &u64| n * n.saturating_sub(1) / 2;
    let predicted: u64 = pred_sizes.values().map(pairs).sum();
    let actual: u64 = truth_sizes.values().map(pairs).sum();
    let correct: u64 = both.values().map(pairs).sum();
    let precision = if predicted == 0 {
        1.0
    } else {
        correct as f64 / predicted as f64
    };
    let recall = if actual == 0 {
        1.0
    } else {
        correct as f64 / actual as f64
    };
    let f1 = 2.0 * precision * recall / (precision + recall).max(f64::MIN_POSITIVE);
    (precision, recall, f1)
}

/// A scratch folder with `mj gen`'s data for the example (and its scan's captures): `consumers` over `days` up to
/// 2025-06-30, from `seed`.
pub fn generated(name: &str, consumers: u64, days: u32, seed: u64) -> Scratch {
    let dir = scratch(name);
    let cfg = mj_gen::GenConfig {
        consumers,
        days,
        seed,
        end: chrono::NaiveDate::from_ymd_opt(2025, 6, 30).expect("date"),
        places: None,
    };
    mj_gen::generate(&cfg, &dir).expect("generates");
    // The example's scan captures, as `mj gen` writes them (smaller panoramas).
    mj_scan::synth::write_capture(
        &mj_scan::synth::showroom(),
        &dir.join("scans/sh"),
        512,
        2.0,
        seed,
    )
    .expect("scan capture");
    dir
}

/// Every row of a partition as text, by column name (null as the empty string).
pub fn rows_text(dir: &Path, columns: &[&str]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for b in partition(dir) {
        let cols: Vec<_> = columns
            .iter()
            .map(|c| b.column(b.schema().index_of(c).expect("column")).clone())
            .collect();
        for i in 0..b.num_rows() {
            out.push(
                cols.iter()
                    .map(|c| {
                        if arrow::array::Array::is_null(c, i) {
                            String::new()
                        } else {
                            arrow::util::display::array_value_to_string(c, i).expect("cell")
                        }
                    })
                    .collect(),
            );
        }
    }
    out
}
