//! `mj init`: a new project that checks clean and runs, the way `cargo new` starts one.
//!
//! The files are `runtime/cli/template/`, compiled in; `{name}` in them becomes the
//! project's name (`{name_toml}` the name as a TOML string, quoted as the language
//! quotes strings).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Each file of a new project: its path in the project and its text.
const FILES: [(&str, &str); 8] = [
    ("mj.toml", include_str!("../template/mj.toml")),
    ("README.md", include_str!("../template/README.md")),
    (".gitignore", include_str!("../template/gitignore")),
    ("glossary.mj", include_str!("../template/glossary.mj")),
    ("sources.mj", include_str!("../template/sources.mj")),
    ("model.mj", include_str!("../template/model.mj")),
    ("oneid.mj", include_str!("../template/oneid.mj")),
    (
        "data/orders.csv",
        include_str!("../template/data/orders.csv"),
    ),
];

/// The business date the sample data is made for.
pub const SAMPLE_DATE: &str = "2025-06-30";

pub fn init(path: Option<PathBuf>, name: Option<String>) -> Result<ExitCode, String> {
    let dir = path.unwrap_or_else(|| PathBuf::from("."));
    if let Ok(mut entries) = std::fs::read_dir(&dir) {
        if entries.next().is_some() {
            return Err(format!(
                "{} is not empty; `mj init` writes a new project only into a new or empty folder",
                dir.display()
            ));
        }
    } else if dir.exists() {
        return Err(format!("{} exists and is not a folder", dir.display()));
    }
    let name = match name {
        Some(n) => n,
        None => folder_name(&dir)?,
    };
    if name.trim().is_empty() || name.chars().any(char::is_control) {
        return Err(format!(
            "`{name}` cannot name a project: give a name without control characters (--name NAME)"
        ));
    }
    for (file, text) in FILES {
        let target = dir.join(file);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        let text = text
            .replace("{name_toml}", &mj_lang::format::quote(&name))
            .replace("{name}", &name);
        std::fs::write(&target, text).map_err(|e| format!("{}: {e}", target.display()))?;
    }
    let shown = dir.display();
    eprintln!("created project `{name}` in {shown}: mj.toml, 4 .mj files, data/orders.csv");
    eprintln!("next: mj check {shown} && mj run {shown} --date {SAMPLE_DATE}");
    Ok(ExitCode::SUCCESS)
}

/// The last component of the folder, as `cargo new` names a package.
fn folder_name(dir: &Path) -> Result<String, String> {
    let absolute = if let Ok(real) = dir.canonicalize() {
        real
    } else if dir.is_absolute() {
        dir.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(|e| format!("the current folder: {e}"))?
            .join(dir)
    };
    absolute
        .components()
        .filter_map(|c| match c {
            std::path::Component::Normal(n) => Some(n.to_string_lossy().to_string()),
            _ => None,
        })
        .next_back()
        .ok_or_else(|| {
            format!(
                "{} has no name to give the project; pass --name NAME",
                dir.display()
            )
        })
}

#[cfg(test)]
mod tests {

    #[test]
    fn names_are_toml_strings() {
        // The language's string quoting is a TOML basic string too.
        let name = "美家 \"x\" \\ y";
        let parsed: toml::Table =
            toml::from_str(&format!("n = {}", mj_lang::format::quote(name))).expect("TOML");
        assert_eq!(parsed["n"].as_str(), Some(name));
    }
}
