//! Scoring OneID against the generator's truth, and the bound exact matching can reach.

use std::collections::HashMap;
use std::path::Path;

use arrow::array::{Array, AsArray};
use arrow::compute::cast;
use arrow::datatypes::DataType;

use crate::common::partition;

/// The recall exact matching could reach: were every two records of one true person
/// that share a value of a declared identifier (after its normalizer, within its
/// scope; values in a `reject` list aside) joined, and nothing else, what share of
/// the true pairs would be found. Computed from the sources' accepted rows (`ods`),
/// without the resolver: a union–find over the records of each true person.
pub fn exact_bound(
    graph: &mj_compiler::lower::JobGraph,
    entity: &str,
    out: &Path,
    date: &str,
    truth: &[(String, String)],
) -> f64 {
    let job = graph
        .nodes
        .iter()
        .find_map(|n| match &n.kind {
            mj_compiler::lower::NodeKind::OneId(j) if j.name == entity => Some(j),
            _ => None,
        })
        .expect("the entity's OneID");
    let rules = mj_runtime::oneid::rules(job);
    let person_of: HashMap<&str, &str> = truth
        .iter()
        .map(|(i, p)| (i.as_str(), p.as_str()))
        .collect();
    let rejected: std::collections::HashSet<(usize, String)> = rules
        .rejects
        .iter()
        .filter_map(|(i, raw)| {
            Some((
                *i,
                rules.identifiers[*i].normalizer.apply(raw)?.into_owned(),
            ))
        })
        .collect();
    // Item number of each truth record, and (person, identifier, value) → items.
    let item: HashMap<&str, usize> = truth
        .iter()
        .enumerate()
        .map(|(n, (i, _))| (i.as_str(), n))
        .collect();
    let mut carriers: HashMap<(&str, usize, String), Vec<usize>> = HashMap::new();
    for link in &job.links {
        let key = link.key.as_deref().expect("a linked source has a key");
        for b in partition(&out.join(format!("ods/{}/dt={date}", link.source))) {
            let text = |name: &str| {
                let col = b.column(b.schema().index_of(name).expect("column")).clone();
                cast(&col, &DataType::Utf8).expect("as text")
            };
            let keys = text(key);
            let keys = keys.as_string::<i32>();
            let fields: Vec<(usize, Vec<_>, Option<_>)> = link
                .fields
                .iter()
                .map(|(ident, cols)| {
                    let scope = job.identifiers[*ident].scoped_by.as_deref().map(text);
                    (*ident, cols.iter().map(|c| text(c)).collect(), scope)
                })
                .collect();
            let (mut norm, mut scoped) = (String::new(), String::new());
            for row in 0..b.num_rows() {
                let name = format!("{}:{}", link.source, keys.value(row));
                let (Some(&person), Some(&n)) =
                    (person_of.get(name.as_str()), item.get(name.as_str()))
                else {
                    continue;
                };
                for (ident, cols, scope) in &fields {
                    let parts: Option<Vec<&str>> = cols
                        .iter()
                        .map(|c| {
                            let c = c.as_string::<i32>();
                            (!c.is_null(row)).then(|| c.value(row).trim())
                        })
                        .collect();
                    let Some(parts) = parts else { continue };
                    let raw = parts.join("|");
                    let scope = scope.as_ref().and_then(|s| {
                        let s = s.as_string::<i32>();
                        (!s.is_null(row)).then(|| s.value(row))
                    });
                    let rule = &rules.identifiers[*ident];
                    let Some(value) = rule.linked(&raw, scope, &mut norm, &mut scoped) else {
                        continue;
                    };
                    if rejected.contains(&(*ident, value.to_string())) {
                        continue;
                    }
                    carriers
                        .entry((person, *ident, value.to_string()))
                        .or_default()
                        .push(n);
                }
            }
        }
    }
    let mut parent: Vec<usize> = (0..truth.len()).collect();
    fn find(parent: &mut [usize], mut x: usize) -> usize {
        while parent[x] != x {
            parent[x] = parent[parent[x]];
            x = parent[x];
        }
        x
    }
    for items in carriers.values() {
        for w in items.windows(2) {
            let (a, b) = (find(&mut parent, w[0]), find(&mut parent, w[1]));
            if a != b {
                parent[a.max(b)] = a.min(b);
            }
        }
    }
    let bound: Vec<(String, String)> = (0..truth.len())
        .map(|n| (truth[n].0.clone(), find(&mut parent, n).to_string()))
        .collect();
    let (precision, recall, _) = crate::common::pairwise(&bound, truth);
    assert_eq!(precision, 1.0, "the bound joins only records of one person");
    recall
}
