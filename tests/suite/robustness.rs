//! Random input never panics the parser, the checker or the formatter.

use mj_lang::ast::FileId;
use proptest::prelude::*;

use crate::common::{mj_files, repo};

fn check_all(text: &str) {
    let db = mj_compiler::Database::default();
    let project = mj_compiler::load(&db, &[("fuzz.mj".to_string(), text.to_string())]);
    let _ = mj_compiler::all_diagnostics(&db, project);
    let parsed = mj_lang::parse(FileId(1), text);
    if parsed.errors.is_empty() {
        let once = mj_lang::format(&parsed.module, text);
        let again = mj_lang::parse(FileId(1), &once);
        assert!(
            again.errors.is_empty(),
            "formatted text does not parse:\n{once}"
        );
        assert_eq!(mj_lang::format(&again.module, &once), once);
    }
}

fn example() -> String {
    let dir = repo().join("examples/meijia");
    mj_files(&dir, &dir)
        .into_iter()
        .map(|(_, t)| t)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Pieces of the language to splice into the example.
const SNIPPETS: &[&str] = &[
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    "\"",
    "=",
    "==",
    "=>",
    "//",
    "\n",
    "_",
    ".",
    ",",
    "?",
    "-",
    "??",
    "not ",
    "in ",
    "where ",
    "case {",
    "else",
    "by ",
    "on ",
    "from ",
    "derived x = ",
    "atomic ",
    "root ",
    "30d",
    "1.6m",
    "3km",
    "0",
    "99999999999999999999999",
    "pay_amt",
    "consumer",
    "\u{4e2d}",
    "\t",
    " ",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        check_all(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn random_edits_of_the_example(edits in proptest::collection::vec((any::<prop::sample::Index>(), 0usize..12, 0..SNIPPETS.len()), 1..6)) {
        let mut text = example();
        for (at, delete, snippet) in edits {
            let mut pos = at.index(text.len() + 1);
            while !text.is_char_boundary(pos) {
                pos -= 1;
            }
            let mut end = (pos + delete).min(text.len());
            while !text.is_char_boundary(end) {
                end += 1;
            }
            text.replace_range(pos..end, SNIPPETS[snippet]);
        }
        check_all(&text);
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let text = format!("composite x = {}1{}\n", "(".repeat(5000), ")".repeat(5000));
    check_all(&text);
}
