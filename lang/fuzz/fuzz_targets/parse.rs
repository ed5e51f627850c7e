//! Any input: parsing never panics, and text that parses formats to text that parses
//! to the same tree.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mj_lang::ast::FileId;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let parsed = mj_lang::parse(FileId(0), text);
    if parsed.errors.is_empty() {
        let formatted = mj_lang::format(&parsed.module, text);
        let again = mj_lang::parse(FileId(0), &formatted);
        assert!(again.errors.is_empty());
        assert_eq!(mj_lang::format::structure(&parsed.module), mj_lang::format::structure(&again.module));
    }
});
