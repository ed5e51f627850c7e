//! Generates the example project's data and reports how long it took.
//!
//! `cargo run --release -p mj-gen --example gen -- [consumers] [days] [out] [seed]`

use std::path::PathBuf;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).map(String::as_str);
    let consumers = arg(0).map_or(100_000, |s| s.parse().expect("consumers"));
    let days = arg(1).map_or(365, |s| s.parse().expect("days"));
    let out = arg(2).map_or_else(
        || std::env::temp_dir().join("mj-gen-example"),
        PathBuf::from,
    );
    let seed = arg(3).map_or(42, |s| s.parse().expect("seed"));
    let cfg = mj_gen::GenConfig {
        consumers,
        days,
        seed,
        end: chrono::NaiveDate::from_ymd_opt(2025, 6, 30).expect("date"),
        places: None,
    };
    let started = Instant::now();
    match mj_gen::generate(&cfg, &out) {
        Ok(summary) => {
            let elapsed = started.elapsed();
            for (file, rows) in &summary.files {
                println!("{rows:>12}  {file}");
            }
            println!(
                "{} persons into {} in {:.1}s",
                summary.persons,
                out.display(),
                elapsed.as_secs_f64()
            );
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
