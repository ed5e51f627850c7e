//! Plan snapshots: the logical plan of every planned table of the example, as
//! `display_indent` prints it, compared with `tests/plans/<table>.txt`
//! (`UPDATE_EXPECT=1` rewrites them).

use crate::common::{graph, repo};

#[test]
fn plans_of_the_example() {
    let g = graph(&repo().join("examples/meijia"));
    let rt = tokio::runtime::Runtime::new().expect("tokio");
    let plans = rt
        .block_on(mj_runtime::plans(
            &g,
            "2025-06-30",
            &repo().join("examples/meijia/out"),
            true,
        ))
        .expect("every table plans");
    assert!(!plans.is_empty());
    let mut failures = Vec::new();
    for mj_runtime::PlannedTable { node, logical, .. } in &plans {
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

/// Sorted rows, each as its columns' display text, to compare tables regardless of
/// row order.
fn rows(batches: &[arrow::array::RecordBatch]) -> Vec<String> {
    let mut out = Vec::new();
    for b in batches {
        for i in 0..b.num_rows() {
            let cells: Vec<String> = b
                .columns()
                .iter()
                .map(|c| arrow::util::display::array_value_to_string(c, i).expect("cell"))
                .collect();
            out.push(cells.join("|"));
        }
    }
    out.sort();
    out
}

#[test]
fn every_plan_travels_through_datafusion_proto() {
    use datafusion::physical_plan::collect;
    use datafusion::prelude::SessionContext;
    use mj_runtime::travel;
    let dir = crate::common::generated("travel", 600, 40, 11);
    let out = dir.join("out");
    let g = graph(&repo().join("examples/meijia"));
    crate::common::run(&g, &dir, &out, "2025-06-30")
        .1
        .expect("runs");
    let rt = tokio::runtime::Runtime::new().expect("tokio");
    let plans = rt
        .block_on(mj_runtime::logical_plans(&g, "2025-06-30", &out))
        .expect("plans");
    assert!(plans.len() >= 7, "{}", plans.len());
    for (n, plan) in &plans {
        let node = &n.id;
        let written = mj_runtime::write::read_partition(&out.join(node.partition("2025-06-30")))
            .expect("the run wrote the table");
        let expected = rows(&written);
        assert!(!expected.is_empty(), "{node} is empty");
        // Read back where nothing is registered: tables come from the files named.
        let fresh = SessionContext::new();
        let bytes = travel::encode_logical(plan).expect("encodes");
        let back = travel::decode_logical(&bytes, &fresh.task_ctx()).expect("decodes");
        assert_eq!(
            back.display_indent().to_string(),
            plan.display_indent().to_string(),
            "{node}: the logical plan changed on the way"
        );
        let got = rt.block_on(async {
            fresh
                .execute_logical_plan(back)
                .await
                .expect("plans")
                .collect()
                .await
                .expect("runs")
        });
        assert_eq!(rows(&got), expected, "{node}: the logical plan read back");
        // The physical plan, as an executor receives it (a fact's sort-merge join
        // included).
        let got = rt.block_on(async {
            let physical = mj_runtime::physical_plan(&n.kind, plan)
                .await
                .expect("physical plan");
            // A fact merges its rows with the OneID mapping; when its grain is the
            // record key they come out in grain order, so nothing sorts them again.
            if let mj_compiler::lower::NodeKind::Fact(job) = &n.kind {
                let shown = datafusion::physical_plan::displayable(physical.as_ref())
                    .indent(true)
                    .to_string();
                let sorts = sorts_above_merge_join(&physical);
                assert!(sorts.is_some(), "{node} has no merge join:\n{shown}");
                if job.grain.first() == job.source_key.as_ref() {
                    assert_eq!(sorts, Some(0), "{node} sorts after the join:\n{shown}");
                }
            }
            let bytes = travel::encode_physical(physical).expect("encodes");
            let back = travel::decode_physical(&bytes, &fresh.task_ctx()).expect("decodes");
            collect(back, fresh.task_ctx()).await.expect("runs")
        });
        assert_eq!(rows(&got), expected, "{node}: the physical plan read back");
    }
    // Rebuilding from the sources and OneIDs of that run gives the same bytes.
    let dws = out.join("dws/dws_consumer/dt=2025-06-30/part-00000.parquet");
    let before = std::fs::read(&dws).expect("dws");
    std::fs::remove_dir_all(out.join("dws")).expect("remove");
    let (manifest, result) = crate::common::run_with(&g, &dir, &out, "2025-06-30", true);
    result.expect("rebuilds");
    assert!(manifest.tables.iter().all(|t| !t.table.starts_with("ods.")));
    assert_eq!(std::fs::read(&dws).expect("dws again"), before);
    let (_, result) = crate::common::run_with(&g, &dir, &dir.join("empty"), "2025-06-30", true);
    let error = result.expect_err("nothing to reuse").message;
    assert!(error.contains("no earlier run wrote"), "{error}");
}

/// How many sorts lie between the root of a physical plan and its sort-merge join, or
/// `None` when it has no such join.
fn sorts_above_merge_join(
    plan: &std::sync::Arc<dyn datafusion::physical_plan::ExecutionPlan>,
) -> Option<usize> {
    use datafusion::physical_plan::joins::SortMergeJoinExec;
    use datafusion::physical_plan::sorts::sort::SortExec;
    if plan.is::<SortMergeJoinExec>() {
        return Some(0);
    }
    let own = usize::from(plan.is::<SortExec>());
    plan.children()
        .into_iter()
        .find_map(sorts_above_merge_join)
        .map(|below| below + own)
}
