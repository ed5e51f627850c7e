//! A source's location lowered: its format and reading options.

use mj_lang::ast::{Nullability, Source};

use crate::jobs::*;

/// A location's format, `header` and delimiter (exports take no `"whitespace"`).
pub(crate) fn location_job(l: &mj_lang::ast::Location) -> (Format, bool, u8) {
    let (format, header, delimiter, _) = location_parts(l);
    (format, header, delimiter)
}

pub(crate) fn location_parts(l: &mj_lang::ast::Location) -> (Format, bool, u8, bool) {
    let format = match l.format.text.as_str() {
        "parquet" => Format::Parquet,
        "ndjson" => Format::Ndjson,
        "postgres" => Format::Postgres,
        _ => Format::Csv,
    };
    let mut header = true;
    let mut delimiter = b',';
    let mut whitespace = false;
    for opt in &l.options {
        match (opt.name.text.as_str(), &opt.value.kind) {
            ("header", mj_lang::ast::ExprKind::Bool(b)) => header = *b,
            ("delimiter", mj_lang::ast::ExprKind::Str(d)) if d == "whitespace" => whitespace = true,
            ("delimiter", mj_lang::ast::ExprKind::Str(d)) => {
                delimiter = d.bytes().next().unwrap_or(b',')
            }
            _ => {}
        }
    }
    (format, header, delimiter, whitespace)
}

/// A database location's `url = env("VAR")` and `query = "…"`.
pub(crate) fn database_options(l: &mj_lang::ast::Location) -> (Option<String>, Option<String>) {
    let (mut url_env, mut query) = (None, None);
    for opt in &l.options {
        match (opt.name.text.as_str(), &opt.value.kind) {
            ("url", mj_lang::ast::ExprKind::Call(f, args)) if f.text == "env" => {
                if let Some(mj_lang::ast::Arg::Positional { value, .. }) = args.first()
                    && let mj_lang::ast::ExprKind::Str(v) = &value.kind
                {
                    url_env = Some(v.clone());
                }
            }
            ("query", mj_lang::ast::ExprKind::Str(q)) => query = Some(q.clone()),
            _ => {}
        }
    }
    (url_env, query)
}

pub(crate) fn source_job(s: &Source) -> SourceJob {
    let (format, header, delimiter, whitespace) = location_parts(&s.location);
    let columns: Vec<ColumnJob> = s
        .columns
        .iter()
        .map(|c| ColumnJob {
            name: c.name.text.clone(),
            ty: ColType::of(&c.ty.name.text, &c.ty.params).unwrap_or(ColType::String),
            not_null: c.nullability == Nullability::NotNull,
            pii: c.pii,
        })
        .collect();
    let key = columns.iter().find(|c| c.not_null).map(|c| c.name.clone());
    let (url_env, query) = database_options(&s.location);
    SourceJob {
        name: s.header.name.text.clone(),
        format,
        path: s.location.path.value.clone(),
        header,
        delimiter,
        whitespace,
        columns,
        key,
        url_env,
        query,
        incremental: s.incremental.as_ref().map(|i| i.text.clone()),
    }
}
