//! Rule kernels compiled by Cranelift.
//!
//! Tags and AIPL stages are decision lists — `case { cond => value; …; else => value }` —
//! over the numeric, boolean and string columns of a per-consumer table. This crate
//! compiles such a [`Rule`] into one native function with a single fused loop over the
//! Arrow buffers and validity bitmaps of its inputs ([`compile`] → [`Kernel`]), wraps it
//! as a DataFusion scalar function ([`RuleUdf`]), and builds the same rule as DataFusion's
//! own `CASE` expression ([`to_expr`]) — the fallback when [`compile`] returns
//! [`Unsupported`], and the reference the kernel is tested against. [`rule_call`] picks
//! one of the two.
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
//! string input (Utf8, LargeUtf8, Utf8View or a dictionary of these) becomes an `i32`
//! code per row — the index of the row's value among the literals the rule compares that
//! input with, `-1` for any other string, `-2` for NULL — and the kernel compares codes.
//! A Utf8 output is written as indices into the rule's distinct output strings and turned
//! into a `StringArray` afterwards.
//!
//! # Kernel ABI
//!
//! `extern "C" fn(len: i64, args: *const u64, out_values: *mut u8, out_validity: *mut u64)`
//!
//! `args` holds five words per input: the values pointer (`i64`/`f64` elements,
//! a bitmap for Boolean, `i32` codes for Utf8), the validity bitmap pointer, its bit
//! offset, a mask applied to `offset + row` before reading the validity bit (all ones, or
//! zero with the pointer at a static all-valid byte when the array has no null bitmap, so
//! the loop never branches on it), and the bit offset of Boolean values. Primitive value
//! pointers are already offset to row 0. The kernel writes `len` elements of `i64`, `f64`
//! or `i32` (Utf8 codes) to `out_values`, or for Boolean outputs a bitmap in 64-bit
//! words, and the output validity as a bitmap in 64-bit words; NULL rows write 0 values.
//!
//! The loop body is branch-free: every branch's condition and value are computed and
//! combined with `select` from the last branch to the first.

mod codegen;
mod expr;
mod ir;
mod kernel;
mod native;
mod udf;

pub use expr::to_expr;
pub use ir::{ArithOp, CmpOp, ColType, Cond, Num, NumExpr, Operand, Rule, Unsupported, Value};
pub use kernel::{Kernel, compile, compile_shared};
pub use udf::{RuleUdf, rule_call, rule_of};
