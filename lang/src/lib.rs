//! The syntax of the mj modeling language.
//!
//! This crate knows nothing of salsa, the language server, DataFusion or the file
//! system: it turns text into a typed tree plus diagnostics ([`parse`]) and a tree
//! back into canonical text ([`format`]).

pub mod ast;
pub mod diagnostic;
pub mod format;
pub mod parser;

pub use diagnostic::{Diagnostic, Severity};
pub use format::format;
pub use parser::{Parsed, parse};
