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

/// What `mj.toml` says, with paths resolved against the project folder.
pub struct Config {
    pub name: String,
    /// Where source locations are resolved (`[data] root`, default: the project folder).
    pub data: PathBuf,
    /// Where `mj run` writes (`[run] out`, default: `out` in the project folder).
    pub out: PathBuf,
    /// The Ballista scheduler `mj run` plans on (`[run] cluster = "df://host:port"`).
    pub cluster: Option<String>,
    /// How OneID finds people (`[oneid] engine = "local" | "cluster"`).
    pub oneid_engine: mj_runtime::OneIdEngine,
    /// Database URLs by `sources.<name>` and `exports.<audience>` (`[sources.<name>]
    /// url = "postgres://…"`).
    pub database_urls: std::collections::BTreeMap<String, String>,
}

#[derive(serde::Deserialize, Default)]
struct Toml {
    #[serde(default)]
    project: TomlProject,
    #[serde(default)]
    data: TomlData,
    #[serde(default)]
    run: TomlRun,
    #[serde(default)]
    oneid: TomlOneId,
    #[serde(default)]
    sources: std::collections::BTreeMap<String, TomlSource>,
    #[serde(default)]
    exports: std::collections::BTreeMap<String, TomlSource>,
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct TomlSource {
    url: Option<String>,
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct TomlOneId {
    #[serde(default)]
    engine: mj_runtime::OneIdEngine,
}

#[derive(serde::Deserialize, Default)]
struct TomlProject {
    name: Option<String>,
}

#[derive(serde::Deserialize, Default)]
struct TomlData {
    root: Option<PathBuf>,
}

#[derive(serde::Deserialize, Default)]
struct TomlRun {
    out: Option<PathBuf>,
    cluster: Option<String>,
}

/// Reads `mj.toml` of a project folder (a missing file means the defaults).
pub fn config(path: &Path) -> Result<Config, String> {
    let dir = if path.is_dir() {
        path.to_path_buf()
    } else {
        path.parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    };
    let file = dir.join("mj.toml");
    let toml: Toml = match std::fs::read_to_string(&file) {
        Ok(text) => toml::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))?,
        Err(_) => Toml::default(),
    };
    let name = toml.project.name.unwrap_or_else(|| {
        dir.canonicalize()
            .ok()
            .and_then(|d| d.file_name().map(|n| n.to_string_lossy().to_string()))
            .unwrap_or_else(|| "project".to_string())
    });
    Ok(Config {
        name,
        data: dir.join(toml.data.root.unwrap_or_else(|| PathBuf::from("."))),
        out: dir.join(toml.run.out.unwrap_or_else(|| PathBuf::from("out"))),
        cluster: toml.run.cluster,
        oneid_engine: toml.oneid.engine,
        database_urls: (toml
            .sources
            .into_iter()
            .map(|(n, s)| (format!("sources.{n}"), s)))
        .chain(
            toml.exports
                .into_iter()
                .map(|(n, s)| (format!("exports.{n}"), s)),
        )
        .filter_map(|(name, s)| s.url.map(|u| (name, u)))
        .collect(),
    })
}
