//! Hand-written cases: three-valued logic, division, float order, strings, slicing; each
//! checked against expected values and against DataFusion's evaluation of `to_expr`.

use super::common;

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, BooleanArray, DictionaryArray, Float64Array, Int64Array, LargeStringArray,
    StringArray, StringViewArray,
};
use arrow::datatypes::Int32Type;
use mj_jit::{
    ArithOp, CmpOp, ColType, Cond, Num, NumExpr, Operand, Rule, RuleUdf, Value, compile, rule_of,
};
use mj_runtime::rules::bind_rule;

/// Runs the kernel, checks it against DataFusion (plain and simplified) and returns it.
fn run(rule: &Rule, arrays: Vec<ArrayRef>) -> ArrayRef {
    let kernel = compile(rule).unwrap_or_else(|e| panic!("{e}"));
    let out = kernel.eval(&arrays).unwrap();
    let batch = common::batch(rule, &arrays);
    for simplify in [false, true] {
        let df = common::datafusion_eval(rule, &batch, simplify).unwrap();
        if let Err(e) = common::same(out.as_ref(), df.as_ref()) {
            panic!("kernel vs DataFusion (simplify: {simplify}): {e}\nrule: {rule:?}");
        }
    }
    out
}

fn rule(
    inputs: &[(&str, ColType)],
    branches: Vec<(Cond, Value)>,
    otherwise: Option<Value>,
    output: ColType,
) -> Rule {
    Rule {
        name: "t".to_string(),
        inputs: inputs.iter().map(|(n, t)| (n.to_string(), *t)).collect(),
        branches,
        otherwise,
        output,
    }
}

fn ints(a: &ArrayRef) -> Vec<Option<i64>> {
    a.as_any()
        .downcast_ref::<Int64Array>()
        .unwrap()
        .iter()
        .collect()
}

fn floats(a: &ArrayRef) -> Vec<Option<f64>> {
    a.as_any()
        .downcast_ref::<Float64Array>()
        .unwrap()
        .iter()
        .collect()
}

fn strs(a: &ArrayRef) -> Vec<Option<String>> {
    a.as_any()
        .downcast_ref::<StringArray>()
        .unwrap()
        .iter()
        .map(|s| s.map(str::to_string))
        .collect()
}

fn bools(v: &[Option<bool>]) -> ArrayRef {
    Arc::new(BooleanArray::from(v.to_vec()))
}

fn col(i: usize) -> Box<NumExpr> {
    Box::new(NumExpr::Input(i))
}

#[test]
fn null_and_false_is_false() {
    // NOT (a AND false): TRUE when the AND is FALSE, NULL (else) when it is NULL.
    let r = rule(
        &[("a", ColType::Boolean), ("b", ColType::Boolean)],
        vec![(
            Cond::Not(Box::new(Cond::And(vec![Cond::Input(0), Cond::Input(1)]))),
            Value::Int(1),
        )],
        Some(Value::Int(0)),
        ColType::Int64,
    );
    let out = run(
        &r,
        vec![
            bools(&[None, None, None, Some(true), Some(true)]),
            bools(&[Some(false), Some(true), None, Some(false), Some(true)]),
        ],
    );
    assert_eq!(ints(&out), [Some(1), Some(0), Some(0), Some(1), Some(0)]);
}

#[test]
fn null_or_true_is_true() {
    let r = rule(
        &[("a", ColType::Boolean), ("b", ColType::Boolean)],
        vec![(
            Cond::Or(vec![Cond::Input(0), Cond::Input(1)]),
            Value::Int(1),
        )],
        Some(Value::Int(0)),
        ColType::Int64,
    );
    let out = run(
        &r,
        vec![
            bools(&[None, None, None, Some(false)]),
            bools(&[Some(true), Some(false), None, Some(false)]),
        ],
    );
    assert_eq!(ints(&out), [Some(1), Some(0), Some(0), Some(0)]);
    // … and `(a OR b) IS NULL` tells NULL from FALSE.
    let r = rule(
        &[("a", ColType::Boolean), ("b", ColType::Boolean)],
        vec![(
            Cond::IsNull(Operand::Cond(Box::new(Cond::Or(vec![
                Cond::Input(0),
                Cond::Input(1),
            ])))),
            Value::Int(1),
        )],
        Some(Value::Int(0)),
        ColType::Int64,
    );
    let out = run(
        &r,
        vec![
            bools(&[None, None, None, Some(false)]),
            bools(&[Some(true), Some(false), None, Some(false)]),
        ],
    );
    assert_eq!(ints(&out), [Some(0), Some(1), Some(1), Some(0)]);
}

#[test]
fn not_null_is_null_and_the_branch_is_not_taken() {
    let r = rule(
        &[("a", ColType::Boolean), ("x", ColType::Int64)],
        vec![
            (
                Cond::Not(Box::new(Cond::Input(0))),
                Value::Str("not a".into()),
            ),
            (Cond::Input(0), Value::Str("a".into())),
        ],
        Some(Value::Str("neither".into())),
        ColType::Utf8,
    );
    let out = run(
        &r,
        vec![
            bools(&[None, Some(true), Some(false)]),
            Arc::new(Int64Array::from(vec![1, 2, 3])),
        ],
    );
    assert_eq!(
        strs(&out),
        [
            Some("neither".into()),
            Some("a".into()),
            Some("not a".into())
        ]
    );
    // NOT NULL literal, NULL AND TRUE, NULL OR FALSE: never taken.
    let r = rule(
        &[("a", ColType::Boolean), ("x", ColType::Int64)],
        vec![
            (Cond::Not(Box::new(Cond::Null)), Value::Int(1)),
            (Cond::And(vec![Cond::Null, Cond::Lit(true)]), Value::Int(2)),
            (Cond::Or(vec![Cond::Null, Cond::Lit(false)]), Value::Int(3)),
        ],
        None,
        ColType::Int64,
    );
    let out = run(
        &r,
        vec![bools(&[Some(true)]), Arc::new(Int64Array::from(vec![1]))],
    );
    assert_eq!(ints(&out), [None]);
}

#[test]
fn division_by_zero_is_null() {
    // x / y as the value, for Int64 and Float64 divisors.
    let r = rule(
        &[
            ("x", ColType::Int64),
            ("y", ColType::Int64),
            ("f", ColType::Float64),
        ],
        vec![
            (
                Cond::Cmp(CmpOp::Eq, NumExpr::Input(0), NumExpr::Int(1)),
                Value::Num(NumExpr::Bin(ArithOp::Div, col(0), col(1))),
            ),
            (
                Cond::Lit(true),
                Value::Num(NumExpr::Bin(ArithOp::Div, col(0), col(2))),
            ),
        ],
        None,
        ColType::Float64,
    );
    let out = run(
        &r,
        vec![
            Arc::new(Int64Array::from(vec![1, 1, 7, 7, 7, 7, 0])),
            Arc::new(Int64Array::from(vec![0, 4, 0, 0, 0, 0, 0])),
            Arc::new(Float64Array::from(vec![
                0.0,
                0.0,
                0.0,
                2.0,
                -0.0,
                f64::NAN,
                0.0,
            ])),
        ],
    );
    let got = floats(&out);
    assert_eq!(got[..4], [None, Some(0.25), None, Some(3.5)]);
    // `nullif(-0.0, 0.0)` keeps -0.0 (Arrow's float equality is bitwise): 7 / -0.0 = -inf.
    assert_eq!(got[4], Some(f64::NEG_INFINITY));
    assert!(got[5].unwrap().is_nan());
    assert_eq!(got[6], None);
    // A division by zero in a condition makes it NULL: `1 / (x - x) > 0` never holds,
    // `(1 / (x - x)) IS NULL` always does.
    let zero = NumExpr::Bin(
        ArithOp::Div,
        Box::new(NumExpr::Int(1)),
        Box::new(NumExpr::Bin(ArithOp::Sub, col(0), col(0))),
    );
    let r = rule(
        &[("x", ColType::Int64)],
        vec![
            (
                Cond::Cmp(CmpOp::Gt, zero.clone(), NumExpr::Int(0)),
                Value::Int(1),
            ),
            (Cond::IsNull(Operand::Num(zero)), Value::Int(2)),
        ],
        Some(Value::Int(3)),
        ColType::Int64,
    );
    let out = run(
        &r,
        vec![Arc::new(Int64Array::from(vec![
            Some(5),
            None,
            Some(i64::MIN),
        ]))],
    );
    assert_eq!(ints(&out), [Some(2), Some(2), Some(2)]);
}

#[test]
fn floats_compare_in_total_order() {
    let f = |op, lit: f64| Cond::Cmp(op, NumExpr::Input(0), NumExpr::Float(lit));
    let r = rule(
        &[("f", ColType::Float64), ("i", ColType::Int64)],
        vec![
            (f(CmpOp::Eq, f64::NAN), Value::Str("= NaN".into())),
            (f(CmpOp::Lt, f64::NEG_INFINITY), Value::Str("< -inf".into())),
            (f(CmpOp::Lt, 0.0), Value::Str("< 0".into())),
            (f(CmpOp::Eq, 0.0), Value::Str("= 0".into())),
            (f(CmpOp::Gt, f64::INFINITY), Value::Str("> inf".into())),
        ],
        Some(Value::Str("other".into())),
        ColType::Utf8,
    );
    let out = run(
        &r,
        vec![
            Arc::new(Float64Array::from(vec![
                Some(f64::NAN),
                Some(-f64::NAN),
                Some(-0.0),
                Some(0.0),
                Some(f64::INFINITY),
                Some(f64::from_bits(0x7ff8_0000_0000_0001)),
                None,
                Some(1.5),
            ])),
            Arc::new(Int64Array::from(vec![0; 8])),
        ],
    );
    let s = |x: &str| Some(x.to_string());
    assert_eq!(
        strs(&out),
        [
            s("= NaN"),
            s("< -inf"), // -NaN is below -inf
            s("= 0"),    // -0.0 = 0.0 (DataFusion normalizes zeros before comparing)
            s("= 0"),
            s("other"),
            s("> inf"), // a NaN with another payload is not `= NaN`, and is above +inf
            s("other"), // NULL comparisons are NULL
            s("other"),
        ]
    );
    // NaN IN (NaN) is TRUE; -0.0 IN (0.0) is TRUE like -0.0 = 0.0; an integer column
    // against floats.
    let r = rule(
        &[("f", ColType::Float64), ("i", ColType::Int64)],
        vec![
            (
                Cond::NumIn {
                    expr: NumExpr::Input(0),
                    list: vec![Num::Float(f64::NAN), Num::Float(0.0)],
                    negated: false,
                },
                Value::Int(1),
            ),
            (
                Cond::Cmp(CmpOp::Ge, NumExpr::Input(1), NumExpr::Float(2.5)),
                Value::Int(2),
            ),
        ],
        Some(Value::Int(0)),
        ColType::Int64,
    );
    let out = run(
        &r,
        vec![
            Arc::new(Float64Array::from(vec![f64::NAN, -0.0, 0.0, 1.0, 1.0])),
            Arc::new(Int64Array::from(vec![0, 0, 0, 2, 3])),
        ],
    );
    assert_eq!(ints(&out), [Some(1), Some(1), Some(1), Some(0), Some(2)]);
}

#[test]
fn the_first_true_branch_wins() {
    let gt = |n| Cond::Cmp(CmpOp::Gt, NumExpr::Input(0), NumExpr::Int(n));
    let r = rule(
        &[("x", ColType::Int64), ("y", ColType::Float64)],
        vec![
            (gt(10), Value::Int(10)),
            (gt(5), Value::Int(5)),
            (gt(0), Value::Input(0)),
            (Cond::IsNull(Operand::Input(0)), Value::Int(-1)),
        ],
        None,
        ColType::Int64,
    );
    let out = run(
        &r,
        vec![
            Arc::new(Int64Array::from(vec![
                Some(20),
                Some(7),
                Some(3),
                Some(-3),
                None,
            ])),
            Arc::new(Float64Array::from(vec![0.0; 5])),
        ],
    );
    assert_eq!(ints(&out), [Some(10), Some(5), Some(3), None, Some(-1)]);
}

#[test]
fn integer_arithmetic_wraps_like_datafusion() {
    let r = rule(
        &[("x", ColType::Int64), ("y", ColType::Int64)],
        vec![(
            Cond::Lit(true),
            Value::Num(NumExpr::Bin(
                ArithOp::Add,
                Box::new(NumExpr::Bin(ArithOp::Mul, col(0), col(1))),
                Box::new(NumExpr::Neg(col(0))),
            )),
        )],
        None,
        ColType::Int64,
    );
    let out = run(
        &r,
        vec![
            Arc::new(Int64Array::from(vec![i64::MAX, i64::MIN, 3])),
            Arc::new(Int64Array::from(vec![2, -1, 4])),
        ],
    );
    let expect = |x: i64, y: i64| x.wrapping_mul(y).wrapping_add(x.wrapping_neg());
    assert_eq!(
        ints(&out),
        [
            Some(expect(i64::MAX, 2)),
            Some(expect(i64::MIN, -1)),
            Some(expect(3, 4))
        ]
    );
}

#[test]
fn strings_in_and_equal_with_nulls() {
    let r = rule(
        &[("s", ColType::Utf8), ("b", ColType::Boolean)],
        vec![
            (
                Cond::StrIn {
                    input: 0,
                    list: vec!["a".into(), "b".into()],
                    negated: true,
                },
                Value::Str("not a/b".into()),
            ),
            (
                Cond::StrEq {
                    input: 0,
                    lit: "a".into(),
                    negated: false,
                },
                Value::Str("a".into()),
            ),
        ],
        None,
        ColType::Utf8,
    );
    let s = |x: &str| Some(x.to_string());
    let expected = vec![s("a"), None, None, s("not a/b"), s("not a/b")];
    let data = vec![Some("a"), Some("b"), None, Some(""), Some("ab")];
    let encodings: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(data.clone())),
        Arc::new(LargeStringArray::from(data.clone())),
        Arc::new(StringViewArray::from(data.clone())),
        Arc::new(data.iter().copied().collect::<DictionaryArray<Int32Type>>()),
    ];
    for a in encodings {
        let out = run(&r, vec![a, bools(&[Some(true); 5])]);
        assert_eq!(strs(&out), expected);
    }
}

#[test]
fn dictionary_strings_with_null_keys_and_values() {
    use arrow::array::Int32Array;
    let values: ArrayRef = Arc::new(StringArray::from(vec![Some("x"), None, Some("y")]));
    let keys = Int32Array::from(vec![Some(0), Some(1), None, Some(2), Some(0)]);
    let dict: ArrayRef = Arc::new(DictionaryArray::<Int32Type>::try_new(keys, values).unwrap());
    let r = rule(
        &[("s", ColType::Utf8), ("n", ColType::Int64)],
        vec![
            (
                Cond::StrEq {
                    input: 0,
                    lit: "x".into(),
                    negated: true,
                },
                Value::Int(1),
            ),
            (Cond::IsNull(Operand::Input(0)), Value::Int(2)),
        ],
        Some(Value::Int(0)),
        ColType::Int64,
    );
    let out = run(
        &r,
        vec![dict.clone(), Arc::new(Int64Array::from(vec![0; 5]))],
    );
    assert_eq!(ints(&out), [Some(0), Some(2), Some(2), Some(1), Some(0)]);
    // Sliced.
    let out = run(
        &r,
        vec![dict.slice(1, 3), Arc::new(Int64Array::from(vec![0; 3]))],
    );
    assert_eq!(ints(&out), [Some(2), Some(2), Some(1)]);
}

#[test]
fn sliced_inputs_and_boolean_output() {
    let n = 200;
    let b: ArrayRef = Arc::new(BooleanArray::from(
        (0..n)
            .map(|i| if i % 7 == 0 { None } else { Some(i % 3 == 0) })
            .collect::<Vec<_>>(),
    ));
    let x: ArrayRef = Arc::new(Int64Array::from(
        (0..n)
            .map(|i| if i % 11 == 0 { None } else { Some(i as i64) })
            .collect::<Vec<_>>(),
    ));
    let r = rule(
        &[("b", ColType::Boolean), ("x", ColType::Int64)],
        vec![
            (
                Cond::Cmp(CmpOp::Gt, NumExpr::Input(1), NumExpr::Int(150)),
                Value::Null,
            ),
            (Cond::IsNotNull(Operand::Input(1)), Value::Input(0)),
        ],
        Some(Value::Bool(true)),
        ColType::Boolean,
    );
    for (off, len) in [(0, 200), (3, 150), (13, 0), (64, 65), (77, 123)] {
        let out = run(&r, vec![b.slice(off, len), x.slice(off, len)]);
        assert_eq!(out.len(), len);
    }
}

#[test]
fn empty_batches() {
    let r = rule(
        &[("s", ColType::Utf8), ("x", ColType::Float64)],
        vec![(
            Cond::Cmp(CmpOp::Lt, NumExpr::Input(1), NumExpr::Float(0.3)),
            Value::Str("B".into()),
        )],
        Some(Value::Str("C".into())),
        ColType::Utf8,
    );
    let out = run(
        &r,
        vec![
            Arc::new(StringArray::from(Vec::<&str>::new())),
            Arc::new(Float64Array::from(Vec::<f64>::new())),
        ],
    );
    assert_eq!(out.len(), 0);
}

#[test]
fn unsupported_rules_fall_back_with_a_reason() {
    // Passing a string input through is not compiled.
    let r = rule(
        &[("s", ColType::Utf8), ("x", ColType::Int64)],
        vec![(Cond::Lit(true), Value::Input(0))],
        None,
        ColType::Utf8,
    );
    let why = compile(&r).unwrap_err();
    assert!(why.0.contains("string input"), "{why}");
    let args = common::columns(&r);
    let (_, reason) = bind_rule(&r, args.clone(), true).unwrap();
    assert!(reason.is_some());
    // An ill-typed rule: a number as a condition column.
    let bad = rule(
        &[("s", ColType::Utf8), ("x", ColType::Int64)],
        vec![(Cond::Input(1), Value::Str("x".into()))],
        None,
        ColType::Utf8,
    );
    assert!(compile(&bad).is_err());
    // A well-typed rule compiles into the UDF.
    let ok = rule(
        &[("s", ColType::Utf8), ("x", ColType::Int64)],
        vec![(Cond::IsNull(Operand::Input(0)), Value::Input(1))],
        None,
        ColType::Int64,
    );
    let (e, reason) = bind_rule(&ok, args.clone(), true).unwrap();
    assert_eq!(reason, None);
    assert!(e.to_string().contains("mj_rule_t"), "{e}");
    let (_, reason) = bind_rule(&ok, args, false).unwrap();
    assert!(reason.is_some());
}

#[test]
fn udfs_are_equal_by_rule() {
    let a = rule(
        &[("x", ColType::Float64)],
        vec![(
            Cond::Cmp(CmpOp::Ne, NumExpr::Input(0), NumExpr::Float(f64::NAN)),
            Value::Float(-0.0),
        )],
        None,
        ColType::Float64,
    );
    let mut b = a.clone();
    b.otherwise = Some(Value::Float(0.0));
    let (ua, ua2, ub) = (
        RuleUdf::new(a.clone()).unwrap(),
        RuleUdf::new(a.clone()).unwrap(),
        RuleUdf::new(b.clone()).unwrap(),
    );
    assert_eq!(ua, ua2);
    assert_ne!(ua, ub);
    assert_eq!(rule_of(&ua).unwrap().to_json(), a.to_json());
    // The JSON carries NaN and -0.0 exactly.
    let back = Rule::from_json(&a.to_json()).unwrap();
    assert_eq!(back.to_json(), a.to_json());
    assert_eq!(RuleUdf::new(back).unwrap(), ua);
}

#[test]
fn many_literals_and_long_strings() {
    // More than 16 literals (a hash lookup) and outputs longer than 16 bytes.
    let list: Vec<String> = (0..20).map(|i| format!("literal number {i}")).collect();
    let r = rule(
        &[("s", ColType::Utf8), ("b", ColType::Boolean)],
        vec![
            (
                Cond::StrIn {
                    input: 0,
                    list: list.clone(),
                    negated: false,
                },
                Value::Str("in the list of twenty literals".into()),
            ),
            (
                Cond::StrEq {
                    input: 0,
                    lit: "".into(),
                    negated: false,
                },
                Value::Str("empty".into()),
            ),
        ],
        Some(Value::Str("other, and longer than sixteen bytes".into())),
        ColType::Utf8,
    );
    let data: Vec<Option<String>> = (0..300)
        .map(|i| match i % 5 {
            0 => None,
            1 => Some(String::new()),
            2 => Some(format!("literal number {}", i % 25)),
            3 => Some("literal number".to_string()),
            _ => Some(format!("x{i}")),
        })
        .collect();
    let a: ArrayRef = Arc::new(StringArray::from(data.clone()));
    let out = run(&r, vec![a, bools(&[Some(true); 300])]);
    let got = strs(&out);
    for (i, d) in data.iter().enumerate() {
        let expect = match d {
            Some(s) if list.contains(s) => "in the list of twenty literals",
            Some(s) if s.is_empty() => "empty",
            _ => "other, and longer than sixteen bytes",
        };
        assert_eq!(got[i].as_deref(), Some(expect), "row {i}");
    }
}

/// `NOT (x IN ('a', 'b') AND x IN ('c'))` is NULL for a NULL `x` (NULL AND NULL), so
/// its branch is not taken; for any other `x` the lists are disjoint and it is TRUE.
/// DataFusion's simplifier folds the AND of the disjoint lists to FALSE, NULL or not, and
/// takes the branch: the kernel is checked against the values themselves and against
/// DataFusion's plan of the expression as written.
#[test]
fn disjoint_in_lists_over_a_null_string_stay_null() {
    let list = |items: &[&str]| Cond::StrIn {
        input: 0,
        list: items.iter().map(|s| s.to_string()).collect(),
        negated: false,
    };
    let r = rule(
        &[("s", ColType::Utf8)],
        vec![(
            Cond::Not(Box::new(Cond::And(vec![list(&["a", "b"]), list(&["c"])]))),
            Value::Int(1),
        )],
        Some(Value::Int(0)),
        ColType::Int64,
    );
    let arrays: Vec<ArrayRef> = vec![Arc::new(StringArray::from(vec![
        Some("a"),
        None,
        Some("c"),
        Some(""),
    ]))];
    let out = compile(&r).unwrap().eval(&arrays).unwrap();
    assert_eq!(ints(&out), vec![Some(1), Some(0), Some(1), Some(1)]);
    let plain = common::datafusion_eval(&r, &common::batch(&r, &arrays), false).unwrap();
    assert_eq!(common::same(out.as_ref(), plain.as_ref()), Ok(()));
}
