//! A floor plan as a mesh: each room a closed shell of floor, ceiling and walls, its
//! doors and windows cut out of the walls as panels of their own.
//!
//! Each wall is cut on a grid whose lines are its openings' sides and the room's sills and
//! tops, so
//! every cell is either wall or opening and neighbouring cells share their vertices; the
//! floor's and ceiling's outlines carry the same cuts, so the shell has no T-junctions
//! and every edge is shared by exactly two triangles ([`closed`] checks it). Triangles
//! face into the room (a viewer outside sees through the walls facing it, as a
//! dollhouse view wants).
//!
//! Every surface is drawn on a *canvas*: a rectangle in space (origin, `u` and `v`
//! edges) that one texture covers, `(0, 0)` at its image's top-left corner. A wall and
//! its openings share the wall's canvas.

use nalgebra::{Point2, Point3, Vector3};

use crate::layout::triangulate;
use crate::plan::FloorPlan;

/// What a canvas covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CanvasKind {
    Floor,
    Ceiling,
    Wall(usize),
}

/// A rectangle of space one texture covers: texture (s, t) ∈ [0, 1]² is the point
/// `origin + s · u + t · v`.
#[derive(Clone, Debug, PartialEq)]
pub struct Canvas {
    pub room: usize,
    pub kind: CanvasKind,
    pub origin: Point3<f64>,
    pub u: Vector3<f64>,
    pub v: Vector3<f64>,
    /// Into the room.
    pub normal: Vector3<f64>,
}

impl Canvas {
    pub fn point(&self, s: f64, t: f64) -> Point3<f64> {
        self.origin + self.u * s + self.v * t
    }

    /// (s, t) of a point on the canvas's plane.
    pub fn st(&self, p: &Point3<f64>) -> [f64; 2] {
        let d = p - self.origin;
        [
            d.dot(&self.u) / self.u.norm_squared(),
            d.dot(&self.v) / self.v.norm_squared(),
        ]
    }

    /// Width and height in metres.
    pub fn size(&self) -> (f64, f64) {
        (self.u.norm(), self.v.norm())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Floor,
    Ceiling,
    Wall,
    /// The wall's doors, windows and openings.
    Openings,
}

/// Triangles of one role on one canvas.
#[derive(Clone, Debug, PartialEq)]
pub struct Surface {
    pub canvas: usize,
    pub role: Role,
    pub positions: Vec<Point3<f64>>,
    pub indices: Vec<[u32; 3]>,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct Mesh {
    pub canvases: Vec<Canvas>,
    pub surfaces: Vec<Surface>,
}

const EPS: f64 = 1e-7;

fn breaks(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    v.dedup_by(|a, b| (*a - *b).abs() < EPS);
    v
}

/// The mesh of every room of the plan.
pub fn build(plan: &FloorPlan) -> Mesh {
    let up = Vector3::y();
    let mut mesh = Mesh::default();
    for (r, room) in plan.rooms.iter().enumerate() {
        let n = room.floor.len();
        let h = room.height;
        // The outline with every wall's cuts, for the floor and the ceiling.
        let mut outline: Vec<Point2<f64>> = Vec::new();
        // Heights are cut the same on every wall, so walls meet at corners without
        // T-junctions.
        let mut ys = vec![0.0, h];
        for o in &room.openings {
            ys.extend([o.bottom.clamp(0.0, h), o.top.clamp(0.0, h)]);
        }
        let ys = breaks(ys);
        for i in 0..n {
            let (a, b) = room.wall(i);
            let len = (b - a).norm();
            let dir = (b - a) / len;
            let mut xs = vec![0.0, len];
            for o in room.openings.iter().filter(|o| o.wall == i) {
                xs.extend([o.start.clamp(0.0, len), o.end.clamp(0.0, len)]);
            }
            let xs = breaks(xs);
            for &x in &xs[..xs.len() - 1] {
                outline.push(if x == 0.0 { a } else { a + dir * x });
            }
            let a3 = Point3::new(a.x, 0.0, a.y);
            let d3 = Vector3::new(dir.x, 0.0, dir.y);
            let canvas = mesh.canvases.len();
            mesh.canvases.push(Canvas {
                room: r,
                kind: CanvasKind::Wall(i),
                origin: a3 + up * h,
                u: d3 * len,
                v: -up * h,
                normal: Vector3::new(-dir.y, 0.0, dir.x),
            });
            let b3 = Point3::new(b.x, 0.0, b.y);
            let at = |x: f64, y: f64| {
                let base = if x == len { b3 } else { a3 + d3 * x };
                base + up * y
            };
            let mut wall = Surface {
                canvas,
                role: Role::Wall,
                positions: Vec::new(),
                indices: Vec::new(),
            };
            let mut holes = Surface {
                canvas,
                role: Role::Openings,
                positions: Vec::new(),
                indices: Vec::new(),
            };
            for xi in 0..xs.len() - 1 {
                for yi in 0..ys.len() - 1 {
                    let (x0, x1, y0, y1) = (xs[xi], xs[xi + 1], ys[yi], ys[yi + 1]);
                    let (mx, my) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
                    let hole = room.openings.iter().any(|o| {
                        o.wall == i
                            && (o.start..=o.end).contains(&mx)
                            && (o.bottom..=o.top).contains(&my)
                    });
                    let s = if hole { &mut holes } else { &mut wall };
                    let k = s.positions.len() as u32;
                    s.positions
                        .extend([at(x0, y0), at(x1, y0), at(x1, y1), at(x0, y1)]);
                    s.indices.extend([[k, k + 1, k + 2], [k, k + 2, k + 3]]);
                }
            }
            mesh.surfaces.push(wall);
            if !holes.indices.is_empty() {
                mesh.surfaces.push(holes);
            }
        }
        let (min, max) = outline.iter().fold(
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
        let tris = triangulate(&outline);
        for (kind, y) in [(CanvasKind::Floor, 0.0), (CanvasKind::Ceiling, h)] {
            let canvas = mesh.canvases.len();
            mesh.canvases.push(Canvas {
                room: r,
                kind,
                origin: Point3::new(min.x, y, min.y),
                u: Vector3::new(max.x - min.x, 0.0, 0.0),
                v: Vector3::new(0.0, 0.0, max.y - min.y),
                normal: if y == 0.0 { up } else { -up },
            });
            let positions = outline.iter().map(|p| Point3::new(p.x, y, p.y)).collect();
            let indices = tris
                .iter()
                .map(|&[a, b, c]| {
                    let t = [a as u32, b as u32, c as u32];
                    if kind == CanvasKind::Floor {
                        [t[0], t[2], t[1]]
                    } else {
                        t
                    }
                })
                .collect();
            let role = if kind == CanvasKind::Floor {
                Role::Floor
            } else {
                Role::Ceiling
            };
            mesh.surfaces.push(Surface {
                canvas,
                role,
                positions,
                indices,
            });
        }
    }
    mesh
}

/// Checks that each room's surfaces form a closed, consistently oriented shell: with
/// vertices welded at 0.01 mm, every directed edge appears once and its reverse once.
/// Returns each room's enclosed volume (m³, positive when triangles face inwards).
pub fn closed(mesh: &Mesh) -> Result<Vec<f64>, String> {
    use std::collections::HashMap;
    let rooms = mesh.canvases.iter().map(|c| c.room + 1).max().unwrap_or(0);
    let mut volumes = Vec::new();
    for r in 0..rooms {
        let mut ids: HashMap<[i64; 3], usize> = HashMap::new();
        let mut at: Vec<Point3<f64>> = Vec::new();
        let mut edges: HashMap<(usize, usize), i32> = HashMap::new();
        let mut volume = 0.0;
        for s in mesh
            .surfaces
            .iter()
            .filter(|s| mesh.canvases[s.canvas].room == r)
        {
            let key = |p: &Point3<f64>| [p.x, p.y, p.z].map(|c| (c * 1e5).round() as i64);
            let welded: Vec<usize> = s
                .positions
                .iter()
                .map(|p| {
                    let n = ids.len();
                    let id = *ids.entry(key(p)).or_insert(n);
                    if id == at.len() {
                        at.push(*p);
                    }
                    id
                })
                .collect();
            for t in &s.indices {
                let v = t.map(|i| welded[i as usize]);
                if v[0] == v[1] || v[1] == v[2] || v[0] == v[2] {
                    return Err(format!("room {r}: a degenerate triangle"));
                }
                for k in 0..3 {
                    *edges.entry((v[k], v[(k + 1) % 3])).or_default() += 1;
                }
                let p = t.map(|i| s.positions[i as usize].coords);
                volume += p[0].dot(&p[1].cross(&p[2])) / 6.0;
            }
        }
        for (&(a, b), &count) in &edges {
            let back = edges.get(&(b, a)).copied().unwrap_or(0);
            if count != 1 || back != 1 {
                let (p, q) = (at[a], at[b]);
                return Err(format!(
                    "room {r}: edge ({:.3}, {:.3}, {:.3}) → ({:.3}, {:.3}, {:.3}) is used {count} time(s), backwards {back} time(s)",
                    p.x, p.y, p.z, q.x, q.y, q.z
                ));
            }
        }
        volumes.push(-volume);
    }
    Ok(volumes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::area;
    use crate::synth;

    #[test]
    fn every_room_of_the_showroom_is_a_closed_shell_of_its_volume() {
        let plan = synth::showroom();
        let mesh = build(&plan);
        let volumes = closed(&mesh).expect("closed");
        for (room, v) in plan.rooms.iter().zip(volumes) {
            let want = area(&room.floor) * room.height;
            assert!(
                (v - want).abs() < 1e-6,
                "{}: {v} m³, want {want}",
                room.name
            );
        }
        // The doors and windows are panels of their own: 3 + 3 + 2 + 2 openings.
        let openings = mesh
            .surfaces
            .iter()
            .filter(|s| s.role == Role::Openings)
            .count();
        assert_eq!(openings, 10);
        // Normals face into the room: the floor's triangles turn counter-clockwise seen from above.
        for s in &mesh.surfaces {
            let c = &mesh.canvases[s.canvas];
            for t in &s.indices {
                let p = t.map(|i| s.positions[i as usize]);
                let n = (p[1] - p[0]).cross(&(p[2] - p[0]));
                assert!(n.dot(&c.normal) > 0.0, "{:?} faces out", s.role);
            }
        }
    }

    #[test]
    fn a_cut_shell_is_caught() {
        let plan = synth::showroom();
        let mut mesh = build(&plan);
        let wall = mesh
            .surfaces
            .iter()
            .position(|s| s.role == Role::Wall)
            .expect("a wall");
        mesh.surfaces[wall].indices.pop();
        assert!(closed(&mesh).is_err());
    }
}
