//! Formatter round trips: on every example and test input, formatting keeps the tree
//! and the comments, and formatting twice is formatting once.

use mj_lang::ast::FileId;
use mj_lang::format::structure;

use crate::common::{mj_files, repo};

fn inputs() -> Vec<(String, String)> {
    let root = repo();
    let mut files = mj_files(&root.join("examples"), &root);
    files.extend(mj_files(&root.join("tests/diagnostics"), &root));
    files.extend(mj_files(&root.join("stdlib"), &root));
    files
}

#[test]
fn round_trip_on_every_input() {
    let mut checked = 0;
    for (path, text) in inputs() {
        let parsed = mj_lang::parse(FileId(0), &text);
        if !parsed.errors.is_empty() {
            continue;
        }
        let once = mj_lang::format(&parsed.module, &text);
        let reparsed = mj_lang::parse(FileId(0), &once);
        assert!(
            reparsed.errors.is_empty(),
            "{path}: formatted text does not parse:\n{once}"
        );
        assert_eq!(
            structure(&parsed.module),
            structure(&reparsed.module),
            "{path}: formatting changed the tree"
        );
        assert_eq!(
            parsed.module.comments.len(),
            reparsed.module.comments.len(),
            "{path}: comments lost"
        );
        let twice = mj_lang::format(&reparsed.module, &once);
        assert_eq!(once, twice, "{path}: formatting is not idempotent");
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} files were round-tripped");
}

#[test]
fn examples_are_formatted() {
    let root = repo();
    for (path, text) in mj_files(&root.join("examples"), &root)
        .into_iter()
        .chain(mj_files(&root.join("stdlib"), &root))
    {
        let parsed = mj_lang::parse(FileId(0), &text);
        assert_eq!(
            mj_lang::format(&parsed.module, &text),
            text,
            "{path} is not in canonical layout (run mj fmt)"
        );
    }
}

#[test]
fn canonical_layout() {
    let messy = "atomic   pay_amt=sum( pay_order.amount )// total\n\n\n\nperiod 30d \"最近30天\"=last 30 days\n\
                 tag t on consumer = case { a > 1 => \"x\" else => \"y\" }\n";
    let parsed = mj_lang::parse(FileId(0), messy);
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    let expected = "atomic pay_amt = sum(pay_order.amount) // total\n\nperiod 30d \"最近30天\" = last 30 days\n\
                    tag t on consumer = case {\n  a > 1 => \"x\"\n  else  => \"y\"\n}\n";
    assert_eq!(mj_lang::format(&parsed.module, messy), expected);
}

#[test]
fn parentheses_are_kept_where_they_matter() {
    let text = "composite x = (a + b) * c - (d - e) / -(f)\naudience y on c = not (p and q) or (r ?? s) == t\n";
    let parsed = mj_lang::parse(FileId(0), text);
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    let out = mj_lang::format(&parsed.module, text);
    assert_eq!(
        out,
        "composite x = (a + b) * c - (d - e) / -f\naudience y on c = not (p and q) or r ?? s == t\n"
    );
}

#[test]
fn the_guard_mj_fmt_and_the_language_server_share() {
    let text = "period  30x=last 30 days // keep me\n";
    let parsed = mj_lang::parse(FileId(0), text);
    let formatted = mj_lang::format::checked(&parsed.module, text)
        .expect("a change of layout only")
        .expect("a change");
    assert_eq!(formatted, mj_lang::format(&parsed.module, text));
    let again = mj_lang::parse(FileId(0), &formatted);
    assert_eq!(
        mj_lang::format::checked(&again.module, &formatted),
        Ok(None)
    );
}
