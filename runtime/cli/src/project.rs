//! Reading a project's files from disk: the only place the command line touches them.

use std::path::{Path, PathBuf};

pub struct File {
    pub path: PathBuf,
    /// The path as shown to the user.
    pub display: String,
    pub text: String,
}

pub struct Files {
    pub files: Vec<File>,
}

impl Files {
    pub fn inputs(&self) -> Vec<(String, String)> {
        self.files
            .iter()
            .map(|f| (f.display.clone(), f.text.clone()))
            .collect()
    }
}

/// Loads the `.mj` files of a project folder (recursively) or the files given.
pub fn load(paths: &[PathBuf]) -> Result<Files, String> {
    let paths: Vec<PathBuf> = if paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        paths.to_vec()
    };
    let mut found = Vec::new();
    for p in &paths {
        let meta = std::fs::metadata(p).map_err(|e| format!("{}: {e}", p.display()))?;
        if meta.is_dir() {
            collect(p, &mut found).map_err(|e| format!("{}: {e}", p.display()))?;
        } else {
            found.push(p.clone());
        }
    }
    if found.is_empty() {
        return Err(format!(
            "no .mj files under {}",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    found.sort();
    found.dedup();
    let mut files = Vec::new();
    for path in found {
        let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let text =
            String::from_utf8(bytes).map_err(|_| format!("{}: not UTF-8 text", path.display()))?;
        let display = path
            .strip_prefix("./")
            .unwrap_or(&path)
            .display()
            .to_string();
        files.push(File {
            path,
            display,
            text,
        });
    }
    Ok(Files { files })
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().to_string();
        if entry.file_type()?.is_dir() {
            if !name.starts_with('.')
                && !matches!(name.as_str(), "target" | "out" | "node_modules" | "data")
            {
                collect(&path, out)?;
            }
        } else if name.ends_with(".mj") {
            out.push(path);
        }
    }
    Ok(())
}
