//! The resolver: junk, strong and weak joins, capacities and cuts over a union-find.

use rustc_hash::FxHashMap;

use crate::*;

/// The root of `x` in a forest where every parent is at most its child: the
/// smallest record of the component. Halves the path on the way.
pub(crate) fn find_first(parent: &mut [u32], mut x: u32) -> u32 {
    loop {
        let p = parent[x as usize];
        if p == x {
            return x;
        }
        let g = parent[p as usize];
        parent[x as usize] = g;
        x = g;
    }
}

/// Union-find over records (ids `0..R`) and values (`R..R+V`), with path halving.
/// The resolver's forest joins with [`Uf::link_min`] (no sizes kept); the one-by-one
/// resolver and the cut join by size with [`Uf::link`].
pub(crate) struct Uf {
    pub(crate) parent: Vec<u32>,
    pub(crate) size: Vec<u32>,
}

impl Uf {
    pub(crate) fn new(n: usize) -> Uf {
        Uf {
            parent: (0..n as u32).collect(),
            size: vec![1; n],
        }
    }

    pub(crate) fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let p = self.parent[x as usize];
            self.parent[x as usize] = self.parent[p as usize];
            x = self.parent[x as usize];
        }
        x
    }

    /// Joins two roots under the smaller. A forest joined only this way (and by
    /// [`Resolver::strong`]) keeps every parent at most its child: a component's root
    /// is its first record.
    pub(crate) fn link_min(&mut self, a: u32, b: u32) {
        let (lo, hi) = (a.min(b), a.max(b));
        self.parent[hi as usize] = lo;
    }

    /// Joins two roots; returns the new root.
    pub(crate) fn link(&mut self, a: u32, b: u32) -> u32 {
        let (big, small) = if self.size[a as usize] >= self.size[b as usize] {
            (a, b)
        } else {
            (b, a)
        };
        self.parent[small as usize] = big;
        self.size[big as usize] += self.size[small as usize];
        big
    }
}

pub(crate) struct Resolver {
    pub(crate) b: Records,
    /// Per record link: its identifier, or JUNK when the value links nothing.
    pub(crate) kinds: Vec<u16>,
    pub(crate) uf: Uf,
    /// Joining one by one ([`Resolver::join_in_order`]) only — for each `unique`
    /// strong identifier: the one value each root holds (NONE if none yet), by node.
    pub(crate) slots: Vec<(usize, Vec<u32>)>,
    /// Joining one by one only — values of strong identifiers with `max_per_person`
    /// above one, by root (sparse).
    pub(crate) held: FxHashMap<u32, Vec<u32>>,
    pub(crate) conflicts: Vec<Conflict>,
    /// Weak values that joined nobody, and why.
    pub(crate) refused: Vec<(u32, Refusal)>,
    /// Every component goes through [`Resolver::exact`] (the tests' reference).
    #[cfg(test)]
    pub(crate) one_by_one: bool,
}

impl Resolver {
    pub(crate) fn new(b: Records) -> Resolver {
        Resolver {
            kinds: Vec::new(),
            uf: Uf::new(0),
            slots: Vec::new(),
            held: FxHashMap::default(),
            conflicts: Vec::new(),
            refused: Vec::new(),
            #[cfg(test)]
            one_by_one: false,
            b,
        }
    }

    pub(crate) fn record_values(&self, r: u32) -> &[u32] {
        let s = self.b.starts[r as usize] as usize;
        let e = self.b.starts[r as usize + 1] as usize;
        &self.b.links[s..e]
    }

    pub(crate) fn run(mut self) -> Resolution {
        let mut clock = Phases::default();
        let r_count = self.b.record_fps.len() as u32;
        // 1. Junk.
        let frequent = self.b.rules.frequent_above;
        for v in &mut self.b.values {
            if self.b.reject_fps.contains(&v.fingerprint) {
                v.state = ValueState::Rejected;
            } else if frequent.is_some_and(|n| u64::from(v.records) > n) {
                v.state = ValueState::Frequent;
            }
        }
        // 2. Strong identifiers.
        // Each link's identifier, or JUNK: read once, in link order (each half of the
        // links on its own core).
        let values = &self.b.values;
        let kind_of = |&v: &u32| {
            let value = &values[v as usize];
            if value.state == ValueState::Usable {
                value.identifier
            } else {
                JUNK
            }
        };
        let mut kinds = vec![JUNK; self.b.links.len()];
        let (links_1, links_2) = self.b.links.split_at(self.b.links.len() / 2);
        let (kinds_1, kinds_2) = kinds.split_at_mut(links_1.len());
        std::thread::scope(|scope| {
            scope.spawn(|| {
                for (k, v) in kinds_2.iter_mut().zip(links_2) {
                    *k = kind_of(v);
                }
            });
            for (k, v) in kinds_1.iter_mut().zip(links_1) {
                *k = kind_of(v);
            }
        });
        self.strong(r_count, &kinds);
        clock.lap("strong");
        // 3. Weak identifiers.
        self.kinds = kinds;
        self.weak(r_count);
        let kinds = std::mem::take(&mut self.kinds);
        clock.lap("weak");
        // 4. Components, then cuts. Every parent is at most its child (records are
        //    numbered before values, and joins put the smaller root above), so one pass
        //    over the records in order leaves each pointing at its root; a value's
        //    parent is a record or the value itself.
        let parent = &mut self.uf.parent;
        for r in 0..r_count as usize {
            parent[r] = parent[parent[r] as usize];
        }
        let mut comp = parent[..r_count as usize].to_vec();
        if let Some(max) = self.b.rules.max_component {
            self.cut(&mut comp, max, r_count);
        }
        clock.lap("cut");
        // Dense component numbers in order of first record, in place. Every
        // component's label is its first record (the forest's root, or the first record
        // of a cut part), so a record either opens a component or joins an earlier
        // record's, whose label is already its number.
        let mut components = 0u32;
        for r in 0..comp.len() {
            let c = comp[r] as usize;
            comp[r] = if c == r {
                components += 1;
                components - 1
            } else {
                comp[c]
            };
        }
        let record_component = comp;
        // A value belongs to the person of the records it joined.
        let parent = &self.uf.parent;
        let root_of_value = |v: usize| {
            let p = parent[r_count as usize + v];
            if p < r_count { parent[p as usize] } else { p }
        };
        let values = &self.b.values;
        let cut = values.iter().any(|v| v.state == ValueState::Cut);
        let mut value_component = vec![NONE; values.len()];
        if !cut {
            // A joined value's root is a record of its person (each half of the values
            // on its own core).
            let label = |from: usize, out: &mut [u32]| {
                for (i, c) in out.iter_mut().enumerate() {
                    let v = from + i;
                    let root = root_of_value(v);
                    if root < r_count && values[v].state == ValueState::Usable {
                        *c = record_component[root as usize];
                    }
                }
            };
            let half = values.len() / 2;
            let (first, second) = value_component.split_at_mut(half);
            std::thread::scope(|scope| {
                scope.spawn(|| label(half, second));
                label(0, first);
            });
        } else {
            // A cut person's parts share a root: the value goes with the last record
            // that carries it under that root.
            for r in 0..r_count {
                let root = parent[r as usize];
                let (s, e) = (
                    self.b.starts[r as usize] as usize,
                    self.b.starts[r as usize + 1] as usize,
                );
                for (&kind, &v) in kinds[s..e].iter().zip(&self.b.links[s..e]) {
                    if kind != JUNK
                        && values[v as usize].state == ValueState::Usable
                        && root_of_value(v as usize) == root
                    {
                        value_component[v as usize] = record_component[r as usize];
                    }
                }
            }
        }
        clock.lap("components");
        Resolution {
            phases: clock.0,
            rules: self.b.rules,
            values: self.b.values,
            record_fps: self.b.record_fps,
            record_source: self.b.record_source,
            starts: self.b.starts,
            links: self.b.links,
            record_component,
            value_component,
            components,
            conflicts: self.conflicts,
            refused: self.refused,
            rows: self.b.rows,
            row_links: self.b.row_links,
            unusable: self.b.unusable,
            row_record: self.b.row_record,
        }
    }

    /// Joins records through their strong values. Were no join refused, the people
    /// would be the connected components of records and strong values: those are
    /// found first, over records alone and value by value (reading the value → records
    /// lists in order). Capacities refuse joins, in the order the crate docs give, only
    /// inside a component holding more values of a capacity-bound identifier than it
    /// allows; such components are resolved again, exactly, by [`Resolver::exact`].
    /// Either way each node ends with its root in `self.uf`.
    pub(crate) fn strong(&mut self, r_count: u32, kinds: &[u16]) {
        let rules = &self.b.rules.identifiers;
        let joins = |v: &Value| v.state == ValueState::Usable && !rules[v.identifier as usize].weak;
        // parent[r] <= r always, so a component's root is its first record and one pass
        // in record order flattens the forest.
        let values = &self.b.values;
        // The forest: records, then values (whose roots are written below).
        let mut uf_parent = vec![0u32; r_count as usize + values.len()];
        let (parent, value_roots) = uf_parent.split_at_mut(r_count as usize);
        for (r, p) in parent.iter_mut().enumerate() {
            *p = r as u32;
        }
        let value_records = &self.b.value_records;
        // The values are split in two halves below; where the second's records begin.
        let half = values.len() / 2;
        let mut half_at = 0usize;
        // The joining values' records, a chunk at a time: their parents are read
        // together first, so that the reads overlap, and each join starts from the parent
        // read then (still an ancestor: joins only give roots a parent, and halving a
        // path keeps every node below its ancestors).
        let mut chunk: Vec<u32> = Vec::with_capacity(GATHER + 64);
        let mut firsts: Vec<usize> = Vec::with_capacity(GATHER + 64);
        let mut from: Vec<u32> = Vec::with_capacity(GATHER + 64);
        let mut join = |chunk: &mut Vec<u32>, firsts: &mut Vec<usize>, parent: &mut [u32]| {
            from.clear();
            from.extend(chunk.iter().map(|&r| parent[r as usize]));
            firsts.push(chunk.len());
            for w in firsts.windows(2) {
                let mut a = find_first(parent, from[w[0]]);
                for &r in &from[w[0] + 1..w[1]] {
                    let b = find_first(parent, r);
                    if a != b {
                        let (lo, hi) = (a.min(b), a.max(b));
                        parent[hi as usize] = lo;
                        a = lo;
                    }
                }
            }
            chunk.clear();
            firsts.clear();
        };
        let mut at = 0usize;
        for (v, value) in values.iter().enumerate() {
            if v == half {
                half_at = at;
            }
            let rs = &value_records[at..at + value.records as usize];
            at += rs.len();
            if rs.len() < 2 || !joins(value) {
                continue;
            }
            firsts.push(chunk.len());
            chunk.extend_from_slice(rs);
            if chunk.len() >= GATHER {
                join(&mut chunk, &mut firsts, parent);
            }
        }
        join(&mut chunk, &mut firsts, parent);
        for x in 0..parent.len() {
            parent[x] = parent[parent[x] as usize];
        }
        // Each value's root (its first record's, when it joins), and per root its values
        // of each capacity-bound identifier: each half of the values on its own core,
        // counting apart.
        let caps: Vec<Option<u32>> = rules
            .iter()
            .map(|r| r.capacity.filter(|_| !r.weak))
            .collect();
        let parent = &*parent;
        let (first_roots, second_roots) = value_roots.split_at_mut(half);
        let roots_and_counts = |from: usize, mut at: usize, roots: &mut [u32]| {
            let mut counts: Vec<Vec<u32>> = caps
                .iter()
                .map(|c| c.map_or_else(Vec::new, |_| vec![0u32; r_count as usize]))
                .collect();
            for (i, slot) in roots.iter_mut().enumerate() {
                let v = from + i;
                let value = &values[v];
                let first = value_records.get(at).copied();
                at += value.records as usize;
                *slot = r_count + v as u32;
                let Some(first) = first else { continue };
                if joins(value) {
                    let root = parent[first as usize];
                    *slot = root;
                    if let Some(c) = counts[value.identifier as usize].get_mut(root as usize) {
                        *c += 1;
                    }
                }
            }
            counts
        };
        let (counts_1, counts_2) = std::thread::scope(|scope| {
            let second = scope.spawn(|| roots_and_counts(half, half_at, second_roots));
            let first = roots_and_counts(0, 0, first_roots);
            (first, second.join().expect("counting does not panic"))
        });
        // Components over capacity.
        let over = |root: u32| {
            caps.iter().enumerate().any(|(i, cap)| {
                cap.is_some_and(|cap| counts_1[i][root as usize] + counts_2[i][root as usize] > cap)
            })
        };
        #[cfg(test)]
        let over = |root: u32| self.one_by_one || over(root);
        let any_over = (0..r_count).any(|r| parent[r as usize] == r && over(r));
        if any_over {
            let subset: Vec<u32> = (0..r_count).filter(|&r| over(parent[r as usize])).collect();
            self.exact(&subset, kinds, &mut uf_parent);
        }
        self.uf = Uf {
            parent: uf_parent,
            size: Vec::new(),
        };
    }

    /// The strong joins of `subset` (whole components, in record order) made one by
    /// one with the capacity checks, on a resolver of their own; their roots are
    /// written back into `uf_parent` and their conflicts added.
    pub(crate) fn exact(&mut self, subset: &[u32], kinds: &[u16], uf_parent: &mut [u32]) {
        let r_count = self.b.record_fps.len() as u32;
        let rules = &self.b.rules.identifiers;
        // The strong, usable values of the subset, in order.
        let mut values: Vec<u32> = Vec::new();
        let mut starts = vec![0u32];
        let mut links = Vec::new();
        for &r in subset {
            let (s, e) = (
                self.b.starts[r as usize] as usize,
                self.b.starts[r as usize + 1] as usize,
            );
            for j in s..e {
                if kinds[j] != JUNK && !rules[kinds[j] as usize].weak {
                    values.push(self.b.links[j]);
                    links.push(self.b.links[j]);
                }
            }
            starts.push(links.len() as u32);
        }
        values.sort_unstable();
        values.dedup();
        for v in &mut links {
            *v = values.binary_search(v).expect("a value of the subset") as u32;
        }
        let sub = Records {
            rules: self.b.rules.clone(),
            reject_fps: Vec::new(),
            values: values
                .iter()
                .map(|&v| self.b.values[v as usize].clone())
                .collect(),
            value_records: Vec::new(),
            record_fps: subset
                .iter()
                .map(|&r| self.b.record_fps[r as usize])
                .collect(),
            record_source: Vec::new(),
            starts,
            links,
            row_record: Vec::new(),
            rows: 0,
            row_links: 0,
            unusable: 0,
        };
        let mut sub = Resolver::new(sub);
        sub.join_in_order();
        let s_count = subset.len() as u32;
        let global = |x: u32| {
            if x < s_count {
                subset[x as usize]
            } else {
                r_count + values[(x - s_count) as usize]
            }
        };
        // Each component's root becomes its first record (the subset is in order).
        let mut first = vec![u32::MAX; s_count as usize + values.len()];
        for x in 0..s_count {
            let root = sub.uf.find(x) as usize;
            if first[root] == u32::MAX {
                first[root] = subset[x as usize];
            }
        }
        for x in 0..s_count + values.len() as u32 {
            let root = sub.uf.find(x);
            uf_parent[global(x) as usize] = match first[root as usize] {
                u32::MAX => global(root),
                record => record,
            };
        }
        for c in sub.conflicts {
            self.conflicts.push(Conflict {
                identifier: c.identifier,
                value: values[c.value as usize],
                record: subset[c.record as usize],
            });
        }
    }

    /// Every strong join, one by one: identifiers with a capacity first (in
    /// declaration order), then the others; records in order; the first join wins.
    pub(crate) fn join_in_order(&mut self) {
        let r_count = self.b.record_fps.len();
        let n = r_count + self.b.values.len();
        self.uf = Uf::new(n);
        for (i, rule) in self.b.rules.identifiers.iter().enumerate() {
            if !rule.weak && rule.capacity == Some(1) {
                let mut slot = vec![u32::MAX; n];
                for (v, value) in self.b.values.iter().enumerate() {
                    if value.identifier as usize == i {
                        slot[r_count + v] = v as u32;
                    }
                }
                self.slots.push((i, slot));
            }
        }
        let rules = self.b.rules.identifiers.clone();
        let mut order: Vec<usize> = (0..rules.len()).filter(|&i| !rules[i].weak).collect();
        order.sort_by_key(|&i| (rules[i].capacity.is_none(), i));
        for &k in &order {
            for r in 0..r_count as u32 {
                let (s, e) = (
                    self.b.starts[r as usize] as usize,
                    self.b.starts[r as usize + 1] as usize,
                );
                for j in s..e {
                    let v = self.b.links[j];
                    let value = &self.b.values[v as usize];
                    if value.identifier as usize == k && value.state == ValueState::Usable {
                        self.join_checked(r, r_count as u32 + v, k, v);
                    }
                }
            }
        }
    }

    /// Joins record `r` with value node `node` unless a capacity forbids it.
    pub(crate) fn join_checked(&mut self, r: u32, node: u32, k: usize, v: u32) {
        let a = self.uf.find(r);
        let b = self.uf.find(node);
        if a == b {
            return;
        }
        // `unique` identifiers: at most one value per person.
        for (i, slot) in &self.slots {
            let (x, y) = (slot[a as usize], slot[b as usize]);
            if x != u32::MAX && y != u32::MAX && x != y {
                self.conflicts.push(Conflict {
                    identifier: *i as u16,
                    value: v,
                    record: r,
                });
                return;
            }
        }
        let rules = &self.b.rules.identifiers;
        let many = |k: usize| !rules[k].weak && rules[k].capacity.is_some_and(|c| c > 1);
        if !rules.iter().enumerate().any(|(i, _)| many(i)) {
            let root = self.uf.link(a, b);
            for (_, slot) in &mut self.slots {
                let keep = slot[a as usize].min(slot[b as usize]);
                slot[root as usize] = keep;
            }
            return;
        }
        let mut merged = self.held.remove(&a).unwrap_or_default();
        let held_b = self.held.remove(&b).unwrap_or_default();
        let before = merged.len();
        for &x in held_b.iter().chain(std::iter::once(&v).filter(|_| many(k))) {
            if !merged.contains(&x) {
                merged.push(x);
            }
        }
        // Only identifiers that gained a value can exceed their capacity.
        let over = merged[before..].iter().find_map(|&x| {
            let i = self.b.values[x as usize].identifier as usize;
            let cap = rules[i].capacity?;
            let n = merged
                .iter()
                .filter(|&&y| self.b.values[y as usize].identifier as usize == i)
                .count();
            (n > cap as usize).then_some(i)
        });
        if let Some(i) = over {
            merged.truncate(before);
            if !merged.is_empty() {
                self.held.insert(a, merged);
            }
            if !held_b.is_empty() {
                self.held.insert(b, held_b);
            }
            self.conflicts.push(Conflict {
                identifier: i as u16,
                value: v,
                record: r,
            });
            return;
        }
        let root = self.uf.link(a, b);
        for (_, slot) in &mut self.slots {
            let keep = slot[a as usize].min(slot[b as usize]);
            slot[root as usize] = keep;
        }
        if !merged.is_empty() {
            self.held.insert(root, merged);
        }
    }

    /// Joins people through their weak values (the crate docs' rule 3). Each weak value
    /// is taken in turn — those reaching the fewest people first (a person's own device
    /// before a family tablet), then in order of fingerprint — and joins every person
    /// and anonymous record carrying it, unless two of them hold different values of
    /// one strong identifier (in one scope, for a scoped one), or together more values
    /// of a capped weak identifier than its `max_per_person`: then it joins none of
    /// them and is listed in `refused`. A weak value that joins links its own node to
    /// its carriers, so evidence and components see it as any other value.
    pub(crate) fn weak(&mut self, r_count: u32) {
        let rules = &self.b.rules.identifiers;
        let (links, kinds, starts) = (&self.b.links, &self.kinds, &self.b.starts);
        let values = &self.b.values;
        let value_records = &self.b.value_records;
        let is_weak = |v: u32| {
            let value = &values[v as usize];
            value.state == ValueState::Usable && rules[value.identifier as usize].weak
        };
        // Where each value's records begin in `value_records`.
        let mut value_start = Vec::with_capacity(values.len() + 1);
        let mut at = 0u32;
        for value in values {
            value_start.push(at);
            at += value.records;
        }
        value_start.push(at);
        let records_of = |v: u32| {
            &value_records[value_start[v as usize] as usize..value_start[v as usize + 1] as usize]
        };
        // The strong step leaves every record pointing at its root: the people each weak
        // value reaches, counted before any weak join.
        let parent = &self.uf.parent;
        let mut order: Vec<(u32, u32)> = Vec::new();
        let mut single: Vec<(u32, u32)> = Vec::new();
        let mut involved = vec![false; r_count as usize];
        let mut roots: Vec<u32> = Vec::new();
        for v in 0..values.len() as u32 {
            if !is_weak(v) {
                continue;
            }
            roots.clear();
            roots.extend(records_of(v).iter().map(|&r| parent[r as usize]));
            roots.sort_unstable();
            roots.dedup();
            match roots.len() {
                0 => {}
                1 => single.push((roots[0], v)),
                n => {
                    order.push((n as u32, v));
                    for &root in &roots {
                        involved[root as usize] = true;
                    }
                }
            }
        }
        order.sort_unstable();
        // What each person reaching a shared weak value holds: its strong slots
        // (identifier in the high bits, scope tag in the low byte) and its values of
        // capped weak identifiers, each sorted, as ranges of two arenas (no allocation
        // per person). A join writes the joined person's sets at the arenas' ends: no
        // slot repeats in a person (a repeat is a clash), so each write is short.
        const STRONG: u8 = 0;
        const CAPPED: u8 = 1;
        const OTHER: u8 = 2;
        let class: Vec<u8> = rules
            .iter()
            .map(|rule| match (rule.weak, rule.capacity) {
                (false, _) => STRONG,
                (true, Some(_)) => CAPPED,
                (true, None) => OTHER,
            })
            .collect();
        // Involved roots numbered densely; NONE for the others.
        let mut index = vec![NONE; r_count as usize];
        let mut n = 0u32;
        for (i, &yes) in index.iter_mut().zip(&involved) {
            if yes {
                *i = n;
                n += 1;
            }
        }
        drop(involved);
        let links_of = |r: u32| {
            let range = starts[r as usize] as usize..starts[r as usize + 1] as usize;
            kinds[range.clone()].iter().zip(&links[range])
        };
        // Counted, then placed: each person's entries in one stretch of each arena.
        let mut slot_at = vec![0u32; n as usize + 1];
        let mut weak_at = vec![0u32; n as usize + 1];
        for r in 0..r_count {
            let i = index[parent[r as usize] as usize];
            if i == NONE {
                continue;
            }
            for (&k, _) in links_of(r) {
                if k == JUNK {
                    continue;
                }
                match class[k as usize] {
                    STRONG => slot_at[i as usize + 1] += 1,
                    CAPPED => weak_at[i as usize + 1] += 1,
                    _ => {}
                }
            }
        }
        for i in 0..n as usize {
            slot_at[i + 1] += slot_at[i];
            weak_at[i + 1] += weak_at[i];
        }
        let mut slot_arena = vec![0u32; slot_at[n as usize] as usize];
        let mut weak_arena = vec![0u32; weak_at[n as usize] as usize];
        {
            let (mut slot_next, mut weak_next) = (slot_at.clone(), weak_at.clone());
            for r in 0..r_count {
                let i = index[parent[r as usize] as usize];
                if i == NONE {
                    continue;
                }
                for (&k, &v) in links_of(r) {
                    if k == JUNK {
                        continue;
                    }
                    match class[k as usize] {
                        STRONG => {
                            let slot = u32::from(k) << 8 | u32::from(values[v as usize].scope);
                            slot_arena[slot_next[i as usize] as usize] = slot;
                            slot_next[i as usize] += 1;
                        }
                        CAPPED => {
                            weak_arena[weak_next[i as usize] as usize] = v;
                            weak_next[i as usize] += 1;
                        }
                        _ => {}
                    }
                }
            }
        }
        // Each person's (start, length) in the arenas, sorted and deduplicated.
        let settle = |arena: &mut [u32], at: &[u32]| -> Vec<(u32, u32)> {
            at.windows(2)
                .map(|w| {
                    let part = &mut arena[w[0] as usize..w[1] as usize];
                    part.sort_unstable();
                    let mut len = 0;
                    for j in 0..part.len() {
                        if j == 0 || part[j] != part[len - 1] {
                            part[len] = part[j];
                            len += 1;
                        }
                    }
                    (w[0], len as u32)
                })
                .collect()
        };
        let mut slot_range = settle(&mut slot_arena, &slot_at);
        let mut weak_range = settle(&mut weak_arena, &weak_at);
        drop((slot_at, weak_at));
        for (root, v) in single {
            self.uf.link_min(root, r_count + v);
        }
        let mut slots: Vec<u32> = Vec::new();
        let mut weak: Vec<u32> = Vec::new();
        for (_, v) in order {
            roots.clear();
            for &r in records_of(v) {
                roots.push(self.uf.find(r));
            }
            roots.sort_unstable();
            roots.dedup();
            if roots.len() < 2 {
                let root = roots[0];
                self.uf.link_min(root, r_count + v);
                continue;
            }
            // Two people holding one strong slot hold different values in it: were the
            // values the same, the strong step would have joined them.
            slots.clear();
            weak.clear();
            for &root in &roots {
                let i = index[root as usize] as usize;
                let (start, len) = slot_range[i];
                slots.extend_from_slice(&slot_arena[start as usize..(start + len) as usize]);
                let (start, len) = weak_range[i];
                weak.extend_from_slice(&weak_arena[start as usize..(start + len) as usize]);
            }
            slots.sort_unstable();
            let clash = slots
                .windows(2)
                .find(|w| w[0] == w[1])
                .map(|w| (w[0] >> 8) as u16);
            if let Some(identifier) = clash {
                self.refused.push((v, Refusal::Conflict { identifier }));
                continue;
            }
            weak.sort_unstable();
            weak.dedup();
            let mut over = None;
            let mut counts: Vec<(u16, u32)> = Vec::new();
            for &w in &weak {
                let identifier = values[w as usize].identifier;
                let n = match counts.iter_mut().find(|(i, _)| *i == identifier) {
                    Some((_, n)) => n,
                    None => {
                        counts.push((identifier, 0));
                        &mut counts.last_mut().expect("just pushed").1
                    }
                };
                *n += 1;
                if *n > rules[identifier as usize].capacity.unwrap_or(u32::MAX) {
                    over = Some(identifier);
                    break;
                }
            }
            if let Some(identifier) = over {
                self.refused.push((v, Refusal::OverCapacity { identifier }));
                continue;
            }
            // Roots are records, and the smallest becomes the root of all: it is `roots[0]`.
            let root = roots[0];
            for &other in &roots[1..] {
                self.uf.link_min(root, other);
            }
            self.uf.link_min(root, r_count + v);
            let i = index[root as usize] as usize;
            slot_range[i] = (slot_arena.len() as u32, slots.len() as u32);
            slot_arena.extend_from_slice(&slots);
            weak_range[i] = (weak_arena.len() as u32, weak.len() as u32);
            weak_arena.extend_from_slice(&weak);
        }
    }

    /// Splits components larger than `max` by dropping their most shared values.
    pub(crate) fn cut(&mut self, comp: &mut [u32], max: u64, r_count: u32) {
        // Sizes first: only oversized people collect their members.
        let mut size = vec![0u32; r_count as usize];
        for &c in comp.iter() {
            size[c as usize] += 1;
        }
        let mut members: FxHashMap<u32, Vec<u32>> = FxHashMap::default();
        for (r, &c) in comp.iter().enumerate() {
            if u64::from(size[c as usize]) > max {
                members.entry(c).or_default().push(r as u32);
            }
        }
        let mut big: Vec<(u32, Vec<u32>)> = members.into_iter().collect();
        big.sort_by_key(|(_, m)| m[0]);
        for (_, records) in big {
            // The values that joined these records, and which records carry each.
            let mut carriers: FxHashMap<u32, Vec<u32>> = FxHashMap::default();
            let root = comp[records[0] as usize];
            for &r in &records {
                let n = self.record_values(r).len();
                for j in 0..n {
                    let v = self.record_values(r)[j];
                    if self.b.values[v as usize].state == ValueState::Usable
                        && self.uf.find(r_count + v) == root
                    {
                        carriers.entry(v).or_default().push(r);
                    }
                }
            }
            loop {
                let parts = split(&records, &carriers);
                let Some(too_big) = parts.iter().find(|p| p.len() as u64 > max) else {
                    for part in parts {
                        let label = part[0];
                        for r in part {
                            comp[r as usize] = label;
                        }
                    }
                    break;
                };
                // Drop the value with the most carriers inside the oversized part.
                let drop = carriers
                    .iter()
                    .filter(|(_, rs)| rs.iter().any(|r| too_big.binary_search(r).is_ok()))
                    .max_by_key(|(v, rs)| {
                        (
                            rs.len(),
                            std::cmp::Reverse(self.b.values[**v as usize].fingerprint),
                        )
                    })
                    .map(|(v, _)| *v);
                let Some(v) = drop else { break };
                carriers.remove(&v);
                self.b.values[v as usize].state = ValueState::Cut;
            }
        }
    }
}

/// Connected parts of `records` (sorted) joined by the carriers of each value.
pub(crate) fn split(records: &[u32], carriers: &FxHashMap<u32, Vec<u32>>) -> Vec<Vec<u32>> {
    let pos = |r: u32| records.binary_search(&r).ok();
    let mut uf = Uf::new(records.len());
    let mut keys: Vec<&u32> = carriers.keys().collect();
    keys.sort_unstable();
    for v in keys {
        let rs = &carriers[v];
        let Some(first) = rs.iter().find_map(|&r| pos(r)) else {
            continue;
        };
        for &r in rs {
            if let Some(p) = pos(r) {
                let a = uf.find(first as u32);
                let b = uf.find(p as u32);
                if a != b {
                    uf.link(a, b);
                }
            }
        }
    }
    let mut parts: FxHashMap<u32, Vec<u32>> = FxHashMap::default();
    for (i, &r) in records.iter().enumerate() {
        parts.entry(uf.find(i as u32)).or_default().push(r);
    }
    let mut out: Vec<Vec<u32>> = parts.into_values().collect();
    out.sort_by_key(|p| p[0]);
    out
}

/// Phase timings.
pub(crate) struct Phases(
    pub(crate) Vec<(&'static str, std::time::Duration)>,
    std::time::Instant,
);

impl Default for Phases {
    fn default() -> Phases {
        Phases(Vec::new(), std::time::Instant::now())
    }
}

impl Phases {
    pub(crate) fn lap(&mut self, name: &'static str) {
        let now = std::time::Instant::now();
        self.0.push((name, now - self.1));
        self.1 = now;
    }
}
