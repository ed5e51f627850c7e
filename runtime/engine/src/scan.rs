//! Scan nodes: a `scan` item's reconstruction job (mj-scan) run inside `mj run`, its
//! files staged with the run's partitions and moved into place with them.
//!
//! Capture paths are resolved from the data root (the project folder unless `[data]
//! root` or `--data` says otherwise); output paths are relative to the output folder.

use std::path::Path;

use mj_ir::jobs::{HotspotAt, ScanJob, ScanMerge, ScanOutput};
use mj_scan::job::{HotspotSpec, Job, Output, OutputFiles, OutputKind, Place, Report};
use mj_scan::reconstruct::Merge;
use serde::{Deserialize, Serialize};

/// A scan in a run's manifest: its name and what the job reported.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScanReport {
    pub scan: String,
    #[serde(flatten)]
    pub report: Report,
}

/// The runnable job of a lowered scan item.
pub fn job(scan: &ScanJob, base: &Path, out: &Path) -> Job {
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
        merge: match scan.merge {
            ScanMerge::Doors => Merge::Doors,
            ScanMerge::Transforms => Merge::Transforms,
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
                place: match &h.place {
                    HotspotAt::Point(p) => Place::At(*p),
                    HotspotAt::Room(r) => Place::Room(r.clone()),
                },
            })
            .collect(),
        outputs: scan
            .outputs
            .iter()
            .map(|(kind, path)| Output {
                kind: match kind {
                    ScanOutput::Glb => OutputKind::Glb,
                    ScanOutput::Obj => OutputKind::Obj,
                    ScanOutput::Floorplan => OutputKind::Floorplan,
                    ScanOutput::Tour => OutputKind::Tour,
                    ScanOutput::Summary => OutputKind::Summary,
                },
                path: path.clone(),
            })
            .collect(),
    }
}

/// Runs a scan job's steps and renders its files in memory (nothing written).
pub fn render(job: &Job) -> Result<(ScanReport, Vec<OutputFiles>), String> {
    let (report, files) = mj_scan::job::render(job).map_err(|e| e.to_string())?;
    let scan = job.name.clone();
    Ok((ScanReport { scan, report }, files))
}

// ------------------------------------------------------------------ the node kind

use crate::node::{Done, Kind, NodeCx};
use futures::future::BoxFuture;

/// A showroom scan's reconstruction: its files, staged by the driver, and its report.
impl Kind for ScanJob {
    fn scanned(&self) -> bool {
        false
    }

    fn run<'a>(&'a self, cx: NodeCx<'a>) -> BoxFuture<'a, Result<Done, crate::RunError>> {
        Box::pin(async move {
            let job = job(self, &cx.opts.data, &cx.opts.out);
            let (report, files) = tokio::task::spawn_blocking(move || render(&job))
                .await
                .map_err(|e| cx.fail(e))?
                .map_err(|e| cx.fail(e))?;
            let summary = format!(
                "{} rooms, {:.1} m², {} panoramas, {} outputs",
                report.report.rooms,
                report.report.area_m2,
                report.report.panoramas,
                files.len()
            );
            Ok(Done {
                summary,
                outputs: files,
                ..Done::default()
            }
            .report(move |m| m.scans.push(report)))
        })
    }
}
