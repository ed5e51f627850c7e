//! Data-driven diagnostics: every folder under `tests/diagnostics/` is checked as one
//! project and its diagnostics are compared with `expected.txt` beside it
//! (`UPDATE_EXPECT=1 cargo test` rewrites them). Folder names say what they show:
//! `<area>.<name>.fail` must report `mj::<area>::<name>`, `<area>.<name>.ok` is a near
//! miss that must stay clean.

use std::collections::BTreeSet;

use crate::common::{check_rendered, mj_files, repo};

fn cases() -> Vec<std::path::PathBuf> {
    let dir = repo().join("tests/diagnostics");
    let mut cases: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/diagnostics exists")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    cases
}

#[test]
fn expected_diagnostics() {
    let mut failures = Vec::new();
    for case in cases() {
        let files = mj_files(&case, &case);
        let (_, rendered) = check_rendered(&files);
        let expected_path = case.join("expected.txt");
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if expected != rendered {
            if std::env::var_os("UPDATE_EXPECT").is_some() {
                std::fs::write(&expected_path, &rendered).expect("write expected.txt");
            } else {
                failures.push(format!(
                    "{}:\n--- expected\n{expected}--- actual\n{rendered}",
                    case.display()
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "diagnostics differ (UPDATE_EXPECT=1 to accept):\n{}",
        failures.join("\n")
    );
}

#[test]
fn every_code_has_a_failing_case_and_a_clean_near_miss() {
    let names: BTreeSet<String> = cases()
        .iter()
        .map(|p| p.file_name().expect("name").to_string_lossy().to_string())
        .collect();
    let mut missing = Vec::new();
    for (code, _) in mj_compiler::codes::ALL {
        let slug = code.trim_start_matches("mj::").replace("::", ".");
        let fail = repo()
            .join("tests/diagnostics")
            .join(format!("{slug}.fail"));
        let ok = repo().join("tests/diagnostics").join(format!("{slug}.ok"));
        if !names.contains(&format!("{slug}.fail")) {
            missing.push(format!("{slug}.fail"));
        } else {
            let (diags, _) = check_rendered(&mj_files(&fail, &fail));
            assert!(
                diags.iter().any(|d| d.code == *code),
                "{slug}.fail does not report {code}"
            );
        }
        if !names.contains(&format!("{slug}.ok")) {
            missing.push(format!("{slug}.ok"));
        } else {
            let (diags, rendered) = check_rendered(&mj_files(&ok, &ok));
            assert!(
                diags.is_empty(),
                "{slug}.ok must be clean, got:\n{rendered}"
            );
        }
    }
    assert!(missing.is_empty(), "cases missing for: {missing:?}");
}

#[test]
fn the_example_checks_clean() {
    let dir = repo().join("examples/meijia");
    let (diags, rendered) = check_rendered(&mj_files(&dir, &dir));
    assert!(diags.is_empty(), "{rendered}");
}

#[test]
fn the_example_uses_every_construct() {
    let dir = repo().join("examples/meijia");
    let mut keywords = BTreeSet::new();
    for (i, (_, text)) in mj_files(&dir, &dir).iter().enumerate() {
        let parsed = mj_lang::parse(mj_lang::ast::FileId(i as u32), text);
        keywords.extend(parsed.module.items.iter().map(|item| item.kind.keyword()));
    }
    let all: BTreeSet<&str> = mj_lang::parser::ITEM_KEYWORDS
        .iter()
        .copied()
        .filter(|k| *k != "fn")
        .collect();
    let missing: Vec<_> = all.difference(&keywords).collect();
    assert!(missing.is_empty(), "the example does not use: {missing:?}");
}

#[test]
fn fixes_remove_their_diagnostic() {
    // Applying a machine-applicable fix must make that diagnostic go away.
    let mut checked = 0;
    for case in cases()
        .into_iter()
        .filter(|c| c.to_string_lossy().ends_with(".fail"))
    {
        let files = mj_files(&case, &case);
        let (diags, _) = check_rendered(&files);
        for d in diags.iter().filter(|d| d.fix.is_some()) {
            let fix = d.fix.as_ref().expect("filtered");
            let mut fixed = files.clone();
            for (i, (_, text)) in fixed.iter_mut().enumerate() {
                let edits: Vec<_> = fix
                    .edits
                    .iter()
                    .filter(|e| e.span.file.0 == i as u32 + 1)
                    .collect();
                *text = mj_lang::diagnostic::apply_edits(text, &edits);
            }
            let (after, rendered) = check_rendered(&fixed);
            let same = |x: &mj_lang::Diagnostic| x.code == d.code && x.message == d.message;
            assert!(
                !after.iter().any(same),
                "{}: the fix `{}` leaves:\n{rendered}",
                case.display(),
                fix.message
            );
            checked += 1;
        }
    }
    assert!(checked >= 5, "only {checked} fixes were exercised");
}

/// The project-wide checks are skipped while their facts (names, meanings, references
/// without positions) say the project is clean: on every case, that verdict agrees with
/// running the checks themselves.
#[test]
fn the_clean_verdict_agrees_with_the_project_checks() {
    let mut cases = cases();
    cases.push(repo().join("examples/meijia"));
    let mut project_level = 0;
    for case in cases {
        let files = mj_files(&case, &case);
        let db = mj_compiler::Database::default();
        let project = mj_compiler::load(&db, &files);
        let full = mj_compiler::check::project::check(
            project
                .files(&db)
                .iter()
                .flat_map(|&f| mj_compiler::parse(&db, f).module.items.iter()),
        );
        let clean = *mj_compiler::check::queries::project_is_clean(&db, project);
        assert_eq!(clean, full.is_empty(), "{}: {full:#?}", case.display());
        project_level += usize::from(!full.is_empty());
    }
    assert!(
        project_level >= 4,
        "cases with project-wide findings: {project_level}"
    );
}
