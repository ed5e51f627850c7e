//! Between the compiler's byte offsets and LSP's positions (lines and UTF-16 columns),
//! and from the compiler's diagnostics to LSP's.

use lsp_types::{
    CodeDescription, Diagnostic as LspDiagnostic, DiagnosticRelatedInformation, DiagnosticSeverity,
    NumberOrString, Position, Range, Url,
};
use mj_lang::Diagnostic;
use mj_lang::ast::Span;

/// Line starts of a text, to convert offsets and positions both ways.
pub struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub fn new(text: &'a str) -> LineIndex<'a> {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { text, starts }
    }

    /// The position of a byte offset (clamped to the text).
    pub fn position(&self, offset: usize) -> Position {
        let offset = offset.min(self.text.len());
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        let start = self.starts[line];
        let mut end = offset;
        while !self.text.is_char_boundary(end) {
            end -= 1;
        }
        let character: usize = self.text[start..end].chars().map(char::len_utf16).sum();
        Position::new(line as u32, character as u32)
    }

    /// The byte offset of a position; positions past a line's end or the text's end are
    /// clamped to it.
    pub fn offset(&self, p: Position) -> usize {
        let Some(&start) = self.starts.get(p.line as usize) else {
            return self.text.len();
        };
        let end = self
            .starts
            .get(p.line as usize + 1)
            .map_or(self.text.len(), |&e| e.saturating_sub(1).max(start));
        let mut units = 0u32;
        for (i, c) in self.text[start..end].char_indices() {
            if units >= p.character {
                return start + i;
            }
            units += c.len_utf16() as u32;
        }
        end
    }

    pub fn range(&self, span: Span) -> Range {
        Range::new(
            self.position(span.start as usize),
            self.position(span.end as usize),
        )
    }
}

/// Where the documentation of the diagnostic codes is, when this build can find it.
fn docs() -> Option<Url> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/diagnostics.md");
    let path = path.canonicalize().ok()?;
    Url::from_file_path(path).ok()
}

/// The link to a code's section of `docs/diagnostics.md`.
pub fn code_link(code: &str) -> Option<Url> {
    let mut url = docs()?;
    let anchor: String = code
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    url.set_fragment(Some(&anchor.to_lowercase()));
    Some(url)
}

/// A compiler diagnostic as LSP's, for the file `index` indexes. Related places in
/// other files are left out (their text is not at hand here).
pub fn diagnostic(d: &Diagnostic, index: &LineIndex<'_>) -> LspDiagnostic {
    let mut message = d.message.clone();
    if let Some(help) = &d.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    LspDiagnostic {
        range: index.range(d.span),
        severity: Some(if d.is_error() {
            DiagnosticSeverity::ERROR
        } else {
            DiagnosticSeverity::WARNING
        }),
        code: Some(NumberOrString::String(d.code.to_string())),
        code_description: code_link(d.code).map(|href| CodeDescription { href }),
        source: Some("mj".to_string()),
        message,
        related_information: None::<Vec<DiagnosticRelatedInformation>>,
        tags: None,
        data: None,
    }
}
