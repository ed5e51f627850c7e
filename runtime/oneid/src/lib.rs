//! Identity resolution: which records are the same person.
//!
//! Records come from the sources a `oneid` item links; each carries values of the
//! declared identifiers. The engine normalizes the values, maps them to dense integer
//! ids through 64-bit fingerprints (no string is hashed twice or kept in a map), and
//! joins records into people with a union-find over records and values. The rules,
//! in the order they apply:
//!
//! 1. **Junk.** A value in a `reject` list, or shared by more distinct records than
//!    `reject frequent above N`, links nothing and is reported.
//! 2. **Strong identifiers** (the default) join every record carrying the same value.
//!    Identifiers with a capacity — `unique` (one value per person) or
//!    `max_per_person N` — are cannot-link constraints: a join that would give one
//!    person more values than that is refused and reported as a conflict. Identifiers
//!    are applied capacity-constrained first (in declaration order), then the others
//!    in declaration order, each over records in order of their fingerprints (so the
//!    result does not depend on the order rows arrive in); the first join wins.
//! 3. **Weak identifiers** (`weak`, a device) join what no strong identifier keeps
//!    apart: a weak value joins every person and anonymous record carrying it, unless
//!    two of them hold different values of one strong identifier (within one scope,
//!    for a scoped identifier: two openids of one mini-program) or together more
//!    values of a weak identifier than its `max_per_person`; then it joins none of
//!    them ([`Refusal`]). Weak values are taken fewest people reached first (then by
//!    fingerprint), so a person's own devices gather the person before a shared one
//!    (a family iPad) is looked at.
//! 4. **`max_component N`.** A person gathering more than `N` records is cut: the
//!    value joining the most of its records is dropped (ties: the smallest
//!    fingerprint) until every part is within `N`; each dropped value is reported.
//!
//! Records are deduplicated: two rows of one source with the same normalized
//! identifier values are one record. A value longer than [`MAX_VALUE_LEN`] bytes
//! after normalizing is unusable, like one that normalizes to nothing. Fingerprints are 64-bit ([`fingerprint`]);
//! with 20 million distinct values the chance of any collision is about 1 in 100,000.

pub mod normalize;

pub mod stable;

use rustc_hash::FxHashMap;

pub use normalize::Normalizer;

/// How one identifier links records.
#[derive(Clone, Debug)]
pub struct IdentifierRule {
    pub name: String,
    pub normalizer: Normalizer,
    pub weak: bool,
    /// `unique` is 1; `max_per_person N` is N.
    pub capacity: Option<u32>,
    /// `scoped by COLUMN`: the value means something only with the scope's value.
    pub scoped: bool,
    /// Read from a `pii` column: its values are masked ([`mask`]) wherever the engine
    /// shows them, unless the caller asks for them in clear.
    pub pii: bool,
}

impl IdentifierRule {
    /// A raw value as the engine links it: normalized, after its scope (`scope/value`)
    /// when the identifier is scoped, at most [`MAX_VALUE_LEN`] bytes; `None` when it
    /// is unusable. The value may live in `norm` or `scoped`.
    pub fn linked<'a>(
        &self,
        raw: &'a str,
        scope: Option<&str>,
        norm: &'a mut String,
        scoped: &'a mut String,
    ) -> Option<&'a str> {
        let mut value = self.normalizer.normalize(raw, norm)?;
        if self.scoped {
            let scope = scope.map(str::trim).filter(|s| !s.is_empty())?;
            scoped.clear();
            scoped.push_str(scope);
            scoped.push('/');
            scoped.push_str(value);
            value = scoped;
        }
        (value.len() <= MAX_VALUE_LEN).then_some(value)
    }
}

/// The rules of one `oneid` item.
#[derive(Clone, Debug, Default)]
pub struct Rules {
    pub identifiers: Vec<IdentifierRule>,
    /// (identifier index, raw value) pairs that never link; normalized like data.
    pub rejects: Vec<(usize, String)>,
    pub frequent_above: Option<u64>,
    pub max_component: Option<u64>,
}

/// A stable 64-bit fingerprint of bytes. The function is part of mj's storage
/// format (record keys and OneIDs persist between runs): never change it.
pub fn fingerprint(seed: u64, bytes: &[u8]) -> u64 {
    let mut h = fingerprint_start(seed, bytes.len());
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        h = fingerprint_mix(h, w);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        h = fingerprint_mix(h, tail_word(rest));
    }
    fingerprint_end(h)
}

/// [`fingerprint`] of the words' little-endian bytes, one after another.
pub fn fingerprint_words(seed: u64, words: &[u64]) -> u64 {
    let h = fingerprint_start(seed, words.len() * 8);
    fingerprint_end(words.iter().fold(h, |h, &w| fingerprint_mix(h, w)))
}

fn fingerprint_start(seed: u64, len: usize) -> u64 {
    seed ^ (len as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

fn fingerprint_mix(h: u64, w: u64) -> u64 {
    const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
    (h.rotate_left(5) ^ w).wrapping_mul(K)
}

/// murmur3's finalizer: every input bit reaches every output bit.
fn fingerprint_end(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// The 1 to 7 bytes of `rest` as a little-endian word padded with zeros, read with
/// loads that overlap (what a byte copy into a zeroed word gives, without the copy:
/// a word loaded right after bytes were stored into it waits for the stores).
fn tail_word(rest: &[u8]) -> u64 {
    let n = rest.len();
    if n >= 4 {
        let lo = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]);
        let hi = u32::from_le_bytes([rest[n - 4], rest[n - 3], rest[n - 2], rest[n - 1]]);
        u64::from(lo) | u64::from(hi) << ((n - 4) * 8)
    } else {
        u64::from(rest[0])
            | u64::from(rest[n / 2]) << (n / 2 * 8)
            | u64::from(rest[n - 1]) << ((n - 1) * 8)
    }
}

/// What became of a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueState {
    Usable,
    /// In a `reject` list.
    Rejected,
    /// Shared by more distinct records than `reject frequent above`.
    Frequent,
    /// Dropped to cut a person larger than `max_component`.
    Cut,
}

/// One distinct identifier value.
#[derive(Clone, Debug)]
pub struct Value {
    pub identifier: u16,
    /// For a value of a scoped identifier, a tag of its scope ([`scope_tag`]); 0
    /// otherwise. Weak joins compare values of one identifier within one scope.
    pub scope: u8,
    pub fingerprint: u64,
    /// Distinct records carrying it.
    pub records: u32,
    pub state: ValueState,
}

/// A join refused because a person would hold too many values of an identifier.
#[derive(Clone, Debug)]
pub struct Conflict {
    /// The identifier whose capacity was exceeded.
    pub identifier: u16,
    /// The value whose join was refused, and the record carrying it.
    pub value: u32,
    pub record: u32,
}

/// Why a weak value joined none of the people carrying it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Two of them hold different values of this strong identifier (in one scope):
    /// two members on one family tablet.
    Conflict { identifier: u16 },
    /// Together they hold more values of this weak identifier than its
    /// `max_per_person`.
    OverCapacity { identifier: u16 },
}

/// Collects rows: normalizes and fingerprints their values as they come, and keeps
/// each distinct record once (a row repeating a record keeps only its record's
/// number). Mapping fingerprints to dense ids happens once, in [`Builder::resolve`],
/// by sorting.
pub struct Builder {
    rules: Rules,
    reject_fps: Vec<u64>,
    /// The rows given: parts appended from forks, and the part `add` fills (always
    /// the last). Appending moves a fork's part, never its rows.
    parts: Vec<Part>,
    /// Rows given, including duplicates of an existing record.
    pub rows: u64,
    /// The number of the next row [`Builder::add`] is given.
    next_row: u64,
    /// One more than the largest row number given.
    end_row: u64,
    /// Usable values given, over all rows.
    row_links: u64,
    /// Values given that link nothing: normalized to nothing (a malformed phone),
    /// scoped without a scope, or longer than [`MAX_VALUE_LEN`] ([`IdentifierRule::linked`]).
    pub unusable: u64,
    /// Where [`IdentifierRule::linked`] writes a normalized value, and a scoped one.
    norm_buf: String,
    scoped_buf: String,
    key_buf: Vec<u8>,
    words_buf: Vec<u64>,
    links_buf: Vec<Link>,
}

/// Rows as one builder added them.
struct Part {
    /// Per link (one usable value of one record): the value's fingerprint.
    links: Vec<u64>,
    /// Each link's identifier: apart from the fingerprints, so that a link takes 10
    /// bytes, not 16.
    link_idents: Vec<u16>,
    /// Per record (a row unlike every earlier row of the part): source, fingerprint
    /// (the record's identity), first link; `rec_start` ends with the end of the last
    /// record's links. Two parts may hold the same record.
    rec_source: Vec<u32>,
    rec_fp: Vec<u64>,
    rec_start: Vec<u32>,
    /// The part's record of each row, in the order the part was given them.
    row_rec: Vec<u32>,
    /// Runs of rows with consecutive numbers: (the run's first row in `row_rec`, its
    /// row number). A part given rows in order has one.
    runs: Vec<(u32, u64)>,
    /// The row number that continues the last run.
    run_next: u64,
    /// The part's records by fingerprint: a table of record numbers, four bytes a slot
    /// (a fingerprint is its own hash; the table reads it from `rec_fp`). The table
    /// holds millions of records and grows by doubling, so its fresh memory is a large
    /// part of what adding rows costs: slots of record numbers alone take a quarter of
    /// the memory of (fingerprint, record) slots.
    seen: hashbrown::HashTable<u32>,
    /// The last rows added, not yet looked up in `seen`: their links are at the end
    /// of `links`.
    pending: Vec<Pending>,
    /// What looking the pending rows up found.
    found: Vec<Option<u32>>,
}

/// A row added but not yet known to be a new record.
struct Pending {
    fp: u64,
    source: u32,
    /// Where its links begin.
    links: u32,
}

/// Rows looked up in a part's records at once. Each lookup is a cache miss in a table
/// of millions of records; made one after another, with nothing between them, the
/// misses overlap. The rows' links stay in the cache until they are kept or
/// dropped (measured on the example's data: 1,024 rows map about 10 % faster than 64).
const PENDING: usize = 1024;

impl Part {
    fn new() -> Part {
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
    fn settle(&mut self) {
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
    fn row_runs(&self) -> impl Iterator<Item = (std::ops::Range<usize>, u64)> + '_ {
        let ends = self.runs.iter().skip(1).map(|r| r.0 as usize);
        let ends = ends.chain([self.row_rec.len()]);
        self.runs
            .iter()
            .zip(ends)
            .map(|(&(at, row), end)| (at as usize..end, row))
    }

    /// A record's links: their fingerprints and identifiers.
    fn rec_links(&self, rec: usize) -> (&[u64], &[u16]) {
        let links = self.rec_start[rec] as usize..self.rec_start[rec + 1] as usize;
        (&self.links[links.clone()], &self.link_idents[links])
    }
}

/// The deduplicated records and distinct values the resolver works on.
struct Records {
    rules: Rules,
    reject_fps: Vec<u64>,
    values: Vec<Value>,
    /// The records of each value, value after value (each value's `records` long).
    value_records: Vec<u32>,
    record_fps: Vec<u64>,
    record_source: Vec<u32>,
    starts: Vec<u32>,
    links: Vec<u32>,
    row_record: Vec<u32>,
    rows: u64,
    row_links: u64,
    unusable: u64,
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

    fn empty(rules: Rules, reject_fps: Vec<u64>) -> Builder {
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
    fn part(&mut self) -> &mut Part {
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
    fn resolve_one_by_one(self) -> Resolution {
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
    fn index(mut self) -> Records {
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

/// Not a place: a part's record that repeats a record named by an earlier one.
const NONE: u32 = u32::MAX;

/// A personal value as manifests and explanations show it: the middle hidden, enough
/// left to tell values apart in a ticket. A phone keeps its first three and last four
/// digits (`138****5678`), an e-mail its first letter and domain (`z***@163.com`), a
/// scoped value its scope (`wx7d3f/o2Y***9k`); a value of four characters or fewer is
/// hidden whole.
pub fn mask(text: &str) -> String {
    if let Some((scope, value)) = text.rsplit_once('/') {
        return format!("{scope}/{}", mask(value));
    }
    if let Some((local, domain)) = text.split_once('@') {
        let first: String = local.chars().take(1).collect();
        return format!("{first}***@{domain}");
    }
    let chars: Vec<char> = text.chars().collect();
    let n = chars.len();
    let (head, tail) = match n {
        0..=4 => (0, 0),
        5..=7 => (1, 1),
        _ => (3, 4),
    };
    let mut out: String = chars[..head].iter().collect();
    out.extend(std::iter::repeat_n('*', n - head - tail));
    out.extend(&chars[n - tail..]);
    out
}

/// The most identifiers one `oneid` may declare: a link keeps its identifier in one
/// byte and its scope's tag in the other.
pub const MAX_IDENTIFIERS: usize = 256;

/// The tag of a scoped value's scope, 1 to 255 (0 for an identifier without a scope):
/// a byte of the scope's fingerprint. Two scopes may share a tag (one in 255 pairs);
/// weak joins then take their values for one scope's, which can only keep people
/// apart, never join them.
pub fn scope_tag(rule: &IdentifierRule, scope: Option<&str>) -> u8 {
    match scope.map(str::trim) {
        Some(s) if rule.scoped && !s.is_empty() => {
            1 + (fingerprint(0x73_636f_7065, s.as_bytes()) % 255) as u8
        }
        _ => 0,
    }
}

/// One usable value of the row being added: fingerprint, identifier and its scope's
/// tag in the high byte (a part keeps the two in arrays of their own).
#[derive(Clone, Copy, Debug, Default)]
struct Link {
    fp: u64,
    ident: u16,
}

/// The longest usable value, in bytes; longer ones are unusable (no identifier is
/// that long, and links stay small).
pub const MAX_VALUE_LEN: usize = u16::MAX as usize;

/// What [`Builder::index`] sorts by fingerprint: first the parts' records, then the
/// records' links. Both sorts fill one buffer, so the second writes to memory the
/// first has mapped already. Items are 20 bytes: the fingerprint is kept as two
/// halves, high first, so that items order by it as by a number.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, bytemuck::Zeroable)]
struct Item {
    fp: [u32; 2],
    /// A part record's number over all parts; a link's record.
    rec: u32,
    /// A part record's link count; a link's place in the records' links.
    at: u32,
    /// A part record's source; a link's identifier.
    data: u32,
}

impl Item {
    fn new(fp: u64, rec: u32, at: u32, data: u32) -> Item {
        Item {
            fp: [(fp >> 32) as u32, fp as u32],
            rec,
            at,
            data,
        }
    }

    fn fp(&self) -> u64 {
        u64::from(self.fp[0]) << 32 | u64::from(self.fp[1])
    }
}

/// Rows or positions per block when writes that land out of order are grouped first:
/// a block of `u32`s (128 KiB) stays in the cache while it is written.
const BLOCK: u32 = 15;

/// Where each block of `0..n` begins when every index of `0..n` is listed exactly
/// once, grouped by block (`i >> BLOCK`).
fn block_starts(n: usize) -> Vec<usize> {
    (0..n.div_ceil(1 << BLOCK)).map(|b| b << BLOCK).collect()
}

/// The items of `shard` (0 or 1) when `n` items are listed in two shards: the first
/// half, or the rest.
pub(crate) fn shard_of(n: usize, shard: usize) -> std::ops::Range<usize> {
    if shard == 0 { 0..n / 2 } else { n / 2..n }
}

/// Items a pass gathers before reading, in one branch-free pass, what they need from
/// places at random in a big array (a parent, a target): a read that a branch waits on
/// right away waits for the read before it, while reads made one after another
/// overlap. The buffers have room for the last item's group beyond it.
const GATHER: usize = 256;

/// A link whose value links nothing.
const JUNK: u16 = u16::MAX;

/// The items `each` lists, sorted; their `key` is a fingerprint (spread evenly over 64
/// bits). `each(shard, put)` lists the items in two shards (any split: one shard may
/// hold all), each listed on its own core. Each shard is listed twice: once to count
/// its items of each of 256 buckets (the key's top 8 bits), once to put every item
/// straight into its bucket (each shard into its own region of the bucket), so no
/// second buffer of the items' size is needed (fresh memory costs a page fault per
/// 4 KiB). Each bucket is then sorted on its own, half of them on each core, by
/// [`sort_bucket`]. Items with equal keys end in `Ord` order.
pub(crate) fn sort_by_fp<T: Copy + Ord + Default + Send>(
    each: impl Fn(usize, &mut dyn FnMut(T)) + Sync,
    key: impl Fn(&T) -> u64 + Sync,
) -> Vec<T> {
    let mut items = Vec::new();
    let n = sort_by_fp_into(&mut items, each, key);
    items.truncate(n);
    items
}

/// [`sort_by_fp`] into the first items of `items`; returns how many. What `items`
/// held is overwritten, not cleared first, and it grows only when it is too short (a
/// buffer from a zeroed allocation is mapped as the sort first writes it, on both
/// cores).
pub(crate) fn sort_by_fp_into<T: Copy + Ord + Default + Send>(
    items: &mut Vec<T>,
    each: impl Fn(usize, &mut dyn FnMut(T)) + Sync,
    key: impl Fn(&T) -> u64 + Sync,
) -> usize {
    let (each, key) = (&each, &key);
    let count = |shard: usize| {
        let mut counts = vec![0usize; 256];
        each(shard, &mut |x| counts[(key(&x) >> 56) as usize] += 1);
        counts
    };
    let shard_counts: [Vec<usize>; 2] = std::thread::scope(|scope| {
        let second = scope.spawn(|| count(1));
        [count(0), second.join().expect("counting does not panic")]
    });
    let mut counts = vec![0usize; 257];
    for d in 0..256 {
        counts[d + 1] = counts[d] + shard_counts[0][d] + shard_counts[1][d];
    }
    let n = counts[256];
    if items.len() < n {
        items.resize(n, T::default());
    }
    let items = &mut items[..n];
    // Each shard's region of each bucket.
    let mut regions: [Vec<&mut [T]>; 2] = [Vec::with_capacity(256), Vec::with_capacity(256)];
    let mut rest: &mut [T] = items;
    for (&first, &second) in shard_counts[0].iter().zip(&shard_counts[1]) {
        for (region, len) in regions.iter_mut().zip([first, second]) {
            let (mine, after) = std::mem::take(&mut rest).split_at_mut(len);
            region.push(mine);
            rest = after;
        }
    }
    let place = |shard: usize, mut region: Vec<&mut [T]>| {
        let mut next = [0usize; 256];
        each(shard, &mut |x| {
            let d = (key(&x) >> 56) as usize;
            region[d][next[d]] = x;
            next[d] += 1;
        });
    };
    let [first, second] = regions;
    std::thread::scope(|scope| {
        scope.spawn(|| place(1, second));
        place(0, first);
    });
    if n < 1 << 16 {
        items.sort_unstable();
        return n;
    }
    let half = counts.partition_point(|&b| b < n / 2);
    let (lo, hi) = items.split_at_mut(counts[half]);
    let finish = move |items: &mut [T], bounds: &[usize]| {
        let base = bounds[0];
        let widest = bounds.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(0);
        let mut scratch = vec![T::default(); widest];
        for w in bounds.windows(2) {
            let bucket = &mut items[w[0] - base..w[1] - base];
            sort_bucket(bucket, &mut scratch[..bucket.len()], key);
        }
    };
    std::thread::scope(|scope| {
        let upper = scope.spawn(|| finish(hi, &counts[half..]));
        finish(lo, &counts[..=half]);
        upper.join().expect("sorting does not panic");
    });
    n
}

/// Sorts items whose `key` is a fingerprint; see [`sort_by_fp`].
pub(crate) fn bucket_sort<T: Copy + Ord + Default + Send + Sync>(
    items: &mut Vec<T>,
    key: impl Fn(&T) -> u64 + Sync,
) {
    if items.len() < 1 << 16 {
        items.sort_unstable();
        return;
    }
    let sorted = sort_by_fp(
        |shard, put| {
            items[shard_of(items.len(), shard)]
                .iter()
                .for_each(|&x| put(x))
        },
        key,
    );
    *items = sorted;
}

/// Sorts a bucket of [`sort_by_fp`] (items whose keys share their top 8 bits) by the
/// next 16 bits, 8 at a time from the lower (each pass stable, through `scratch`, which
/// the cache holds), then the few runs of items whose top 24 bits are equal by `Ord`.
fn sort_bucket<T: Copy + Ord>(bucket: &mut [T], scratch: &mut [T], key: impl Fn(&T) -> u64) {
    let digit = |x: &T, shift: u32| (key(x) >> shift) as usize & 0xff;
    let mut low = [0usize; 256];
    let mut high = [0usize; 256];
    for x in bucket.iter() {
        low[digit(x, 40)] += 1;
        high[digit(x, 48)] += 1;
    }
    let starts = |counts: &mut [usize; 256]| {
        let mut at = 0;
        for c in counts.iter_mut() {
            let n = *c;
            *c = at;
            at += n;
        }
    };
    starts(&mut low);
    starts(&mut high);
    for &x in bucket.iter() {
        let d = digit(&x, 40);
        scratch[low[d]] = x;
        low[d] += 1;
    }
    for &x in scratch.iter() {
        let d = digit(&x, 48);
        bucket[high[d]] = x;
        high[d] += 1;
    }
    let mut i = 0;
    while i < bucket.len() {
        let top = key(&bucket[i]) >> 40;
        let mut j = i + 1;
        while j < bucket.len() && key(&bucket[j]) >> 40 == top {
            j += 1;
        }
        if j - i > 1 {
            bucket[i..j].sort_unstable();
        }
        i = j;
    }
}

/// Sorts (fingerprint, payload) pairs.
pub(crate) fn radix_sort(items: &mut Vec<(u64, u32)>) {
    bucket_sort(items, |x| x.0);
}

/// The root of `x` in a forest where every parent is at most its child: the
/// smallest record of the component. Halves the path on the way.
fn find_first(parent: &mut [u32], mut x: u32) -> u32 {
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
struct Uf {
    parent: Vec<u32>,
    size: Vec<u32>,
}

impl Uf {
    fn new(n: usize) -> Uf {
        Uf {
            parent: (0..n as u32).collect(),
            size: vec![1; n],
        }
    }

    fn find(&mut self, mut x: u32) -> u32 {
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
    fn link_min(&mut self, a: u32, b: u32) {
        let (lo, hi) = (a.min(b), a.max(b));
        self.parent[hi as usize] = lo;
    }

    /// Joins two roots; returns the new root.
    fn link(&mut self, a: u32, b: u32) -> u32 {
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

struct Resolver {
    b: Records,
    /// Per record link: its identifier, or JUNK when the value links nothing.
    kinds: Vec<u16>,
    uf: Uf,
    /// Joining one by one ([`Resolver::join_in_order`]) only — for each `unique`
    /// strong identifier: the one value each root holds (NONE if none yet), by node.
    slots: Vec<(usize, Vec<u32>)>,
    /// Joining one by one only — values of strong identifiers with `max_per_person`
    /// above one, by root (sparse).
    held: FxHashMap<u32, Vec<u32>>,
    conflicts: Vec<Conflict>,
    /// Weak values that joined nobody, and why.
    refused: Vec<(u32, Refusal)>,
    /// Every component goes through [`Resolver::exact`] (the tests' reference).
    #[cfg(test)]
    one_by_one: bool,
}

impl Resolver {
    fn new(b: Records) -> Resolver {
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

    fn record_values(&self, r: u32) -> &[u32] {
        let s = self.b.starts[r as usize] as usize;
        let e = self.b.starts[r as usize + 1] as usize;
        &self.b.links[s..e]
    }

    fn run(mut self) -> Resolution {
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
    fn strong(&mut self, r_count: u32, kinds: &[u16]) {
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
    fn exact(&mut self, subset: &[u32], kinds: &[u16], uf_parent: &mut [u32]) {
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
    fn join_in_order(&mut self) {
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
    fn join_checked(&mut self, r: u32, node: u32, k: usize, v: u32) {
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
    fn weak(&mut self, r_count: u32) {
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
    fn cut(&mut self, comp: &mut [u32], max: u64, r_count: u32) {
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
fn split(records: &[u32], carriers: &FxHashMap<u32, Vec<u32>>) -> Vec<Vec<u32>> {
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

/// The people found, with what the rules did on the way.
#[derive(Debug)]
pub struct Resolution {
    pub rules: Rules,
    pub values: Vec<Value>,
    /// Per record: its fingerprint (stable between runs) and source.
    pub record_fps: Vec<u64>,
    pub record_source: Vec<u32>,
    starts: Vec<u32>,
    links: Vec<u32>,
    /// Per record: its person, numbered densely in order of first record.
    pub record_component: Vec<u32>,
    /// Per row given to [`Builder::add`]: its record.
    pub row_record: Vec<u32>,
    /// Per value: the person it joined, or [`NONE`] (a value that joined no one).
    value_component: Vec<u32>,
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

/// Phase timings.
struct Phases(Vec<(&'static str, std::time::Duration)>, std::time::Instant);

impl Default for Phases {
    fn default() -> Phases {
        Phases(Vec::new(), std::time::Instant::now())
    }
}

impl Phases {
    fn lap(&mut self, name: &'static str) {
        let now = std::time::Instant::now();
        self.0.push((name, now - self.1));
        self.1 = now;
    }
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

    fn rule_of(&self, v: u32) -> &'static str {
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

#[cfg(test)]
mod tests;
