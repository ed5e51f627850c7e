//! Every table `mj run` writes for the examples, as an order-free digest, against the
//! digests kept in `tests/digests/<example>.txt`: a change of the compiler or the
//! engine that changes any output row shows here, table by table
//! (`UPDATE_EXPECT=1` rewrites the files; review the diff).

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::common::{graph, repo, run, scratch};

/// Each partition and file under `out` (manifests aside): `path rows digest`, sorted by
/// path. A Parquet partition's digest is over its rows rendered as text and sorted, with
/// its schema first; any other file's over its lines sorted. `data` (where the sources
/// were read: rejects name their files) is written as `<data>`.
fn digests(out: &Path, data: &Path) -> String {
    let data = data.display().to_string();
    let mut dirs = Vec::new();
    collect(out, out, &mut dirs);
    dirs.sort();
    let mut lines = Vec::new();
    for rel in dirs {
        let dir = out.join(&rel);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .expect("readable")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        let parquet = files
            .iter()
            .any(|f| f.extension().is_some_and(|x| x == "parquet"));
        if parquet {
            let batches = mj_runtime::write::read_partition(&dir).expect("partition");
            let mut rows = Vec::new();
            let mut schema = String::new();
            for b in &batches {
                schema = b
                    .schema()
                    .fields()
                    .iter()
                    .map(|f| format!("{}:{}", f.name(), f.data_type()))
                    .collect::<Vec<_>>()
                    .join(",");
                let columns: Vec<_> = b
                    .columns()
                    .iter()
                    .map(|c| {
                        arrow::util::display::ArrayFormatter::try_new(
                            c.as_ref(),
                            &arrow::util::display::FormatOptions::default().with_null("∅"),
                        )
                        .expect("formatter")
                    })
                    .collect();
                for i in 0..b.num_rows() {
                    let row: Vec<String> = columns.iter().map(|c| c.value(i).to_string()).collect();
                    rows.push(row.join("\u{1f}").replace(&data, "<data>"));
                }
            }
            rows.sort();
            lines.push(format!(
                "{} {} {}",
                rel.display(),
                rows.len(),
                digest(&schema, &rows)
            ));
        }
        for f in files
            .iter()
            .filter(|f| !parquet || f.extension().is_none_or(|x| x != "parquet"))
        {
            let bytes = std::fs::read(f).expect("readable");
            let text = String::from_utf8_lossy(&bytes);
            let mut rows: Vec<String> = text.lines().map(str::to_string).collect();
            rows.sort();
            let name = f.strip_prefix(out).expect("under out");
            lines.push(format!(
                "{} {} {}",
                name.display(),
                rows.len(),
                digest("", &rows)
            ));
        }
    }
    lines.join("\n") + "\n"
}

fn digest(head: &str, rows: &[String]) -> String {
    let mut h = Sha256::new();
    h.update(head.as_bytes());
    for r in rows {
        h.update(b"\n");
        h.update(r.as_bytes());
    }
    h.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Folders under `out` that hold files, relative to it; manifests and staging aside.
fn collect(out: &Path, dir: &Path, found: &mut Vec<PathBuf>) {
    let mut has_files = false;
    for e in std::fs::read_dir(dir).expect("readable") {
        let e = e.expect("entry");
        let name = e.file_name().to_string_lossy().to_string();
        if e.file_type().expect("type").is_dir() {
            if name != "_runs" && name != ".staging" {
                collect(out, &e.path(), found);
            }
        } else {
            has_files = true;
        }
    }
    if has_files && dir != out {
        found.push(dir.strip_prefix(out).expect("under out").to_path_buf());
    }
}

fn check(name: &str, got: &str) {
    let file = repo().join(format!("tests/digests/{name}.txt"));
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        std::fs::create_dir_all(file.parent().expect("folder")).expect("folder");
        std::fs::write(&file, got).expect("writes");
        return;
    }
    let want = std::fs::read_to_string(&file)
        .unwrap_or_else(|_| panic!("{} is missing; UPDATE_EXPECT=1 writes it", file.display()));
    if want != got {
        let changed: Vec<String> = got
            .lines()
            .filter(|l| !want.lines().any(|w| w == *l))
            .chain(want.lines().filter(|w| !got.lines().any(|l| l == *w)))
            .map(str::to_string)
            .collect();
        panic!(
            "the outputs of {name} changed (UPDATE_EXPECT=1 accepts them):\n{}",
            changed.join("\n")
        );
    }
}

#[test]
fn every_table_of_the_examples_keeps_its_digest() {
    // The example on generated data (small, fixed), Febrl and CDNOW on their own.
    let data = crate::common::generated("digests", 1500, 60, 5);
    let out = data.join("out");
    run(
        &graph(&repo().join("examples/meijia")),
        &data,
        &out,
        "2025-06-30",
    )
    .1
    .expect("the example runs");
    check("meijia", &digests(&out, &data));
    let out = scratch("digests-febrl");
    run(
        &graph(&repo().join("examples/febrl")),
        &repo().join("examples/febrl/data"),
        &out,
        "2025-01-01",
    )
    .1
    .expect("Febrl runs");
    check("febrl", &digests(&out, &repo().join("examples/febrl/data")));
    let out = scratch("digests-cdnow");
    run(
        &graph(&repo().join("examples/cdnow")),
        &repo().join("examples/cdnow/data"),
        &out,
        "1998-06-30",
    )
    .1
    .expect("CDNOW runs");
    check("cdnow", &digests(&out, &repo().join("examples/cdnow/data")));
}
