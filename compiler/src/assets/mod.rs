//! Lowering of consumer assets (the ADS layer): per-entity features and tags.
//!
//! Every aggregate an asset uses over a table's rows (`latest(crm_member.gender)`,
//! `top(app_event.style where event == "view", window = 90d)`, `exists(media_touch …)`,
//! `max(pay_order.paid_at)`) becomes a column of one features table per entity,
//! `ads/<entity>_features`: one row per OneID, the aggregates of each table computed in
//! one pass over it, and the entity's derived metrics (`dws_<entity>`) beside them. Tags
//! (and, later, AIPL stages, RFM scores and audiences) are then row expressions over
//! that one table — decision lists the runtime compiles to native kernels.

use mj_lang::ast::{
    Arg, BinaryOp, Derived, Expr, ExprKind, Ident, ItemKind, QuantityUnit, Span, UnaryOp,
};

pub use crate::jobs::assets::*;
use crate::jobs::{ColType, SourceJob};

/// Quick Audience's eight R/F/M segments, overridable by a `segments { }` block.
pub const DEFAULT_SEGMENTS: &[(&str, &str)] = &[
    ("HHH", "高价值"),
    ("LHH", "重点保持"),
    ("HLH", "重点发展"),
    ("LLH", "重点挽留"),
    ("HHL", "一般价值"),
    ("LHL", "一般保持"),
    ("HLL", "一般发展"),
    ("LLL", "潜在"),
];

/// What an entity's assets compute.
pub struct EntityAssets {
    pub features: FeaturesJob,
    pub tags: Option<TagsJob>,
    pub aipl: Vec<AiplJob>,
    pub rfm: Vec<RfmJob>,
    pub near: Vec<NearJob>,
    pub audiences: Option<AudiencesJob>,
    pub compares: Vec<CompareJob>,
    pub exports: Vec<ExportJob>,
}

mod entity;
mod lowering;

pub use entity::*;
use lowering::*;

/// Rows that an entity-level expression reads.
pub(crate) enum Read<'a> {
    /// An aggregate over a table's rows: `exists(media_touch where …, window = 15d)`.
    Aggregate {
        func: &'a str,
        args: &'a [Arg],
        span: Span,
    },
    /// A derived metric's rows (reached directly, or through a composite metric).
    Metric { derived: &'a Derived, span: Span },
}

impl Read<'_> {
    /// Where the expression reads it (the tag or composite metric that leads to it).
    pub(crate) fn span(&self) -> Span {
        match self {
            Read::Aggregate { span, .. } | Read::Metric { span, .. } => *span,
        }
    }
}

/// The table an aggregate reads: `media_touch` in `exists(media_touch where …)` or
/// `latest(crm_member.level)`.
pub(crate) fn aggregate_table(args: &[Arg]) -> Option<&Ident> {
    let Some(Arg::Positional { value, .. }) = args.first() else {
        return None;
    };
    match &value.kind {
        ExprKind::Field(base, _) => match &base.kind {
            ExprKind::Name(t) => Some(t),
            _ => None,
        },
        ExprKind::Name(t) => Some(t),
        _ => None,
    }
}

/// The rows `e` reads, through tags (inlined) and composite metrics (their parts).
pub(crate) fn reads<'a>(
    e: &'a Expr,
    lookup: &dyn Fn(&str) -> Option<&'a ItemKind>,
    at: Option<Span>,
    stack: &mut Vec<String>,
    out: &mut Vec<Read<'a>>,
) {
    let here = at.unwrap_or(e.span);
    match &e.kind {
        ExprKind::Call(f, args)
            if matches!(
                lookup(&f.text),
                Some(ItemKind::Function(x)) if x.flags.iter().any(|g| g.text == "aggregate")
            ) =>
        {
            out.push(Read::Aggregate {
                func: &f.text,
                args,
                span: here,
            });
        }
        ExprKind::Name(n) => match lookup(&n.text) {
            Some(ItemKind::Derived(d)) => out.push(Read::Metric {
                derived: d,
                span: here,
            }),
            Some(ItemKind::Composite(c)) if !stack.contains(&n.text) => {
                stack.push(n.text.clone());
                reads(&c.expr, lookup, Some(here), stack, out);
                stack.pop();
            }
            Some(ItemKind::Tag(t)) if !stack.contains(&n.text) => {
                stack.push(n.text.clone());
                reads(&t.expr, lookup, Some(here), stack, out);
                stack.pop();
            }
            _ => {}
        },
        ExprKind::Field(b, _) | ExprKind::Index(b, _) | ExprKind::Unary(_, b) => {
            reads(b, lookup, at, stack, out)
        }
        ExprKind::Binary(_, l, r) => {
            reads(l, lookup, at, stack, out);
            reads(r, lookup, at, stack, out);
        }
        ExprKind::In { expr, list, .. } => {
            reads(expr, lookup, at, stack, out);
            for x in list {
                reads(x, lookup, at, stack, out);
            }
        }
        ExprKind::Case { arms, otherwise } => {
            for a in arms {
                reads(&a.condition, lookup, at, stack, out);
                reads(&a.value, lookup, at, stack, out);
            }
            if let Some(o) = otherwise {
                reads(o, lookup, at, stack, out);
            }
        }
        ExprKind::Call(_, args) => {
            for a in args {
                match a {
                    Arg::Positional { value, .. } => reads(value, lookup, at, stack, out),
                    Arg::Named(n) => reads(&n.value, lookup, at, stack, out),
                }
            }
        }
        _ => {}
    }
}

/// The conditions through which `e` can hold: its parts joined by `and` and `or`,
/// but those under a `not`.
pub(crate) fn positive_conditions<'a>(e: &'a Expr, positive: bool, out: &mut Vec<&'a Expr>) {
    match &e.kind {
        ExprKind::Binary(BinaryOp::And | BinaryOp::Or, l, r) => {
            positive_conditions(l, positive, out);
            positive_conditions(r, positive, out);
        }
        ExprKind::Unary(UnaryOp::Not, x) => positive_conditions(x, !positive, out),
        _ if positive => out.push(e),
        _ => {}
    }
}
