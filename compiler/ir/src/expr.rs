//! Expressions as the planner reads them: resolved by the compiler, with functions as
//! the registry's enums, columns by name, and no syntax (no spans, no named arguments,
//! no metric indexes). Lowering turns each checked expression of the language into
//! one of these; the planner turns it into a DataFusion expression.

use serde::{Deserialize, Serialize};

use crate::functions::Builtin;

#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expr {
    /// Decimal text as written (an integer or a decimal number).
    Number(String),
    Str(String),
    Bool(bool),
    Null,
    /// A number with a unit the lowering did not convert (`15d` where a count of days
    /// is not what the planner expects).
    Quantity {
        value: String,
        unit: Unit,
    },
    /// A column of the row (a source's or fact's column, a feature, a metric).
    Column(String),
    /// A joined dimension's attribute: `store.city`.
    Attribute(String, String),
    Unary(UnaryOp, Box<Expr>),
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    In {
        expr: Box<Expr>,
        list: Vec<Expr>,
        negated: bool,
    },
    /// Arms in order, `(condition, value)`; the first that holds gives the value.
    Case {
        arms: Vec<(Expr, Expr)>,
        otherwise: Option<Box<Expr>>,
    },
    Call(Builtin, Vec<Expr>),
    /// What the lowering could not express here (an aggregate, a named argument, an
    /// index, a function it does not know), with its text: a shape the checker
    /// reports before lowering, kept so that lowering stays total. The planner refuses
    /// it, naming the text.
    Unplanned(String),
}

/// The unit of a [`Expr::Quantity`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Weeks,
    Days,
    Hours,
    Minutes,
    Seconds,
    Millis,
    Kilometres,
    Metres,
    Degrees,
    Cny,
}

impl Unit {
    pub fn suffix(self) -> &'static str {
        match self {
            Unit::Weeks => "w",
            Unit::Days => "d",
            Unit::Hours => "h",
            Unit::Minutes => "min",
            Unit::Seconds => "s",
            Unit::Millis => "ms",
            Unit::Kilometres => "km",
            Unit::Metres => "m",
            Unit::Degrees => "deg",
            Unit::Cny => "cny",
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnaryOp {
    Not,
    Neg,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BinaryOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// `??`: the left value, or the right one when the left is null.
    Coalesce,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

impl BinaryOp {
    /// Binding power, weakest first, as the language's grammar has it.
    pub fn precedence(self) -> u8 {
        match self {
            BinaryOp::Or => 1,
            BinaryOp::And => 2,
            BinaryOp::Eq
            | BinaryOp::Ne
            | BinaryOp::Lt
            | BinaryOp::Le
            | BinaryOp::Gt
            | BinaryOp::Ge => 4,
            BinaryOp::Coalesce => 5,
            BinaryOp::Add | BinaryOp::Sub => 6,
            BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod => 7,
        }
    }

    pub fn is_comparison(self) -> bool {
        self.precedence() == 4
    }

    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Or => "or",
            BinaryOp::And => "and",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::Coalesce => "??",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Mod => "%",
        }
    }
}

const NOT_PRECEDENCE: u8 = 3;
const IN_PRECEDENCE: u8 = 4;
const NEG_PRECEDENCE: u8 = 8;

impl Expr {
    pub fn column(name: impl Into<String>) -> Expr {
        Expr::Column(name.into())
    }

    /// The columns the expression reads, in order of first use (attributes as
    /// `dimension.attribute`).
    pub fn columns(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.visit(&mut |e| {
            let name = match e {
                Expr::Column(c) => c.clone(),
                Expr::Attribute(d, a) => format!("{d}.{a}"),
                _ => return,
            };
            if !out.contains(&name) {
                out.push(name);
            }
        });
        out
    }

    /// Calls `f` on this expression and every expression inside it, parents first.
    pub fn visit(&self, f: &mut impl FnMut(&Expr)) {
        f(self);
        match self {
            Expr::Unary(_, x) => x.visit(f),
            Expr::Binary(_, l, r) => {
                l.visit(f);
                r.visit(f);
            }
            Expr::In { expr, list, .. } => {
                expr.visit(f);
                list.iter().for_each(|x| x.visit(f));
            }
            Expr::Case { arms, otherwise } => {
                for (c, v) in arms {
                    c.visit(f);
                    v.visit(f);
                }
                if let Some(o) = otherwise {
                    o.visit(f);
                }
            }
            Expr::Call(_, args) => args.iter().for_each(|x| x.visit(f)),
            Expr::Number(_)
            | Expr::Str(_)
            | Expr::Bool(_)
            | Expr::Null
            | Expr::Quantity { .. }
            | Expr::Column(_)
            | Expr::Attribute(..)
            | Expr::Unplanned(_) => {}
        }
    }

    /// The expression in the language's syntax, on one line, parenthesized where the
    /// precedence needs it.
    fn text(&self, min: u8) -> String {
        let (s, prec) = match self {
            Expr::Number(n) => (n.clone(), 10),
            Expr::Str(s) => (quote(s), 10),
            Expr::Bool(b) => (b.to_string(), 10),
            Expr::Null => ("null".to_string(), 10),
            Expr::Quantity { value, unit } => (format!("{value}{}", unit.suffix()), 10),
            Expr::Column(c) => (c.clone(), 10),
            Expr::Attribute(d, a) => (format!("{d}.{a}"), 9),
            Expr::Unplanned(text) => (text.clone(), 10),
            Expr::Call(f, args) => {
                let args: Vec<String> = args.iter().map(|a| a.text(0)).collect();
                (format!("{f}({})", args.join(", ")), 10)
            }
            Expr::Unary(UnaryOp::Not, x) => {
                (format!("not {}", x.text(NOT_PRECEDENCE)), NOT_PRECEDENCE)
            }
            Expr::Unary(UnaryOp::Neg, x) => {
                (format!("-{}", x.text(NEG_PRECEDENCE + 1)), NEG_PRECEDENCE)
            }
            Expr::Binary(op, l, r) => {
                let p = op.precedence();
                let (lmin, rmin) = if op.is_comparison() {
                    (p + 1, p + 1)
                } else if *op == BinaryOp::Coalesce {
                    (p + 1, p)
                } else {
                    (p, p + 1)
                };
                (
                    format!("{} {} {}", l.text(lmin), op.symbol(), r.text(rmin)),
                    p,
                )
            }
            Expr::In {
                expr,
                list,
                negated,
            } => {
                let items: Vec<String> = list.iter().map(|x| x.text(0)).collect();
                let kw = if *negated { "not in" } else { "in" };
                (
                    format!(
                        "{} {kw} ({})",
                        expr.text(IN_PRECEDENCE + 1),
                        items.join(", ")
                    ),
                    IN_PRECEDENCE,
                )
            }
            Expr::Case { arms, otherwise } => {
                let mut parts: Vec<String> = arms
                    .iter()
                    .map(|(c, v)| format!("{} => {}", c.text(0), v.text(0)))
                    .collect();
                if let Some(o) = otherwise {
                    parts.push(format!("else => {}", o.text(0)));
                }
                (format!("case {{ {} }}", parts.join("  ")), 10)
            }
        };
        if prec < min { format!("({s})") } else { s }
    }
}

impl std::fmt::Display for Expr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text(0))
    }
}

/// A string literal with `"`, `\` and control characters escaped.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A metric's period: `last N units`, or from the start of a calendar span to the date.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    /// `last N days|weeks|months|hours`
    Last { count: u32, unit: PeriodUnit },
    /// `to_date`, `mtd`, `ytd`, `qtd`, `wtd`
    ToDate(ToDate),
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodUnit {
    Hours,
    Days,
    Weeks,
    Months,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToDate {
    All,
    Week,
    Month,
    Quarter,
    Year,
}
