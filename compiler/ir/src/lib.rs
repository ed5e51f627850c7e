//! The typed model between the compiler and the runtime.
//!
//! What the planner emits and the runtime executes is described here, as data: it
//! depends on neither the language's syntax tree nor a code generator, and every type
//! serializes (serde), so a plan can carry it to another process and have it compiled
//! or evaluated there.
//!
//! - [`jobs`]: the job graph — the tables of a run, what builds each, and what
//!   each reads — as lowering leaves it for the planner and the runtime.
//! - [`expr`]: expressions as the planner reads them (resolved, no syntax).
//! - [`functions`]: the registry of aggregates and built-in functions.
//! - [`table`]: a table's identity (layer and name) and each of its forms.
//! - [`rule`]: a decision list over the columns of one table (a tag's or an AIPL
//!   stage's `case`), with its type rules. The planner calls it through a placeholder
//!   function; the engine binds a Cranelift kernel in its place, or DataFusion's
//!   `CASE`.

pub mod expr;
pub mod functions;
pub mod jobs;
pub mod rule;
pub mod table;

pub use expr::Expr;
pub use functions::{Aggregate, Builtin};
pub use jobs::{JobGraph, Node, NodeKind};
pub use table::Table;

pub use rule::{ArithOp, CmpOp, ColType, Cond, Num, NumExpr, Operand, Rule, Unsupported, Value};
