//! mj's codecs and functions on Ballista's standalone mode: a scheduler and an executor
//! in the test's process, the plans still written with the codecs, sent through the
//! scheduler and read back by the executor.

use std::path::Path;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, BooleanArray, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use datafusion::logical_expr::{ColumnarValue, Volatility, create_udf};
use datafusion::prelude::{ParquetReadOptions, SessionContext, col};
use mj_jit::{CmpOp, ColType, Cond, NumExpr, Operand, Rule, RuleUdf, Value};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio")
}

/// A stage rule over a flag, an amount and a city.
fn stage() -> Rule {
    Rule {
        name: "stage".to_string(),
        inputs: vec![
            ("flag".to_string(), ColType::Boolean),
            ("amount".to_string(), ColType::Int64),
            ("city".to_string(), ColType::Utf8),
        ],
        branches: vec![
            (
                Cond::And(vec![
                    Cond::Input(0),
                    Cond::Cmp(CmpOp::Gt, NumExpr::Input(1), NumExpr::Int(50)),
                ]),
                Value::Str("loyal".to_string()),
            ),
            (
                Cond::StrIn {
                    input: 2,
                    list: vec!["上海".to_string(), "杭州".to_string()],
                    negated: false,
                },
                Value::Str("purchase".to_string()),
            ),
            (
                Cond::Not(Box::new(Cond::IsNull(Operand::Input(1)))),
                Value::Str("interest".to_string()),
            ),
        ],
        otherwise: Some(Value::Str("aware".to_string())),
        output: ColType::Utf8,
    }
}

/// A Parquet file of five rows, registered as `t` in `ctx`.
async fn table(ctx: &SessionContext, dir: &Path) {
    let file = dir.join("t.parquet");
    if !file.exists() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("flag", DataType::Boolean, true),
            Field::new("amount", DataType::Int64, true),
            Field::new("city", DataType::Utf8, true),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(Int64Array::from(vec![1, 2, 3, 4, 5])) as ArrayRef,
                Arc::new(BooleanArray::from(vec![
                    Some(true),
                    Some(false),
                    None,
                    Some(true),
                    None,
                ])),
                Arc::new(Int64Array::from(vec![
                    Some(80),
                    Some(80),
                    Some(3),
                    None,
                    None,
                ])),
                Arc::new(StringArray::from(vec![
                    Some("北京"),
                    Some("上海"),
                    None,
                    Some("杭州"),
                    Some("成都"),
                ])),
            ],
        )
        .expect("batch");
        let mut writer = parquet::arrow::ArrowWriter::try_new(
            std::fs::File::create(&file).expect("file"),
            schema,
            None,
        )
        .expect("writer");
        writer.write(&batch).expect("write");
        writer.close().expect("close");
    }
    ctx.register_parquet(
        "t",
        file.to_str().expect("utf-8"),
        ParquetReadOptions::default(),
    )
    .await
    .expect("registers");
}

/// (id, stage) of every row, by id.
async fn stages(ctx: &SessionContext) -> Result<Vec<(i64, Option<String>)>, String> {
    let udf = RuleUdf::new(stage()).expect("the rule compiles");
    let df = ctx
        .table("t")
        .await
        .map_err(|e| e.to_string())?
        .select(vec![
            col("id"),
            udf.call(vec![col("flag"), col("amount"), col("city")])
                .alias("stage"),
        ])
        .map_err(|e| e.to_string())?
        .sort(vec![col("id").sort(true, false)])
        .map_err(|e| e.to_string())?;
    let batches = df.collect().await.map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for b in batches {
        let ids = b
            .column(0)
            .as_any()
            .downcast_ref::<Int64Array>()
            .expect("ids");
        let s = arrow::compute::cast(b.column(1), &DataType::Utf8).expect("text");
        let s = s.as_any().downcast_ref::<StringArray>().expect("text");
        for i in 0..b.num_rows() {
            out.push((ids.value(i), s.is_valid(i).then(|| s.value(i).to_string())));
        }
    }
    Ok(out)
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("mj-standalone-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch");
    dir
}

#[test]
fn rule_kernels_travel_as_rules_to_a_standalone_executor() {
    let dir = scratch("kernels");
    let rt = runtime();
    let (local, remote) = rt.block_on(async {
        let local = mj_runtime::session();
        table(&local, &dir).await;
        let cluster = mj_cluster::standalone()
            .await
            .expect("a standalone cluster");
        table(&cluster, &dir).await;
        (stages(&local).await, stages(&cluster).await)
    });
    let expected: Vec<(i64, Option<String>)> = [
        (1, "loyal"),
        (2, "purchase"),
        (3, "interest"),
        (4, "purchase"),
        (5, "aware"),
    ]
    .into_iter()
    .map(|(i, s)| (i, Some(s.to_string())))
    .collect();
    assert_eq!(local.expect("runs locally"), expected);
    assert_eq!(remote.expect("runs on the standalone cluster"), expected);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_function_neither_datafusion_nor_mj_is_named_when_it_cannot_travel() {
    let dir = scratch("foreign");
    let rt = runtime();
    let err = rt.block_on(async {
        let cluster = mj_cluster::standalone()
            .await
            .expect("a standalone cluster");
        table(&cluster, &dir).await;
        let twice = create_udf(
            "twice",
            vec![DataType::Int64],
            DataType::Int64,
            Volatility::Immutable,
            Arc::new(|args: &[ColumnarValue]| Ok(args[0].clone())),
        );
        let df = cluster
            .table("t")
            .await
            .expect("t")
            .select(vec![twice.call(vec![col("amount")])])
            .expect("select");
        df.collect().await.map(|_| ()).map_err(|e| e.to_string())
    });
    let err = err.expect_err("a function the executors cannot know does not run");
    assert!(
        err.contains("twice") && err.contains("neither DataFusion's nor mj's"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn oneid_components_in_sql_on_a_standalone_cluster() {
    // Three components: a chain, a star with a cycle, a pair; node 7 stands alone.
    let dir = scratch("components");
    let edges = [
        (1, 2),
        (2, 3),
        (3, 4),
        (10, 12),
        (12, 11),
        (11, 10),
        (13, 12),
        (20, 21),
    ];
    let rt = runtime();
    let (labels, rounds) = rt.block_on(async {
        let cluster = mj_cluster::standalone()
            .await
            .expect("a standalone cluster");
        mj_runtime::components::star_components(&cluster, &dir.join("work"), &edges)
            .await
            .expect("components")
    });
    let expected: Vec<(u64, u64)> = vec![
        (1, 1),
        (2, 1),
        (3, 1),
        (4, 1),
        (10, 10),
        (11, 10),
        (12, 10),
        (13, 10),
        (20, 20),
        (21, 20),
    ];
    assert_eq!(labels, expected, "after {rounds} rounds");
    let _ = std::fs::remove_dir_all(&dir);
}
