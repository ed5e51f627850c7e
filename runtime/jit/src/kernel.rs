//! Compiled kernels and their evaluation over Arrow arrays.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, Weak};
use std::time::{Duration, Instant};

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, DictionaryArray, Float64Array, GenericStringArray,
    Int64Array, OffsetSizeTrait, StringArray, StringViewArray, downcast_dictionary_array,
};
use arrow::buffer::{BooleanBuffer, Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow::datatypes::{ArrowDictionaryKeyType, ArrowNativeType, DataType, Float64Type, Int64Type};
use datafusion::common::{DataFusionError, Result, exec_err};

use crate::codegen::{NO_MATCH, Plan};
use crate::native::{Code, Column, Out};
use mj_ir::rule::{ColType, Rule, Unsupported};

/// A rule compiled to machine code.
pub struct Kernel {
    rule: Rule,
    plan: Plan,
    code: Code,
    compile_time: Duration,
}

impl std::fmt::Debug for Kernel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kernel")
            .field("rule", &self.rule.name)
            .field("compile_time", &self.compile_time)
            .finish_non_exhaustive()
    }
}

/// Compiles a rule, or says why it is not compiled (the caller then uses
/// `mj_plan::case::to_expr`).
pub fn compile(rule: &Rule) -> Result<Kernel, Unsupported> {
    let start = Instant::now();
    let plan = Plan::new(rule);
    let code = Code::compile(rule, &plan)?;
    Ok(Kernel {
        rule: rule.clone(),
        plan,
        code,
        compile_time: start.elapsed(),
    })
}

/// Kernels alive anywhere in the process, by their rule's JSON: compiling the same rule
/// twice (a plan decoded again, the same tag in two queries) shares the code.
static CACHE: LazyLock<Mutex<HashMap<String, Weak<Kernel>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// [`compile`], shared: returns the live kernel of an equal rule if there is one.
pub fn compile_shared(rule: &Rule) -> Result<Arc<Kernel>, Unsupported> {
    let json = rule.to_json();
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(k) = cache.get(&json).and_then(Weak::upgrade) {
        return Ok(k);
    }
    let k = Arc::new(compile(rule)?);
    cache.retain(|_, w| w.strong_count() > 0);
    cache.insert(json, Arc::downgrade(&k));
    Ok(k)
}

/// A bitmap as 64-bit words from row 0: shared with the array when it is aligned that
/// way, else copied.
enum Words {
    Shared(Buffer),
    Owned(Vec<u64>),
}

impl Words {
    fn new(b: &BooleanBuffer) -> Words {
        let words = b.len().div_ceil(64);
        if b.offset().is_multiple_of(64) {
            let start = b.offset() / 8;
            let inner = b.inner();
            if inner.len() >= start + words * 8 {
                let shared = inner.slice_with_length(start, words * 8);
                if (shared.as_ptr() as usize).is_multiple_of(std::mem::align_of::<u64>()) {
                    return Words::Shared(shared);
                }
            }
        }
        Words::Owned(b.bit_chunks().iter_padded().collect())
    }

    fn of(n: Option<&NullBuffer>) -> Option<Words> {
        n.map(|n| Words::new(n.inner()))
    }

    fn slice(w: &Option<Words>) -> Option<&[u64]> {
        w.as_ref().map(Words::as_slice)
    }

    fn as_slice(&self) -> &[u64] {
        match self {
            Words::Shared(b) => b.typed_data::<u64>(),
            Words::Owned(v) => v,
        }
    }
}

/// An input prepared for the kernel.
enum Prepared {
    Unused,
    /// Int64 or Float64, in that type, and its validity.
    Array(ArrayRef, Option<Words>),
    Boolean(Words, Option<Words>),
    Utf8(Option<Vec<i32>>, Option<Words>),
}

impl Kernel {
    /// The rule this kernel computes.
    pub fn rule(&self) -> &Rule {
        &self.rule
    }

    /// How long Cranelift took (planning, code generation and finalization).
    pub fn compile_time(&self) -> Duration {
        self.compile_time
    }

    /// Evaluates the rule over `args` (one array per input, all of the same length).
    pub fn eval(&self, args: &[ArrayRef]) -> Result<ArrayRef> {
        let len = match args.first() {
            Some(a) => a.len(),
            None => return exec_err!("rule `{}` without inputs needs a row count", self.rule.name),
        };
        self.eval_rows(args, len)
    }

    /// Evaluates the rule over `len` rows of `args`.
    pub fn eval_rows(&self, args: &[ArrayRef], len: usize) -> Result<ArrayRef> {
        let rule = &self.rule;
        if args.len() != rule.inputs.len() {
            return exec_err!(
                "rule `{}` takes {} arguments, got {}",
                rule.name,
                rule.inputs.len(),
                args.len()
            );
        }
        let mut prepared = Vec::with_capacity(args.len());
        for (k, (a, (name, t))) in args.iter().zip(&rule.inputs).enumerate() {
            if a.len() != len {
                return exec_err!(
                    "argument `{name}` of rule `{}` has {} rows, expected {len}",
                    rule.name,
                    a.len()
                );
            }
            if !self.plan.used[k] {
                prepared.push(Prepared::Unused);
                continue;
            }
            prepared.push(match t {
                ColType::Utf8 => {
                    let table = &self.plan.tables[k];
                    let codes = if table.is_empty() {
                        None
                    } else {
                        Some(codes(a.as_ref(), &Matcher::new(table))?)
                    };
                    Prepared::Utf8(codes, Words::of(a.logical_nulls().as_ref()))
                }
                t => {
                    let dt = t.data_type();
                    let a = if *a.data_type() == dt {
                        Arc::clone(a)
                    } else {
                        arrow::compute::cast(a, &dt)?
                    };
                    if *t == ColType::Boolean {
                        let b = a.as_boolean();
                        Prepared::Boolean(Words::new(b.values()), Words::of(b.nulls()))
                    } else {
                        let n = Words::of(a.nulls());
                        Prepared::Array(a, n)
                    }
                }
            });
        }
        let columns: Vec<Column<'_>> = prepared
            .iter()
            .zip(&self.plan.inputs)
            .map(|(p, t)| match (p, t) {
                (Prepared::Unused, _) => Column::Unused,
                (Prepared::Utf8(c, n), _) => Column::Utf8(c.as_deref(), Words::slice(n)),
                (Prepared::Boolean(v, n), _) => Column::Boolean(v.as_slice(), Words::slice(n)),
                (Prepared::Array(a, n), ColType::Int64) => {
                    Column::Int64(a.as_primitive::<Int64Type>().values(), Words::slice(n))
                }
                (Prepared::Array(a, n), _) => {
                    Column::Float64(a.as_primitive::<Float64Type>().values(), Words::slice(n))
                }
            })
            .collect();

        let mut validity = vec![0u64; len.div_ceil(64)];
        let nulls = |validity: Vec<u64>| {
            let n = NullBuffer::new(BooleanBuffer::new(Buffer::from_vec(validity), 0, len));
            (n.null_count() > 0).then_some(n)
        };
        Ok(match self.plan.output {
            ColType::Int64 => {
                let mut out = vec![0i64; len];
                self.code
                    .run(len, &columns, Out::Int64(&mut out), &mut validity);
                Arc::new(Int64Array::new(ScalarBuffer::from(out), nulls(validity)))
            }
            ColType::Float64 => {
                let mut out = vec![0f64; len];
                self.code
                    .run(len, &columns, Out::Float64(&mut out), &mut validity);
                Arc::new(Float64Array::new(ScalarBuffer::from(out), nulls(validity)))
            }
            ColType::Boolean => {
                let mut out = vec![0u64; len.div_ceil(64)];
                self.code
                    .run(len, &columns, Out::Boolean(&mut out), &mut validity);
                let values = BooleanBuffer::new(Buffer::from_vec(out), 0, len);
                Arc::new(BooleanArray::new(values, nulls(validity)))
            }
            ColType::Utf8 => {
                let mut out = vec![0i32; len];
                self.code
                    .run(len, &columns, Out::Codes(&mut out), &mut validity);
                Arc::new(strings(&out, nulls(validity), &self.plan.out_table)?)
            }
        })
    }
}

/// The Utf8 output: row `i` is `table[codes[i]]`; NULL rows have the code
/// `table.len()`.
fn strings(codes: &[i32], nulls: Option<NullBuffer>, table: &[String]) -> Result<StringArray> {
    let texts: Vec<&[u8]> = table
        .iter()
        .map(|s| s.as_bytes())
        .chain(std::iter::once(&b""[..]))
        .collect();
    let lens: Vec<usize> = texts.iter().map(|t| t.len()).collect();
    let mut offsets = Vec::with_capacity(codes.len() + 1);
    offsets.push(0i32);
    let mut total = 0usize;
    for c in codes {
        total += lens[*c as usize];
        offsets.push(total as i32);
    }
    if i32::try_from(total).is_err() {
        return exec_err!("the strings of a rule's output exceed 2 GiB; use smaller batches");
    }
    let mut bytes = Vec::with_capacity(total + 16);
    if lens.iter().all(|l| *l <= 16) {
        // Short strings: copy a fixed 16 bytes (one inlined move) and cut to length.
        let padded: Vec<[u8; 16]> = texts
            .iter()
            .map(|t| {
                let mut p = [0u8; 16];
                p[..t.len()].copy_from_slice(t);
                p
            })
            .collect();
        for c in codes {
            let c = *c as usize;
            let end = bytes.len() + lens[c];
            bytes.extend_from_slice(&padded[c]);
            bytes.truncate(end);
        }
    } else {
        for c in codes {
            bytes.extend_from_slice(texts[*c as usize]);
        }
    }
    StringArray::try_new(
        OffsetBuffer::new(ScalarBuffer::from(offsets)),
        Buffer::from_vec(bytes),
        nulls,
    )
    .map_err(DataFusionError::from)
}

/// `MASKS[n]` keeps the low `n` bytes of a u64.
const MASKS: [u64; 9] = [
    0,
    0xff,
    0xffff,
    0xff_ffff,
    0xffff_ffff,
    0xff_ffff_ffff,
    0xffff_ffff_ffff,
    0xff_ffff_ffff_ffff,
    u64::MAX,
];

/// The first `min(len, 8)` bytes of `data[start..start + len]` as a little-endian u64,
/// zero padded.
#[inline]
fn head(data: &[u8], start: usize, len: usize) -> u64 {
    let n = len.min(8);
    let word = match data.get(start..start + 8) {
        Some(w) => u64::from_le_bytes(w.try_into().expect("8 bytes")),
        None => {
            let mut buf = [0u8; 8];
            buf[..n].copy_from_slice(&data[start..start + n]);
            u64::from_le_bytes(buf)
        }
    };
    word & MASKS[n]
}

/// A literal of at most 8 bytes: its length and bytes as a u64 (its code is its
/// position).
struct Short {
    len: usize,
    head: u64,
}

/// A longer literal: also the bytes after the first 8.
struct Long<'a> {
    code: i32,
    len: usize,
    head: u64,
    rest: &'a [u8],
}

/// Finds a string among an input's literals.
enum Matcher<'a> {
    /// Few literals: every one compared, by length and first 8 bytes (without branches
    /// for literals of at most 8 bytes, so that random data costs no mispredictions).
    Scan(Vec<Short>, Vec<Long<'a>>),
    Hash(HashMap<&'a [u8], i32>),
}

impl<'a> Matcher<'a> {
    fn new(table: &'a [String]) -> Matcher<'a> {
        let short_first = table.windows(2).all(|w| w[0].len() <= 8 || w[1].len() > 8);
        if table.len() > 16 || !short_first {
            return Matcher::Hash(
                table
                    .iter()
                    .enumerate()
                    .map(|(k, s)| (s.as_bytes(), k as i32))
                    .collect(),
            );
        }
        let (mut short, mut long) = (Vec::new(), Vec::new());
        for (k, s) in table.iter().enumerate() {
            let (b, code) = (s.as_bytes(), k as i32);
            let h = head(b, 0, b.len());
            if b.len() <= 8 {
                short.push(Short {
                    len: b.len(),
                    head: h,
                });
            } else {
                long.push(Long {
                    code,
                    len: b.len(),
                    head: h,
                    rest: &b[8..],
                });
            }
        }
        Matcher::Scan(short, long)
    }

    /// The code of `data[start..start + len]` among the short literals, which are the
    /// first codes of the table (see [`Plan::new`]): no branches, and the code is the
    /// position, so that the compiler keeps it in a register.
    #[inline]
    fn short_code(short: &[Short], data: &[u8], start: usize, len: usize) -> i32 {
        let h = head(data, start, len);
        let mut code = NO_MATCH;
        for (k, l) in short.iter().enumerate() {
            let m = (l.len == len) & (l.head == h);
            code = if m { k as i32 } else { code };
        }
        code
    }

    /// The code of `data[start..end]`.
    #[inline]
    fn code_at(&self, data: &[u8], start: usize, end: usize) -> i32 {
        match self {
            Matcher::Scan(short, long) => {
                let len = end - start;
                let h = head(data, start, len);
                let mut code = Self::short_code(short, data, start, len);
                for l in long {
                    if l.len == len && l.head == h && *l.rest == data[start + 8..end] {
                        code = l.code;
                    }
                }
                code
            }
            Matcher::Hash(h) => h.get(&data[start..end]).copied().unwrap_or(NO_MATCH),
        }
    }

    fn code(&self, s: &[u8]) -> i32 {
        self.code_at(s, 0, s.len())
    }
}

/// Per row of a string array, the index of its value among the literals, or
/// [`NO_MATCH`] (NULL rows: anything; the kernel reads the validity).
fn codes(a: &dyn Array, m: &Matcher<'_>) -> Result<Vec<i32>> {
    fn offsets<O: OffsetSizeTrait>(a: &GenericStringArray<O>, m: &Matcher<'_>) -> Vec<i32> {
        let data = a.value_data();
        let mut out = vec![NO_MATCH; a.len()];
        let rows = out.iter_mut().zip(a.value_offsets().windows(2));
        match m {
            // The common case gets its own loop: short literals only, no branches.
            Matcher::Scan(short, long) if long.is_empty() => {
                for (o, w) in rows {
                    let (start, end) = (w[0].as_usize(), w[1].as_usize());
                    *o = Matcher::short_code(short, data, start, end - start);
                }
            }
            _ => {
                for (o, w) in rows {
                    *o = m.code_at(data, w[0].as_usize(), w[1].as_usize());
                }
            }
        }
        out
    }
    fn views(a: &StringViewArray, m: &Matcher<'_>) -> Vec<i32> {
        let mut out = vec![NO_MATCH; a.len()];
        for (i, (o, v)) in out.iter_mut().zip(a.views().iter()).enumerate() {
            let len = *v as u32 as usize;
            *o = if len <= 12 {
                // Inline: the bytes follow the length in the view itself.
                m.code_at(&v.to_le_bytes()[4..], 0, len)
            } else if a.is_valid(i) {
                m.code(a.value(i).as_bytes())
            } else {
                NO_MATCH
            };
        }
        out
    }
    fn keys<K: ArrowDictionaryKeyType>(
        d: &DictionaryArray<K>,
        m: &Matcher<'_>,
    ) -> Result<Vec<i32>> {
        let values = codes(d.values().as_ref(), m)?;
        Ok(d.keys()
            .values()
            .iter()
            .map(|k| values.get(k.as_usize()).copied().unwrap_or(NO_MATCH))
            .collect())
    }
    Ok(match a.data_type() {
        DataType::Utf8 => offsets(a.as_string::<i32>(), m),
        DataType::LargeUtf8 => offsets(a.as_string::<i64>(), m),
        DataType::Utf8View => views(a.as_string_view(), m),
        DataType::Null => vec![NO_MATCH; a.len()],
        DataType::Dictionary(_, _) => downcast_dictionary_array! {
            a => keys(a, m)?,
            t => return exec_err!("a string argument of type {t} is not supported"),
        },
        other => {
            return exec_err!("a string argument of type {other} is not supported");
        }
    })
}
