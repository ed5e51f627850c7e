//! The rule IR: a decision list over the columns of one table, and its type rules.
//!
//! The IR is serializable (serde, JSON in practice) so that a plan codec can carry a rule
//! and compile it again where the plan is decoded. Floating-point literals are written as
//! strings (`"0.3"`, `"-0.0"`, `"inf"`, `"NaN"`, `"NaN:0x7ff8000000000001"`) so that every
//! value, NaN payloads and the sign of zero included, survives the round trip exactly.

use std::fmt;

use arrow_schema::DataType;
use serde::{Deserialize, Serialize};

/// The type of an input column or of a rule's output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ColType {
    /// 64-bit signed integers.
    Int64,
    /// 64-bit IEEE floats, ordered like Arrow (`total_cmp`).
    Float64,
    /// Booleans.
    Boolean,
    /// Strings: as an input any of Utf8, LargeUtf8, Utf8View or a dictionary of these;
    /// as an output always `Utf8`.
    Utf8,
}

impl ColType {
    /// The Arrow type of an output (and the canonical type of an input) of this type.
    pub fn data_type(self) -> DataType {
        match self {
            ColType::Int64 => DataType::Int64,
            ColType::Float64 => DataType::Float64,
            ColType::Boolean => DataType::Boolean,
            ColType::Utf8 => DataType::Utf8,
        }
    }

    /// Whether an argument of type `dt` can be passed to an input of this type as it is.
    pub fn accepts(self, dt: &DataType) -> bool {
        match self {
            ColType::Utf8 => match dt {
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null => true,
                DataType::Dictionary(k, v) => {
                    k.is_dictionary_key_type()
                        && matches!(
                            v.as_ref(),
                            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
                        )
                }
                _ => false,
            },
            t => *dt == t.data_type(),
        }
    }

    fn is_numeric(self) -> bool {
        matches!(self, ColType::Int64 | ColType::Float64)
    }
}

/// A decision list: `case { cond₁ => value₁; …; else => otherwise }`.
///
/// Rows take the value of the first branch whose condition is TRUE; a condition that is
/// FALSE or NULL (unknown) passes the row on to the next branch. Rows that no branch
/// takes get `otherwise`, or NULL when there is no `else`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    /// For display and error messages; the UDF is named `mj_rule_<name>`.
    pub name: String,
    /// The argument columns, in the order of the UDF's arguments.
    pub inputs: Vec<(String, ColType)>,
    /// `(condition, value)` in order: the first condition that is TRUE wins.
    pub branches: Vec<(Cond, Value)>,
    /// The `else` value; `None` means NULL.
    pub otherwise: Option<Value>,
    /// The output type.
    pub output: ColType,
}

/// The value of a branch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Value {
    /// NULL of the output type.
    Null,
    /// An integer literal (an Int64 output, or a Float64 output after conversion).
    Int(i64),
    /// A float literal (a Float64 output).
    Float(#[serde(with = "float_repr")] f64),
    /// A boolean literal (a Boolean output).
    Bool(bool),
    /// A string literal (a Utf8 output).
    Str(String),
    /// An input column passed through (Int64 into an Int64 or Float64 output, Float64 into
    /// Float64, Boolean into Boolean; string pass-through is not compiled).
    Input(usize),
    /// A numeric expression (Int64 into Int64 or Float64, Float64 into Float64).
    Num(NumExpr),
}

/// A boolean expression in SQL's three-valued logic.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Cond {
    /// A Boolean input column.
    Input(usize),
    /// TRUE or FALSE.
    Lit(bool),
    /// NULL (unknown).
    Null,
    /// NOT: TRUE ↔ FALSE, NULL stays NULL.
    Not(Box<Cond>),
    /// AND: FALSE if any is FALSE, else TRUE if all are TRUE, else NULL. Empty: TRUE.
    And(Vec<Cond>),
    /// OR: TRUE if any is TRUE, else FALSE if all are FALSE, else NULL. Empty: FALSE.
    Or(Vec<Cond>),
    /// `x IS NULL` (never NULL itself).
    IsNull(Operand),
    /// `x IS NOT NULL` (never NULL itself).
    IsNotNull(Operand),
    /// A numeric comparison; NULL when either side is NULL. Int64 against Float64 compares
    /// as Float64; floats compare in Arrow's total order (see the crate docs).
    Cmp(CmpOp, NumExpr, NumExpr),
    /// `input = lit` (or `input != lit` when negated) on a Utf8 input, bytewise.
    StrEq {
        input: usize,
        lit: String,
        negated: bool,
    },
    /// `input IN (list…)` (or `NOT IN` when negated) on a Utf8 input. NULL for a NULL
    /// input; an empty list is FALSE (`NOT IN ()`: TRUE) even for a NULL input.
    StrIn {
        input: usize,
        list: Vec<String>,
        negated: bool,
    },
    /// `expr IN (list…)` (or `NOT IN`): Int64 when the expression and every item are
    /// integers, else Float64 with the equality of `=` (bitwise after making `-0.0`
    /// `+0.0`: `NaN IN (NaN)` is TRUE, `-0.0 IN (0.0)` is TRUE). NULL for a NULL
    /// expression; an empty list is FALSE (`NOT IN ()`: TRUE) even then.
    NumIn {
        expr: NumExpr,
        list: Vec<Num>,
        negated: bool,
    },
}

/// What `IS NULL` / `IS NOT NULL` tests.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Operand {
    /// An input column of any type.
    Input(usize),
    /// A numeric expression (NULL when an input is NULL or it divides by zero).
    Num(NumExpr),
    /// A condition (NULL when unknown).
    Cond(Box<Cond>),
}

/// Comparison operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// Arithmetic operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ArithOp {
    /// Int64 when both sides are Int64 (wrapping on overflow, like DataFusion's default
    /// `+`), else Float64.
    Add,
    /// Like `Add`.
    Sub,
    /// Like `Add`.
    Mul,
    /// Always Float64 (both sides converted): `a / b` is NULL when `b` is `+0.0` (integer
    /// zero included), i.e. `cast(a as double) / nullif(cast(b as double), 0.0)`.
    Div,
}

/// A numeric expression: Int64 or Float64 (see [`ArithOp`] for the result types).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum NumExpr {
    /// An Int64 or Float64 input column.
    Input(usize),
    /// An Int64 literal.
    Int(i64),
    /// A Float64 literal.
    Float(#[serde(with = "float_repr")] f64),
    /// Negation (wrapping for Int64: `-i64::MIN == i64::MIN`).
    Neg(Box<NumExpr>),
    /// Binary arithmetic.
    Bin(ArithOp, Box<NumExpr>, Box<NumExpr>),
}

/// A numeric literal of an `IN` list.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Num {
    Int(i64),
    Float(#[serde(with = "float_repr")] f64),
}

impl Num {
    /// The value as a float (integers converted with `as`).
    pub fn as_f64(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::Float(f) => f,
        }
    }
}

/// Why a rule is not well-typed, or not compiled; the caller falls back to DataFusion's
/// `CASE` (`mj_plan::case`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unsupported(pub String);

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Unsupported {}

/// `Err(Unsupported(msg))`.
pub fn unsupported<T>(msg: impl Into<String>) -> Result<T, Unsupported> {
    Err(Unsupported(msg.into()))
}

/// The type of a numeric expression.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NumType {
    Int,
    Float,
}

/// A constant numeric value (`None` inside a folded constant means NULL).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Const {
    Int(i64),
    Float(f64),
}

impl Const {
    /// The value as a float (an integer converted with `as f64`).
    pub fn as_f64(self) -> f64 {
        match self {
            Const::Int(i) => i as f64,
            Const::Float(f) => f,
        }
    }
}

impl Rule {
    /// The argument types a call of the rule takes for `arg_types`: string inputs any
    /// string type as it is (dictionaries stay encoded); other inputs cast to Int64,
    /// Float64 or Boolean where that is lossless in kind (integers to Int64 or Float64,
    /// Float32 to Float64, NULL to anything). Both the kernel's function and the
    /// planner's placeholder coerce this way, so either can stand in for the other.
    pub fn coerce_args(&self, arg_types: &[DataType]) -> Result<Vec<DataType>, String> {
        let name = format!("mj_rule_{}", self.name);
        if arg_types.len() != self.inputs.len() {
            return Err(format!(
                "{name} takes {} arguments, got {}",
                self.inputs.len(),
                arg_types.len()
            ));
        }
        arg_types
            .iter()
            .zip(&self.inputs)
            .map(|(dt, (input, t))| {
                if t.accepts(dt) {
                    return Ok(dt.clone());
                }
                let ok = match t {
                    ColType::Int64 => dt.is_integer() || *dt == DataType::Null,
                    ColType::Float64 => dt.is_numeric() || *dt == DataType::Null,
                    ColType::Boolean => *dt == DataType::Null,
                    ColType::Utf8 => false,
                };
                if ok {
                    Ok(t.data_type())
                } else {
                    Err(format!("argument `{input}` of {name} is {t:?}, not {dt}"))
                }
            })
            .collect()
    }

    /// The rule as JSON: what the UDF's equality and hash are defined by, and what a codec
    /// carries.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a rule serializes to JSON")
    }

    /// A rule from [`Rule::to_json`]'s output.
    pub fn from_json(json: &str) -> Result<Rule, serde_json::Error> {
        serde_json::from_str(json)
    }

    pub fn input_type(&self, i: usize) -> Result<ColType, Unsupported> {
        match self.inputs.get(i) {
            Some((_, t)) => Ok(*t),
            None => unsupported(format!(
                "rule `{}` refers to input {i} but has {} inputs",
                self.name,
                self.inputs.len()
            )),
        }
    }

    fn input_name(&self, i: usize) -> &str {
        self.inputs.get(i).map(|(n, _)| n.as_str()).unwrap_or("?")
    }

    /// The type of a numeric expression, or why it is ill-typed.
    pub fn num_type(&self, e: &NumExpr) -> Result<NumType, Unsupported> {
        Ok(match e {
            NumExpr::Input(i) => match self.input_type(*i)? {
                ColType::Int64 => NumType::Int,
                ColType::Float64 => NumType::Float,
                t => {
                    return unsupported(format!(
                        "input `{}` of rule `{}` is {t:?}, not a number",
                        self.input_name(*i),
                        self.name
                    ));
                }
            },
            NumExpr::Int(_) => NumType::Int,
            NumExpr::Float(_) => NumType::Float,
            NumExpr::Neg(x) => self.num_type(x)?,
            NumExpr::Bin(op, l, r) => {
                let (l, r) = (self.num_type(l)?, self.num_type(r)?);
                match op {
                    ArithOp::Div => NumType::Float,
                    _ if l == NumType::Int && r == NumType::Int => NumType::Int,
                    _ => NumType::Float,
                }
            }
        })
    }

    /// Checks that a condition is well-typed.
    pub fn check_cond(&self, c: &Cond) -> Result<(), Unsupported> {
        match c {
            Cond::Input(i) => {
                if self.input_type(*i)? != ColType::Boolean {
                    return unsupported(format!(
                        "input `{}` of rule `{}` is used as a condition but is not Boolean",
                        self.input_name(*i),
                        self.name
                    ));
                }
            }
            Cond::Lit(_) | Cond::Null => {}
            Cond::Not(x) => self.check_cond(x)?,
            Cond::And(xs) | Cond::Or(xs) => {
                for x in xs {
                    self.check_cond(x)?;
                }
            }
            Cond::IsNull(o) | Cond::IsNotNull(o) => match o {
                Operand::Input(i) => {
                    self.input_type(*i)?;
                }
                Operand::Num(e) => {
                    self.num_type(e)?;
                }
                Operand::Cond(c) => self.check_cond(c)?,
            },
            Cond::Cmp(_, l, r) => {
                self.num_type(l)?;
                self.num_type(r)?;
            }
            Cond::StrEq { input, .. } | Cond::StrIn { input, .. } => {
                if self.input_type(*input)? != ColType::Utf8 {
                    return unsupported(format!(
                        "input `{}` of rule `{}` is compared with strings but is not Utf8",
                        self.input_name(*input),
                        self.name
                    ));
                }
            }
            Cond::NumIn { expr, .. } => {
                self.num_type(expr)?;
            }
        }
        Ok(())
    }

    /// Checks that a value fits the output type without a conversion other than Int64 to
    /// Float64.
    pub fn check_value(&self, v: &Value) -> Result<(), Unsupported> {
        let out = self.output;
        let ok = match v {
            Value::Null => true,
            Value::Int(_) => out.is_numeric(),
            Value::Float(_) => out == ColType::Float64,
            Value::Bool(_) => out == ColType::Boolean,
            Value::Str(_) => out == ColType::Utf8,
            Value::Input(i) => match (self.input_type(*i)?, out) {
                (ColType::Int64, ColType::Int64 | ColType::Float64) => true,
                (ColType::Float64, ColType::Float64) => true,
                (ColType::Boolean, ColType::Boolean) => true,
                (ColType::Utf8, ColType::Utf8) => {
                    return unsupported(format!(
                        "rule `{}` passes the string input `{}` through",
                        self.name,
                        self.input_name(*i)
                    ));
                }
                _ => false,
            },
            Value::Num(e) => matches!(
                (self.num_type(e)?, out),
                (NumType::Int, ColType::Int64 | ColType::Float64)
                    | (NumType::Float, ColType::Float64)
            ),
        };
        if ok {
            Ok(())
        } else {
            unsupported(format!(
                "a value of rule `{}` does not fit its {out:?} output: {v:?}",
                self.name
            ))
        }
    }

    /// Checks the whole rule.
    pub fn check(&self) -> Result<(), Unsupported> {
        for (c, v) in &self.branches {
            self.check_cond(c)?;
            self.check_value(v)?;
        }
        if let Some(v) = &self.otherwise {
            self.check_value(v)?;
        }
        Ok(())
    }

    /// Folds a constant numeric expression (one without inputs): `Some(None)` is a constant
    /// NULL (a division by zero), `None` means the expression reads an input. The arithmetic
    /// is the one both the kernel and DataFusion perform.
    pub fn fold(&self, e: &NumExpr) -> Option<Option<Const>> {
        Some(match e {
            NumExpr::Input(_) => return None,
            NumExpr::Int(i) => Some(Const::Int(*i)),
            NumExpr::Float(f) => Some(Const::Float(*f)),
            NumExpr::Neg(x) => self.fold(x)?.map(|c| match c {
                Const::Int(i) => Const::Int(i.wrapping_neg()),
                Const::Float(f) => Const::Float(-f),
            }),
            NumExpr::Bin(op, l, r) => {
                let l = self.fold(l);
                let r = self.fold(r);
                let (l, r) = (l?, r?);
                let (Some(l), Some(r)) = (l, r) else {
                    return Some(None);
                };
                arith(*op, l, r)
            }
        })
    }
}

/// Arithmetic on constants, with the kernel's semantics.
pub fn arith(op: ArithOp, l: Const, r: Const) -> Option<Const> {
    match (op, l, r) {
        (ArithOp::Div, l, r) => {
            let d = r.as_f64();
            if d.to_bits() == 0 {
                None
            } else {
                Some(Const::Float(l.as_f64() / d))
            }
        }
        (ArithOp::Add, Const::Int(a), Const::Int(b)) => Some(Const::Int(a.wrapping_add(b))),
        (ArithOp::Sub, Const::Int(a), Const::Int(b)) => Some(Const::Int(a.wrapping_sub(b))),
        (ArithOp::Mul, Const::Int(a), Const::Int(b)) => Some(Const::Int(a.wrapping_mul(b))),
        (ArithOp::Add, a, b) => Some(Const::Float(a.as_f64() + b.as_f64())),
        (ArithOp::Sub, a, b) => Some(Const::Float(a.as_f64() - b.as_f64())),
        (ArithOp::Mul, a, b) => Some(Const::Float(a.as_f64() * b.as_f64())),
    }
}

/// Serde for `f64` as an exact string.
mod float_repr {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&to_string(*x))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        let s = String::deserialize(d)?;
        from_str(&s).ok_or_else(|| D::Error::custom(format!("not a float: {s:?}")))
    }

    pub fn to_string(x: f64) -> String {
        if x.is_nan() {
            if x.to_bits() == f64::NAN.to_bits() {
                "NaN".to_string()
            } else {
                format!("NaN:{:#018x}", x.to_bits())
            }
        } else if x.is_infinite() {
            if x > 0.0 { "inf" } else { "-inf" }.to_string()
        } else {
            // `{:?}` is the shortest representation that parses back exactly, `-0.0` included.
            format!("{x:?}")
        }
    }

    pub fn from_str(s: &str) -> Option<f64> {
        match s {
            "NaN" => Some(f64::NAN),
            "inf" => Some(f64::INFINITY),
            "-inf" => Some(f64::NEG_INFINITY),
            _ => match s.strip_prefix("NaN:0x") {
                Some(hex) => u64::from_str_radix(hex, 16).ok().map(f64::from_bits),
                None => s.parse().ok(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_round_trip_exactly() {
        for x in [
            0.0,
            -0.0,
            0.3,
            1e300,
            -5e-324,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            -f64::NAN,
            f64::from_bits(0x7ff8_0000_0000_0001),
        ] {
            let v = Value::Float(x);
            let json = serde_json::to_string(&v).unwrap();
            let back: Value = serde_json::from_str(&json).unwrap();
            let Value::Float(y) = back else { panic!() };
            assert_eq!(x.to_bits(), y.to_bits(), "{json}");
        }
    }
}
