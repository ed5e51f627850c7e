//! A scan job end to end: read the captures, rebuild the rooms, place them, mesh and
//! texture them, and write the outputs.
//!
//! Inputs are found relative to the project folder: panoramas and annotation files by
//! glob, an annotation's panorama by its path relative to the annotation file, else by
//! file name, else by stem. Annotation files are told apart by content: mj's JSON (its
//! `format`), ZInD (`merger`), PanoAnnotator (`layoutPoints`; its panorama is the label
//! file's name without `_label.json`), and `.txt` corner files (HorizonNet; the
//! panorama with the same stem).
//!
//! Everything is computed before anything is written; each output is then written
//! beside its destination and renamed into place, so a failed job leaves the previous
//! outputs as they were.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::json;

use crate::ScanError;
use crate::annotations::{LayoutInput, PanoAnnotation, horizonnet, mj_json};
use crate::export::{self, Anchor};
use crate::geometry::{Convention, Pano};
use crate::mesh;
use crate::plan::FloorPlan;
use crate::reconstruct::{LocalRoom, Merge, local_room, merge};
use crate::texture::{self, PanoImage};
use crate::{formats, pointcloud, svg, tour};

/// Where a hotspot is.
#[derive(Clone, Debug, PartialEq)]
pub enum Place {
    At([f64; 3]),
    Room(String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct HotspotSpec {
    pub name: String,
    pub display: Option<String>,
    pub kind: String,
    pub target: String,
    pub place: Place,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputKind {
    Glb,
    Obj,
    Floorplan,
    Tour,
    Summary,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Output {
    pub kind: OutputKind,
    /// Relative to the job's output folder.
    pub path: String,
}

/// A scan item, ready to run.
#[derive(Clone, Debug, PartialEq)]
pub struct Job {
    pub name: String,
    pub display: Option<String>,
    /// The project folder; capture paths are relative to it.
    pub base: PathBuf,
    /// Output paths are relative to it.
    pub out: PathBuf,
    pub panoramas: Vec<String>,
    pub annotations: Vec<String>,
    pub pointclouds: Vec<String>,
    pub camera_height: f64,
    pub upright: bool,
    /// The Manhattan tolerance in radians; `None` keeps walls as clicked.
    pub manhattan: Option<f64>,
    pub merge: Merge,
    pub texture: u32,
    pub hotspots: Vec<HotspotSpec>,
    pub outputs: Vec<Output>,
}

/// What a job did.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Report {
    pub rooms: usize,
    pub panoramas: usize,
    pub area_m2: f64,
    pub triangles: usize,
    /// (step, seconds), in order.
    pub steps: Vec<(String, f64)>,
    pub outputs: Vec<String>,
    /// Upright correction applied per panorama (degrees of tilt), when asked.
    pub tilt_deg: Vec<(String, f64)>,
}

struct Steps(Vec<(String, f64)>, Instant);

impl Steps {
    fn done(&mut self, name: &str) {
        let now = Instant::now();
        self.0
            .push((name.to_string(), (now - self.1).as_secs_f64()));
        self.1 = now;
    }
}

fn glob_files(base: &Path, pattern: &str) -> Result<Vec<PathBuf>, ScanError> {
    let full = base.join(pattern);
    let text = full.to_string_lossy().to_string();
    let mut files: Vec<PathBuf> = glob::glob(&text)
        .map_err(|e| ScanError::new(pattern, None, format!("not a valid glob: {e}")))?
        .filter_map(Result::ok)
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(ScanError::new(text, None, "no file matches"));
    }
    Ok(files)
}

fn read_text(path: &Path) -> Result<String, ScanError> {
    std::fs::read_to_string(path).map_err(|e| {
        ScanError::new(
            path.display().to_string(),
            None,
            format!("cannot read: {e}"),
        )
    })
}

/// Reads one annotation file into (its folder, its annotations).
fn read_annotations(path: &Path, camera_height: f64) -> Result<Vec<PanoAnnotation>, ScanError> {
    let name = path.display().to_string();
    let text = read_text(path)?;
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default();
    if path.extension().is_some_and(|e| e == "txt") {
        let corners = horizonnet(&name, &text)?;
        return Ok(vec![PanoAnnotation {
            panorama: stem.clone(),
            room: stem,
            convention: Convention::HorizonNet,
            layout: LayoutInput::Corners(corners),
            openings: Vec::new(),
            transform: None,
            camera_height: None,
        }]);
    }
    let probe: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| ScanError::new(&name, Some(e.line()), format!("not JSON: {e}")))?;
    if probe.get("format").is_some() {
        mj_json(&name, &text)
    } else if probe.get("merger").is_some() {
        formats::zind(&name, &text, camera_height)
    } else if probe.get("layoutPoints").is_some() {
        let pano = stem.strip_suffix("_label").unwrap_or(&stem).to_string();
        Ok(vec![formats::pano_annotator(&name, &text, &pano)?])
    } else {
        Err(ScanError::new(
            name,
            None,
            "not an annotation format mj reads (mj JSON with `format`, ZInD with `merger`, PanoAnnotator with `layoutPoints`, or a HorizonNet .txt)",
        ))
    }
}

/// The panorama file an annotation names.
fn find_panorama<'a>(folder: &Path, wanted: &str, files: &'a [PathBuf]) -> Option<&'a PathBuf> {
    let direct = folder.join(wanted);
    let file_name = Path::new(wanted).file_name();
    let stem = Path::new(wanted).file_stem();
    files
        .iter()
        .find(|f| **f == direct)
        .or_else(|| files.iter().find(|f| f.file_name() == file_name))
        .or_else(|| files.iter().find(|f| f.file_stem() == stem))
}

/// A decoded panorama.
pub fn load_panorama(path: &Path, convention: Convention) -> Result<PanoImage, ScanError> {
    let name = path.display().to_string();
    let image = image::open(path)
        .map_err(|e| ScanError::new(&name, None, format!("cannot decode: {e}")))?;
    let image = image.into_rgb8();
    let pano = Pano::new(&name, image.width(), image.height(), convention)?;
    Ok(PanoImage { pano, image })
}

/// Everything a job computes before writing.
pub struct Built {
    pub plan: FloorPlan,
    pub mesh: mesh::Mesh,
    pub textures: Vec<texture::Texture>,
    pub panoramas: Vec<(PathBuf, PanoImage)>,
    pub anchors: Vec<Anchor>,
}

/// Runs the job's steps up to the model (no output written).
pub fn build(
    job: &Job,
    steps: &mut Vec<(String, f64)>,
    tilts: &mut Vec<(String, f64)>,
) -> Result<Built, ScanError> {
    let mut clock = Steps(Vec::new(), Instant::now());
    let mut rooms: Vec<LocalRoom> = Vec::new();
    let mut images: Vec<(PathBuf, PanoImage)> = Vec::new();
    let mut pano_files = Vec::new();
    for g in &job.panoramas {
        pano_files.extend(glob_files(&job.base, g)?);
    }
    let mut annotated = Vec::new();
    for g in &job.annotations {
        for path in glob_files(&job.base, g)? {
            let folder = path.parent().map(Path::to_path_buf).unwrap_or_default();
            for a in read_annotations(&path, job.camera_height)? {
                annotated.push((path.clone(), folder.clone(), a));
            }
        }
    }
    if !job.annotations.is_empty() && annotated.is_empty() {
        return Err(ScanError::new(
            job.name.clone(),
            None,
            "the annotations describe no panorama",
        ));
    }
    // Decode the panoramas on two threads.
    let wanted: Vec<(PathBuf, Convention)> = annotated
        .iter()
        .map(|(path, folder, a)| {
            find_panorama(folder, &a.panorama, &pano_files)
                .cloned()
                .map(|p| (p, a.convention))
                .ok_or_else(|| {
                    ScanError::new(
                        path.display().to_string(),
                        None,
                        format!(
                            "the panorama `{}` is not among the captured panoramas",
                            a.panorama
                        ),
                    )
                })
        })
        .collect::<Result<_, _>>()?;
    let decoded: Vec<Result<PanoImage, ScanError>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2)
            .map(|k| {
                let wanted = &wanted;
                s.spawn(move || {
                    wanted
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| i % 2 == k)
                        .map(|(i, (p, c))| (i, load_panorama(p, *c)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut all: Vec<(usize, Result<PanoImage, ScanError>)> = handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect();
        all.sort_by_key(|(i, _)| *i);
        all.into_iter().map(|(_, r)| r).collect()
    });
    clock.done("decode panoramas");
    for ((path, _, mut ann), ((file, _), image)) in
        annotated.into_iter().zip(wanted.into_iter().zip(decoded))
    {
        let image = image?;
        let mut tilt = nalgebra::Rotation3::identity();
        if job.upright
            && let LayoutInput::Corners(corners) = &mut ann.layout
        {
            tilt = crate::geometry::upright(&image.pano, corners);
            tilts.push((ann.panorama.clone(), tilt.angle().to_degrees()));
        }
        let name = path.display().to_string();
        let mut room = local_room(
            &name,
            &ann,
            Some(&image.pano),
            job.camera_height,
            job.manhattan,
        )?;
        room.tilt = tilt;
        room.file = file
            .file_name()
            .map(|f| f.to_string_lossy().to_string())
            .unwrap_or_default();
        rooms.push(room);
        images.push((file, image));
    }
    for g in &job.pointclouds {
        for path in glob_files(&job.base, g)? {
            rooms.push(pointcloud::room_from_file(&path, job.manhattan)?);
        }
    }
    if rooms.is_empty() {
        return Err(ScanError::new(
            job.name.clone(),
            None,
            "the scan captures no room",
        ));
    }
    clock.done("layout");
    let with_views: Vec<LocalRoom> = rooms
        .iter()
        .filter(|r| !r.file.is_empty())
        .cloned()
        .collect();
    let clouds: Vec<LocalRoom> = rooms
        .iter()
        .filter(|r| r.file.is_empty())
        .cloned()
        .collect();
    let mut plan = if with_views.is_empty() {
        FloorPlan::default()
    } else {
        merge(&job.name, &with_views, job.merge)?
    };
    // Point clouds are measured in one registered frame: their rooms come as they are.
    for r in clouds {
        plan.rooms.push(crate::plan::PlanRoom {
            name: r.name,
            floor: r.floor,
            height: r.height,
            openings: r.openings,
            views: Vec::new(),
        });
    }
    clock.done("merge");
    let mesh = mesh::build(&plan);
    clock.done("mesh");
    let panos: Vec<PanoImage> = images
        .iter()
        .map(|(_, p)| PanoImage {
            pano: p.pano,
            image: p.image.clone(),
        })
        .collect();
    let textures = if panos.is_empty() {
        Vec::new()
    } else {
        texture::bake(&plan, &mesh, &panos, job.texture)
    };
    clock.done("texture");
    let mut anchors = Vec::new();
    for h in &job.hotspots {
        let (position, room) = match &h.place {
            Place::At(p) => {
                let room = plan.room_at(nalgebra::Point2::new(p[0], p[2]));
                (*p, room.map(|r| plan.rooms[r].name.clone()))
            }
            Place::Room(name) => {
                let Some(r) = plan.rooms.iter().position(|r| &r.name == name) else {
                    let known: Vec<&str> = plan.rooms.iter().map(|r| r.name.as_str()).collect();
                    return Err(ScanError::new(
                        job.name.clone(),
                        None,
                        format!(
                            "hotspot `{}` is in room `{name}`, which the scan does not have (rooms: {})",
                            h.name,
                            known.join(", ")
                        ),
                    ));
                };
                let p = export::room_anchor(&plan, r);
                ([p.x, p.y, p.z], Some(name.clone()))
            }
        };
        anchors.push(Anchor {
            name: h.name.clone(),
            display: h.display.clone(),
            kind: h.kind.clone(),
            target: h.target.clone(),
            position,
            room,
        });
    }
    steps.extend(clock.0);
    Ok(Built {
        plan,
        mesh,
        textures,
        panoramas: images,
        anchors,
    })
}

/// The files of one output: a single file (one part with an empty name) or a folder's
/// files, with the output's path relative to the output folder.
pub type OutputFiles = (String, Vec<(String, Vec<u8>)>);

/// Runs the job and writes its outputs (each beside its place, then renamed into it).
pub fn run(job: &Job) -> Result<Report, ScanError> {
    let (mut report, files) = render(job)?;
    let started = Instant::now();
    for (relative, parts) in files {
        write_atomically(&job.out.join(relative), &parts)?;
    }
    report
        .steps
        .push(("write".to_string(), started.elapsed().as_secs_f64()));
    Ok(report)
}

/// Runs the job's steps and renders its outputs in memory, writing nothing.
pub fn render(job: &Job) -> Result<(Report, Vec<OutputFiles>), ScanError> {
    let mut steps = Vec::new();
    let mut tilts = Vec::new();
    let built = build(job, &mut steps, &mut tilts)?;
    let mut clock = Steps(Vec::new(), Instant::now());
    let jpegs: Vec<Vec<u8>> = encode_all(&built.textures);
    clock.done("encode textures");
    let title = job.display.clone().unwrap_or_else(|| job.name.clone());
    let area: f64 = built
        .plan
        .rooms
        .iter()
        .map(|r| crate::layout::area(&r.floor))
        .sum();
    let triangles: usize = built.mesh.surfaces.iter().map(|s| s.indices.len()).sum();
    let mut files: Vec<OutputFiles> = Vec::new();
    let mut written = Vec::new();
    let single = |bytes: Vec<u8>| vec![(String::new(), bytes)];
    for o in &job.outputs {
        written.push(o.path.clone());
        let path = Path::new(&o.path);
        match o.kind {
            OutputKind::Glb => {
                let bytes =
                    export::glb(&job.name, &built.plan, &built.mesh, &jpegs, &built.anchors);
                files.push((o.path.clone(), single(bytes)));
            }
            OutputKind::Obj => {
                let stem = path
                    .file_stem()
                    .map(|s| s.to_string_lossy().to_string())
                    .unwrap_or_else(|| job.name.clone());
                let sibling = |name: &str| path.with_file_name(name).to_string_lossy().to_string();
                let mtl = format!("{stem}.mtl");
                let tex = |i: usize| (i < jpegs.len()).then(|| format!("{stem}_textures/{i}.jpg"));
                let (obj, mtl_text) = export::obj(&mtl, &built.plan, &built.mesh, &tex);
                files.push((o.path.clone(), single(obj.into_bytes())));
                files.push((sibling(&mtl), single(mtl_text.into_bytes())));
                // A scan without panoramas (a point cloud) has no textures to write.
                if !jpegs.is_empty() {
                    let parts = jpegs
                        .iter()
                        .enumerate()
                        .map(|(i, j)| (format!("{i}.jpg"), j.clone()))
                        .collect();
                    files.push((sibling(&format!("{stem}_textures")), parts));
                }
            }
            OutputKind::Floorplan => {
                let text = svg::floorplan(&title, &built.plan, &built.anchors);
                files.push((o.path.clone(), single(text.into_bytes())));
            }
            OutputKind::Summary => {
                let extra = json!({"texture": job.texture, "tilt_deg": tilts});
                let v = export::summary(
                    &job.name,
                    job.display.as_deref(),
                    &built.plan,
                    &built.anchors,
                    extra,
                );
                let text = serde_json::to_string_pretty(&v).unwrap_or_default();
                files.push((o.path.clone(), single(text.into_bytes())));
            }
            OutputKind::Tour => {
                let parts = tour::tour(
                    &title,
                    &built.plan,
                    &built.mesh,
                    &jpegs,
                    &built.panoramas,
                    &built.anchors,
                );
                files.push((o.path.clone(), parts));
            }
        }
    }
    clock.done("render outputs");
    steps.extend(clock.0);
    Ok((
        Report {
            rooms: built.plan.rooms.len(),
            panoramas: built.plan.views.len(),
            area_m2: (area * 100.0).round() / 100.0,
            triangles,
            steps,
            outputs: written,
            tilt_deg: tilts,
        },
        files,
    ))
}

fn encode_all(textures: &[texture::Texture]) -> Vec<Vec<u8>> {
    std::thread::scope(|s| {
        let halves: Vec<_> = (0..2)
            .map(|k| {
                s.spawn(move || {
                    textures
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| i % 2 == k)
                        .map(|(i, t)| (i, texture::jpeg(&t.image, 85)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut all: Vec<(usize, Vec<u8>)> = halves
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect();
        all.sort_by_key(|(i, _)| *i);
        all.into_iter().map(|(_, b)| b).collect()
    })
}

/// Writes one file (a single part with an empty name) or a folder of parts: first
/// beside the target, then renamed over it.
pub fn write_atomically(target: &Path, parts: &[(String, Vec<u8>)]) -> Result<(), ScanError> {
    let err = |e: std::io::Error| {
        ScanError::new(
            target.display().to_string(),
            None,
            format!("cannot write: {e}"),
        )
    };
    let parent = target.parent().map(Path::to_path_buf).unwrap_or_default();
    std::fs::create_dir_all(&parent).map_err(err)?;
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let temp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
    if parts.len() == 1 && parts[0].0.is_empty() {
        std::fs::write(&temp, &parts[0].1).map_err(err)?;
        std::fs::rename(&temp, target).map_err(err)?;
        return Ok(());
    }
    let _ = std::fs::remove_dir_all(&temp);
    for (rel, bytes) in parts {
        let p = temp.join(rel);
        if let Some(dir) = p.parent() {
            std::fs::create_dir_all(dir).map_err(err)?;
        }
        std::fs::write(&p, bytes).map_err(err)?;
    }
    // Swap folders: the old one aside, the new one in, the old one removed.
    let old = parent.join(format!(".{name}.old-{}", std::process::id()));
    if target.exists() {
        std::fs::rename(target, &old).map_err(err)?;
    }
    std::fs::rename(&temp, target).map_err(err)?;
    let _ = std::fs::remove_dir_all(&old);
    Ok(())
}
