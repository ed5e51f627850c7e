//! Where names are used: every occurrence of a project definition's name, with its span,
//! and renames that keep the project valid.
//!
//! An occurrence is a name in a position where the language resolves project items:
//! the source of a dimension or fact, the atomic metric and `[period, modifier]` of a
//! derived metric, its `by` dimensions, the names in metric, tag, model and audience
//! expressions (outside `where` filters, whose names are columns), the entity of an
//! asset, the audience of `compare`/`route`/`export`, the models and metrics of a
//! dashboard. Inside a modifier, a name is a column of its business process; when that
//! column is a dimension binding (`dims { category }`), it is an occurrence of the
//! dimension, because renaming the dimension renames the binding.

use std::collections::BTreeMap;

use mj_lang::ast::{ExprKind, Ident, Item, ItemKind, Span, WidgetKind};

use crate::db::{Database, Db, Project, SourceFile};
use crate::queries::{DefKind, Name, lookup, parse};

/// One use (or the definition) of a project item's name.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Occurrence {
    pub span: Span,
    pub name: String,
    pub kind: DefKind,
    /// The item's own header.
    pub definition: bool,
    /// A shorthand dimension binding (`dims { category }`): the name is also the
    /// source column, so a rename writes `new = category`.
    pub shorthand: bool,
}

/// The occurrences in one file, in order of position.
#[salsa::tracked(returns(ref))]
pub fn occurrences(db: &dyn Db, project: Project, file: SourceFile) -> Vec<Occurrence> {
    let mut w = Walk {
        db,
        project,
        out: Vec::new(),
    };
    for item in &parse(db, file).module.items {
        w.item(item);
    }
    w.out.sort_by_key(|o| (o.span.start, o.span.end));
    w.out.dedup_by_key(|o| o.span);
    w.out
}

/// The occurrence covering a byte offset (its end included, where a cursor after the
/// last letter still means the name).
pub fn occurrence_at(
    db: &dyn Db,
    project: Project,
    file: SourceFile,
    offset: usize,
) -> Option<&Occurrence> {
    occurrences(db, project, file)
        .iter()
        .find(|o| o.span.start as usize <= offset && offset <= o.span.end as usize)
}

/// Every occurrence of `name` in the project, by file, definition first within it.
pub fn references(db: &dyn Db, project: Project, name: &str) -> Vec<(SourceFile, Occurrence)> {
    let mut out = Vec::new();
    for &file in project.files(db) {
        for o in occurrences(db, project, file) {
            if o.name == name {
                out.push((file, o.clone()));
            }
        }
    }
    out
}

struct Walk<'a> {
    db: &'a dyn Db,
    project: Project,
    out: Vec<Occurrence>,
}

impl Walk<'_> {
    fn kind_of(&self, name: &str) -> Option<DefKind> {
        lookup(self.db, self.project, Name::new(self.db, name.to_string()))
            .as_ref()
            .map(|d| d.kind)
    }

    /// A name that refers to a project item, if one has it.
    fn name(&mut self, id: &Ident) {
        if let Some(kind) = self.kind_of(&id.text) {
            self.push(id, kind, false);
        }
    }

    fn push(&mut self, id: &Ident, kind: DefKind, shorthand: bool) {
        self.out.push(Occurrence {
            span: id.span,
            name: id.text.clone(),
            kind,
            definition: false,
            shorthand,
        });
    }

    /// An expression whose names are project items.
    fn expr(&mut self, e: &mj_lang::ast::Expr) {
        let mut names: Vec<&Ident> = Vec::new();
        e.walk_outside_filters(&mut |x| match &x.kind {
            ExprKind::Name(n) => names.push(n),
            ExprKind::Index(_, qualifiers) => names.extend(qualifiers),
            ExprKind::Call(f, _) => names.push(f),
            _ => {}
        });
        for n in names {
            self.name(n);
        }
    }

    fn item(&mut self, item: &Item) {
        if let Some(h) = item.kind.header()
            && let Some(kind) = DefKind::of(&item.kind)
        {
            self.out.push(Occurrence {
                span: h.name.span,
                name: h.name.text.clone(),
                kind,
                definition: true,
                shorthand: false,
            });
        }
        match &item.kind {
            ItemKind::Dimension(d) => self.name(&d.source),
            ItemKind::Fact(f) => {
                self.name(&f.source);
                if let Some(e) = &f.entity {
                    self.name(e);
                }
                for b in &f.dims {
                    if self.kind_of(&b.name.text) == Some(DefKind::Dimension) {
                        self.push(&b.name, DefKind::Dimension, b.value.is_none());
                    }
                }
            }
            ItemKind::Atomic(a) => self.expr(&a.expr),
            ItemKind::Modifier(m) => {
                self.name(&m.process);
                self.modifier_expr(&m.process.text, &m.expr);
            }
            ItemKind::Derived(d) => {
                self.name(&d.atomic);
                for q in d.qualifiers.iter().chain(&d.by) {
                    self.name(q);
                }
            }
            ItemKind::Composite(c) => self.expr(&c.expr),
            ItemKind::Check(c) => match &c.rule {
                mj_lang::ast::CheckRule::Unique { process, .. } => self.name(process),
                mj_lang::ast::CheckRule::Expr(e) => self.expr(e),
            },
            ItemKind::OneId(o) => {
                for l in &o.links {
                    self.name(&l.source);
                }
            }
            ItemKind::Tag(t) => {
                self.name(&t.entity);
                self.expr(&t.expr);
            }
            ItemKind::Aipl(a) => {
                self.name(&a.entity);
                for b in &a.breakdowns {
                    self.name(&b.table);
                }
                for s in &a.stages {
                    self.expr(&s.expr);
                }
            }
            ItemKind::Rfm(r) => {
                self.name(&r.entity);
                for m in &r.measures {
                    self.expr(&m.expr);
                }
            }
            ItemKind::Audience(a) => {
                self.name(&a.entity);
                self.expr(&a.expr);
            }
            ItemKind::Compare(c) => {
                self.name(&c.audience);
                self.name(&c.against);
                for b in &c.by {
                    self.name(b);
                }
            }
            ItemKind::Route(r) => {
                self.name(&r.audience);
                for arm in &r.arms {
                    self.expr(&arm.condition);
                }
            }
            ItemKind::Export(x) => {
                self.name(&x.audience);
                for c in &x.columns {
                    self.expr(&c.expr);
                }
            }
            ItemKind::Dashboard(d) => {
                for w in &d.widgets {
                    match &w.kind {
                        WidgetKind::Trend { model, by, .. } => {
                            self.name(model);
                            for b in by {
                                self.name(b);
                            }
                        }
                        WidgetKind::Flow { model, .. } => self.name(model),
                        WidgetKind::Contribution { dimension, target } => {
                            self.name(dimension);
                            self.expr(target);
                        }
                        WidgetKind::Kpi { metrics } => {
                            for m in metrics {
                                self.name(m);
                            }
                        }
                    }
                }
            }
            ItemKind::Glossary(_)
            | ItemKind::Naming(_)
            | ItemKind::Source(_)
            | ItemKind::Period(_)
            | ItemKind::Scan(_)
            | ItemKind::Function(_) => {}
        }
    }

    /// A modifier's condition: its names are columns of the business process; those
    /// that are dimension bindings are occurrences of the dimension.
    fn modifier_expr(&mut self, process: &str, e: &mj_lang::ast::Expr) {
        let fact = lookup(
            self.db,
            self.project,
            Name::new(self.db, process.to_string()),
        );
        let Some(ItemKind::Fact(f)) = fact.as_ref().map(|d| &d.item.kind) else {
            return;
        };
        let dims: Vec<String> = f.dims.iter().map(|b| b.name.text.clone()).collect();
        let mut names: Vec<&Ident> = Vec::new();
        e.walk(&mut |x| {
            if let ExprKind::Name(n) = &x.kind {
                names.push(n);
            }
        });
        for n in names {
            if dims.contains(&n.text) && self.kind_of(&n.text) == Some(DefKind::Dimension) {
                self.push(n, DefKind::Dimension, false);
            }
        }
    }
}

/// What a rename does: the edits (file, span, new text), and every name it changes —
/// the one asked for, and derived metrics whose composed names follow it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rename {
    pub edits: Vec<(SourceFile, Span, String)>,
    pub renamed: Vec<(String, String)>,
}

/// Renames `name` to `new` across the project.
///
/// The rename is checked by compiling the renamed project: a new name that is not a
/// name, already taken, or breaks the naming rule or the glossary is refused with the
/// compiler's reason. Derived metrics whose names were composed from the renamed atomic
/// metric, modifier or period are renamed to their new composed names (and their uses
/// with them), so renaming `pay_amt` to `gmv` also turns `pay_amt_30d` into `gmv_30d`.
pub fn rename(db: &dyn Db, project: Project, name: &str, new: &str) -> Result<Rename, String> {
    let Some(def) = lookup(db, project, Name::new(db, name.to_string())).as_ref() else {
        return Err(format!("`{name}` is not defined in this project"));
    };
    if def.file.id(db).0 == 0 {
        return Err(format!(
            "`{name}` is {} of the standard library and cannot be renamed",
            def.kind.describe()
        ));
    }
    if new.is_empty() || !new.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!(
            "`{new}` is not a name: use letters, digits and `_`"
        ));
    }
    if new == name {
        return Ok(Rename {
            edits: Vec::new(),
            renamed: Vec::new(),
        });
    }
    let before = error_counts(&crate::all_diagnostics(db, project));
    let mut renamed: Vec<(String, String)> = vec![(name.to_string(), new.to_string())];
    // Each round applies the renames so far and adds the derived metrics whose names
    // the naming rule now composes differently; a rename of a rename ends the chain.
    for _ in 0..4 {
        let edits = edits_for(db, project, &renamed);
        let (diags, texts) = check_edited(db, project, &edits);
        let after = error_counts(&diags);
        let mut follow = Vec::new();
        for d in &diags {
            if d.code != crate::codes::DERIVED_NAME_MISMATCH {
                continue;
            }
            let Some(edit) = d.fix.as_ref().and_then(|f| f.edits.first()) else {
                continue;
            };
            let Some(text) = texts.get(&d.span.file.0) else {
                continue;
            };
            let current = &text[d.span.start as usize..d.span.end as usize];
            // Only names that were composed before the rename follow it.
            let original = renamed
                .iter()
                .find(|(_, n)| n == current)
                .map_or(current, |(o, _)| o.as_str());
            if was_composed(db, project, original) && !renamed.iter().any(|(o, _)| o == original) {
                follow.push((original.to_string(), edit.replacement.clone()));
            }
        }
        if follow.is_empty() {
            let mut new_errors = Vec::new();
            for d in diags
                .iter()
                .filter(|d| d.severity == mj_lang::Severity::Error)
            {
                if after.get(d.code) > before.get(d.code) && !new_errors.contains(&d.message) {
                    new_errors.push(d.message.clone());
                }
            }
            if !new_errors.is_empty() {
                return Err(format!(
                    "renaming `{name}` to `{new}` would break the project: {}",
                    new_errors.join("; ")
                ));
            }
            return Ok(Rename { edits, renamed });
        }
        follow.sort();
        follow.dedup();
        renamed.extend(follow);
    }
    Err(format!(
        "renaming `{name}` to `{new}` changes too many composed names"
    ))
}

/// Whether a derived metric's name is what the naming rule composes (no mismatch).
fn was_composed(db: &dyn Db, project: Project, name: &str) -> bool {
    let Some(def) = lookup(db, project, Name::new(db, name.to_string())).as_ref() else {
        return false;
    };
    def.kind == DefKind::Derived
        && !crate::check_file(db, project, def.file).iter().any(|d| {
            d.code == crate::codes::DERIVED_NAME_MISMATCH
                && d.span.start < d.span.end
                && def
                    .file
                    .text(db)
                    .get(d.span.start as usize..d.span.end as usize)
                    == Some(name)
        })
}

fn error_counts(diags: &[mj_lang::Diagnostic]) -> BTreeMap<&'static str, usize> {
    let mut out = BTreeMap::new();
    for d in diags
        .iter()
        .filter(|d| d.severity == mj_lang::Severity::Error)
    {
        *out.entry(d.code).or_insert(0) += 1;
    }
    out
}

/// The edits of a set of renames.
fn edits_for(
    db: &dyn Db,
    project: Project,
    renamed: &[(String, String)],
) -> Vec<(SourceFile, Span, String)> {
    let mut edits = Vec::new();
    for (old, new) in renamed {
        for (file, o) in references(db, project, old) {
            let text = if o.shorthand {
                format!("{new} = {old}")
            } else {
                new.clone()
            };
            edits.push((file, o.span, text));
        }
    }
    edits.sort_by_key(|(f, s, _)| (f.id(db), s.start));
    edits.dedup_by_key(|(f, s, _)| (*f, *s));
    edits
}

/// Compiles the project with the edits applied, in a database of its own (the
/// caller's may be a snapshot that must not change). Returns the diagnostics and the
/// edited texts by file id.
fn check_edited(
    db: &dyn Db,
    project: Project,
    edits: &[(SourceFile, Span, String)],
) -> (Vec<mj_lang::Diagnostic>, BTreeMap<u32, String>) {
    let mut texts: BTreeMap<u32, String> = BTreeMap::new();
    let files: Vec<SourceFile> = project.files(db).clone();
    for f in &files {
        texts.insert(f.id(db).0, f.text(db).clone());
    }
    // Later edits first, so that earlier offsets stay valid.
    for (file, span, text) in edits.iter().rev() {
        if let Some(t) = texts.get_mut(&file.id(db).0) {
            t.replace_range(span.start as usize..span.end as usize, text);
        }
    }
    let scratch = Database::default();
    let inputs: Vec<SourceFile> = files
        .iter()
        .map(|f| {
            SourceFile::new(
                &scratch,
                f.id(db),
                f.path(db).clone(),
                texts[&f.id(db).0].clone(),
            )
        })
        .collect();
    let p = Project::new(&scratch, inputs);
    (crate::all_diagnostics(&scratch, p), texts)
}
