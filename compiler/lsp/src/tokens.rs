//! Semantic tokens: comments, strings, numbers and keywords from the text; project
//! names from the compiler's occurrences, typed by what they name.

use lsp_types::SemanticToken;
use mj_compiler::queries::DefKind;
use mj_compiler::refs::Occurrence;

/// The legend, in the order of the indexes below.
pub const TYPES: &[&str] = &[
    "keyword",
    "string",
    "number",
    "comment",
    "type",
    "function",
    "variable",
    "enumMember",
    "property",
    "namespace",
    "class",
    "event",
];
pub const MODIFIERS: &[&str] = &["declaration", "defaultLibrary"];

const KEYWORD: u32 = 0;
const STRING: u32 = 1;
const NUMBER: u32 = 2;
const COMMENT: u32 = 3;

/// Words the grammar gives a meaning where they stand (keywords of items and
/// statements, operators spelled as words).
const KEYWORDS: &[&str] = &[
    "above",
    "against",
    "aipl",
    "and",
    "as",
    "at",
    "atomic",
    "attributes",
    "audience",
    "baseline",
    "by",
    "camera_height",
    "capture",
    "case",
    "check",
    "compare",
    "composite",
    "contribution",
    "dashboard",
    "derived",
    "dimension",
    "dims",
    "else",
    "entity",
    "export",
    "fact",
    "false",
    "flow",
    "fn",
    "frequency",
    "frequent",
    "from",
    "glossary",
    "grain",
    "hotspot",
    "identifier",
    "in",
    "key",
    "kpi",
    "last",
    "layout",
    "link",
    "max_component",
    "max_per_person",
    "measures",
    "merge",
    "modifier",
    "monetary",
    "naming",
    "normalize",
    "not",
    "null",
    "of",
    "on",
    "oneid",
    "or",
    "output",
    "over",
    "period",
    "pii",
    "recency",
    "reject",
    "rfm",
    "room",
    "root",
    "route",
    "scan",
    "scoped",
    "score",
    "segments",
    "severity",
    "source",
    "steps",
    "strong",
    "tag",
    "texture",
    "time",
    "to",
    "trend",
    "true",
    "unique",
    "unit",
    "upright",
    "values",
    "weak",
    "where",
];

fn kind_type(kind: DefKind) -> u32 {
    match kind {
        DefKind::Source | DefKind::Dimension | DefKind::Fact => 4,
        DefKind::Function => 5,
        DefKind::Atomic | DefKind::Derived | DefKind::Composite => 6,
        DefKind::Modifier | DefKind::Period => 7,
        DefKind::Tag => 8,
        DefKind::OneId => 9,
        DefKind::Aipl | DefKind::Rfm | DefKind::Scan | DefKind::Dashboard => 10,
        DefKind::Audience => 11,
    }
}

/// The tokens of a text, delta-encoded as LSP wants (lines, UTF-16 columns).
pub fn encode(text: &str, occurrences: &[Occurrence]) -> Vec<SemanticToken> {
    // (start byte, end byte, type, modifiers), in order, none spanning a line.
    let mut spans: Vec<(usize, usize, u32, u32)> = Vec::new();
    let bytes = text.as_bytes();
    let mut occ = occurrences.iter().peekable();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'/' && bytes.get(i + 1) == Some(&b'/') {
            let end = text[i..].find('\n').map_or(text.len(), |n| i + n);
            spans.push((i, end, COMMENT, 0));
            i = end;
        } else if c == b'"' {
            let mut j = i + 1;
            while j < bytes.len() && bytes[j] != b'"' && bytes[j] != b'\n' {
                j += if bytes[j] == b'\\' { 2 } else { 1 };
            }
            let end = (j + 1).min(bytes.len());
            spans.push((i, end, STRING, 0));
            i = end;
        } else if c.is_ascii_alphanumeric() || c == b'_' {
            let mut j = i;
            while j < bytes.len() && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_') {
                j += 1;
            }
            while occ.peek().is_some_and(|o| (o.span.end as usize) <= i) {
                occ.next();
            }
            let word = &text[i..j];
            if let Some(o) = occ.peek().filter(|o| o.span.start as usize == i) {
                let mut modifiers = u32::from(o.definition);
                if o.kind == DefKind::Function {
                    modifiers |= 2;
                }
                spans.push((i, o.span.end as usize, kind_type(o.kind), modifiers));
            } else if c.is_ascii_digit() && !word.contains('_') {
                spans.push((i, j, NUMBER, 0));
            } else if KEYWORDS.contains(&word) {
                spans.push((i, j, KEYWORD, 0));
            }
            i = j;
        } else {
            i += text[i..].chars().next().map_or(1, char::len_utf8);
        }
    }
    let index = crate::convert::LineIndex::new(text);
    let mut out = Vec::with_capacity(spans.len());
    let (mut line, mut col) = (0u32, 0u32);
    for (start, end, ty, modifiers) in spans {
        let a = index.position(start);
        let b = index.position(end);
        let length = if b.line == a.line {
            b.character - a.character
        } else {
            // A string left open at the end of a line: up to the line's end.
            let line_end = text[start..].find('\n').map_or(text.len(), |n| start + n);
            index.position(line_end).character - a.character
        };
        let delta_line = a.line - line;
        let delta_start = if delta_line == 0 {
            a.character - col
        } else {
            a.character
        };
        out.push(SemanticToken {
            delta_line,
            delta_start,
            length,
            token_type: ty,
            token_modifiers_bitset: modifiers,
        });
        line = a.line;
        col = a.character;
    }
    out
}
