//! End to end: the rule's UDF inside DataFusion queries (SQL and DataFrame, optimizer on)
//! over a table of three batches, against `to_expr` in the same queries.

use super::common;

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, BooleanArray, DictionaryArray, Float64Array, Int32Array, RecordBatch,
    StringArray,
};
use arrow::compute::concat;
use arrow::datatypes::{DataType, Field, Int32Type, Schema};
use datafusion::datasource::MemTable;
use datafusion::prelude::{Expr, SessionContext, col};
use mj_jit::{ArithOp, CmpOp, ColType, Cond, NumExpr, Operand, Rule, RuleUdf, Value, rule_of};
use mj_plan::case::to_expr;
use mj_runtime::rules::bind_rule;

/// An AIPL-like rule over a flag, an amount (Int64 in the rule, Int32 in the table: the
/// UDF's coercion casts it), a score and a dictionary-encoded city.
fn aipl() -> Rule {
    let amount = || Box::new(NumExpr::Input(1));
    Rule {
        name: "aipl".to_string(),
        inputs: vec![
            ("flag".to_string(), ColType::Boolean),
            ("amount".to_string(), ColType::Int64),
            ("score".to_string(), ColType::Float64),
            ("city".to_string(), ColType::Utf8),
        ],
        branches: vec![
            (
                Cond::And(vec![
                    Cond::Input(0),
                    Cond::Cmp(
                        CmpOp::Gt,
                        NumExpr::Bin(ArithOp::Div, amount(), Box::new(NumExpr::Input(2))),
                        NumExpr::Int(50),
                    ),
                ]),
                Value::Str("loyal".to_string()),
            ),
            (
                Cond::Or(vec![
                    Cond::Cmp(CmpOp::Ge, NumExpr::Input(1), NumExpr::Int(100)),
                    Cond::StrIn {
                        input: 3,
                        list: vec!["paris".to_string(), "lyon".to_string()],
                        negated: false,
                    },
                ]),
                Value::Str("purchase".to_string()),
            ),
            (
                Cond::Not(Box::new(Cond::IsNull(Operand::Input(2)))),
                Value::Str("interest".to_string()),
            ),
        ],
        otherwise: Some(Value::Str("aware".to_string())),
        output: ColType::Utf8,
    }
}

fn table_batches() -> Vec<RecordBatch> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("flag", DataType::Boolean, true),
        Field::new("amount", DataType::Int32, true),
        Field::new("score", DataType::Float64, true),
        Field::new(
            "city",
            DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
            true,
        ),
    ]));
    let cities = ["paris", "lyon", "nice", "", "brest"];
    (0..3)
        .map(|b| {
            let n = [100usize, 0, 257][b];
            let flag: ArrayRef = Arc::new(BooleanArray::from(
                (0..n)
                    .map(|i| (i % 5 != 0).then_some(i % 2 == 0))
                    .collect::<Vec<_>>(),
            ));
            let amount: ArrayRef = Arc::new(Int32Array::from(
                (0..n)
                    .map(|i| (i % 7 != 0).then_some((i * 13 % 150) as i32 - 10))
                    .collect::<Vec<_>>(),
            ));
            let score: ArrayRef = Arc::new(Float64Array::from(
                (0..n)
                    .map(|i| match i % 11 {
                        0 => None,
                        1 => Some(0.0),
                        2 => Some(-0.0),
                        3 => Some(f64::NAN),
                        _ => Some((i % 9) as f64 / 4.0),
                    })
                    .collect::<Vec<_>>(),
            ));
            let city: ArrayRef = Arc::new(
                (0..n)
                    .map(|i| (i % 6 != 0).then_some(cities[i % cities.len()]))
                    .collect::<DictionaryArray<Int32Type>>(),
            );
            RecordBatch::try_new(Arc::clone(&schema), vec![flag, amount, score, city]).unwrap()
        })
        .collect()
}

fn context() -> SessionContext {
    let batches = table_batches();
    let table = MemTable::try_new(batches[0].schema(), vec![batches]).unwrap();
    let ctx = SessionContext::new();
    ctx.register_table("people", Arc::new(table)).unwrap();
    ctx
}

fn args(rule: &Rule) -> Vec<Expr> {
    rule.inputs.iter().map(|(n, _)| col(n.as_str())).collect()
}

/// All rows of column `name` of the query's result.
async fn column(df: datafusion::dataframe::DataFrame, name: &str) -> ArrayRef {
    let batches = df.collect().await.unwrap();
    let parts: Vec<ArrayRef> = batches
        .iter()
        .map(|b| Arc::clone(b.column_by_name(name).unwrap()))
        .collect();
    let parts: Vec<&dyn Array> = parts.iter().map(|a| a.as_ref()).collect();
    concat(&parts).unwrap()
}

#[tokio::test]
async fn the_udf_in_a_dataframe_query_matches_to_expr() {
    let rule = aipl();
    let ctx = context();
    let udf = RuleUdf::new(rule.clone()).unwrap();
    let df = ctx
        .table("people")
        .await
        .unwrap()
        .select(vec![
            udf.call(args(&rule)).alias("jit"),
            to_expr(&rule, &args(&rule)).unwrap().alias("reference"),
        ])
        .unwrap();
    let batches = df.collect().await.unwrap();
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    assert_eq!(rows, 357);
    let mut stages = std::collections::BTreeSet::new();
    for b in &batches {
        let (jit, reference) = (b.column(0), b.column(1));
        common::same(jit.as_ref(), reference.as_ref()).unwrap();
        let s = jit.as_any().downcast_ref::<StringArray>().unwrap();
        stages.extend(s.iter().flatten().map(str::to_string));
    }
    // Every stage occurs, so the comparison is not vacuous.
    assert_eq!(stages.len(), 4, "{stages:?}");
}

#[tokio::test]
async fn the_udf_in_sql_with_a_filter_and_literal_arguments() {
    let rule = aipl();
    let ctx = context();
    let udf = RuleUdf::new(rule.clone()).unwrap();
    assert_eq!(udf.name(), "mj_rule_aipl");
    assert!(rule_of(&udf).is_some());
    ctx.register_udf(udf);
    let sql = |q: &str| {
        let ctx = ctx.clone();
        let q = q.to_string();
        async move { ctx.sql(&q).await.unwrap() }
    };
    // The kernel in a projection, a filter and an aggregate; the reference computed by
    // the same query with the CASE expression.
    let jit = column(
        sql(
            "SELECT mj_rule_aipl(flag, amount, score, city) AS s FROM people \
             WHERE mj_rule_aipl(flag, amount, score, city) <> 'aware'",
        )
        .await,
        "s",
    )
    .await;
    let reference_expr = to_expr(&rule, &args(&rule)).unwrap();
    let reference = column(
        ctx.table("people")
            .await
            .unwrap()
            .filter(
                reference_expr
                    .clone()
                    .not_eq(datafusion::prelude::lit("aware")),
            )
            .unwrap()
            .select(vec![reference_expr.alias("s")])
            .unwrap(),
        "s",
    )
    .await;
    common::same(jit.as_ref(), reference.as_ref()).unwrap();
    assert!(jit.len() > 100);

    // Scalar (literal) arguments become arrays of the batch's length.
    let jit = column(
        sql("SELECT mj_rule_aipl(true, 1000, score, 'nice') AS s FROM people").await,
        "s",
    )
    .await;
    let literal_args = vec![
        datafusion::prelude::lit(true),
        datafusion::prelude::lit(1000i64),
        col("score"),
        datafusion::prelude::lit("nice"),
    ];
    let reference = column(
        ctx.table("people")
            .await
            .unwrap()
            .select(vec![to_expr(&rule, &literal_args).unwrap().alias("s")])
            .unwrap(),
        "s",
    )
    .await;
    common::same(jit.as_ref(), reference.as_ref()).unwrap();
    assert_eq!(jit.len(), 357);
}

#[tokio::test]
async fn a_bound_rule_falls_back_inside_a_query() {
    // A rule the JIT does not compile (a string passed through) still runs, as CASE.
    let rule = Rule {
        name: "fallback".to_string(),
        inputs: vec![
            ("city".to_string(), ColType::Utf8),
            ("flag".to_string(), ColType::Boolean),
        ],
        branches: vec![(Cond::Input(1), Value::Input(0))],
        otherwise: Some(Value::Str("none".to_string())),
        output: ColType::Utf8,
    };
    let (expr, why) = bind_rule(&rule, args(&rule), true).unwrap();
    assert!(why.is_some());
    let out = column(
        context()
            .table("people")
            .await
            .unwrap()
            .select(vec![expr.alias("s")])
            .unwrap(),
        "s",
    )
    .await;
    assert_eq!(out.len(), 357);
}

#[tokio::test]
async fn the_planners_rule_call_is_bound_by_the_engine_or_runs_as_its_case() {
    // The planner calls a rule through a placeholder carrying it as data.
    let rule = aipl();
    let call = mj_plan::case::RuleCall::call(rule.clone(), args(&rule)).unwrap();
    let table = context().table("people").await.unwrap();
    let reference = column(
        table
            .clone()
            .select(vec![to_expr(&rule, &args(&rule)).unwrap().alias("s")])
            .unwrap(),
        "s",
    )
    .await;
    // Left unbound, DataFusion's simplifier turns it into the rule's CASE.
    let unbound = table.clone().select(vec![call.alias("s")]).unwrap();
    let plan = unbound.logical_plan().clone();
    assert!(
        plan.display_indent().to_string().contains("mj_rule_aipl"),
        "{}",
        plan.display_indent()
    );
    let out = column(unbound, "s").await;
    common::same(out.as_ref(), reference.as_ref()).unwrap();
    // Bound by the engine: a kernel with the JIT on, the CASE with it off, each said.
    let planned = vec![mj_plan::assets::RulePlan {
        tag: "aipl".to_string(),
        fallback: None,
    }];
    let ctx = context();
    for jit in [true, false] {
        let (bound, notes) = mj_runtime::rules::bind(plan.clone(), planned.clone(), jit).unwrap();
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0].kernel, jit, "{notes:?}");
        let text = bound.display_indent().to_string();
        assert_eq!(text.contains("mj_rule_aipl"), jit, "{text}");
        let frame = datafusion::dataframe::DataFrame::new(ctx.state(), bound);
        let out = column(frame, "s").await;
        common::same(out.as_ref(), reference.as_ref()).unwrap();
    }
}
