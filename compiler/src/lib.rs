//! The mj compiler: a salsa database of source files, and the queries that index,
//! resolve and check them.
//!
//! The compiler does no IO: callers put file texts into the [`Database`] (see
//! [`load`]) and read diagnostics back.

pub mod assets;
pub mod check;
pub mod codes;
pub mod db;
pub use mj_ir::jobs;
pub mod lineage;
pub mod lower;
pub mod metrics;
pub mod model;
pub mod queries;
pub mod refs;
pub mod sources;
pub mod to_ir;
pub mod types;

pub use check::queries::{all_diagnostics, check_file, check_project};
pub use db::{Database, Db, Project, SourceFile};
pub use queries::parse;

use mj_lang::ast::FileId;

/// Creates a project from `(path, text)` pairs; the standard library is added first.
pub fn load(db: &Database, files: &[(String, String)]) -> Project {
    let mut inputs = vec![SourceFile::new(
        db,
        FileId(0),
        queries::STD_PATH.to_string(),
        queries::std_source().to_string(),
    )];
    for (i, (path, text)) in files.iter().enumerate() {
        inputs.push(SourceFile::new(
            db,
            FileId(i as u32 + 1),
            path.clone(),
            text.clone(),
        ));
    }
    Project::new(db, inputs)
}
