//! Annotation formats of public layout datasets, read into [`PanoAnnotation`]s.
//!
//! **PanoAnnotator / MatterportLayout** (`*_label.json`): `layoutPoints.points[].xyz` are
//! the wall corners on the horizon plane, metres, camera at the origin, +Y up and the
//! panorama's centre looking along **−Z** (`lon = atan2(x, −z)`); wall `i` joins points
//! `i` and `i + 1`. The floor is at `−cameraHeight`, the ceiling `layoutHeight` above the
//! floor. `xyz[1]` and `coords` are ignored, as HorizonNet does. `layoutObj2ds.obj2ds[]`
//! are doors and windows: two 3D corners, placed on the nearest wall (`wallIdx` is not
//! read); `obj_type` when present
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

#[cfg(test)]
mod tests {
    //! The readers against files written as the tools write them: the showroom's four
    //! rooms (a rectangle, a room with a 135° corner, another rectangle and an L) seen
    //! from their panoramas, each corner's azimuth and distance taken from the view,
    //! then put into each tool's own frame with that tool's formulas (quoted below), not
    //! with the reader's.
    use nalgebra::Point3;
    use serde_json::json;

    use super::*;
    use crate::layout::{area, iou_2d};
    use crate::plan::{FloorPlan, Opening};
    use crate::reconstruct::{LocalRoom, local_room};
    use crate::synth;

    /// (mj longitude, horizontal distance in metres) at which view `v` sees the point
    /// `y` metres above the plan's floor point `p`.
    fn seen(plan: &FloorPlan, v: usize, p: Point2<f64>, y: f64) -> (f64, f64) {
        let view = &plan.views[v];
        let (lon, lat) = view.angles_of(&Point3::new(p.x, y, p.y));
        (lon, (y - view.camera.y) / lat.tan())
    }

    /// A room placed by its view's true pose (the camera's place and yaw).
    fn placed(plan: &FloorPlan, v: usize, room: &LocalRoom) -> Vec<Point2<f64>> {
        let view = &plan.views[v];
        let pose = Similarity {
            rotation: view.yaw,
            scale: 1.0,
            translation: Vector2::new(view.camera.x, view.camera.z),
        };
        room.floor.iter().map(|&p| pose.apply(p)).collect()
    }

    /// A rebuilt floor against the truth: corner by corner, and by IoU. `iou_2d` of two
    /// polygons whose edges coincide up to rounding is NaN (its Sutherland–Hodgman clip
    /// cuts parallel edges), so the IoU is taken against the truth moved by 0.1 mm.
    fn assert_floor(name: &str, got: &[Point2<f64>], want: &[Point2<f64>]) {
        assert_eq!(got.len(), want.len(), "{name}: {got:?}");
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).norm() < 1e-9, "{name}: {got:?} vs {want:?}");
        }
        let moved: Vec<Point2<f64>> = want.iter().map(|p| p + Vector2::new(1e-4, 1e-4)).collect();
        let iou = iou_2d(got, &moved);
        assert!(iou > 0.999, "{name}: IoU {iou}");
    }

    /// The truth's openings of a room, in order, against what a reader placed.
    fn assert_openings(name: &str, got: &[Opening], want: &[Opening], kinds: &[OpeningKind]) {
        assert_eq!(got.len(), want.len(), "{name}: {got:?}");
        for ((g, w), kind) in got.iter().zip(want).zip(kinds) {
            assert_eq!((g.kind, g.wall), (*kind, w.wall), "{name}: {g:?} vs {w:?}");
            for (a, b) in [
                (g.start, w.start),
                (g.end, w.end),
                (g.bottom, w.bottom),
                (g.top, w.top),
            ] {
                assert!((a - b).abs() < 1e-6, "{name}: {g:?} vs {w:?}");
            }
        }
    }

    // ------------------------------------------------------------------------- ZInD

    /// Metres per floor coordinate in the ZInD file (not 1, so a unit slip shows).
    const ZIND_M: f64 = 0.8;

    /// ZInD's `Transformation2D.to_global` (zillow/zind `code/transformations.py`):
    /// `coordinates.dot([[cos, sin], [−sin, cos]]) * scale + translation`, row vectors.
    fn zind_to_global(rotation_deg: f64, scale: f64, t: [f64; 2], p: [f64; 2]) -> [f64; 2] {
        let (s, c) = rotation_deg.to_radians().sin_cos();
        [
            (p[0] * c - p[1] * s) * scale + t[0],
            (p[0] * s + p[1] * c) * scale + t[1],
        ]
    }

    /// A ZInD `zind_data.json` of the showroom, one floor, each room a complete room of
    /// one partial room with one primary pano; the hall has a secondary pano too, listed
    /// first. ZInD's local frame: camera heights, azimuth `θ = atan2(−x, y)`
    /// (`cartesian_to_sphere`), so a point at azimuth θ and distance ρ is
    /// `(−ρ sin θ, ρ cos θ)`; wall objects are `[left], [right], [bottom z, top z]`, z
    /// from the camera. The floor frame is the plan's seen from below (x negated), in
    /// units of `ZIND_M` metres.
    fn zind_showroom(plan: &FloorPlan, scale_known: bool) -> serde_json::Value {
        let mut floor = serde_json::Map::new();
        for (v, view) in plan.views.iter().enumerate() {
            let room = &plan.rooms[view.room];
            let h = view.camera.y;
            let local = |p: Point2<f64>| {
                let (theta, rho) = seen(plan, v, p, 0.0);
                [-rho * theta.sin() / h, rho * theta.cos() / h]
            };
            let rotation = -view.yaw.to_degrees();
            let scale = h / ZIND_M;
            let translation = [-view.camera.x / ZIND_M, view.camera.z / ZIND_M];
            let vertices: Vec<[f64; 2]> = room.floor.iter().map(|&c| local(c)).collect();
            // The fixture is a valid ZInD file: ZInD's own transform takes each local
            // vertex to the floor frame.
            for (&c, &q) in room.floor.iter().zip(&vertices) {
                let g = zind_to_global(rotation, scale, translation, q);
                let want = [-c.x / ZIND_M, c.y / ZIND_M];
                assert!(
                    (g[0] - want[0]).abs() < 1e-9 && (g[1] - want[1]).abs() < 1e-9,
                    "fixture: {g:?} vs {want:?}"
                );
            }
            let objects = |kind: OpeningKind| -> Vec<[f64; 2]> {
                room.openings
                    .iter()
                    .filter(|o| o.kind == kind)
                    .flat_map(|o| {
                        let (a, b) = room.opening_ends(o);
                        [local(a), local(b), [(o.bottom - h) / h, (o.top - h) / h]]
                    })
                    .collect()
            };
            let layout = json!({
                "vertices": vertices,
                "doors": objects(OpeningKind::Door),
                "windows": objects(OpeningKind::Window),
                "openings": objects(OpeningKind::Opening),
            });
            let mut complete = layout.clone();
            complete["internal"] = json!([]);
            let n = v + 1;
            let pano = |id: usize, primary: bool| {
                json!({
                    "camera_height": 1.0,
                    "ceiling_height": room.height / h,
                    "floor_number": 1,
                    "floor_plan_transformation": {
                        "rotation": rotation,
                        "scale": scale,
                        "translation": translation,
                    },
                    "image_path": format!("panos/floor_01_partial_room_{n:02}_pano_{id}.jpg"),
                    "is_ceiling_flat": true,
                    "is_inside": true,
                    "is_primary": primary,
                    "label": room.name,
                    "layout_complete": complete,
                    "layout_raw": layout,
                    "layout_visible": layout,
                })
            };
            let mut panos = serde_json::Map::new();
            if v == 0 {
                panos.insert("pano_0".into(), pano(0, false));
            }
            panos.insert(format!("pano_{}", 10 + v), pano(10 + v, true));
            floor.insert(
                format!("complete_room_{n:02}"),
                json!({ format!("partial_room_{n:02}"): panos }),
            );
        }
        json!({
            "floorplan_to_redraw_transformation": {},
            "merger": {"floor_01": floor},
            "redraw": {},
            "scale_meters_per_coordinate": {
                "floor_01": if scale_known { json!(ZIND_M) } else { json!(null) },
            },
        })
    }

    #[test]
    fn zind_rebuilds_the_showroom_rooms_heights_openings_and_placement() {
        let plan = synth::showroom();
        let text = serde_json::to_string_pretty(&zind_showroom(&plan, true)).expect("json");
        // The scan's camera height (1.4 m) is not used: the floor's scale is known.
        let anns = zind("zind_data.json", &text, 1.4).expect("ZInD");
        assert_eq!(anns.len(), 5);
        // Rooms in order, a room's primary pano first.
        let names: Vec<(&str, &str)> = anns
            .iter()
            .map(|a| (a.room.as_str(), a.panorama.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("hall_01", "panos/floor_01_partial_room_01_pano_10.jpg"),
                ("hall_01", "panos/floor_01_partial_room_01_pano_0.jpg"),
                ("living_02", "panos/floor_01_partial_room_02_pano_11.jpg"),
                ("bedroom_03", "panos/floor_01_partial_room_03_pano_12.jpg"),
                ("kitchen_04", "panos/floor_01_partial_room_04_pano_13.jpg"),
            ]
        );
        let primaries = [0, 2, 3, 4];
        for (v, &i) in primaries.iter().enumerate() {
            let ann = &anns[i];
            let truth = &plan.rooms[plan.views[v].room];
            assert_eq!(ann.convention, Convention::Zind);
            let h = ann.camera_height.expect("camera height");
            assert!((h - 1.6).abs() < 1e-9, "{}: camera {h}", truth.name);
            let room = local_room("zind_data.json", ann, None, 1.4, None).expect("room");
            assert!(
                (room.height - truth.height).abs() < 1e-9,
                "{}: height {}",
                truth.name,
                room.height
            );
            // In the panorama's frame, placed by the view's true pose…
            assert_floor(&truth.name, &placed(&plan, v, &room), &truth.floor);
            // …and placed by the file's own floor_plan_transformation.
            let t = ann.transform.expect("transform");
            let by_file: Vec<Point2<f64>> = room.floor.iter().map(|&p| t.apply(p)).collect();
            assert_floor(&truth.name, &by_file, &truth.floor);
            // Doors, windows and openings land on their walls, at their heights; ZInD
            // lists them by kind (doors, then windows, then openings).
            let mut want: Vec<Opening> = Vec::new();
            for kind in [OpeningKind::Door, OpeningKind::Window, OpeningKind::Opening] {
                want.extend(truth.openings.iter().filter(|o| o.kind == kind).cloned());
            }
            let kinds: Vec<OpeningKind> = want.iter().map(|o| o.kind).collect();
            assert_openings(&truth.name, &room.openings, &want, &kinds);
        }
    }

    #[test]
    fn zind_without_a_floor_scale_takes_the_scans_camera_height() {
        let plan = synth::showroom();
        let text = serde_json::to_string_pretty(&zind_showroom(&plan, false)).expect("json");
        // With the true camera height, the same rooms in metres.
        let anns = zind("zind_data.json", &text, 1.6).expect("ZInD");
        let kitchen = local_room("zind_data.json", &anns[4], None, 1.6, None).expect("room");
        assert_floor("kitchen", &placed(&plan, 3, &kitchen), &plan.rooms[3].floor);
        let t = anns[4].transform.expect("transform");
        let by_file: Vec<Point2<f64>> = kitchen.floor.iter().map(|&p| t.apply(p)).collect();
        assert_floor("kitchen", &by_file, &plan.rooms[3].floor);
        // With 2 m, everything is 2 / 1.6 as large: areas by (2 / 1.6)², heights by 2 / 1.6.
        let anns = zind("zind_data.json", &text, 2.0).expect("ZInD");
        let k = 2.0 / 1.6;
        for (i, v) in [(0, 0), (2, 1), (3, 2), (4, 3)] {
            let truth = &plan.rooms[plan.views[v].room];
            assert!((anns[i].camera_height.expect("h") - 2.0).abs() < 1e-9);
            let room = local_room("zind_data.json", &anns[i], None, 1.6, None).expect("room");
            let ratio = area(&room.floor) / area(&truth.floor);
            assert!(
                (ratio - k * k).abs() < 1e-9,
                "{}: area ratio {ratio}",
                truth.name
            );
            assert!((room.height - truth.height * k).abs() < 1e-9);
        }
    }

    /// The ZInD fixture changed by `edit`, read; the error it gives.
    fn zind_error(edit: impl FnOnce(&mut serde_json::Value)) -> ScanError {
        let plan = synth::showroom();
        let mut v = zind_showroom(&plan, true);
        edit(&mut v);
        let text = serde_json::to_string_pretty(&v).expect("json");
        let e = zind("scans/zind_data.json", &text, 1.6).expect_err("a bad file");
        assert_eq!(e.file, "scans/zind_data.json", "{e}");
        e
    }

    #[test]
    fn bad_zind_files_name_the_file_the_pano_and_the_line() {
        let hall = "/merger/floor_01/complete_room_01/partial_room_01/pano_10";
        // Removes `key` from the object at `path`.
        let at = |v: &mut serde_json::Value, path: &str| {
            let (parent, key) = path.rsplit_once('/').expect("a path");
            let object = v.pointer_mut(parent).and_then(|p| p.as_object_mut());
            object.expect(parent).remove(key).expect(key);
        };
        // Syntax errors give the line.
        let e = zind(
            "zind_data.json",
            "{\n  \"merger\": {\n    \"floor_01\": [1,,2]\n  }\n}\n",
            1.6,
        )
        .expect_err("syntax");
        assert_eq!(
            (e.line, e.message.contains("not JSON")),
            (Some(3), true),
            "{e}"
        );
        // Python's json.dump writes a NaN ceiling as `NaN`, which is not JSON: its line.
        let plan = synth::showroom();
        let mut v = zind_showroom(&plan, true);
        *v.pointer_mut(&format!("{hall}/ceiling_height"))
            .expect("ceiling") = json!(12345.5);
        let text = serde_json::to_string_pretty(&v).expect("json");
        let line = text
            .lines()
            .position(|l| l.contains("12345.5"))
            .expect("marker")
            + 1;
        let text = text.replace("12345.5", "NaN");
        let e = zind("zind_data.json", &text, 1.6).expect_err("NaN");
        assert_eq!(e.line, Some(line), "{e}");
        // Structure: each names the pano it is about.
        let e = zind_error(|v| {
            v.as_object_mut().expect("object").remove("merger");
        });
        assert!(
            e.message.contains("`merger` is missing") && e.line.is_none(),
            "{e}"
        );
        let e = zind_error(|v| v["merger"]["floor_01"] = json!({}));
        assert!(e.message.contains("no panos"), "{e}");
        let e = zind_error(|v| {
            at(v, &format!("{hall}/image_path"));
        });
        assert_eq!(
            e.to_string(),
            "scans/zind_data.json: ZInD: floor_01/partial_room_01/pano_10: `image_path` is missing"
        );
        let e = zind_error(|v| {
            *v.pointer_mut(&format!("{hall}/ceiling_height")).expect("c") = json!("3")
        });
        assert!(e.message.contains("`ceiling_height` is missing"), "{e}");
        let e = zind_error(|v| {
            *v.pointer_mut(&format!("{hall}/floor_plan_transformation/scale"))
                .expect("s") = json!(0.0)
        });
        assert!(e.message.contains("`scale`"), "{e}");
        let e = zind_error(|v| {
            at(v, &format!("{hall}/floor_plan_transformation/translation"));
        });
        assert!(e.message.contains("`translation`"), "{e}");
        let e = zind_error(|v| {
            at(v, &format!("{hall}/layout_raw"));
            at(v, &format!("{hall}/layout_complete"));
        });
        assert!(e.message.contains("no `layout_raw`"), "{e}");
        let e = zind_error(|v| {
            *v.pointer_mut(&format!("{hall}/layout_raw/vertices/2"))
                .expect("v") = json!(["x", 1.0])
        });
        assert!(
            e.message.contains("pano_10: vertex 2 is not a finite pair"),
            "{e}"
        );
        let e = zind_error(|v| {
            let vs = v
                .pointer_mut(&format!("{hall}/layout_raw/vertices"))
                .expect("v");
            vs.as_array_mut().expect("array").truncate(2);
        });
        assert!(e.message.contains("at least 3 vertices, not 2"), "{e}");
        let e = zind_error(|v| {
            let d = v
                .pointer_mut(&format!("{hall}/layout_raw/doors"))
                .expect("d");
            d.as_array_mut().expect("array").push(json!([0.0, 0.0]));
        });
        assert!(
            e.message.contains("`doors` holds 7 points, not triplets"),
            "{e}"
        );
        let e = zind_error(|v| {
            *v.pointer_mut(&format!("{hall}/layout_raw/windows"))
                .expect("w") = json!([[0.0, 1.0], [1.0, 1.0], [0.5]])
        });
        assert!(
            e.message.contains("windows 0 is not three finite pairs"),
            "{e}"
        );
    }

    // ---------------------------------------------------------------- PanoAnnotator

    /// A PanoAnnotator label of view `v` as its `saveSceneAsJson` writes it
    /// (SunDaDenny/PanoAnnotator `utils/IOTool.py`): layout points on the camera's
    /// horizontal plane (`y = 0`), in metres, from `uv2xyz`: `x = sin u`, `z = −cos u`
    /// (its "flip Z"), `u` the azimuth; walls join consecutive points; `layoutObj2ds` are
    /// the doors and windows as their upper-left and lower-right 3D points, y from the
    /// camera. PanoAnnotator writes no object type.
    fn pano_annotator_label(plan: &FloorPlan, v: usize) -> serde_json::Value {
        let view = &plan.views[v];
        let room = &plan.rooms[view.room];
        let h = view.camera.y;
        let xyz = |p: Point2<f64>, y: f64| {
            let (u, d) = seen(plan, v, p, 0.0);
            [d * u.sin(), y - h, -d * u.cos()]
        };
        let coords = |p: [f64; 3]| {
            let u = p[0].atan2(-p[2]);
            let v = p[1].atan2(p[0].hypot(p[2]));
            [
                u / std::f64::consts::TAU + 0.5,
                0.5 - v / std::f64::consts::PI,
            ]
        };
        let n = room.floor.len();
        let points: Vec<serde_json::Value> = room
            .floor
            .iter()
            .enumerate()
            .map(|(i, &c)| {
                let p = xyz(c, h);
                json!({"coords": coords(p), "id": i + 1, "xyz": p})
            })
            .collect();
        let walls: Vec<serde_json::Value> = (0..n)
            .map(|i| {
                let (a, b) = room.wall(i);
                json!({
                    "id": n + i + 1,
                    "normal": [0.0, 0.0, 0.0],
                    "planeEquation": [0.0, 0.0, 0.0, 0.0],
                    "pointsIdx": [i, (i + 1) % n],
                    "width": (b - a).norm(),
                })
            })
            .collect();
        let obj2ds: Vec<serde_json::Value> = room
            .openings
            .iter()
            .enumerate()
            .map(|(k, o)| {
                let (a, b) = room.opening_ends(o);
                json!({
                    "coords": [[0.1, 0.0], [0.3, 1.0]],
                    "id": 100 + k,
                    "points": [xyz(a, o.top), xyz(b, o.bottom)],
                    "wallIdx": o.wall,
                    "width": o.end - o.start,
                })
            })
            .collect();
        json!({
            "cameraCeilingHeight": room.height - h,
            "cameraHeight": h,
            "layoutHeight": room.height,
            "layoutObj2ds": {"num": obj2ds.len(), "obj2ds": obj2ds},
            "layoutPoints": {"num": n, "points": points},
            "layoutWalls": {"num": n, "walls": walls},
            "panoId": view.file,
            "userName": "annotator",
        })
    }

    #[test]
    fn pano_annotator_rebuilds_each_showroom_room_its_height_and_openings() {
        let plan = synth::showroom();
        for v in 0..plan.views.len() {
            let truth = &plan.rooms[plan.views[v].room];
            let text = serde_json::to_string_pretty(&pano_annotator_label(&plan, v)).expect("json");
            let file = format!("{}_label.json", truth.name);
            let ann = pano_annotator(&file, &text, &truth.name).expect("label");
            assert_eq!(
                (ann.panorama.as_str(), ann.room.as_str()),
                (truth.name.as_str(), truth.name.as_str())
            );
            assert_eq!(ann.convention, Convention::HorizonNet);
            assert_eq!(ann.transform, None);
            // The label's camera height, not the scan's (1.2 m), makes it metric.
            assert_eq!(ann.camera_height, Some(1.6));
            let room = local_room(&file, &ann, None, 1.2, None).expect("room");
            assert!(
                (room.height - truth.height).abs() < 1e-9,
                "{}: height {}",
                truth.name,
                room.height
            );
            assert_floor(&truth.name, &placed(&plan, v, &room), &truth.floor);
            // Without a type, an object reaching the floor is a door, any other a window.
            let kinds: Vec<OpeningKind> = truth
                .openings
                .iter()
                .map(|o| match o.kind {
                    OpeningKind::Window => OpeningKind::Window,
                    _ => OpeningKind::Door,
                })
                .collect();
            assert_openings(&truth.name, &room.openings, &truth.openings, &kinds);
        }
    }

    #[test]
    fn bad_pano_annotator_labels_name_the_file_and_the_line() {
        let plan = synth::showroom();
        let read = |v: &serde_json::Value| {
            let text = serde_json::to_string_pretty(v).expect("json");
            pano_annotator("sh/hall_label.json", &text, "hall")
        };
        let bad = |edit: &dyn Fn(&mut serde_json::Value)| -> ScanError {
            let mut v = pano_annotator_label(&plan, 0);
            edit(&mut v);
            let e = read(&v).expect_err("a bad label");
            assert_eq!(
                (e.file.as_str(), e.line),
                ("sh/hall_label.json", None),
                "{e}"
            );
            e
        };
        let e = pano_annotator(
            "a_label.json",
            "{\n  \"cameraHeight\": 1.6,\n  \"layoutHeight\": }\n",
            "a",
        )
        .expect_err("syntax");
        assert_eq!((e.file.as_str(), e.line), ("a_label.json", Some(3)), "{e}");
        // Python writes a NaN height as `NaN`: not JSON, and its line is named.
        let mut v = pano_annotator_label(&plan, 0);
        v["layoutHeight"] = json!(12345.5);
        let text = serde_json::to_string_pretty(&v).expect("json");
        let line = text
            .lines()
            .position(|l| l.contains("12345.5"))
            .expect("marker")
            + 1;
        let e =
            pano_annotator("a_label.json", &text.replace("12345.5", "NaN"), "a").expect_err("NaN");
        assert_eq!(e.line, Some(line), "{e}");
        let e = bad(&|v| {
            v.as_object_mut().expect("object").remove("cameraHeight");
        });
        assert_eq!(
            e.to_string(),
            "sh/hall_label.json: PanoAnnotator label: `cameraHeight` is missing or not a number"
        );
        let e = bad(&|v| v["layoutHeight"] = json!("3.0"));
        assert!(e.message.contains("`layoutHeight`"), "{e}");
        let e = bad(&|v| {
            v["layoutPoints"]
                .as_object_mut()
                .expect("object")
                .remove("points");
        });
        assert!(
            e.message.contains("`layoutPoints.points` is missing"),
            "{e}"
        );
        let e = bad(&|v| v["layoutPoints"]["points"][1]["xyz"] = json!([1.0, 0.0]));
        assert!(e.message.contains("point 1 has no finite `xyz`"), "{e}");
        let e = bad(&|v| v["layoutPoints"]["points"][2]["xyz"][2] = json!(null));
        assert!(e.message.contains("point 2 has no finite `xyz`"), "{e}");
        let e = bad(&|v| {
            v["layoutPoints"]["points"]
                .as_array_mut()
                .expect("array")
                .truncate(2)
        });
        assert!(e.message.contains("at least 3 points, not 2"), "{e}");
        let e = bad(&|v| {
            v["layoutObj2ds"]["obj2ds"][1]["points"]
                .as_array_mut()
                .expect("array")
                .pop();
        });
        assert!(
            e.message
                .contains("object 1 needs two finite corner points"),
            "{e}"
        );
    }
}
