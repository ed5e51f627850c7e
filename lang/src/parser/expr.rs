//! Expressions: operators by precedence (a Pratt parser), primaries, quantities.

use pest::iterators::Pair;

use super::{Lower, PRATT, Rule};
use crate::ast::*;

impl Lower {
    // ------------------------------------------------------------------ expressions

    pub(super) fn expr(&self, pair: Pair<'_, Rule>) -> Expr {
        PRATT
            .map_primary(|p| self.primary(p))
            .map_prefix(|op, rhs| {
                let span = self.span(&op).to(rhs.span);
                let op = if op.as_rule() == Rule::op_not {
                    UnaryOp::Not
                } else {
                    UnaryOp::Neg
                };
                Expr {
                    kind: ExprKind::Unary(op, Box::new(rhs)),
                    span,
                }
            })
            .map_postfix(|lhs, op| {
                let span = lhs.span.to(self.span(&op));
                let kind = match op.as_rule() {
                    Rule::field => {
                        let name = self.ident(op.into_inner().next().expect("grammar: field name"));
                        ExprKind::Field(Box::new(lhs), name)
                    }
                    Rule::index => ExprKind::Index(
                        Box::new(lhs),
                        op.into_inner().map(|q| self.ident(q)).collect(),
                    ),
                    _ => {
                        let mut negated = false;
                        let mut list = Vec::new();
                        for q in op.into_inner() {
                            match q.as_rule() {
                                Rule::op_not_in => negated = true,
                                Rule::expr => list.push(self.expr(q)),
                                _ => {}
                            }
                        }
                        ExprKind::In {
                            expr: Box::new(lhs),
                            list,
                            negated,
                        }
                    }
                };
                Expr { kind, span }
            })
            .map_infix(|lhs, op, rhs| {
                let span = lhs.span.to(rhs.span);
                let op = match op.as_rule() {
                    Rule::op_or => BinaryOp::Or,
                    Rule::op_and => BinaryOp::And,
                    Rule::op_eq => BinaryOp::Eq,
                    Rule::op_ne => BinaryOp::Ne,
                    Rule::op_lt => BinaryOp::Lt,
                    Rule::op_le => BinaryOp::Le,
                    Rule::op_gt => BinaryOp::Gt,
                    Rule::op_ge => BinaryOp::Ge,
                    Rule::op_coalesce => BinaryOp::Coalesce,
                    Rule::op_add => BinaryOp::Add,
                    Rule::op_sub => BinaryOp::Sub,
                    Rule::op_mul => BinaryOp::Mul,
                    Rule::op_div => BinaryOp::Div,
                    _ => BinaryOp::Mod,
                };
                Expr {
                    kind: ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)),
                    span,
                }
            })
            .parse(pair.into_inner())
    }

    pub(super) fn primary(&self, pair: Pair<'_, Rule>) -> Expr {
        let span = self.span(&pair);
        let kind = match pair.as_rule() {
            Rule::expr => return self.expr(pair),
            Rule::number => ExprKind::Number(pair.as_str().to_string()),
            Rule::string => ExprKind::Str(self.string(pair).value),
            Rule::boolean => ExprKind::Bool(pair.as_str() == "true"),
            Rule::null => ExprKind::Null,
            Rule::quantity => ExprKind::Quantity(self.quantity(pair, false)),
            Rule::ident | Rule::digit_name => ExprKind::Name(self.ident(pair)),
            Rule::call => {
                let mut inner = pair.into_inner();
                let func = self.ident(inner.next().expect("grammar: callee"));
                let args = inner
                    .map(|a| {
                        if a.as_rule() == Rule::named_arg {
                            Arg::Named(self.named_arg(a))
                        } else {
                            let mut q = a.into_inner();
                            let value = self.expr(q.next().expect("grammar: argument"));
                            Arg::Positional {
                                value,
                                filter: q.next().map(|f| self.expr(f)),
                            }
                        }
                    })
                    .collect();
                ExprKind::Call(func, args)
            }
            Rule::case_expr => {
                let mut arms = Vec::new();
                let mut otherwise = None;
                for p in pair.into_inner() {
                    match p.as_rule() {
                        Rule::case_arm => {
                            let arm_span = self.span(&p);
                            let mut q = p.into_inner();
                            let condition = self.expr(q.next().expect("grammar: case condition"));
                            let value = self.expr(q.next().expect("grammar: case value"));
                            arms.push(CaseArm {
                                condition,
                                value,
                                span: arm_span,
                            });
                        }
                        Rule::case_else => {
                            otherwise = p.into_inner().next().map(|q| Box::new(self.expr(q)));
                        }
                        Rule::bad_stmt => self.bad_stmt(&p, &[("", Rule::case_arm)], "a case arm"),
                        _ => {}
                    }
                }
                ExprKind::Case { arms, otherwise }
            }
            _ => ExprKind::Null,
        };
        Expr { kind, span }
    }

    pub(super) fn named_arg(&self, pair: Pair<'_, Rule>) -> NamedArg {
        let mut inner = pair.into_inner();
        let name = self.ident(inner.next().expect("grammar: argument name"));
        NamedArg {
            name,
            value: self.expr(inner.next().expect("grammar: argument value")),
        }
    }

    pub(super) fn quantity(&self, pair: Pair<'_, Rule>, negative: bool) -> Quantity {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let value = inner
            .next()
            .map_or(String::new(), |p| p.as_str().to_string());
        let unit = inner
            .next()
            .and_then(|p| QuantityUnit::from_suffix(p.as_str()))
            .unwrap_or(QuantityUnit::Days);
        Quantity {
            negative,
            value,
            unit,
            span,
        }
    }

    pub(super) fn signed_quantity(&self, pair: Pair<'_, Rule>) -> Quantity {
        let span = self.span(&pair);
        let mut negative = false;
        let mut q = None;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::neg => negative = true,
                Rule::quantity => q = Some(self.quantity(p, false)),
                _ => {}
            }
        }
        let mut q = q.unwrap_or(Quantity {
            negative,
            value: "0".into(),
            unit: QuantityUnit::Days,
            span,
        });
        q.negative = negative;
        q.span = span;
        q
    }
}
