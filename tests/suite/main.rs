//! The test suite: data-driven diagnostics, formatter round trips, incremental
//! recomputation, robustness, and runs of the runtime end to end.

mod activation;
mod common;
mod diagnostics;
mod digests;
mod docs;
mod format;
mod identity;
mod incremental;
mod jit;
mod layers;
mod lsp;
mod plans;
mod robustness;
mod runtime;
