//! The tracked queries: parse → items → index → lookups → checks.
//!
//! Checks of one file read other files only through [`lookup`], one query per name, so
//! an edit re-runs the checks of exactly the files that refer to what changed.

use std::collections::BTreeMap;
use std::sync::Arc;

use mj_lang::ast::{FileId, Item, ItemKind};
use mj_lang::{Diagnostic, Parsed};

use crate::db::{Db, Project, SourceFile};

/// The path under which the standard library appears in diagnostics.
pub const STD_PATH: &str = "<std>/std.mj";

/// The standard library's source, compiled into the binary.
pub fn std_source() -> &'static str {
    include_str!("../../stdlib/std.mj")
}

/// The default naming rule of derived metrics.
pub const DEFAULT_DERIVED_PATTERN: &str = "{modifiers}_{atomic}_{period}";

/// Parses one file.
///
/// `no_eq`: comparing two trees costs as much as building one, and every edit changes
/// the spans anyway; [`file_items`] is the comparison point instead.
#[salsa::tracked(returns(ref), no_eq)]
pub fn parse(db: &dyn Db, file: SourceFile) -> Parsed {
    mj_lang::parse(file.id(db), file.text(db))
}

/// The items of a file without positions. Equal across edits that only move text
/// (whitespace, comments, formatting), so nothing downstream re-runs for those.
#[salsa::tracked(returns(ref))]
pub fn file_items(db: &dyn Db, file: SourceFile) -> Arc<Vec<Item>> {
    let items = &parse(db, file).module.items;
    let stripped = items
        .iter()
        .filter_map(|item| {
            serde_json::to_value(item)
                .ok()
                .and_then(|v| serde_json::from_value(v).ok())
        })
        .collect();
    Arc::new(stripped)
}

/// What kind of thing a name defines.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum DefKind {
    Source,
    Dimension,
    Fact,
    Atomic,
    Modifier,
    Period,
    Derived,
    Composite,
    OneId,
    Tag,
    Aipl,
    Rfm,
    Audience,
    Scan,
    Dashboard,
    Function,
}

impl DefKind {
    pub fn of(kind: &ItemKind) -> Option<DefKind> {
        Some(match kind {
            ItemKind::Source(_) => DefKind::Source,
            ItemKind::Dimension(_) => DefKind::Dimension,
            ItemKind::Fact(_) => DefKind::Fact,
            ItemKind::Atomic(_) => DefKind::Atomic,
            ItemKind::Modifier(_) => DefKind::Modifier,
            ItemKind::Period(_) => DefKind::Period,
            ItemKind::Derived(_) => DefKind::Derived,
            ItemKind::Composite(_) => DefKind::Composite,
            ItemKind::OneId(_) => DefKind::OneId,
            ItemKind::Tag(_) => DefKind::Tag,
            ItemKind::Aipl(_) => DefKind::Aipl,
            ItemKind::Rfm(_) => DefKind::Rfm,
            ItemKind::Audience(_) => DefKind::Audience,
            ItemKind::Scan(_) => DefKind::Scan,
            ItemKind::Dashboard(_) => DefKind::Dashboard,
            ItemKind::Function(_) => DefKind::Function,
            _ => return None,
        })
    }

    /// How a modeler calls it, with an article.
    pub fn describe(self) -> &'static str {
        match self {
            DefKind::Source => "a source",
            DefKind::Dimension => "a dimension",
            DefKind::Fact => "a business process (fact)",
            DefKind::Atomic => "an atomic metric",
            DefKind::Modifier => "a modifier",
            DefKind::Period => "a period",
            DefKind::Derived => "a derived metric",
            DefKind::Composite => "a composite metric",
            DefKind::OneId => "a OneID entity",
            DefKind::Tag => "a tag",
            DefKind::Aipl => "an AIPL model",
            DefKind::Rfm => "an RFM model",
            DefKind::Audience => "an audience",
            DefKind::Scan => "a scan",
            DefKind::Dashboard => "a dashboard",
            DefKind::Function => "a function",
        }
    }
}

/// Where a definition is: its file and its position among the file's items.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct DefRef {
    pub file: SourceFile,
    pub ordinal: u32,
    pub kind: DefKind,
}

/// Every name defined in the project, with no item contents: editing the body of an
/// item leaves the index equal.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Index {
    pub defs: rustc_hash::FxHashMap<String, Vec<DefRef>>,
    /// Glossary roots by name: (file, item ordinal, root ordinal).
    pub roots: rustc_hash::FxHashMap<String, Vec<(SourceFile, u32, u32)>>,
}

#[salsa::tracked(returns(ref))]
pub fn project_index(db: &dyn Db, project: Project) -> Arc<Index> {
    let mut index = Index::default();
    for &file in project.files(db) {
        for (ordinal, item) in file_items(db, file).iter().enumerate() {
            let ordinal = ordinal as u32;
            if let ItemKind::Glossary(g) = &item.kind {
                for (i, root) in g.roots.iter().enumerate() {
                    index
                        .roots
                        .entry(root.name.text.clone())
                        .or_default()
                        .push((file, ordinal, i as u32));
                }
            }
            if let (Some(kind), Some(header)) = (DefKind::of(&item.kind), item.kind.header()) {
                index
                    .defs
                    .entry(header.name.text.clone())
                    .or_default()
                    .push(DefRef {
                        file,
                        ordinal,
                        kind,
                    });
            }
        }
    }
    Arc::new(index)
}

/// Root words with the unit kind they imply (`amt` → `currency`).
#[salsa::tracked(returns(ref))]
pub fn roots(db: &dyn Db, project: Project) -> Arc<BTreeMap<String, Option<String>>> {
    let mut roots = BTreeMap::new();
    for &file in project.files(db) {
        for item in file_items(db, file).iter() {
            if let ItemKind::Glossary(g) = &item.kind {
                for root in &g.roots {
                    roots
                        .entry(root.name.text.clone())
                        .or_insert_with(|| root.unit.as_ref().map(|u| u.kind.text.clone()));
                }
            }
        }
    }
    Arc::new(roots)
}

/// The project's naming rule for derived metrics (the first `naming` block wins;
/// duplicates are reported by the checks).
#[salsa::tracked(returns(ref))]
pub fn derived_pattern(db: &dyn Db, project: Project) -> String {
    for &file in project.files(db) {
        for item in file_items(db, file).iter() {
            if let ItemKind::Naming(n) = &item.kind
                && let Some(rule) = n.rules.iter().find(|r| r.kind.text == "derived")
            {
                return rule.pattern.value.clone();
            }
        }
    }
    DEFAULT_DERIVED_PATTERN.to_string()
}

/// All defined names by kind, for "did you mean" suggestions.
#[salsa::tracked(returns(ref))]
pub fn names_by_kind(db: &dyn Db, project: Project) -> Arc<BTreeMap<DefKind, Vec<String>>> {
    let mut out: BTreeMap<DefKind, Vec<String>> = BTreeMap::new();
    for (name, defs) in &project_index(db, project).defs {
        for d in defs {
            out.entry(d.kind).or_default().push(name.clone());
        }
    }
    for names in out.values_mut() {
        names.sort();
        names.dedup();
    }
    Arc::new(out)
}

#[salsa::interned(debug)]
pub struct Name<'db> {
    #[returns(ref)]
    pub text: String,
}

/// A definition with its (position-free) item.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Def {
    pub kind: DefKind,
    pub file: SourceFile,
    pub ordinal: u32,
    pub item: Item,
}

/// The first definition of a name. One query per name, so a check that refers to
/// `pay_amt` re-runs only when `pay_amt`'s definition changes.
#[salsa::tracked(returns(ref))]
pub fn lookup<'db>(db: &'db dyn Db, project: Project, name: Name<'db>) -> Option<Def> {
    let def = project_index(db, project)
        .defs
        .get(name.text(db))?
        .first()
        .copied()?;
    let item = file_items(db, def.file).get(def.ordinal as usize)?.clone();
    Some(Def {
        kind: def.kind,
        file: def.file,
        ordinal: def.ordinal,
        item,
    })
}

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
            None => diags.extend(crate::check::check_items(db, project, file, items)),
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
    Some(crate::check::check_items(
        db,
        project,
        file,
        &parsed.module.items,
    ))
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
pub fn file_facts(db: &dyn Db, file: SourceFile) -> Arc<Vec<crate::check::project::ItemFacts>> {
    Arc::new(
        file_items(db, file)
            .iter()
            .map(crate::check::project::ItemFacts::of)
            .collect(),
    )
}

/// Whether the project-wide checks find nothing, judged from the files' facts: an edit
/// that only moves text, or changes nothing those checks read, leaves it equal, so
/// [`check_project`] does not re-run for it.
#[salsa::tracked]
pub fn project_is_clean(db: &dyn Db, project: Project) -> bool {
    let facts: Vec<&Arc<Vec<crate::check::project::ItemFacts>>> = project
        .files(db)
        .iter()
        .map(|&f| file_facts(db, f))
        .collect();
    crate::check::project::finds_nothing(facts.iter().flat_map(|f| f.iter()))
}

/// Diagnostics that need the whole project at once: duplicate definitions, cycles,
/// duplicate meanings. Only a project with such problems reads the positions of every
/// file (to report them).
#[salsa::tracked(returns(ref))]
pub fn check_project(db: &dyn Db, project: Project) -> Vec<Diagnostic> {
    if *project_is_clean(db, project) {
        return Vec::new();
    }
    crate::check::project::check(
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
                && crate::check::project::references(item)
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
