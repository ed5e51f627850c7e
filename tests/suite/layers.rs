//! The crates' layering, as ARCHITECTURE.md draws it: the compiler's crates depend on no
//! crate of the runtime, the planner on no code generator, the JIT only on the IR of mj's
//! own crates.

use crate::common::repo;

/// Each workspace crate's directory and the mj crates it depends on (dev-dependencies
/// aside), from `cargo metadata`.
fn crates() -> Vec<(String, String, Vec<String>)> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let out = std::process::Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(repo())
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let root = repo().canonicalize().expect("repo");
    meta["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| {
            let manifest = std::path::Path::new(p["manifest_path"].as_str().expect("path"));
            let dir = manifest
                .parent()
                .and_then(|d| d.strip_prefix(&root).ok())
                .map(|d| d.display().to_string())
                .unwrap_or_default();
            let deps = p["dependencies"]
                .as_array()
                .expect("dependencies")
                .iter()
                .filter(|d| d["kind"].is_null())
                .filter_map(|d| d["name"].as_str())
                .filter(|n| n.starts_with("mj-"))
                .map(str::to_string)
                .collect();
            (p["name"].as_str().expect("name").to_string(), dir, deps)
        })
        .collect()
}

#[test]
fn the_compiler_stands_below_the_runtime() {
    let crates = crates();
    let runtime: Vec<&str> = crates
        .iter()
        .filter(|(_, dir, _)| dir.starts_with("runtime"))
        .map(|(name, _, _)| name.as_str())
        .collect();
    assert!(runtime.contains(&"mj-jit"), "{crates:?}");
    for (name, dir, deps) in &crates {
        if dir.starts_with("compiler") || dir == "lang" {
            let upward: Vec<&String> = deps
                .iter()
                .filter(|d| runtime.contains(&d.as_str()))
                .collect();
            assert!(upward.is_empty(), "{name} ({dir}) depends on {upward:?}");
        }
    }
    let deps_of = |crate_name: &str| {
        &crates
            .iter()
            .find(|(name, _, _)| name == crate_name)
            .unwrap_or_else(|| panic!("{crate_name} in the workspace"))
            .2
    };
    assert!(deps_of("mj-plan").contains(&"mj-ir".to_string()));
    assert_eq!(deps_of("mj-jit"), &vec!["mj-ir".to_string()]);
    assert!(deps_of("mj-ir").is_empty(), "{:?}", deps_of("mj-ir"));
}
