//! A floor plan: rooms placed in one frame, their doors and windows on their walls, and
//! the panoramas that see them.
//!
//! Frames. Each panorama measures its room in its own frame: the camera at the origin,
//! metres (from the camera height), the panorama's centre column along +Z. A
//! [`Similarity`] (rotation about +Y, uniform scale, translation on the floor) places a
//! panorama's frame in the floor plan's; the floor plan's floor is `y = 0`.
//!
//! Walls. Wall `i` of a room runs from corner `i` to corner `i + 1` (mod n); an opening
//! on it spans `start..end` metres from corner `i`, `bottom..top` metres above the floor.

use nalgebra::{Matrix2, Point2, Point3, Rotation3, Vector2};

/// A similarity of the floor: `p ↦ scale · R(rotation) · p + translation` on (x, z),
/// where `R(θ) = [[cos θ, −sin θ], [sin θ, cos θ]]`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Similarity {
    pub rotation: f64,
    pub scale: f64,
    pub translation: Vector2<f64>,
}

impl Similarity {
    pub const IDENTITY: Similarity = Similarity {
        rotation: 0.0,
        scale: 1.0,
        translation: Vector2::new(0.0, 0.0),
    };

    pub fn apply(&self, p: Point2<f64>) -> Point2<f64> {
        Point2::from(self.linear() * p.coords + self.translation)
    }

    /// A direction turned (not scaled).
    pub fn turn(&self, v: Vector2<f64>) -> Vector2<f64> {
        rotation(self.rotation) * v
    }

    fn linear(&self) -> Matrix2<f64> {
        rotation(self.rotation) * self.scale
    }

    /// `self ∘ other`: `other` first.
    pub fn then_after(&self, other: &Similarity) -> Similarity {
        Similarity {
            rotation: self.rotation + other.rotation,
            scale: self.scale * other.scale,
            translation: self.linear() * other.translation + self.translation,
        }
    }

    pub fn inverse(&self) -> Similarity {
        let r = rotation(-self.rotation) / self.scale;
        Similarity {
            rotation: -self.rotation,
            scale: 1.0 / self.scale,
            translation: -(r * self.translation),
        }
    }
}

fn rotation(theta: f64) -> Matrix2<f64> {
    let (s, c) = theta.sin_cos();
    Matrix2::new(c, -s, s, c)
}

/// The least-squares similarity taking `from[i]` to `to[i]` (Umeyama 1991): the
/// rotation from the SVD of the cross-covariance, with the reflection case excluded.
/// `None` for fewer than two distinct points.
pub fn umeyama(from: &[Point2<f64>], to: &[Point2<f64>]) -> Option<Similarity> {
    let n = from.len();
    if n < 2 || to.len() != n {
        return None;
    }
    let mean = |v: &[Point2<f64>]| v.iter().map(|p| p.coords).sum::<Vector2<f64>>() / n as f64;
    let (mf, mt) = (mean(from), mean(to));
    let mut cov = Matrix2::zeros();
    let mut var = 0.0;
    for (a, b) in from.iter().zip(to) {
        let (x, y) = (a.coords - mf, b.coords - mt);
        cov += y * x.transpose();
        var += x.norm_squared();
    }
    cov /= n as f64;
    var /= n as f64;
    if var < 1e-12 {
        return None;
    }
    let svd = cov.svd(true, true);
    let (u, v_t) = (svd.u?, svd.v_t?);
    let mut s = Matrix2::identity();
    if u.determinant() * v_t.determinant() < 0.0 {
        s[(1, 1)] = -1.0;
    }
    let r = u * s * v_t;
    let scale = (svd.singular_values[0] * s[(0, 0)] + svd.singular_values[1] * s[(1, 1)]) / var;
    let rotation = r[(1, 0)].atan2(r[(0, 0)]);
    let translation = mt - r * mf * scale;
    Some(Similarity {
        rotation,
        scale,
        translation,
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OpeningKind {
    Door,
    Window,
    /// A doorway without a door.
    Opening,
}

impl OpeningKind {
    pub fn name(self) -> &'static str {
        match self {
            OpeningKind::Door => "door",
            OpeningKind::Window => "window",
            OpeningKind::Opening => "opening",
        }
    }
}

/// A door, window or opening on a wall.
#[derive(Clone, Debug, PartialEq)]
pub struct Opening {
    pub kind: OpeningKind,
    /// Doors with the same id in two rooms are one door (the merge uses them).
    pub id: Option<String>,
    pub wall: usize,
    pub start: f64,
    pub end: f64,
    pub bottom: f64,
    pub top: f64,
}

/// A room of the floor plan.
#[derive(Clone, Debug, PartialEq)]
pub struct PlanRoom {
    pub name: String,
    /// Counter-clockwise in (x, z), metres.
    pub floor: Vec<Point2<f64>>,
    pub height: f64,
    pub openings: Vec<Opening>,
    /// Indices into [`FloorPlan::views`] of the panoramas taken in this room.
    pub views: Vec<usize>,
}

impl PlanRoom {
    pub fn wall(&self, i: usize) -> (Point2<f64>, Point2<f64>) {
        (self.floor[i], self.floor[(i + 1) % self.floor.len()])
    }

    /// The two floor points of an opening's sides.
    pub fn opening_ends(&self, o: &Opening) -> (Point2<f64>, Point2<f64>) {
        let (a, b) = self.wall(o.wall);
        let d = (b - a).normalize();
        (a + d * o.start, a + d * o.end)
    }
}

/// Where a panorama was taken, in the floor plan's frame.
#[derive(Clone, Debug, PartialEq)]
pub struct View {
    /// The panorama's file, as the annotations name it.
    pub file: String,
    pub room: usize,
    /// The camera's centre (y is its height above the floor).
    pub camera: Point3<f64>,
    /// The panorama frame's turn, as a similarity's rotation: a horizontal direction `d`
    /// of the panorama's frame is `R(yaw) d` in the plan's.
    pub yaw: f64,
    /// The camera's tilt: takes the image's rays to upright ones (see
    /// [`crate::geometry::upright`]).
    pub tilt: Rotation3<f64>,
}

impl View {
    /// A horizontal direction of the panorama's frame in the plan's.
    pub fn turn_to_plan(&self, v: Vector2<f64>) -> Vector2<f64> {
        rotation(self.yaw) * v
    }

    /// (longitude, latitude) in this panorama of a point of the plan.
    pub fn angles_of(&self, p: &Point3<f64>) -> (f64, f64) {
        let d = p - self.camera;
        let local = rotation(-self.yaw) * Vector2::new(d.x, d.z);
        let upright = nalgebra::Vector3::new(local.x, d.y, local.y);
        crate::geometry::ray_to_angles(&(self.tilt.inverse() * upright))
    }
}

/// Rooms in one frame, and the panoramas that see them.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct FloorPlan {
    pub rooms: Vec<PlanRoom>,
    pub views: Vec<View>,
}

impl FloorPlan {
    /// The index of the room whose floor contains `p`.
    pub fn room_at(&self, p: Point2<f64>) -> Option<usize> {
        self.rooms.iter().position(|r| contains(&r.floor, p))
    }
}

/// Whether `p` lies inside the polygon (even–odd rule).
pub fn contains(poly: &[Point2<f64>], p: Point2<f64>) -> bool {
    let n = poly.len();
    let mut inside = false;
    for i in 0..n {
        let (a, b) = (poly[i], poly[(i + 1) % n]);
        if (a.y > p.y) != (b.y > p.y) {
            let x = a.x + (p.y - a.y) / (b.y - a.y) * (b.x - a.x);
            if p.x < x {
                inside = !inside;
            }
        }
    }
    inside
}

/// The nearest point of segment a–b to p, as (parameter 0..1, distance).
pub fn project_on_segment(p: Point2<f64>, a: Point2<f64>, b: Point2<f64>) -> (f64, f64) {
    let d = b - a;
    let len2 = d.norm_squared();
    let t = if len2 > 0.0 {
        ((p - a).dot(&d) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    (t, (a + d * t - p).norm())
}

/// Where the horizontal ray from `origin` along `dir` first meets the polygon's
/// boundary: (wall index, distance along the ray, metres from the wall's first corner).
pub fn ray_hit(
    poly: &[Point2<f64>],
    origin: Point2<f64>,
    dir: Vector2<f64>,
) -> Option<(usize, f64, f64)> {
    let n = poly.len();
    let mut best: Option<(usize, f64, f64)> = None;
    for i in 0..n {
        let (a, b) = (poly[i], poly[(i + 1) % n]);
        let e = b - a;
        let den = dir.x * e.y - dir.y * e.x;
        if den.abs() < 1e-12 {
            continue;
        }
        let w = a - origin;
        let t = (w.x * e.y - w.y * e.x) / den;
        let u = (w.x * dir.y - w.y * dir.x) / den;
        if t > 1e-9 && (-1e-9..=1.0 + 1e-9).contains(&u) && best.is_none_or(|(_, bt, _)| t < bt) {
            best = Some((i, t, u.clamp(0.0, 1.0) * e.norm()));
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similarities_compose_and_invert() {
        let a = Similarity {
            rotation: 0.7,
            scale: 1.3,
            translation: Vector2::new(2.0, -1.0),
        };
        let b = Similarity {
            rotation: -2.1,
            scale: 0.8,
            translation: Vector2::new(-0.5, 4.0),
        };
        let p = Point2::new(1.5, -2.5);
        let ab = a.then_after(&b);
        assert!((ab.apply(p) - a.apply(b.apply(p))).norm() < 1e-12);
        assert!((a.inverse().apply(a.apply(p)) - p).norm() < 1e-12);
    }

    #[test]
    fn umeyama_recovers_a_similarity_exactly() {
        let t = Similarity {
            rotation: 2.5,
            scale: 1.07,
            translation: Vector2::new(3.0, -7.0),
        };
        let from = [
            Point2::new(0.0, 0.0),
            Point2::new(1.0, 0.2),
            Point2::new(-0.4, 2.0),
        ];
        let to: Vec<_> = from.iter().map(|&p| t.apply(p)).collect();
        let found = umeyama(&from, &to).expect("solvable");
        assert!((found.scale - t.scale).abs() < 1e-12);
        for p in from {
            assert!((found.apply(p) - t.apply(p)).norm() < 1e-12);
        }
        // Two points (a door's two sides) determine it too.
        let found = umeyama(&from[..2], &to[..2]).expect("two points");
        assert!((found.apply(from[2]) - t.apply(from[2])).norm() < 1e-9);
        assert!(umeyama(&from[..1], &to[..1]).is_none());
    }

    #[test]
    fn rays_meet_the_nearest_wall() {
        let square = vec![
            Point2::new(-1.0, -1.0),
            Point2::new(3.0, -1.0),
            Point2::new(3.0, 1.0),
            Point2::new(-1.0, 1.0),
        ];
        let (wall, t, along) =
            ray_hit(&square, Point2::origin(), Vector2::new(1.0, 0.0)).expect("hit");
        assert_eq!(wall, 1);
        assert!((t - 3.0).abs() < 1e-12 && (along - 1.0).abs() < 1e-12);
        assert!(contains(&square, Point2::new(2.9, 0.9)));
        assert!(!contains(&square, Point2::new(3.1, 0.0)));
    }
}
