//! The only unsafe code of the crate: owning generated machine code and calling it.
//!
//! [`Code::run`] takes Rust slices, checks that each is long enough for the number of
//! rows and has the type the kernel was compiled for, and only then passes raw pointers
//! to the kernel. The kernel reads `len` elements (bitmaps: `ceil(len / 64)` words) of
//! each input and writes as much of each output, nothing else.
#![allow(unsafe_code)]

use std::mem::ManuallyDrop;

use cranelift_jit::JITModule;

use crate::codegen::{self, Plan, WORDS_PER_INPUT};
use mj_ir::rule::{ColType, Rule, Unsupported};

/// `fn(len, args, out_values, out_validity)`, see the crate documentation.
type KernelFn = unsafe extern "C" fn(i64, *const u64, *mut u8, *mut u64);

/// One input column as the kernel reads it. Bitmaps are 64-bit words starting at row 0
/// (bit `i % 64` of word `i / 64`); `None` means every row is valid.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Column<'a> {
    /// An input the rule does not read.
    Unused,
    Int64(&'a [i64], Option<&'a [u64]>),
    Float64(&'a [f64], Option<&'a [u64]>),
    Boolean(&'a [u64], Option<&'a [u64]>),
    /// String codes (absent when the rule compares the input with no literal).
    Utf8(Option<&'a [i32]>, Option<&'a [u64]>),
}

/// The output buffers the kernel writes.
pub(crate) enum Out<'a> {
    Int64(&'a mut [i64]),
    Float64(&'a mut [f64]),
    /// Bit-packed, in 64-bit words.
    Boolean(&'a mut [u64]),
    Codes(&'a mut [i32]),
}

/// What a validity word is read from when a column has no bitmap: every bit set, read
/// at offset 0 through a zero mask.
static ALL_VALID: u64 = u64::MAX;

/// Generated machine code, with the module that owns its memory.
pub(crate) struct Code {
    module: ManuallyDrop<JITModule>,
    func: KernelFn,
    inputs: Vec<ColType>,
    /// Per input, whether the kernel reads it.
    used: Vec<bool>,
    /// Per input, whether the kernel reads string codes for it.
    codes: Vec<bool>,
    output: ColType,
}

// SAFETY: the module is only touched again in `Drop` (which has exclusive access); the
// generated function is reentrant (it has no state: it reads its arguments and writes its
// outputs), so it may be called from any number of threads at once.
unsafe impl Send for Code {}
// SAFETY: see `Send`: `&Code` only gives access to calling the stateless function.
unsafe impl Sync for Code {}

impl Code {
    /// Compiles `rule` (with its `plan`) to machine code.
    pub(crate) fn compile(rule: &Rule, plan: &Plan) -> Result<Code, Unsupported> {
        let (module, func) = codegen::compile(rule, plan)?;
        // SAFETY: `codegen::compile` returns the address of a finalized function of
        // `module` with the signature `(i64, i64, i64, i64)` in the target's default (C)
        // calling convention, which is `KernelFn`'s ABI (pointers are 64-bit there); the
        // module is kept (and its code mapped) until `Drop`.
        let func = unsafe { std::mem::transmute::<*const u8, KernelFn>(func) };
        Ok(Code {
            module: ManuallyDrop::new(module),
            func,
            inputs: plan.inputs.clone(),
            used: plan.used.clone(),
            codes: plan.tables.iter().map(|t| !t.is_empty()).collect(),
            output: plan.output,
        })
    }

    /// Runs the kernel over `len` rows. Panics if a buffer is too short or of the wrong
    /// type (a bug of the caller, checked before any code runs).
    pub(crate) fn run(
        &self,
        len: usize,
        columns: &[Column<'_>],
        out: Out<'_>,
        validity: &mut [u64],
    ) {
        assert_eq!(columns.len(), self.inputs.len(), "kernel argument count");
        assert!(
            validity.len() >= len.div_ceil(64),
            "validity output too short"
        );
        let len_i64 = i64::try_from(len).expect("row count fits in i64");
        let words = len.div_ceil(64);
        let mut args: Vec<u64> = Vec::with_capacity(columns.len() * WORDS_PER_INPUT);
        let bitmap = |b: &Option<&[u64]>| match b {
            Some(b) => {
                assert!(b.len() >= words, "validity bitmap too short");
                [b.as_ptr() as u64, u64::MAX]
            }
            None => [&raw const ALL_VALID as u64, 0],
        };
        let unused = [&raw const ALL_VALID as u64, &raw const ALL_VALID as u64, 0];
        for (k, (c, t)) in columns.iter().zip(&self.inputs).enumerate() {
            if !self.used[k] {
                args.extend(unused);
                continue;
            }
            let (values, validity) = match (c, t) {
                (Column::Int64(v, n), ColType::Int64) => {
                    assert!(v.len() >= len, "Int64 input too short");
                    (v.as_ptr() as u64, bitmap(n))
                }
                (Column::Float64(v, n), ColType::Float64) => {
                    assert!(v.len() >= len, "Float64 input too short");
                    (v.as_ptr() as u64, bitmap(n))
                }
                (Column::Boolean(v, n), ColType::Boolean) => {
                    assert!(v.len() >= words, "Boolean input too short");
                    (v.as_ptr() as u64, bitmap(n))
                }
                (Column::Utf8(v, n), ColType::Utf8) => match v {
                    Some(v) => {
                        assert!(v.len() >= len, "string codes too short");
                        (v.as_ptr() as u64, bitmap(n))
                    }
                    None => {
                        assert!(!self.codes[k], "string codes missing");
                        (&raw const ALL_VALID as u64, bitmap(n))
                    }
                },
                (c, t) => panic!("kernel input of type {t:?} given {c:?}"),
            };
            args.extend([values, validity[0], validity[1]]);
        }
        let out_ptr = match (out, self.output) {
            (Out::Int64(v), ColType::Int64) => {
                assert!(v.len() >= len, "Int64 output too short");
                v.as_mut_ptr() as *mut u8
            }
            (Out::Float64(v), ColType::Float64) => {
                assert!(v.len() >= len, "Float64 output too short");
                v.as_mut_ptr() as *mut u8
            }
            (Out::Boolean(v), ColType::Boolean) => {
                assert!(v.len() >= words, "Boolean output too short");
                v.as_mut_ptr() as *mut u8
            }
            (Out::Codes(v), ColType::Utf8) => {
                assert!(v.len() >= len, "Utf8 output too short");
                v.as_mut_ptr() as *mut u8
            }
            (_, t) => panic!("kernel output of type {t:?} given another buffer"),
        };
        // SAFETY: every pointer in `args` and the two output pointers come from live
        // slices (or the static `ALL_VALID`) borrowed for this call, checked above to hold
        // `len` rows of the type the kernel was compiled for: `len` elements of values and
        // codes, `ceil(len / 64)` words of bitmaps. The kernel reads those (absent bitmaps:
        // the word `ALL_VALID` through a zero mask; unused inputs: nothing; string inputs
        // without codes: only the validity), writes `len` elements (Boolean: words) of
        // `out_values` and `ceil(len / 64)` words of `validity`, with natural alignment
        // (slices of i64/f64/i32/u64 are aligned), never traps (no integer division; float
        // division is IEEE) and keeps no pointer after returning. The outputs are exclusive
        // borrows, so nothing else observes the writes.
        unsafe { (self.func)(len_i64, args.as_ptr(), out_ptr, validity.as_mut_ptr()) }
    }
}

impl Drop for Code {
    fn drop(&mut self) {
        // SAFETY: `Drop` has exclusive access, so no call of `func` is running, and `func`
        // is dropped with `self`, so it is never called after its memory is freed. The
        // module is taken exactly once.
        unsafe { ManuallyDrop::take(&mut self.module).free_memory() }
    }
}
