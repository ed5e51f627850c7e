//! Annotations → rooms in each panorama's frame → one floor plan.
//!
//! 1. [`local_room`]: a panorama's corners become its room (floor polygon, ceiling
//!    height) in its own frame, Manhattan-regularized when asked; its doors and windows
//!    are placed on the walls their columns' rays meet, their heights from the rows of
//!    their tops and sills at that distance.
//! 2. [`merge`]: the rooms are placed in one frame, from the transforms the annotations
//!    give or from doors: a door with the same id in two panoramas is the same door, so
//!    its two sides correspond (in reverse order between two rooms, whose walls run
//!    counter-clockwise each; in the same order between two panoramas of one room).
//!    Each panorama is placed, breadth first from the first, by the least-squares
//!    similarity (Umeyama) of all its door sides shared with panoramas already placed.
//!    Rooms are metric from the camera height, so the scale is estimated only when the
//!    corresponding points spread over more than 1.5 m (two doors); with one door the
//!    transform is rigid.
//! 3. A room seen by several panoramas takes the layout of the first; all of them
//!    texture it.
//! 4. Placed by doors, the plan is then turned so its walls run along the axes and
//!    moved so its least x and z are 0 ([`align`]); given transforms are kept as they are.

use nalgebra::{Point2, Point3, Rotation3, Vector2};

use crate::ScanError;
use crate::annotations::{LayoutInput, OpeningInput, PanoAnnotation, Unit};
use crate::geometry::Pano;
use crate::layout::{regularize, room_from_corners, signed_area};
use crate::plan::{
    FloorPlan, Opening, PlanRoom, Similarity, View, project_on_segment, ray_hit, umeyama,
};

/// How rooms are placed in one frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Merge {
    Doors,
    Transforms,
}

/// A panorama's room in its own frame (camera at the origin, metres).
#[derive(Clone, Debug, PartialEq)]
pub struct LocalRoom {
    pub name: String,
    pub file: String,
    pub floor: Vec<Point2<f64>>,
    pub height: f64,
    pub openings: Vec<Opening>,
    pub camera_height: f64,
    pub transform: Option<Similarity>,
    /// The camera's tilt (identity unless the `upright` step measured one).
    pub tilt: Rotation3<f64>,
}

/// The room one annotated panorama shows. `pano` is the image's geometry (needed for
/// pixel annotations); `manhattan` the regularization tolerance in radians, if any.
pub fn local_room(
    file: &str,
    ann: &PanoAnnotation,
    pano: Option<&Pano>,
    camera_height: f64,
    manhattan: Option<f64>,
) -> Result<LocalRoom, ScanError> {
    let h = ann.camera_height.unwrap_or(camera_height);
    if !(h > 0.0) {
        return Err(ScanError::new(
            file,
            None,
            format!("{}: the camera height must be positive", ann.panorama),
        ));
    }
    let need_pano = || {
        pano.ok_or_else(|| {
            ScanError::new(
                file,
                None,
                format!(
                    "{}: pixel annotations need the panorama's size",
                    ann.panorama
                ),
            )
        })
    };
    let (mut floor, height, unit) = match &ann.layout {
        LayoutInput::Corners(corners) => {
            let room = room_from_corners(file, need_pano()?, corners, h)?;
            (room.floor, room.height, 1.0)
        }
        LayoutInput::Floor {
            polygon,
            ceiling,
            unit,
        } => {
            let k = match unit {
                Unit::Metres => 1.0,
                Unit::CameraHeights => h,
            };
            let mut floor: Vec<Point2<f64>> = polygon.iter().map(|p| p * k).collect();
            if signed_area(&floor) < 0.0 {
                floor.reverse();
            }
            (floor, ceiling * k, k)
        }
    };
    if let Some(tolerance) = manhattan {
        floor = regularize(&floor, tolerance);
    }
    if signed_area(&floor).abs() < 1e-6 {
        return Err(ScanError::new(
            file,
            None,
            format!("{}: the room's floor has no area", ann.panorama),
        ));
    }
    if !(height > h) {
        return Err(ScanError::new(
            file,
            None,
            format!(
                "{}: the ceiling ({height:.2} m) is not above the camera ({h:.2} m)",
                ann.panorama
            ),
        ));
    }
    let mut openings = Vec::new();
    for (k, o) in ann.openings.iter().enumerate() {
        let placed = match o {
            OpeningInput::Pixels {
                kind,
                id,
                columns,
                top,
                bottom,
            } => {
                let pano = need_pano()?;
                let hit = |column: f64| {
                    let (lon, _) = pano.pixel_to_angles(column, 0.0);
                    ray_hit(&floor, Point2::origin(), Vector2::new(lon.sin(), lon.cos()))
                };
                let (Some(a), Some(b)) = (hit(columns.0), hit(columns.1)) else {
                    return Err(ScanError::new(
                        file,
                        None,
                        format!("{}: opening {k} is on no wall", ann.panorama),
                    ));
                };
                let wall = a.0;
                let along_b = if b.0 == wall {
                    b.2
                } else {
                    // The second side's ray met another wall: project that point on this one.
                    let (lon, _) = pano.pixel_to_angles(columns.1, 0.0);
                    let p = Point2::new(lon.sin(), lon.cos()) * b.1;
                    let (p0, p1) = (floor[wall], floor[(wall + 1) % floor.len()]);
                    project_on_segment(p, p0, p1).0 * (p1 - p0).norm()
                };
                let level = |row: f64| {
                    let (_, lat) = pano.pixel_to_angles(columns.0, row);
                    h + a.1 * lat.tan()
                };
                let top = level(*top);
                let bottom = bottom.map_or(0.0, level);
                (*kind, id.clone(), wall, a.2, along_b, bottom, top)
            }
            OpeningInput::Floor {
                kind,
                id,
                ends,
                bottom,
                top,
            } => {
                let (pa, pb) = (ends.0 * unit, ends.1 * unit);
                let n = floor.len();
                let wall = (0..n)
                    .min_by(|&i, &j| {
                        let d = |w: usize| {
                            let (p0, p1) = (floor[w], floor[(w + 1) % n]);
                            project_on_segment(pa, p0, p1)
                                .1
                                .max(project_on_segment(pb, p0, p1).1)
                        };
                        d(i).total_cmp(&d(j))
                    })
                    .unwrap_or(0);
                let (p0, p1) = (floor[wall], floor[(wall + 1) % n]);
                let len = (p1 - p0).norm();
                (
                    *kind,
                    id.clone(),
                    wall,
                    project_on_segment(pa, p0, p1).0 * len,
                    project_on_segment(pb, p0, p1).0 * len,
                    bottom * unit,
                    top * unit,
                )
            }
        };
        let (kind, id, wall, s, e, bottom, top) = placed;
        let len = (floor[(wall + 1) % floor.len()] - floor[wall]).norm();
        let (start, end) = (s.min(e).clamp(0.0, len), s.max(e).clamp(0.0, len));
        let (bottom, top) = (bottom.max(0.0), top.min(height));
        if end - start < 0.05 || top - bottom < 0.05 {
            return Err(ScanError::new(
                file,
                None,
                format!(
                    "{}: opening {k} ({}) is smaller than 5 cm",
                    ann.panorama,
                    kind.name()
                ),
            ));
        }
        openings.push(Opening {
            kind,
            id,
            wall,
            start,
            end,
            bottom,
            top,
        });
    }
    Ok(LocalRoom {
        name: ann.room.clone(),
        file: ann.panorama.clone(),
        floor,
        height,
        openings,
        camera_height: h,
        transform: ann.transform,
        tilt: Rotation3::identity(),
    })
}

/// Places the rooms in one frame (see the module's documentation).
pub fn merge(file: &str, rooms: &[LocalRoom], method: Merge) -> Result<FloorPlan, ScanError> {
    if rooms.is_empty() {
        return Err(ScanError::new(
            file,
            None,
            "no panoramas to build a floor plan from",
        ));
    }
    let n = rooms.len();
    let mut placed: Vec<Option<Similarity>> = vec![None; n];
    match method {
        Merge::Transforms => {
            for (i, r) in rooms.iter().enumerate() {
                match r.transform {
                    Some(t) => placed[i] = Some(t),
                    None if n == 1 => placed[i] = Some(Similarity::IDENTITY),
                    None => {
                        return Err(ScanError::new(
                            file,
                            None,
                            format!(
                                "{}: `merge by transforms` needs a transform for every panorama",
                                r.file
                            ),
                        ));
                    }
                }
            }
        }
        Merge::Doors => {
            placed[0] = Some(Similarity::IDENTITY);
            loop {
                // The unplaced panorama with the most door sides shared with placed ones.
                let mut best: Option<(usize, Vec<Point2<f64>>, Vec<Point2<f64>>)> = None;
                for j in (0..n).filter(|&j| placed[j].is_none()) {
                    let (mut from, mut to) = (Vec::new(), Vec::new());
                    for (i, t) in placed.iter().enumerate() {
                        let Some(t) = t else { continue };
                        for (oa, ob) in shared_doors(&rooms[i], &rooms[j]) {
                            let (a0, a1) = ends(&rooms[i], oa);
                            let (b0, b1) = ends(&rooms[j], ob);
                            let (w0, w1) = (t.apply(a0), t.apply(a1));
                            if rooms[i].name == rooms[j].name {
                                from.extend([b0, b1]);
                                to.extend([w0, w1]);
                            } else {
                                from.extend([b0, b1]);
                                to.extend([w1, w0]);
                            }
                        }
                    }
                    if !from.is_empty() && best.as_ref().is_none_or(|b| from.len() > b.1.len()) {
                        best = Some((j, from, to));
                    }
                }
                let Some((j, from, to)) = best else { break };
                let mut t = umeyama(&from, &to).ok_or_else(|| {
                    ScanError::new(
                        file,
                        None,
                        format!("{}: its shared doors do not fix its place", rooms[j].file),
                    )
                })?;
                let spread = {
                    let c = from.iter().map(|p| p.coords).sum::<Vector2<f64>>() / from.len() as f64;
                    (from
                        .iter()
                        .map(|p| (p.coords - c).norm_squared())
                        .sum::<f64>()
                        / from.len() as f64)
                        .sqrt()
                };
                if spread < 1.5 {
                    t = rigid(&from, &to, t.rotation);
                }
                placed[j] = Some(t);
            }
            if let Some(j) = (0..n).find(|&j| placed[j].is_none()) {
                return Err(ScanError::new(
                    file,
                    None,
                    format!(
                        "{} (room `{}`) shares no door id with the panoramas placed before it; give matching door ids or use `merge by transforms`",
                        rooms[j].file, rooms[j].name
                    ),
                ));
            }
        }
    }
    let mut plan = FloorPlan::default();
    for (i, r) in rooms.iter().enumerate() {
        let t = placed[i].unwrap_or(Similarity::IDENTITY);
        let index = match plan.rooms.iter().position(|p| p.name == r.name) {
            Some(k) => k,
            None => {
                let s = t.scale;
                plan.rooms.push(PlanRoom {
                    name: r.name.clone(),
                    floor: r.floor.iter().map(|&p| t.apply(p)).collect(),
                    height: r.height * s,
                    openings: r
                        .openings
                        .iter()
                        .map(|o| Opening {
                            start: o.start * s,
                            end: o.end * s,
                            bottom: o.bottom * s,
                            top: o.top * s,
                            ..o.clone()
                        })
                        .collect(),
                    views: Vec::new(),
                });
                plan.rooms.len() - 1
            }
        };
        let c = t.apply(Point2::origin());
        plan.rooms[index].views.push(plan.views.len());
        plan.views.push(View {
            file: r.file.clone(),
            room: index,
            camera: Point3::new(c.x, r.camera_height * t.scale, c.y),
            yaw: t.rotation,
            tilt: r.tilt,
        });
    }
    if method == Merge::Doors {
        align(&mut plan);
    }
    Ok(plan)
}

/// Turns a plan so its walls' dominant direction (length-weighted, modulo 90°) runs
/// along +X, by the smallest turn, and moves it so the least x and z are 0.
pub fn align(plan: &mut FloorPlan) {
    let (mut s, mut c) = (0.0, 0.0);
    for r in &plan.rooms {
        for i in 0..r.floor.len() {
            let (a, b) = r.wall(i);
            let d = b - a;
            let angle = d.y.atan2(d.x);
            s += d.norm() * (4.0 * angle).sin();
            c += d.norm() * (4.0 * angle).cos();
        }
    }
    let turn = Similarity {
        rotation: -s.atan2(c) / 4.0,
        scale: 1.0,
        translation: Vector2::zeros(),
    };
    let turned = |p: Point2<f64>| turn.apply(p);
    let (mut min_x, mut min_z) = (f64::MAX, f64::MAX);
    for r in &plan.rooms {
        for &p in &r.floor {
            let q = turned(p);
            min_x = min_x.min(q.x);
            min_z = min_z.min(q.y);
        }
    }
    let t = Similarity {
        translation: Vector2::new(-min_x, -min_z),
        ..turn
    };
    for r in &mut plan.rooms {
        for p in &mut r.floor {
            *p = t.apply(*p);
        }
    }
    for v in &mut plan.views {
        let c = t.apply(Point2::new(v.camera.x, v.camera.z));
        v.camera = Point3::new(c.x, v.camera.y, c.y);
        v.yaw += t.rotation;
    }
}

fn shared_doors<'a>(a: &'a LocalRoom, b: &'a LocalRoom) -> Vec<(&'a Opening, &'a Opening)> {
    let mut out = Vec::new();
    for oa in &a.openings {
        let Some(id) = &oa.id else { continue };
        if let Some(ob) = b.openings.iter().find(|o| o.id.as_ref() == Some(id)) {
            out.push((oa, ob));
        }
    }
    out
}

fn ends(room: &LocalRoom, o: &Opening) -> (Point2<f64>, Point2<f64>) {
    let (a, b) = (
        room.floor[o.wall],
        room.floor[(o.wall + 1) % room.floor.len()],
    );
    let d = (b - a).normalize();
    (a + d * o.start, a + d * o.end)
}

/// The least-squares rotation and translation (scale 1) taking `from` to `to`.
fn rigid(from: &[Point2<f64>], to: &[Point2<f64>], guess: f64) -> Similarity {
    let n = from.len() as f64;
    let mf = from.iter().map(|p| p.coords).sum::<Vector2<f64>>() / n;
    let mt = to.iter().map(|p| p.coords).sum::<Vector2<f64>>() / n;
    let (mut s, mut c) = (0.0, 0.0);
    for (a, b) in from.iter().zip(to) {
        let (x, y) = (a.coords - mf, b.coords - mt);
        c += x.dot(&y);
        s += x.x * y.y - x.y * y.x;
    }
    let rotation = if s == 0.0 && c == 0.0 {
        guess
    } else {
        s.atan2(c)
    };
    let r = Similarity {
        rotation,
        scale: 1.0,
        translation: Vector2::zeros(),
    };
    Similarity {
        translation: mt - r.apply(Point2::from(mf)).coords,
        ..r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::Convention;
    use crate::layout::{area, iou_2d};
    use crate::synth::{self, Noise};

    const WIDTH: u32 = 2048;

    fn pano() -> Pano {
        Pano::new("p.jpg", WIDTH, WIDTH / 2, Convention::HorizonNet).expect("2:1")
    }

    /// The truth's rooms: the showroom's first panorama turns less than 45°, and its
    /// least x and z are 0, so aligning the reconstruction brings it to the truth's frame.
    fn truth_floors(truth: &FloorPlan) -> Vec<Vec<Point2<f64>>> {
        truth.rooms.iter().map(|r| r.floor.clone()).collect()
    }

    fn reconstruct(truth: &FloorPlan, sigma: f64, seed: u64, manhattan: Option<f64>) -> FloorPlan {
        let mut noise = Noise(seed);
        let rooms: Vec<LocalRoom> = (0..truth.views.len())
            .map(|v| {
                let ann = synth::annotate(truth, v, &truth.views[v].file, WIDTH, sigma, &mut noise);
                local_room("layout.json", &ann, Some(&pano()), 1.6, manhattan).expect("room")
            })
            .collect();
        merge("layout.json", &rooms, Merge::Doors).expect("merged")
    }

    #[test]
    fn the_showroom_is_rebuilt_exactly_from_clean_clicks_and_within_goals_from_noisy_ones() {
        let truth = synth::showroom();
        let want = truth_floors(&truth);
        let plan = reconstruct(&truth, 0.0, 1, None);
        assert_eq!(plan.rooms.len(), 4);
        for (room, want) in plan.rooms.iter().zip(&want) {
            let iou = iou_2d(&room.floor, want);
            assert!(iou > 0.999_999, "{}: IoU {iou}", room.name);
        }
        // Doors land where they are: the hall's door to the living room, 1.5–2.5 m along
        // its wall, 2.1 m high.
        let door = &plan.rooms[0].openings[1];
        assert!(
            (door.start - 1.5).abs() < 1e-6 && (door.end - 2.5).abs() < 1e-6,
            "{door:?}"
        );
        assert!((door.top - 2.1).abs() < 1e-6 && door.bottom == 0.0);
        let window = &plan.rooms[1].openings[0];
        assert!((window.bottom - 0.9).abs() < 1e-6 && (window.top - 2.3).abs() < 1e-6);
        // σ = 2 px of click noise, regularized, over 10 draws.
        let tol = Some(10f64.to_radians());
        let (mut ious, mut areas) = (Vec::new(), Vec::new());
        for seed in 0..10 {
            let plan = reconstruct(&truth, 2.0, seed, tol);
            for (room, want) in plan.rooms.iter().zip(&want) {
                ious.push(iou_2d(&room.floor, want));
                areas.push((area(&room.floor) - area(want)).abs() / area(want));
            }
        }
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        eprintln!(
            "showroom, σ = 2 px, merged by doors: 2D IoU {:.4}, area error {:.4}",
            mean(&ious),
            mean(&areas)
        );
        assert!(
            mean(&ious) >= 0.95,
            "merged-plan IoU under noise {}",
            mean(&ious)
        );
        assert!(
            mean(&areas) <= 0.03,
            "area error under noise {}",
            mean(&areas)
        );
    }

    #[test]
    fn rooms_without_shared_doors_or_transforms_are_refused() {
        let truth = synth::showroom();
        let mut noise = Noise(1);
        let mut rooms: Vec<LocalRoom> = (0..truth.views.len())
            .map(|v| {
                let ann = synth::annotate(&truth, v, &truth.views[v].file, WIDTH, 0.0, &mut noise);
                local_room("layout.json", &ann, Some(&pano()), 1.6, None).expect("room")
            })
            .collect();
        for o in &mut rooms[3].openings {
            o.id = None;
        }
        let e = merge("layout.json", &rooms, Merge::Doors).expect_err("kitchen is cut off");
        assert!(e.message.contains("kitchen.jpg"), "{e}");
        let e = merge("layout.json", &rooms, Merge::Transforms).expect_err("no transforms");
        assert!(e.message.contains("transform"), "{e}");
    }
}
