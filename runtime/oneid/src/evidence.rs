//! Evidence: records and values indexed, nothing joined yet — for an engine that finds
//! the components elsewhere (SQL on a cluster) and hands them back.
//!
//! Such an engine marks junk values, finds the connected components of records over
//! the usable values, and says which components a guard could act on: more values of
//! an identifier than its capacity, a weak value among people holding two values of
//! one strong identifier, more records than `max_component`. Every other component
//! is one person, exactly as [`Builder::resolve`] would find it (no join in it can be
//! refused, nothing in it is cut). The flagged ones are resolved here, exactly, by the
//! union-find's rules; components are independent of one another once junk is known,
//! so the result is the one `resolve` gives.

use crate::*;

/// Records and values of a [`Builder`], indexed, before any join.
pub struct Evidence {
    b: Records,
}

impl Builder {
    /// The records and values, numbered as [`Builder::resolve`] numbers them.
    pub fn evidence(self) -> Evidence {
        Evidence { b: self.index() }
    }
}

/// What the components engine found.
pub struct Components {
    /// Values in a `reject` list or shared by too many records, and which.
    pub junk: Vec<(u32, ValueState)>,
    /// Per record: the smallest record of its component over the usable values.
    pub label: Vec<u32>,
    /// Labels of the components a guard could act on, resolved exactly here.
    pub flagged: Vec<u32>,
}

impl Evidence {
    pub fn rules(&self) -> &Rules {
        &self.b.rules
    }

    pub fn records(&self) -> usize {
        self.b.record_fps.len()
    }

    pub fn values(&self) -> &[Value] {
        &self.b.values
    }

    /// Fingerprints of the `reject` values, normalized as data is.
    pub fn reject_fps(&self) -> &[u64] {
        &self.b.reject_fps
    }

    /// The values a record carries, each once.
    pub fn record_values(&self, r: u32) -> &[u32] {
        let s = self.b.starts[r as usize] as usize;
        let e = self.b.starts[r as usize + 1] as usize;
        &self.b.links[s..e]
    }

    /// The people, from the components found elsewhere: flagged components resolved
    /// by the rules, every other one a person. Returns the resolution and the number
    /// of records resolved here.
    pub fn resolve(mut self, found: Components) -> (Resolution, u64) {
        let mut clock = Phases::default();
        let r_count = self.records();
        assert_eq!(found.label.len(), r_count, "a label for every record");
        for &(v, state) in &found.junk {
            self.b.values[v as usize].state = state;
        }
        let mut flagged = found.flagged;
        flagged.sort_unstable();
        let subset: Vec<u32> = (0..r_count as u32)
            .filter(|&r| flagged.binary_search(&found.label[r as usize]).is_ok())
            .collect();
        // Per record: the smallest record of its person.
        let mut first = found.label;
        let mut value_first: Vec<u32> = vec![NONE; self.b.values.len()];
        let mut conflicts = Vec::new();
        let mut refused = Vec::new();
        if !subset.is_empty() {
            let (sub, values) = self.subset(&subset);
            let res = Resolver::new(sub).run();
            // Each sub-person's smallest record (records of the subset are in order).
            let mut smallest = vec![NONE; res.components as usize];
            for (i, &c) in res.record_component.iter().enumerate() {
                if smallest[c as usize] == NONE {
                    smallest[c as usize] = subset[i];
                }
            }
            for (i, &c) in res.record_component.iter().enumerate() {
                first[subset[i] as usize] = smallest[c as usize];
            }
            for (j, &v) in values.iter().enumerate() {
                let value = &mut self.b.values[v as usize];
                if res.values[j].state == ValueState::Cut {
                    value.state = ValueState::Cut;
                }
                let c = res.value_component[j];
                value_first[v as usize] = if c == NONE {
                    // A value of the subset that joined no one; marked so that the
                    // pass below leaves it.
                    NONE - 1
                } else {
                    smallest[c as usize]
                };
            }
            conflicts.extend(res.conflicts.into_iter().map(|c| Conflict {
                identifier: c.identifier,
                value: values[c.value as usize],
                record: subset[c.record as usize],
            }));
            refused.extend(
                res.refused
                    .into_iter()
                    .map(|(v, why)| (values[v as usize], why)),
            );
            refused.sort_unstable_by_key(|&(v, _)| v);
        }
        // Dense person numbers in order of first record.
        let mut record_component = vec![0u32; r_count];
        let mut number = vec![NONE; r_count];
        let mut components = 0u32;
        for r in 0..r_count {
            let f = first[r] as usize;
            if number[f] == NONE {
                number[f] = components;
                components += 1;
            }
            record_component[r] = number[f];
        }
        // A usable value outside the subset joined the person of its records.
        let mut value_component = vec![NONE; self.b.values.len()];
        let mut at = 0usize;
        for (v, value) in self.b.values.iter().enumerate() {
            let rs = &self.b.value_records[at..at + value.records as usize];
            at += rs.len();
            value_component[v] = match value_first[v] {
                NONE => match (value.state, rs.first()) {
                    (ValueState::Usable, Some(&r)) => record_component[r as usize],
                    _ => NONE,
                },
                f if f == NONE - 1 => NONE,
                f => record_component[f as usize],
            };
        }
        clock.lap("people");
        let b = self.b;
        (
            Resolution {
                phases: clock.0,
                rules: b.rules,
                values: b.values,
                record_fps: b.record_fps,
                record_source: b.record_source,
                starts: b.starts,
                links: b.links,
                record_component,
                value_component,
                components,
                conflicts,
                refused,
                rows: b.rows,
                row_links: b.row_links,
                unusable: b.unusable,
                row_record: b.row_record,
            },
            subset.len() as u64,
        )
    }

    /// The records of `subset` (in order, whole components) on their own: their
    /// values (states as marked), renumbered; and each sub-value's value.
    fn subset(&self, subset: &[u32]) -> (Records, Vec<u32>) {
        let mut values: Vec<u32> = subset
            .iter()
            .flat_map(|&r| self.record_values(r).iter().copied())
            .collect();
        values.sort_unstable();
        values.dedup();
        let local = |v: u32| values.binary_search(&v).expect("a value of the subset") as u32;
        let mut starts = vec![0u32];
        let mut links = Vec::new();
        for &r in subset {
            links.extend(self.record_values(r).iter().map(|&v| local(v)));
            starts.push(links.len() as u32);
        }
        // Each sub-value's records, in order.
        let mut per_value: Vec<Vec<u32>> = vec![Vec::new(); values.len()];
        for (i, w) in starts.windows(2).enumerate() {
            for &v in &links[w[0] as usize..w[1] as usize] {
                per_value[v as usize].push(i as u32);
            }
        }
        let sub_values = values
            .iter()
            .zip(&per_value)
            .map(|(&v, rs)| Value {
                records: rs.len() as u32,
                ..self.b.values[v as usize].clone()
            })
            .collect();
        let records = Records {
            rules: self.b.rules.clone(),
            // Junk is marked already: a rejected value of the subset keeps its state.
            reject_fps: self.b.reject_fps.clone(),
            values: sub_values,
            value_records: per_value.concat(),
            record_fps: subset
                .iter()
                .map(|&r| self.b.record_fps[r as usize])
                .collect(),
            record_source: subset
                .iter()
                .map(|&r| self.b.record_source[r as usize])
                .collect(),
            starts,
            links,
            row_record: Vec::new(),
            rows: 0,
            row_links: 0,
            unusable: 0,
        };
        (records, values)
    }
}
