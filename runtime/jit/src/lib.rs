//! Rule kernels compiled by Cranelift.
//!
//! Tags and AIPL stages are decision lists — `case { cond => value; …; else => value }` —
//! over the numeric, boolean and string columns of a per-consumer table. This crate
//! compiles such a [`Rule`] into one native function with a single fused loop over the
//! Arrow buffers and validity bitmaps of its inputs ([`compile`] → [`Kernel`]) and wraps it
//! as a DataFusion scalar function ([`RuleUdf`]). The rule itself is data (`mj_ir::rule`):
//! the planner calls it through a placeholder, and the engine puts the kernel in its place
//! where the rule compiles. The same rule as DataFusion's own `CASE` expression
//! (`mj_plan::case::to_expr`) is the fallback when [`compile`] returns [`Unsupported`],
//! and the reference the kernel is tested against.
//!
//! # Semantics
//!
//! **Three-valued logic.** Conditions are SQL booleans: TRUE, FALSE or NULL (unknown). A
//! comparison with a NULL operand is NULL; `NOT` swaps TRUE and FALSE and keeps NULL; `AND`
//! is FALSE if any operand is FALSE, else TRUE if all are TRUE, else NULL; `OR` is TRUE if
//! any operand is TRUE, else FALSE if all are FALSE, else NULL; `IS [NOT] NULL` is never
//! NULL. The kernel carries each condition as two flags, `is_true` and `is_false` (both
//! clear = NULL): a comparison gives `(valid ∧ c, valid ∧ ¬c)`, `NOT` swaps the flags,
//! `AND` is `(∧ is_true, ∨ is_false)` and `OR` is `(∨ is_true, ∧ is_false)`. A row takes
//! the first branch whose condition is TRUE; FALSE and NULL both pass it on.
//!
//! **Numbers.** Int64 `+ - *` and negation wrap on overflow, which is what DataFusion's
//! default (non-`fail_on_overflow`) arithmetic kernels do. Mixing Int64 and Float64
//! converts the integer (`as f64`). Division is always Float64 and is NULL when the
//! divisor is `+0.0` (an integer 0 included): DataFusion's fallback is
//! `cast(a as double) / nullif(cast(b as double), 0.0)`, and since Arrow's float equality
//! is bitwise, a divisor of `-0.0` is *not* NULL there either and gives ±∞ or NaN.
//! Nothing traps.
//!
//! **Float order.** DataFusion 55 compares floats with Arrow's kernels, which order by
//! `f64::total_cmp` (`-NaN < -∞ < … < -0.0 < +0.0 < … < +∞ < NaN`, `=` bitwise), after
//! turning `-0.0` into `+0.0` (`apply_cmp`'s `normalize_float_zero`). So `NaN = NaN` is
//! TRUE, `NaN > +∞` is TRUE, `-0.0 = 0.0` is TRUE and `-0.0 < 0.0` is FALSE; float `IN`
//! lists use the same equality. Cranelift's `fcmp` is IEEE, so the kernel compares the
//! integer key `b ^ ((b >> 63) as u64 >> 1)` of the normalized bits `b` instead.
//! (`nullif(b, 0.0)` compares without normalizing, hence the `-0.0` divisor above.)
//!
//! **Strings.** Only equality and `IN` against literals: before the kernel runs, each
//! string input (Utf8, LargeUtf8, Utf8View or a dictionary of these, with any key type)
//! becomes an `i32` code per row — the index of the row's value among the literals the
//! rule compares that input with, or `-1` for any other string — and the kernel compares
//! codes; NULL comes from the input's (logical) validity. Equality is bytewise. Strings of
//! at most 8 bytes are matched by length and one 64-bit word, without branches; Utf8View
//! strings of at most 12 bytes straight from their views; dictionaries once per
//! dictionary value. A Utf8 output is written as indices into the rule's distinct output
//! strings (`table.len()` for NULL) and turned into a `StringArray` afterwards.
//!
//! **Types at the boundary.** The UDF accepts any string type for a Utf8 input as it is,
//! and has DataFusion cast integers to Int64 and numbers to Float64 inputs;
//! `to_expr` casts its numeric and Boolean arguments to the rule's types likewise, so
//! both mean the same on narrower columns.
//!
//! # What is compiled
//!
//! Every well-typed rule. [`compile`] returns [`Unsupported`] for rules that refer to a
//! missing input, use a column of the wrong type (a number as a condition, a non-string in
//! a string comparison, …), or give a value of another type than the output except Int64
//! into Float64 (a Float64 value for an Int64 output, a Boolean for a Utf8 output, a
//! string input passed through); `to_expr` still builds those (with casts, where
//! DataFusion decides), and the engine falls back to it with the reason. Rules the IR
//! cannot express (string order, `LIKE`, functions) are the caller's to route to
//! DataFusion.
//!
//! # Kernel ABI
//!
//! `extern "C" fn(len: i64, args: *const u64, out_values: *mut u8, out_validity: *mut u64)`
//!
//! Bitmaps are passed as 64-bit words with row `i` at bit `i % 64` of word `i / 64`
//! (Arrow's layout from a bit offset of 0; the wrapper shares an array's bitmap when its
//! offset is a multiple of 64 and its buffer is aligned and long enough, and copies it
//! otherwise). `args` holds three words per input: the values pointer (`len` `i64`/`f64`
//! elements, a bitmap for Boolean, `len` `i32` codes for Utf8), the validity bitmap
//! pointer, and a mask applied to the byte offset of the validity word (all ones; or zero,
//! with the pointer at a static all-ones word, when the array has no null bitmap — so the
//! loop never branches on it). Inputs the rule does not read get dummy descriptors. The
//! kernel writes `len` elements of `i64`, `f64` or `i32` (Utf8 codes) to `out_values`,
//! or for Boolean outputs a bitmap, and the output validity as a bitmap; NULL rows write
//! 0 (Utf8: the NULL code) and a 0 value bit.
//!
//! The function is two nested loops: one iteration of the outer loop per 64 rows loads
//! each input's validity (and Boolean values) word and stores the output's words; the
//! inner loop handles the rows of the chunk without branching on data: every branch's
//! condition and value are computed and combined with `select` from the last branch to
//! the first, so a row's value is the first TRUE branch's.

mod codegen;
mod kernel;
mod native;
mod udf;

pub use kernel::{Kernel, compile, compile_shared};
pub use mj_ir::rule::{
    ArithOp, CmpOp, ColType, Cond, Num, NumExpr, Operand, Rule, Unsupported, Value,
};
pub use udf::{RuleUdf, rule_of};
