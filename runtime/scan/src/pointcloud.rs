//! Point clouds → rooms.
//!
//! Files: PLY (`ascii 1.0` and `binary_little_endian 1.0`; the `vertex` element's `x y z`,
//! any scalar types, other properties and later elements ignored) and XYZ (`x y z` and
//! optional further columns per line, `#` comments). Errors name the file and, for text,
//! the line.
//!
//! A room from one cloud (one room, any registered frame, metres):
//! 1. **Up.** The axis along which the most points pile up in the lowest and highest
//!    2 cm slabs (floor and ceiling) is up; the cloud is turned so it is +Y.
//! 2. **Floor and ceiling.** RANSAC planes among the lowest and highest 25 % of points,
//!    normals within 10° of up, 2 cm inlier band; the ceiling height is their distance.
//! 3. **Walls.** A horizontal slice just under the ceiling (above doors, where furniture
//!    rarely reaches) is projected on the floor; lines are fitted by sequential RANSAC
//!    (3 cm band) and least squares, ordered by angle around the slice's centre and
//!    intersected into the floor polygon, then regularized as panorama layouts are.
//! 4. **Doors** are gaps: along each wall, a slice at 0.3–1.2 m with no point within
//!    5 cm of the wall over at least 0.6 m (and at most 2.5 m) is a door, up to the
//!    lowest point above it.

use std::path::Path;

use nalgebra::{Point2, Point3, Rotation3, Vector2, Vector3};

use crate::ScanError;
use crate::layout::{regularize, signed_area};
use crate::plan::{Opening, OpeningKind};
use crate::reconstruct::LocalRoom;
use crate::synth::Noise;

/// Reads a `.ply` or `.xyz` file.
pub fn read(path: &Path) -> Result<Vec<Point3<f64>>, ScanError> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path)
        .map_err(|e| ScanError::new(&name, None, format!("cannot read: {e}")))?;
    let points = match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("ply") => ply(&name, &bytes)?,
        Some("xyz") | Some("txt") => xyz(&name, &String::from_utf8_lossy(&bytes))?,
        _ => {
            return Err(ScanError::new(
                &name,
                None,
                "a point cloud is a .ply or .xyz file",
            ));
        }
    };
    if points.is_empty() {
        return Err(ScanError::new(&name, None, "the point cloud is empty"));
    }
    Ok(points)
}

/// Parses XYZ text.
pub fn xyz(file: &str, text: &str) -> Result<Vec<Point3<f64>>, ScanError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let f: Vec<&str> = line
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|s| !s.is_empty())
            .collect();
        if f.len() < 3 {
            return Err(ScanError::new(
                file,
                Some(i + 1),
                format!("expected `x y z`, found `{line}`"),
            ));
        }
        let mut p = [0.0; 3];
        for k in 0..3 {
            p[k] = f[k]
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| {
                    ScanError::new(
                        file,
                        Some(i + 1),
                        format!("`{}` is not a finite number", f[k]),
                    )
                })?;
        }
        out.push(Point3::new(p[0], p[1], p[2]));
    }
    Ok(out)
}

#[derive(Clone, Copy)]
enum Scalar {
    I8,
    U8,
    I16,
    U16,
    I32,
    U32,
    F32,
    F64,
}

impl Scalar {
    fn parse(s: &str) -> Option<Scalar> {
        Some(match s {
            "char" | "int8" => Scalar::I8,
            "uchar" | "uint8" => Scalar::U8,
            "short" | "int16" => Scalar::I16,
            "ushort" | "uint16" => Scalar::U16,
            "int" | "int32" => Scalar::I32,
            "uint" | "uint32" => Scalar::U32,
            "float" | "float32" => Scalar::F32,
            "double" | "float64" => Scalar::F64,
            _ => return None,
        })
    }

    fn size(self) -> usize {
        match self {
            Scalar::I8 | Scalar::U8 => 1,
            Scalar::I16 | Scalar::U16 => 2,
            Scalar::I32 | Scalar::U32 | Scalar::F32 => 4,
            Scalar::F64 => 8,
        }
    }

    fn read(self, b: &[u8]) -> f64 {
        match self {
            Scalar::I8 => f64::from(b[0] as i8),
            Scalar::U8 => f64::from(b[0]),
            Scalar::I16 => f64::from(i16::from_le_bytes([b[0], b[1]])),
            Scalar::U16 => f64::from(u16::from_le_bytes([b[0], b[1]])),
            Scalar::I32 => f64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            Scalar::U32 => f64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            Scalar::F32 => f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            Scalar::F64 => f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]),
        }
    }
}

/// Parses a PLY file's vertices.
pub fn ply(file: &str, bytes: &[u8]) -> Result<Vec<Point3<f64>>, ScanError> {
    let err = |line: Option<usize>, m: String| ScanError::new(file, line, m);
    // The header is text up to `end_header\n`.
    let end = bytes
        .windows(11)
        .position(|w| w == b"end_header\n")
        .ok_or_else(|| err(None, "no `end_header` line: not a PLY file".into()))?;
    let header = std::str::from_utf8(&bytes[..end])
        .map_err(|_| err(None, "the header is not text".into()))?;
    let body = &bytes[end + 11..];
    let mut lines = header.lines().enumerate();
    if lines.next().map(|(_, l)| l.trim()) != Some("ply") {
        return Err(err(Some(1), "the first line is not `ply`".into()));
    }
    let mut binary = None;
    let mut count = None;
    let mut props: Vec<(String, Scalar)> = Vec::new();
    let mut in_vertex = false;
    let mut seen_element = false;
    for (i, line) in lines {
        let f: Vec<&str> = line.split_whitespace().collect();
        match f.as_slice() {
            ["format", "ascii", _] => binary = Some(false),
            ["format", "binary_little_endian", _] => binary = Some(true),
            ["format", other, _] => {
                return Err(err(
                    Some(i + 1),
                    format!("format `{other}` is not read; use ascii or binary_little_endian"),
                ));
            }
            ["element", "vertex", n] => {
                if seen_element {
                    return Err(err(
                        Some(i + 1),
                        "the `vertex` element must come first".into(),
                    ));
                }
                count = Some(
                    n.parse::<usize>()
                        .map_err(|_| err(Some(i + 1), format!("`{n}` is not a count")))?,
                );
                in_vertex = true;
                seen_element = true;
            }
            ["element", ..] => {
                in_vertex = false;
                seen_element = true;
            }
            ["property", "list", ..] if in_vertex => {
                return Err(err(
                    Some(i + 1),
                    "list properties on vertices are not read".into(),
                ));
            }
            ["property", ty, name] if in_vertex => {
                let s = Scalar::parse(ty)
                    .ok_or_else(|| err(Some(i + 1), format!("unknown property type `{ty}`")))?;
                props.push((name.to_string(), s));
            }
            _ => {}
        }
    }
    let binary = binary.ok_or_else(|| err(None, "no `format` line".into()))?;
    let count = count.ok_or_else(|| err(None, "no `element vertex` line".into()))?;
    let slot = |n: &str| props.iter().position(|(p, _)| p == n);
    let (Some(ix), Some(iy), Some(iz)) = (slot("x"), slot("y"), slot("z")) else {
        return Err(err(None, "the vertices have no x, y and z".into()));
    };
    let mut out = Vec::with_capacity(count);
    if binary {
        let stride: usize = props.iter().map(|(_, s)| s.size()).sum();
        if body.len() < stride * count {
            return Err(err(
                None,
                format!(
                    "{count} vertices announced, {} bytes hold only {}",
                    body.len(),
                    body.len() / stride.max(1)
                ),
            ));
        }
        let offsets: Vec<usize> = props
            .iter()
            .scan(0, |o, (_, s)| {
                let at = *o;
                *o += s.size();
                Some(at)
            })
            .collect();
        for v in 0..count {
            let rec = &body[v * stride..(v + 1) * stride];
            let get = |k: usize| props[k].1.read(&rec[offsets[k]..]);
            let p = Point3::new(get(ix), get(iy), get(iz));
            if !p.iter().all(|c| c.is_finite()) {
                return Err(err(None, format!("vertex {v} is not finite")));
            }
            out.push(p);
        }
    } else {
        let text = String::from_utf8_lossy(body);
        let header_lines = header.lines().count() + 1;
        let mut rows = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty());
        for v in 0..count {
            let Some((k, line)) = rows.next() else {
                return Err(err(None, format!("{count} vertices announced, {v} found")));
            };
            let line_no = header_lines + k + 1;
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < props.len() {
                return Err(err(
                    Some(line_no),
                    format!("expected {} values, found {}", props.len(), f.len()),
                ));
            }
            let get = |k: usize| {
                f[k].parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite())
                    .ok_or_else(|| err(Some(line_no), format!("`{}` is not a finite number", f[k])))
            };
            out.push(Point3::new(get(ix)?, get(iy)?, get(iz)?));
        }
    }
    Ok(out)
}

/// Writes points as binary little-endian PLY (float x, y, z).
pub fn write_ply(points: &[Point3<f64>]) -> Vec<u8> {
    let mut out = format!(
        "ply\nformat binary_little_endian 1.0\ncomment mj scan\nelement vertex {}\nproperty float x\nproperty float y\nproperty float z\nend_header\n",
        points.len()
    )
    .into_bytes();
    for p in points {
        for c in [p.x, p.y, p.z] {
            out.extend_from_slice(&(c as f32).to_le_bytes());
        }
    }
    out
}

/// The rotation that takes the cloud's up axis to +Y (see the module's documentation).
pub fn up_rotation(points: &[Point3<f64>]) -> Rotation3<f64> {
    let mut best = (0.0, 1usize);
    for axis in 0..3 {
        let (lo, hi) = points.iter().fold((f64::MAX, f64::MIN), |(lo, hi), p| {
            (lo.min(p[axis]), hi.max(p[axis]))
        });
        let slab = |c: f64| points.iter().filter(|p| (p[axis] - c).abs() < 0.02).count();
        let score = (slab(lo + 0.01) + slab(hi - 0.01)) as f64;
        if score > best.0 {
            best = (score, axis);
        }
    }
    let from = match best.1 {
        0 => Vector3::x(),
        1 => Vector3::y(),
        _ => Vector3::z(),
    };
    Rotation3::rotation_between(&from, &Vector3::y()).unwrap_or_else(Rotation3::identity)
}

/// A RANSAC horizontal plane among `points`: its height (mean of inliers) and inlier count.
fn horizontal_plane(points: &[Point3<f64>], rng: &mut Noise) -> Option<(f64, usize)> {
    if points.len() < 3 {
        return None;
    }
    let pick =
        |rng: &mut Noise| points[(rng.uniform() * points.len() as f64) as usize % points.len()];
    let mut best: Option<(f64, usize)> = None;
    for _ in 0..200 {
        let (a, b, c) = (pick(rng), pick(rng), pick(rng));
        let n = (b - a).cross(&(c - a));
        if n.norm() < 1e-9 {
            continue;
        }
        let n = n.normalize();
        if n.y.abs() < 10f64.to_radians().cos() {
            continue;
        }
        let d = n.dot(&a.coords);
        let inliers = points
            .iter()
            .filter(|p| (n.dot(&p.coords) - d).abs() < 0.02)
            .count();
        if best.is_none_or(|(_, k)| inliers > k) {
            let y = points
                .iter()
                .filter(|p| (n.dot(&p.coords) - d).abs() < 0.02)
                .map(|p| p.y)
                .sum::<f64>()
                / inliers as f64;
            best = Some((y, inliers));
        }
    }
    best
}

/// A fitted wall line: a point, its direction, and the extent of its inliers along it.
#[derive(Clone, Copy, Debug)]
struct Line {
    point: Point2<f64>,
    dir: Vector2<f64>,
    extent: (f64, f64),
}

fn fit_lines(mut pts: Vec<Point2<f64>>, rng: &mut Noise) -> Vec<Line> {
    let total = pts.len();
    let mut lines = Vec::new();
    while pts.len() >= 30.max(total / 50) && lines.len() < 32 {
        let mut best: Option<(Vec<usize>, Point2<f64>, Vector2<f64>)> = None;
        for _ in 0..300 {
            let a = pts[(rng.uniform() * pts.len() as f64) as usize % pts.len()];
            let b = pts[(rng.uniform() * pts.len() as f64) as usize % pts.len()];
            let d = b - a;
            if d.norm() < 0.1 {
                continue;
            }
            let d = d.normalize();
            let inl: Vec<usize> = (0..pts.len())
                .filter(|&i| (pts[i] - a).perp(&d).abs() < 0.03)
                .collect();
            if best.as_ref().is_none_or(|(b, _, _)| inl.len() > b.len()) {
                best = Some((inl, a, d));
            }
        }
        let Some((inl, _, _)) = best else { break };
        if inl.len() < 30.max(total / 50) {
            break;
        }
        // Least squares: the principal direction of the inliers.
        let c = inl.iter().map(|&i| pts[i].coords).sum::<Vector2<f64>>() / inl.len() as f64;
        let mut cov = nalgebra::Matrix2::zeros();
        for &i in &inl {
            let d = pts[i].coords - c;
            cov += d * d.transpose();
        }
        let eig = cov.symmetric_eigen();
        let k = if eig.eigenvalues[0] > eig.eigenvalues[1] {
            0
        } else {
            1
        };
        let dir = Vector2::new(eig.eigenvectors[(0, k)], eig.eigenvectors[(1, k)]).normalize();
        let point = Point2::from(c);
        let along: Vec<f64> = inl.iter().map(|&i| (pts[i] - point).dot(&dir)).collect();
        let extent = along
            .iter()
            .fold((f64::MAX, f64::MIN), |(lo, hi), &t| (lo.min(t), hi.max(t)));
        lines.push(Line { point, dir, extent });
        let keep: Vec<bool> = (0..pts.len())
            .map(|i| (pts[i] - point).perp(&dir).abs() >= 0.03)
            .collect();
        pts = pts
            .into_iter()
            .zip(keep)
            .filter(|(_, k)| *k)
            .map(|(p, _)| p)
            .collect();
    }
    lines
}

/// The room one cloud shows (see the module's documentation). `name` names the room.
pub fn room_from_points(
    file: &str,
    name: &str,
    points: &[Point3<f64>],
    manhattan: Option<f64>,
) -> Result<LocalRoom, ScanError> {
    if points.len() < 100 {
        return Err(ScanError::new(
            file,
            None,
            format!("{} points are too few for a room", points.len()),
        ));
    }
    let up = up_rotation(points);
    let pts: Vec<Point3<f64>> = points.iter().map(|p| up * p).collect();
    let (lo, hi) = pts.iter().fold((f64::MAX, f64::MIN), |(lo, hi), p| {
        (lo.min(p.y), hi.max(p.y))
    });
    let span = hi - lo;
    let mut rng = Noise(0x5eed);
    let low: Vec<Point3<f64>> = pts
        .iter()
        .filter(|p| p.y < lo + 0.25 * span)
        .copied()
        .collect();
    let high: Vec<Point3<f64>> = pts
        .iter()
        .filter(|p| p.y > hi - 0.25 * span)
        .copied()
        .collect();
    let (Some((floor_y, _)), Some((ceiling_y, _))) = (
        horizontal_plane(&low, &mut rng),
        horizontal_plane(&high, &mut rng),
    ) else {
        return Err(ScanError::new(
            file,
            None,
            "no horizontal floor and ceiling planes were found",
        ));
    };
    let height = ceiling_y - floor_y;
    if height < 1.5 {
        return Err(ScanError::new(
            file,
            None,
            format!("floor and ceiling are only {height:.2} m apart"),
        ));
    }
    let slice: Vec<Point2<f64>> = pts
        .iter()
        .filter(|p| p.y - floor_y > height - 0.6 && p.y - floor_y < height - 0.15)
        .map(|p| Point2::new(p.x, p.z))
        .collect();
    let lines = fit_lines(slice.clone(), &mut rng);
    if lines.len() < 3 {
        return Err(ScanError::new(
            file,
            None,
            format!(
                "only {} wall lines were found under the ceiling",
                lines.len()
            ),
        ));
    }
    let centre =
        Point2::from(slice.iter().map(|p| p.coords).sum::<Vector2<f64>>() / slice.len() as f64);
    let mut ordered: Vec<(f64, Line)> = lines
        .into_iter()
        .map(|l| {
            let mid = l.point + l.dir * ((l.extent.0 + l.extent.1) / 2.0);
            ((mid - centre).y.atan2((mid - centre).x), l)
        })
        .collect();
    ordered.sort_by(|a, b| a.0.total_cmp(&b.0));
    let n = ordered.len();
    let mut floor = Vec::new();
    for i in 0..n {
        let (a, b) = (ordered[i].1, ordered[(i + 1) % n].1);
        let den = a.dir.perp(&b.dir);
        if den.abs() < 0.2 {
            // Nearly parallel neighbours (a wall was missed): join their ends.
            let end_a = a.point
                + a.dir
                    * if (a.dir).dot(&(b.point - a.point)) > 0.0 {
                        a.extent.1
                    } else {
                        a.extent.0
                    };
            let end_b = b.point
                + b.dir
                    * if (b.dir).dot(&(a.point - b.point)) > 0.0 {
                        b.extent.1
                    } else {
                        b.extent.0
                    };
            floor.extend([end_a, end_b]);
        } else {
            let t = (b.point - a.point).perp(&b.dir) / den;
            floor.push(a.point + a.dir * t);
        }
    }
    if signed_area(&floor) < 0.0 {
        floor.reverse();
    }
    if let Some(tol) = manhattan {
        floor = regularize(&floor, tol);
    }
    // Shift so the floor is y = 0 in the room's frame (x, z as measured).
    let door_band: Vec<Point3<f64>> = pts
        .iter()
        .filter(|p| (0.3..1.2).contains(&(p.y - floor_y)))
        .copied()
        .collect();
    let above: Vec<Point3<f64>> = pts
        .iter()
        .filter(|p| p.y - floor_y > 1.2)
        .copied()
        .collect();
    let mut openings = Vec::new();
    let m = floor.len();
    for w in 0..m {
        let (a, b) = (floor[w], floor[(w + 1) % m]);
        let len = (b - a).norm();
        let d = (b - a) / len;
        let bins = (len / 0.05).floor() as usize;
        if bins == 0 {
            continue;
        }
        let mut hit = vec![false; bins];
        for p in &door_band {
            let q = Point2::new(p.x, p.z) - a;
            let (t, off) = (q.dot(&d), q.perp(&d).abs());
            if off < 0.05 && t >= 0.0 && t < len {
                hit[((t / 0.05) as usize).min(bins - 1)] = true;
            }
        }
        let mut k = 0;
        while k < bins {
            if hit[k] {
                k += 1;
                continue;
            }
            let s = k;
            while k < bins && !hit[k] {
                k += 1;
            }
            let (start, end) = (s as f64 * 0.05, k as f64 * 0.05);
            // Gaps at a wall's ends are corners the slice did not reach, not doors.
            if (0.6..=2.5).contains(&(end - start)) && s > 0 && k < bins {
                let top = above
                    .iter()
                    .filter(|p| {
                        let q = Point2::new(p.x, p.z) - a;
                        let t = q.dot(&d);
                        q.perp(&d).abs() < 0.05 && t > start + 0.1 && t < end - 0.1
                    })
                    .map(|p| p.y - floor_y)
                    .fold(height, f64::min);
                openings.push(Opening {
                    kind: OpeningKind::Door,
                    id: None,
                    wall: w,
                    start,
                    end,
                    bottom: 0.0,
                    top,
                });
            }
        }
    }
    Ok(LocalRoom {
        name: name.to_string(),
        file: String::new(),
        floor,
        height,
        openings,
        camera_height: 0.0,
        transform: None,
        tilt: Rotation3::identity(),
    })
}

/// The room a cloud file shows, named after the file.
pub fn room_from_file(path: &Path, manhattan: Option<f64>) -> Result<LocalRoom, ScanError> {
    let points = read(path)?;
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default();
    room_from_points(&path.display().to_string(), &name, &points, manhattan)
}

/// Points on a plan room's surfaces (floor, ceiling, walls without their doors and
/// openings), `per_m2` per square metre, with `sigma` metres of noise, and a box of
/// furniture; for tests and the example.
pub fn sample_room(
    room: &crate::plan::PlanRoom,
    per_m2: f64,
    sigma: f64,
    seed: u64,
) -> Vec<Point3<f64>> {
    let mut rng = Noise(seed);
    let mut out = Vec::new();
    let (min, max) = room.floor.iter().fold(
        (
            Point2::new(f64::MAX, f64::MAX),
            Point2::new(f64::MIN, f64::MIN),
        ),
        |(lo, hi), p| {
            (
                Point2::new(lo.x.min(p.x), lo.y.min(p.y)),
                Point2::new(hi.x.max(p.x), hi.y.max(p.y)),
            )
        },
    );
    let bbox = (max.x - min.x) * (max.y - min.y);
    for y in [0.0, room.height] {
        for _ in 0..(bbox * per_m2) as usize {
            let p = Point2::new(
                min.x + rng.uniform() * (max.x - min.x),
                min.y + rng.uniform() * (max.y - min.y),
            );
            if crate::plan::contains(&room.floor, p) {
                out.push(Point3::new(
                    p.x + rng.normal(sigma),
                    y + rng.normal(sigma),
                    p.y + rng.normal(sigma),
                ));
            }
        }
    }
    for w in 0..room.floor.len() {
        let (a, b) = room.wall(w);
        let len = (b - a).norm();
        let d = (b - a) / len;
        for _ in 0..(len * room.height * per_m2) as usize {
            let (t, y) = (rng.uniform() * len, rng.uniform() * room.height);
            let open = room.openings.iter().any(|o| {
                o.wall == w
                    && o.kind != OpeningKind::Window
                    && (o.start..o.end).contains(&t)
                    && (o.bottom..o.top).contains(&y)
            });
            if open {
                continue;
            }
            let p = a + d * t;
            out.push(Point3::new(
                p.x + rng.normal(sigma),
                y + rng.normal(sigma),
                p.y + rng.normal(sigma),
            ));
        }
    }
    // A sofa-sized box near the room's label point: clutter below the wall slice.
    let c = crate::svg::label_point(&room.floor);
    for _ in 0..(4.0 * per_m2) as usize {
        out.push(Point3::new(
            c.x + rng.uniform() * 2.0 - 1.0,
            rng.uniform() * 0.8,
            c.y + rng.uniform() * 0.9 - 0.45,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{area, iou_2d};
    use crate::synth;

    #[test]
    fn a_noisy_z_up_cloud_of_the_living_room_gives_back_its_floor_height_and_doors() {
        let plan = synth::showroom();
        let living = &plan.rooms[1];
        let pts = sample_room(living, 400.0, 0.01, 3);
        // Stored Z-up, as many scanners do.
        let z_up: Vec<Point3<f64>> = pts.iter().map(|p| Point3::new(p.x, -p.z, p.y)).collect();
        let bytes = write_ply(&z_up);
        let read = ply("living.ply", &bytes).expect("ply");
        assert_eq!(read.len(), z_up.len());
        let room = room_from_points("living.ply", "living", &read, Some(10f64.to_radians()))
            .expect("room");
        // Turning Z up to Y is a quarter turn about X, which restores the original frame.
        let iou = iou_2d(&room.floor, &living.floor);
        assert!(iou > 0.98, "IoU {iou}, floor {:?}", room.floor);
        assert!((area(&room.floor) - area(&living.floor)).abs() / area(&living.floor) < 0.02);
        assert!(
            (room.height - living.height).abs() < 0.02,
            "height {}",
            room.height
        );
        assert_eq!(room.floor.len(), 5, "the 135° wall stays: {:?}", room.floor);
        // Two doors (to the hall and the kitchen), each about 1 m wide.
        let doors: Vec<&Opening> = room
            .openings
            .iter()
            .filter(|o| o.kind == OpeningKind::Door)
            .collect();
        assert_eq!(doors.len(), 2, "{:?}", room.openings);
        for d in doors {
            assert!((d.end - d.start - 1.0).abs() < 0.15, "{d:?}");
            assert!((d.top - 2.1).abs() < 0.1, "{d:?}");
        }
    }

    #[test]
    fn bad_clouds_name_the_file_and_line() {
        let e = xyz("a.xyz", "1 2 3\n4 five 6\n").expect_err("word");
        assert_eq!(e.to_string(), "a.xyz:2: `five` is not a finite number");
        let e = xyz("a.xyz", "1 2 3\n4 NaN 6\n").expect_err("nan");
        assert_eq!(e.line, Some(2));
        let e = ply("a.ply", b"ply\nformat ascii 1.0\nelement vertex 2\nproperty float x\nproperty float y\nproperty float z\nend_header\n1 2 3\n1 x 3\n")
            .expect_err("ascii word");
        assert_eq!(e.line, Some(9));
        let e = ply("a.ply", b"ply\nformat binary_little_endian 1.0\nelement vertex 5\nproperty float x\nproperty float y\nproperty float z\nend_header\n\0\0\0\0")
            .expect_err("short");
        assert!(e.message.contains("5 vertices"), "{e}");
        let e = ply("a.ply", b"ply\nformat binary_big_endian 1.0\nend_header\n")
            .expect_err("big endian");
        assert_eq!(e.line, Some(2));
        let e = room_from_points("a.ply", "a", &[], None).expect_err("empty");
        assert!(e.message.contains("too few"), "{e}");
    }
}
