//! Pixel ↔ sphere ↔ room.
//!
//! An equirectangular panorama of `W × H` pixels (`W = 2H`) maps longitude
//! −π…π to columns and latitude π/2…−π/2 to rows. Two conventions place a pixel's
//! coordinate differently, and both are in use:
//!
//! | convention | column → longitude | row → latitude |
//! |---|---|---|
//! | [`Convention::HorizonNet`] (pixel centres) | `((x + 0.5) / W − 0.5) · 2π` | `−((y + 0.5) / H − 0.5) · π` |
//! | [`Convention::Zind`] (`W − 1` scaling) | `(x / (W − 1) − 0.5) · 2π` | `−(y / (H − 1) − 0.5) · π` |
//!
//! A direction (longitude λ, latitude φ) is the unit vector
//! `(cos φ · sin λ, sin φ, cos φ · cos λ)`: +Y up, λ = 0 along +Z, λ = π/2 along +X.
//! With the camera `h` metres above the floor, a floor pixel (φ < 0) is the point where
//! its ray meets `y = −h`; a ceiling pixel (φ > 0) meets `y = c − h` for ceiling height `c`.

use nalgebra::{Point3, Rotation3, Vector3};

use crate::ScanError;

/// Where a pixel coordinate sits within its pixel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Convention {
    /// Coordinates are pixel corners; a pixel's centre is `x + 0.5` (HorizonNet,
    /// LayoutNet, PanoAnnotator).
    HorizonNet,
    /// The first and last columns are the ends of the longitude range: `x / (W − 1)`
    /// (Zillow Indoor Dataset).
    Zind,
}

/// The image geometry of one panorama.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pano {
    pub width: u32,
    pub height: u32,
    pub convention: Convention,
}

impl Pano {
    /// A panorama of `width × height` pixels; equirectangular images are 2:1.
    pub fn new(
        file: &str,
        width: u32,
        height: u32,
        convention: Convention,
    ) -> Result<Pano, ScanError> {
        if height < 2 || width != 2 * height {
            return Err(ScanError::new(
                file,
                None,
                format!(
                    "a panorama is equirectangular, 2:1; this one is {width} × {height} pixels"
                ),
            ));
        }
        Ok(Pano {
            width,
            height,
            convention,
        })
    }

    fn scale(&self) -> (f64, f64, f64) {
        let (w, h) = (f64::from(self.width), f64::from(self.height));
        match self.convention {
            Convention::HorizonNet => (w, h, 0.5),
            Convention::Zind => (w - 1.0, h - 1.0, 0.0),
        }
    }

    /// (longitude, latitude) of a pixel coordinate, in radians.
    pub fn pixel_to_angles(&self, x: f64, y: f64) -> (f64, f64) {
        let (w, h, offset) = self.scale();
        let lon = ((x + offset) / w - 0.5) * std::f64::consts::TAU;
        let lat = -((y + offset) / h - 0.5) * std::f64::consts::PI;
        (lon, lat)
    }

    /// The pixel coordinate of (longitude, latitude).
    pub fn angles_to_pixel(&self, lon: f64, lat: f64) -> (f64, f64) {
        let (w, h, offset) = self.scale();
        let x = (lon / std::f64::consts::TAU + 0.5) * w - offset;
        let y = (0.5 - lat / std::f64::consts::PI) * h - offset;
        (x, y)
    }
}

/// The unit direction of (longitude, latitude).
pub fn angles_to_ray(lon: f64, lat: f64) -> Vector3<f64> {
    Vector3::new(lat.cos() * lon.sin(), lat.sin(), lat.cos() * lon.cos())
}

/// (longitude, latitude) of a direction (any length but zero).
pub fn ray_to_angles(v: &Vector3<f64>) -> (f64, f64) {
    let horizontal = v.x.hypot(v.z);
    (v.x.atan2(v.z), v.y.atan2(horizontal))
}

/// The floor point a direction below the horizon sees, the camera `camera_height`
/// metres above the floor; `None` at or above the horizon.
pub fn floor_point(lon: f64, lat: f64, camera_height: f64) -> Option<Point3<f64>> {
    plane_point(lon, lat, -camera_height)
}

/// The ceiling point a direction above the horizon sees, for a ceiling
/// `ceiling_height` metres above the floor; `None` at or below the horizon.
pub fn ceiling_point(
    lon: f64,
    lat: f64,
    camera_height: f64,
    ceiling_height: f64,
) -> Option<Point3<f64>> {
    plane_point(lon, lat, ceiling_height - camera_height)
}

/// Where the ray meets the horizontal plane `y = plane_y`.
fn plane_point(lon: f64, lat: f64, plane_y: f64) -> Option<Point3<f64>> {
    let ray = angles_to_ray(lon, lat);
    if ray.y.abs() < 1e-12 || ray.y.signum() != plane_y.signum() {
        return None;
    }
    let t = plane_y / ray.y;
    Some(Point3::from(ray * t))
}

/// The camera's tilt, from corner annotations: in an upright panorama a wall corner's
/// vertical edge is a meridian, so its ceiling and floor corners share a longitude. The
/// rotation `R = Rx(a) · Rz(b)` minimizing the squared longitude differences of the pairs
/// (Gauss–Newton from `R = I`) takes the image's rays to upright ones; the corners are
/// rewritten as an upright camera would have seen them. With fewer than three pairs the
/// tilt cannot be told apart from the walls, and `I` is returned.
pub fn upright(pano: &Pano, corners: &mut [crate::annotations::CornerPair]) -> Rotation3<f64> {
    if corners.len() < 3 {
        return Rotation3::identity();
    }
    let rays: Vec<(Vector3<f64>, Vector3<f64>)> = corners
        .iter()
        .map(|c| {
            let (l1, p1) = pano.pixel_to_angles(c.ceiling.0, c.ceiling.1);
            let (l2, p2) = pano.pixel_to_angles(c.floor.0, c.floor.1);
            (angles_to_ray(l1, p1), angles_to_ray(l2, p2))
        })
        .collect();
    let rotation = |a: f64, b: f64| {
        Rotation3::from_axis_angle(&Vector3::x_axis(), a)
            * Rotation3::from_axis_angle(&Vector3::z_axis(), b)
    };
    let residuals = |a: f64, b: f64| -> Vec<f64> {
        let r = rotation(a, b);
        rays.iter()
            .map(|(c, f)| {
                let d = ray_to_angles(&(r * c)).0 - ray_to_angles(&(r * f)).0;
                (d + std::f64::consts::PI).rem_euclid(std::f64::consts::TAU) - std::f64::consts::PI
            })
            .collect()
    };
    let (mut a, mut b) = (0.0, 0.0);
    for _ in 0..30 {
        let r0 = residuals(a, b);
        let h = 1e-7;
        let ra = residuals(a + h, b);
        let rb = residuals(a, b + h);
        let (mut jtj, mut jtr) = (nalgebra::Matrix2::zeros(), nalgebra::Vector2::zeros());
        for k in 0..r0.len() {
            let j = nalgebra::Vector2::new((ra[k] - r0[k]) / h, (rb[k] - r0[k]) / h);
            jtj += j * j.transpose();
            jtr += j * r0[k];
        }
        let Some(step) = (jtj + nalgebra::Matrix2::identity() * 1e-12)
            .try_inverse()
            .map(|m| m * jtr)
        else {
            break;
        };
        a -= step.x;
        b -= step.y;
        if step.norm() < 1e-12 {
            break;
        }
    }
    let r = rotation(a, b);
    for c in corners.iter_mut() {
        let fix = |(x, y): (f64, f64)| {
            let (lon, lat) = pano.pixel_to_angles(x, y);
            let (lon, lat) = ray_to_angles(&(r * angles_to_ray(lon, lat)));
            pano.angles_to_pixel(lon, lat)
        };
        c.ceiling = fix(c.ceiling);
        c.floor = fix(c.floor);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pixels_angles_and_rays_round_trip() {
        for convention in [Convention::HorizonNet, Convention::Zind] {
            let pano = Pano::new("p.jpg", 2048, 1024, convention).expect("2:1");
            for &(x, y) in &[
                (0.0, 0.0),
                (1023.5, 511.25),
                (2047.0, 1023.0),
                (17.3, 900.9),
            ] {
                let (lon, lat) = pano.pixel_to_angles(x, y);
                let (x2, y2) = pano.angles_to_pixel(lon, lat);
                assert!(
                    (x - x2).abs() < 1e-9 && (y - y2).abs() < 1e-9,
                    "{convention:?} {x} {y}"
                );
                let (lon2, lat2) = ray_to_angles(&angles_to_ray(lon, lat));
                assert!((lon - lon2).abs() < 1e-9 && (lat - lat2).abs() < 1e-9);
            }
        }
    }

    #[test]
    fn the_two_conventions_differ_by_their_offset_and_scale() {
        let hn = Pano::new("p.jpg", 1024, 512, Convention::HorizonNet).expect("2:1");
        let zind = Pano::new("p.jpg", 1024, 512, Convention::Zind).expect("2:1");
        let pi = std::f64::consts::PI;
        // Column 0: ZInD puts it at −π exactly, HorizonNet half a pixel in.
        assert!((zind.pixel_to_angles(0.0, 0.0).0 + pi).abs() < 1e-12);
        assert!((hn.pixel_to_angles(0.0, 0.0).0 - (-pi + pi / 1024.0)).abs() < 1e-12);
        // The last column: +π for ZInD, half a pixel short of it for HorizonNet.
        assert!((zind.pixel_to_angles(1023.0, 0.0).0 - pi).abs() < 1e-12);
        assert!((hn.pixel_to_angles(1023.0, 0.0).0 - (pi - pi / 1024.0)).abs() < 1e-12);
        // The middle of the image: the same direction in both.
        let (a, _) = hn.pixel_to_angles(511.5, 255.5);
        let (b, _) = zind.pixel_to_angles(511.5, 255.5);
        assert!(a.abs() < 1e-12 && b.abs() < 1e-12);
    }

    #[test]
    fn floor_and_ceiling_points_lie_on_their_planes_and_round_trip() {
        let p = Point3::new(1.25, -1.6, 3.5);
        let (lon, lat) = ray_to_angles(&p.coords);
        let q = floor_point(lon, lat, 1.6).expect("below the horizon");
        assert!((p - q).norm() < 1e-9);
        assert!(floor_point(lon, -lat, 1.6).is_none());
        let c = Point3::new(-2.0, 1.2, -0.5);
        let (lon, lat) = ray_to_angles(&c.coords);
        let d = ceiling_point(lon, lat, 1.6, 2.8).expect("above the horizon");
        assert!((c - d).norm() < 1e-9);
    }

    #[test]
    fn a_panorama_that_is_not_two_to_one_is_refused() {
        let e = Pano::new("scans/sh/a.jpg", 1000, 600, Convention::HorizonNet).expect_err("4:3");
        assert_eq!(e.file, "scans/sh/a.jpg");
        assert!(e.message.contains("1000 × 600"), "{e}");
    }
}
