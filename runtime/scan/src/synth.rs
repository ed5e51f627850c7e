//! Synthetic stores: floor plans with known rooms, doors, windows and cameras, rendered
//! to panoramas and to the annotations a person would click on them.
//!
//! Every surface has a procedural pattern ([`albedo`]) in its own surface coordinates, so
//! a texture mj bakes from the rendered panoramas can be compared with the truth texel by
//! texel. Walls between rooms have no thickness: the two rooms' walls coincide, and so
//! do the two sides of their doors.

use image::RgbImage;
use nalgebra::{Point2, Point3, Vector2};

use crate::annotations::{CornerPair, LayoutInput, OpeningInput, PanoAnnotation};
use crate::geometry::{Convention, Pano, angles_to_ray};
use crate::plan::{FloorPlan, Opening, OpeningKind, PlanRoom, View, ray_hit};

/// What a ray meets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Surface {
    Floor,
    Ceiling,
    Wall(usize),
    Opening(OpeningKind),
}

/// The colour of a surface of room `room` at surface coordinates (u, v): (x, z) on the
/// floor and ceiling; metres along the wall and height on walls.
pub fn albedo(room: usize, surface: Surface, u: f64, v: f64) -> [u8; 3] {
    let shade = |c: [f64; 3], k: f64| c.map(|x| (x * k).clamp(0.0, 255.0) as u8);
    match surface {
        Surface::Floor => {
            // Planks 0.2 m wide along x, each its own tone, with grain.
            let plank = (u / 0.2).floor();
            let tone = 0.85 + 0.3 * hash01(plank as i64, room as i64);
            let grain = 1.0 + 0.06 * (v * 23.0 + plank * 1.7).sin();
            let seam = if u.rem_euclid(0.2) < 0.012 { 0.6 } else { 1.0 };
            shade([150.0, 104.0, 66.0], tone * grain * seam)
        }
        Surface::Ceiling => {
            let line = u.rem_euclid(0.6) < 0.02 || v.rem_euclid(0.6) < 0.02;
            shade([236.0, 234.0, 228.0], if line { 0.82 } else { 1.0 })
        }
        Surface::Wall(w) => {
            const PALETTE: [[f64; 3]; 6] = [
                [196.0, 170.0, 140.0],
                [150.0, 175.0, 190.0],
                [186.0, 196.0, 158.0],
                [210.0, 180.0, 176.0],
                [170.0, 160.0, 200.0],
                [205.0, 200.0, 150.0],
            ];
            let base = PALETTE[(room * 2 + w) % PALETTE.len()];
            let stripe = if u.rem_euclid(0.4) < 0.2 { 1.0 } else { 0.9 };
            let wainscot = if v < 0.9 { 0.75 } else { 1.0 };
            let rail = if (v - 0.9).abs() < 0.03 { 0.5 } else { 1.0 };
            shade(base, stripe * wainscot * rail)
        }
        Surface::Opening(OpeningKind::Door) => {
            let panel = if u.rem_euclid(0.5) < 0.04 { 0.7 } else { 1.0 };
            shade([110.0, 72.0, 44.0], panel)
        }
        Surface::Opening(OpeningKind::Window) => shade([170.0, 205.0, 235.0], 1.0 + 0.1 * v),
        Surface::Opening(OpeningKind::Opening) => [40, 40, 44],
    }
}

fn hash01(a: i64, b: i64) -> f64 {
    let mut z = (a as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ (b as u64).rotate_left(29);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
}

/// What the ray from view `view` along (longitude, latitude) meets first, the point,
/// and its surface coordinates.
pub fn trace(
    plan: &FloorPlan,
    view: &View,
    lon: f64,
    lat: f64,
) -> Option<(Surface, Point3<f64>, (f64, f64))> {
    let room = &plan.rooms[view.room];
    let local = view.tilt * angles_to_ray(lon, lat);
    let turned = view.turn_to_plan(Vector2::new(local.x, local.z));
    let horizontal = turned.norm();
    if horizontal < 1e-12 {
        return None;
    }
    let cam = Point2::new(view.camera.x, view.camera.z);
    let (wall, t, along) = ray_hit(&room.floor, cam, turned / horizontal)?;
    let slope = local.y / horizontal;
    let at = |r: f64, y: f64| {
        let p = cam + turned / horizontal * r;
        Point3::new(p.x, y, p.y)
    };
    if slope < 0.0 {
        let r = view.camera.y / -slope;
        if r < t {
            let p = at(r, 0.0);
            return Some((Surface::Floor, p, (p.x, p.z)));
        }
    } else if slope > 0.0 {
        let r = (room.height - view.camera.y) / slope;
        if r < t {
            let p = at(r, room.height);
            return Some((Surface::Ceiling, p, (p.x, p.z)));
        }
    }
    let y = view.camera.y + t * slope;
    let p = at(t, y);
    for o in room.openings.iter().filter(|o| o.wall == wall) {
        if (o.start..=o.end).contains(&along) && (o.bottom..=o.top).contains(&y) {
            return Some((Surface::Opening(o.kind), p, (along - o.start, y)));
        }
    }
    Some((Surface::Wall(wall), p, (along, y)))
}

/// The panorama view `view` sees, `width × width/2` pixels (HorizonNet convention), drawn
/// on two threads.
pub fn render(plan: &FloorPlan, view: usize, width: u32) -> RgbImage {
    let pano = Pano {
        width,
        height: width / 2,
        convention: Convention::HorizonNet,
    };
    let v = &plan.views[view];
    let mut img = RgbImage::new(width, width / 2);
    let rows_per = (width / 2).div_ceil(2) as usize;
    let stride = width as usize * 3;
    std::thread::scope(|s| {
        for (k, chunk) in img.chunks_mut(rows_per * stride).enumerate() {
            s.spawn(move || {
                for (r, row) in chunk.chunks_mut(stride).enumerate() {
                    let y = (k * rows_per + r) as f64;
                    for x in 0..width as usize {
                        let (lon, lat) = pano.pixel_to_angles(x as f64, y);
                        let c = match trace(plan, v, lon, lat) {
                            Some((surface, _, (u, w))) => albedo(v.room, surface, u, w),
                            None => [0, 0, 0],
                        };
                        row[x * 3..x * 3 + 3].copy_from_slice(&c);
                    }
                }
            });
        }
    });
    img
}

/// A deterministic normal sample (SplitMix64 + Box–Muller).
pub struct Noise(pub u64);

impl Noise {
    pub fn uniform(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn normal(&mut self, sigma: f64) -> f64 {
        let (u, v) = (self.uniform().max(1e-12), self.uniform());
        sigma * (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

/// The annotation a person would click on view `view`'s panorama of `width` pixels:
/// its room's corners and openings, in pixels, each moved by `sigma` pixels of noise.
pub fn annotate(
    plan: &FloorPlan,
    view: usize,
    file: &str,
    width: u32,
    sigma: f64,
    noise: &mut Noise,
) -> PanoAnnotation {
    let pano = Pano {
        width,
        height: width / 2,
        convention: Convention::HorizonNet,
    };
    let v = &plan.views[view];
    let room = &plan.rooms[v.room];
    let mut pixel = |p: Point3<f64>| {
        let (lon, lat) = v.angles_of(&p);
        let (x, y) = pano.angles_to_pixel(lon, lat);
        (x + noise.normal(sigma), y + noise.normal(sigma))
    };
    let corners = room
        .floor
        .iter()
        .map(|c| CornerPair {
            ceiling: pixel(Point3::new(c.x, room.height, c.y)),
            floor: pixel(Point3::new(c.x, 0.0, c.y)),
        })
        .collect();
    let openings = room
        .openings
        .iter()
        .map(|o| {
            let (a, b) = room.opening_ends(o);
            let (xa, ya_top) = pixel(Point3::new(a.x, o.top, a.y));
            let (xb, _) = pixel(Point3::new(b.x, o.top, b.y));
            let bottom =
                (o.kind == OpeningKind::Window).then(|| pixel(Point3::new(a.x, o.bottom, a.y)).1);
            OpeningInput::Pixels {
                kind: o.kind,
                id: o.id.clone(),
                columns: (xa, xb),
                top: ya_top,
                bottom,
            }
        })
        .collect();
    PanoAnnotation {
        panorama: file.to_string(),
        room: room.name.clone(),
        convention: Convention::HorizonNet,
        layout: LayoutInput::Corners(corners),
        openings,
        transform: None,
        camera_height: Some(v.camera.y),
    }
}

fn room(name: &str, floor: &[(f64, f64)], height: f64, openings: Vec<Opening>) -> PlanRoom {
    PlanRoom {
        name: name.to_string(),
        floor: floor.iter().map(|&(x, z)| Point2::new(x, z)).collect(),
        height,
        openings,
        views: Vec::new(),
    }
}

fn opening(
    kind: OpeningKind,
    id: Option<&str>,
    wall: usize,
    span: (f64, f64),
    height: (f64, f64),
) -> Opening {
    Opening {
        kind,
        id: id.map(str::to_string),
        wall,
        start: span.0,
        end: span.1,
        bottom: height.0,
        top: height.1,
    }
}

fn add_view(plan: &mut FloorPlan, file: &str, room: usize, at: (f64, f64), height: f64, yaw: f64) {
    plan.rooms[room].views.push(plan.views.len());
    plan.views.push(View {
        file: file.to_string(),
        room,
        camera: Point3::new(at.0, height, at.1),
        yaw,
        tilt: nalgebra::Rotation3::identity(),
    });
}

/// The showroom of `examples/showroom`: an entrance hall, a living-room display with a
/// cut (135°) corner, a bedroom display and an L-shaped kitchen display, 108 m², joined
/// by three doors, one panorama each, the camera 1.6 m up.
pub fn showroom() -> FloorPlan {
    use OpeningKind::*;
    let door = (0.0, 2.1);
    let mut plan = FloorPlan {
        rooms: vec![
            // Walls: 0 z=0, 1 x=4, 2 z=5, 3 x=0.
            room(
                "hall",
                &[(0.0, 0.0), (4.0, 0.0), (4.0, 5.0), (0.0, 5.0)],
                3.0,
                vec![
                    opening(Opening, None, 0, (1.2, 2.8), (0.0, 2.4)),
                    opening(Door, Some("hall-living"), 1, (1.5, 2.5), door),
                    // Wall 2 runs from (4,5) to (0,5).
                    opening(Door, Some("hall-bedroom"), 2, (2.0, 3.0), door),
                ],
            ),
            // Walls: 0 z=0, 1 x=12, 2 the 135° wall, 3 z=7, 4 x=4.
            room(
                "living",
                &[
                    (4.0, 0.0),
                    (12.0, 0.0),
                    (12.0, 5.0),
                    (10.0, 7.0),
                    (4.0, 7.0),
                ],
                3.2,
                vec![
                    opening(Window, None, 1, (1.0, 3.5), (0.9, 2.3)),
                    // Wall 3 runs from (10,7) to (4,7): x 6..5 is 4..5 along it.
                    opening(Door, Some("living-kitchen"), 3, (4.0, 5.0), door),
                    // Wall 4 runs from (4,7) to (4,0): z 2.5..1.5 is 4.5..5.5 along it.
                    opening(Door, Some("hall-living"), 4, (4.5, 5.5), door),
                ],
            ),
            room(
                "bedroom",
                &[(0.0, 5.0), (4.0, 5.0), (4.0, 9.0), (0.0, 9.0)],
                2.8,
                vec![
                    opening(Door, Some("hall-bedroom"), 0, (1.0, 2.0), door),
                    // Wall 3 runs from (0,9) to (0,5).
                    opening(Window, None, 3, (1.0, 3.0), (1.0, 2.2)),
                ],
            ),
            room(
                "kitchen",
                &[
                    (4.0, 7.0),
                    (10.0, 7.0),
                    (10.0, 9.0),
                    (7.0, 9.0),
                    (7.0, 11.0),
                    (4.0, 11.0),
                ],
                2.9,
                vec![
                    opening(Door, Some("living-kitchen"), 0, (1.0, 2.0), door),
                    // Wall 4 runs from (7,11) to (4,11).
                    opening(Window, None, 4, (0.8, 2.2), (1.0, 2.1)),
                ],
            ),
        ],
        views: Vec::new(),
    };
    add_view(&mut plan, "hall.jpg", 0, (2.0, 2.6), 1.6, 0.4);
    add_view(&mut plan, "living.jpg", 1, (7.5, 3.4), 1.6, -1.1);
    add_view(&mut plan, "bedroom.jpg", 2, (2.1, 7.0), 1.6, 2.3);
    add_view(&mut plan, "kitchen.jpg", 3, (5.4, 8.1), 1.6, -2.8);
    plan
}

/// A store of `cols × rows` rectangular rooms of `w × d` metres, each joined by doors to
/// the room right of it and, in the first column, to the room below, with `per_room`
/// panoramas in each room.
pub fn grid_store(cols: usize, rows: usize, w: f64, d: f64, per_room: usize) -> FloorPlan {
    let mut plan = FloorPlan::default();
    let door = (0.0, 2.1);
    for r in 0..rows {
        for c in 0..cols {
            let (x0, z0) = (c as f64 * w, r as f64 * d);
            let id =
                |a: (usize, usize), b: (usize, usize)| format!("d{}-{}-{}-{}", a.0, a.1, b.0, b.1);
            let mut openings = Vec::new();
            // Walls: 0 z=z0 (→x), 1 x=x0+w (→z), 2 z=z0+d (←x), 3 x=x0 (←z).
            if c + 1 < cols {
                openings.push(opening(
                    OpeningKind::Door,
                    Some(&id((r, c), (r, c + 1))),
                    1,
                    (d / 2.0 - 0.45, d / 2.0 + 0.45),
                    door,
                ));
            }
            if c > 0 {
                openings.push(opening(
                    OpeningKind::Door,
                    Some(&id((r, c - 1), (r, c))),
                    3,
                    (d / 2.0 - 0.45, d / 2.0 + 0.45),
                    door,
                ));
            }
            if c == 0 && r + 1 < rows {
                openings.push(opening(
                    OpeningKind::Door,
                    Some(&id((r, c), (r + 1, c))),
                    2,
                    (w / 2.0 - 0.45, w / 2.0 + 0.45),
                    door,
                ));
            }
            if c == 0 && r > 0 {
                openings.push(opening(
                    OpeningKind::Door,
                    Some(&id((r - 1, c), (r, c))),
                    0,
                    (w / 2.0 - 0.45, w / 2.0 + 0.45),
                    door,
                ));
            }
            if r == 0 {
                openings.push(opening(
                    OpeningKind::Window,
                    None,
                    0,
                    (0.6, w - 0.6),
                    (1.0, 2.2),
                ));
            }
            let k = plan.rooms.len();
            plan.rooms.push(room(
                &format!("room_{r}_{c}"),
                &[(x0, z0), (x0 + w, z0), (x0 + w, z0 + d), (x0, z0 + d)],
                2.8 + 0.1 * ((r + c) % 3) as f64,
                openings,
            ));
            for p in 0..per_room {
                let f = (p as f64 + 1.0) / (per_room as f64 + 1.0);
                add_view(
                    &mut plan,
                    &format!("room_{r}_{c}_{p}.jpg"),
                    k,
                    (x0 + w * f, z0 + d * (0.35 + 0.3 * f)),
                    1.5 + 0.05 * p as f64,
                    0.3 + 1.7 * k as f64 + 0.9 * p as f64,
                );
            }
        }
    }
    plan
}

/// The pixel (HorizonNet convention) where view `view` sees `p`.
pub fn pixel_of(plan: &FloorPlan, view: usize, width: u32, p: &Point3<f64>) -> (f64, f64) {
    let pano = Pano {
        width,
        height: width / 2,
        convention: Convention::HorizonNet,
    };
    let (lon, lat) = plan.views[view].angles_of(p);
    pano.angles_to_pixel(lon, lat)
}

/// Writes a capture of `plan` into `dir`: each view's panorama (`width` pixels wide,
/// JPEG) and `layout.json` (mj's annotation format) with `sigma` pixels of click noise.
/// Returns the files written.
pub fn write_capture(
    plan: &FloorPlan,
    dir: &std::path::Path,
    width: u32,
    sigma: f64,
    seed: u64,
) -> Result<Vec<std::path::PathBuf>, crate::ScanError> {
    let err = |p: &std::path::Path, e: &dyn std::fmt::Display| {
        crate::ScanError::new(p.display().to_string(), None, format!("cannot write: {e}"))
    };
    std::fs::create_dir_all(dir).map_err(|e| err(dir, &e))?;
    let mut noise = Noise(seed);
    let mut written = Vec::new();
    let mut annotations = Vec::new();
    for (v, view) in plan.views.iter().enumerate() {
        let path = dir.join(&view.file);
        let img = render(plan, v, width);
        std::fs::write(&path, crate::texture::jpeg(&img, 90)).map_err(|e| err(&path, &e))?;
        written.push(path);
        annotations.push(annotate(plan, v, &view.file, width, sigma, &mut noise));
    }
    let path = dir.join("layout.json");
    std::fs::write(&path, crate::annotations::to_mj_json(&annotations))
        .map_err(|e| err(&path, &e))?;
    written.push(path);
    Ok(written)
}

/// Writes a laser scan of one room of `plan` to `path` as binary PLY: 150 points per
/// square metre on its surfaces, 1 cm of noise, stored Z up as many scanners do.
pub fn write_cloud(
    plan: &FloorPlan,
    room: usize,
    path: &std::path::Path,
    seed: u64,
) -> Result<(), crate::ScanError> {
    let err = |p: &std::path::Path, e: std::io::Error| {
        crate::ScanError::new(p.display().to_string(), None, format!("cannot write: {e}"))
    };
    let points = crate::pointcloud::sample_room(&plan.rooms[room], 150.0, 0.01, seed);
    let z_up: Vec<Point3<f64>> = points.iter().map(|p| Point3::new(p.x, -p.z, p.y)).collect();
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| err(dir, e))?;
    }
    std::fs::write(path, crate::pointcloud::write_ply(&z_up)).map_err(|e| err(path, e))
}
