//! The crates' layering, as ARCHITECTURE.md draws it (the compiler's crates depend on no
//! crate of the runtime, the planner on no code generator, the JIT only on the IR of mj's
//! own crates), and the function registry against the standard library and the planner.

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
    // The planner reads the IR only: not the syntax tree (mj-lang), not the lowering
    // (mj-compiler), not the code generator (mj-jit).
    assert_eq!(deps_of("mj-plan"), &vec!["mj-ir".to_string()]);
    assert_eq!(deps_of("mj-jit"), &vec!["mj-ir".to_string()]);
    assert!(deps_of("mj-ir").is_empty(), "{:?}", deps_of("mj-ir"));
}

/// The standard library's functions: (name, flags, return type).
fn std_functions() -> Vec<(String, Vec<String>, String)> {
    let text = std::fs::read_to_string(repo().join("stdlib/std.mj")).expect("std.mj");
    let parsed = mj_lang::parse(mj_lang::ast::FileId(0), &text);
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    parsed
        .module
        .items
        .iter()
        .filter_map(|item| match &item.kind {
            mj_lang::ast::ItemKind::Function(f) => Some((
                f.header.name.text.clone(),
                f.flags.iter().map(|x| x.text.clone()).collect(),
                f.returns.text.clone(),
            )),
            _ => None,
        })
        .collect()
}

#[test]
fn the_registry_is_the_standard_library() {
    use mj_ir::{Aggregate, Builtin};
    let functions = std_functions();
    // Data formats and scan functions are read by their own items, not by expressions.
    let not_expressions = ["location", "capture", "layout", "output"];
    let mut aggregates = Vec::new();
    let mut builtins = Vec::new();
    for (name, flags, returns) in &functions {
        if flags.iter().any(|f| f == "aggregate") {
            let a = Aggregate::from_name(name)
                .unwrap_or_else(|| panic!("aggregate `{name}` of std.mj is not in the registry"));
            assert_eq!(a.windowed(), flags.iter().any(|f| f == "window"), "{name}");
            aggregates.push(a);
        } else if flags.iter().any(|f| f == "normalizer") {
            assert!(
                mj_oneid::Normalizer::by_name(name).is_some(),
                "normalizer `{name}` of std.mj has no implementation"
            );
        } else if !not_expressions.contains(&returns.as_str()) {
            builtins.push(
                Builtin::from_name(name).unwrap_or_else(|| {
                    panic!("function `{name}` of std.mj is not in the registry")
                }),
            );
        }
    }
    assert_eq!(
        aggregates,
        Aggregate::ALL,
        "the registry's aggregates, in std.mj's order"
    );
    assert_eq!(
        builtins,
        Builtin::ALL,
        "the registry's functions, in std.mj's order"
    );
}

#[test]
fn every_row_function_is_planned() {
    use mj_ir::Expr;
    for b in mj_ir::Builtin::ALL {
        let call = Expr::Call(*b, vec![Expr::column("x")]);
        let planned = mj_plan::row_expr(&call);
        assert_eq!(planned.is_ok(), b.in_rows(), "{b}: {planned:?}");
    }
}

#[test]
fn the_compilers_modules_import_in_one_direction() {
    // Each top-level module of compiler/src and the modules it names (`crate::x`); the
    // graph must have no cycle: a module never imports one that imports it back.
    let src = repo().join("compiler/src");
    let mut edges: std::collections::BTreeMap<String, std::collections::BTreeSet<String>> =
        Default::default();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("compiler/src").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let rel = path.strip_prefix(&src).expect("under src");
            let module = rel
                .components()
                .next()
                .and_then(|c| c.as_os_str().to_str())
                .map(|m| m.trim_end_matches(".rs").to_string())
                .expect("a module");
            if module == "lib" {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("source");
            let names = edges.entry(module.clone()).or_default();
            for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
                for (i, _) in line.match_indices("crate::") {
                    let name: String = line[i + 7..]
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    if !name.is_empty() && name != module {
                        names.insert(name);
                    }
                }
            }
        }
    }
    // Depth-first search for a cycle among modules that are files or folders of src.
    fn visit(
        m: &str,
        edges: &std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut std::collections::BTreeSet<String>,
    ) {
        if done.contains(m) {
            return;
        }
        if let Some(at) = path.iter().position(|p| p == m) {
            panic!(
                "modules import each other: {} -> {m}",
                path[at..].join(" -> ")
            );
        }
        path.push(m.to_string());
        for next in edges.get(m).into_iter().flatten() {
            if edges.contains_key(next) {
                visit(next, edges, path, done);
            }
        }
        path.pop();
        done.insert(m.to_string());
    }
    assert!(
        edges.contains_key("lower") && edges.contains_key("check"),
        "{edges:?}"
    );
    let mut done = Default::default();
    for m in edges.keys() {
        visit(m, &edges, &mut Vec::new(), &mut done);
    }
}

#[test]
fn the_engine_s_driver_matches_on_no_node_kind() {
    // A node kind plugs in through `runtime/engine/src/node.rs` (the trait and its one
    // registration) and its own module: the driver that runs the graph, stages what
    // nodes hand back and writes the manifest, and the plans that `mj plan` lists,
    // never name a kind.
    let src = repo().join("runtime/engine/src");
    for file in ["lib.rs", "planned.rs", "write.rs", "manifest.rs"] {
        let text = std::fs::read_to_string(src.join(file)).expect("engine source");
        assert!(
            !text.contains("NodeKind::"),
            "runtime/engine/src/{file} matches on a node kind"
        );
    }
    let plans = std::fs::read_to_string(src.join("plans.rs")).expect("plans.rs");
    let listing = &plans[plans.find("fn logical_plans_in").expect("logical_plans_in")..];
    assert!(
        !listing.contains("NodeKind::"),
        "logical_plans_in names a kind"
    );
    let node = std::fs::read_to_string(src.join("node.rs")).expect("node.rs");
    assert!(node.contains("pub(crate) fn kind(k: &NodeKind) -> &dyn Kind"));
}
