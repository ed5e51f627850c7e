//! The tracked queries of checking: each file's diagnostics in chunks, the project's
//! facts and project-wide checks. They read the project only through the queries of
//! `crate::queries` (items, the index, lookups), which know nothing of checks.

use std::sync::Arc;

use mj_lang::Diagnostic;
use mj_lang::ast::FileId;

use crate::db::{Db, Project, SourceFile};
use crate::queries::{file_items, parse};

/// Items per chunk of [`chunk_diagnostics`]: small enough that re-checking a chunk is
/// cheap, large enough that verifying the chunks of an unchanged file is.
pub const CHUNK: usize = 32;

/// Diagnostics of one file: syntax errors and every check that looks at one item.
/// The items are checked in chunks of [`CHUNK`] on the chunk's own text
/// ([`chunk_diagnostics`]), so an edit re-checks the chunk it changed and the chunks
/// that use what it changed, not the whole file.
#[salsa::tracked(returns(ref))]
pub fn check_file(db: &dyn Db, project: Project, file: SourceFile) -> Vec<Diagnostic> {
    let parsed = parse(db, file);
    let id = file.id(db);
    let mut diags = parsed.errors.clone();
    for (chunk, items) in parsed.module.items.chunks(CHUNK).enumerate() {
        match chunk_diagnostics(db, project, file, chunk as u32) {
            Some(relative) => diags.extend(
                relative
                    .iter()
                    .map(|d| place(d.clone(), id, items[0].span.start)),
            ),
            // Items that do not parse on their own as they do in their file (error
            // recovery differs): checked in place.
            None => diags.extend(super::check_items(db, project, file, items)),
        }
    }
    diags
}

/// The text of one chunk of a file's items, from the first item's start to the last
/// one's end, and how many items it has (none past the last chunk). Equal across edits
/// of other chunks, and across edits that only move the chunk.
#[salsa::tracked(returns(ref))]
pub fn chunk_text(db: &dyn Db, file: SourceFile, chunk: u32) -> (String, usize) {
    let items = &parse(db, file).module.items;
    let first = chunk as usize * CHUNK;
    let Some(start) = items.get(first) else {
        return (String::new(), 0);
    };
    let last = (first + CHUNK).min(items.len());
    let text = file
        .text(db)
        .get(start.span.start as usize..items[last - 1].span.end as usize)
        .unwrap_or("")
        .to_string();
    (text, last - first)
}

/// The per-item checks of one chunk, run on the chunk's own text: spans are relative
/// to the chunk's start, in [`FileId::ITEM`] (spans into other items keep their file).
/// `None` when the text does not parse, alone, to the chunk's items.
#[salsa::tracked(returns(ref))]
pub fn chunk_diagnostics(
    db: &dyn Db,
    project: Project,
    file: SourceFile,
    chunk: u32,
) -> Option<Vec<Diagnostic>> {
    let (text, count) = chunk_text(db, file, chunk);
    let parsed = mj_lang::parse(FileId::ITEM, text);
    if !parsed.errors.is_empty() || parsed.module.items.len() != *count {
        return None;
    }
    Some(super::check_items(db, project, file, &parsed.module.items))
}

/// A diagnostic of a chunk checked on its own, moved to the chunk's place in its file.
fn place(mut d: Diagnostic, file: FileId, start: u32) -> Diagnostic {
    let moved = |s: &mut mj_lang::ast::Span| {
        if s.file == FileId::ITEM {
            s.file = file;
            s.start += start;
            s.end += start;
        }
    };
    moved(&mut d.span);
    for l in &mut d.labels {
        moved(&mut l.span);
    }
    if let Some(fix) = &mut d.fix {
        for e in &mut fix.edits {
            moved(&mut e.span);
        }
    }
    d
}

/// What the project-wide checks read of each item of a file (names, meanings,
/// references), without positions: recomputed only for the file an edit touched.
#[salsa::tracked(returns(ref))]
pub fn file_facts(db: &dyn Db, file: SourceFile) -> Arc<Vec<super::project::ItemFacts>> {
    Arc::new(
        file_items(db, file)
            .iter()
            .map(super::project::ItemFacts::of)
            .collect(),
    )
}

/// Whether the project-wide checks find nothing, judged from the files' facts: an edit
/// that only moves text, or changes nothing those checks read, leaves it equal, so
/// [`check_project`] does not re-run for it.
#[salsa::tracked]
pub fn project_is_clean(db: &dyn Db, project: Project) -> bool {
    let facts: Vec<&Arc<Vec<super::project::ItemFacts>>> = project
        .files(db)
        .iter()
        .map(|&f| file_facts(db, f))
        .collect();
    super::project::finds_nothing(facts.iter().flat_map(|f| f.iter()))
}

/// Diagnostics that need the whole project at once: duplicate definitions, cycles,
/// duplicate meanings. Only a project with such problems reads the positions of every
/// file (to report them).
#[salsa::tracked(returns(ref))]
pub fn check_project(db: &dyn Db, project: Project) -> Vec<Diagnostic> {
    if *project_is_clean(db, project) {
        return Vec::new();
    }
    super::project::check(
        project
            .files(db)
            .iter()
            .flat_map(|&f| parse(db, f).module.items.iter()),
    )
}

/// The diagnostics of one file: its own checks and the project-wide ones located in
/// it, sorted by position. What an editor shows for an open document, without checking
/// the files it does not show.
pub fn file_diagnostics(db: &dyn Db, project: Project, file: SourceFile) -> Vec<Diagnostic> {
    let id = file.id(db);
    let mut diags: Vec<Diagnostic> = check_file(db, project, file).clone();
    diags.extend(
        check_project(db, project)
            .iter()
            .filter(|d| d.span.file == id)
            .cloned(),
    );
    diags.sort_by(|a, b| (a.span.start, a.code).cmp(&(b.span.start, b.code)));
    diags.dedup();
    diags
}

/// Every diagnostic of the project, sorted by file and position.
pub fn all_diagnostics(db: &dyn Db, project: Project) -> Vec<Diagnostic> {
    let mut diags: Vec<Diagnostic> = Vec::new();
    for &file in project.files(db) {
        diags.extend(check_file(db, project, file).iter().cloned());
    }
    diags.extend(check_project(db, project).iter().cloned());
    diags.sort_by(|a, b| {
        (a.span.file, a.span.start, a.code).cmp(&(b.span.file, b.span.start, b.code))
    });
    diags.dedup();
    diags
}

/// The items that refer to `name` (its metric, tag, model, audience… users), by name,
/// in file order: the edges the cycle check follows.
pub fn used_by(db: &dyn Db, project: Project, name: &str) -> Vec<String> {
    let mut out = Vec::new();
    for file in project.files(db).iter().skip(1) {
        for item in file_items(db, *file).iter() {
            let Some(h) = item.kind.header() else {
                continue;
            };
            if h.name.text != name
                && super::project::references(item)
                    .iter()
                    .any(|r| r.text == name)
                && !out.contains(&h.name.text)
            {
                out.push(h.name.text.clone());
            }
        }
    }
    out
}
