//! The builder: rows in, normalized and fingerprinted; records and values numbered densely.

use crate::*;

/// Collects rows: normalizes and fingerprints their values as they come, and keeps
/// each distinct record once (a row repeating a record keeps only its record's
/// number). Mapping fingerprints to dense ids happens once, in [`Builder::resolve`],
/// by sorting.
pub struct Builder {
    pub(crate) rules: Rules,
    pub(crate) reject_fps: Vec<u64>,
    /// The rows given: parts appended from forks, and the part `add` fills (always
    /// the last). Appending moves a fork's part, never its rows.
    pub(crate) parts: Vec<Part>,
    /// Rows given, including duplicates of an existing record.
    pub rows: u64,
    /// The number of the next row [`Builder::add`] is given.
    pub(crate) next_row: u64,
    /// One more than the largest row number given.
    pub(crate) end_row: u64,
    /// Usable values given, over all rows.
    pub(crate) row_links: u64,
    /// Values given that link nothing: normalized to nothing (a malformed phone),
    /// scoped without a scope, or longer than [`MAX_VALUE_LEN`] ([`IdentifierRule::linked`]).
    pub unusable: u64,
    /// Where [`IdentifierRule::linked`] writes a normalized value, and a scoped one.
    pub(crate) norm_buf: String,
    pub(crate) scoped_buf: String,
    pub(crate) key_buf: Vec<u8>,
    pub(crate) words_buf: Vec<u64>,
    pub(crate) links_buf: Vec<Link>,
}

/// Rows as one builder added them.
pub(crate) struct Part {
    /// Per link (one usable value of one record): the value's fingerprint.
    pub(crate) links: Vec<u64>,
    /// Each link's identifier: apart from the fingerprints, so that a link takes 10
    /// bytes, not 16.
    pub(crate) link_idents: Vec<u16>,
    /// Per record (a row unlike every earlier row of the part): source, fingerprint
    /// (the record's identity), first link; `rec_start` ends with the end of the last
    /// record's links. Two parts may hold the same record.
    pub(crate) rec_source: Vec<u32>,
    pub(crate) rec_fp: Vec<u64>,
    pub(crate) rec_start: Vec<u32>,
    /// The part's record of each row, in the order the part was given them.
    pub(crate) row_rec: Vec<u32>,
    /// Runs of rows with consecutive numbers: (the run's first row in `row_rec`, its
    /// row number). A part given rows in order has one.
    pub(crate) runs: Vec<(u32, u64)>,
    /// The row number that continues the last run.
    pub(crate) run_next: u64,
    /// The part's records by fingerprint: a table of record numbers, four bytes a slot
    /// (a fingerprint is its own hash; the table reads it from `rec_fp`). The table
    /// holds millions of records and grows by doubling, so its fresh memory is a large
    /// part of what adding rows costs: slots of record numbers alone take a quarter of
    /// the memory of (fingerprint, record) slots.
    pub(crate) seen: hashbrown::HashTable<u32>,
    /// The last rows added, not yet looked up in `seen`: their links are at the end
    /// of `links`.
    pub(crate) pending: Vec<Pending>,
    /// What looking the pending rows up found.
    pub(crate) found: Vec<Option<u32>>,
}

/// A row added but not yet known to be a new record.
pub(crate) struct Pending {
    pub(crate) fp: u64,
    pub(crate) source: u32,
    /// Where its links begin.
    pub(crate) links: u32,
}

/// Rows looked up in a part's records at once. Each lookup is a cache miss in a table
/// of millions of records; made one after another, with nothing between them, the
/// misses overlap. The rows' links stay in the cache until they are kept or
/// dropped (measured on the example's data: 1,024 rows map about 10 % faster than 64).
pub(crate) const PENDING: usize = 1024;

impl Part {
    pub(crate) fn new() -> Part {
        Part {
            links: Vec::new(),
            link_idents: Vec::new(),
            rec_source: Vec::new(),
            rec_fp: Vec::new(),
            rec_start: vec![0],
            row_rec: Vec::new(),
            runs: Vec::new(),
            run_next: u64::MAX,
            seen: hashbrown::HashTable::new(),
            pending: Vec::with_capacity(PENDING),
            found: Vec::with_capacity(PENDING),
        }
    }

    /// Looks the pending rows up: a row repeating a record takes its number and its
    /// links are dropped; a new record keeps them (moved down over the dropped ones).
    pub(crate) fn settle(&mut self) {
        let Some(first) = self.pending.first() else {
            return;
        };
        let mut links_to = first.links as usize;
        let mut found = std::mem::take(&mut self.found);
        found.clear();
        let rec_fp = &self.rec_fp;
        found.extend(self.pending.iter().map(|p| {
            self.seen
                .find(p.fp, |&r| rec_fp[r as usize] == p.fp)
                .copied()
        }));
        for (k, p) in self.pending.iter().enumerate() {
            let links_end = self
                .pending
                .get(k + 1)
                .map_or(self.links.len(), |q| q.links as usize);
            let next = self.rec_fp.len() as u32;
            // A record new to the table may repeat one of the earlier pending rows.
            let rec = found[k].unwrap_or_else(|| {
                let rec_fp = &self.rec_fp;
                *self
                    .seen
                    .entry(
                        p.fp,
                        |&r| rec_fp[r as usize] == p.fp,
                        |&r| rec_fp[r as usize],
                    )
                    .or_insert(next)
                    .get()
            });
            self.row_rec.push(rec);
            if rec != next {
                continue;
            }
            let from = p.links as usize..links_end;
            self.links.copy_within(from.clone(), links_to);
            self.link_idents.copy_within(from, links_to);
            links_to += links_end - p.links as usize;
            self.rec_fp.push(p.fp);
            self.rec_source.push(p.source);
            self.rec_start.push(links_to as u32);
        }
        self.links.truncate(links_to);
        self.link_idents.truncate(links_to);
        self.pending.clear();
        self.found = found;
    }

    /// The part's runs of rows once settled: where each lies in `row_rec`, and the
    /// number of its first row.
    pub(crate) fn row_runs(&self) -> impl Iterator<Item = (std::ops::Range<usize>, u64)> + '_ {
        let ends = self.runs.iter().skip(1).map(|r| r.0 as usize);
        let ends = ends.chain([self.row_rec.len()]);
        self.runs
            .iter()
            .zip(ends)
            .map(|(&(at, row), end)| (at as usize..end, row))
    }

    /// A record's links: their fingerprints and identifiers.
    pub(crate) fn rec_links(&self, rec: usize) -> (&[u64], &[u16]) {
        let links = self.rec_start[rec] as usize..self.rec_start[rec + 1] as usize;
        (&self.links[links.clone()], &self.link_idents[links])
    }
}

/// The deduplicated records and distinct values the resolver works on.
pub(crate) struct Records {
    pub(crate) rules: Rules,
    pub(crate) reject_fps: Vec<u64>,
    pub(crate) values: Vec<Value>,
    /// The records of each value, value after value (each value's `records` long).
    pub(crate) value_records: Vec<u32>,
    pub(crate) record_fps: Vec<u64>,
    pub(crate) record_source: Vec<u32>,
    pub(crate) starts: Vec<u32>,
    pub(crate) links: Vec<u32>,
    pub(crate) row_record: Vec<u32>,
    pub(crate) rows: u64,
    pub(crate) row_links: u64,
    pub(crate) unusable: u64,
}

impl Builder {
    pub fn new(rules: Rules) -> Builder {
        let reject_fps = rules
            .rejects
            .iter()
            .filter_map(|(ident, raw)| {
                let v = rules.identifiers[*ident].normalizer.apply(raw)?;
                Some(fingerprint(*ident as u64, v.as_bytes()))
            })
            .collect();
        Builder::empty(rules, reject_fps)
    }

    pub(crate) fn empty(rules: Rules, reject_fps: Vec<u64>) -> Builder {
        Builder {
            rules,
            reject_fps,
            parts: vec![Part::new()],
            rows: 0,
            next_row: 0,
            end_row: 0,
            row_links: 0,
            unusable: 0,
            norm_buf: String::new(),
            scoped_buf: String::new(),
            key_buf: Vec::new(),
            words_buf: Vec::new(),
            links_buf: Vec::new(),
        }
    }

    /// Room for about `rows` more rows of `links` values each.
    pub fn reserve(&mut self, rows: usize, links: usize) {
        let part = self.part();
        part.row_rec.reserve(rows);
        part.rec_source.reserve(rows / 2);
        part.rec_fp.reserve(rows / 2);
        part.rec_start.reserve(rows / 2);
        part.links.reserve(rows * links / 2);
        part.link_idents.reserve(rows * links / 2);
        // The table grows by doubling if it must; a smaller one misses the cache less
        // (on the example's data a link half holds a quarter to a half as many
        // records as rows).
        let rec_fp = &part.rec_fp;
        part.seen.reserve(rows / 4, |&r| rec_fp[r as usize]);
    }

    /// The part [`Builder::add`] fills.
    pub(crate) fn part(&mut self) -> &mut Part {
        self.parts
            .last_mut()
            .expect("a builder always has a part to fill")
    }

    /// An empty builder with the same rules, to fill on another thread and
    /// [`Builder::append`] afterwards. Its rows are numbered on from this builder's
    /// (as if it went on adding), unless [`Builder::seek`] says otherwise.
    pub fn fork(&self) -> Builder {
        let mut fork = Builder::empty(self.rules.clone(), self.reject_fps.clone());
        fork.next_row = self.next_row;
        fork
    }

    /// Numbers the rows added next from `row` on. Builders and their forks may take
    /// the rows of a source in any order, run by run: every number below the largest
    /// must be given exactly once when the rows are resolved.
    pub fn seek(&mut self, row: u64) {
        self.next_row = row;
    }

    /// Takes the rows of a [`Builder::fork`], numbered as they were given; rows added
    /// afterwards are numbered after every row given to either.
    pub fn append(&mut self, mut other: Builder) {
        self.parts
            .iter_mut()
            .chain(&mut other.parts)
            .for_each(Part::settle);
        let filled = |p: &Part| !p.row_rec.is_empty();
        self.parts.retain(filled);
        self.parts.extend(other.parts.into_iter().filter(filled));
        self.parts.push(Part::new());
        self.rows += other.rows;
        self.end_row = self.end_row.max(other.end_row);
        self.next_row = self.end_row;
        self.row_links += other.row_links;
        self.unusable += other.unusable;
    }

    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// Adds one row of `source`: (identifier index, raw value, scope value) triples,
    /// and the row's key (used only when the row has no usable value: such a row
    /// links nothing and is a person of its own). Returns the row's number; after
    /// [`Builder::resolve`], [`Resolution::record_of`] gives its record (rows with the
    /// same source and values are one record).
    pub fn add(
        &mut self,
        source: u32,
        row_key: &str,
        fields: &[(usize, &str, Option<&str>)],
    ) -> u32 {
        let row = self.next_row;
        self.next_row += 1;
        self.end_row = self.end_row.max(self.next_row);
        self.rows += 1;
        // The row's links, as the part keeps them.
        let mut fps = std::mem::take(&mut self.links_buf);
        fps.clear();
        let mut norm = std::mem::take(&mut self.norm_buf);
        let mut scoped = std::mem::take(&mut self.scoped_buf);
        for &(ident, raw, scope) in fields {
            let rule = &self.rules.identifiers[ident];
            match rule.linked(raw, scope, &mut norm, &mut scoped) {
                Some(value) => fps.push(Link {
                    fp: fingerprint(ident as u64, value.as_bytes()),
                    ident: ident as u16 | u16::from(scope_tag(rule, scope)) << 8,
                }),
                None if raw.trim().is_empty() => {}
                None => self.unusable += 1,
            }
        }
        (self.norm_buf, self.scoped_buf) = (norm, scoped);
        // A value given twice is linked once.
        fps.sort_unstable_by_key(|l| l.fp);
        fps.dedup_by_key(|l| l.fp);
        // The record's identity: its source and the fingerprints of its values.
        const RECORD: u64 = 0x7265_636f_7264;
        // A row whose only values are in a `reject` list links nothing either: were it
        // named by those values, every such row would be one record, one person.
        let linkable = fps.iter().any(|l| !self.reject_fps.contains(&l.fp));
        let record_fp = if !linkable {
            // Nothing to link by: the row stands alone, named by its key.
            let mut key = std::mem::take(&mut self.key_buf);
            key.clear();
            key.extend_from_slice(&u64::from(source).to_le_bytes());
            key.push(0xff);
            key.extend_from_slice(row_key.as_bytes());
            let fp = fingerprint(RECORD, &key);
            self.key_buf = key;
            fp
        } else {
            let mut words = std::mem::take(&mut self.words_buf);
            words.clear();
            words.push(u64::from(source));
            words.extend(fps.iter().map(|l| l.fp));
            let fp = fingerprint_words(RECORD, &words);
            self.words_buf = words;
            fp
        };
        self.row_links += fps.len() as u64;
        let part = self.parts.last_mut().expect("a part to fill");
        if part.run_next != row {
            let at = part.row_rec.len() + part.pending.len();
            part.runs.push((at as u32, row));
        }
        part.run_next = row + 1;
        part.pending.push(Pending {
            fp: record_fp,
            source,
            links: part.links.len() as u32,
        });
        part.links.extend(fps.iter().map(|l| l.fp));
        part.link_idents.extend(fps.iter().map(|l| l.ident));
        if part.pending.len() == PENDING {
            part.settle();
        }
        self.links_buf = fps;
        row as u32
    }

    /// Joins the records into people.
    pub fn resolve(self) -> Resolution {
        let started = std::time::Instant::now();
        let records = self.index();
        let indexed = started.elapsed();
        let mut res = Resolver::new(records).run();
        res.phases.insert(0, ("index", indexed));
        res
    }

    /// [`Builder::resolve`] making every strong join one by one with the capacity
    /// checks, as the crate docs state the rules: the reference the fast path must
    /// agree with.
    #[cfg(test)]
    pub(crate) fn resolve_one_by_one(self) -> Resolution {
        let mut resolver = Resolver::new(self.index());
        resolver.one_by_one = true;
        resolver.run()
    }

    /// Dense ids by sorting: the parts' records in order of fingerprint (parts may
    /// share a record), then values in order of fingerprint. Scattered reads and writes
    /// over big arrays cost a cache and TLB miss each, and fresh memory a page fault
    /// per 4 KiB, so the passes read in order, sorted items carry what the next pass
    /// needs, writes that land out of order are grouped by block first, and no pass
    /// needs a copy of its input.
    pub(crate) fn index(mut self) -> Records {
        self.parts.iter_mut().for_each(Part::settle);
        let parts = &self.parts;
        // Where each part's records begin, counted over all parts.
        let mut rec_base = Vec::with_capacity(parts.len());
        let (mut recs, mut rows, mut part_links) = (0usize, 0usize, 0usize);
        for p in parts {
            rec_base.push(recs as u32);
            recs += p.rec_fp.len();
            rows += p.row_rec.len();
            part_links += p.links.len();
        }
        assert!(
            rows < NONE as usize && part_links < NONE as usize,
            "at most 4 billion rows and 4 billion identifier values at once"
        );
        // Every row number below the largest was given exactly once: the parts' runs,
        // in order of row number, follow one another from 0.
        let mut runs: Vec<(u64, u64)> = parts
            .iter()
            .flat_map(Part::row_runs)
            .map(|(at, row)| (row, at.len() as u64))
            .collect();
        runs.sort_unstable();
        let mut expected = 0;
        for (row, len) in runs {
            assert_eq!(row, expected, "rows {expected}.. were given twice or never");
            expected += len;
        }
        assert_eq!(expected as usize, rows, "every row is numbered once");
        // 1. The parts' records by fingerprint: each group of equal fingerprints is
        //    one record, named by its first part's. The buffer has room for the links
        //    sorted next.
        // Zeroed memory is mapped as it is first written, by the sorts' two cores.
        let mut by_fp: Vec<Item> = bytemuck::zeroed_vec(recs.max(part_links));
        let n = sort_by_fp_into(
            &mut by_fp,
            |shard, put| {
                for (p, part) in parts.iter().enumerate() {
                    for i in shard_of(part.rec_fp.len(), shard) {
                        put(Item::new(
                            part.rec_fp[i],
                            rec_base[p] + i as u32,
                            part.rec_start[i + 1] - part.rec_start[i],
                            part.rec_source[i],
                        ));
                    }
                }
            },
            |x| x.fp(),
        );
        let sorted = &by_fp[..n];
        // Per part record: its record, and the record's first place in the links if
        // the part record names it (NONE otherwise); written on another core, which
        // numbers the records on its own. Its memory is used again for the links'
        // places, as many as the part links at most.
        let name_records = |by_fp: &[Item]| {
            let mut global = Vec::with_capacity(recs.max(part_links));
            global.resize(recs, (0u32, NONE));
            let (mut last, mut record, mut next_place) = (None, u32::MAX, 0u32);
            for it in by_fp {
                let mut place = NONE;
                if last != Some(it.fp()) {
                    last = Some(it.fp());
                    record = record.wrapping_add(1);
                    place = next_place;
                    next_place += it.at;
                }
                global[it.rec as usize] = (record, place);
            }
            global
        };
        let mut record_fps = Vec::with_capacity(recs);
        let mut record_source = Vec::with_capacity(recs);
        let mut starts = Vec::with_capacity(recs + 1);
        starts.push(0u32);
        let global = std::thread::scope(|scope| {
            let global = scope.spawn(|| name_records(sorted));
            for it in sorted {
                if record_fps.last() != Some(&it.fp()) {
                    record_fps.push(it.fp());
                    record_source.push(it.data);
                    starts.push(starts[starts.len() - 1] + it.at);
                }
            }
            global.join().expect("numbering records does not panic")
        });
        // Each row's record, listed on another core while the links are sorted: run
        // by run (every row is written once).
        let list_rows = || {
            let mut row_record: Vec<u32> = bytemuck::zeroed_vec(rows);
            for (p, part) in parts.iter().enumerate() {
                let global = &global[rec_base[p] as usize..];
                for (at, row) in part.row_runs() {
                    let out = &mut row_record[row as usize..row as usize + at.len()];
                    for (o, &r) in out.iter_mut().zip(&part.row_rec[at]) {
                        *o = global[r as usize].0;
                    }
                }
            }
            row_record
        };
        // 2. The links of each record's naming part record, read in order.
        let mut items = by_fp;
        let sort_links = |items: &mut Vec<Item>| {
            let n = sort_by_fp_into(
                items,
                |shard, put| {
                    for (p, part) in parts.iter().enumerate() {
                        let global = &global[rec_base[p] as usize..];
                        for i in shard_of(part.rec_fp.len(), shard) {
                            let (record, place) = global[i];
                            if place == NONE {
                                continue;
                            }
                            let (fps, idents) = part.rec_links(i);
                            for (j, (&fp, &ident)) in fps.iter().zip(idents).enumerate() {
                                put(Item::new(fp, record, place + j as u32, u32::from(ident)));
                            }
                        }
                    }
                },
                |x| x.fp(),
            );
            items.truncate(n);
        };
        let row_record = std::thread::scope(|scope| {
            let rows = scope.spawn(list_rows);
            sort_links(&mut items);
            rows.join().expect("listing rows does not panic")
        });
        // 3. Values by fingerprint. A record's fingerprints are distinct, so a value's
        //    group holds each of its records once, in record order; a record's links
        //    are its values in fingerprint order, as its row listed them.
        //    Each link's value is written on another core, which numbers the values
        //    on its own.
        let place_links = |items: &[Item], mut placed: Vec<(u32, u32)>| {
            // (place in the links, value), grouped by block of places. Every entry is
            // written below: what the memory held is not cleared first.
            placed.resize(items.len(), (0, 0));
            placed.truncate(items.len());
            let mut next = block_starts(items.len());
            let (mut last, mut value) = (None, u32::MAX);
            for it in items {
                if last != Some(it.fp()) {
                    last = Some(it.fp());
                    value = value.wrapping_add(1);
                }
                let b = (it.at >> BLOCK) as usize;
                placed[next[b]] = (it.at, value);
                next[b] += 1;
            }
            let mut links = vec![0u32; placed.len()];
            for &(pos, v) in &placed {
                links[pos as usize] = v;
            }
            links
        };
        let mut values: Vec<Value> = Vec::with_capacity(items.len());
        let mut value_records = Vec::with_capacity(items.len());
        let links = std::thread::scope(|scope| {
            let links = scope.spawn(|| place_links(&items, global));
            for it in &items {
                match values.last_mut() {
                    Some(v) if v.fingerprint == it.fp() => v.records += 1,
                    _ => values.push(Value {
                        identifier: (it.data & 0xff) as u16,
                        scope: (it.data >> 8) as u8,
                        fingerprint: it.fp(),
                        records: 1,
                        state: ValueState::Usable,
                    }),
                }
                value_records.push(it.rec);
            }
            links.join().expect("placing links does not panic")
        });
        drop(items);
        Records {
            rules: self.rules,
            reject_fps: self.reject_fps,
            values,
            value_records,
            record_fps,
            record_source,
            starts,
            links,
            row_record,
            rows: self.rows,
            row_links: self.row_links,
            unusable: self.unusable,
        }
    }
}
