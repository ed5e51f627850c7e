//! Kernel vs DataFusion's CASE (4 M rows unless given).
//!
//! `cargo run --release -p mj-jit --example bench [rows]`
//!
//! For each rule: the compile time, then the median of 7 runs of (a) the kernel alone
//! (`Kernel::eval`: string coding, the native loop, output assembly), (b) the UDF as a
//! DataFusion physical expression, and (c) `to_expr`'s CASE as a DataFusion physical
//! expression, all over the same single batch; and the ratio (c)/(a). Then the same over
//! the rows cut into DataFusion's usual batches of 8192 rows.

use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::array::{ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use datafusion::common::DFSchema;
use datafusion::physical_plan::PhysicalExpr;
use datafusion::prelude::{Expr, SessionContext, col};
use mj_jit::{ArithOp, CmpOp, ColType, Cond, NumExpr, Operand, Rule, RuleUdf, Value, compile};
use mj_plan::case::to_expr;

/// xorshift64*, deterministic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn data(rows: usize) -> RecordBatch {
    let mut r = Rng(0x9e37_79b9_7f4a_7c15);
    let flag: ArrayRef = Arc::new(BooleanArray::from(
        (0..rows)
            .map(|_| {
                let u = r.unit();
                (u >= 0.05).then_some(u < 0.5)
            })
            .collect::<Vec<_>>(),
    ));
    let amount: ArrayRef = Arc::new(Int64Array::from(
        (0..rows)
            .map(|_| {
                let u = r.next();
                (!u.is_multiple_of(20)).then_some((u % 20) as i64 - 2)
            })
            .collect::<Vec<_>>(),
    ));
    let score: ArrayRef = Arc::new(Float64Array::from(
        (0..rows)
            .map(|_| {
                let u = r.unit();
                (u >= 0.02).then_some(u)
            })
            .collect::<Vec<_>>(),
    ));
    let cities = [
        "paris",
        "lyon",
        "nice",
        "marseille",
        "brest",
        "lille",
        "",
        "toulouse",
    ];
    let city: ArrayRef = Arc::new(StringArray::from(
        (0..rows)
            .map(|_| {
                let u = r.next() as usize;
                (!u.is_multiple_of(50)).then_some(cities[u % cities.len()])
            })
            .collect::<Vec<_>>(),
    ));
    let schema = Arc::new(Schema::new(vec![
        Field::new("flag", DataType::Boolean, true),
        Field::new("amount", DataType::Int64, true),
        Field::new("score", DataType::Float64, true),
        Field::new("city", DataType::Utf8, true),
    ]));
    RecordBatch::try_new(schema, vec![flag, amount, score, city]).unwrap()
}

fn inputs() -> Vec<(String, ColType)> {
    vec![
        ("flag".to_string(), ColType::Boolean),
        ("amount".to_string(), ColType::Int64),
        ("score".to_string(), ColType::Float64),
        ("city".to_string(), ColType::Utf8),
    ]
}

/// `case { flag and amount > 5 => "A"; score < 0.3 => "B"; else => "C" }`
fn tag() -> Rule {
    Rule {
        name: "tag".to_string(),
        inputs: inputs(),
        branches: vec![
            (
                Cond::And(vec![
                    Cond::Input(0),
                    Cond::Cmp(CmpOp::Gt, NumExpr::Input(1), NumExpr::Int(5)),
                ]),
                Value::Str("A".to_string()),
            ),
            (
                Cond::Cmp(CmpOp::Lt, NumExpr::Input(2), NumExpr::Float(0.3)),
                Value::Str("B".to_string()),
            ),
        ],
        otherwise: Some(Value::Str("C".to_string())),
        output: ColType::Utf8,
    }
}

/// `case { flag and amount > 5 => 1; score < 0.3 => 2 }` as Int64 (no string output).
fn tag_int() -> Rule {
    let mut r = tag();
    r.name = "tag_int".to_string();
    r.branches[0].1 = Value::Int(1);
    r.branches[1].1 = Value::Int(2);
    r.otherwise = None;
    r.output = ColType::Int64;
    r
}

/// A 4-stage AIPL-like classification.
fn aipl() -> Rule {
    let amount = || Box::new(NumExpr::Input(1));
    Rule {
        name: "aipl".to_string(),
        inputs: inputs(),
        branches: vec![
            (
                Cond::And(vec![
                    Cond::Input(0),
                    Cond::Cmp(
                        CmpOp::Ge,
                        NumExpr::Bin(ArithOp::Mul, amount(), Box::new(NumExpr::Input(2))),
                        NumExpr::Float(8.0),
                    ),
                    Cond::StrIn {
                        input: 3,
                        list: vec!["paris".to_string(), "lyon".to_string()],
                        negated: false,
                    },
                ]),
                Value::Str("loyal".to_string()),
            ),
            (
                Cond::Or(vec![
                    Cond::Cmp(CmpOp::Gt, NumExpr::Input(1), NumExpr::Int(10)),
                    Cond::And(vec![
                        Cond::Input(0),
                        Cond::StrEq {
                            input: 3,
                            lit: "nice".to_string(),
                            negated: false,
                        },
                    ]),
                ]),
                Value::Str("purchase".to_string()),
            ),
            (
                Cond::Cmp(
                    CmpOp::Gt,
                    NumExpr::Bin(
                        ArithOp::Div,
                        Box::new(NumExpr::Input(2)),
                        Box::new(NumExpr::Bin(
                            ArithOp::Add,
                            amount(),
                            Box::new(NumExpr::Int(3)),
                        )),
                    ),
                    NumExpr::Float(0.1),
                ),
                Value::Str("interest".to_string()),
            ),
            (
                Cond::IsNotNull(Operand::Input(3)),
                Value::Str("aware".to_string()),
            ),
        ],
        otherwise: None,
        output: ColType::Utf8,
    }
}

fn median(mut f: impl FnMut()) -> Duration {
    f(); // warm up
    let mut times: Vec<Duration> = (0..7)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    times.sort();
    times[3]
}

fn physical(expr: Expr, batch: &RecordBatch) -> Arc<dyn PhysicalExpr> {
    let schema = DFSchema::try_from(batch.schema().as_ref().clone()).unwrap();
    SessionContext::new()
        .create_physical_expr(expr, &schema)
        .unwrap()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let rows: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(4_000_000);
    let batch = data(rows);
    let args: Vec<ArrayRef> = batch.columns().to_vec();
    let exprs: Vec<Expr> = ["flag", "amount", "score", "city"]
        .iter()
        .map(|c| col(*c))
        .collect();
    println!("{rows} rows, median of 7 runs");
    for rule in [tag_int(), tag(), aipl()] {
        let t = Instant::now();
        let kernel = compile(&rule).unwrap();
        let compile_time = t.elapsed();

        let jit = median(|| {
            let out = kernel.eval(&args).unwrap();
            assert_eq!(out.len(), rows);
        });
        let udf = physical(
            RuleUdf::new(rule.clone()).unwrap().call(exprs.clone()),
            &batch,
        );
        let via_udf = median(|| {
            let out = udf.evaluate(&batch).unwrap().into_array(rows).unwrap();
            assert_eq!(out.len(), rows);
        });
        let case = physical(to_expr(&rule, &exprs).unwrap(), &batch);
        let datafusion = median(|| {
            let out = case.evaluate(&batch).unwrap().into_array(rows).unwrap();
            assert_eq!(out.len(), rows);
        });
        // Same answer.
        let a = kernel.eval(&args).unwrap();
        let b = case.evaluate(&batch).unwrap().into_array(rows).unwrap();
        assert_eq!(a.as_ref(), b.as_ref(), "kernel and CASE differ");
        println!(
            "{:8} one batch:    compile {:5.2} ms | kernel {:7.2} ms | as UDF {:7.2} ms | DataFusion CASE {:7.2} ms | CASE/kernel {:5.2}x",
            rule.name,
            ms(compile_time),
            ms(jit),
            ms(via_udf),
            ms(datafusion),
            datafusion.as_secs_f64() / jit.as_secs_f64()
        );
        // The same rows in DataFusion's usual batches of 8192.
        let slices: Vec<RecordBatch> = (0..rows)
            .step_by(8192)
            .map(|at| batch.slice(at, 8192.min(rows - at)))
            .collect();
        let jit_batched = median(|| {
            for b in &slices {
                std::hint::black_box(kernel.eval(b.columns()).unwrap());
            }
        });
        let udf_batched = median(|| {
            for b in &slices {
                std::hint::black_box(udf.evaluate(b).unwrap());
            }
        });
        let case_batched = median(|| {
            for b in &slices {
                std::hint::black_box(case.evaluate(b).unwrap());
            }
        });
        println!(
            "{:8} 8192 batches:                  | kernel {:7.2} ms | as UDF {:7.2} ms | DataFusion CASE {:7.2} ms | CASE/kernel {:5.2}x",
            rule.name,
            ms(jit_batched),
            ms(udf_batched),
            ms(case_batched),
            case_batched.as_secs_f64() / jit_batched.as_secs_f64()
        );
    }
}
