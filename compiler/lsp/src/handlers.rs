//! Requests, answered from a snapshot of the database.

use std::path::PathBuf;

use lsp_server::{ErrorCode, Request, Response};
use lsp_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, CompletionItem, CompletionItemKind,
    DocumentSymbol, FoldingRange, GotoDefinitionResponse, Hover, HoverContents, Location,
    MarkupContent, MarkupKind, Position, SymbolInformation, SymbolKind, TextEdit, Url,
    WorkspaceEdit,
};
use mj_compiler::queries::{DefKind, Name};
use mj_compiler::{Database, Project, SourceFile};
use mj_lang::ast::Item;
use serde::de::DeserializeOwned;

use crate::State;
use crate::convert::LineIndex;

/// The database as it was when a request arrived.
pub struct Snapshot {
    db: Database,
    project: Project,
    files: Vec<(PathBuf, SourceFile)>,
}

impl Snapshot {
    pub fn of(state: &State) -> Snapshot {
        Snapshot {
            db: state.db.clone(),
            project: state.project,
            files: state.files.iter().map(|(p, f)| (p.clone(), *f)).collect(),
        }
    }

    /// Answers one request; unknown methods and malformed parameters get an error.
    pub fn handle(&self, req: &Request) -> Response {
        let result = match req.method.as_str() {
            "textDocument/hover" => self.run(req, Snapshot::hover),
            "textDocument/definition" => self.run(req, Snapshot::definition),
            "textDocument/documentSymbol" => self.run(req, Snapshot::symbols),
            "workspace/symbol" => self.run(req, Snapshot::workspace_symbols),
            "textDocument/formatting" => self.run(req, Snapshot::formatting),
            "textDocument/foldingRange" => self.run(req, Snapshot::folding),
            "textDocument/codeAction" => self.run(req, Snapshot::code_actions),
            "textDocument/completion" => self.run(req, Snapshot::completion),
            "textDocument/references" => self.run(req, Snapshot::references),
            "textDocument/prepareRename" => self.run(req, Snapshot::prepare_rename),
            "textDocument/rename" => return self.rename(req),
            "textDocument/semanticTokens/full" => self.run(req, Snapshot::semantic_tokens),
            _ => return crate::unknown(req),
        };
        match result {
            Ok(value) => Response::new_ok(req.id.clone(), value),
            Err(message) => {
                Response::new_err(req.id.clone(), ErrorCode::InvalidParams as i32, message)
            }
        }
    }

    fn run<P: DeserializeOwned, R: serde::Serialize>(
        &self,
        req: &Request,
        f: fn(&Snapshot, P) -> Option<R>,
    ) -> Result<serde_json::Value, String> {
        let params: P = serde_json::from_value(req.params.clone())
            .map_err(|e| format!("invalid parameters for `{}`: {e}", req.method))?;
        Ok(serde_json::to_value(f(self, params)).unwrap_or(serde_json::Value::Null))
    }

    fn file(&self, uri: &Url) -> Option<SourceFile> {
        let path = uri.to_file_path().ok()?;
        self.files.iter().find(|(p, _)| *p == path).map(|(_, f)| *f)
    }

    fn uri(&self, file: SourceFile) -> Option<Url> {
        let path = self
            .files
            .iter()
            .find(|(_, f)| *f == file)
            .map(|(p, _)| p)?;
        Url::from_file_path(path).ok()
    }

    /// The name under a position: letters, digits and `_` (names may start with a digit).
    fn word_at(&self, file: SourceFile, p: Position) -> Option<(String, usize, usize)> {
        let text = file.text(&self.db);
        let index = LineIndex::new(text);
        let at = index.offset(p);
        let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
        let start = text[..at]
            .char_indices()
            .rev()
            .take_while(|(_, c)| is_word(*c))
            .last()
            .map_or(at, |(i, _)| i);
        let end = text[at..]
            .char_indices()
            .find(|(_, c)| !is_word(*c))
            .map_or(text.len(), |(i, _)| at + i);
        (start < end).then(|| (text[start..end].to_string(), start, end))
    }

    /// The project name under a position: an occurrence the compiler resolved, else
    /// the word there when it names a definition. With its byte range.
    fn target_at(&self, file: SourceFile, p: Position) -> Option<(String, usize, usize)> {
        let index = LineIndex::new(file.text(&self.db));
        let at = index.offset(p);
        if let Some(o) = mj_compiler::refs::occurrence_at(&self.db, self.project, file, at) {
            return Some((o.name.clone(), o.span.start as usize, o.span.end as usize));
        }
        let (word, start, end) = self.word_at(file, p)?;
        self.def(&word)?;
        Some((word, start, end))
    }

    fn def(&self, name: &str) -> Option<&mj_compiler::queries::Def> {
        mj_compiler::queries::lookup(
            &self.db,
            self.project,
            Name::new(&self.db, name.to_string()),
        )
        .as_ref()
    }

    fn hover(&self, p: lsp_types::HoverParams) -> Option<Hover> {
        let doc = &p.text_document_position_params;
        let file = self.file(&doc.text_document.uri)?;
        let (word, start, end) = self.target_at(file, doc.position)?;
        let def = self.def(&word)?;
        let item = self.def_item(def)?;
        let text = def.file.text(&self.db);
        let source = text
            .get(item.span.start as usize..item.span.end as usize)
            .unwrap_or("");
        let display = def
            .item
            .kind
            .header()
            .and_then(|h| h.display.as_ref())
            .map(|d| format!(" — {}", d.value))
            .unwrap_or_default();
        let mut md = format!(
            "**{}** `{word}`{display}\n\n```mj\n{}\n```",
            def.kind
                .describe()
                .trim_start_matches("a ")
                .trim_start_matches("an "),
            source.trim_end()
        );
        if let Some(ty) = mj_compiler::check::type_of(&self.db, self.project, &word) {
            md.push_str(&format!("\n\nType: {ty}."));
        }
        md.push_str(&crate::hover::computes(&self.db, self.project, def, &word));
        let users = mj_compiler::check::queries::used_by(&self.db, self.project, &word);
        if !users.is_empty() {
            let shown: Vec<String> = users.iter().map(|u| format!("`{u}`")).collect();
            md.push_str(&format!("\n\nUsed by {}.", shown.join(", ")));
        }
        let index = LineIndex::new(file.text(&self.db));
        Some(Hover {
            contents: HoverContents::Markup(MarkupContent {
                kind: MarkupKind::Markdown,
                value: md,
            }),
            range: Some(lsp_types::Range::new(
                index.position(start),
                index.position(end),
            )),
        })
    }

    fn definition(&self, p: lsp_types::GotoDefinitionParams) -> Option<GotoDefinitionResponse> {
        let doc = &p.text_document_position_params;
        let file = self.file(&doc.text_document.uri)?;
        let (word, _, _) = self.target_at(file, doc.position)?;
        let def = self.def(&word)?;
        let uri = self.uri(def.file)?;
        let item = self.def_item(def)?;
        let span = item.kind.header().map_or(item.span, |h| h.name.span);
        let index = LineIndex::new(def.file.text(&self.db));
        Some(GotoDefinitionResponse::Scalar(Location::new(
            uri,
            index.range(span),
        )))
    }

    fn references(&self, p: lsp_types::ReferenceParams) -> Option<Vec<Location>> {
        let doc = &p.text_document_position;
        let file = self.file(&doc.text_document.uri)?;
        let (name, _, _) = self.target_at(file, doc.position)?;
        let mut out = Vec::new();
        for (f, o) in mj_compiler::refs::references(&self.db, self.project, &name) {
            if o.definition && !p.context.include_declaration {
                continue;
            }
            let Some(uri) = self.uri(f) else { continue };
            let index = LineIndex::new(f.text(&self.db));
            out.push(Location::new(uri, index.range(o.span)));
        }
        Some(out)
    }

    fn prepare_rename(
        &self,
        p: lsp_types::TextDocumentPositionParams,
    ) -> Option<lsp_types::PrepareRenameResponse> {
        let file = self.file(&p.text_document.uri)?;
        let (name, start, end) = self.target_at(file, p.position)?;
        // Standard-library items have no file to edit.
        let def = self.def(&name)?;
        self.uri(def.file)?;
        let index = LineIndex::new(file.text(&self.db));
        Some(lsp_types::PrepareRenameResponse::RangeWithPlaceholder {
            range: lsp_types::Range::new(index.position(start), index.position(end)),
            placeholder: name,
        })
    }

    /// A rename across files, or an error response with the compiler's reason.
    fn rename(&self, req: &Request) -> Response {
        let p: lsp_types::RenameParams = match serde_json::from_value(req.params.clone()) {
            Ok(p) => p,
            Err(e) => {
                return Response::new_err(
                    req.id.clone(),
                    ErrorCode::InvalidParams as i32,
                    format!("invalid parameters for `textDocument/rename`: {e}"),
                );
            }
        };
        let doc = &p.text_document_position;
        let failed = |message: String| {
            Response::new_err(req.id.clone(), ErrorCode::RequestFailed as i32, message)
        };
        let Some(file) = self.file(&doc.text_document.uri) else {
            return failed("this document is not part of the mj project".to_string());
        };
        let Some((name, _, _)) = self.target_at(file, doc.position) else {
            return failed("there is no project name here to rename".to_string());
        };
        let rename =
            match mj_compiler::refs::rename(&self.db, self.project, &name, p.new_name.trim()) {
                Ok(r) => r,
                Err(reason) => return failed(reason),
            };
        let mut changes: std::collections::HashMap<Url, Vec<TextEdit>> = Default::default();
        for (f, span, text) in rename.edits {
            let Some(uri) = self.uri(f) else { continue };
            let index = LineIndex::new(f.text(&self.db));
            changes
                .entry(uri)
                .or_default()
                .push(TextEdit::new(index.range(span), text));
        }
        Response::new_ok(req.id.clone(), WorkspaceEdit::new(changes))
    }

    fn semantic_tokens(
        &self,
        p: lsp_types::SemanticTokensParams,
    ) -> Option<lsp_types::SemanticTokensResult> {
        let file = self.file(&p.text_document.uri)?;
        let occurrences = mj_compiler::refs::occurrences(&self.db, self.project, file);
        let data = crate::tokens::encode(file.text(&self.db), occurrences);
        Some(lsp_types::SemanticTokensResult::Tokens(
            lsp_types::SemanticTokens {
                result_id: None,
                data,
            },
        ))
    }

    /// A file's items with their positions.
    fn items(&self, file: SourceFile) -> &[Item] {
        &mj_compiler::parse(&self.db, file).module.items
    }

    /// A definition's item with its positions.
    fn def_item(&self, def: &mj_compiler::queries::Def) -> Option<&Item> {
        self.items(def.file).get(def.ordinal as usize)
    }

    fn symbols(&self, p: lsp_types::DocumentSymbolParams) -> Option<Vec<DocumentSymbol>> {
        let file = self.file(&p.text_document.uri)?;
        let index = LineIndex::new(file.text(&self.db));
        let mut out = Vec::new();
        for item in self.items(file).iter() {
            let Some(h) = item.kind.header() else {
                continue;
            };
            let kind = DefKind::of(&item.kind);
            #[allow(deprecated)]
            out.push(DocumentSymbol {
                name: h.name.text.clone(),
                detail: h.display.as_ref().map(|d| d.value.clone()),
                kind: symbol_kind(kind),
                tags: None,
                deprecated: None,
                range: index.range(item.span),
                selection_range: index.range(h.name.span),
                children: None,
            });
        }
        Some(out)
    }

    fn workspace_symbols(
        &self,
        p: lsp_types::WorkspaceSymbolParams,
    ) -> Option<Vec<SymbolInformation>> {
        let query = p.query.to_lowercase();
        let mut out = Vec::new();
        for (_, file) in &self.files {
            let Some(uri) = self.uri(*file) else { continue };
            let index = LineIndex::new(file.text(&self.db));
            for item in self.items(*file).iter() {
                let Some(h) = item.kind.header() else {
                    continue;
                };
                let display = h.display.as_ref().map(|d| d.value.to_lowercase());
                if !h.name.text.to_lowercase().contains(&query)
                    && !display.is_some_and(|d| d.contains(&query))
                {
                    continue;
                }
                #[allow(deprecated)]
                out.push(SymbolInformation {
                    name: h.name.text.clone(),
                    kind: symbol_kind(DefKind::of(&item.kind)),
                    tags: None,
                    deprecated: None,
                    location: Location::new(uri.clone(), index.range(h.name.span)),
                    container_name: None,
                });
            }
        }
        Some(out)
    }

    fn formatting(&self, p: lsp_types::DocumentFormattingParams) -> Option<Vec<TextEdit>> {
        let file = self.file(&p.text_document.uri)?;
        let text = file.text(&self.db);
        let parsed = mj_compiler::parse(&self.db, file);
        // A file with syntax errors is left as it is, as `mj fmt` leaves it.
        if !parsed.errors.is_empty() {
            return None;
        }
        // Through the same guard as `mj fmt`: a change of layout only, or none.
        let formatted = match mj_lang::format::checked(&parsed.module, text) {
            Ok(None) => return Some(Vec::new()),
            Ok(Some(formatted)) => formatted,
            Err(why) => {
                eprintln!("mj lsp: {why}");
                return None;
            }
        };
        let index = LineIndex::new(text);
        Some(vec![TextEdit::new(
            lsp_types::Range::new(Position::new(0, 0), index.position(text.len())),
            formatted,
        )])
    }

    fn folding(&self, p: lsp_types::FoldingRangeParams) -> Option<Vec<FoldingRange>> {
        let file = self.file(&p.text_document.uri)?;
        let index = LineIndex::new(file.text(&self.db));
        let mut out = Vec::new();
        for item in self.items(file).iter() {
            let r = index.range(item.span);
            if r.end.line > r.start.line {
                out.push(FoldingRange {
                    start_line: r.start.line,
                    start_character: None,
                    end_line: r.end.line,
                    end_character: None,
                    kind: None,
                    collapsed_text: None,
                });
            }
        }
        Some(out)
    }

    fn code_actions(&self, p: lsp_types::CodeActionParams) -> Option<Vec<CodeActionOrCommand>> {
        let file = self.file(&p.text_document.uri)?;
        let index = LineIndex::new(file.text(&self.db));
        let mut out = Vec::new();
        for d in mj_compiler::check::queries::file_diagnostics(&self.db, self.project, file) {
            let r = index.range(d.span);
            if r.end < p.range.start || r.start > p.range.end {
                continue;
            }
            let Some(fix) = &d.fix else { continue };
            let mut changes: std::collections::HashMap<Url, Vec<TextEdit>> = Default::default();
            for e in &fix.edits {
                let Some((edit_file, uri)) = self
                    .files
                    .iter()
                    .find(|(_, f)| f.id(&self.db) == e.span.file)
                    .and_then(|(_, f)| Some((*f, self.uri(*f)?)))
                else {
                    continue;
                };
                let ei = LineIndex::new(edit_file.text(&self.db));
                changes
                    .entry(uri)
                    .or_default()
                    .push(TextEdit::new(ei.range(e.span), e.replacement.clone()));
            }
            out.push(CodeActionOrCommand::CodeAction(CodeAction {
                title: fix.message.clone(),
                kind: Some(CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![crate::convert::diagnostic(&d, &index)]),
                edit: Some(WorkspaceEdit::new(changes)),
                command: None,
                is_preferred: Some(true),
                disabled: None,
                data: None,
            }));
        }
        Some(out)
    }

    fn completion(&self, p: lsp_types::CompletionParams) -> Option<Vec<CompletionItem>> {
        let doc = &p.text_document_position;
        let file = self.file(&doc.text_document.uri)?;
        let index = LineIndex::new(file.text(&self.db));
        let at = index.offset(doc.position);
        Some(crate::complete::complete(&self.db, self.project, file, at))
    }
}

fn symbol_kind(kind: Option<DefKind>) -> SymbolKind {
    match kind {
        Some(DefKind::Source | DefKind::Dimension | DefKind::Fact) => SymbolKind::STRUCT,
        Some(DefKind::Atomic | DefKind::Derived | DefKind::Composite) => SymbolKind::FIELD,
        Some(DefKind::Modifier | DefKind::Period) => SymbolKind::CONSTANT,
        Some(DefKind::Function) => SymbolKind::FUNCTION,
        Some(DefKind::OneId) => SymbolKind::CLASS,
        Some(DefKind::Tag | DefKind::Aipl | DefKind::Rfm | DefKind::Audience) => {
            SymbolKind::PROPERTY
        }
        _ => SymbolKind::OBJECT,
    }
}

pub(crate) fn completion_kind(kind: DefKind) -> CompletionItemKind {
    match kind {
        DefKind::Function => CompletionItemKind::FUNCTION,
        DefKind::Source | DefKind::Dimension | DefKind::Fact => CompletionItemKind::STRUCT,
        DefKind::Modifier | DefKind::Period => CompletionItemKind::CONSTANT,
        _ => CompletionItemKind::FIELD,
    }
}
