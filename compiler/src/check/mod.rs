//! Semantic checks. Each area has its own module; the codes they emit are listed,
//! with what they catch and how to fix it, in `codes.rs`.

mod assets;

mod expr;
mod model;
pub(crate) mod naming;
mod oneid;
pub mod project;
pub mod queries;
pub(crate) mod scan;

use mj_lang::Diagnostic;
use mj_lang::ast::*;

use crate::codes;
use crate::db::{Db, Project, SourceFile};
use crate::queries::{Def, DefKind, Name, lookup, names_by_kind, parse};
use crate::types::{Ty, column_type};

pub(crate) use expr::Scope;

/// Runs every per-item check on items of one file.
pub fn check_items(
    db: &dyn Db,
    project: Project,
    file: SourceFile,
    items: &[Item],
) -> Vec<Diagnostic> {
    let mut cx = Cx {
        db,
        project,
        file,
        diags: Vec::new(),
        silent: 0,
        stack: Vec::new(),
        in_aggregate: false,
        defs: Default::default(),
    };
    for item in items {
        match &item.kind {
            ItemKind::Glossary(g) => model::glossary(&mut cx, g),
            ItemKind::Naming(n) => naming::naming_rules(&mut cx, n),
            ItemKind::Source(s) => model::source(&mut cx, s),
            ItemKind::Dimension(d) => model::dimension(&mut cx, d),
            ItemKind::Fact(f) => model::fact(&mut cx, f),
            ItemKind::Atomic(a) => model::atomic(&mut cx, a),
            ItemKind::Modifier(m) => model::modifier(&mut cx, m),
            ItemKind::Period(p) => model::period(&mut cx, p),
            ItemKind::Derived(d) => model::derived(&mut cx, d),
            ItemKind::Composite(c) => model::composite(&mut cx, c),
            ItemKind::Check(c) => model::check(&mut cx, c),
            ItemKind::OneId(o) => oneid::oneid(&mut cx, o),
            ItemKind::Tag(t) => assets::tag(&mut cx, t),
            ItemKind::Aipl(a) => assets::aipl(&mut cx, a),
            ItemKind::Rfm(r) => assets::rfm(&mut cx, r),
            ItemKind::Audience(a) => assets::audience(&mut cx, a),
            ItemKind::Compare(c) => assets::compare(&mut cx, c),
            ItemKind::Route(r) => assets::route(&mut cx, r),
            ItemKind::Export(e) => assets::export(&mut cx, e),
            ItemKind::Scan(s) => scan::scan(&mut cx, s),
            ItemKind::Dashboard(d) => assets::dashboard(&mut cx, d),
            ItemKind::Function(f) => model::function(&mut cx, f),
        }
        if let Some(h) = item.kind.header() {
            naming::item_name(&mut cx, &item.kind, h);
        }
    }
    cx.diags
}

/// A quiet checker, for questions the editor asks (types, columns) outside a check.
fn quiet(db: &dyn Db, project: Project) -> Option<Cx<'_>> {
    let file = *project.files(db).first()?;
    Some(Cx {
        db,
        project,
        file,
        diags: Vec::new(),
        silent: 1,
        stack: Vec::new(),
        in_aggregate: false,
        defs: Default::default(),
    })
}

/// The type of a metric or tag as the checker infers it (`number (currency(CNY))`),
/// for hover; `None` for other items or when it is unknown.
pub fn type_of(db: &dyn Db, project: Project, name: &str) -> Option<String> {
    let mut cx = quiet(db, project)?;
    let def = cx.def(name)?;
    let ty = match &def.item.kind {
        ItemKind::Atomic(_) => cx.atomic_type(name),
        ItemKind::Derived(_) | ItemKind::Composite(_) => cx.metric_type(name),
        ItemKind::Tag(t) => {
            let t = t.clone();
            cx.tag_type(&t)
        }
        _ => return None,
    };
    (!ty.is_unknown()).then(|| ty.to_string())
}

/// The columns of a source or fact with their types, for completion.
pub fn columns_of(db: &dyn Db, project: Project, table: &str) -> Vec<(String, String)> {
    let Some(mut cx) = quiet(db, project) else {
        return Vec::new();
    };
    cx.table_columns(table)
        .unwrap_or_default()
        .into_iter()
        .map(|c| (c.name, c.ty.to_string()))
        .collect()
}

/// A column of a table as the checks see it.
#[derive(Clone, Debug)]
pub(crate) struct Col {
    pub name: String,
    pub ty: Ty,
    pub pii: bool,
}

pub(crate) struct Cx<'db> {
    pub db: &'db dyn Db,
    pub project: Project,
    pub file: SourceFile,
    pub diags: Vec<Diagnostic>,
    /// Greater than zero while inferring the type of another item (whose problems are
    /// reported in its own file).
    pub silent: u32,
    /// Items whose types are being inferred, to stop at reference cycles (reported by
    /// the project-wide cycle check).
    pub stack: Vec<String>,
    /// Inside the argument of an aggregate: table columns are allowed there.
    pub in_aggregate: bool,
    /// Names already looked up while checking this file (the items of a file name the
    /// same metrics, modifiers and periods over and over).
    defs: std::cell::RefCell<std::collections::HashMap<String, Option<&'db Def>>>,
}

impl<'db> Cx<'db> {
    pub fn report(&mut self, d: Diagnostic) {
        if self.silent == 0 {
            self.diags.push(d);
        }
    }

    pub fn def(&self, name: &str) -> Option<&'db Def> {
        if let Some(def) = self.defs.borrow().get(name) {
            return *def;
        }
        let def = lookup(self.db, self.project, Name::new(self.db, name.to_string())).as_ref();
        self.defs.borrow_mut().insert(name.to_string(), def);
        def
    }

    /// Resolves a name that must be one of `kinds`; reports and returns `None` otherwise.
    pub fn resolve(&mut self, id: &Ident, kinds: &[DefKind], what: &str) -> Option<&'db Def> {
        match self.def(&id.text) {
            Some(def) if kinds.contains(&def.kind) => Some(def),
            Some(def) => {
                let d = Diagnostic::error(
                    codes::WRONG_KIND,
                    id.span,
                    format!(
                        "`{}` is {}, but {what} is expected here",
                        id.text,
                        def.kind.describe()
                    ),
                )
                .with_span_label(format!("expected {what}"));
                let d = self.with_suggestion(d, id, kinds);
                self.report(d);
                None
            }
            None => {
                self.unresolved(id, kinds, what);
                None
            }
        }
    }

    pub fn unresolved(&mut self, id: &Ident, kinds: &[DefKind], what: &str) {
        let d = Diagnostic::error(
            codes::UNRESOLVED,
            id.span,
            format!("cannot find {what} `{}`", id.text),
        )
        .with_span_label("not found");
        let d = self.with_suggestion(d, id, kinds);
        self.report(d);
    }

    /// Adds "did you mean" with a fix when a name of the right kinds is close.
    pub fn with_suggestion(&self, d: Diagnostic, id: &Ident, kinds: &[DefKind]) -> Diagnostic {
        let names = names_by_kind(self.db, self.project);
        let candidates = kinds
            .iter()
            .filter_map(|k| names.get(k))
            .flatten()
            .map(String::as_str);
        suggest(d, id, candidates)
    }

    /// The span of a definition's name, in whichever file it is.
    pub fn def_span(&self, def: &Def) -> Option<Span> {
        let item = parse(self.db, def.file)
            .module
            .items
            .get(def.ordinal as usize)?;
        Some(item.kind.header().map_or(item.span, |h| h.name.span))
    }

    /// Columns of a source, or of a fact (its source's columns plus its dims and
    /// measures).
    pub fn table_columns(&mut self, name: &str) -> Option<Vec<Col>> {
        let def = self.def(name)?;
        match &def.item.kind {
            ItemKind::Source(s) => Some(source_columns(s)),
            ItemKind::Fact(f) => {
                let src = self.def(&f.source.text)?;
                let ItemKind::Source(s) = &src.item.kind else {
                    return None;
                };
                let mut cols = source_columns(s);
                let base = cols.clone();
                let scope_cols = base.clone();
                for b in f.dims.iter().chain(&f.measures) {
                    let ty = match &b.value {
                        None => base
                            .iter()
                            .find(|c| c.name == b.name.text)
                            .map_or(Ty::Unknown, |c| c.ty.clone()),
                        Some(Expr {
                            kind: ExprKind::Name(col),
                            ..
                        }) => base
                            .iter()
                            .find(|c| c.name == col.text)
                            .map_or(Ty::Unknown, |c| c.ty.clone()),
                        Some(e) => {
                            self.silent += 1;
                            let ty = self.infer(
                                e,
                                &Scope::Row {
                                    table: &s.header.name.text,
                                    columns: &scope_cols,
                                },
                            );
                            self.silent -= 1;
                            ty
                        }
                    };
                    if let Some(c) = cols.iter_mut().find(|c| c.name == b.name.text) {
                        c.ty = ty;
                    } else {
                        cols.push(Col {
                            name: b.name.text.clone(),
                            ty,
                            pii: false,
                        });
                    }
                }
                Some(cols)
            }
            _ => None,
        }
    }
}

pub(crate) fn source_columns(s: &Source) -> Vec<Col> {
    s.columns
        .iter()
        .map(|c| {
            let unit = c.unit.as_ref().map(|u| {
                (
                    u.kind.text.as_str(),
                    u.arg.as_ref().map(|a| a.text.as_str()),
                )
            });
            Col {
                name: c.name.text.clone(),
                ty: column_type(&c.ty.name.text, unit).unwrap_or(Ty::Unknown),
                pii: c.pii,
            }
        })
        .collect()
}

/// The closest candidate within a small edit distance.
pub(crate) fn closest<'a>(
    name: &str,
    candidates: impl Iterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(1);
    candidates
        .filter(|c| *c != name)
        .map(|c| (strsim::levenshtein(name, c), c))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, c)| c)
}

pub(crate) fn suggest<'a>(
    d: Diagnostic,
    id: &Ident,
    candidates: impl Iterator<Item = &'a str>,
) -> Diagnostic {
    match closest(&id.text, candidates) {
        Some(best) => d
            .with_help(format!("did you mean `{best}`?"))
            .with_replacement(format!("replace with `{best}`"), id.span, best),
        None => d,
    }
}
