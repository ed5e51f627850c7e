//! The tracked queries: parse → items → index → lookups (the checks' own queries are
//! in `check::queries`).
//!
//! Checks of one file read other files only through [`lookup`], one query per name, so
//! an edit re-runs the checks of exactly the files that refer to what changed.

use std::collections::BTreeMap;
use std::sync::Arc;

use mj_lang::Parsed;
use mj_lang::ast::{Item, ItemKind};

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
