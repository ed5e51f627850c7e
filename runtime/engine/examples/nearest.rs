//! Nearest store for every consumer: the R-tree of `mj_runtime::near` against comparing
//! every store, in the same run.
//!
//! `cargo run --release -p mj-runtime --example nearest [consumers] [stores] [sample]`
//! (default 1,000,000 consumers, 5,000 stores, a brute-force sample of 10,000).
//!
//! Stores and consumers are deterministic pseudo-random points over mainland China's
//! bounding box, consumers clustered around stores as real ones are. Reports, as medians
//! of 3 runs: building the index, querying every consumer, brute force over the sample
//! (and its time scaled to every consumer), the speed-up, and that both agree on the
//! sample.

use std::time::Instant;

use mj_runtime::near::{Points, nearest_brute};

struct Rng(u64);

impl Rng {
    fn unit(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.replace('_', "").parse().ok())
        .collect();
    let consumers = args.first().copied().unwrap_or(1_000_000);
    let stores = args.get(1).copied().unwrap_or(5_000);
    let sample = args.get(2).copied().unwrap_or(10_000).min(consumers);
    let mut r = Rng(0x2545_f491_4f6c_dd1d);
    let shops: Vec<(f64, f64)> = (0..stores)
        .map(|_| (18.0 + 35.0 * r.unit(), 75.0 + 60.0 * r.unit()))
        .collect();
    let people: Vec<(f64, f64)> = (0..consumers)
        .map(|_| {
            let (lat, lon) = shops[(r.unit() * stores as f64) as usize % stores];
            (lat + (r.unit() - 0.5) * 0.6, lon + (r.unit() - 0.5) * 0.6)
        })
        .collect();
    let (mut build, mut query, mut brute) = (Vec::new(), Vec::new(), Vec::new());
    let mut disagree = 0;
    for _ in 0..3 {
        let t = Instant::now();
        let index = Points::new(shops.clone());
        build.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let mut found = Vec::with_capacity(consumers);
        for &(lat, lon) in &people {
            found.push(index.nearest(lat, lon));
        }
        query.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let mut slow = Vec::with_capacity(sample);
        for &(lat, lon) in &people[..sample] {
            slow.push(nearest_brute(&shops, lat, lon));
        }
        brute.push(t.elapsed().as_secs_f64());
        disagree = found[..sample]
            .iter()
            .zip(&slow)
            .filter(|(a, b)| match (a, b) {
                (Some(a), Some(b)) => (a.1 - b.1).abs() > 1e-9,
                _ => true,
            })
            .count();
    }
    let (build, query, brute) = (median(build), median(query), median(brute));
    let brute_all = brute * consumers as f64 / sample as f64;
    println!("{consumers} consumers x {stores} stores, median of 3 runs");
    println!(
        "R-tree:      build {:.3} s, query all {:.3} s ({:.2} µs per consumer)",
        build,
        query,
        query / consumers as f64 * 1e6
    );
    println!(
        "brute force: {sample} consumers {:.3} s, scaled to all {:.1} s ({:.1} µs per consumer)",
        brute,
        brute_all,
        brute / sample as f64 * 1e6
    );
    println!(
        "speed-up:    {:.0}x (brute force scaled / (build + query))",
        brute_all / (build + query)
    );
    println!("answers that differ on the sample: {disagree}");
}
