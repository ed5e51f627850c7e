//! The people found, and the evidence why two records are (or are not) one person.

use rustc_hash::FxHashMap;

use crate::*;

/// The people found, with what the rules did on the way.
#[derive(Debug)]
pub struct Resolution {
    pub rules: Rules,
    pub values: Vec<Value>,
    /// Per record: its fingerprint (stable between runs) and source.
    pub record_fps: Vec<u64>,
    pub record_source: Vec<u32>,
    pub(crate) starts: Vec<u32>,
    pub(crate) links: Vec<u32>,
    /// Per record: its person, numbered densely in order of first record.
    pub record_component: Vec<u32>,
    /// Per row given to [`Builder::add`]: its record.
    pub row_record: Vec<u32>,
    /// Per value: the person it joined, or [`NONE`] (a value that joined no one).
    pub(crate) value_component: Vec<u32>,
    pub components: u32,
    pub conflicts: Vec<Conflict>,
    /// Weak values that joined none of their carriers, and why.
    pub refused: Vec<(u32, Refusal)>,
    pub rows: u64,
    /// Usable identifier values over all rows (rows repeating a record included):
    /// the links the engine was given.
    pub row_links: u64,
    pub unusable: u64,
    /// How long each phase of [`Builder::resolve`] took.
    pub phases: Vec<(&'static str, std::time::Duration)>,
}

/// The rows given to a [`Builder`], read again when a value's text is wanted (a
/// report or an explanation names a few values; the engine keeps no copy of their
/// text).
pub trait Rows {
    /// Calls `field` with each (identifier index, raw value, scope value) of row `row`,
    /// as the row was given to [`Builder::add`].
    fn fields(&self, row: u32, field: &mut dyn FnMut(usize, &str, Option<&str>));
}

/// One hop of evidence: a record carries a value that another record carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hop {
    pub from: u32,
    pub identifier: String,
    pub value: String,
    pub rule: &'static str,
    pub to: u32,
}

/// Why two records are, or are not, one person.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Explanation {
    Same(Vec<Hop>),
    Apart(Vec<String>),
}

impl Resolution {
    /// The record of a row (the number [`Builder::add`] returned).
    pub fn record_of(&self, row: u32) -> u32 {
        self.row_record[row as usize]
    }

    /// The text of each of `values`, as the engine linked it (normalized, after its
    /// scope), read back from a row that carries it: the engine keeps no copy of the
    /// values' text. One pass over the records and one over the rows, whatever the
    /// number of values. A value the rows no longer give is written as its
    /// fingerprint, `#` and 16 hex digits.
    pub fn value_texts(&self, values: &[u32], rows: &dyn Rows) -> Vec<String> {
        // The first record carrying each value, and that record's first row.
        let mut record_of: FxHashMap<u32, u32> = values.iter().map(|&v| (v, NONE)).collect();
        let mut left = record_of.len();
        for r in 0..self.records() as u32 {
            for v in self.record_values(r) {
                if let Some(rec) = record_of.get_mut(v).filter(|rec| **rec == NONE) {
                    *rec = r;
                    left -= 1;
                }
            }
            if left == 0 {
                break;
            }
        }
        let mut row_of: FxHashMap<u32, u32> = record_of.values().map(|&r| (r, NONE)).collect();
        let mut left = row_of.len();
        for (row, r) in self.row_record.iter().enumerate() {
            if let Some(at) = row_of.get_mut(r).filter(|at| **at == NONE) {
                *at = row as u32;
                left -= 1;
                if left == 0 {
                    break;
                }
            }
        }
        let (mut norm, mut scoped) = (String::new(), String::new());
        values
            .iter()
            .map(|&v| {
                let value = &self.values[v as usize];
                let rule = &self.rules.identifiers[value.identifier as usize];
                let mut text = None;
                if let Some(&row) = row_of.get(&record_of[&v]) {
                    rows.fields(row, &mut |ident, raw, scope| {
                        if text.is_some() || ident != value.identifier as usize {
                            return;
                        }
                        let linked = rule.linked(raw, scope, &mut norm, &mut scoped);
                        if let Some(t) = linked.filter(|t| {
                            fingerprint(ident as u64, t.as_bytes()) == value.fingerprint
                        }) {
                            text = Some(t.to_string());
                        }
                    });
                }
                text.unwrap_or_else(|| format!("#{:016x}", value.fingerprint))
            })
            .collect()
    }

    /// The text of one value ([`Resolution::value_texts`]).
    pub fn value_text(&self, v: u32, rows: &dyn Rows) -> String {
        self.value_texts(&[v], rows).pop().unwrap_or_default()
    }

    pub fn record_values(&self, r: u32) -> &[u32] {
        let s = self.starts[r as usize] as usize;
        let e = self.starts[r as usize + 1] as usize;
        &self.links[s..e]
    }

    pub fn records(&self) -> usize {
        self.record_fps.len()
    }

    /// The joins the rules made, as edges between nodes (records `0..R`, values
    /// `R..R+V`): their connected components are exactly the people found. A
    /// distributed components algorithm given these edges must agree.
    pub fn joins(&self) -> Vec<(u64, u64)> {
        let r_count = self.records() as u64;
        let mut out = Vec::new();
        for r in 0..self.records() as u32 {
            let c = self.record_component[r as usize];
            for &v in self.record_values(r) {
                if self.values[v as usize].state == ValueState::Usable
                    && self.value_component[v as usize] == c
                {
                    out.push((u64::from(r), r_count + u64::from(v)));
                }
            }
        }
        out
    }

    /// Distinct records per person.
    pub fn component_sizes(&self) -> Vec<u32> {
        let mut sizes = vec![0; self.components as usize];
        for &c in &self.record_component {
            sizes[c as usize] += 1;
        }
        sizes
    }

    pub(crate) fn rule_of(&self, v: u32) -> &'static str {
        let rule = &self.rules.identifiers[self.values[v as usize].identifier as usize];
        match (rule.weak, rule.capacity) {
            (true, _) => "weak: joins what no strong identifier keeps apart",
            (false, Some(1)) => "strong, unique",
            (false, Some(_)) => "strong, max_per_person",
            (false, None) => "strong",
        }
    }

    /// A value's text as reports show it: masked when its identifier is personal,
    /// unless `show_pii`.
    pub fn shown(&self, v: u32, text: String, show_pii: bool) -> String {
        let rule = &self.rules.identifiers[self.values[v as usize].identifier as usize];
        if rule.pii && !show_pii {
            mask(&text)
        } else {
            text
        }
    }

    /// The shortest chain of evidence between two records, or the guards that keep
    /// them apart; `rows` are the rows the records came from (for the values' text),
    /// and values of `pii` identifiers are masked unless `show_pii`.
    pub fn explain(&self, a: u32, b: u32, rows: &dyn Rows, show_pii: bool) -> Explanation {
        let r_count = self.records() as u32;
        if self.record_component[a as usize] == self.record_component[b as usize] {
            // Breadth-first search over record → value → record within the person.
            let comp = self.record_component[a as usize];
            let mut carriers: FxHashMap<u32, Vec<u32>> = FxHashMap::default();
            for r in 0..r_count {
                if self.record_component[r as usize] == comp {
                    for &v in self.record_values(r) {
                        if self.values[v as usize].state == ValueState::Usable
                            && self.value_component[v as usize] == comp
                        {
                            carriers.entry(v).or_default().push(r);
                        }
                    }
                }
            }
            let mut by_record: FxHashMap<u32, Vec<u32>> = FxHashMap::default();
            for (&v, rs) in &carriers {
                for &r in rs {
                    by_record.entry(r).or_default().push(v);
                }
            }
            for vs in by_record.values_mut() {
                vs.sort_unstable();
            }
            let mut prev: FxHashMap<u32, (u32, u32)> = FxHashMap::default();
            let mut queue = std::collections::VecDeque::from([a]);
            prev.insert(a, (a, u32::MAX));
            while let Some(r) = queue.pop_front() {
                if r == b {
                    break;
                }
                for &v in by_record.get(&r).map_or(&[][..], |x| &x[..]) {
                    let mut next = carriers[&v].clone();
                    next.sort_unstable();
                    for n in next {
                        if let std::collections::hash_map::Entry::Vacant(e) = prev.entry(n) {
                            e.insert((r, v));
                            queue.push_back(n);
                        }
                    }
                }
            }
            // (from, value, to), from b back to a.
            let mut chain = Vec::new();
            let mut at = b;
            while at != a {
                let Some(&(from, v)) = prev.get(&at) else {
                    break;
                };
                chain.push((from, v, at));
                at = from;
            }
            chain.reverse();
            let values: Vec<u32> = chain.iter().map(|&(_, v, _)| v).collect();
            let texts: Vec<String> = self
                .value_texts(&values, rows)
                .into_iter()
                .zip(&values)
                .map(|(text, &v)| self.shown(v, text, show_pii))
                .collect();
            let hops = chain
                .into_iter()
                .zip(texts)
                .map(|((from, v, to), value)| Hop {
                    from,
                    identifier: self.rules.identifiers[self.values[v as usize].identifier as usize]
                        .name
                        .clone(),
                    value,
                    rule: self.rule_of(v),
                    to,
                })
                .collect();
            return Explanation::Same(hops);
        }
        // Apart: what the two people share, and which guard stopped it.
        let (ca, cb) = (
            self.record_component[a as usize],
            self.record_component[b as usize],
        );
        let mut side: FxHashMap<u32, u8> = FxHashMap::default();
        for r in 0..r_count {
            let c = self.record_component[r as usize];
            let bit = if c == ca {
                1
            } else if c == cb {
                2
            } else {
                continue;
            };
            for &v in self.record_values(r) {
                *side.entry(v).or_default() |= bit;
            }
        }
        let mut shared: Vec<u32> = side
            .into_iter()
            .filter(|&(_, s)| s == 3)
            .map(|(v, _)| v)
            .collect();
        shared.sort_unstable();
        let mut reasons = Vec::new();
        let texts = self.value_texts(&shared, rows);
        for (v, text) in shared.into_iter().zip(texts) {
            let text = self.shown(v, text, show_pii);
            let value = &self.values[v as usize];
            let rule = &self.rules.identifiers[value.identifier as usize];
            let what = format!("{} {text:?}", rule.name);
            let reason = match value.state {
                ValueState::Rejected => format!("{what} is in the `reject` list"),
                ValueState::Frequent => format!(
                    "{what} is shared by {} records, more than `reject frequent above {}`",
                    value.records,
                    self.rules.frequent_above.unwrap_or(0)
                ),
                ValueState::Cut => format!(
                    "{what} was dropped to keep a person within `max_component {}`",
                    self.rules.max_component.unwrap_or(0)
                ),
                ValueState::Usable if rule.weak => {
                    let why = self
                        .refused
                        .iter()
                        .find(|(x, _)| *x == v)
                        .map(|(_, why)| *why);
                    let name = |i: u16| &self.rules.identifiers[i as usize].name;
                    match why {
                        Some(Refusal::Conflict { identifier }) => format!(
                            "{what} is weak, and the people carrying it hold different values of the strong identifier `{}`, so it joins none of them",
                            name(identifier)
                        ),
                        Some(Refusal::OverCapacity { identifier }) => format!(
                            "{what} is weak, and joining through it would give one person more than `max_per_person {}` values of `{}`",
                            self.rules.identifiers[identifier as usize]
                                .capacity
                                .unwrap_or(0),
                            name(identifier)
                        ),
                        None => format!("{what} is weak and shared, but did not join them"),
                    }
                }
                ValueState::Usable => {
                    let conflict = self.conflicts.iter().find(|c| c.value == v);
                    match conflict {
                        Some(c) => {
                            let guard = &self.rules.identifiers[c.identifier as usize];
                            match guard.capacity {
                                Some(1) => format!(
                                    "joining through {what} would give one person two values of the unique identifier `{}`",
                                    guard.name
                                ),
                                n => format!(
                                    "joining through {what} would give one person more than `max_per_person {}` values of `{}`",
                                    n.unwrap_or(0),
                                    guard.name
                                ),
                            }
                        }
                        None => format!("{what} is shared but did not join them"),
                    }
                }
            };
            reasons.push(reason);
        }
        if reasons.is_empty() {
            reasons.push("they share no identifier value".to_string());
        }
        Explanation::Apart(reasons)
    }
}
