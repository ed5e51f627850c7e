//! Runs a SQL script on DataFusion, configured as `mj run` configures it: the peer
//! that `bench/metrics.py` compares mj's generated plans with.
//!
//!     sql_script SCRIPT.sql
//!
//! Statements are separated by `;` at the end of a line; each runs to completion
//! (`CREATE EXTERNAL TABLE`, `COPY (…) TO …`), in order.

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
        if let Err(e) = result {
            eprintln!("{e}\nin:\n{statement}");
            return ExitCode::from(1);
        }
    }
    ExitCode::SUCCESS
}
