//! The floor plan as SVG: rooms with their names and areas, walls with their lengths,
//! doors (a gap, the leaf and its swing), windows, panorama positions and hotspots; a
//! scale bar and the total area. Seen from above: +X to the right, +Z down the page,
//! 100 user units to the metre.

use std::fmt::Write;

use nalgebra::Point2;

use crate::export::Anchor;
use crate::layout::{area, signed_area, triangulate};
use crate::plan::{FloorPlan, OpeningKind, contains};

const SCALE: f64 = 100.0;

/// A point inside the polygon for its label: the centroid when it is inside, else the
/// centroid of the largest triangle of its triangulation.
pub fn label_point(poly: &[Point2<f64>]) -> Point2<f64> {
    let a = signed_area(poly);
    let n = poly.len();
    if a.abs() > 1e-12 {
        let (mut cx, mut cy) = (0.0, 0.0);
        for i in 0..n {
            let (p, q) = (poly[i], poly[(i + 1) % n]);
            let k = p.x * q.y - q.x * p.y;
            cx += (p.x + q.x) * k;
            cy += (p.y + q.y) * k;
        }
        let c = Point2::new(cx / (6.0 * a), cy / (6.0 * a));
        if contains(poly, c) {
            return c;
        }
    }
    triangulate(poly)
        .into_iter()
        .map(|[i, j, k]| (poly[i], poly[j], poly[k]))
        .max_by(|x, y| tri_area(x).total_cmp(&tri_area(y)))
        .map(|(a, b, c)| Point2::from((a.coords + b.coords + c.coords) / 3.0))
        .unwrap_or_else(|| poly.first().copied().unwrap_or_else(Point2::origin))
}

fn tri_area((a, b, c): &(Point2<f64>, Point2<f64>, Point2<f64>)) -> f64 {
    ((b - a).perp(&(c - a)) / 2.0).abs()
}

pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The SVG text of the plan.
pub fn floorplan(title: &str, plan: &FloorPlan, anchors: &[Anchor]) -> String {
    let pts = plan.rooms.iter().flat_map(|r| r.floor.iter());
    let (mut min, mut max) = (
        Point2::new(f64::MAX, f64::MAX),
        Point2::new(f64::MIN, f64::MIN),
    );
    for p in pts {
        min = Point2::new(min.x.min(p.x), min.y.min(p.y));
        max = Point2::new(max.x.max(p.x), max.y.max(p.y));
    }
    if min.x > max.x {
        (min, max) = (Point2::origin(), Point2::new(1.0, 1.0));
    }
    let margin = 1.5;
    let (x0, y0) = ((min.x - margin) * SCALE, (min.y - margin) * SCALE);
    let (w, h) = (
        (max.x - min.x + 2.0 * margin) * SCALE,
        (max.y - min.y + 2.0 * margin + 0.8) * SCALE,
    );
    let s = |v: f64| format!("{:.1}", v * SCALE);
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="{x0:.1} {y0:.1} {w:.1} {h:.1}" width="{:.0}" height="{:.0}" font-family="sans-serif">"#,
        w / 2.0,
        h / 2.0
    );
    let total: f64 = plan.rooms.iter().map(|r| area(&r.floor)).sum();
    let _ = writeln!(out, r#"<title>{}</title>"#, escape(title));
    let _ = writeln!(
        out,
        r##"<rect x="{x0:.1}" y="{y0:.1}" width="{w:.1}" height="{h:.1}" fill="#ffffff"/>"##
    );
    const FILLS: [&str; 6] = [
        "#f3ede2", "#e6eef3", "#eef3e4", "#f5e8e6", "#ece8f5", "#f5f2e0",
    ];
    // Rooms.
    for (i, r) in plan.rooms.iter().enumerate() {
        let points: Vec<String> = r
            .floor
            .iter()
            .map(|p| format!("{},{}", s(p.x), s(p.y)))
            .collect();
        let _ = writeln!(
            out,
            r#"<polygon class="room" data-room="{}" points="{}" fill="{}"/>"#,
            escape(&r.name),
            points.join(" "),
            FILLS[i % FILLS.len()]
        );
    }
    // Walls, with gaps for doors and openings and thin glass for windows.
    for r in &plan.rooms {
        for i in 0..r.floor.len() {
            let (a, b) = r.wall(i);
            let len = (b - a).norm();
            let d = (b - a) / len;
            let mut cuts: Vec<(f64, f64, OpeningKind)> = r
                .openings
                .iter()
                .filter(|o| o.wall == i)
                .map(|o| (o.start, o.end, o.kind))
                .collect();
            cuts.sort_by(|x, y| x.0.total_cmp(&y.0));
            let mut at = 0.0;
            for &(from, to, _) in &cuts {
                if from > at {
                    line(&mut out, a + d * at, a + d * from, "#2b2b2b", 12.0, "wall");
                }
                at = at.max(to);
            }
            if at < len {
                line(&mut out, a + d * at, b, "#2b2b2b", 12.0, "wall");
            }
            let inward = nalgebra::Vector2::new(-d.y, d.x);
            for &(from, to, kind) in &cuts {
                let (p, q) = (a + d * from, a + d * to);
                match kind {
                    OpeningKind::Window => {
                        line(&mut out, p, q, "#7fb2d9", 12.0, "window");
                        line(&mut out, p, q, "#ffffff", 4.0, "window");
                    }
                    OpeningKind::Door => {
                        // The leaf, hinged at the door's start, open into the room.
                        let tip = p + inward * (to - from);
                        line(&mut out, p, tip, "#8a5a2b", 3.0, "door");
                        let sweep = if signed_area(&r.floor) > 0.0 { 1 } else { 0 };
                        let _ = writeln!(
                            out,
                            r##"<path class="door" d="M {} {} A {} {} 0 0 {sweep} {} {}" fill="none" stroke="#8a5a2b" stroke-width="1.5" stroke-dasharray="6 4"/>"##,
                            s(tip.x),
                            s(tip.y),
                            s(to - from),
                            s(to - from),
                            s(q.x),
                            s(q.y)
                        );
                    }
                    OpeningKind::Opening => {}
                }
            }
            // The wall's length, inside the room along the wall.
            let m = a + d * (len / 2.0) + inward * 0.3;
            let mut angle = d.y.atan2(d.x).to_degrees();
            if angle > 90.0 {
                angle -= 180.0;
            } else if angle < -90.0 {
                angle += 180.0;
            }
            let _ = writeln!(
                out,
                r##"<text class="dimension" x="{}" y="{}" font-size="18" fill="#555" text-anchor="middle" dominant-baseline="middle" transform="rotate({angle:.1} {} {})">{len:.2} m</text>"##,
                s(m.x),
                s(m.y),
                s(m.x),
                s(m.y)
            );
        }
    }
    // Names and areas.
    for r in &plan.rooms {
        let c = label_point(&r.floor);
        let _ = writeln!(
            out,
            r##"<text class="label" x="{}" y="{}" font-size="30" font-weight="bold" fill="#222" text-anchor="middle">{}</text>"##,
            s(c.x),
            s(c.y),
            escape(&r.name)
        );
        let _ = writeln!(
            out,
            r##"<text class="area" x="{}" y="{}" font-size="24" fill="#444" text-anchor="middle">{:.1} m²</text>"##,
            s(c.x),
            s(c.y + 0.35),
            area(&r.floor)
        );
    }
    for v in &plan.views {
        let _ = writeln!(
            out,
            r##"<circle class="panorama" data-file="{}" cx="{}" cy="{}" r="9" fill="#1f6feb"/>"##,
            escape(&v.file),
            s(v.camera.x),
            s(v.camera.z)
        );
    }
    for a in anchors {
        let _ = writeln!(
            out,
            r##"<g class="hotspot" data-name="{}"><circle cx="{}" cy="{}" r="11" fill="#e5484d"/><text x="{}" y="{}" font-size="20" fill="#e5484d">{}</text></g>"##,
            escape(&a.name),
            s(a.position[0]),
            s(a.position[2]),
            s(a.position[0] + 0.15),
            s(a.position[2] - 0.15),
            escape(a.display.as_deref().unwrap_or(&a.name))
        );
    }
    // Scale bar and total.
    let (bx, by) = (min.x, max.y + margin * 0.6);
    line(
        &mut out,
        Point2::new(bx, by),
        Point2::new(bx + 1.0, by),
        "#222",
        4.0,
        "scale",
    );
    let _ = writeln!(
        out,
        r##"<text x="{}" y="{}" font-size="20" fill="#222">1 m</text>"##,
        s(bx + 1.1),
        s(by + 0.07)
    );
    let _ = writeln!(
        out,
        r##"<text class="total" x="{}" y="{}" font-size="24" fill="#222">{} · {:.1} m²</text>"##,
        s(bx + 2.0),
        s(by + 0.08),
        escape(title),
        total
    );
    out.push_str("</svg>\n");
    out
}

fn line(out: &mut String, a: Point2<f64>, b: Point2<f64>, colour: &str, width: f64, class: &str) {
    let _ = writeln!(
        out,
        r#"<line class="{class}" x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="{colour}" stroke-width="{width}" stroke-linecap="square"/>"#,
        a.x * SCALE,
        a.y * SCALE,
        b.x * SCALE,
        b.y * SCALE
    );
}
