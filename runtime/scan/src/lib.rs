//! Scan processing: showroom panoramas to rooms.
//!
//! - [`geometry`]: pixels of an equirectangular panorama ↔ directions on the unit sphere
//!   ↔ points in the room, in both pixel conventions in use (HorizonNet's pixel centres
//!   and ZInD's `W − 1` scaling);
//! - [`annotations`]: corner annotations as people already have them (the
//!   LayoutNet / HorizonNet corner text file), with errors that name file and line;
//! - [`layout`]: corners → a room (floor polygon in metres, ceiling height), Manhattan
//!   regularization that keeps genuinely oblique walls, and the measures the tests score
//!   reconstructions with (area, perimeter, 2D and 3D IoU).
//!
//! Coordinates: metres, the camera at the origin, +Y up (as glTF), the panorama's centre
//! column looking along +Z and longitude growing towards +X.

pub mod annotations;
pub mod export;
pub mod formats;
pub mod geometry;
pub mod job;
pub mod layout;
pub mod mesh;
pub mod plan;
pub mod pointcloud;
pub mod reconstruct;
pub mod svg;
pub mod synth;
pub mod texture;
pub mod tour;

use std::fmt;

/// A scan input that cannot be used, with the file (and line) it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct ScanError {
    pub file: String,
    pub line: Option<usize>,
    pub message: String,
}

impl ScanError {
    pub fn new(file: impl Into<String>, line: Option<usize>, message: impl Into<String>) -> Self {
        ScanError {
            file: file.into(),
            line,
            message: message.into(),
        }
    }
}

impl fmt::Display for ScanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for ScanError {}
