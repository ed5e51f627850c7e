//! Checks that need the whole project: duplicate definitions, reference cycles,
//! and "same name, same meaning".

use std::collections::{BTreeMap, HashMap};

use rustc_hash::FxHashMap;

use mj_lang::Diagnostic;
use mj_lang::ast::*;

use crate::codes;

struct Named<'a> {
    name: &'a Ident,
    item: &'a Item,
}

/// The project-wide checks over every item of the project, in file order.
pub fn check<'a>(items: impl Iterator<Item = &'a Item>) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    let mut named: Vec<Named<'_>> = Vec::new();
    let mut roots: Vec<&Root> = Vec::new();
    let mut namings: Vec<&Item> = Vec::new();
    for item in items {
        if let Some(h) = item.kind.header() {
            named.push(Named {
                name: &h.name,
                item,
            });
        }
        match &item.kind {
            ItemKind::Glossary(g) => roots.extend(&g.roots),
            ItemKind::Naming(_) => namings.push(item),
            _ => {}
        }
    }
    duplicates(&named, &roots, &namings, &mut diags);
    cycles(&named, &mut diags);
    meanings(&named, &roots, &mut diags);
    diags
}

fn duplicates(
    named: &[Named<'_>],
    roots: &[&Root],
    namings: &[&Item],
    diags: &mut Vec<Diagnostic>,
) {
    let mut first: HashMap<&str, &Ident> = HashMap::new();
    for n in named {
        match first.get(n.name.text.as_str()) {
            Some(prev) => diags.push(
                Diagnostic::error(
                    codes::DUPLICATE,
                    n.name.span,
                    format!("`{}` is defined more than once", n.name.text),
                )
                .with_span_label("defined again")
                .with_label(prev.span, "first defined here")
                .with_help("one name has one meaning in the whole project: rename one of them"),
            ),
            None => {
                first.insert(&n.name.text, n.name);
            }
        }
    }
    let mut first_root: HashMap<&str, &Ident> = HashMap::new();
    for r in roots {
        match first_root.get(r.name.text.as_str()) {
            Some(prev) => diags.push(
                Diagnostic::error(
                    codes::DUPLICATE,
                    r.name.span,
                    format!("the root `{}` is declared more than once", r.name.text),
                )
                .with_span_label("declared again")
                .with_label(
                    prev.span,
                    "first declared here (the standard library's roots are in every project)",
                ),
            ),
            None => {
                first_root.insert(&r.name.text, &r.name);
            }
        }
    }
    for extra in namings.iter().skip(1) {
        diags.push(
            Diagnostic::error(
                codes::DUPLICATE,
                extra.span,
                "the project has more than one `naming` block",
            )
            .with_span_label("second naming block")
            .with_label(namings[0].span, "first naming block"),
        );
    }
}

/// Names an item refers to.
pub(crate) fn references(item: &Item) -> Vec<&Ident> {
    let mut out = Vec::new();
    let mut exprs: Vec<&Expr> = Vec::new();
    match &item.kind {
        ItemKind::Derived(d) => {
            out.push(&d.atomic);
            out.extend(&d.qualifiers);
        }
        ItemKind::Composite(c) => exprs.push(&c.expr),
        ItemKind::Tag(t) => exprs.push(&t.expr),
        ItemKind::Aipl(a) => exprs.extend(a.stages.iter().map(|s| &s.expr)),
        ItemKind::Rfm(r) => exprs.extend(r.measures.iter().map(|m| &m.expr)),
        ItemKind::Audience(a) => exprs.push(&a.expr),
        ItemKind::Atomic(a) => exprs.push(&a.expr),
        ItemKind::Fact(f) => {
            out.push(&f.source);
        }
        ItemKind::Dimension(d) => out.push(&d.source),
        _ => {}
    }
    for e in exprs {
        e.walk_outside_filters(&mut |x| {
            if let ExprKind::Name(n) = &x.kind {
                out.push(n);
            }
        });
    }
    out
}

fn cycles(named: &[Named<'_>], diags: &mut Vec<Diagnostic>) {
    let index: HashMap<&str, usize> = named
        .iter()
        .enumerate()
        .map(|(i, n)| (n.name.text.as_str(), i))
        .collect();
    let edges: Vec<Vec<(usize, &Ident)>> = named
        .iter()
        .map(|n| {
            references(n.item)
                .into_iter()
                .filter_map(|r| index.get(r.text.as_str()).map(|&j| (j, r)))
                .collect()
        })
        .collect();
    // Depth-first search with colours; each back edge closes one cycle.
    let mut colour = vec![0u8; named.len()];
    let mut path: Vec<usize> = Vec::new();
    let mut reported: Vec<Vec<usize>> = Vec::new();
    for start in 0..named.len() {
        if colour[start] == 0 {
            visit(
                start,
                &edges,
                &mut colour,
                &mut path,
                &mut |cycle: Vec<usize>, via: &Ident| {
                    let mut key = cycle.clone();
                    key.sort_unstable();
                    if reported.contains(&key) {
                        return;
                    }
                    reported.push(key);
                    let chain: Vec<&str> = cycle
                        .iter()
                        .chain(cycle.first())
                        .map(|&i| named[i].name.text.as_str())
                        .collect();
                    let mut d = Diagnostic::error(codes::CYCLE, via.span, format!("reference cycle: {}", chain.join(" → ")))
                    .with_span_label("closes the cycle")
                    .with_help("a metric, tag or audience cannot depend on itself: break one of these references");
                    for &i in &cycle {
                        d = d.with_label(
                            named[i].name.span,
                            format!("`{}` is part of the cycle", named[i].name.text),
                        );
                    }
                    diags.push(d);
                },
            );
        }
    }
}

fn visit<'a>(
    node: usize,
    edges: &[Vec<(usize, &'a Ident)>],
    colour: &mut [u8],
    path: &mut Vec<usize>,
    found: &mut dyn FnMut(Vec<usize>, &'a Ident),
) {
    colour[node] = 1;
    path.push(node);
    for &(next, via) in &edges[node] {
        match colour[next] {
            0 => visit(next, edges, colour, path, found),
            1 => {
                let at = path.iter().position(|&p| p == next).unwrap_or(0);
                found(path[at..].to_vec(), via);
            }
            _ => {}
        }
    }
    path.pop();
    colour[node] = 2;
}

/// A canonical text of an expression in which the order of commutative operands and
/// of `in` lists does not matter.
pub(crate) fn normalize(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Number(n) => n.parse::<f64>().map_or(n.clone(), |v| v.to_string()),
        ExprKind::Str(s) => format!("{s:?}"),
        ExprKind::Bool(b) => b.to_string(),
        ExprKind::Null => "null".into(),
        ExprKind::Quantity(q) => format!(
            "{}{}{}",
            if q.negative { "-" } else { "" },
            q.value,
            q.unit.suffix()
        ),
        ExprKind::Name(n) => n.text.clone(),
        ExprKind::Field(b, f) => format!("{}.{}", normalize(b), f.text),
        ExprKind::Index(b, q) => {
            let mut qs: Vec<&str> = q.iter().map(|i| i.text.as_str()).collect();
            qs.sort_unstable();
            format!("{}[{}]", normalize(b), qs.join(","))
        }
        ExprKind::Call(f, args) => {
            let parts: Vec<String> = args
                .iter()
                .map(|a| match a {
                    Arg::Positional {
                        value,
                        filter: Some(w),
                    } => format!("{} where {}", normalize(value), normalize(w)),
                    Arg::Positional {
                        value,
                        filter: None,
                    } => normalize(value),
                    Arg::Named(n) => format!("{}={}", n.name.text, normalize(&n.value)),
                })
                .collect();
            format!("{}({})", f.text, parts.join(","))
        }
        ExprKind::Unary(op, x) => format!("({op:?} {})", normalize(x)),
        ExprKind::Binary(op, _, _)
            if matches!(
                op,
                BinaryOp::And | BinaryOp::Or | BinaryOp::Add | BinaryOp::Mul
            ) =>
        {
            let mut parts = Vec::new();
            flatten(e, *op, &mut parts);
            let mut texts: Vec<String> = parts.into_iter().map(normalize).collect();
            texts.sort();
            format!("({})", texts.join(&format!(" {} ", op.symbol())))
        }
        ExprKind::Binary(op @ (BinaryOp::Eq | BinaryOp::Ne), l, r) => {
            let mut pair = [normalize(l), normalize(r)];
            pair.sort();
            format!("({} {} {})", pair[0], op.symbol(), pair[1])
        }
        ExprKind::Binary(op, l, r) => {
            // `a > b` is `b < a`.
            let (op, l, r) = match op {
                BinaryOp::Gt => (BinaryOp::Lt, r, l),
                BinaryOp::Ge => (BinaryOp::Le, r, l),
                _ => (*op, l, r),
            };
            format!("({} {} {})", normalize(l), op.symbol(), normalize(r))
        }
        ExprKind::In {
            expr,
            list,
            negated,
        } => {
            let mut items: Vec<String> = list.iter().map(normalize).collect();
            items.sort();
            items.dedup();
            // `x in ("a")` is `x == "a"`.
            if items.len() == 1 && !negated {
                let mut pair = [normalize(expr), items.remove(0)];
                pair.sort();
                return format!("({} == {})", pair[0], pair[1]);
            }
            format!(
                "({} {}in ({}))",
                normalize(expr),
                if *negated { "not " } else { "" },
                items.join(",")
            )
        }
        ExprKind::Case { arms, otherwise } => {
            let arms: Vec<String> = arms
                .iter()
                .map(|a| format!("{} => {}", normalize(&a.condition), normalize(&a.value)))
                .collect();
            let o = otherwise.as_ref().map(|o| normalize(o)).unwrap_or_default();
            format!("case{{{};else {o}}}", arms.join(";"))
        }
    }
}

fn flatten<'a>(e: &'a Expr, op: BinaryOp, out: &mut Vec<&'a Expr>) {
    match &e.kind {
        ExprKind::Binary(o, l, r) if *o == op => {
            flatten(l, op, out);
            flatten(r, op, out);
        }
        _ => out.push(e),
    }
}

/// The meaning of an item, when two items can mean the same thing.
pub(crate) fn meaning(item: &Item) -> Option<String> {
    Some(match &item.kind {
        ItemKind::Atomic(a) => format!("atomic {}", normalize(&a.expr)),
        ItemKind::Modifier(m) => format!("modifier on {} {}", m.process.text, normalize(&m.expr)),
        ItemKind::Period(p) => format!("period {:?}", p.spec),
        ItemKind::Derived(d) => {
            let mut q: Vec<&str> = d.qualifiers.iter().map(|i| i.text.as_str()).collect();
            q.sort_unstable();
            q.dedup();
            let mut by: Vec<&str> = d.by.iter().map(|i| i.text.as_str()).collect();
            by.sort_unstable();
            by.dedup();
            format!(
                "derived {}[{}] by {}",
                d.atomic.text,
                q.join(","),
                by.join(",")
            )
        }
        ItemKind::Composite(c) => format!("composite {}", normalize(&c.expr)),
        ItemKind::Tag(t) => format!("tag on {} {}", t.entity.text, normalize(&t.expr)),
        ItemKind::Audience(a) => format!("audience on {} {}", a.entity.text, normalize(&a.expr)),
        _ => return None,
    })
}

fn meanings(named: &[Named<'_>], roots: &[&Root], diags: &mut Vec<Diagnostic>) {
    let mut seen: BTreeMap<String, &Named<'_>> = BTreeMap::new();
    let mut display: HashMap<(&str, &str), (&Named<'_>, String)> = HashMap::new();
    for n in named {
        let Some(m) = meaning(n.item) else { continue };
        if let Some(prev) = seen.get(&m) {
            if prev.name.text != n.name.text {
                diags.push(
                    Diagnostic::error(
                        codes::DUPLICATE_MEANING,
                        n.name.span,
                        format!("`{}` means the same as `{}`", n.name.text, prev.name.text),
                    )
                    .with_span_label("same definition")
                    .with_label(prev.name.span, "defined first here")
                    .with_help(format!(
                        "use `{}` instead of defining it again",
                        prev.name.text
                    )),
                );
            }
        } else {
            seen.insert(m.clone(), n);
        }
        let Some(d) = n.item.kind.header().and_then(|h| h.display.as_ref()) else {
            continue;
        };
        let key = (n.item.kind.keyword(), d.value.as_str());
        match display.get(&key) {
            Some((prev, prev_meaning)) if *prev_meaning != m => diags.push(
                Diagnostic::error(
                    codes::DISPLAY_NAME_CLASH,
                    d.span,
                    format!(
                        "\"{}\" names both `{}` and `{}`, which mean different things",
                        d.value, prev.name.text, n.name.text
                    ),
                )
                .with_span_label("same display name")
                .with_label(
                    prev.name.span,
                    format!("`{}` is also called \"{}\"", prev.name.text, d.value),
                )
                .with_help("give each meaning its own display name"),
            ),
            Some(_) => {}
            None => {
                display.insert(key, (n, m));
            }
        }
    }
    let mut root_display: HashMap<&str, &Root> = HashMap::new();
    for r in roots {
        let Some(d) = &r.display else { continue };
        match root_display.get(d.value.as_str()) {
            Some(prev) if prev.name.text != r.name.text => diags.push(
                Diagnostic::error(
                    codes::DUPLICATE_MEANING,
                    r.name.span,
                    format!(
                        "the roots `{}` and `{}` both mean \"{}\"",
                        prev.name.text, r.name.text, d.value
                    ),
                )
                .with_span_label("same meaning")
                .with_label(prev.name.span, "declared first here")
                .with_help(format!("use the root `{}`", prev.name.text)),
            ),
            _ => {
                root_display.insert(&d.value, r);
            }
        }
    }
}

/// What the project-wide checks read of one item, without positions (see
/// [`super::queries::file_facts`]).
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct ItemFacts {
    pub keyword: &'static str,
    pub name: Option<String>,
    pub display: Option<String>,
    pub meaning: Option<String>,
    pub references: Vec<String>,
    /// A glossary's roots: (name, display).
    pub roots: Vec<(String, Option<String>)>,
    pub naming: bool,
}

impl ItemFacts {
    pub fn of(item: &Item) -> ItemFacts {
        let h = item.kind.header();
        ItemFacts {
            keyword: item.kind.keyword(),
            name: h.map(|h| h.name.text.clone()),
            display: h.and_then(|h| h.display.as_ref()).map(|d| d.value.clone()),
            meaning: h.and_then(|_| meaning(item)),
            references: if h.is_some() {
                references(item)
                    .into_iter()
                    .map(|r| r.text.clone())
                    .collect()
            } else {
                Vec::new()
            },
            roots: match &item.kind {
                ItemKind::Glossary(g) => g
                    .roots
                    .iter()
                    .map(|r| {
                        (
                            r.name.text.clone(),
                            r.display.as_ref().map(|d| d.value.clone()),
                        )
                    })
                    .collect(),
                _ => Vec::new(),
            },
            naming: matches!(item.kind, ItemKind::Naming(_)),
        }
    }
}

/// Whether [`check`] would find anything, decided from the items' facts alone: the
/// same rules (duplicate names, roots and naming blocks, reference cycles, duplicate
/// meanings, display names and root meanings), without building a diagnostic.
pub fn finds_nothing<'a>(items: impl Iterator<Item = &'a ItemFacts>) -> bool {
    let items: Vec<&ItemFacts> = items.collect();
    let named: Vec<&ItemFacts> = items.iter().copied().filter(|i| i.name.is_some()).collect();
    fn name(i: &ItemFacts) -> &str {
        i.name.as_deref().unwrap_or("")
    }
    // Duplicates.
    let mut names: FxHashMap<&str, usize> = FxHashMap::default();
    names.reserve(named.len());
    for (i, n) in named.iter().enumerate() {
        if names.insert(name(n), i).is_some() {
            return false;
        }
    }
    let mut roots: FxHashMap<&str, ()> = FxHashMap::default();
    for (r, _) in items.iter().flat_map(|i| &i.roots) {
        if roots.insert(r, ()).is_some() {
            return false;
        }
    }
    if items.iter().filter(|i| i.naming).count() > 1 {
        return false;
    }
    // Cycles: an iterative depth-first search with colours.
    let edges: Vec<Vec<usize>> = named
        .iter()
        .map(|n| {
            n.references
                .iter()
                .filter_map(|r| names.get(r.as_str()).copied())
                .collect()
        })
        .collect();
    let mut colour = vec![0u8; named.len()];
    for start in 0..named.len() {
        if colour[start] != 0 {
            continue;
        }
        let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
        colour[start] = 1;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if let Some(&to) = edges[node].get(*next) {
                *next += 1;
                match colour[to] {
                    0 => {
                        colour[to] = 1;
                        stack.push((to, 0));
                    }
                    1 => return false,
                    _ => {}
                }
            } else {
                colour[node] = 2;
                stack.pop();
            }
        }
    }
    // Meanings and display names.
    let mut seen: FxHashMap<&str, &str> = FxHashMap::default();
    let mut display: FxHashMap<(&str, &str), &str> = FxHashMap::default();
    for n in &named {
        let Some(m) = n.meaning.as_deref() else {
            continue;
        };
        match seen.get(m) {
            Some(prev) if *prev != name(n) => return false,
            Some(_) => {}
            None => {
                seen.insert(m, name(n));
            }
        }
        let Some(d) = n.display.as_deref() else {
            continue;
        };
        match display.get(&(n.keyword, d)) {
            Some(prev) if *prev != m => return false,
            Some(_) => {}
            None => {
                display.insert((n.keyword, d), m);
            }
        }
    }
    let mut root_display: FxHashMap<&str, &str> = FxHashMap::default();
    for (r, d) in items.iter().flat_map(|i| &i.roots) {
        let Some(d) = d else { continue };
        match root_display.get(d.as_str()) {
            Some(prev) if prev != r => return false,
            _ => {
                root_display.insert(d, r);
            }
        }
    }
    true
}
