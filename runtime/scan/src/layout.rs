//! Corners → a room, and the measures reconstructions are scored with.
//!
//! A room is its floor polygon (x, z in metres, counter-clockwise seen from above) and
//! its ceiling height. From a panorama's corners:
//!
//! 1. each floor corner is the floor point its pixel sees, the camera `h` above the floor;
//! 2. the ceiling height is the median over corners of `h + d · tan φ_c`, `d` the floor
//!    corner's horizontal distance and `φ_c` its ceiling corner's latitude — one wrong
//!    ceiling click does not move it;
//! 3. [`regularize`] snaps walls within a tolerance of the room's two dominant,
//!    perpendicular directions to them, and keeps the others (a 135° corner stays one).

use nalgebra::{Point2, Vector2};

use crate::ScanError;
use crate::annotations::CornerPair;
use crate::geometry::{Pano, floor_point};

/// A room: floor polygon (x, z), counter-clockwise, and ceiling height, in metres.
#[derive(Clone, Debug, PartialEq)]
pub struct Room {
    pub floor: Vec<Point2<f64>>,
    pub height: f64,
}

/// The room a panorama's corners describe, the camera `camera_height` metres up.
pub fn room_from_corners(
    file: &str,
    pano: &Pano,
    corners: &[CornerPair],
    camera_height: f64,
) -> Result<Room, ScanError> {
    let mut floor = Vec::with_capacity(corners.len());
    let mut heights = Vec::with_capacity(corners.len());
    for (i, c) in corners.iter().enumerate() {
        let (lon, lat) = pano.pixel_to_angles(c.floor.0, c.floor.1);
        let Some(p) = floor_point(lon, lat, camera_height) else {
            return Err(ScanError::new(
                file,
                None,
                format!("floor corner {} is not below the horizon", i + 1),
            ));
        };
        let distance = p.x.hypot(p.z);
        let (_, lat_c) = pano.pixel_to_angles(c.ceiling.0, c.ceiling.1);
        if lat_c > 0.0 {
            heights.push(camera_height + distance * lat_c.tan());
        }
        floor.push(Point2::new(p.x, p.z));
    }
    if heights.is_empty() {
        return Err(ScanError::new(
            file,
            None,
            "no ceiling corner is above the horizon: the ceiling height cannot be measured",
        ));
    }
    heights.sort_by(f64::total_cmp);
    let height = if heights.len() % 2 == 1 {
        heights[heights.len() / 2]
    } else {
        (heights[heights.len() / 2 - 1] + heights[heights.len() / 2]) / 2.0
    };
    if signed_area(&floor) < 0.0 {
        floor.reverse();
    }
    Ok(Room { floor, height })
}

/// Twice-signed area (shoelace) / 2: positive for counter-clockwise polygons.
pub fn signed_area(poly: &[Point2<f64>]) -> f64 {
    let n = poly.len();
    (0..n)
        .map(|i| {
            let (a, b) = (poly[i], poly[(i + 1) % n]);
            a.x * b.y - b.x * a.y
        })
        .sum::<f64>()
        / 2.0
}

pub fn area(poly: &[Point2<f64>]) -> f64 {
    signed_area(poly).abs()
}

pub fn perimeter(poly: &[Point2<f64>]) -> f64 {
    let n = poly.len();
    (0..n).map(|i| (poly[(i + 1) % n] - poly[i]).norm()).sum()
}

/// Manhattan regularization: the dominant direction is the length-weighted mean of the
/// walls' directions modulo 90°; a wall within `tolerance` (radians) of it or of its
/// perpendicular is turned to it about its midpoint, any other wall keeps its direction;
/// corners are the intersections of consecutive walls. Consecutive walls that end up
/// parallel become one.
pub fn regularize(poly: &[Point2<f64>], tolerance: f64) -> Vec<Point2<f64>> {
    let quarter = std::f64::consts::FRAC_PI_2;
    let mut walls: Vec<(Point2<f64>, Vector2<f64>)> = Vec::new();
    let (mut s, mut c) = (0.0, 0.0);
    let n = poly.len();
    for i in 0..n {
        let d = poly[(i + 1) % n] - poly[i];
        let angle = d.y.atan2(d.x);
        s += d.norm() * (4.0 * angle).sin();
        c += d.norm() * (4.0 * angle).cos();
    }
    let dominant = s.atan2(c) / 4.0;
    for i in 0..n {
        let (a, b) = (poly[i], poly[(i + 1) % n]);
        let d = b - a;
        let angle = d.y.atan2(d.x);
        // The signed angle to the nearest axis, in (−45°, 45°].
        let off = (angle - dominant).rem_euclid(quarter);
        let off = if off > quarter / 2.0 {
            off - quarter
        } else {
            off
        };
        let direction = if off.abs() <= tolerance {
            angle - off
        } else {
            angle
        };
        walls.push((a + d / 2.0, Vector2::new(direction.cos(), direction.sin())));
    }
    // Merge consecutive walls that are now parallel (a corner that noise made).
    let mut merged: Vec<(Point2<f64>, Vector2<f64>)> = Vec::new();
    for w in walls {
        match merged.last() {
            Some(prev) if cross(prev.1, w.1).abs() < 1e-9 => {}
            _ => merged.push(w),
        }
    }
    if merged.len() > 1 {
        let (first, last) = (merged[0], merged[merged.len() - 1]);
        if cross(first.1, last.1).abs() < 1e-9 {
            merged.pop();
        }
    }
    let m = merged.len();
    if m < 3 {
        return poly.to_vec();
    }
    (0..m)
        .map(|i| intersect(merged[(i + m - 1) % m], merged[i]))
        .collect()
}

fn cross(a: Vector2<f64>, b: Vector2<f64>) -> f64 {
    a.x * b.y - a.y * b.x
}

/// The intersection of two lines given as (point, direction); not parallel.
fn intersect(a: (Point2<f64>, Vector2<f64>), b: (Point2<f64>, Vector2<f64>)) -> Point2<f64> {
    let t = cross(b.0 - a.0, b.1) / cross(a.1, b.1);
    a.0 + a.1 * t
}

/// Ear-clipping triangulation of a simple polygon (either orientation): index triples.
pub fn triangulate(poly: &[Point2<f64>]) -> Vec<[usize; 3]> {
    let ccw = signed_area(poly) >= 0.0;
    let mut idx: Vec<usize> = (0..poly.len()).collect();
    if !ccw {
        idx.reverse();
    }
    let mut out = Vec::new();
    let convex = |a: Point2<f64>, b: Point2<f64>, c: Point2<f64>| cross(b - a, c - b) > 1e-12;
    // A vertex blocks an ear if it lies inside the triangle or on its new diagonal c–a
    // (vertices on the polygon's own edges a–b and b–c, such as collinear cuts, do not).
    let inside = |p: Point2<f64>, a: Point2<f64>, b: Point2<f64>, c: Point2<f64>| {
        let eps = 1e-12;
        let (d1, d2, d3) = (
            cross(b - a, p - a),
            cross(c - b, p - b),
            cross(a - c, p - c),
        );
        if d1 > eps && d2 > eps && d3 > eps {
            return true;
        }
        d3.abs() <= eps && d1 >= -eps && d2 >= -eps && (p - a).norm() > eps && (p - c).norm() > eps
    };
    let mut guard = 0;
    while idx.len() > 3 && guard < 10_000 {
        guard += 1;
        let k = idx.len();
        let mut clipped = false;
        for i in 0..k {
            let (ia, ib, ic) = (idx[(i + k - 1) % k], idx[i], idx[(i + 1) % k]);
            let (a, b, c) = (poly[ia], poly[ib], poly[ic]);
            if !convex(a, b, c) {
                continue;
            }
            let ear = idx
                .iter()
                .filter(|&&j| j != ia && j != ib && j != ic)
                .all(|&j| !inside(poly[j], a, b, c));
            if ear {
                out.push([ia, ib, ic]);
                idx.remove(i);
                clipped = true;
                break;
            }
        }
        if !clipped {
            // Degenerate (collinear) vertices: drop the flattest one.
            let flattest = (0..k)
                .min_by(|&x, &y| {
                    let f = |i: usize| {
                        let (a, b, c) = (
                            poly[idx[(i + k - 1) % k]],
                            poly[idx[i]],
                            poly[idx[(i + 1) % k]],
                        );
                        cross(b - a, c - b).abs()
                    };
                    f(x).total_cmp(&f(y))
                })
                .unwrap_or(0);
            idx.remove(flattest);
        }
    }
    if idx.len() == 3 {
        out.push([idx[0], idx[1], idx[2]]);
    }
    out
}

/// The area two simple polygons share: each is cut into triangles, and each pair of
/// triangles (both convex) is clipped (Sutherland–Hodgman).
pub fn intersection_area(a: &[Point2<f64>], b: &[Point2<f64>]) -> f64 {
    let ta = triangles(a);
    let tb = triangles(b);
    let mut total = 0.0;
    for x in &ta {
        for y in &tb {
            total += area(&clip(x, y));
        }
    }
    total
}

fn triangles(poly: &[Point2<f64>]) -> Vec<Vec<Point2<f64>>> {
    triangulate(poly)
        .into_iter()
        .map(|[i, j, k]| {
            let mut t = vec![poly[i], poly[j], poly[k]];
            if signed_area(&t) < 0.0 {
                t.reverse();
            }
            t
        })
        .collect()
}

/// `subject` clipped by the convex, counter-clockwise polygon `clipper`.
fn clip(subject: &[Point2<f64>], clipper: &[Point2<f64>]) -> Vec<Point2<f64>> {
    let mut out = subject.to_vec();
    let m = clipper.len();
    for i in 0..m {
        if out.is_empty() {
            break;
        }
        let (a, b) = (clipper[i], clipper[(i + 1) % m]);
        let keep = |p: Point2<f64>| cross(b - a, p - a) >= 0.0;
        let input = std::mem::take(&mut out);
        let k = input.len();
        for j in 0..k {
            let (p, q) = (input[j], input[(j + 1) % k]);
            match (keep(p), keep(q)) {
                (true, true) => out.push(q),
                (true, false) => out.push(line_cut(p, q, a, b)),
                (false, true) => {
                    out.push(line_cut(p, q, a, b));
                    out.push(q);
                }
                (false, false) => {}
            }
        }
    }
    out
}

/// Where segment p→q crosses the line through a and b.
fn line_cut(p: Point2<f64>, q: Point2<f64>, a: Point2<f64>, b: Point2<f64>) -> Point2<f64> {
    let d = q - p;
    let denom = cross(d, b - a);
    // Parallel to the line (p and q on its two sides only by rounding): either end will do.
    if denom.abs() <= f64::EPSILON * d.norm() * (b - a).norm() {
        return p;
    }
    let t = (cross(a - p, b - a) / denom).clamp(0.0, 1.0);
    p + d * t
}

/// Intersection over union of two floor polygons (0 when both are empty).
pub fn iou_2d(a: &[Point2<f64>], b: &[Point2<f64>]) -> f64 {
    let inter = intersection_area(a, b);
    let union = area(a) + area(b) - inter;
    if union > 0.0 { inter / union } else { 0.0 }
}

/// Intersection over union of two rooms as prisms from the floor to their ceilings.
pub fn iou_3d(a: &Room, b: &Room) -> f64 {
    let inter = intersection_area(&a.floor, &b.floor) * a.height.min(b.height);
    inter / (area(&a.floor) * a.height + area(&b.floor) * b.height - inter)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::{Convention, ray_to_angles};
    use nalgebra::Vector3;

    #[test]
    fn floors_equal_to_rounding_have_an_iou_of_one() {
        // The showroom's living room against itself moved by 1e-15 m: parallel edges that
        // overlap, where a clipping step once divided by zero.
        let living = pts(&[
            (4.0, 0.0),
            (12.0, 0.0),
            (12.0, 5.0),
            (10.0, 7.0),
            (4.0, 7.0),
        ]);
        for shift in [0.0, 1e-15, -3e-16, 1e-12] {
            let moved: Vec<Point2<f64>> = living
                .iter()
                .map(|p| Point2::new(p.x + shift, p.y - shift))
                .collect();
            let iou = iou_2d(&living, &moved);
            assert!((iou - 1.0).abs() < 1e-9, "shift {shift}: IoU {iou}");
        }
        assert_eq!(iou_2d(&[], &[]), 0.0);
    }

    fn pts(v: &[(f64, f64)]) -> Vec<Point2<f64>> {
        v.iter().map(|&(x, y)| Point2::new(x, y)).collect()
    }

    /// A deterministic normal sample (SplitMix64 + Box–Muller).
    struct Noise(u64);
    impl Noise {
        fn uniform(&mut self) -> f64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
        }
        fn normal(&mut self, sigma: f64) -> f64 {
            let (u, v) = (self.uniform().max(1e-12), self.uniform());
            sigma * (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
        }
    }

    /// The corner pixels a camera at the origin sees of a room (floor polygon relative
    /// to the camera), with optional click noise.
    fn render(
        pano: &Pano,
        room: &Room,
        h: f64,
        noise: Option<(&mut Noise, f64)>,
    ) -> Vec<CornerPair> {
        let mut noise = noise;
        room.floor
            .iter()
            .map(|p| {
                let floor = Vector3::new(p.x, -h, p.y);
                let ceiling = Vector3::new(p.x, room.height - h, p.y);
                let px = |v: &Vector3<f64>| {
                    let (lon, lat) = ray_to_angles(v);
                    pano.angles_to_pixel(lon, lat)
                };
                let (mut f, mut c) = (px(&floor), px(&ceiling));
                if let Some((rng, sigma)) = noise.as_mut() {
                    f = (f.0 + rng.normal(*sigma), f.1 + rng.normal(*sigma));
                    c = (c.0 + rng.normal(*sigma), c.1 + rng.normal(*sigma));
                }
                CornerPair {
                    ceiling: c,
                    floor: f,
                }
            })
            .collect()
    }

    fn rooms() -> Vec<(&'static str, Room)> {
        vec![
            (
                "rectangle",
                Room {
                    floor: pts(&[(-2.0, -1.5), (3.0, -1.5), (3.0, 2.5), (-2.0, 2.5)]),
                    height: 2.8,
                },
            ),
            (
                "L-shape",
                Room {
                    floor: pts(&[
                        (-2.0, -2.0),
                        (4.0, -2.0),
                        (4.0, 1.0),
                        (1.0, 1.0),
                        (1.0, 3.0),
                        (-2.0, 3.0),
                    ]),
                    height: 3.0,
                },
            ),
            // A cut corner: two 135° corners that must stay.
            (
                "cut corner",
                Room {
                    floor: pts(&[
                        (-2.5, -2.0),
                        (2.0, -2.0),
                        (3.0, -1.0),
                        (3.0, 2.5),
                        (-2.5, 2.5),
                    ]),
                    height: 2.6,
                },
            ),
        ]
    }

    #[test]
    fn measures_of_known_polygons() {
        let square = pts(&[(0.0, 0.0), (2.0, 0.0), (2.0, 2.0), (0.0, 2.0)]);
        let shifted = pts(&[(1.0, 0.0), (3.0, 0.0), (3.0, 2.0), (1.0, 2.0)]);
        assert!((area(&square) - 4.0).abs() < 1e-12);
        assert!((perimeter(&square) - 8.0).abs() < 1e-12);
        assert!((iou_2d(&square, &shifted) - 2.0 / 6.0).abs() < 1e-12);
        let l = &rooms()[1].1.floor;
        assert!((area(l) - (6.0 * 3.0 + 3.0 * 2.0)).abs() < 1e-9);
        assert!((iou_2d(l, l) - 1.0).abs() < 1e-9);
        assert_eq!(triangulate(l).len(), l.len() - 2);
    }

    #[test]
    fn regularization_snaps_near_right_angles_and_keeps_oblique_walls() {
        let tol = 10f64.to_radians();
        // A rectangle clicked a little off.
        let rough = pts(&[(0.0, 0.0), (4.0, 0.1), (4.05, 3.0), (-0.05, 2.95)]);
        let fixed = regularize(&rough, tol);
        assert_eq!(fixed.len(), 4);
        for i in 0..4 {
            let a = (fixed[(i + 1) % 4] - fixed[i]).normalize();
            let b = (fixed[(i + 2) % 4] - fixed[(i + 1) % 4]).normalize();
            assert!(a.dot(&b).abs() < 1e-9, "not square: {fixed:?}");
        }
        assert!((area(&fixed) - area(&rough)).abs() / area(&rough) < 0.02);
        // The two 135° corners of the cut corner stay.
        let cut = &rooms()[2].1.floor;
        assert_eq!(regularize(cut, tol).len(), 5);
    }

    #[test]
    fn synthetic_rooms_reconstruct_exactly_and_within_goals_under_click_noise() {
        let pano = Pano::new("synthetic.jpg", 1024, 512, Convention::HorizonNet).expect("2:1");
        let h = 1.6;
        let tol = 10f64.to_radians();
        let mut rng = Noise(7);
        for (name, truth) in rooms() {
            let clean = render(&pano, &truth, h, None);
            let room = room_from_corners("synthetic.txt", &pano, &clean, h).expect("room");
            let room = Room {
                floor: regularize(&room.floor, tol),
                ..room
            };
            let iou = iou_2d(&room.floor, &truth.floor);
            assert!(iou > 0.999_999, "{name}: 2D IoU {iou}");
            assert!(
                (room.height - truth.height).abs() < 1e-9,
                "{name}: height {}",
                room.height
            );
            // σ = 2 px click noise, averaged over 20 draws.
            let (mut ious, mut area_errors, mut ious3) = (Vec::new(), Vec::new(), Vec::new());
            for _ in 0..20 {
                let noisy = render(&pano, &truth, h, Some((&mut rng, 2.0)));
                let room = room_from_corners("synthetic.txt", &pano, &noisy, h).expect("room");
                let room = Room {
                    floor: regularize(&room.floor, tol),
                    ..room
                };
                ious.push(iou_2d(&room.floor, &truth.floor));
                ious3.push(iou_3d(&room, &truth));
                area_errors
                    .push((area(&room.floor) - area(&truth.floor)).abs() / area(&truth.floor));
            }
            let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
            eprintln!(
                "{name}: clean 2D IoU {iou:.7}; σ = 2 px: 2D IoU {:.4}, 3D IoU {:.4}, area error {:.4}",
                mean(&ious),
                mean(&ious3),
                mean(&area_errors)
            );
            assert!(mean(&ious) >= 0.95, "{name}: noisy 2D IoU {}", mean(&ious));
            assert!(
                mean(&ious3) >= 0.90,
                "{name}: noisy 3D IoU {}",
                mean(&ious3)
            );
            assert!(
                mean(&area_errors) <= 0.03,
                "{name}: noisy area error {}",
                mean(&area_errors)
            );
        }
    }
}
