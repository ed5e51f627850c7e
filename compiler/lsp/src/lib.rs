//! `mj lsp`: the language server.
//!
//! One main loop owns the salsa [`Database`] and applies notifications (opened, changed,
//! closed and watched files) in the order they arrive. Requests are answered on worker
//! threads from a snapshot of the database (a clone); an edit that arrives while a
//! request runs cancels it (salsa unwinds the snapshot's queries), and the request is
//! answered with `ContentModified` — the model ty and wgsl-analyzer use, which avoids
//! the ordering bugs of handlers that run concurrently with edits.
//!
//! The workspace is the folder with `mj.toml` at or above the client's root; its `.mj`
//! files are read from disk, and the editor's text replaces a file's while it is open.
//! Malformed messages get a JSON-RPC error and the server goes on (see [`transport`]).

mod complete;
pub mod convert;
mod handlers;
mod hover;
mod tokens;
pub mod transport;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use lsp_server::{Connection, ErrorCode, Message, Notification, Request, Response};
use lsp_types::notification::Notification as _;
use lsp_types::{Diagnostic as LspDiagnostic, InitializeParams, PublishDiagnosticsParams, Url};
use mj_compiler::{Database, Project, SourceFile};
use salsa::Setter;

/// Runs the server over standard input and output until the client exits.
pub fn run_stdio() -> Result<(), String> {
    let (connection, threads) = transport::stdio();
    serve(connection)?;
    threads.join();
    Ok(())
}

/// What the server announces.
pub fn capabilities() -> serde_json::Value {
    serde_json::json!({
        "textDocumentSync": { "openClose": true, "change": 2, "save": { "includeText": false } },
        "hoverProvider": true,
        "definitionProvider": true,
        "documentSymbolProvider": true,
        "workspaceSymbolProvider": true,
        "documentFormattingProvider": true,
        "foldingRangeProvider": true,
        "codeActionProvider": { "codeActionKinds": ["quickfix"] },
        "completionProvider": { "triggerCharacters": ["[", ".", "(", ",", "\"", " "] },
        "referencesProvider": true,
        "renameProvider": { "prepareProvider": true },
        "semanticTokensProvider": {
            "legend": { "tokenTypes": tokens::TYPES, "tokenModifiers": tokens::MODIFIERS },
            "full": true
        },
        "positionEncoding": "utf-16"
    })
}

/// Serves one client on a connection (stdio, or in memory in tests).
pub fn serve(connection: Connection) -> Result<(), String> {
    let (id, params) = connection
        .initialize_start()
        .map_err(|e| format!("initialize: {e}"))?;
    let params: InitializeParams = serde_json::from_value(params).unwrap_or_default();
    connection
        .initialize_finish(
            id,
            serde_json::json!({
                "capabilities": capabilities(),
                "serverInfo": { "name": "mj", "version": env!("CARGO_PKG_VERSION") }
            }),
        )
        .map_err(|e| format!("initialize: {e}"))?;
    let root = root_of(&params);
    let mut state = State::load(root.as_deref());
    main_loop(&connection, &mut state)
}

/// The folder with `mj.toml` at or above the client's root.
fn root_of(params: &InitializeParams) -> Option<PathBuf> {
    #[allow(deprecated)]
    let uri = params
        .workspace_folders
        .as_ref()
        .and_then(|f| f.first())
        .map(|f| f.uri.clone())
        .or_else(|| params.root_uri.clone())?;
    let start = uri.to_file_path().ok()?;
    let mut dir = Some(start.as_path());
    while let Some(d) = dir {
        if d.join("mj.toml").is_file() {
            return Some(d.to_path_buf());
        }
        dir = d.parent();
    }
    Some(start)
}

/// The workspace: the database and which file each document is.
pub struct State {
    pub db: Database,
    pub project: Project,
    /// Every file of the project but the standard library, by path.
    pub files: BTreeMap<PathBuf, SourceFile>,
    /// Documents the editor has open (their text is the editor's).
    pub open: std::collections::BTreeSet<PathBuf>,
}

impl State {
    /// Reads the `.mj` files under `root` (none without a root).
    pub fn load(root: Option<&Path>) -> State {
        let mut found = Vec::new();
        if let Some(root) = root {
            collect(root, &mut found);
        }
        found.sort();
        let inputs: Vec<(String, String)> = found
            .iter()
            .map(|p| {
                (
                    p.to_string_lossy().to_string(),
                    std::fs::read_to_string(p).unwrap_or_default(),
                )
            })
            .collect();
        let db = Database::default();
        let project = mj_compiler::load(&db, &inputs);
        let files = found
            .into_iter()
            .zip(project.files(&db).iter().skip(1).copied())
            .collect();
        State {
            db,
            project,
            files,
            open: Default::default(),
        }
    }

    /// The file of a document, added to the project when it is new.
    fn file(&mut self, path: &Path, text: Option<String>) -> SourceFile {
        if let Some(f) = self.files.get(path).copied() {
            if let Some(t) = text
                && f.text(&self.db) != &t
            {
                f.set_text(&mut self.db).to(t);
            }
            return f;
        }
        let mut all = self.project.files(&self.db).clone();
        let id = mj_lang::ast::FileId(all.len() as u32);
        let f = SourceFile::new(
            &self.db,
            id,
            path.to_string_lossy().to_string(),
            text.unwrap_or_else(|| std::fs::read_to_string(path).unwrap_or_default()),
        );
        all.push(f);
        self.project.set_files(&mut self.db).to(all);
        self.files.insert(path.to_path_buf(), f);
        f
    }

    /// The path of a document.
    pub fn path_of(&self, file: SourceFile) -> Option<&PathBuf> {
        self.files.iter().find(|(_, f)| **f == file).map(|(p, _)| p)
    }
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        let name = e.file_name().to_string_lossy().to_string();
        if path.is_dir() {
            if !name.starts_with('.')
                && !matches!(name.as_str(), "target" | "out" | "node_modules" | "data")
            {
                collect(&path, out);
            }
        } else if name.ends_with(".mj") {
            out.push(path);
        }
    }
}

fn main_loop(connection: &Connection, state: &mut State) -> Result<(), String> {
    let mut workers: Vec<std::thread::JoinHandle<()>> = Vec::new();
    for msg in &connection.receiver {
        match msg {
            Message::Request(req) => {
                if connection
                    .handle_shutdown(&req)
                    .map_err(|e| e.to_string())?
                {
                    break;
                }
                workers.retain(|w| !w.is_finished());
                let snapshot = handlers::Snapshot::of(state);
                let sender = connection.sender.clone();
                workers.push(std::thread::spawn(move || {
                    let id = req.id.clone();
                    let response = match salsa::Cancelled::catch(|| snapshot.handle(&req)) {
                        Ok(r) => r,
                        Err(_) => Response::new_err(
                            id,
                            ErrorCode::ContentModified as i32,
                            "the document changed".to_string(),
                        ),
                    };
                    let _ = sender.send(Message::Response(response));
                }));
            }
            Message::Notification(n) => {
                if let Some(changed) = apply(state, &n) {
                    publish(connection, state, &changed);
                }
            }
            Message::Response(_) => {}
        }
    }
    for w in workers {
        let _ = w.join();
    }
    Ok(())
}

/// Applies a notification to the database; the documents whose diagnostics to push.
fn apply(state: &mut State, n: &Notification) -> Option<Vec<PathBuf>> {
    use lsp_types::notification::*;
    let path = |uri: &Url| uri.to_file_path().ok();
    match n.method.as_str() {
        DidOpenTextDocument::METHOD => {
            let p: lsp_types::DidOpenTextDocumentParams =
                serde_json::from_value(n.params.clone()).ok()?;
            let path = path(&p.text_document.uri)?;
            state.file(&path, Some(p.text_document.text));
            state.open.insert(path);
            Some(state.open.iter().cloned().collect())
        }
        DidChangeTextDocument::METHOD => {
            let p: lsp_types::DidChangeTextDocumentParams =
                serde_json::from_value(n.params.clone()).ok()?;
            let path = path(&p.text_document.uri)?;
            let file = state.file(&path, None);
            let mut text = file.text(&state.db).clone();
            for change in p.content_changes {
                match change.range {
                    Some(range) => {
                        let index = convert::LineIndex::new(&text);
                        let start = index.offset(range.start);
                        let end = index.offset(range.end).max(start);
                        text.replace_range(start..end, &change.text);
                    }
                    None => text = change.text,
                }
            }
            state.file(&path, Some(text));
            Some(state.open.iter().cloned().collect())
        }
        DidCloseTextDocument::METHOD => {
            let p: lsp_types::DidCloseTextDocumentParams =
                serde_json::from_value(n.params.clone()).ok()?;
            let path = path(&p.text_document.uri)?;
            state.open.remove(&path);
            // The file on disk is the truth again.
            if let Ok(text) = std::fs::read_to_string(&path) {
                state.file(&path, Some(text));
            }
            None
        }
        DidChangeWatchedFiles::METHOD => {
            let p: lsp_types::DidChangeWatchedFilesParams =
                serde_json::from_value(n.params.clone()).ok()?;
            for change in p.changes {
                let Some(path) = path(&change.uri) else {
                    continue;
                };
                if state.open.contains(&path) {
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                state.file(&path, Some(text));
            }
            Some(state.open.iter().cloned().collect())
        }
        _ => None,
    }
}

/// Pushes the diagnostics of open documents.
fn publish(connection: &Connection, state: &State, paths: &[PathBuf]) {
    for path in paths {
        let Some(file) = state.files.get(path).copied() else {
            continue;
        };
        let text = file.text(&state.db);
        let index = convert::LineIndex::new(text);
        let diagnostics: Vec<LspDiagnostic> =
            mj_compiler::check::queries::file_diagnostics(&state.db, state.project, file)
                .iter()
                .map(|d| convert::diagnostic(d, &index))
                .collect();
        let Ok(uri) = Url::from_file_path(path) else {
            continue;
        };
        let params = PublishDiagnosticsParams {
            uri,
            diagnostics,
            version: None,
        };
        let _ = connection
            .sender
            .send(Message::Notification(Notification::new(
                lsp_types::notification::PublishDiagnostics::METHOD.to_string(),
                params,
            )));
    }
}

/// A request this server does not know.
fn unknown(req: &Request) -> Response {
    Response::new_err(
        req.id.clone(),
        ErrorCode::MethodNotFound as i32,
        format!("mj does not handle `{}`", req.method),
    )
}
