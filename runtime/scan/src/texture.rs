//! Textures sampled from the panoramas.
//!
//! Each canvas (a wall, a floor, a ceiling; see [`crate::mesh`]) gets one texture whose
//! longer side is the scan's `texture` size. Its view is the panorama of its room that
//! sees it best: the one with the largest sum, over an 8 × 8 grid of the canvas, of
//! `cos(incidence) / distance²` at the points it sees (a wall of a non-convex room can
//! hide part of another from a camera). Each texel is then read, bilinearly, from the
//! best view that sees its centre.

use image::RgbImage;
use nalgebra::{Point2, Point3};

use crate::geometry::Pano;
use crate::mesh::{Canvas, CanvasKind, Mesh};
use crate::plan::{FloorPlan, PlanRoom, contains};

/// A decoded panorama and its pixel geometry.
pub struct PanoImage {
    pub pano: Pano,
    pub image: RgbImage,
}

/// One canvas's texture, and the view most of it came from.
pub struct Texture {
    pub image: RgbImage,
    pub view: Option<usize>,
}

/// The texture size of a canvas: the longer side `size`, the other in proportion.
pub fn texture_size(canvas: &Canvas, size: u32) -> (u32, u32) {
    let (w, h) = canvas.size();
    let side = |x: f64, long: f64| ((f64::from(size) * x / long).round() as u32).clamp(8, size);
    if w >= h {
        (size, side(h, w))
    } else {
        (side(w, h), size)
    }
}

/// Whether the camera at `from` sees `to` in room `room` (no wall of the room crosses
/// the straight path between them, seen from above).
pub fn sees(room: &PlanRoom, from: &Point3<f64>, to: &Point3<f64>) -> bool {
    let (a, b) = (Point2::new(from.x, from.z), Point2::new(to.x, to.z));
    // Stop just short of the target so its own wall does not count.
    let b = a + (b - a) * (1.0 - 1e-6);
    let n = room.floor.len();
    (0..n).all(|i| !crosses(a, b, room.floor[i], room.floor[(i + 1) % n]))
}

fn crosses(p: Point2<f64>, q: Point2<f64>, a: Point2<f64>, b: Point2<f64>) -> bool {
    let orient = |u: Point2<f64>, v: Point2<f64>, w: Point2<f64>| (v - u).perp(&(w - u));
    let (d1, d2) = (orient(a, b, p), orient(a, b, q));
    let (d3, d4) = (orient(p, q, a), orient(p, q, b));
    d1 * d2 < 0.0 && d3 * d4 < 0.0
}

fn convex(poly: &[Point2<f64>]) -> bool {
    let n = poly.len();
    (0..n).all(|i| {
        let (a, b, c) = (poly[i], poly[(i + 1) % n], poly[(i + 2) % n]);
        (b - a).perp(&(c - b)) >= -1e-9
    })
}

/// The views of the canvas's room, best first (see the module's documentation).
fn ranked_views(plan: &FloorPlan, canvas: &Canvas) -> Vec<usize> {
    let room = &plan.rooms[canvas.room];
    let mut scored: Vec<(f64, usize)> = room
        .views
        .iter()
        .map(|&v| {
            let cam = plan.views[v].camera;
            let mut score = 0.0;
            for i in 0..8 {
                for j in 0..8 {
                    let p = canvas.point((f64::from(i) + 0.5) / 8.0, (f64::from(j) + 0.5) / 8.0);
                    if matches!(canvas.kind, CanvasKind::Floor | CanvasKind::Ceiling)
                        && !contains(&room.floor, Point2::new(p.x, p.z))
                    {
                        continue;
                    }
                    if !sees(room, &cam, &p) {
                        continue;
                    }
                    let d = cam - p;
                    let dist2 = d.norm_squared().max(1e-6);
                    score += (d.normalize().dot(&canvas.normal)).max(0.0) / dist2;
                }
            }
            (score, v)
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    scored.into_iter().map(|(_, v)| v).collect()
}

/// Bilinear sample of an equirectangular image at pixel coordinate (x, y), wrapping
/// around horizontally.
fn sample(img: &RgbImage, x: f64, y: f64) -> [u8; 3] {
    let (w, h) = (img.width() as i64, img.height() as i64);
    let (x0, y0) = (x.floor(), y.floor());
    let (fx, fy) = (x - x0, y - y0);
    let (x0, y0) = (x0 as i64, y0 as i64);
    let px = |xi: i64, yi: i64| {
        let p = img
            .get_pixel(xi.rem_euclid(w) as u32, yi.clamp(0, h - 1) as u32)
            .0;
        p.map(f64::from)
    };
    let (a, b, c, d) = (
        px(x0, y0),
        px(x0 + 1, y0),
        px(x0, y0 + 1),
        px(x0 + 1, y0 + 1),
    );
    std::array::from_fn(|k| {
        let top = a[k] * (1.0 - fx) + b[k] * fx;
        let bottom = c[k] * (1.0 - fx) + d[k] * fx;
        (top * (1.0 - fy) + bottom * fy).round().clamp(0.0, 255.0) as u8
    })
}

/// Bakes one texture per canvas of `mesh`, on two threads. `panos[i]` is the image of
/// `plan.views[i]`.
pub fn bake(plan: &FloorPlan, mesh: &Mesh, panos: &[PanoImage], size: u32) -> Vec<Texture> {
    let bake_one = |canvas: &Canvas| -> Texture {
        let (w, h) = texture_size(canvas, size);
        let mut image = RgbImage::new(w, h);
        let ranked = ranked_views(plan, canvas);
        let room = &plan.rooms[canvas.room];
        let check = !convex(&room.floor) && ranked.len() > 1;
        if ranked.is_empty() {
            return Texture { image, view: None };
        }
        for (x, y, px) in image.enumerate_pixels_mut() {
            let p = canvas.point(
                (f64::from(x) + 0.5) / f64::from(w),
                (f64::from(y) + 0.5) / f64::from(h),
            );
            let v = if check {
                ranked
                    .iter()
                    .copied()
                    .find(|&v| sees(room, &plan.views[v].camera, &p))
                    .unwrap_or(ranked[0])
            } else {
                ranked[0]
            };
            let view = &plan.views[v];
            let (lon, lat) = view.angles_of(&p);
            let pano = &panos[v];
            let (sx, sy) = pano.pano.angles_to_pixel(lon, lat);
            px.0 = sample(&pano.image, sx, sy);
        }
        Texture {
            image,
            view: Some(ranked[0]),
        }
    };
    let mut out: Vec<Option<Texture>> = (0..mesh.canvases.len()).map(|_| None).collect();
    std::thread::scope(|s| {
        let halves: Vec<_> = (0..2)
            .map(|k| {
                let bake_one = &bake_one;
                s.spawn(move || {
                    mesh.canvases
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| i % 2 == k)
                        .map(|(i, c)| (i, bake_one(c)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for half in halves {
            for (i, t) in half.join().unwrap_or_default() {
                out[i] = Some(t);
            }
        }
    });
    out.into_iter()
        .map(|t| {
            t.unwrap_or(Texture {
                image: RgbImage::new(8, 8),
                view: None,
            })
        })
        .collect()
}

/// A texture as JPEG bytes.
pub fn jpeg(image: &RgbImage, quality: u8) -> Vec<u8> {
    let mut bytes = Vec::new();
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, quality);
    // Encoding an in-memory RGB buffer into a Vec cannot fail.
    let _ = image.write_with_encoder(encoder);
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::Convention;
    use crate::mesh;
    use crate::synth;

    #[test]
    fn textures_baked_from_rendered_panoramas_match_the_surfaces_patterns() {
        let plan = synth::showroom();
        let mesh = mesh::build(&plan);
        let width = 1024;
        let panos: Vec<PanoImage> = (0..plan.views.len())
            .map(|v| PanoImage {
                pano: Pano {
                    width,
                    height: width / 2,
                    convention: Convention::HorizonNet,
                },
                image: synth::render(&plan, v, width),
            })
            .collect();
        let textures = bake(&plan, &mesh, &panos, 128);
        assert_eq!(textures.len(), mesh.canvases.len());
        let (mut err, mut n) = (0.0, 0usize);
        for (canvas, t) in mesh.canvases.iter().zip(&textures) {
            let view = &plan.views[t.view.expect("a view")];
            assert_eq!(view.room, canvas.room);
            let (w, h) = t.image.dimensions();
            for (x, y, px) in t.image.enumerate_pixels() {
                let p = canvas.point(
                    (f64::from(x) + 0.5) / f64::from(w),
                    (f64::from(y) + 0.5) / f64::from(h),
                );
                if matches!(canvas.kind, CanvasKind::Floor | CanvasKind::Ceiling)
                    && !contains(&plan.rooms[canvas.room].floor, Point2::new(p.x, p.z))
                {
                    continue;
                }
                let (lon, lat) = view.angles_of(&p);
                let Some((surface, _, (u, v))) = synth::trace(&plan, view, lon, lat) else {
                    continue;
                };
                let want = synth::albedo(canvas.room, surface, u, v);
                err += (0..3)
                    .map(|k| (f64::from(px.0[k]) - f64::from(want[k])).abs())
                    .sum::<f64>()
                    / 3.0;
                n += 1;
            }
        }
        let mean = err / n as f64;
        println!("mean texel error {mean:.2} of 255 over {n} texels");
        assert!(mean < 6.0, "mean texel error {mean:.2} of 255");
    }
}
