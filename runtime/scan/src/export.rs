//! Model files: glTF 2.0 binary, OBJ + MTL, and the JSON summary.
//!
//! glTF: metres, +Y up (mj's own frame, see the crate's documentation). One node per
//! room holds a mesh with one primitive per surface (floor, ceiling, each wall, each
//! wall's openings), each with positions, normals, texture coordinates and `u32`
//! indices; one material per canvas with its texture embedded as JPEG. Hotspots and
//! panorama positions are empty nodes whose `extras` say what they are.

use nalgebra::Point3;
use serde_json::{Value, json};

use crate::layout::{area, perimeter};
use crate::mesh::{CanvasKind, Mesh};
use crate::plan::{FloorPlan, OpeningKind};

/// A hotspot placed in the plan.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Anchor {
    pub name: String,
    pub display: Option<String>,
    pub kind: String,
    pub target: String,
    /// Metres, in the plan's frame.
    pub position: [f64; 3],
    /// The room it is in, if any.
    pub room: Option<String>,
}

fn canvas_name(plan: &FloorPlan, mesh: &Mesh, canvas: usize) -> String {
    let c = &mesh.canvases[canvas];
    let room = &plan.rooms[c.room].name;
    match c.kind {
        CanvasKind::Floor => format!("{room}_floor"),
        CanvasKind::Ceiling => format!("{room}_ceiling"),
        CanvasKind::Wall(i) => format!("{room}_wall_{i}"),
    }
}

struct Bin {
    bytes: Vec<u8>,
    views: Vec<Value>,
    accessors: Vec<Value>,
}

impl Bin {
    fn view(&mut self, data: &[u8], target: Option<u32>) -> usize {
        while !self.bytes.len().is_multiple_of(4) {
            self.bytes.push(0);
        }
        let mut v = json!({"buffer": 0, "byteOffset": self.bytes.len(), "byteLength": data.len()});
        if let Some(t) = target {
            v["target"] = json!(t);
        }
        self.bytes.extend_from_slice(data);
        self.views.push(v);
        self.views.len() - 1
    }

    fn floats(&mut self, data: &[[f32; 3]], minmax: bool) -> usize {
        let bytes: Vec<u8> = data
            .iter()
            .flatten()
            .flat_map(|f| f.to_le_bytes())
            .collect();
        let view = self.view(&bytes, Some(34962));
        let mut a =
            json!({"bufferView": view, "componentType": 5126, "count": data.len(), "type": "VEC3"});
        if minmax {
            let min: Vec<f32> = (0..3)
                .map(|k| data.iter().map(|p| p[k]).fold(f32::MAX, f32::min))
                .collect();
            let max: Vec<f32> = (0..3)
                .map(|k| data.iter().map(|p| p[k]).fold(f32::MIN, f32::max))
                .collect();
            a["min"] = json!(min);
            a["max"] = json!(max);
        }
        self.accessors.push(a);
        self.accessors.len() - 1
    }

    fn uvs(&mut self, data: &[[f32; 2]]) -> usize {
        let bytes: Vec<u8> = data
            .iter()
            .flatten()
            .flat_map(|f| f.to_le_bytes())
            .collect();
        let view = self.view(&bytes, Some(34962));
        self.accessors.push(
            json!({"bufferView": view, "componentType": 5126, "count": data.len(), "type": "VEC2"}),
        );
        self.accessors.len() - 1
    }

    fn indices(&mut self, data: &[[u32; 3]]) -> usize {
        let bytes: Vec<u8> = data
            .iter()
            .flatten()
            .flat_map(|i| i.to_le_bytes())
            .collect();
        let view = self.view(&bytes, Some(34963));
        self.accessors.push(
            json!({"bufferView": view, "componentType": 5125, "count": data.len() * 3, "type": "SCALAR"}),
        );
        self.accessors.len() - 1
    }
}

/// The scan as a `.glb`. `textures[i]` is the JPEG of canvas `i`.
pub fn glb(
    name: &str,
    plan: &FloorPlan,
    mesh: &Mesh,
    textures: &[Vec<u8>],
    anchors: &[Anchor],
) -> Vec<u8> {
    let mut bin = Bin {
        bytes: Vec::new(),
        views: Vec::new(),
        accessors: Vec::new(),
    };
    let mut images = Vec::new();
    let mut materials = Vec::new();
    for (i, jpeg) in textures.iter().enumerate() {
        let view = bin.view(jpeg, None);
        images.push(json!({"bufferView": view, "mimeType": "image/jpeg"}));
        materials.push(json!({
            "name": canvas_name(plan, mesh, i),
            "pbrMetallicRoughness": {
                "baseColorTexture": {"index": i},
                "metallicFactor": 0.0,
                "roughnessFactor": 1.0
            }
        }));
    }
    let textures_json: Vec<Value> = (0..textures.len())
        .map(|i| json!({"sampler": 0, "source": i}))
        .collect();
    let mut meshes = Vec::new();
    let mut nodes = vec![json!({"name": name, "children": []})];
    for (r, room) in plan.rooms.iter().enumerate() {
        let mut primitives = Vec::new();
        for s in mesh
            .surfaces
            .iter()
            .filter(|s| mesh.canvases[s.canvas].room == r)
        {
            let c = &mesh.canvases[s.canvas];
            let positions: Vec<[f32; 3]> = s
                .positions
                .iter()
                .map(|p| [p.x as f32, p.y as f32, p.z as f32])
                .collect();
            let n = [c.normal.x as f32, c.normal.y as f32, c.normal.z as f32];
            let normals = vec![n; positions.len()];
            let uvs: Vec<[f32; 2]> = s
                .positions
                .iter()
                .map(|p| c.st(p).map(|x| x as f32))
                .collect();
            let pos = bin.floats(&positions, true);
            let nor = bin.floats(&normals, false);
            let uv = bin.uvs(&uvs);
            let idx = bin.indices(&s.indices);
            let mut p = json!({
                "attributes": {"POSITION": pos, "NORMAL": nor, "TEXCOORD_0": uv},
                "indices": idx,
                "mode": 4,
            });
            if s.canvas < textures.len() {
                p["material"] = json!(s.canvas);
            }
            primitives.push(p);
        }
        meshes.push(json!({"name": room.name, "primitives": primitives}));
        nodes.push(json!({
            "name": room.name,
            "mesh": meshes.len() - 1,
            "extras": {"area_m2": round(area(&room.floor), 2), "ceiling_height_m": round(room.height, 3)}
        }));
    }
    for a in anchors {
        nodes.push(json!({
            "name": format!("hotspot:{}", a.name),
            "translation": a.position.map(|x| x as f32),
            "extras": {"hotspot": a.kind, "target": a.target, "display": a.display},
        }));
    }
    for v in &plan.views {
        nodes.push(json!({
            "name": format!("panorama:{}", v.file),
            "translation": [v.camera.x as f32, v.camera.y as f32, v.camera.z as f32],
            "rotation": yaw_quaternion(v.yaw),
            "extras": {"panorama": v.file},
        }));
    }
    let children: Vec<usize> = (1..nodes.len()).collect();
    nodes[0]["children"] = json!(children);
    while !bin.bytes.len().is_multiple_of(4) {
        bin.bytes.push(0);
    }
    let mut doc = json!({
        "asset": {"version": "2.0", "generator": "mj scan"},
        "scene": 0,
        "scenes": [{"name": name, "nodes": [0]}],
        "nodes": nodes,
        "meshes": meshes,
        "accessors": bin.accessors,
        "bufferViews": bin.views,
        "buffers": [{"byteLength": bin.bytes.len()}],
    });
    if !materials.is_empty() {
        doc["materials"] = json!(materials);
        doc["textures"] = json!(textures_json);
        doc["images"] = json!(images);
        doc["samplers"] =
            json!([{"magFilter": 9729, "minFilter": 9987, "wrapS": 33071, "wrapT": 33071}]);
    }
    let mut text = doc.to_string().into_bytes();
    while !text.len().is_multiple_of(4) {
        text.push(b' ');
    }
    let total = 12 + 8 + text.len() + 8 + bin.bytes.len();
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(b"glTF");
    out.extend_from_slice(&2u32.to_le_bytes());
    out.extend_from_slice(&(total as u32).to_le_bytes());
    out.extend_from_slice(&(text.len() as u32).to_le_bytes());
    out.extend_from_slice(b"JSON");
    out.extend_from_slice(&text);
    out.extend_from_slice(&(bin.bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(b"BIN\0");
    out.extend_from_slice(&bin.bytes);
    out
}

/// The rotation about +Y of a panorama's frame, as a glTF quaternion (x, y, z, w).
/// mj's yaw turns (x, z) counter-clockwise in the (x, z) plane, which is a rotation by
/// −yaw about +Y.
fn yaw_quaternion(yaw: f64) -> [f32; 4] {
    let half = -yaw / 2.0;
    [0.0, half.sin() as f32, 0.0, half.cos() as f32]
}

fn round(x: f64, digits: i32) -> f64 {
    let k = 10f64.powi(digits);
    (x * k).round() / k
}

/// The scan as OBJ + MTL; `texture_file(i)` names canvas `i`'s texture, relative to the
/// MTL file.
pub fn obj(
    mtl_name: &str,
    plan: &FloorPlan,
    mesh: &Mesh,
    texture_file: &dyn Fn(usize) -> Option<String>,
) -> (String, String) {
    use std::fmt::Write;
    let mut o = String::new();
    let mut m = String::new();
    let _ = writeln!(o, "# mj scan: metres, +Y up\nmtllib {mtl_name}");
    let mut base = 1usize;
    for (r, room) in plan.rooms.iter().enumerate() {
        let _ = writeln!(o, "o {}", room.name);
        for s in mesh
            .surfaces
            .iter()
            .filter(|s| mesh.canvases[s.canvas].room == r)
        {
            let c = &mesh.canvases[s.canvas];
            let _ = writeln!(o, "usemtl {}", canvas_name(plan, mesh, s.canvas));
            for p in &s.positions {
                let [u, v] = c.st(p);
                let _ = writeln!(
                    o,
                    "v {:.5} {:.5} {:.5}\nvt {:.5} {:.5}\nvn {:.4} {:.4} {:.4}",
                    p.x,
                    p.y,
                    p.z,
                    u,
                    1.0 - v,
                    c.normal.x,
                    c.normal.y,
                    c.normal.z
                );
            }
            for t in &s.indices {
                let [a, b, c] = t.map(|i| i as usize + base);
                let _ = writeln!(o, "f {a}/{a}/{a} {b}/{b}/{b} {c}/{c}/{c}");
            }
            base += s.positions.len();
        }
    }
    for i in 0..mesh.canvases.len() {
        // Without a texture (a scan of point clouds only), a plain light grey.
        let _ = match texture_file(i) {
            Some(file) => writeln!(
                m,
                "newmtl {}\nKa 1 1 1\nKd 1 1 1\nKs 0 0 0\nillum 1\nmap_Kd {file}\n",
                canvas_name(plan, mesh, i)
            ),
            None => writeln!(
                m,
                "newmtl {}\nKa 1 1 1\nKd 0.8 0.8 0.8\nKs 0 0 0\nillum 1\n",
                canvas_name(plan, mesh, i)
            ),
        };
    }
    (o, m)
}

/// The scan's JSON summary: rooms (area, perimeter, ceiling height, floor polygon,
/// doors and windows), panoramas, hotspots and totals.
pub fn summary(
    name: &str,
    display: Option<&str>,
    plan: &FloorPlan,
    anchors: &[Anchor],
    extra: Value,
) -> Value {
    let rooms: Vec<Value> = plan
        .rooms
        .iter()
        .map(|r| {
            let openings = |kind: OpeningKind| -> Vec<Value> {
                r.openings
                    .iter()
                    .filter(|o| o.kind == kind)
                    .map(|o| {
                        let (a, b) = r.opening_ends(o);
                        json!({
                            "id": o.id,
                            "wall": o.wall,
                            "width_m": round(o.end - o.start, 3),
                            "bottom_m": round(o.bottom, 3),
                            "top_m": round(o.top, 3),
                            "from": [round(a.x, 3), round(a.y, 3)],
                            "to": [round(b.x, 3), round(b.y, 3)],
                        })
                    })
                    .collect()
            };
            json!({
                "name": r.name,
                "area_m2": round(area(&r.floor), 2),
                "perimeter_m": round(perimeter(&r.floor), 2),
                "ceiling_height_m": round(r.height, 3),
                "volume_m3": round(area(&r.floor) * r.height, 2),
                "floor": r.floor.iter().map(|p| [round(p.x, 3), round(p.y, 3)]).collect::<Vec<_>>(),
                "doors": openings(OpeningKind::Door),
                "windows": openings(OpeningKind::Window),
                "openings": openings(OpeningKind::Opening),
                "panoramas": r.views.iter().map(|&v| plan.views[v].file.clone()).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "scan": name,
        "display": display,
        "units": "metres, +Y up",
        "total_area_m2": round(plan.rooms.iter().map(|r| area(&r.floor)).sum::<f64>(), 2),
        "rooms": rooms,
        "panoramas": plan.views.iter().map(|v| json!({
            "file": v.file,
            "room": plan.rooms[v.room].name,
            "position": [round(v.camera.x, 3), round(v.camera.y, 3), round(v.camera.z, 3)],
            "yaw_deg": round(v.yaw.to_degrees(), 2),
        })).collect::<Vec<_>>(),
        "hotspots": anchors,
        "run": extra,
    })
}

/// The point a hotspot `in room R` stands at: the room's centre (the centroid, or the
/// centre of its largest triangle when the centroid falls outside), 1.5 m up.
pub fn room_anchor(plan: &FloorPlan, room: usize) -> Point3<f64> {
    let c = crate::svg::label_point(&plan.rooms[room].floor);
    Point3::new(c.x, 1.5_f64.min(plan.rooms[room].height * 0.8), c.y)
}
