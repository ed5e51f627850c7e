//! OneID throughput: `cargo run --release -p mj-oneid --example bench_oneid -- RECORDS [LINKS_CSV]`
//!
//! Generates RECORDS synthetic records (about two identifier values each: phones
//! written several ways, member ids, devices) for RECORDS / 2.5 people, then times the
//! whole engine — normalization, fingerprint → dense id mapping, union-find with the
//! guards, stable-id assignment — and prints links per second and peak memory as
//! JSON. With LINKS_CSV, also writes the normalized (record, value) links for an
//! external connected-components pass (bench/oneid.py runs DuckDB on them).

use std::io::Write;
use std::time::Instant;

use mj_oneid::stable::{Previous, assign};
use mj_oneid::{Builder, IdentifierRule, Normalizer, Rules};

/// A small deterministic generator (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn phone(person: u64, style: u64) -> String {
    let digits = format!("1{}{:09}", 3 + person % 7, person % 1_000_000_000);
    match style % 4 {
        0 => digits,
        1 => format!("+86 {} {} {}", &digits[..3], &digits[3..7], &digits[7..]),
        2 => format!("{}-{}-{}", &digits[..3], &digits[3..7], &digits[7..]),
        _ => format!("0086{digits}"),
    }
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let records: u64 = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let csv = args.next();
    let people = (records as f64 / 2.5) as u64;
    let ident = |name: &str, n: Normalizer, weak: bool, cap: Option<u32>| IdentifierRule {
        name: name.into(),
        normalizer: n,
        weak,
        capacity: cap,
        scoped: false,
    };
    let rules = Rules {
        identifiers: vec![
            ident("phone", Normalizer::PhoneCn, false, None),
            ident("member_id", Normalizer::Trim, false, Some(1)),
            ident("device_id", Normalizer::Trim, true, Some(5)),
        ],
        rejects: vec![(0, "13800000000".into())],
        frequent_above: Some(1000),
        max_component: Some(10_000),
    };
    // Raw rows first, so that generating them is not timed.
    let mut rng = Rng(42);
    let mut rows: Vec<(u32, Vec<(usize, String)>)> = Vec::with_capacity(records as usize);
    for i in 0..records {
        let person = rng.below(people);
        let source = (i % 4) as u32;
        let mut fields = Vec::with_capacity(3);
        match source {
            // CRM: member id and phone.
            0 => {
                fields.push((1, format!("M{person:09}")));
                fields.push((0, phone(person, rng.next())));
            }
            // POS: phone, sometimes the member id.
            1 => {
                fields.push((0, phone(person, rng.next())));
                if rng.below(3) == 0 {
                    fields.push((1, format!("M{person:09}")));
                }
            }
            // App: device and member id when logged in.
            2 => {
                fields.push((2, format!("dev-{:x}", person * 2 + rng.below(2))));
                if rng.below(3) == 0 {
                    fields.push((1, format!("M{person:09}")));
                }
            }
            // Media: a device only.
            _ => fields.push((2, format!("dev-{:x}", person * 2 + rng.below(2)))),
        }
        rows.push((source, fields));
    }
    let links: usize = rows.iter().map(|r| r.1.len()).sum();
    let started = Instant::now();
    // Half of the rows on each core, then the second half appended to the first.
    let fill = |mut builder: Builder, rows: &[(u32, Vec<(usize, String)>)]| {
        builder.reserve(rows.len(), 2);
        let mut fields: Vec<(usize, &str, Option<&str>)> = Vec::with_capacity(3);
        for (source, raw) in rows {
            fields.clear();
            fields.extend(raw.iter().map(|(i, v)| (*i, v.as_str(), None)));
            builder.add(*source, "", &fields);
        }
        builder
    };
    let (first, second) = rows.split_at(rows.len() / 2);
    let builder = Builder::new(rules);
    let fork = builder.fork();
    let builder = std::thread::scope(|scope| {
        let other = scope.spawn(|| fill(fork, second));
        let mut builder = fill(builder, first);
        builder.append(other.join().expect("filling does not panic"));
        builder
    });
    let mapped = started.elapsed().as_secs_f64();
    let mut phases = String::new();
    let res = builder.resolve();
    let resolved = started.elapsed().as_secs_f64();
    for (name, d) in &res.phases {
        phases.push_str(&format!(", \"{name}\": {:.3}", d.as_secs_f64()));
    }
    let ids = assign("consumer", "2025-06-30", &res, &Previous::default());
    let total = started.elapsed().as_secs_f64();
    println!(
        "{{\"records\": {records}, \"links\": {links}, \"distinct_records\": {}, \"persons\": {}, \"ids\": {}, \"seconds\": {total:.3}, \"seconds_map\": {mapped:.3}, \"seconds_union_find\": {:.3}, \"seconds_ids\": {:.3}, \"links_per_second\": {:.0}, \"peak_rss_mb\": {:.0}, \"phases\": {{\"map\": {mapped:.3}{phases}, \"ids\": {:.3}}}}}",
        res.records(),
        res.components,
        ids.ids.len(),
        resolved - mapped,
        total - resolved,
        links as f64 / total,
        peak_rss_mb(),
        total - resolved,
    );
    if let Some(path) = csv {
        // Edges between records and values as the engine saw them, for an outside
        // connected-components pass over the same graph.
        let mut w = std::io::BufWriter::new(std::fs::File::create(&path).expect("csv"));
        writeln!(w, "u,v").expect("write");
        for (u, v) in res.joins() {
            writeln!(w, "{u},{v}").expect("write");
        }
    }
}
