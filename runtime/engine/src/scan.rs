//! Scan nodes: a `scan` item's reconstruction job (mj-scan) run inside `mj run`, its
//! files staged with the run's partitions and moved into place with them.
//!
//! Capture paths are resolved from the data root (the project folder unless `[data]
//! root` or `--data` says otherwise); output paths are relative to the output folder.

use std::path::Path;

use mj_compiler::lower::ScanJob;
use mj_scan::job::{HotspotSpec, Job, Output, OutputFiles, OutputKind, Place, Report};
use mj_scan::reconstruct::Merge;
use serde::Serialize;

/// A scan in a run's manifest.
#[derive(Debug, Clone, Serialize)]
pub struct ScanReport {
    pub scan: String,
    pub rooms: usize,
    pub panoramas: usize,
    pub area_m2: f64,
    pub triangles: usize,
    /// Output paths, relative to the output folder.
    pub outputs: Vec<String>,
    /// (step, seconds), in order.
    pub steps: Vec<(String, f64)>,
}

/// The runnable job of a lowered scan item.
pub fn job(scan: &ScanJob, base: &Path, out: &Path) -> Job {
    let kind = |k: &str| match k {
        "glb" => Some(OutputKind::Glb),
        "obj" => Some(OutputKind::Obj),
        "floorplan" => Some(OutputKind::Floorplan),
        "tour" => Some(OutputKind::Tour),
        "summary" => Some(OutputKind::Summary),
        _ => None,
    };
    Job {
        name: scan.name.clone(),
        display: scan.display.clone(),
        base: base.to_path_buf(),
        out: out.to_path_buf(),
        panoramas: scan.panoramas.clone(),
        annotations: scan.annotations.clone(),
        pointclouds: scan.pointclouds.clone(),
        camera_height: scan.camera_height,
        upright: scan.upright,
        manhattan: scan.manhattan_deg.map(f64::to_radians),
        merge: if scan.merge == "transforms" {
            Merge::Transforms
        } else {
            Merge::Doors
        },
        texture: scan.texture,
        hotspots: scan
            .hotspots
            .iter()
            .map(|h| HotspotSpec {
                name: h.name.clone(),
                display: h.display.clone(),
                kind: h.kind.clone(),
                target: h.target.clone(),
                place: match (&h.at, &h.room) {
                    (Some(p), _) => Place::At(*p),
                    (None, Some(r)) => Place::Room(r.clone()),
                    (None, None) => Place::At([0.0; 3]),
                },
            })
            .collect(),
        outputs: scan
            .outputs
            .iter()
            .filter_map(|(k, p)| {
                kind(k).map(|kind| Output {
                    kind,
                    path: p.trim_end_matches('/').to_string(),
                })
            })
            .collect(),
    }
}

pub fn report(scan: &str, r: &Report) -> ScanReport {
    ScanReport {
        scan: scan.to_string(),
        rooms: r.rooms,
        panoramas: r.panoramas,
        area_m2: r.area_m2,
        triangles: r.triangles,
        outputs: r.outputs.clone(),
        steps: r.steps.clone(),
    }
}

/// Runs a scan job's steps and renders its files in memory (nothing written).
pub fn render(job: &Job) -> Result<(ScanReport, Vec<OutputFiles>), String> {
    let (r, files) = mj_scan::job::render(job).map_err(|e| e.to_string())?;
    Ok((report(&job.name, &r), files))
}
