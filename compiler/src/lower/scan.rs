//! A scan item lowered: captures, steps with their defaults, hotspots and outputs.

use super::*;

pub(crate) fn string_arg(e: &mj_lang::ast::Expr) -> Option<(String, String)> {
    let ExprKind::Call(f, args) = &e.kind else {
        return None;
    };
    let value = args.iter().find_map(|a| match a {
        mj_lang::ast::Arg::Positional { value, .. } => match &value.kind {
            ExprKind::Str(s) => Some(s.clone()),
            _ => None,
        },
        _ => None,
    })?;
    Some((f.text.clone(), value))
}

pub(crate) fn scan_job(s: &mj_lang::ast::Scan) -> ScanJob {
    use mj_lang::ast::{HotspotPlace, ScanStep};
    let mut job = ScanJob {
        name: s.header.name.text.clone(),
        display: s.header.display.as_ref().map(|d| d.value.clone()),
        panoramas: Vec::new(),
        annotations: Vec::new(),
        pointclouds: Vec::new(),
        camera_height: s
            .camera_height
            .as_ref()
            .and_then(crate::check::scan::metres)
            .unwrap_or(1.6),
        upright: false,
        manhattan_deg: Some(10.0),
        merge: ScanMerge::Doors,
        texture: 1024,
        hotspots: Vec::new(),
        outputs: Vec::new(),
    };
    for c in &s.captures {
        match string_arg(c) {
            Some((f, v)) if f == "panoramas" => job.panoramas.push(v),
            Some((f, v)) if f == "annotations" => job.annotations.push(v),
            Some((f, v)) if f == "pointcloud" => job.pointclouds.push(v),
            _ => {}
        }
    }
    for step in &s.steps {
        match step {
            ScanStep::Upright(_) => job.upright = true,
            ScanStep::Layout(e) => {
                let (name, args) = match &e.kind {
                    ExprKind::Call(f, args) => (f.text.as_str(), args.as_slice()),
                    ExprKind::Name(n) => (n.text.as_str(), &[][..]),
                    _ => continue,
                };
                job.manhattan_deg = match name {
                    "free" => None,
                    _ => Some(
                        args.iter()
                            .find_map(|a| match a {
                                mj_lang::ast::Arg::Named(n) if n.name.text == "tolerance" => {
                                    crate::check::scan::degrees(&n.value)
                                }
                                _ => None,
                            })
                            .unwrap_or(10.0),
                    ),
                };
            }
            ScanStep::MergeBy(i) => {
                job.merge = match i.text.as_str() {
                    "transforms" => ScanMerge::Transforms,
                    _ => ScanMerge::Doors,
                }
            }
            ScanStep::Texture(n, _) => job.texture = *n,
        }
    }
    for h in &s.hotspots {
        let place = match &h.place {
            // The grammar takes three numbers.
            HotspotPlace::At(xyz, _) => {
                let mut p = [0.0; 3];
                for (c, t) in p.iter_mut().zip(xyz) {
                    *c = t.parse().unwrap_or(0.0);
                }
                HotspotAt::Point(p)
            }
            HotspotPlace::Room(r) => HotspotAt::Room(r.text.clone()),
        };
        job.hotspots.push(ScanHotspot {
            name: h.name.text.clone(),
            display: h.display.as_ref().map(|d| d.value.clone()),
            kind: h.kind.text.clone(),
            target: h.target.value.clone(),
            place,
        });
    }
    // The checker reports any other output.
    job.outputs = s
        .outputs
        .iter()
        .filter_map(string_arg)
        .filter_map(|(kind, path)| {
            let kind = match kind.as_str() {
                "glb" => ScanOutput::Glb,
                "obj" => ScanOutput::Obj,
                "floorplan" => ScanOutput::Floorplan,
                "tour" => ScanOutput::Tour,
                "summary" => ScanOutput::Summary,
                _ => return None,
            };
            Some((kind, path.trim_end_matches('/').to_string()))
        })
        .collect();
    job
}
