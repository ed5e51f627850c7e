//! Checked expressions of the language as expressions of the IR (`mj_ir::expr`): the
//! one place where syntax becomes what the planner reads. Names become columns,
//! functions the registry's enums; what has no meaning in a row (an aggregate left in
//! place, a named argument, a metric index) becomes [`Expr::Unplanned`] with its
//! text, for the planner to refuse — the checker reports those before lowering runs.

use mj_ir::expr::{BinaryOp, Expr, Period, PeriodUnit, ToDate, UnaryOp, Unit};
use mj_lang::ast;
use mj_lang::ast::{Arg, ExprKind};

/// The IR of a lowered expression.
pub fn expr(e: &ast::Expr) -> Expr {
    let unplanned = || Expr::Unplanned(mj_lang::format::expr_text(e));
    match &e.kind {
        ExprKind::Number(n) => Expr::Number(n.clone()),
        ExprKind::Str(s) => Expr::Str(s.clone()),
        ExprKind::Bool(b) => Expr::Bool(*b),
        ExprKind::Null => Expr::Null,
        ExprKind::Quantity(q) => Expr::Quantity {
            value: format!("{}{}", if q.negative { "-" } else { "" }, q.value),
            unit: unit(q.unit),
        },
        ExprKind::Name(n) => Expr::Column(n.text.clone()),
        ExprKind::Field(base, attr) => match &base.kind {
            ExprKind::Name(d) => Expr::Attribute(d.text.clone(), attr.text.clone()),
            _ => unplanned(),
        },
        ExprKind::Index(..) => unplanned(),
        ExprKind::Call(f, args) => {
            let Some(builtin) = mj_ir::Builtin::from_name(&f.text) else {
                return unplanned();
            };
            let mut out = Vec::with_capacity(args.len());
            for a in args {
                match a {
                    Arg::Positional {
                        value,
                        filter: None,
                    } => out.push(expr(value)),
                    _ => return unplanned(),
                }
            }
            Expr::Call(builtin, out)
        }
        ExprKind::Unary(op, x) => Expr::Unary(
            match op {
                ast::UnaryOp::Not => UnaryOp::Not,
                ast::UnaryOp::Neg => UnaryOp::Neg,
            },
            Box::new(expr(x)),
        ),
        ExprKind::Binary(op, l, r) => {
            Expr::Binary(binary(*op), Box::new(expr(l)), Box::new(expr(r)))
        }
        ExprKind::In {
            expr: x,
            list,
            negated,
        } => Expr::In {
            expr: Box::new(expr(x)),
            list: list.iter().map(expr).collect(),
            negated: *negated,
        },
        ExprKind::Case { arms, otherwise } => Expr::Case {
            arms: arms
                .iter()
                .map(|a| (expr(&a.condition), expr(&a.value)))
                .collect(),
            otherwise: otherwise.as_deref().map(|o| Box::new(expr(o))),
        },
    }
}

pub fn binary(op: ast::BinaryOp) -> BinaryOp {
    use ast::BinaryOp as B;
    match op {
        B::Or => BinaryOp::Or,
        B::And => BinaryOp::And,
        B::Eq => BinaryOp::Eq,
        B::Ne => BinaryOp::Ne,
        B::Lt => BinaryOp::Lt,
        B::Le => BinaryOp::Le,
        B::Gt => BinaryOp::Gt,
        B::Ge => BinaryOp::Ge,
        B::Coalesce => BinaryOp::Coalesce,
        B::Add => BinaryOp::Add,
        B::Sub => BinaryOp::Sub,
        B::Mul => BinaryOp::Mul,
        B::Div => BinaryOp::Div,
        B::Mod => BinaryOp::Mod,
    }
}

fn unit(u: ast::QuantityUnit) -> Unit {
    use ast::QuantityUnit as Q;
    match u {
        Q::Weeks => Unit::Weeks,
        Q::Days => Unit::Days,
        Q::Hours => Unit::Hours,
        Q::Minutes => Unit::Minutes,
        Q::Seconds => Unit::Seconds,
        Q::Millis => Unit::Millis,
        Q::Kilometres => Unit::Kilometres,
        Q::Metres => Unit::Metres,
        Q::Degrees => Unit::Degrees,
        Q::Cny => Unit::Cny,
    }
}

/// A metric's period.
pub fn period(p: &ast::PeriodSpec) -> Period {
    match p {
        ast::PeriodSpec::Last { count, unit } => Period::Last {
            count: *count,
            unit: match unit {
                ast::PeriodUnit::Hours => PeriodUnit::Hours,
                ast::PeriodUnit::Days => PeriodUnit::Days,
                ast::PeriodUnit::Weeks => PeriodUnit::Weeks,
                ast::PeriodUnit::Months => PeriodUnit::Months,
            },
        },
        ast::PeriodSpec::ToDate(t) => Period::ToDate(match t {
            ast::ToDate::All => ToDate::All,
            ast::ToDate::Week => ToDate::Week,
            ast::ToDate::Month => ToDate::Month,
            ast::ToDate::Quarter => ToDate::Quarter,
            ast::ToDate::Year => ToDate::Year,
        }),
    }
}
