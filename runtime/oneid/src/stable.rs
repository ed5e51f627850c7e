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
//! - a new id is `C` + 16 hex digits of a fingerprint of the entity and the person's
//!   smallest record fingerprint, re-drawn if it was ever issued before, so the same
//!   input gives the same ids and no id is ever reused.

use rustc_hash::{FxHashMap, FxHashSet};

use crate::{Resolution, fingerprint};

/// What the previous run left.
#[derive(Clone, Debug, Default)]
pub struct Previous {
    /// OneID of each record fingerprint.
    pub records: FxHashMap<u64, String>,
    /// Every id ever issued: (created date, still active).
    pub registry: FxHashMap<String, (String, bool)>,
}

/// One line of the change log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// `new`, `merge` or `split`.
    pub kind: &'static str,
    pub oneid: String,
    /// For a merge: the retired id; for a split: the id it split from.
    pub other: Option<String>,
    /// Records of the person in this run.
    pub records: u32,
}

#[derive(Clone, Debug)]
pub struct Assignment {
    /// OneID per person (component) of the resolution.
    pub ids: Vec<String>,
    pub changes: Vec<Change>,
    /// The registry after this run, sorted by id.
    pub registry: Vec<(String, String, bool)>,
}

pub fn assign(entity: &str, date: &str, res: &Resolution, prev: &Previous) -> Assignment {
    let n = res.components as usize;
    let mut first_fp = vec![u64::MAX; n];
    let mut size = vec![0u32; n];
    // Previous ids, interned; (person, previous id) for every record that had one.
    let mut interned: FxHashMap<&str, u32> = FxHashMap::default();
    let mut names: Vec<&str> = Vec::new();
    let mut held: Vec<(u32, u32)> = Vec::new();
    for (r, &c) in res.record_component.iter().enumerate() {
        let fp = res.record_fps[r];
        first_fp[c as usize] = first_fp[c as usize].min(fp);
        size[c as usize] += 1;
        if let Some(id) = prev.records.get(&fp) {
            let next = names.len() as u32;
            let k = *interned.entry(id.as_str()).or_insert_with(|| {
                names.push(id.as_str());
                next
            });
            held.push((c, k));
        }
    }
    held.sort_unstable();
    // (person, id, records held), one entry per pair.
    let mut counts: Vec<(u32, u32, u32)> = Vec::new();
    for &(c, k) in &held {
        match counts.last_mut() {
            Some(last) if last.0 == c && last.1 == k => last.2 += 1,
            _ => counts.push((c, k, 1)),
        }
    }
    // Owner of each previous id: most records, then the smallest first fingerprint.
    let mut owner: Vec<Option<(u32, u32)>> = vec![None; names.len()];
    for &(c, k, count) in &counts {
        let better = match owner[k as usize] {
            None => true,
            Some((oc, ocount)) => {
                count > ocount || (count == ocount && first_fp[c as usize] < first_fp[oc as usize])
            }
        };
        if better {
            owner[k as usize] = Some((c, count));
        }
    }
    let mut owned: Vec<Vec<u32>> = vec![Vec::new(); n];
    for (k, o) in owner.iter().enumerate() {
        if let Some((c, _)) = o {
            owned[*c as usize].push(k as u32);
        }
    }
    let created = |id: &str| {
        prev.registry
            .get(id)
            .map_or(date.to_string(), |(d, _)| d.clone())
    };
    // The registry: earlier ids (updated below) and the ids drawn now.
    let mut registry: FxHashMap<String, (String, bool)> = FxHashMap::default();
    let mut fresh: Vec<(String, bool)> = Vec::new();
    let mut drawn: FxHashSet<u64> = FxHashSet::default();
    let mut ids = vec![String::new(); n];
    let mut changes: Vec<Change> = Vec::new();
    // Persons in order of their first record, so new ids are drawn deterministically.
    let mut order: Vec<u32> = (0..n as u32).collect();
    order.sort_unstable_by_key(|&c| first_fp[c as usize]);
    let mut key = Vec::with_capacity(entity.len() + 8);
    for c in order {
        let mine = &mut owned[c as usize];
        mine.sort_unstable_by_key(|&k| (created(names[k as usize]), names[k as usize]));
        if let Some((&keep, retired)) = mine.split_first() {
            let keep = names[keep as usize];
            ids[c as usize] = keep.to_string();
            registry.insert(keep.to_string(), (created(keep), true));
            for &old in retired {
                let old = names[old as usize];
                registry.insert(old.to_string(), (created(old), false));
                changes.push(Change {
                    kind: "merge",
                    oneid: keep.to_string(),
                    other: Some(old.to_string()),
                    records: size[c as usize],
                });
            }
            continue;
        }
        let mut salt = 0u64;
        let id = loop {
            key.clear();
            key.extend_from_slice(entity.as_bytes());
            key.extend_from_slice(&first_fp[c as usize].to_le_bytes());
            let h = fingerprint(salt, &key);
            if !drawn.contains(&h) {
                let id = format!("C{h:016x}");
                if !prev.registry.contains_key(&id) {
                    drawn.insert(h);
                    break id;
                }
            }
            salt += 1;
        };
        fresh.push((id.clone(), true));
        // Split from the (smallest) id its records had, if any.
        let from = counts
            .binary_search_by_key(&(c, 0), |&(pc, k, _)| (pc, k))
            .unwrap_or_else(|i| i);
        let other = counts[from..]
            .iter()
            .take_while(|x| x.0 == c)
            .map(|x| names[x.1 as usize])
            .min();
        changes.push(Change {
            kind: if other.is_none() { "new" } else { "split" },
            oneid: id.clone(),
            other: other.map(str::to_string),
            records: size[c as usize],
        });
        ids[c as usize] = id;
    }
    // Earlier ids no person kept are retired (their records are gone or merged).
    let mut out: Vec<(String, String, bool)> =
        Vec::with_capacity(prev.registry.len() + fresh.len());
    for (id, (d, active)) in &prev.registry {
        match registry.remove(id) {
            Some((d, a)) => out.push((id.clone(), d, a)),
            None => {
                let _ = active;
                out.push((id.clone(), d.clone(), false))
            }
        }
    }
    out.extend(fresh.into_iter().map(|(id, a)| (id, date.to_string(), a)));
    // Ids are `C` + 16 hex digits: their numeric order is their text order.
    let num = |id: &str| {
        id.get(1..)
            .and_then(|h| u64::from_str_radix(h, 16).ok())
            .unwrap_or(u64::MAX)
    };
    let mut keyed: Vec<(u64, (String, String, bool))> =
        out.into_iter().map(|r| (num(&r.0), r)).collect();
    keyed.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.0.cmp(&b.1.0)));
    let registry = keyed.into_iter().map(|(_, r)| r).collect();
    let mut keyed: Vec<(u64, Change)> = changes.into_iter().map(|c| (num(&c.oneid), c)).collect();
    keyed.sort_unstable_by(|a, b| {
        (a.1.kind, a.0, &a.1.oneid, &a.1.other).cmp(&(b.1.kind, b.0, &b.1.oneid, &b.1.other))
    });
    let changes = keyed.into_iter().map(|(_, c)| c).collect();
    Assignment {
        ids,
        changes,
        registry,
    }
}
