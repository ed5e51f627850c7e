//! Plan snapshots: the logical plan of every planned table of the example, as
//! `display_indent` prints it, compared with `tests/plans/<table>.txt`
//! (`UPDATE_EXPECT=1` rewrites them).

use crate::common::{graph, repo};

#[test]
fn plans_of_the_example() {
    let g = graph(&repo().join("examples/meijia"));
    let rt = tokio::runtime::Runtime::new().expect("tokio");
    let plans = rt
        .block_on(mj_runtime::plans(&g, "2025-06-30"))
        .expect("every table plans");
    assert!(!plans.is_empty());
    let mut failures = Vec::new();
    for (node, logical, _) in &plans {
        let path = repo().join("tests/plans").join(format!("{node}.txt"));
        let actual = format!("{logical}\n");
        let expected = std::fs::read_to_string(&path).unwrap_or_default();
        if actual != expected {
            if std::env::var_os("UPDATE_EXPECT").is_some() {
                std::fs::write(&path, &actual).expect("write snapshot");
            } else {
                failures.push(format!(
                    "{node}:\n--- expected\n{expected}--- actual\n{actual}"
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "plans differ (UPDATE_EXPECT=1 to accept):\n{}",
        failures.join("\n")
    );
}
