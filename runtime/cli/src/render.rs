//! Diagnostics at the terminal (miette, colours only on a TTY) and as JSON.

use std::io::{IsTerminal, Write};

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents,
    SourceCode, SourceSpan, SpanContents,
};
use mj_compiler::{Database, Project};
use mj_lang::ast::FileId;
use mj_lang::diagnostic::line_col;
use mj_lang::{Diagnostic, Severity};

/// Paths and texts of the project's files by id.
pub struct Texts {
    files: Vec<(FileId, String, String)>,
}

impl Texts {
    pub fn new(db: &Database, project: Project) -> Texts {
        let files = project
            .files(db)
            .iter()
            .map(|f| (f.id(db), f.path(db).clone(), f.text(db).clone()))
            .collect();
        Texts { files }
    }

    fn get(&self, id: FileId) -> Option<(&str, &str)> {
        self.files
            .iter()
            .find(|f| f.0 == id)
            .map(|f| (f.1.as_str(), f.2.as_str()))
    }
}

pub fn json(diags: &[Diagnostic], texts: &Texts) -> String {
    let items: Vec<serde_json::Value> = diags
        .iter()
        .map(|d| {
            let (path, text) = texts.get(d.span.file).unwrap_or(("", ""));
            let (line, column) = line_col(text, d.span.start as usize);
            let (end_line, end_column) = line_col(text, d.span.end as usize);
            serde_json::json!({
                "code": d.code,
                "severity": d.severity.as_str(),
                "message": d.message,
                "file": path,
                "line": line,
                "column": column,
                "end_line": end_line,
                "end_column": end_column,
                "help": d.help,
            })
        })
        .collect();
    serde_json::to_string_pretty(&items).unwrap_or_else(|_| "[]".into())
}

#[derive(Debug)]
struct Report {
    message: String,
    code: &'static str,
    severity: miette::Severity,
    help: Option<String>,
    labels: Vec<LabeledSpan>,
    source: CharColumns,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Report {}

impl miette::Diagnostic for Report {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }
    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn std::fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.clone().into_iter()))
    }
}

/// A named source whose columns count characters, as the JSON output and editors do;
/// miette's own count is in bytes, which is wrong after any CJK text on the line.
#[derive(Debug)]
struct CharColumns {
    name: String,
    text: String,
}

impl SourceCode for CharColumns {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let inner = self.text.as_str().read_span(span, before, after)?;
        let column = if before == 0 {
            // Only spans read without context carry a column.
            line_col(&self.text, span.offset()).1 - 1
        } else {
            inner.column()
        };
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            *inner.span(),
            inner.line(),
            column,
            inner.line_count(),
        )))
    }
}

fn span(d: mj_lang::ast::Span) -> SourceSpan {
    SourceSpan::new((d.start as usize).into(), (d.end - d.start) as usize)
}

pub fn human(out: &mut dyn Write, diags: &[Diagnostic], texts: &Texts) {
    let theme = if std::io::stderr().is_terminal() {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme).with_width(110);
    for d in diags {
        let Some((path, text)) = texts.get(d.span.file) else {
            continue;
        };
        let mut labels = vec![LabeledSpan::new_primary_with_span(
            d.span_label.clone(),
            span(d.span),
        )];
        let mut notes = Vec::new();
        for l in &d.labels {
            if l.span.file == d.span.file {
                labels.push(LabeledSpan::new_with_span(
                    Some(l.message.clone()),
                    span(l.span),
                ));
            } else if let Some((other, other_text)) = texts.get(l.span.file) {
                let (line, col) = line_col(other_text, l.span.start as usize);
                notes.push(format!("{}: {other}:{line}:{col}", l.message));
            }
        }
        let mut help = d.help.clone();
        if !notes.is_empty() {
            let joined = notes.join("\n");
            help = Some(match help {
                Some(h) => format!("{h}\n{joined}"),
                None => joined,
            });
        }
        let report = Report {
            message: d.message.clone(),
            code: d.code,
            severity: match d.severity {
                Severity::Error => miette::Severity::Error,
                Severity::Warning => miette::Severity::Warning,
                Severity::Info => miette::Severity::Advice,
            },
            help,
            labels,
            source: CharColumns {
                name: path.to_string(),
                text: text.to_string(),
            },
        };
        let mut s = String::new();
        if handler.render_report(&mut s, &report).is_ok() {
            let _ = writeln!(out, "{s}");
        }
    }
}
