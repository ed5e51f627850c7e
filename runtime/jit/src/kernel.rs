//! Compiled kernels and their evaluation over Arrow arrays.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, Weak};
use std::time::{Duration, Instant};

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Float64Array, Int64Array, StringArray};
use arrow::buffer::{BooleanBuffer, Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow::datatypes::{DataType, Float64Type, Int64Type};
use datafusion::common::{DataFusionError, Result, exec_err};

use crate::codegen::{NO_MATCH, NULL_CODE, Plan};
use crate::ir::{ColType, Rule, Unsupported};
use crate::native::{Bits, Code, Column, Out};

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
/// [`crate::to_expr`]).
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

/// An input prepared for the kernel: the array in its kernel type, or string codes.
enum Prepared {
    Array(ArrayRef),
    Codes(Vec<i32>),
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
        let t0 = Instant::now();
        let mut prepared = Vec::with_capacity(args.len());
        for (k, (a, (name, t))) in args.iter().zip(&rule.inputs).enumerate() {
            if a.len() != len {
                return exec_err!(
                    "argument `{name}` of rule `{}` has {} rows, expected {len}",
                    rule.name,
                    a.len()
                );
            }
            prepared.push(match t {
                ColType::Utf8 => Prepared::Codes(codes(a.as_ref(), &self.plan.tables[k])?),
                t => {
                    let dt = t.data_type();
                    if *a.data_type() == dt {
                        Prepared::Array(Arc::clone(a))
                    } else {
                        Prepared::Array(arrow::compute::cast(a, &dt)?)
                    }
                }
            });
        }
        let columns: Vec<Column<'_>> = prepared
            .iter()
            .zip(&self.plan.inputs)
            .map(|(p, t)| match (p, t) {
                (Prepared::Codes(c), _) => Column::Codes(c),
                (Prepared::Array(a), ColType::Int64) => {
                    let a = a.as_primitive::<Int64Type>();
                    Column::Int64(a.values(), bits(a.nulls()))
                }
                (Prepared::Array(a), ColType::Float64) => {
                    let a = a.as_primitive::<Float64Type>();
                    Column::Float64(a.values(), bits(a.nulls()))
                }
                (Prepared::Array(a), _) => {
                    let a = a.as_boolean();
                    let v = a.values();
                    Column::Boolean(
                        Bits {
                            bytes: v.values(),
                            offset: v.offset(),
                        },
                        bits(a.nulls()),
                    )
                }
            })
            .collect();

        let t1 = Instant::now();
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
                if std::env::var_os("MJ_JIT_TIMING").is_some() {
                    eprintln!("prep {:?} run {:?}", t1 - t0, t1.elapsed());
                }
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
                let t2 = Instant::now();
                let r = Arc::new(strings(&out, nulls(validity), &self.plan.out_table)?);
                if std::env::var_os("MJ_JIT_TIMING").is_some() {
                    eprintln!(
                        "prep {:?} run {:?} strings {:?}",
                        t1 - t0,
                        t2 - t1,
                        t2.elapsed()
                    );
                }
                r
            }
        })
    }
}

fn bits(n: Option<&NullBuffer>) -> Option<Bits<'_>> {
    n.map(|n| Bits {
        bytes: n.validity(),
        offset: n.offset(),
    })
}

/// The Utf8 output: row `i` is `table[codes[i]]` unless NULL.
fn strings(codes: &[i32], nulls: Option<NullBuffer>, table: &[String]) -> Result<StringArray> {
    let valid = |i: usize| nulls.as_ref().is_none_or(|n| n.is_valid(i));
    let text = |code: i32| -> &str {
        usize::try_from(code)
            .ok()
            .and_then(|c| table.get(c))
            .map_or("", |s| s.as_str())
    };
    let mut total = 0usize;
    for (i, c) in codes.iter().enumerate() {
        if valid(i) {
            total += text(*c).len();
        }
    }
    if i32::try_from(total).is_err() {
        return exec_err!("the strings of a rule's output exceed 2 GiB; use smaller batches");
    }
    let mut offsets = Vec::with_capacity(codes.len() + 1);
    let mut bytes = Vec::with_capacity(total);
    offsets.push(0i32);
    for (i, c) in codes.iter().enumerate() {
        if valid(i) {
            bytes.extend_from_slice(text(*c).as_bytes());
        }
        offsets.push(bytes.len() as i32);
    }
    StringArray::try_new(
        OffsetBuffer::new(ScalarBuffer::from(offsets)),
        Buffer::from_vec(bytes),
        nulls,
    )
    .map_err(DataFusionError::from)
}

/// Finds a string among an input's literals.
enum Matcher<'a> {
    Scan(&'a [String]),
    Hash(HashMap<&'a str, i32>),
}

impl<'a> Matcher<'a> {
    fn new(table: &'a [String]) -> Matcher<'a> {
        if table.len() <= 16 {
            Matcher::Scan(table)
        } else {
            Matcher::Hash(
                table
                    .iter()
                    .enumerate()
                    .map(|(k, s)| (s.as_str(), k as i32))
                    .collect(),
            )
        }
    }

    #[inline]
    fn code(&self, s: Option<&str>) -> i32 {
        let Some(s) = s else { return NULL_CODE };
        match self {
            Matcher::Scan(t) => t
                .iter()
                .position(|x| x.as_str() == s)
                .map_or(NO_MATCH, |k| k as i32),
            Matcher::Hash(h) => h.get(s).copied().unwrap_or(NO_MATCH),
        }
    }
}

/// Per row of a string array, the index of its value in `table`, [`NO_MATCH`], or
/// [`NULL_CODE`].
fn codes(a: &dyn Array, table: &[String]) -> Result<Vec<i32>> {
    let m = Matcher::new(table);
    Ok(match a.data_type() {
        DataType::Utf8 => a.as_string::<i32>().iter().map(|s| m.code(s)).collect(),
        DataType::LargeUtf8 => a.as_string::<i64>().iter().map(|s| m.code(s)).collect(),
        DataType::Utf8View => a.as_string_view().iter().map(|s| m.code(s)).collect(),
        DataType::Null => vec![NULL_CODE; a.len()],
        DataType::Dictionary(_, _) => {
            let d = a
                .as_any_dictionary_opt()
                .ok_or_else(|| DataFusionError::Execution("not a dictionary".to_string()))?;
            let values = d.values();
            let keys = d.keys();
            if values.is_empty() {
                // Every key is NULL (there is nothing to point at).
                vec![NULL_CODE; a.len()]
            } else {
                let value_codes = codes(values.as_ref(), table)?;
                let normalized = d.normalized_keys();
                match keys.nulls() {
                    Some(n) => normalized
                        .iter()
                        .enumerate()
                        .map(|(i, k)| {
                            if n.is_valid(i) {
                                value_codes[*k]
                            } else {
                                NULL_CODE
                            }
                        })
                        .collect(),
                    None => normalized.iter().map(|k| value_codes[*k]).collect(),
                }
            }
        }
        other => {
            return exec_err!("a string argument of type {other} is not supported");
        }
    })
}
