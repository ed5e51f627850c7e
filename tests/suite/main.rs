//! The test suite of the language front end: data-driven diagnostics, formatter round
//! trips, incremental recomputation and robustness.

mod common;
mod diagnostics;
mod docs;
mod format;
mod incremental;
mod robustness;
