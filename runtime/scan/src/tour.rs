//! The offline tour: a folder with `index.html`, the viewer (`viewer.js`, written in
//! this project, plain WebGL, no library) and the scan's data (`data.js`: panoramas and
//! textures as data URIs, so the page works from `file://` without a server).
//!
//! Hotspots carry their 3D anchor (for the 3D view) and, per panorama, the longitude and
//! latitude at which that panorama sees the anchor (for the panorama view). Each
//! panorama links to the others of its room (at their feet) and to the rooms its room
//! shares a door with (at the door).

use std::path::PathBuf;

use base64::Engine;
use nalgebra::Point3;
use serde_json::{Value, json};

use crate::export::Anchor;
use crate::mesh::Mesh;
use crate::plan::FloorPlan;
use crate::svg::escape;
use crate::texture::PanoImage;

const VIEWER: &str = include_str!("../tour/viewer.js");

fn data_uri(jpeg: &[u8]) -> String {
    format!(
        "data:image/jpeg;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(jpeg)
    )
}

fn round(x: f64) -> f64 {
    (x * 1e4).round() / 1e4
}

/// Where panorama `from` sees each other panorama's link (see the module's
/// documentation); `None` where there is none.
fn links(plan: &FloorPlan, from: usize) -> Vec<Value> {
    let v = &plan.views[from];
    let room = &plan.rooms[v.room];
    plan.views
        .iter()
        .enumerate()
        .map(|(j, w)| {
            if j == from {
                return Value::Null;
            }
            let target = if w.room == v.room {
                Some(Point3::new(w.camera.x, 0.05, w.camera.z))
            } else {
                let other = &plan.rooms[w.room];
                room.openings.iter().find_map(|o| {
                    let id = o.id.as_ref()?;
                    other
                        .openings
                        .iter()
                        .any(|p| p.id.as_ref() == Some(id))
                        .then(|| {
                            let (a, b) = room.opening_ends(o);
                            let m = nalgebra::center(&a, &b);
                            Point3::new(m.x, (o.bottom + o.top) / 2.0, m.y)
                        })
                })
            };
            match target {
                Some(p) => {
                    let (lon, lat) = v.angles_of(&p);
                    json!({"lon": round(lon), "lat": round(lat)})
                }
                None => Value::Null,
            }
        })
        .collect()
}

/// The data the viewer reads.
pub fn data(
    title: &str,
    plan: &FloorPlan,
    mesh: &Mesh,
    jpegs: &[Vec<u8>],
    panos: &[(PathBuf, PanoImage)],
    anchors: &[Anchor],
) -> Value {
    let panoramas: Vec<Value> = plan
        .views
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let image = panos.get(i).map(|(path, p)| {
                let bytes = std::fs::read(path)
                    .ok()
                    .filter(|b| b.starts_with(&[0xff, 0xd8]));
                data_uri(&bytes.unwrap_or_else(|| crate::texture::jpeg(&p.image, 90)))
            });
            json!({
                "file": v.file,
                "room": plan.rooms[v.room].name,
                "position": [round(v.camera.x), round(v.camera.y), round(v.camera.z)],
                "image": image,
                "links": links(plan, i),
            })
        })
        .collect();
    let hotspots: Vec<Value> = anchors
        .iter()
        .map(|a| {
            let p = Point3::new(a.position[0], a.position[1], a.position[2]);
            let views: Vec<Value> = plan
                .views
                .iter()
                .map(|v| {
                    let (lon, lat) = v.angles_of(&p);
                    json!({"lon": round(lon), "lat": round(lat)})
                })
                .collect();
            json!({
                "name": a.name, "display": a.display, "kind": a.kind, "target": a.target,
                "position": a.position, "room": a.room, "views": views,
            })
        })
        .collect();
    let (mut lo, mut hi) = ([f64::MAX; 3], [f64::MIN; 3]);
    let surfaces: Vec<Value> = mesh
        .surfaces
        .iter()
        .map(|s| {
            let c = &mesh.canvases[s.canvas];
            let mut positions = Vec::with_capacity(s.positions.len() * 3);
            let mut uvs = Vec::with_capacity(s.positions.len() * 2);
            for p in &s.positions {
                for k in 0..3 {
                    lo[k] = lo[k].min(p[k]);
                    hi[k] = hi[k].max(p[k]);
                }
                positions.extend([round(p.x), round(p.y), round(p.z)]);
                let [u, v] = c.st(p);
                uvs.extend([round(u), round(v)]);
            }
            let indices: Vec<u32> = s.indices.iter().flatten().copied().collect();
            json!({"texture": s.canvas, "positions": positions, "uvs": uvs, "indices": indices})
        })
        .collect();
    if lo[0] > hi[0] {
        (lo, hi) = ([0.0; 3], [1.0; 3]);
    }
    json!({
        "title": title,
        "panoramas": panoramas,
        "hotspots": hotspots,
        "mesh": {
            "surfaces": surfaces,
            "textures": jpegs.iter().map(|j| data_uri(j)).collect::<Vec<_>>(),
            "min": lo, "max": hi,
        },
    })
}

/// The tour folder's files: (relative path, bytes).
pub fn tour(
    title: &str,
    plan: &FloorPlan,
    mesh: &Mesh,
    jpegs: &[Vec<u8>],
    panos: &[(PathBuf, PanoImage)],
    anchors: &[Anchor],
) -> Vec<(String, Vec<u8>)> {
    let data = data(title, plan, mesh, jpegs, panos, anchors);
    let data_js = format!("window.MJ_TOUR = {};\n", data);
    let html = format!(
        r#"<!doctype html>
<html lang="zh">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
  html, body {{ margin: 0; height: 100%; overflow: hidden; font-family: sans-serif; background: #eef0f2; }}
  #gl {{ position: absolute; inset: 0; width: 100%; height: 100%; display: block; cursor: grab; }}
  #bar {{ position: absolute; top: 10px; left: 10px; display: flex; gap: 6px; align-items: center; z-index: 2; }}
  #bar button {{ border: 0; border-radius: 14px; padding: 6px 12px; background: rgba(255,255,255,.85); cursor: pointer; }}
  #bar button.on {{ background: #1f6feb; color: #fff; }}
  #where {{ padding: 6px 10px; border-radius: 14px; background: rgba(0,0,0,.55); color: #fff; }}
  #spots {{ position: absolute; inset: 0; pointer-events: none; }}
  .hotspot {{ position: absolute; pointer-events: auto; cursor: pointer; transform: translate(-9px, -9px); white-space: nowrap; }}
  .hotspot .dot {{ display: inline-block; width: 18px; height: 18px; border-radius: 50%; background: #ff00ff; vertical-align: middle; }}
  .hotspot.panorama .dot {{ background: #1f6feb; border: 2px solid #fff; width: 14px; height: 14px; }}
  .hotspot .label {{ margin-left: 4px; padding: 2px 6px; border-radius: 8px; background: rgba(0,0,0,.6); color: #fff; font-size: 13px; vertical-align: middle; }}
  #card {{ position: absolute; right: 14px; bottom: 14px; min-width: 200px; padding: 12px 14px; border-radius: 10px; background: #fff; box-shadow: 0 4px 16px rgba(0,0,0,.2); z-index: 3; }}
  #card .kind {{ color: #777; font-size: 12px; text-transform: uppercase; }}
  #card .close {{ float: right; border: 0; background: none; cursor: pointer; font-size: 16px; }}
  #message {{ position: absolute; top: 50%; width: 100%; text-align: center; color: #555; }}
</style>
</head>
<body data-state="loading">
<canvas id="gl"></canvas>
<div id="spots"></div>
<div id="bar"><button id="mode-pano">全景 Panorama</button><button id="mode-3d">3D</button><span id="where"></span></div>
<div id="card" hidden><button class="close" aria-label="close">×</button><div class="kind"></div><div class="title"></div><div class="target"></div></div>
<div id="message"></div>
<script src="data.js"></script>
<script src="viewer.js"></script>
</body>
</html>
"#,
        title = escape(title)
    );
    vec![
        ("index.html".to_string(), html.into_bytes()),
        ("viewer.js".to_string(), VIEWER.as_bytes().to_vec()),
        ("data.js".to_string(), data_js.into_bytes()),
    ]
}
