//! The same rule as DataFusion's own expression: the fallback, and the reference the
//! kernel is tested against.

use arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::functions::expr_fn::nullif;
use datafusion::logical_expr::expr::Case;
use datafusion::logical_expr::{cast, in_list, lit};
use datafusion::prelude::Expr;

use mj_ir::rule::{
    ArithOp, CmpOp, ColType, Cond, Const, Num, NumExpr, NumType, Operand, Rule, Value,
};

/// The rule as a DataFusion `CASE` expression over `args` (one expression per input, in
/// order): what the kernel computes, row for row.
///
/// Constant numeric subexpressions are folded here (with the kernel's arithmetic), so that
/// DataFusion never folds them itself; `/` is `cast(a as double) / nullif(cast(b as
/// double), 0.0)`; a float `IN` list gets `-0.0` next to `0.0` (and the reverse) so that
/// it means `=` however DataFusion rewrites it; Int64 against Float64 is written with an explicit cast to Float64; an
/// empty `IN` list is the literal FALSE (TRUE for `NOT IN`). Values are cast to the
/// output type where their type differs (which the kernel only does for Int64 into
/// Float64).
///
/// Fails only when `args` does not match the rule's inputs or an index is out of range.
pub fn to_expr(rule: &Rule, args: &[Expr]) -> Result<Expr> {
    if args.len() != rule.inputs.len() {
        return plan_err!(
            "rule `{}` takes {} arguments, got {}",
            rule.name,
            rule.inputs.len(),
            args.len()
        );
    }
    let b = Builder { rule, args };
    let out = rule.output.data_type();
    let otherwise = match &rule.otherwise {
        Some(v) => b.value(v)?,
        None => null_of(&out)?,
    };
    if rule.branches.is_empty() {
        return Ok(otherwise);
    }
    let mut when_then = Vec::with_capacity(rule.branches.len());
    for (c, v) in &rule.branches {
        when_then.push((Box::new(b.cond(c)?), Box::new(b.value(v)?)));
    }
    Ok(Expr::Case(Case::new(
        None,
        when_then,
        Some(Box::new(otherwise)),
    )))
}

fn null_of(t: &DataType) -> Result<Expr> {
    Ok(Expr::Literal(ScalarValue::try_from(t)?, None))
}

struct Builder<'a> {
    rule: &'a Rule,
    args: &'a [Expr],
}

impl Builder<'_> {
    fn arg(&self, k: usize) -> Result<Expr> {
        match self.args.get(k) {
            Some(e) => Ok(e.clone()),
            None => plan_err!("rule `{}` refers to input {k}", self.rule.name),
        }
    }

    /// Input `k` cast to the rule's type for it (a no-op when it has that type already),
    /// so that narrower columns (Int32, Float32) mean what the kernel computes after the
    /// UDF's coercion. String inputs are left as they are (dictionaries included).
    fn typed_arg(&self, k: usize) -> Result<Expr> {
        let e = self.arg(k)?;
        Ok(match self.input_type(k)? {
            ColType::Utf8 => e,
            t => cast(e, t.data_type()),
        })
    }

    fn input_type(&self, k: usize) -> Result<ColType> {
        self.rule.input_type(k).or_else(|e| plan_err!("{e}"))
    }

    /// The numeric type, leniently: a non-numeric input counts as its own type and is
    /// left to DataFusion's coercion.
    fn num_type(&self, e: &NumExpr) -> NumType {
        self.rule.num_type(e).unwrap_or(NumType::Float)
    }

    fn value(&self, v: &Value) -> Result<Expr> {
        let out = self.rule.output.data_type();
        let fit = |e: Expr, t: DataType| if t == out { e } else { cast(e, out.clone()) };
        Ok(match v {
            Value::Null => null_of(&out)?,
            Value::Int(i) if self.rule.output == ColType::Float64 => lit(*i as f64),
            Value::Int(i) => fit(lit(*i), DataType::Int64),
            Value::Float(f) => fit(lit(*f), DataType::Float64),
            Value::Bool(b) => fit(lit(*b), DataType::Boolean),
            Value::Str(s) => fit(lit(s.clone()), DataType::Utf8),
            Value::Input(k) => fit(self.typed_arg(*k)?, self.input_type(*k)?.data_type()),
            Value::Num(e) => {
                let t = match self.num_type(e) {
                    NumType::Int => DataType::Int64,
                    NumType::Float => DataType::Float64,
                };
                fit(self.num(e)?, t)
            }
        })
    }

    fn float(&self, e: &NumExpr) -> Result<Expr> {
        let x = self.num(e)?;
        Ok(match self.num_type(e) {
            NumType::Int => cast(x, DataType::Float64),
            NumType::Float => x,
        })
    }

    fn num(&self, e: &NumExpr) -> Result<Expr> {
        if let Some(c) = self.rule.fold(e) {
            return Ok(match (c, self.num_type(e)) {
                (Some(Const::Int(i)), _) => lit(i),
                (Some(Const::Float(f)), _) => lit(f),
                (None, NumType::Int) => lit(ScalarValue::Int64(None)),
                (None, NumType::Float) => lit(ScalarValue::Float64(None)),
            });
        }
        Ok(match e {
            NumExpr::Input(k) => self.typed_arg(*k)?,
            NumExpr::Int(i) => lit(*i),
            NumExpr::Float(f) => lit(*f),
            NumExpr::Neg(x) => Expr::Negative(Box::new(self.num(x)?)),
            NumExpr::Bin(ArithOp::Div, l, r) => {
                self.float(l)? / nullif(self.float(r)?, lit(0.0f64))
            }
            NumExpr::Bin(op, l, r) => {
                let (l, r) = if self.num_type(e) == NumType::Int {
                    (self.num(l)?, self.num(r)?)
                } else {
                    (self.float(l)?, self.float(r)?)
                };
                match op {
                    ArithOp::Add => l + r,
                    ArithOp::Sub => l - r,
                    ArithOp::Mul => l * r,
                    ArithOp::Div => unreachable!("handled above"),
                }
            }
        })
    }

    fn cond(&self, c: &Cond) -> Result<Expr> {
        Ok(match c {
            Cond::Input(k) => self.typed_arg(*k)?,
            Cond::Lit(b) => lit(*b),
            Cond::Null => lit(ScalarValue::Boolean(None)),
            Cond::Not(x) => !self.cond(x)?,
            Cond::And(xs) => {
                let mut it = xs.iter();
                match it.next() {
                    None => lit(true),
                    Some(first) => {
                        let mut e = self.cond(first)?;
                        for x in it {
                            e = e.and(self.cond(x)?);
                        }
                        e
                    }
                }
            }
            Cond::Or(xs) => {
                let mut it = xs.iter();
                match it.next() {
                    None => lit(false),
                    Some(first) => {
                        let mut e = self.cond(first)?;
                        for x in it {
                            e = e.or(self.cond(x)?);
                        }
                        e
                    }
                }
            }
            Cond::IsNull(o) => self.operand(o)?.is_null(),
            Cond::IsNotNull(o) => self.operand(o)?.is_not_null(),
            Cond::Cmp(op, l, r) => {
                let ints = self.num_type(l) == NumType::Int && self.num_type(r) == NumType::Int;
                let (l, r) = if ints {
                    (self.num(l)?, self.num(r)?)
                } else {
                    (self.float(l)?, self.float(r)?)
                };
                match op {
                    CmpOp::Eq => l.eq(r),
                    CmpOp::Ne => l.not_eq(r),
                    CmpOp::Lt => l.lt(r),
                    CmpOp::Le => l.lt_eq(r),
                    CmpOp::Gt => l.gt(r),
                    CmpOp::Ge => l.gt_eq(r),
                }
            }
            Cond::StrEq {
                input,
                lit: s,
                negated,
            } => {
                let x = self.arg(*input)?;
                if *negated {
                    x.not_eq(lit(s.clone()))
                } else {
                    x.eq(lit(s.clone()))
                }
            }
            Cond::StrIn {
                input,
                list,
                negated,
            } => {
                if list.is_empty() {
                    lit(*negated)
                } else {
                    in_list(
                        self.arg(*input)?,
                        list.iter().map(|s| lit(s.clone())).collect(),
                        *negated,
                    )
                }
            }
            Cond::NumIn {
                expr,
                list,
                negated,
            } => {
                if list.is_empty() {
                    lit(*negated)
                } else if self.num_type(expr) == NumType::Int
                    && list.iter().all(|n| matches!(n, Num::Int(_)))
                {
                    let items = list
                        .iter()
                        .map(|n| match n {
                            Num::Int(i) => lit(*i),
                            Num::Float(f) => lit(*f),
                        })
                        .collect();
                    in_list(self.num(expr)?, items, *negated)
                } else {
                    // DataFusion's `IN` on floats is bitwise while its `=` takes -0.0 for
                    // +0.0, and the simplifier turns short lists into `=`s and `=`s into
                    // lists: with both zeros in the list when either is, all forms agree.
                    let mut items: Vec<f64> = Vec::with_capacity(list.len() + 1);
                    for n in list {
                        let f = n.as_f64();
                        items.push(f);
                        if f == 0.0 {
                            items.push(-f);
                        }
                    }
                    let items = items.into_iter().map(lit).collect();
                    in_list(self.float(expr)?, items, *negated)
                }
            }
        })
    }

    fn operand(&self, o: &Operand) -> Result<Expr> {
        match o {
            Operand::Input(k) => self.arg(*k),
            Operand::Num(e) => self.num(e),
            Operand::Cond(c) => self.cond(c),
        }
    }
}

/// A rule as the planner calls it: `mj_rule_<name>(inputs…)`, a placeholder carrying the
/// rule as data. The engine binds each call before running the plan — to a Cranelift
/// kernel where the rule compiles, else to [`to_expr`]'s `CASE` — and says which in the
/// manifest; a call left unbound becomes that `CASE` when DataFusion simplifies the plan.
/// So the planner needs no code generator, and a plan can carry the rule to where it is
/// compiled.
///
/// Two calls are equal (and hash equally) when their rules serialize to the same JSON.
pub struct RuleCall {
    rule: Rule,
    json: String,
    name: String,
    signature: datafusion::logical_expr::Signature,
}

impl RuleCall {
    pub fn new(rule: Rule) -> RuleCall {
        use datafusion::logical_expr::{Signature, Volatility};
        RuleCall {
            json: rule.to_json(),
            name: format!("mj_rule_{}", rule.name),
            signature: Signature::user_defined(Volatility::Immutable),
            rule,
        }
    }

    /// The rule applied to `args` (one per input, in order).
    pub fn call(rule: Rule, args: Vec<Expr>) -> Result<Expr> {
        if args.len() != rule.inputs.len() {
            return plan_err!(
                "rule `{}` takes {} arguments, got {}",
                rule.name,
                rule.inputs.len(),
                args.len()
            );
        }
        let udf = datafusion::logical_expr::ScalarUDF::new_from_impl(RuleCall::new(rule));
        Ok(udf.call(args))
    }

    pub fn rule(&self) -> &Rule {
        &self.rule
    }
}

/// The rule of a placeholder call's function ([`RuleCall`]), if it is one.
pub fn placeholder_rule(udf: &datafusion::logical_expr::ScalarUDF) -> Option<&Rule> {
    udf.inner().downcast_ref::<RuleCall>().map(RuleCall::rule)
}

impl std::fmt::Debug for RuleCall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuleCall")
            .field("name", &self.name)
            .field("rule", &self.json)
            .finish_non_exhaustive()
    }
}

impl PartialEq for RuleCall {
    fn eq(&self, other: &Self) -> bool {
        self.json == other.json
    }
}

impl Eq for RuleCall {}

impl std::hash::Hash for RuleCall {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.json.hash(state);
    }
}

impl datafusion::logical_expr::ScalarUDFImpl for RuleCall {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &datafusion::logical_expr::Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(self.rule.output.data_type())
    }

    /// As the kernel's function coerces ([`Rule::coerce_args`]).
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        self.rule
            .coerce_args(arg_types)
            .or_else(|e| plan_err!("{e}"))
    }

    /// An unbound call is the rule's `CASE`.
    fn simplify(
        &self,
        args: Vec<Expr>,
        _info: &datafusion::logical_expr::simplify::SimplifyContext,
    ) -> Result<datafusion::logical_expr::simplify::ExprSimplifyResult> {
        Ok(
            datafusion::logical_expr::simplify::ExprSimplifyResult::Simplified(to_expr(
                &self.rule, &args,
            )?),
        )
    }

    fn invoke_with_args(
        &self,
        _args: datafusion::logical_expr::ScalarFunctionArgs,
    ) -> Result<datafusion::logical_expr::ColumnarValue> {
        datafusion::common::exec_err!(
            "{} was neither bound to a kernel nor simplified to its CASE",
            self.name
        )
    }
}
