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
