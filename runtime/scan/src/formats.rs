//! Annotation formats of public layout datasets, read into [`PanoAnnotation`]s.
//!
//! **PanoAnnotator / MatterportLayout** (`*_label.json`): `layoutPoints.points[].xyz` are
//! the wall corners on the horizon plane, metres, camera at the origin, +Y up and the
//! panorama's centre looking along **−Z** (`lon = atan2(x, −z)`); wall `i` joins points
//! `i` and `i + 1`. The floor is at `−cameraHeight`, the ceiling `layoutHeight` above the
//! floor. `xyz[1]` and `coords` are ignored, as HorizonNet does. `layoutObj2ds.obj2ds[]`
//! are doors and windows: two 3D corners on wall `wallIdx`; `obj_type` when present
//! says which, otherwise one reaching the floor is a door. mj's frame looks along +Z, so
//! z changes sign.
//!
//! **ZInD** (`zind_data.json`): `merger → floor → complete_room → partial_room → pano`.
//! A pano's `layout_raw.vertices` are in its own frame in camera heights, the centre
//! column looking along +y and azimuth `atan2(−x, y)`; so mj's `(x, z)` is ZInD's
//! `(−x, y)`. `doors` / `windows` / `openings` are triplets `[left], [right],
//! [bottom z, top z]` with z relative to the camera. `floor_plan_transformation` maps a
//! pano's frame to the floor's as `scale · R(rotation°) · p + translation`;
//! `scale_meters_per_coordinate[floor]` turns floor units into metres (when it is null,
//! the scan's camera height fixes it). Each partial room is a room of the plan, named
//! `<label>_<n>`; its primary panorama's layout is the room's.

use nalgebra::{Point2, Vector2};
use serde_json::Value;

use crate::ScanError;
use crate::annotations::{LayoutInput, OpeningInput, PanoAnnotation, Unit};
use crate::geometry::Convention;
use crate::plan::{OpeningKind, Similarity};

fn num(v: &Value) -> Option<f64> {
    v.as_f64().filter(|x| x.is_finite())
}

fn pair(v: &Value) -> Option<(f64, f64)> {
    let a = v.as_array()?;
    (a.len() >= 2).then_some(())?;
    Some((num(&a[0])?, num(&a[1])?))
}

fn parse(file: &str, text: &str) -> Result<Value, ScanError> {
    serde_json::from_str(text)
        .map_err(|e| ScanError::new(file, Some(e.line()), format!("not JSON: {e}")))
}

/// Reads a PanoAnnotator / MatterportLayout label file; `panorama` names the image it
/// annotates (the label file's name without `_label.json`, as the dataset pairs them).
pub fn pano_annotator(file: &str, text: &str, panorama: &str) -> Result<PanoAnnotation, ScanError> {
    let v = parse(file, text)?;
    let bad = |what: &str| ScanError::new(file, None, format!("PanoAnnotator label: {what}"));
    let camera =
        num(&v["cameraHeight"]).ok_or_else(|| bad("`cameraHeight` is missing or not a number"))?;
    let layout =
        num(&v["layoutHeight"]).ok_or_else(|| bad("`layoutHeight` is missing or not a number"))?;
    let points = v["layoutPoints"]["points"]
        .as_array()
        .ok_or_else(|| bad("`layoutPoints.points` is missing"))?;
    let mut polygon = Vec::new();
    for (i, p) in points.iter().enumerate() {
        let xyz = p["xyz"].as_array().filter(|a| a.len() == 3);
        let (Some(x), Some(z)) = (xyz.and_then(|a| num(&a[0])), xyz.and_then(|a| num(&a[2])))
        else {
            return Err(bad(&format!("point {i} has no finite `xyz`")));
        };
        polygon.push(Point2::new(x, -z));
    }
    if polygon.len() < 3 {
        return Err(bad(&format!(
            "a room needs at least 3 points, not {}",
            polygon.len()
        )));
    }
    let mut openings = Vec::new();
    for (i, o) in v["layoutObj2ds"]["obj2ds"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let pts: Vec<[f64; 3]> = o["points"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| {
                let a = p.as_array()?;
                Some([num(a.first()?)?, num(a.get(1)?)?, num(a.get(2)?)?])
            })
            .collect();
        if pts.len() != 2 {
            return Err(bad(&format!("object {i} needs two finite corner points")));
        }
        let bottom = pts[0][1].min(pts[1][1]) + camera;
        let top = pts[0][1].max(pts[1][1]) + camera;
        let kind = match o["obj_type"].as_str() {
            Some("window") => OpeningKind::Window,
            Some("door") => OpeningKind::Door,
            Some("opening") => OpeningKind::Opening,
            _ if bottom < 0.05 => OpeningKind::Door,
            _ => OpeningKind::Window,
        };
        openings.push(OpeningInput::Floor {
            kind,
            id: None,
            ends: (
                Point2::new(pts[0][0], -pts[0][2]),
                Point2::new(pts[1][0], -pts[1][2]),
            ),
            bottom,
            top,
        });
    }
    Ok(PanoAnnotation {
        panorama: panorama.to_string(),
        room: panorama.to_string(),
        convention: Convention::HorizonNet,
        layout: LayoutInput::Floor {
            polygon,
            ceiling: layout,
            unit: Unit::Metres,
        },
        openings,
        transform: None,
        camera_height: Some(camera),
    })
}

/// Reads a ZInD `zind_data.json`: every pano of every floor, placed by its
/// `floor_plan_transformation`. `camera_height` (metres) is used where the floor's
/// scale is unknown.
pub fn zind(file: &str, text: &str, camera_height: f64) -> Result<Vec<PanoAnnotation>, ScanError> {
    let v = parse(file, text)?;
    let bad = |what: String| ScanError::new(file, None, format!("ZInD: {what}"));
    let merger = v["merger"]
        .as_object()
        .ok_or_else(|| bad("`merger` is missing".into()))?;
    let mut out = Vec::new();
    let mut floors: Vec<_> = merger.iter().collect();
    floors.sort_by(|a, b| a.0.cmp(b.0));
    for (floor, rooms) in floors {
        let metres_per_unit = num(&v["scale_meters_per_coordinate"][floor]);
        let mut panos = Vec::new();
        for (_, complete) in rooms.as_object().into_iter().flatten() {
            for (partial, ps) in complete.as_object().into_iter().flatten() {
                for (name, p) in ps.as_object().into_iter().flatten() {
                    panos.push((partial.clone(), name.clone(), p));
                }
            }
        }
        // Rooms in order; a room's primary panorama first.
        panos.sort_by_key(|(partial, name, p)| {
            (
                partial.clone(),
                !p["is_primary"].as_bool().unwrap_or(false),
                name.clone(),
            )
        });
        let mut m = metres_per_unit;
        for (partial, name, p) in panos {
            let at = |what: &str| bad(format!("{floor}/{partial}/{name}: {what}"));
            let image = p["image_path"]
                .as_str()
                .ok_or_else(|| at("`image_path` is missing"))?;
            let t = &p["floor_plan_transformation"];
            let scale = num(&t["scale"])
                .filter(|s| *s > 0.0)
                .ok_or_else(|| at("the transformation's `scale` is missing"))?;
            let rotation = num(&t["rotation"])
                .ok_or_else(|| at("the transformation's `rotation` is missing"))?;
            let (tx, ty) = pair(&t["translation"])
                .ok_or_else(|| at("the transformation's `translation` is missing"))?;
            // Metres per floor unit: given, or what makes this pano's camera `camera_height`.
            let m = *m.get_or_insert(camera_height / scale);
            let layout = p
                .get("layout_raw")
                .or_else(|| p.get("layout_complete"))
                .ok_or_else(|| at("no `layout_raw`"))?;
            let mut polygon = Vec::new();
            for (i, q) in layout["vertices"]
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
            {
                let (x, y) =
                    pair(q).ok_or_else(|| at(&format!("vertex {i} is not a finite pair")))?;
                polygon.push(Point2::new(-x, y));
            }
            if polygon.len() < 3 {
                return Err(at(&format!(
                    "a room needs at least 3 vertices, not {}",
                    polygon.len()
                )));
            }
            let ceiling =
                num(&p["ceiling_height"]).ok_or_else(|| at("`ceiling_height` is missing"))?;
            let mut openings = Vec::new();
            for (key, kind) in [
                ("doors", OpeningKind::Door),
                ("windows", OpeningKind::Window),
                ("openings", OpeningKind::Opening),
            ] {
                let list = layout[key]
                    .as_array()
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                if list.len() % 3 != 0 {
                    return Err(at(&format!(
                        "`{key}` holds {} points, not triplets",
                        list.len()
                    )));
                }
                for (i, c) in list.chunks(3).enumerate() {
                    let (Some(l), Some(r), Some((zb, zt))) =
                        (pair(&c[0]), pair(&c[1]), pair(&c[2]))
                    else {
                        return Err(at(&format!("{key} {i} is not three finite pairs")));
                    };
                    openings.push(OpeningInput::Floor {
                        kind,
                        id: None,
                        ends: (Point2::new(-l.0, l.1), Point2::new(-r.0, r.1)),
                        bottom: zb + 1.0,
                        top: zt + 1.0,
                    });
                }
            }
            let label = p["label"].as_str().unwrap_or("room");
            let number = partial.trim_start_matches("partial_room_");
            out.push(PanoAnnotation {
                panorama: image.to_string(),
                room: format!("{label}_{number}"),
                convention: Convention::Zind,
                layout: LayoutInput::Floor {
                    polygon,
                    ceiling,
                    unit: Unit::CameraHeights,
                },
                openings,
                // Local metres → floor metres: R(−θ) (the x flip turns the rotation),
                // scale 1 (the camera height carries it), translation in metres.
                transform: Some(Similarity {
                    rotation: -rotation.to_radians(),
                    scale: 1.0,
                    translation: Vector2::new(-tx * m, ty * m),
                }),
                camera_height: Some(scale * m),
            });
        }
    }
    if out.is_empty() {
        return Err(bad("no panos under `merger`".into()));
    }
    Ok(out)
}
