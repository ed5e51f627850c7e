//! A tag's `case` as a rule for the Cranelift kernels (`mj_ir::Rule`): conditions over
//! numeric, boolean and string columns of the features table, string equality and `in`
//! against literals, arithmetic and comparisons. Anything else is not a rule, and the
//! reason says what; the caller then plans DataFusion's `CASE`.
//!
//! Inputs are the columns the rule names, each passed as Int64 (integers), Float64
//! (floats and decimals: a rule compares decimals as doubles), Boolean or Utf8.

use arrow::datatypes::DataType;
use datafusion::common::DFSchema;
use datafusion::logical_expr::{Expr as DfExpr, cast, col};
use mj_ir::expr::{BinaryOp, Expr, UnaryOp};
use mj_ir::rule::{ArithOp, CmpOp, ColType, Cond, Num, NumExpr, Rule, Value};

struct Inputs<'a> {
    schema: &'a DFSchema,
    columns: Vec<(String, ColType)>,
}

impl Inputs<'_> {
    fn input(&mut self, name: &str) -> Result<(usize, ColType), String> {
        if let Some(i) = self.columns.iter().position(|(n, _)| n == name) {
            return Ok((i, self.columns[i].1));
        }
        let ty = crate::assets::column_type(self.schema, name)
            .ok_or_else(|| format!("`{name}` is not a column of the features table"))?;
        let ty = match ty {
            DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32 => ColType::Int64,
            DataType::Float32 | DataType::Float64 | DataType::Decimal128(..) => ColType::Float64,
            DataType::Boolean => ColType::Boolean,
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => ColType::Utf8,
            DataType::Dictionary(_, v) if matches!(*v, DataType::Utf8) => ColType::Utf8,
            other => return Err(format!("`{name}` is {other}, which rules do not take")),
        };
        self.columns.push((name.to_string(), ty));
        Ok((self.columns.len() - 1, ty))
    }

    fn num(&mut self, e: &Expr) -> Result<NumExpr, String> {
        Ok(match e {
            Expr::Number(n) => match n.parse::<i64>() {
                Ok(i) => NumExpr::Int(i),
                Err(_) => NumExpr::Float(n.parse().map_err(|_| format!("bad number {n}"))?),
            },
            Expr::Column(n) => match self.input(n)? {
                (i, ColType::Int64 | ColType::Float64) => NumExpr::Input(i),
                _ => return Err(format!("`{n}` is not a number")),
            },
            Expr::Unary(UnaryOp::Neg, x) => NumExpr::Neg(Box::new(self.num(x)?)),
            Expr::Binary(op, l, r) => {
                let op = match op {
                    BinaryOp::Add => ArithOp::Add,
                    BinaryOp::Sub => ArithOp::Sub,
                    BinaryOp::Mul => ArithOp::Mul,
                    BinaryOp::Div => ArithOp::Div,
                    other => return Err(format!("`{}` in a number", other.symbol())),
                };
                NumExpr::Bin(op, Box::new(self.num(l)?), Box::new(self.num(r)?))
            }
            _ => {
                return Err(format!("`{}` is not a number a rule computes", e));
            }
        })
    }

    /// A string column compared with literals.
    fn string_input(&mut self, e: &Expr) -> Option<usize> {
        match e {
            Expr::Column(n) => match self.input(n) {
                Ok((i, ColType::Utf8)) => Some(i),
                _ => None,
            },
            _ => None,
        }
    }

    fn cond(&mut self, e: &Expr) -> Result<Cond, String> {
        Ok(match e {
            Expr::Bool(b) => Cond::Lit(*b),
            Expr::Null => Cond::Null,
            Expr::Column(n) => match self.input(n)? {
                (i, ColType::Boolean) => Cond::Input(i),
                _ => return Err(format!("`{n}` is not a condition")),
            },
            Expr::Unary(UnaryOp::Not, x) => Cond::Not(Box::new(self.cond(x)?)),
            Expr::Binary(BinaryOp::And, l, r) => Cond::And(vec![self.cond(l)?, self.cond(r)?]),
            Expr::Binary(BinaryOp::Or, l, r) => Cond::Or(vec![self.cond(l)?, self.cond(r)?]),
            Expr::Binary(op @ (BinaryOp::Eq | BinaryOp::Ne), l, r)
                if matches!(**l, Expr::Str(_)) || matches!(**r, Expr::Str(_)) =>
            {
                let (column, text) = match (&**l, &**r) {
                    (Expr::Str(s), _) => (r, s),
                    (_, Expr::Str(s)) => (l, s),
                    _ => unreachable!("one side is a string"),
                };
                let input = self.string_input(column).ok_or_else(|| {
                    "a string comparison with something other than a column".to_string()
                })?;
                Cond::StrEq {
                    input,
                    lit: text.clone(),
                    negated: *op == BinaryOp::Ne,
                }
            }
            Expr::Binary(op, l, r) => {
                let op = match op {
                    BinaryOp::Eq => CmpOp::Eq,
                    BinaryOp::Ne => CmpOp::Ne,
                    BinaryOp::Lt => CmpOp::Lt,
                    BinaryOp::Le => CmpOp::Le,
                    BinaryOp::Gt => CmpOp::Gt,
                    BinaryOp::Ge => CmpOp::Ge,
                    other => return Err(format!("`{}` in a condition", other.symbol())),
                };
                Cond::Cmp(op, self.num(l)?, self.num(r)?)
            }
            Expr::In {
                expr,
                list,
                negated,
            } => {
                if list.iter().all(|x| matches!(x, Expr::Str(_))) {
                    let input = self.string_input(expr).ok_or_else(|| {
                        "`in` on something other than a string column".to_string()
                    })?;
                    Cond::StrIn {
                        input,
                        list: list
                            .iter()
                            .filter_map(|x| match x {
                                Expr::Str(s) => Some(s.clone()),
                                _ => None,
                            })
                            .collect(),
                        negated: *negated,
                    }
                } else {
                    let mut nums = Vec::new();
                    for x in list {
                        nums.push(match self.num(x)? {
                            NumExpr::Int(i) => Num::Int(i),
                            NumExpr::Float(v) => Num::Float(v),
                            _ => return Err("`in` over expressions".to_string()),
                        });
                    }
                    Cond::NumIn {
                        expr: self.num(expr)?,
                        list: nums,
                        negated: *negated,
                    }
                }
            }
            _ => {
                return Err(format!("`{}` is not a condition a rule computes", e));
            }
        })
    }

    fn value(&mut self, e: &Expr) -> Result<(Value, Option<ColType>), String> {
        Ok(match e {
            Expr::Null => (Value::Null, None),
            Expr::Str(s) => (Value::Str(s.clone()), Some(ColType::Utf8)),
            Expr::Bool(b) => (Value::Bool(*b), Some(ColType::Boolean)),
            _ => match self.num(e)? {
                NumExpr::Int(i) => (Value::Int(i), Some(ColType::Int64)),
                NumExpr::Float(v) => (Value::Float(v), Some(ColType::Float64)),
                NumExpr::Input(i) => (Value::Input(i), Some(self.columns[i].1)),
                other => (Value::Num(other), Some(ColType::Float64)),
            },
        })
    }
}

/// The rule of a `case` over the features table, with the argument expressions of its
/// inputs, or why it is not a rule.
pub fn rule(tag: &str, e: &Expr, schema: &DFSchema) -> Result<(Rule, Vec<DfExpr>), String> {
    let Expr::Case { arms, otherwise } = e else {
        return Err("not a case".to_string());
    };
    let mut inputs = Inputs {
        schema,
        columns: Vec::new(),
    };
    let mut output: Option<ColType> = None;
    let mut unify = |t: Option<ColType>| -> Result<(), String> {
        match (output, t) {
            (_, None) => Ok(()),
            (None, Some(t)) => {
                output = Some(t);
                Ok(())
            }
            (Some(a), Some(b)) if a == b => Ok(()),
            (Some(ColType::Int64), Some(ColType::Float64))
            | (Some(ColType::Float64), Some(ColType::Int64)) => {
                output = Some(ColType::Float64);
                Ok(())
            }
            (Some(a), Some(b)) => Err(format!("branches give {a:?} and {b:?}")),
        }
    };
    let mut branches = Vec::new();
    for (condition, value) in arms {
        let cond = inputs.cond(condition)?;
        let (value, ty) = inputs.value(value)?;
        unify(ty)?;
        branches.push((cond, value));
    }
    let otherwise = match otherwise {
        Some(o) => {
            let (value, ty) = inputs.value(o)?;
            unify(ty)?;
            Some(value)
        }
        None => None,
    };
    let output = output.ok_or_else(|| "every branch is null".to_string())?;
    let args = inputs
        .columns
        .iter()
        .map(|(name, ty)| {
            let c = col(format!("\"{name}\""));
            match ty {
                ColType::Int64 => cast(c, DataType::Int64),
                ColType::Float64 => cast(c, DataType::Float64),
                _ => c,
            }
        })
        .collect();
    Ok((
        Rule {
            name: tag.to_string(),
            inputs: inputs.columns,
            branches,
            otherwise,
            output,
        },
        args,
    ))
}
