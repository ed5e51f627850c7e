//! Stable OneIDs: a person keeps their id from one run to the next.
//!
//! The previous run left, per record fingerprint, the OneID it had, and a registry
//! of every id ever issued with the business date it was created. For each person of
//! this run:
//!
//! - every previous id goes to the person holding most of its records (ties: the
//!   person whose first record has the smallest fingerprint);
//! - a person holding one or more previous ids keeps the **oldest** (earliest
//!   creation date, ties: the smallest id); the others are retired and logged as
//!   merged into it;
//! - a person holding none gets a new id; when some of its records had an id that
//!   another person kept, the new id is logged as split from that id;
//! - a new id is a fingerprint of the entity and the person's smallest record
//!   fingerprint, re-drawn if it was ever issued before, so the same input gives the
//!   same ids and no id is ever reused.
//!
//! Ids are 64-bit numbers inside; their text form is `C` + 16 hex digits ([`render`]).
//! Dates are `yyyymmdd` numbers ([`day`]).

use rustc_hash::{FxHashMap, FxHashSet};

use crate::{Resolution, fingerprint, radix_sort, sort_by_fp};

/// The text form of an id: `C` + 16 lowercase hex digits.
pub fn render(id: u64) -> String {
    format!("C{id:016x}")
}

/// The id of a text form written by [`render`].
pub fn parse(text: &str) -> Option<u64> {
    let hex = text.strip_prefix('C')?;
    (hex.len() == 16).then(|| u64::from_str_radix(hex, 16).ok())?
}

/// `YYYY-MM-DD` as a `yyyymmdd` number (0 for anything else).
pub fn day(date: &str) -> u32 {
    date.split('-')
        .map(|p| p.parse::<u32>().ok())
        .collect::<Option<Vec<u32>>>()
        .filter(|p| p.len() == 3)
        .map_or(0, |p| p[0] * 10_000 + p[1] * 100 + p[2])
}

/// A `yyyymmdd` number as `YYYY-MM-DD`.
pub fn date_text(day: u32) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        day / 10_000,
        day / 100 % 100,
        day % 100
    )
}

/// What the previous run left.
#[derive(Clone, Debug, Default)]
pub struct Previous {
    /// OneID of each record fingerprint.
    pub records: FxHashMap<u64, u64>,
    /// Every id ever issued: (created day, still active).
    pub registry: FxHashMap<u64, (u32, bool)>,
}

/// What happened to an id in a run; declared in the order of its text form.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ChangeKind {
    /// Another person's id was retired into this one.
    Merge,
    /// A person appeared with none of its records holding an earlier id.
    New,
    /// A person got a new id while some of its records kept another person's.
    Split,
}

impl ChangeKind {
    /// `merge`, `new` or `split`, as the change log writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Merge => "merge",
            ChangeKind::New => "new",
            ChangeKind::Split => "split",
        }
    }
}

/// One line of the change log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub kind: ChangeKind,
    pub oneid: u64,
    /// For a merge: the retired id; for a split: the id it split from.
    pub other: Option<u64>,
    /// Records of the person in this run.
    pub records: u32,
}

#[derive(Clone, Debug)]
pub struct Assignment {
    /// OneID per person (component) of the resolution.
    pub ids: Vec<u64>,
    /// Sorted by kind, then id.
    pub changes: Vec<Change>,
    /// The registry after this run: (id, created day, active), sorted by id.
    pub registry: Vec<(u64, u32, bool)>,
}

pub fn assign(entity: &str, date: &str, res: &Resolution, prev: &Previous) -> Assignment {
    let today = day(date);
    let n = res.components as usize;
    // Per person: records (counted on another core), smallest record fingerprint.
    let count_sizes = || {
        let mut size = vec![0u32; n];
        for &c in &res.record_component {
            size[c as usize] += 1;
        }
        size
    };
    let mut first_fp = vec![u64::MAX; n];
    // (person, previous id) for every record that had one.
    let mut held: Vec<(u32, u64)> = Vec::new();
    let size = std::thread::scope(|scope| {
        let size = scope.spawn(count_sizes);
        for (&c, &fp) in res.record_component.iter().zip(&res.record_fps) {
            let first = &mut first_fp[c as usize];
            *first = (*first).min(fp);
            if !prev.records.is_empty()
                && let Some(&id) = prev.records.get(&fp)
            {
                held.push((c, id));
            }
        }
        size.join().expect("counting does not panic")
    });
    held.sort_unstable();
    // (person, id, records held), one entry per pair.
    let mut counts: Vec<(u32, u64, u32)> = Vec::new();
    for &(c, id) in &held {
        match counts.last_mut() {
            Some(last) if last.0 == c && last.1 == id => last.2 += 1,
            _ => counts.push((c, id, 1)),
        }
    }
    // Owner of each previous id: most records, then the smallest first fingerprint.
    let mut owner: FxHashMap<u64, (u32, u32)> = FxHashMap::default();
    for &(c, id, count) in &counts {
        let better = match owner.get(&id) {
            None => true,
            Some(&(oc, ocount)) => {
                count > ocount || (count == ocount && first_fp[c as usize] < first_fp[oc as usize])
            }
        };
        if better {
            owner.insert(id, (c, count));
        }
    }
    let mut owned: Vec<(u32, u64)> = owner.iter().map(|(&id, &(c, _))| (c, id)).collect();
    owned.sort_unstable();
    let created = |id: u64| prev.registry.get(&id).map_or(today, |e| e.0);
    let mut updated: FxHashMap<u64, bool> = FxHashMap::default();
    let mut fresh: Vec<(u64, u32)> = Vec::new();
    let mut drawn: FxHashSet<u64> = FxHashSet::default();
    let mut ids = vec![0u64; n];
    let mut changes: Vec<Change> = Vec::new();
    // Persons in order of their first record, so new ids are drawn deterministically.
    // A resolution numbers its persons that way already (records are numbered by
    // fingerprint, persons by first record).
    let order: Vec<u32> = if first_fp.is_sorted() {
        (0..n as u32).collect()
    } else {
        let mut by_first: Vec<(u64, u32)> =
            (0..n as u32).map(|c| (first_fp[c as usize], c)).collect();
        radix_sort(&mut by_first);
        by_first.into_iter().map(|(_, c)| c).collect()
    };
    // Each half of the persons on its own core: the ids they keep (and those they
    // retire), their merges, and the first draws of the new ids, in order.
    let decide = |persons: &[u32]| {
        let mut key = Vec::with_capacity(entity.len() + 8);
        let mut kept: Vec<(u32, u64)> = Vec::new();
        let mut updates: Vec<(u64, bool)> = Vec::new();
        let mut changes: Vec<Change> = Vec::new();
        let mut fresh: Vec<(u64, u32)> = Vec::with_capacity(persons.len());
        for &c in persons {
            let start = owned.partition_point(|&(oc, _)| oc < c);
            let mut mine: Vec<u64> = owned[start..]
                .iter()
                .take_while(|&&(oc, _)| oc == c)
                .map(|&(_, id)| id)
                .collect();
            mine.sort_unstable_by_key(|&id| (created(id), id));
            if let Some((&keep, retired)) = mine.split_first() {
                kept.push((c, keep));
                updates.push((keep, true));
                for &old in retired {
                    updates.push((old, false));
                    changes.push(Change {
                        kind: ChangeKind::Merge,
                        oneid: keep,
                        other: Some(old),
                        records: size[c as usize],
                    });
                }
                continue;
            }
            // A new id: drawn below, once every person's first draw is known.
            key.clear();
            key.extend_from_slice(entity.as_bytes());
            key.extend_from_slice(&first_fp[c as usize].to_le_bytes());
            fresh.push((fingerprint(0, &key), c));
        }
        (kept, updates, changes, fresh)
    };
    let half = order.len() / 2;
    let halves = std::thread::scope(|scope| {
        let second = scope.spawn(|| decide(&order[half..]));
        [
            decide(&order[..half]),
            second.join().expect("deciding does not panic"),
        ]
    });
    for (kept, updates, merges, draws) in halves {
        for (c, keep) in kept {
            ids[c as usize] = keep;
        }
        updated.extend(updates);
        changes.extend(merges);
        if fresh.is_empty() {
            fresh = draws;
        } else {
            fresh.extend(draws);
        }
    }
    let mut key = Vec::with_capacity(entity.len() + 8);
    // First draws that collide with an earlier id, or with another person's draw, are
    // drawn again (salt 1, 2, …), persons in order of their first record. The draws
    // are sorted by id (their index in `fresh` breaking ties), which also orders the
    // new ids for the registry and the change log.
    let sorted_draws = |fresh: &[(u64, u32)]| {
        sort_by_fp(
            |shard, put| {
                for i in crate::shard_of(fresh.len(), shard) {
                    put((fresh[i].0, i as u32));
                }
            },
            |x| x.0,
        )
    };
    let mut sorted = sorted_draws(&fresh);
    let mut redraw: Vec<usize> = Vec::new();
    for (k, &(id, i)) in sorted.iter().enumerate() {
        let repeated = k > 0 && sorted[k - 1].0 == id;
        if repeated || (!prev.registry.is_empty() && prev.registry.contains_key(&id)) {
            redraw.push(i as usize);
        }
    }
    if !redraw.is_empty() {
        redraw.sort_unstable();
        drawn.extend(fresh.iter().map(|&(id, _)| id));
        for i in redraw {
            let c = fresh[i].1;
            let mut salt = 1u64;
            let id = loop {
                key.clear();
                key.extend_from_slice(entity.as_bytes());
                key.extend_from_slice(&first_fp[c as usize].to_le_bytes());
                let id = fingerprint(salt, &key);
                if !prev.registry.contains_key(&id) && drawn.insert(id) {
                    break id;
                }
                salt += 1;
            };
            fresh[i].0 = id;
        }
        sorted = sorted_draws(&fresh);
    }
    // Earlier ids that no person kept are retired (their records are gone or merged);
    // the registry is listed, and the new ids given their persons, on another core
    // while the new ids' changes are listed.
    let list_registry = || {
        for &(id, i) in &sorted {
            ids[fresh[i as usize].1 as usize] = id;
        }
        let mut registry: Vec<(u64, u32, bool)> = prev
            .registry
            .iter()
            .map(|(&id, &(d, _))| (id, d, updated.get(&id).copied().unwrap_or(false)))
            .collect();
        registry.extend(sorted.iter().map(|&(id, _)| (id, today, true)));
        // Ids are unique fingerprints: sorting by id alone is the full order.
        if !registry.is_sorted_by_key(|r| r.0) {
            crate::bucket_sort(&mut registry, |r| r.0);
        }
        registry
    };
    // Each new id's change, in id order.
    let mut list_changes = || {
        changes.reserve(sorted.len());
        for &(id, i) in &sorted {
            let c = fresh[i as usize].1;
            // Split from the (smallest) id its records had, if any.
            let from = counts.partition_point(|&(pc, _, _)| pc < c);
            let other = counts[from..]
                .iter()
                .take_while(|x| x.0 == c)
                .map(|x| x.1)
                .min();
            changes.push(Change {
                kind: if other.is_none() {
                    ChangeKind::New
                } else {
                    ChangeKind::Split
                },
                oneid: id,
                other,
                records: size[c as usize],
            });
        }
        sort_changes(&mut changes);
    };
    let registry = std::thread::scope(|scope| {
        let registry = scope.spawn(list_registry);
        list_changes();
        registry
            .join()
            .expect("listing the registry does not panic")
    });
    Assignment {
        ids,
        changes,
        registry,
    }
}

/// Sorts changes by kind, then id, then the other id. Most are `new` ones (millions on
/// a first run): each kind is sorted on its own by its ids, which are fingerprints.
fn sort_changes(changes: &mut Vec<Change>) {
    if changes.is_sorted_by_key(|c| (c.kind, c.oneid, c.other)) {
        return;
    }
    // (id, has another id, the other id, records): `None` sorts before `Some`.
    type Entry = (u64, bool, u64, u32);
    let mut by_kind: Vec<(ChangeKind, Vec<Entry>)> = Vec::new();
    for c in changes.drain(..) {
        let entry = (c.oneid, c.other.is_some(), c.other.unwrap_or(0), c.records);
        match by_kind.iter_mut().find(|(k, _)| *k == c.kind) {
            Some((_, v)) => v.push(entry),
            None => by_kind.push((c.kind, vec![entry])),
        }
    }
    by_kind.sort_by_key(|(k, _)| *k);
    for (kind, mut entries) in by_kind {
        if !entries.is_sorted() {
            crate::bucket_sort(&mut entries, |e| e.0);
        }
        changes.extend(
            entries
                .into_iter()
                .map(|(oneid, has, other, records)| Change {
                    kind,
                    oneid,
                    other: has.then_some(other),
                    records,
                }),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_forms() {
        assert_eq!(render(0xab), "C00000000000000ab");
        assert_eq!(parse("C00000000000000ab"), Some(0xab));
        assert_eq!(parse("Cab"), None);
        assert_eq!(parse("X00000000000000ab"), None);
        assert_eq!(day("2025-06-30"), 20250630);
        assert_eq!(date_text(20250630), "2025-06-30");
        assert_eq!(day("yesterday"), 0);
    }
}
