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
    // (previous id, person) → records held.
    let mut held: FxHashMap<(&str, u32), u32> = FxHashMap::default();
    for (r, &c) in res.record_component.iter().enumerate() {
        let fp = res.record_fps[r];
        first_fp[c as usize] = first_fp[c as usize].min(fp);
        size[c as usize] += 1;
        if let Some(id) = prev.records.get(&fp) {
            *held.entry((id.as_str(), c)).or_default() += 1;
        }
    }
    // Owner of each previous id.
    let mut owner: FxHashMap<&str, (u32, u64, u32)> = FxHashMap::default();
    let mut held_sorted: Vec<_> = held.iter().collect();
    held_sorted.sort_unstable();
    for (&(id, c), &count) in held_sorted {
        let better = |(_, ofp, ocount): (u32, u64, u32)| {
            count > ocount || (count == ocount && first_fp[c as usize] < ofp)
        };
        match owner.get(id) {
            Some(&o) if !better(o) => {}
            _ => {
                owner.insert(id, (c, first_fp[c as usize], count));
            }
        }
    }
    let mut owned: Vec<Vec<&str>> = vec![Vec::new(); n];
    for (&id, &(c, _, _)) in &owner {
        owned[c as usize].push(id);
    }
    let created = |id: &str| {
        prev.registry
            .get(id)
            .map_or(date.to_string(), |(d, _)| d.clone())
    };
    let mut issued: FxHashSet<String> = prev.registry.keys().cloned().collect();
    let mut registry: FxHashMap<String, (String, bool)> = prev.registry.clone();
    let mut ids = vec![String::new(); n];
    let mut changes = Vec::new();
    // Persons in order of their first record, so new ids are drawn deterministically.
    let mut order: Vec<u32> = (0..n as u32).collect();
    order.sort_unstable_by_key(|&c| first_fp[c as usize]);
    for c in order {
        let mine = &mut owned[c as usize];
        mine.sort_unstable_by_key(|id| (created(id), id.to_string()));
        if let Some((&keep, retired)) = mine.split_first() {
            ids[c as usize] = keep.to_string();
            registry.insert(keep.to_string(), (created(keep), true));
            for &old in retired {
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
            let mut key = entity.as_bytes().to_vec();
            key.extend_from_slice(&first_fp[c as usize].to_le_bytes());
            let id = format!("C{:016x}", fingerprint(salt, &key));
            if !issued.contains(&id) {
                break id;
            }
            salt += 1;
        };
        issued.insert(id.clone());
        registry.insert(id.clone(), (date.to_string(), true));
        // Split from the id its records had, if any.
        let mut from: Vec<&str> = held
            .keys()
            .filter(|(_, hc)| *hc == c)
            .map(|(id, _)| *id)
            .collect();
        from.sort_unstable();
        changes.push(Change {
            kind: if from.is_empty() { "new" } else { "split" },
            oneid: id.clone(),
            other: from.first().map(|s| s.to_string()),
            records: size[c as usize],
        });
        ids[c as usize] = id;
    }
    // Ids whose every record is gone are retired too.
    let kept: FxHashSet<&str> = ids.iter().map(String::as_str).collect();
    for (id, entry) in registry.iter_mut() {
        if entry.1 && !kept.contains(id.as_str()) {
            entry.1 = false;
        }
    }
    let mut registry: Vec<(String, String, bool)> = registry
        .into_iter()
        .map(|(id, (d, active))| (id, d, active))
        .collect();
    registry.sort_unstable();
    changes.sort_by(|a, b| (a.kind, &a.oneid, &a.other).cmp(&(b.kind, &b.oneid, &b.other)));
    Assignment {
        ids,
        changes,
        registry,
    }
}
