//! The salsa database: source files and the project are inputs, everything else is a
//! tracked query (see `queries.rs`).

use std::sync::{Arc, Mutex};

use mj_lang::ast::FileId;

/// One `.mj` file. The command line and the language server create these; the
/// compiler never reads the file system.
#[salsa::input(debug)]
pub struct SourceFile {
    #[returns(copy)]
    pub id: FileId,
    #[returns(ref)]
    pub path: String,
    #[returns(ref)]
    pub text: String,
}

/// The set of files that make up a project (the standard library first).
#[salsa::input(debug)]
pub struct Project {
    #[returns(ref)]
    pub files: Vec<SourceFile>,
}

#[salsa::db]
pub trait Db: salsa::Database {}

/// The one concrete database. `log` records the queries that executed, for tests that
/// show what an edit re-ran.
#[salsa::db]
#[derive(Clone)]
pub struct Database {
    storage: salsa::Storage<Self>,
    log: Arc<Mutex<Option<Vec<String>>>>,
}

impl Default for Database {
    fn default() -> Self {
        let log: Arc<Mutex<Option<Vec<String>>>> = Arc::default();
        let sink = Arc::clone(&log);
        let storage = salsa::Storage::new(Some(Box::new(move |event: salsa::Event| {
            if let salsa::EventKind::WillExecute { database_key } = event.kind
                && let Some(log) = sink.lock().expect("log lock").as_mut()
            {
                log.push(format!("{database_key:?}"));
            }
        })));
        Database { storage, log }
    }
}

impl Database {
    /// Starts recording which queries execute.
    pub fn enable_logging(&self) {
        let mut log = self.log.lock().expect("log lock");
        if log.is_none() {
            *log = Some(Vec::new());
        }
    }

    /// The queries executed since the last call, as `query_name(id)` strings.
    pub fn take_log(&self) -> Vec<String> {
        self.log
            .lock()
            .expect("log lock")
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }
}

#[salsa::db]
impl salsa::Database for Database {}

#[salsa::db]
impl Db for Database {}
