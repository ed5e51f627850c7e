//! PostgreSQL sources: a table (or a query's rows) read with `COPY … TO STDOUT`, every
//! declared column as text, then typed by the same rules as a file's (a value that
//! does not read as its declared type makes the row a reject, with its reason).
//!
//! Before reading, the statement is prepared: a missing table or column, or a column
//! whose PostgreSQL type can never read as the declared one, is an error naming the
//! source, the database object and what to do — before anything is written. The URL
//! comes from the environment (`url = env("VAR")`) or from `[sources.<name>] url` in
//! mj.toml; messages show it without its password.

use std::time::Duration;

use futures::StreamExt;
use mj_ir::jobs::{ColType, SourceJob};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::Type;

use crate::RunError;

/// How long connecting may take before the server is called unreachable.
const CONNECT_SECONDS: u64 = 5;

/// A connection URL as messages show it: user, host, port and database, no password.
pub fn shown_url(url: &str) -> String {
    match url.parse::<tokio_postgres::Config>() {
        Ok(c) => {
            let host = c
                .get_hosts()
                .first()
                .map(|h| match h {
                    tokio_postgres::config::Host::Tcp(h) => h.clone(),
                    #[cfg(unix)]
                    tokio_postgres::config::Host::Unix(p) => p.display().to_string(),
                })
                .unwrap_or_else(|| "localhost".to_string());
            let port = c.get_ports().first().copied().unwrap_or(5432);
            format!(
                "postgres://{}@{host}:{port}/{}",
                c.get_user().unwrap_or("?"),
                c.get_dbname().unwrap_or("?")
            )
        }
        Err(_) => "(an unreadable URL)".to_string(),
    }
}

/// The URL a source or export reads from: its `env(…)` variable, else mj.toml's entry.
pub fn url_of(
    what: &str,
    name: &str,
    env: Option<&str>,
    configured: Option<&String>,
) -> Result<String, RunError> {
    let fail = |message: String| RunError {
        message: format!("{what} `{name}`: {message}"),
    };
    match (env, configured) {
        (Some(var), _) => std::env::var(var).map_err(|_| {
            fail(format!(
                "the environment variable {var} is not set; it holds the PostgreSQL URL \
                 (postgres://USER:PASSWORD@HOST:PORT/DATABASE)"
            ))
        }),
        (None, Some(url)) => Ok(url.clone()),
        (None, None) => Err(fail(format!(
            "no PostgreSQL URL: write url = env(\"MJ_PG_URL\") in the location, or set \
             [{}s.{name}] url in mj.toml",
            what
        ))),
    }
}

/// Connects, naming what went wrong in words a user can act on.
pub async fn connect(
    what: &str,
    name: &str,
    url: &str,
) -> Result<tokio_postgres::Client, RunError> {
    let shown = shown_url(url);
    let fail = |message: String| RunError {
        message: format!("{what} `{name}`, {shown}: {message}"),
    };
    let mut config: tokio_postgres::Config = url.parse().map_err(|e| {
        fail(format!(
            "not a PostgreSQL URL ({e}); write postgres://USER:PASSWORD@HOST:PORT/DATABASE"
        ))
    })?;
    config.connect_timeout(Duration::from_secs(CONNECT_SECONDS));
    let (client, connection) = config
        .connect(tokio_postgres::NoTls)
        .await
        .map_err(|e| fail(connect_error(&e)))?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    client
        .batch_execute("SET TimeZone = 'UTC'")
        .await
        .map_err(|e| fail(db_message(&e)))?;
    Ok(client)
}

fn connect_error(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let code = db.code();
        if *code == SqlState::INVALID_PASSWORD
            || *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION
        {
            return format!(
                "the server refused the login: {}; check the user and password in the URL",
                db.message()
            );
        }
        if *code == SqlState::INVALID_CATALOG_NAME {
            return format!("{}; check the database name in the URL", db.message());
        }
        return db.message().to_string();
    }
    let text = e.to_string();
    let cause = std::error::Error::source(e).map(|s| s.to_string());
    if text.contains("password") || text.contains("authentication") {
        return format!(
            "the server asks for a password the URL does not give ({text}); add it to the URL"
        );
    }
    format!(
        "cannot reach the server ({}); check the host and port, and that PostgreSQL \
         listens there",
        cause.unwrap_or(text)
    )
}

fn db_message(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => db.message().to_string(),
        None => e.to_string(),
    }
}

/// `schema.table` with each part quoted.
pub fn quoted_table(table: &str) -> String {
    table
        .split('.')
        .map(|p| format!("\"{}\"", p.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(".")
}

fn quoted(column: &str) -> String {
    format!("\"{}\"", column.replace('"', "\"\""))
}

/// Whether values of PostgreSQL type `t` can be read as `ty` (as text, then typed).
fn readable(t: &Type, ty: ColType) -> bool {
    let numeric = [
        Type::INT2,
        Type::INT4,
        Type::INT8,
        Type::NUMERIC,
        Type::FLOAT4,
        Type::FLOAT8,
        Type::OID,
    ];
    let text = [
        Type::TEXT,
        Type::VARCHAR,
        Type::BPCHAR,
        Type::NAME,
        Type::UNKNOWN,
    ];
    if text.contains(t) {
        return true;
    }
    match ty {
        ColType::String => true,
        ColType::Int
        | ColType::BigInt
        | ColType::SmallInt
        | ColType::Float
        | ColType::Double
        | ColType::Decimal(..) => numeric.contains(t),
        ColType::Bool => *t == Type::BOOL,
        ColType::Date => [Type::DATE, Type::TIMESTAMP, Type::TIMESTAMPTZ].contains(t),
        ColType::Timestamp => [Type::DATE, Type::TIMESTAMP, Type::TIMESTAMPTZ].contains(t),
    }
}

/// The rows of a PostgreSQL source as CSV text, each declared column as text in the
/// declared order; and the name rejects give the rows' origin.
/// With `since`, only the rows whose `incremental by` column is past it (the predicate
/// runs in the database).
pub async fn read(
    job: &SourceJob,
    url: &str,
    since: Option<&str>,
) -> Result<(Vec<u8>, String), RunError> {
    let client = connect("source", &job.name, url).await?;
    let shown = format!("{}#{}", shown_url(url), job.path);
    let fail = |message: String| RunError::source(&job.name, &shown, message);
    let base = match &job.query {
        Some(q) => format!("({q})"),
        None => quoted_table(&job.path),
    };
    let stmt = client
        .prepare(&format!("SELECT * FROM {base} AS q LIMIT 0"))
        .await
        .map_err(|e| match e.code() {
            Some(c) if *c == SqlState::UNDEFINED_TABLE => fail(format!(
                "{}; check the table's schema and name (or grant the user access to it)",
                db_message(&e)
            )),
            _ => fail(format!("cannot read it: {}", db_message(&e))),
        })?;
    let columns: Vec<(&str, &Type)> = stmt
        .columns()
        .iter()
        .map(|c| (c.name(), c.type_()))
        .collect();
    let missing: Vec<&str> = job
        .columns
        .iter()
        .map(|c| c.name.as_str())
        .filter(|n| !columns.iter().any(|(c, _)| c == n))
        .collect();
    if !missing.is_empty() {
        return Err(fail(format!(
            "the {} lacks declared column(s) {}; it has: {}",
            if job.query.is_some() {
                "query"
            } else {
                "table"
            },
            missing.join(", "),
            columns.iter().map(|c| c.0).collect::<Vec<_>>().join(", ")
        )));
    }
    let mut select = Vec::new();
    for c in &job.columns {
        let (_, t) = columns
            .iter()
            .find(|(n, _)| *n == c.name)
            .expect("checked above");
        if !readable(t, c.ty) {
            return Err(fail(format!(
                "column `{}` is `{t}` in PostgreSQL and cannot be read as {}; declare it as \
                 the column's type, or cast it in a query = \"…\"",
                c.name,
                crate::source::type_name(c.ty)
            )));
        }
        let col = quoted(&c.name);
        select.push(if [Type::TIMESTAMP, Type::TIMESTAMPTZ].contains(t) {
            format!("to_char({col}, 'YYYY-MM-DD HH24:MI:SS.US')")
        } else {
            format!("{col}::text")
        });
    }
    let filter = match (since, &job.incremental) {
        (Some(w), Some(col)) => format!(" WHERE {} > '{}'", quoted(col), w.replace('\'', "''")),
        _ => String::new(),
    };
    let copy = format!(
        "COPY (SELECT {} FROM {base} AS q{filter}) TO STDOUT (FORMAT csv)",
        select.join(", ")
    );
    let stream = client
        .copy_out(copy.as_str())
        .await
        .map_err(|e| fail(format!("cannot read it: {}", db_message(&e))))?;
    let mut stream = std::pin::pin!(stream);
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| fail(format!("reading stopped: {}", db_message(&e))))?;
        bytes.extend_from_slice(&chunk);
    }
    Ok((bytes, shown))
}

/// A column type for a table an export creates.
fn sql_type(t: &arrow::datatypes::DataType) -> String {
    use arrow::datatypes::DataType as D;
    match t {
        D::Int8 | D::Int16 | D::Int32 | D::UInt8 | D::UInt16 => "integer".into(),
        D::Int64 | D::UInt32 | D::UInt64 => "bigint".into(),
        D::Float32 | D::Float64 => "double precision".into(),
        D::Boolean => "boolean".into(),
        D::Date32 | D::Date64 => "date".into(),
        D::Timestamp(..) => "timestamp".into(),
        D::Decimal128(p, s) => format!("numeric({p},{s})"),
        _ => "text".into(),
    }
}

/// Writes an audience's rows for `date` into `table`, in one transaction: the date's
/// earlier rows deleted, these copied in. The table (with a `dt date` column before
/// the exported ones) is created when missing. Returns the rows written.
pub async fn write(
    audience: &str,
    url: &str,
    table: &str,
    date: &str,
    schema: &arrow::datatypes::Schema,
    batches: &[arrow::array::RecordBatch],
) -> Result<u64, RunError> {
    use futures::SinkExt;
    let mut client = connect("export", audience, url).await?;
    let shown = format!("{}#{table}", shown_url(url));
    let fail = |message: String| RunError {
        message: format!("export `{audience}`, {shown}: {message}"),
    };
    let db = |e: tokio_postgres::Error| fail(db_message(&e));
    let day = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .map_err(|e| fail(format!("{date:?} is not a date: {e}")))?;
    let target = quoted_table(table);
    let tx = client.transaction().await.map_err(db)?;
    if let Some((schema_name, _)) = table.rsplit_once('.') {
        tx.batch_execute(&format!(
            "CREATE SCHEMA IF NOT EXISTS {}",
            quoted_table(schema_name)
        ))
        .await
        .map_err(db)?;
    }
    let columns: Vec<String> = schema
        .fields()
        .iter()
        .map(|f| format!("{} {}", quoted(f.name()), sql_type(f.data_type())))
        .collect();
    tx.batch_execute(&format!(
        "CREATE TABLE IF NOT EXISTS {target} (dt date NOT NULL, {})",
        columns.join(", ")
    ))
    .await
    .map_err(db)?;
    let stmt = tx
        .prepare(&format!("SELECT * FROM {target} LIMIT 0"))
        .await
        .map_err(db)?;
    let has: Vec<&str> = stmt.columns().iter().map(|c| c.name()).collect();
    let missing: Vec<&str> = std::iter::once("dt")
        .chain(schema.fields().iter().map(|f| f.name().as_str()))
        .filter(|c| !has.contains(c))
        .collect();
    if !missing.is_empty() {
        return Err(fail(format!(
            "the table lacks column(s) {}; it has: {}. Add them, or drop the table for the \
             export to create it",
            missing.join(", "),
            has.join(", ")
        )));
    }
    tx.execute(&format!("DELETE FROM {target} WHERE dt = $1"), &[&day])
        .await
        .map_err(db)?;
    let names: Vec<String> = std::iter::once("dt".to_string())
        .chain(schema.fields().iter().map(|f| quoted(f.name())))
        .collect();
    let mut text = Vec::new();
    let mut rows = 0u64;
    {
        let mut w = arrow::csv::WriterBuilder::new()
            .with_header(false)
            .with_timestamp_format("%Y-%m-%d %H:%M:%S%.f".to_string())
            .build(&mut text);
        for b in batches {
            let dt = arrow::array::Date32Array::from(vec![
                (day - chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch")).num_days()
                    as i32;
                b.num_rows()
            ]);
            let mut cols: Vec<arrow::array::ArrayRef> = vec![std::sync::Arc::new(dt)];
            cols.extend(b.columns().iter().cloned());
            let mut fields = vec![arrow::datatypes::Field::new(
                "dt",
                arrow::datatypes::DataType::Date32,
                false,
            )];
            fields.extend(b.schema().fields().iter().map(|f| f.as_ref().clone()));
            let with_dt = arrow::array::RecordBatch::try_new(
                std::sync::Arc::new(arrow::datatypes::Schema::new(fields)),
                cols,
            )
            .map_err(|e| fail(e.to_string()))?;
            w.write(&with_dt).map_err(|e| fail(e.to_string()))?;
            rows += b.num_rows() as u64;
        }
    }
    let sink = tx
        .copy_in(&format!(
            "COPY {target} ({}) FROM STDIN (FORMAT csv)",
            names.join(", ")
        ))
        .await
        .map_err(db)?;
    let mut sink = std::pin::pin!(sink);
    sink.send(bytes::Bytes::from(text)).await.map_err(db)?;
    sink.as_mut().finish().await.map_err(db)?;
    tx.commit().await.map_err(db)?;
    Ok(rows)
}
