//! Corner annotations, in the formats people already have.
//!
//! - The LayoutNet / HorizonNet corner file ([`horizonnet`]): one `x y` pair per line, in
//!   image pixels, ceiling and floor corners alternating (the ceiling corner of a wall
//!   corner, then its floor corner), wall corners in order around the room. Blank lines
//!   are skipped.
//! - mj's own JSON ([`mj_json`]), documented in `docs/scan-formats.md`: several panoramas,
//!   their rooms, corners, doors and windows, and optionally their placement.
//! - PanoAnnotator / MatterportLayout JSON and ZInD JSON, in [`crate::formats`].
//!
//! Every reader returns [`PanoAnnotation`]s: what was clicked on one panorama.
use nalgebra::{Point2, Vector2};
use serde::{Deserialize, Serialize};

use crate::ScanError;
use crate::geometry::Convention;
use crate::plan::{OpeningKind, Similarity};

/// The ceiling and floor pixel of one wall corner.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CornerPair {
    pub ceiling: (f64, f64),
    pub floor: (f64, f64),
}

/// Reads a HorizonNet corner file's text; `file` names it in errors.
pub fn horizonnet(file: &str, text: &str) -> Result<Vec<CornerPair>, ScanError> {
    let mut points: Vec<((f64, f64), usize)> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() != 2 {
            return Err(ScanError::new(
                file,
                Some(n),
                format!("expected `x y`, found {} fields: `{line}`", fields.len()),
            ));
        }
        let mut xy = [0.0; 2];
        for (slot, field) in xy.iter_mut().zip(&fields) {
            let v: f64 = field
                .parse()
                .map_err(|_| ScanError::new(file, Some(n), format!("`{field}` is not a number")))?;
            if !v.is_finite() {
                return Err(ScanError::new(
                    file,
                    Some(n),
                    format!("`{field}` is not a finite coordinate"),
                ));
            }
            *slot = v;
        }
        points.push(((xy[0], xy[1]), n));
    }
    if points.len() % 2 == 1 {
        let (_, last) = points[points.len() - 1];
        return Err(ScanError::new(
            file,
            Some(last),
            format!(
                "{} corners do not pair: ceiling and floor corners alternate, so the count is even",
                points.len()
            ),
        ));
    }
    if points.len() < 6 {
        return Err(ScanError::new(
            file,
            None,
            format!(
                "a room needs at least 3 wall corners (6 lines); this file has {}",
                points.len()
            ),
        ));
    }
    let mut pairs = Vec::with_capacity(points.len() / 2);
    for chunk in points.chunks(2) {
        let (ceiling, line) = chunk[0];
        let (floor, _) = chunk[1];
        if ceiling.1 >= floor.1 {
            return Err(ScanError::new(
                file,
                Some(line),
                "a ceiling corner must lie above its floor corner (a smaller row)",
            ));
        }
        pairs.push(CornerPair { ceiling, floor });
    }
    Ok(pairs)
}

/// What was annotated on one panorama.
#[derive(Clone, Debug, PartialEq)]
pub struct PanoAnnotation {
    /// The panorama's file, relative to the annotation file's folder.
    pub panorama: String,
    /// The room it was taken in; panoramas naming one room share it.
    pub room: String,
    pub convention: Convention,
    pub layout: LayoutInput,
    pub openings: Vec<OpeningInput>,
    /// Where the panorama's frame sits in the floor plan, when the annotation says.
    pub transform: Option<Similarity>,
    /// Metres; the scan's `camera_height` when absent.
    pub camera_height: Option<f64>,
}

/// A room's shape as annotated.
#[derive(Clone, Debug, PartialEq)]
pub enum LayoutInput {
    /// Wall corners in image pixels.
    Corners(Vec<CornerPair>),
    /// The floor polygon in the panorama's frame (x, z) and the ceiling height, in units
    /// of `unit` metres (ZInD measures in camera heights: `unit` is the camera height).
    Floor {
        polygon: Vec<Point2<f64>>,
        ceiling: f64,
        unit: Unit,
    },
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Unit {
    Metres,
    CameraHeights,
}

/// A door, window or opening as annotated.
#[derive(Clone, Debug, PartialEq)]
pub enum OpeningInput {
    /// The columns of its two sides; the row of its top and (windows) bottom, at the
    /// first side. A door or opening without `bottom` stands on the floor.
    Pixels {
        kind: OpeningKind,
        id: Option<String>,
        columns: (f64, f64),
        top: f64,
        bottom: Option<f64>,
    },
    /// Its two sides on the floor, in the panorama's frame, and its bottom and top, in
    /// the layout's unit.
    Floor {
        kind: OpeningKind,
        id: Option<String>,
        ends: (Point2<f64>, Point2<f64>),
        bottom: f64,
        top: f64,
    },
}

// ------------------------------------------------------------------ mj JSON

/// mj's annotation file.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct MjFile {
    format: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    convention: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    camera_height: Option<f64>,
    panoramas: Vec<MjPano>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct MjPano {
    file: String,
    room: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    camera_height: Option<f64>,
    /// `[ceiling x, ceiling y, floor x, floor y]` per wall corner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    corners: Option<Vec<[f64; 4]>>,
    /// The floor polygon in metres, camera frame, instead of corners.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    floor: Option<Vec<[f64; 2]>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ceiling_height: Option<f64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    openings: Vec<MjOpening>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    transform: Option<MjTransform>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct MjOpening {
    kind: OpeningKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    columns: [f64; 2],
    top: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    bottom: Option<f64>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct MjTransform {
    /// Degrees, counter-clockwise in (x, z).
    rotation: f64,
    translation: [f64; 2],
    #[serde(default = "one")]
    scale: f64,
}

fn one() -> f64 {
    1.0
}

pub const MJ_FORMAT: &str = "mj-scan-annotations/1";

/// Reads mj's annotation JSON; errors name the file, and the line for syntax errors.
pub fn mj_json(file: &str, text: &str) -> Result<Vec<PanoAnnotation>, ScanError> {
    let parsed: MjFile = serde_json::from_str(text).map_err(|e| {
        ScanError::new(file, Some(e.line()), format!("not mj annotation JSON: {e}"))
    })?;
    if parsed.format != MJ_FORMAT {
        return Err(ScanError::new(
            file,
            None,
            format!("format `{}` is not `{MJ_FORMAT}`", parsed.format),
        ));
    }
    let convention = match parsed.convention.as_deref() {
        None | Some("horizonnet") => Convention::HorizonNet,
        Some("zind") => Convention::Zind,
        Some(other) => {
            return Err(ScanError::new(
                file,
                None,
                format!("convention `{other}` is neither `horizonnet` nor `zind`"),
            ));
        }
    };
    if parsed.panoramas.is_empty() {
        return Err(ScanError::new(file, None, "no panoramas are annotated"));
    }
    let mut out = Vec::new();
    for (i, p) in parsed.panoramas.into_iter().enumerate() {
        let at = |what: &str| format!("panoramas[{i}] ({}): {what}", p.file);
        let finite = |v: &[f64]| v.iter().all(|x| x.is_finite());
        let layout = match (&p.corners, &p.floor) {
            (Some(corners), None) => {
                if corners.len() < 3 {
                    return Err(ScanError::new(
                        file,
                        None,
                        at(&format!(
                            "a room needs at least 3 corners, not {}",
                            corners.len()
                        )),
                    ));
                }
                let mut pairs = Vec::new();
                for (k, c) in corners.iter().enumerate() {
                    if !finite(c) {
                        return Err(ScanError::new(
                            file,
                            None,
                            at(&format!("corner {k} is not finite")),
                        ));
                    }
                    if c[1] >= c[3] {
                        return Err(ScanError::new(
                            file,
                            None,
                            at(&format!(
                                "corner {k}: the ceiling corner must lie above its floor corner"
                            )),
                        ));
                    }
                    pairs.push(CornerPair {
                        ceiling: (c[0], c[1]),
                        floor: (c[2], c[3]),
                    });
                }
                LayoutInput::Corners(pairs)
            }
            (None, Some(floor)) => {
                let Some(ceiling) = p.ceiling_height else {
                    return Err(ScanError::new(
                        file,
                        None,
                        at("a `floor` layout needs `ceiling_height`"),
                    ));
                };
                if floor.len() < 3 || !floor.iter().all(|c| finite(c)) || !ceiling.is_finite() {
                    return Err(ScanError::new(
                        file,
                        None,
                        at("the floor needs at least 3 finite points"),
                    ));
                }
                LayoutInput::Floor {
                    polygon: floor.iter().map(|c| Point2::new(c[0], c[1])).collect(),
                    ceiling,
                    unit: Unit::Metres,
                }
            }
            _ => {
                return Err(ScanError::new(
                    file,
                    None,
                    at("give either `corners` (pixels) or `floor` (metres)"),
                ));
            }
        };
        let mut openings = Vec::new();
        for (k, o) in p.openings.iter().enumerate() {
            if !finite(&o.columns) || !o.top.is_finite() || o.bottom.is_some_and(|b| !b.is_finite())
            {
                return Err(ScanError::new(
                    file,
                    None,
                    at(&format!("opening {k} is not finite")),
                ));
            }
            if o.kind == OpeningKind::Window && o.bottom.is_none() {
                return Err(ScanError::new(
                    file,
                    None,
                    at(&format!("window {k} needs `bottom`, the row of its sill")),
                ));
            }
            openings.push(OpeningInput::Pixels {
                kind: o.kind,
                id: o.id.clone(),
                columns: (o.columns[0], o.columns[1]),
                top: o.top,
                bottom: o.bottom,
            });
        }
        let transform = p.transform.as_ref().map(|t| Similarity {
            rotation: t.rotation.to_radians(),
            scale: t.scale,
            translation: Vector2::new(t.translation[0], t.translation[1]),
        });
        if transform.is_some_and(|t| {
            !(t.scale > 0.0)
                || !t.rotation.is_finite()
                || !t.translation.iter().all(|x| x.is_finite())
        }) {
            return Err(ScanError::new(
                file,
                None,
                at("the transform needs a positive scale and finite numbers"),
            ));
        }
        out.push(PanoAnnotation {
            panorama: p.file,
            room: p.room,
            convention,
            layout,
            openings,
            transform,
            camera_height: p.camera_height.or(parsed.camera_height),
        });
    }
    Ok(out)
}

/// Writes annotations as mj JSON (pixel layouts only; the convention of the first).
pub fn to_mj_json(annotations: &[PanoAnnotation]) -> String {
    let convention = match annotations.first().map(|a| a.convention) {
        Some(Convention::Zind) => "zind",
        _ => "horizonnet",
    };
    let round = |v: f64| (v * 100.0).round() / 100.0;
    let file = MjFile {
        format: MJ_FORMAT.to_string(),
        convention: Some(convention.to_string()),
        camera_height: None,
        panoramas: annotations
            .iter()
            .map(|a| {
                let (corners, floor, ceiling_height) = match &a.layout {
                    LayoutInput::Corners(c) => (
                        Some(
                            c.iter()
                                .map(|c| {
                                    [c.ceiling.0, c.ceiling.1, c.floor.0, c.floor.1].map(round)
                                })
                                .collect(),
                        ),
                        None,
                        None,
                    ),
                    LayoutInput::Floor {
                        polygon, ceiling, ..
                    } => (
                        None,
                        Some(polygon.iter().map(|p| [p.x, p.y]).collect()),
                        Some(*ceiling),
                    ),
                };
                MjPano {
                    file: a.panorama.clone(),
                    room: a.room.clone(),
                    camera_height: a.camera_height,
                    corners,
                    floor,
                    ceiling_height,
                    openings: a
                        .openings
                        .iter()
                        .filter_map(|o| match o {
                            OpeningInput::Pixels {
                                kind,
                                id,
                                columns,
                                top,
                                bottom,
                            } => Some(MjOpening {
                                kind: *kind,
                                id: id.clone(),
                                columns: [round(columns.0), round(columns.1)],
                                top: round(*top),
                                bottom: bottom.map(round),
                            }),
                            OpeningInput::Floor { .. } => None,
                        })
                        .collect(),
                    transform: a.transform.map(|t| MjTransform {
                        rotation: t.rotation.to_degrees(),
                        translation: [t.translation.x, t.translation.y],
                        scale: t.scale,
                    }),
                }
            })
            .collect(),
    };
    serde_json::to_string_pretty(&file).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_pairs_and_names_the_line_of_each_problem() {
        let ok = horizonnet(
            "a.txt",
            "10 100\n10 400\n\n300 110\n300 390\n600 120\n600 380\n",
        )
        .expect("three corners");
        assert_eq!(ok.len(), 3);
        assert_eq!(ok[1].floor, (300.0, 390.0));
        let odd = horizonnet(
            "a.txt",
            "10 100\n10 400\n300 110\n300 390\n600 120\n600 380\n700 1\n",
        )
        .expect_err("odd");
        assert_eq!(odd.line, Some(7));
        let nan = horizonnet("a.txt", "10 100\n10 NaN\n").expect_err("nan");
        assert_eq!((nan.line, nan.message.contains("finite")), (Some(2), true));
        let word = horizonnet("a.txt", "10 ten\n").expect_err("word");
        assert_eq!(word.to_string(), "a.txt:1: `ten` is not a number");
        let few = horizonnet("a.txt", "10 100\n10 400\n").expect_err("few");
        assert!(few.message.contains("at least 3"), "{few}");
        let upside = horizonnet(
            "a.txt",
            "10 400\n10 100\n300 110\n300 390\n600 120\n600 380\n",
        )
        .expect_err("upside down");
        assert_eq!(upside.line, Some(1));
    }
}
