//! The scan benchmark: a synthetic store rendered to panoramas, then the whole scan job
//! (decode, layout, merge, mesh, texture, encode, outputs), step by step.
//!
//! `cargo run --release -p mj-scan --example bench_scan -- [OUT] [--showroom] [--runs N]`
//! Default store: 100 m² as 5 × 2 rooms of 3.3 × 3 m with two panoramas each (20
//! panoramas of 2048 × 1024), σ = 2 px click noise, textures 1024.

use std::path::PathBuf;
use std::time::Instant;

use mj_scan::job::{Job, Output, OutputKind, run};
use mj_scan::reconstruct::Merge;
use mj_scan::synth;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let showroom = args.iter().any(|a| a == "--showroom");
    let runs: usize = args
        .iter()
        .position(|a| a == "--runs")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(5);
    let out = args
        .iter()
        .find(|a| !a.starts_with("--") && a.parse::<usize>().is_err())
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("mj-bench-scan"));
    let plan = if showroom {
        synth::showroom()
    } else {
        synth::grid_store(5, 2, 3.3, 3.0, 2)
    };
    let capture = out.join("capture");
    let t = Instant::now();
    synth::write_capture(&plan, &capture, 2048, 2.0, 7).expect("capture");
    eprintln!(
        "rendered {} panoramas in {:.1} s",
        plan.views.len(),
        t.elapsed().as_secs_f64()
    );
    let job = Job {
        name: "bench".into(),
        display: Some("benchmark store".into()),
        base: capture.clone(),
        out: out.join("result"),
        panoramas: vec!["*.jpg".into()],
        annotations: vec!["layout.json".into()],
        pointclouds: vec![],
        camera_height: 1.6,
        upright: false,
        manhattan: Some(10f64.to_radians()),
        merge: Merge::Doors,
        texture: 1024,
        hotspots: vec![],
        outputs: vec![
            Output {
                kind: OutputKind::Glb,
                path: "store.glb".into(),
            },
            Output {
                kind: OutputKind::Floorplan,
                path: "store.svg".into(),
            },
            Output {
                kind: OutputKind::Summary,
                path: "store.json".into(),
            },
            Output {
                kind: OutputKind::Tour,
                path: "tour".into(),
            },
        ],
    };
    let mut totals = Vec::new();
    let mut per_step: Vec<(String, Vec<f64>)> = Vec::new();
    let mut last = None;
    for _ in 0..runs {
        let t = Instant::now();
        let report = run(&job).expect("scan");
        totals.push(t.elapsed().as_secs_f64());
        for (name, secs) in &report.steps {
            match per_step.iter_mut().find(|(n, _)| n == name) {
                Some((_, v)) => v.push(*secs),
                None => per_step.push((name.clone(), vec![*secs])),
            }
        }
        last = Some(report);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let report = last.expect("one run");
    println!(
        "store: {} rooms, {:.1} m², {} panoramas, {} triangles",
        report.rooms, report.area_m2, report.panoramas, report.triangles
    );
    println!("| step | median s |\n|---|---|");
    for (name, mut v) in per_step {
        println!("| {name} | {:.3} |", median(&mut v));
    }
    println!(
        "| **total** ({runs} runs) | **{:.3}** |",
        median(&mut totals)
    );
}
