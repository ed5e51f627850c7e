//! The one diagnostic type of the project.
//!
//! Every stage reports problems as [`Diagnostic`]s. Renderers live at the edges: the
//! command line turns them into miette reports, the language server into LSP
//! diagnostics. Codes are stable, path-like strings (`mj::naming::derived_name_mismatch`)
//! and each is documented in `docs/diagnostics.md`.

use serde::Serialize;

use crate::ast::Span;

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

/// A replacement of the text in `span`.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize)]
pub struct TextEdit {
    pub span: Span,
    pub replacement: String,
}

/// A machine-applicable fix: apply every edit and the diagnostic goes away.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize)]
pub struct Fix {
    pub message: String,
    pub edits: Vec<TextEdit>,
}

#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize)]
pub struct Diagnostic {
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    pub span: Span,
    /// What the primary span is, shown under it.
    pub span_label: Option<String>,
    /// Other places that explain the problem (possibly in other files).
    pub labels: Vec<Label>,
    pub help: Option<String>,
    pub fix: Option<Fix>,
}

impl Diagnostic {
    pub fn error(code: &'static str, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            severity: Severity::Error,
            message: message.into(),
            span,
            span_label: None,
            labels: Vec::new(),
            help: None,
            fix: None,
        }
    }

    pub fn warning(code: &'static str, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, span, message)
        }
    }

    pub fn with_span_label(mut self, label: impl Into<String>) -> Diagnostic {
        self.span_label = Some(label.into());
        self
    }

    pub fn with_label(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        self.labels.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    pub fn with_fix(mut self, message: impl Into<String>, edits: Vec<TextEdit>) -> Diagnostic {
        self.fix = Some(Fix {
            message: message.into(),
            edits,
        });
        self
    }

    /// A fix that replaces the text of `span`.
    pub fn with_replacement(
        self,
        message: impl Into<String>,
        span: Span,
        replacement: impl Into<String>,
    ) -> Diagnostic {
        self.with_fix(
            message,
            vec![TextEdit {
                span,
                replacement: replacement.into(),
            }],
        )
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let mut line = 1;
    let mut line_start = 0;
    for (i, b) in text.as_bytes()[..offset].iter().enumerate() {
        if *b == b'\n' {
            line += 1;
            line_start = i + 1;
        }
    }
    let column = text
        .get(line_start..offset)
        .map_or(offset - line_start, |s| s.chars().count());
    (line, column + 1)
}

/// Applies a fix's edits to `text`, for one file. Edits must not overlap.
pub fn apply_edits(text: &str, edits: &[&TextEdit]) -> String {
    let mut edits: Vec<&&TextEdit> = edits.iter().collect();
    edits.sort_by_key(|e| std::cmp::Reverse(e.span.start));
    let mut out = text.to_string();
    for edit in edits {
        let range = edit.span.range();
        if range.end <= out.len()
            && out.is_char_boundary(range.start)
            && out.is_char_boundary(range.end)
        {
            out.replace_range(range, &edit.replacement);
        }
    }
    out
}
