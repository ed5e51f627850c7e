//! Runs a SQL script on DataFusion, configured as `mj run` configures it: the peer
//! that `bench/metrics.py` compares mj's generated plans with.
//!
//!     sql_script SCRIPT.sql
//!
//! Statements are separated by `;` at the end of a line; each runs to completion
//! (`CREATE EXTERNAL TABLE`, `COPY (…) TO …`), in order; what an `EXPLAIN` returns is
//! printed.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: sql_script SCRIPT.sql");
        return ExitCode::from(2);
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::from(2);
        }
    };
    let ctx = mj_runtime::session();
    for statement in text.split(";\n").map(str::trim).filter(|s| !s.is_empty()) {
        let result = async { ctx.sql(statement).await?.collect().await }.await;
        match result {
            Err(e) => {
                eprintln!("{e}\nin:\n{statement}");
                return ExitCode::from(1);
            }
            // What `EXPLAIN [ANALYZE]` says is printed; other results are not.
            Ok(batches) if statement.to_ascii_uppercase().starts_with("EXPLAIN") => {
                match arrow::util::pretty::pretty_format_batches(&batches) {
                    Ok(table) => println!("{table}"),
                    Err(e) => eprintln!("{e}"),
                }
            }
            Ok(_) => {}
        }
    }
    ExitCode::SUCCESS
}
