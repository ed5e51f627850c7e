//! Expressions: printed at a minimum precedence, parenthesized where needed, and the
//! one-line forms other modules use (`expr_text`, `quote`).

use super::{Printer, idents, width};
use crate::ast::*;

impl Printer<'_> {
    // ------------------------------------------------------------------ expressions

    /// Prints an expression; `min` is the weakest binding power allowed without
    /// parentheses at this position.
    pub(super) fn expr(&mut self, e: &Expr, min: u8) -> String {
        let (s, prec) = match &e.kind {
            ExprKind::Number(n) => (n.clone(), 10),
            ExprKind::Str(s) => (quote(s), 10),
            ExprKind::Bool(b) => (b.to_string(), 10),
            ExprKind::Null => ("null".to_string(), 10),
            ExprKind::Quantity(q) => (quantity(q), 10),
            ExprKind::Name(n) => (n.text.clone(), 10),
            ExprKind::Field(base, f) => (format!("{}.{}", self.expr(base, 9), f.text), 9),
            ExprKind::Index(base, names) => {
                (format!("{}[{}]", self.expr(base, 9), idents(names)), 9)
            }
            ExprKind::Call(f, args) => {
                let parts: Vec<String> = args
                    .iter()
                    .map(|a| match a {
                        Arg::Positional { value, filter } => {
                            let mut s = self.expr(value, 0);
                            if let Some(w) = filter {
                                s.push_str(" where ");
                                s.push_str(&self.expr(w, 0));
                            }
                            s
                        }
                        Arg::Named(n) => format!("{} = {}", n.name.text, self.expr(&n.value, 0)),
                    })
                    .collect();
                (format!("{}({})", f.text, parts.join(", ")), 10)
            }
            ExprKind::Unary(UnaryOp::Not, x) => (
                format!("not {}", self.expr(x, NOT_PRECEDENCE)),
                NOT_PRECEDENCE,
            ),
            ExprKind::Unary(UnaryOp::Neg, x) => (
                format!("-{}", self.expr(x, NEG_PRECEDENCE + 1)),
                NEG_PRECEDENCE,
            ),
            ExprKind::Binary(op, l, r) => {
                let p = op.precedence();
                let (lmin, rmin) = if op.is_comparison() {
                    (p + 1, p + 1)
                } else if *op == BinaryOp::Coalesce {
                    (p + 1, p)
                } else {
                    (p, p + 1)
                };
                (
                    format!(
                        "{} {} {}",
                        self.expr(l, lmin),
                        op.symbol(),
                        self.expr(r, rmin)
                    ),
                    p,
                )
            }
            ExprKind::In {
                expr,
                list,
                negated,
            } => {
                let items: Vec<String> = list.iter().map(|x| self.expr(x, 0)).collect();
                let kw = if *negated { "not in" } else { "in" };
                (
                    format!(
                        "{} {kw} ({})",
                        self.expr(expr, IN_PRECEDENCE + 1),
                        items.join(", ")
                    ),
                    IN_PRECEDENCE,
                )
            }
            ExprKind::Case { arms, otherwise } => (self.case(arms, otherwise.as_deref()), 10),
        };
        if prec < min { format!("({s})") } else { s }
    }

    pub(super) fn case(&mut self, arms: &[CaseArm], otherwise: Option<&Expr>) -> String {
        // The case body is written into a scratch buffer at one more level of
        // indentation, so that comments inside it land in the right place.
        let saved = std::mem::take(&mut self.out);
        self.indent += 1;
        let conds: Vec<String> = arms.iter().map(|a| self.expr(&a.condition, 0)).collect();
        let widest = conds
            .iter()
            .map(|c| width(c))
            .chain(otherwise.map(|_| 4))
            .max()
            .unwrap_or(0);
        self.out.push_str("case {\n");
        let mut prev = None;
        for (arm, cond) in arms.iter().zip(&conds) {
            let value = self.expr(&arm.value, 0);
            let pad = widest.saturating_sub(width(cond));
            self.stmt(
                arm.span,
                &mut prev,
                &format!("{cond}{} => {value}", " ".repeat(pad)),
            );
        }
        if let Some(o) = otherwise {
            let value = self.expr(o, 0);
            self.stmt(
                o.span,
                &mut prev,
                &format!("else{} => {value}", " ".repeat(widest.saturating_sub(4))),
            );
        }
        self.indent -= 1;
        self.pad();
        self.out.push('}');
        std::mem::replace(&mut self.out, saved)
    }
}

pub(super) fn flatten(e: &Expr, op: BinaryOp) -> Vec<&Expr> {
    match &e.kind {
        ExprKind::Binary(o, l, r) if *o == op => {
            let mut v = flatten(l, op);
            v.push(r);
            v
        }
        _ => vec![e],
    }
}

/// Prints an option value (a literal in practice) without needing a printer.
pub(super) fn simple_expr(e: &Expr) -> String {
    let mut p = Printer {
        out: String::new(),
        indent: 0,
        comments: &[],
        next: 0,
        text: "",
        align: None,
    };
    p.expr(e, 0)
}

pub(super) fn quantity(q: &Quantity) -> String {
    format!(
        "{}{}{}",
        if q.negative { "-" } else { "" },
        q.value,
        q.unit.suffix()
    )
}

/// One expression in canonical form, on one line (for reports and messages).
pub fn expr_text(e: &Expr) -> String {
    let mut p = Printer {
        out: String::new(),
        indent: 0,
        comments: &[],
        next: 0,
        text: "",
        align: None,
    };
    p.expr(e, 0)
}

/// A string literal with `"`, `\` and control characters escaped.
pub fn quote(s: &str) -> String {
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
