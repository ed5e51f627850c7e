//! The semantic model: the project's items as lowering reads them, resolved once per
//! revision. Every named item is found by name in one map (names are unique in a
//! project without errors: `mj::resolve::duplicate_definition`), and every derived
//! metric is resolved to what it computes — its fact, aggregate, argument, filters (the
//! atomic metric's `where`, then its modifiers) and period, with expressions in the IR.
//! Lowering (`crate::lower`, `crate::assets`, `crate::metrics`) reads the model, never
//! the files' items; the language server's hover reads the resolved metrics.

use std::collections::BTreeMap;

use mj_lang::ast::{ExprKind, Item, ItemKind};

use crate::db::{Db, Project};
use crate::jobs::MetricJob;
use crate::queries::file_items;

#[derive(Debug, PartialEq)]
pub struct Model {
    /// Every item of the project, the standard library's first, in declaration order.
    items: Vec<Item>,
    /// Each named item's index in `items` (the first, should a name repeat).
    by_name: BTreeMap<String, usize>,
    /// Each derived metric: (its fact, the aggregate it computes).
    metrics: BTreeMap<String, (String, MetricJob)>,
}

/// The model of a project. Items compare without their positions, so an edit that only
/// moves them leaves the model equal and nothing after it runs again.
#[salsa::tracked(returns(ref))]
pub fn model(db: &dyn Db, project: Project) -> Model {
    let mut items = Vec::new();
    for &file in project.files(db) {
        items.extend(file_items(db, file).iter().cloned());
    }
    Model::new(items)
}

impl Model {
    pub fn new(items: Vec<Item>) -> Model {
        let mut by_name = BTreeMap::new();
        for (i, item) in items.iter().enumerate() {
            if let Some(h) = item.kind.header() {
                by_name.entry(h.name.text.clone()).or_insert(i);
            }
        }
        let mut model = Model {
            items,
            by_name,
            metrics: BTreeMap::new(),
        };
        let metrics = model
            .items
            .iter()
            .filter_map(|i| match &i.kind {
                ItemKind::Derived(d) => {
                    metric_job(&model, d).map(|m| (d.header.name.text.clone(), m))
                }
                _ => None,
            })
            .collect();
        model.metrics = metrics;
        model
    }

    /// Every item, in order.
    pub fn items(&self) -> &[Item] {
        &self.items
    }

    /// The item named `name`.
    pub fn item(&self, name: &str) -> Option<&ItemKind> {
        self.by_name.get(name).map(|&i| &self.items[i].kind)
    }

    /// A derived metric as its fact and the aggregate it computes.
    pub fn metric(&self, name: &str) -> Option<&(String, MetricJob)> {
        self.metrics.get(name)
    }

    /// Every derived metric, by name.
    pub fn metrics(&self) -> impl Iterator<Item = (&String, &(String, MetricJob))> {
        self.metrics.iter()
    }
}

/// A derived metric as the aggregate it computes: its fact, and the aggregate over the
/// fact's rows in its period, filtered by the atomic metric's `where` and the modifiers.
fn metric_job(model: &Model, d: &mj_lang::ast::Derived) -> Option<(String, MetricJob)> {
    use mj_lang::ast::Arg;
    let find = |name: &str| model.item(name);
    let Some(ItemKind::Atomic(a)) = find(&d.atomic.text) else {
        return None;
    };
    // The atomic metric: one aggregate call over a fact.
    let ExprKind::Call(func, args) = &a.expr.kind else {
        return None;
    };
    let Some(Arg::Positional { value, filter }) = args.first() else {
        return None;
    };
    let (fact, arg) = match &value.kind {
        ExprKind::Field(base, column) => match &base.kind {
            ExprKind::Name(f) => (f.text.clone(), Some(mj_ir::Expr::column(&column.text))),
            _ => return None,
        },
        ExprKind::Name(f) => (f.text.clone(), None),
        _ => return None,
    };
    let mut filters: Vec<mj_ir::Expr> = filter.iter().map(crate::to_ir::expr).collect();
    let mut period = None;
    for q in &d.qualifiers {
        match find(&q.text) {
            Some(ItemKind::Modifier(m)) => filters.push(crate::to_ir::expr(&m.expr)),
            Some(ItemKind::Period(p)) => period = Some(crate::to_ir::period(&p.spec)),
            _ => {}
        }
    }
    // Standard periods come from the standard library, which is an item too.
    let period = period?;
    Some((
        fact,
        MetricJob {
            name: d.header.name.text.clone(),
            aggregate: mj_ir::Aggregate::from_name(&func.text)?,
            arg,
            filters,
            period,
            unique_by: None,
        },
    ))
}
