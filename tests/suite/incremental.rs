//! Editing one file re-runs only what depends on it: shown by counting the salsa
//! queries that execute after each edit.

use mj_compiler::{Database, all_diagnostics};
use salsa::Setter;

const METRICS: &str = "glossary {\n  root sofa \"沙发\"\n}\n\n\
    source pos_order from csv(\"o.csv\") {\n  order_id string not null\n  amount decimal(18,2) unit currency(CNY)\n  category string\n}\n\n\
    fact pay_order from pos_order {\n  grain order_id\n  dims { category }\n  measures { amount }\n}\n\n\
    atomic pay_amt \"支付金额\" = sum(pay_order.amount)\n\
    atomic pay_ord_cnt \"支付订单数\" = count_distinct(pay_order.order_id)\n\
    modifier sofa on pay_order = category == \"sofa\"\n";

const DERIVED: &str = "derived pay_amt_30d \"最近30天支付金额\" = pay_amt[30d] by category\n";

fn count(log: &[String], query: &str) -> usize {
    log.iter()
        .filter(|l| l.starts_with(&format!("{query}(")))
        .count()
}

#[test]
fn edits_rerun_only_what_depends_on_them() {
    let mut db = Database::default();
    let project = mj_compiler::load(
        &db,
        &[
            ("metrics.mj".into(), METRICS.into()),
            ("derived.mj".into(), DERIVED.into()),
        ],
    );
    assert!(
        all_diagnostics(&db, project).is_empty(),
        "{:?}",
        all_diagnostics(&db, project)
    );
    db.enable_logging();
    let metrics = project.files(&db)[1];

    // 1. Whitespace and a comment in metrics.mj: only that file is parsed again, its
    //    items compare equal, and no check re-runs except its own.
    metrics
        .set_text(&mut db)
        .to(format!("// metrics\n\n{METRICS}"));
    let _ = all_diagnostics(&db, project);
    let log = db.take_log();
    assert_eq!(count(&log, "parse"), 1, "{log:#?}");
    assert_eq!(count(&log, "file_items"), 1, "{log:#?}");
    assert_eq!(count(&log, "project_index"), 0, "{log:#?}");
    assert_eq!(
        count(&log, "project_is_clean") + count(&log, "check_project"),
        0,
        "the project-wide checks read no positions while the project is clean: {log:#?}"
    );
    assert_eq!(
        count(&log, "check_file"),
        1,
        "only metrics.mj is checked again: {log:#?}"
    );
    assert_eq!(
        count(&log, "chunk_diagnostics"),
        0,
        "no item of it changed, so no chunk is checked again: {log:#?}"
    );

    // 2. A change to an item that derived.mj does not use (the order-count metric):
    //    derived.mj's check does not run again.
    let edited = METRICS.replace(
        "count_distinct(pay_order.order_id)",
        "count(pay_order.order_id)",
    );
    metrics.set_text(&mut db).to(edited.clone());
    let _ = all_diagnostics(&db, project);
    let log = db.take_log();
    assert_eq!(count(&log, "parse"), 1, "{log:#?}");
    assert_eq!(
        count(&log, "check_file"),
        1,
        "derived.mj does not use pay_ord_cnt: {log:#?}"
    );
    assert_eq!(
        count(&log, "chunk_diagnostics"),
        1,
        "only the edited chunk is checked again: {log:#?}"
    );
    assert!(
        count(&log, "lookup") >= 1,
        "lookups are re-validated: {log:#?}"
    );

    // 3. A change to the atomic metric that derived.mj uses: its check re-runs, and
    //    sees the new meaning (a sum of a column without a unit is not an amount).
    let edited = edited.replace("sum(pay_order.amount)", "count(pay_order.amount)");
    metrics.set_text(&mut db).to(edited);
    let diags = all_diagnostics(&db, project);
    let log = db.take_log();
    assert_eq!(count(&log, "check_file"), 2, "{log:#?}");
    assert!(
        diags
            .iter()
            .any(|d| d.code == mj_compiler::codes::UNIT_MISMATCH),
        "{diags:#?}"
    );
}

#[test]
fn the_job_graph_is_lowered_once_per_revision() {
    let mut db = Database::default();
    let project = mj_compiler::load(
        &db,
        &[
            ("metrics.mj".into(), METRICS.into()),
            ("derived.mj".into(), DERIVED.into()),
        ],
    );
    assert!(all_diagnostics(&db, project).is_empty());
    let before = mj_compiler::lower::job_graph(&db, project).clone();
    assert!(
        before
            .nodes
            .iter()
            .any(|n| n.id.to_string() == "dws.dws_category"),
        "{before:#?}"
    );
    db.enable_logging();

    // Asked again (a second hover, `mj plan` after `mj check`): nothing is lowered.
    let _ = mj_compiler::lower::job_graph(&db, project);
    assert_eq!(count(&db.take_log(), "job_graph"), 0);

    // Items moved by a comment compare equal: nothing is lowered again.
    let metrics = project.files(&db)[1];
    metrics
        .set_text(&mut db)
        .to(format!("// metrics\n\n{METRICS}"));
    let moved = mj_compiler::lower::job_graph(&db, project).clone();
    assert_eq!(count(&db.take_log(), "job_graph"), 0);
    assert_eq!(moved, before);

    // A metric that means something else: lowered once, to a different graph.
    metrics
        .set_text(&mut db)
        .to(METRICS.replace("sum(pay_order.amount)", "max(pay_order.amount)"));
    let changed = mj_compiler::lower::job_graph(&db, project).clone();
    assert_eq!(count(&db.take_log(), "job_graph"), 1);
    assert_ne!(changed, before);
}

#[test]
fn the_model_resolves_each_metric_once() {
    use mj_ir::expr::{Expr, Period, PeriodUnit};
    let mut db = Database::default();
    let project = mj_compiler::load(
        &db,
        &[
            ("metrics.mj".into(), METRICS.into()),
            ("derived.mj".into(), DERIVED.into()),
        ],
    );
    assert!(all_diagnostics(&db, project).is_empty());
    db.enable_logging();
    let model = mj_compiler::model::model(&db, project);
    let (fact, m) = model.metric("pay_amt_30d").expect("pay_amt_30d resolved");
    assert_eq!(fact, "pay_order");
    assert_eq!(m.aggregate, mj_ir::Aggregate::Sum);
    assert_eq!(m.arg, Some(Expr::column("amount")));
    assert_eq!(
        m.period,
        Period::Last {
            count: 30,
            unit: PeriodUnit::Days
        }
    );
    assert!(matches!(
        model.item("pay_order"),
        Some(mj_lang::ast::ItemKind::Fact(_))
    ));
    // The job graph reads the model: built once for both.
    let _ = mj_compiler::lower::job_graph(&db, project);
    let log = db.take_log();
    assert_eq!(count(&log, "model"), 1, "{log:#?}");
    assert_eq!(count(&log, "job_graph"), 1, "{log:#?}");

    // A modifier added to the metric: the model resolves it into the filters.
    let derived = project.files(&db)[2];
    derived
        .set_text(&mut db)
        .to(DERIVED.replace("pay_amt[30d]", "pay_amt[30d, sofa]"));
    let model = mj_compiler::model::model(&db, project);
    let (_, m) = model.metric("pay_amt_30d").expect("pay_amt_30d resolved");
    assert_eq!(m.filters.len(), 1, "{m:?}");
    assert_eq!(m.filters[0].to_string(), "category == \"sofa\"");
}
