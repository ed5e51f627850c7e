//! The documentation of diagnostic codes is generated from the code table.

use crate::common::repo;

#[test]
fn diagnostics_page_is_up_to_date() {
    let path = repo().join("docs/diagnostics.md");
    let generated = mj_compiler::codes::markdown();
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    if current != generated {
        if std::env::var_os("UPDATE_EXPECT").is_some() {
            std::fs::write(&path, &generated).expect("write docs/diagnostics.md");
        } else {
            panic!("docs/diagnostics.md is stale: run UPDATE_EXPECT=1 cargo test");
        }
    }
}

#[test]
fn codes_are_unique_and_path_like() {
    let mut seen = std::collections::BTreeSet::new();
    for (code, doc) in mj_compiler::codes::ALL {
        assert!(
            code.starts_with("mj::") && code.matches("::").count() == 2,
            "{code}"
        );
        assert!(seen.insert(*code), "duplicate code {code}");
        assert!(doc.len() > 40, "{code} needs documentation");
    }
}
