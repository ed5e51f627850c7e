//! Cranelift code generation: one function per rule, one fused loop over the rows.
//!
//! See the crate documentation for the ABI. The body of the loop is straight-line code:
//! every condition is evaluated as a pair of flags (`is_true`, `is_false`), every branch
//! value as a pair (`value`, `valid`), and the winner is chosen with `select`s from the
//! last branch to the first, so no row branches on data.

use std::collections::HashMap;

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::types::{F64, I8, I64};
use cranelift_codegen::ir::{AbiParam, InstBuilder, MemFlagsData, Value as CValue};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{Linkage, Module, default_libcall_names};

use mj_ir::rule::{
    ArithOp, CmpOp, ColType, Cond, Const, Num, NumExpr, NumType, Operand, Rule, Unsupported, Value,
    unsupported,
};

/// Words per input in the argument array.
pub(crate) const WORDS_PER_INPUT: usize = 3;
/// The code of a string that matches none of the input's literals.
pub(crate) const NO_MATCH: i32 = -1;

/// What the wrapper needs to know to call a kernel: the literal tables of string inputs
/// and of the output.
#[derive(Clone, Debug)]
pub(crate) struct Plan {
    /// Per input, its type.
    pub inputs: Vec<ColType>,
    /// Per input, the distinct string literals it is compared with (empty unless Utf8).
    /// Code `k` in the input's code array means the row equals `tables[input][k]`.
    pub tables: Vec<Vec<String>>,
    /// The distinct output strings (Utf8 outputs): the kernel writes indices into it,
    /// and `out_table.len()` for NULL rows.
    pub out_table: Vec<String>,
    pub output: ColType,
    /// Per input, whether the rule reads it at all (unused inputs are not prepared).
    pub used: Vec<bool>,
}

impl Plan {
    pub(crate) fn new(rule: &Rule) -> Plan {
        let mut tables: Vec<Vec<String>> = vec![Vec::new(); rule.inputs.len()];
        fn add(tables: &mut [Vec<String>], input: usize, s: &str) {
            if let Some(t) = tables.get_mut(input)
                && !t.iter().any(|x| x == s)
            {
                t.push(s.to_string());
            }
        }
        fn walk(c: &Cond, tables: &mut [Vec<String>]) {
            match c {
                Cond::Not(x) => walk(x, tables),
                Cond::And(xs) | Cond::Or(xs) => xs.iter().for_each(|x| walk(x, tables)),
                Cond::IsNull(Operand::Cond(x)) | Cond::IsNotNull(Operand::Cond(x)) => {
                    walk(x, tables)
                }
                Cond::StrEq { input, lit, .. } => add(tables, *input, lit),
                Cond::StrIn { input, list, .. } => list.iter().for_each(|s| add(tables, *input, s)),
                _ => {}
            }
        }
        for (c, _) in &rule.branches {
            walk(c, &mut tables);
        }
        // Literals of at most 8 bytes first: the string matcher relies on it.
        for t in &mut tables {
            t.sort_by_key(|s| s.len() > 8);
        }
        let mut out_table: Vec<String> = Vec::new();
        let values = rule.branches.iter().map(|(_, v)| v).chain(&rule.otherwise);
        for v in values {
            if let Value::Str(s) = v
                && !out_table.contains(s)
            {
                out_table.push(s.clone());
            }
        }
        let mut used = vec![false; rule.inputs.len()];
        for (c, v) in &rule.branches {
            mark_cond(c, &mut used);
            mark_value(v, &mut used);
        }
        if let Some(v) = &rule.otherwise {
            mark_value(v, &mut used);
        }
        Plan {
            used,
            inputs: rule.inputs.iter().map(|(_, t)| *t).collect(),
            tables,
            out_table,
            output: rule.output,
        }
    }

    /// The code of literal `s` of `input` (every literal of the rule is in the table; a
    /// missing one gets a code no row has, never [`NO_MATCH`]).
    fn code_of(&self, input: usize, s: &str) -> i64 {
        self.tables[input]
            .iter()
            .position(|x| x == s)
            .map_or(i64::MIN, |k| k as i64)
    }
}

fn mark(k: usize, used: &mut [bool]) {
    if let Some(u) = used.get_mut(k) {
        *u = true;
    }
}

fn mark_num(e: &NumExpr, used: &mut [bool]) {
    match e {
        NumExpr::Input(k) => mark(*k, used),
        NumExpr::Int(_) | NumExpr::Float(_) => {}
        NumExpr::Neg(x) => mark_num(x, used),
        NumExpr::Bin(_, l, r) => {
            mark_num(l, used);
            mark_num(r, used);
        }
    }
}

fn mark_cond(c: &Cond, used: &mut [bool]) {
    match c {
        Cond::Input(k) => mark(*k, used),
        Cond::Lit(_) | Cond::Null => {}
        Cond::Not(x) => mark_cond(x, used),
        Cond::And(xs) | Cond::Or(xs) => xs.iter().for_each(|x| mark_cond(x, used)),
        Cond::IsNull(o) | Cond::IsNotNull(o) => match o {
            Operand::Input(k) => mark(*k, used),
            Operand::Num(e) => mark_num(e, used),
            Operand::Cond(x) => mark_cond(x, used),
        },
        Cond::Cmp(_, l, r) => {
            mark_num(l, used);
            mark_num(r, used);
        }
        Cond::StrEq { input, .. } | Cond::StrIn { input, .. } => mark(*input, used),
        Cond::NumIn { expr, .. } => mark_num(expr, used),
    }
}

fn mark_value(v: &Value, used: &mut [bool]) {
    match v {
        Value::Input(k) => mark(*k, used),
        Value::Num(e) => mark_num(e, used),
        _ => {}
    }
}

/// Compiles `rule` into a new JIT module; returns the module and the address of the
/// finalized kernel function in it.
pub(crate) fn compile(rule: &Rule, plan: &Plan) -> Result<(JITModule, *const u8), Unsupported> {
    rule.check()?;
    let err = |what: &str, e: &dyn std::fmt::Display| {
        Unsupported(format!("rule `{}`: {what}: {e}", rule.name))
    };
    let mut flags = settings::builder();
    for (k, v) in [
        ("use_colocated_libcalls", "false"),
        ("is_pic", "false"),
        ("opt_level", "speed"),
    ] {
        flags.set(k, v).map_err(|e| err("cranelift flags", &e))?;
    }
    let isa = cranelift_native::builder()
        .map_err(|e| err("no Cranelift backend for this host", &e))?
        .finish(settings::Flags::new(flags))
        .map_err(|e| err("cranelift ISA", &e))?;
    let mut module = JITModule::new(JITBuilder::with_isa(isa, default_libcall_names()));
    let ptr = module.target_config().pointer_type();
    if ptr != I64 {
        return unsupported("the JIT needs a 64-bit target");
    }
    let mut ctx = module.make_context();
    ctx.func.signature.params = vec![AbiParam::new(I64); 4];
    let mut fctx = FunctionBuilderContext::new();
    {
        let b = FunctionBuilder::new(&mut ctx.func, &mut fctx);
        let mut g = Gen {
            b,
            rule,
            plan,
            descs: Vec::new(),
            words: Vec::new(),
            row: None,
            cache: HashMap::new(),
        };
        g.function()?;
        g.b.seal_all_blocks();
        g.b.finalize(module.isa().frontend_config());
    }
    let id = module
        .declare_function("mj_rule", Linkage::Export, &ctx.func.signature)
        .map_err(|e| err("declare", &e))?;
    module
        .define_function(id, &mut ctx)
        .map_err(|e| err("compile", &e))?;
    module.clear_context(&mut ctx);
    module
        .finalize_definitions()
        .map_err(|e| err("finalize", &e))?;
    let code = module.get_finalized_function(id);
    Ok((module, code))
}

/// The bits of `x` with `-0.0` made `+0.0`.
fn normalized_bits(x: f64) -> i64 {
    if x == 0.0 { 0 } else { x.to_bits() as i64 }
}

/// The order key of a float, as [`Gen::key`] computes it.
fn float_key(x: f64) -> i64 {
    let b = normalized_bits(x);
    b ^ (((b >> 63) as u64) >> 1) as i64
}

/// Memory accesses of the kernel: in bounds and aligned, by the wrapper's checks.
fn mem() -> MemFlagsData {
    MemFlagsData::trusted()
}

/// The descriptor of one input, loaded in the entry block.
#[derive(Clone, Copy)]
struct Desc {
    values: CValue,
    validity: CValue,
    validity_mask: CValue,
}

/// The bitmap words of one input for the current 64-row chunk.
#[derive(Clone, Copy)]
struct Words {
    validity: CValue,
    /// Boolean inputs: the values word.
    values: Option<CValue>,
}

/// A numeric value in a row.
#[derive(Clone, Copy)]
struct NumV {
    ty: NumType,
    v: CValue,
    valid: CValue,
}

/// A condition in a row: two i8 flags, at most one of them 1; both 0 means NULL.
#[derive(Clone, Copy)]
struct Tri {
    t: CValue,
    f: CValue,
}

struct Gen<'a, 'b> {
    b: FunctionBuilder<'b>,
    rule: &'a Rule,
    plan: &'a Plan,
    descs: Vec<Desc>,
    /// Per input, its bitmap words for the current chunk (`None` for unused inputs).
    words: Vec<Option<Words>>,
    /// The row index and the bit index within the chunk, in the loop body.
    row: Option<(CValue, CValue)>,
    /// Loaded inputs of the current row: (value, valid).
    cache: HashMap<usize, (CValue, CValue)>,
}

impl Gen<'_, '_> {
    fn function(&mut self) -> Result<(), Unsupported> {
        let entry = self.b.create_block();
        let outer_head = self.b.create_block();
        let outer_body = self.b.create_block();
        let inner_head = self.b.create_block();
        let inner_body = self.b.create_block();
        let outer_end = self.b.create_block();
        let exit = self.b.create_block();
        self.b.append_block_params_for_function_params(entry);
        self.b.switch_to_block(entry);
        let params = self.b.block_params(entry).to_vec();
        let (len, args, out_values, out_valid) = (params[0], params[1], params[2], params[3]);
        for k in 0..self.plan.inputs.len() {
            let word = |g: &mut Self, w: usize| {
                let off = ((k * WORDS_PER_INPUT + w) * 8) as i32;
                g.b.ins().load(I64, mem(), args, off)
            };
            let d = Desc {
                values: word(self, 0),
                validity: word(self, 1),
                validity_mask: word(self, 2),
            };
            self.descs.push(d);
        }
        let w = self.b.declare_var(I64);
        let b = self.b.declare_var(I64);
        let acc_valid = self.b.declare_var(I64);
        let acc_bool = self.b.declare_var(I64);
        let zero = self.b.ins().iconst(I64, 0);
        let len_plus = self.b.ins().iadd_imm_s(len, 63);
        let n_words = self.b.ins().ushr_imm_s(len_plus, 6);
        self.b.def_var(w, zero);
        self.b.ins().jump(outer_head, &[]);

        // One iteration of the outer loop per 64 rows: load each bitmap's word.
        self.b.switch_to_block(outer_head);
        let word = self.b.use_var(w);
        let more = self.b.ins().icmp(IntCC::SignedLessThan, word, n_words);
        self.b.ins().brif(more, outer_body, &[], exit, &[]);

        self.b.switch_to_block(outer_body);
        let word = self.b.use_var(w);
        let word_off = self.b.ins().ishl_imm_s(word, 3);
        for k in 0..self.plan.inputs.len() {
            if !self.plan.used[k] {
                self.words.push(None);
                continue;
            }
            let d = self.descs[k];
            let off = self.b.ins().band(word_off, d.validity_mask);
            let addr = self.b.ins().iadd(d.validity, off);
            let validity = self.b.ins().load(I64, mem(), addr, 0);
            let values = (self.plan.inputs[k] == ColType::Boolean).then(|| {
                let addr = self.b.ins().iadd(d.values, word_off);
                self.b.ins().load(I64, mem(), addr, 0)
            });
            self.words.push(Some(Words { validity, values }));
        }
        let base = self.b.ins().ishl_imm_s(word, 6);
        let rest = self.b.ins().isub(len, base);
        let sixty_four = self.b.ins().iconst(I64, 64);
        let n = self.b.ins().smin(rest, sixty_four);
        self.b.def_var(b, zero);
        self.b.def_var(acc_valid, zero);
        self.b.def_var(acc_bool, zero);
        self.b.ins().jump(inner_head, &[]);

        // One iteration of the inner loop per row.
        self.b.switch_to_block(inner_head);
        let bit = self.b.use_var(b);
        let more = self.b.ins().icmp(IntCC::SignedLessThan, bit, n);
        self.b.ins().brif(more, inner_body, &[], outer_end, &[]);

        self.b.switch_to_block(inner_body);
        let bit = self.b.use_var(b);
        let row = self.b.ins().iadd(base, bit);
        self.row = Some((row, bit));
        self.cache.clear();

        // The else value, then each branch from the last to the first over it.
        let (mut val, mut valid) = match &self.rule.otherwise {
            Some(v) => self.value(v)?,
            None => self.null_value(),
        };
        let branches = &self.rule.branches;
        let mut evaluated = Vec::with_capacity(branches.len());
        for (c, v) in branches {
            let tri = self.cond(c)?;
            let (bv, bvalid) = self.value(v)?;
            evaluated.push((tri.t, bv, bvalid));
        }
        for (t, bv, bvalid) in evaluated.into_iter().rev() {
            val = self.b.ins().select(t, bv, val);
            valid = self.b.ins().select(t, bvalid, valid);
        }

        // Store the value; collect the validity (and Boolean value) bits of the chunk.
        match self.plan.output {
            ColType::Int64 | ColType::Float64 => {
                let addr = self.element(out_values, row, 3);
                self.b.ins().store(mem(), val, addr, 0);
            }
            ColType::Utf8 => {
                let addr = self.element(out_values, row, 2);
                self.b.ins().istore32(mem(), val, addr, 0);
            }
            ColType::Boolean => {}
        }
        let accumulate = |g: &mut Self, var: Variable, flag: CValue| {
            let flag = g.b.ins().uextend(I64, flag);
            let flag = g.b.ins().ishl(flag, bit);
            let acc = g.b.use_var(var);
            let acc = g.b.ins().bor(acc, flag);
            g.b.def_var(var, acc);
        };
        accumulate(self, acc_valid, valid);
        if self.plan.output == ColType::Boolean {
            // NULL rows get a 0 value bit.
            let flag = self.b.ins().ireduce(I8, val);
            let flag = self.b.ins().band(flag, valid);
            accumulate(self, acc_bool, flag);
        }
        let next = self.b.ins().iadd_imm_s(bit, 1);
        self.b.def_var(b, next);
        self.b.ins().jump(inner_head, &[]);

        // The end of a chunk: store its words.
        self.b.switch_to_block(outer_end);
        let acc = self.b.use_var(acc_valid);
        let addr = self.b.ins().iadd(out_valid, word_off);
        self.b.ins().store(mem(), acc, addr, 0);
        if self.plan.output == ColType::Boolean {
            let acc = self.b.use_var(acc_bool);
            let addr = self.b.ins().iadd(out_values, word_off);
            self.b.ins().store(mem(), acc, addr, 0);
        }
        let next = self.b.ins().iadd_imm_s(word, 1);
        self.b.def_var(w, next);
        self.b.ins().jump(outer_head, &[]);

        self.b.switch_to_block(exit);
        self.b.ins().return_(&[]);
        Ok(())
    }

    fn row(&self) -> (CValue, CValue) {
        self.row.expect("inside the loop body")
    }

    /// `base + row << log2`.
    fn element(&mut self, base: CValue, row: CValue, log2: i64) -> CValue {
        let off = self.b.ins().ishl_imm_s(row, log2);
        self.b.ins().iadd(base, off)
    }

    /// The current row's bit of a chunk's bitmap word, as an i8 0/1.
    fn bit_of(&mut self, word: CValue) -> CValue {
        let (_, bit) = self.row();
        let shifted = self.b.ins().ushr(word, bit);
        let flag = self.b.ins().band_imm_s(shifted, 1);
        self.b.ins().ireduce(I8, flag)
    }

    /// Input `k` of the current row: (value, valid). Int64 → I64, Float64 → F64,
    /// Boolean → I8 0/1, Utf8 → I64 code.
    fn input(&mut self, k: usize) -> (CValue, CValue) {
        if let Some(x) = self.cache.get(&k) {
            return *x;
        }
        let d = self.descs[k];
        let words = self.words[k].expect("a used input has words");
        let (row, _) = self.row();
        let valid = self.bit_of(words.validity);
        let v = match self.plan.inputs[k] {
            ColType::Utf8 if self.plan.tables[k].is_empty() => {
                self.b.ins().iconst(I64, i64::from(NO_MATCH))
            }
            ColType::Utf8 => {
                let addr = self.element(d.values, row, 2);
                self.b.ins().sload32(mem(), addr, 0)
            }
            ColType::Int64 => {
                let addr = self.element(d.values, row, 3);
                self.b.ins().load(I64, mem(), addr, 0)
            }
            ColType::Float64 => {
                let addr = self.element(d.values, row, 3);
                self.b.ins().load(F64, mem(), addr, 0)
            }
            ColType::Boolean => {
                let word = words.values.expect("a Boolean input has a values word");
                self.bit_of(word)
            }
        };
        self.cache.insert(k, (v, valid));
        (v, valid)
    }

    fn i8(&mut self, b: bool) -> CValue {
        self.b.ins().iconst(I8, i64::from(b))
    }

    fn not(&mut self, x: CValue) -> CValue {
        self.b.ins().bxor_imm_s(x, 1)
    }

    fn null_value(&mut self) -> (CValue, CValue) {
        let v = match self.plan.output {
            ColType::Float64 => self.b.ins().f64const(0.0),
            ColType::Utf8 => self.b.ins().iconst(I64, self.plan.out_table.len() as i64),
            _ => self.b.ins().iconst(I64, 0),
        };
        (v, self.i8(false))
    }

    /// A branch value, in the output's representation.
    fn value(&mut self, v: &Value) -> Result<(CValue, CValue), Unsupported> {
        self.rule.check_value(v)?;
        let out = self.plan.output;
        let one = self.i8(true);
        Ok(match v {
            Value::Null => self.null_value(),
            Value::Int(i) => match out {
                ColType::Float64 => (self.b.ins().f64const(*i as f64), one),
                _ => (self.b.ins().iconst(I64, *i), one),
            },
            Value::Float(f) => (self.b.ins().f64const(*f), one),
            Value::Bool(x) => (self.b.ins().iconst(I64, i64::from(*x)), one),
            Value::Str(s) => {
                let k = self.plan.out_table.iter().position(|x| x == s);
                (self.b.ins().iconst(I64, k.unwrap_or(0) as i64), one)
            }
            Value::Input(k) => {
                let (x, valid) = self.input(*k);
                let x = match (self.plan.inputs[*k], out) {
                    (ColType::Int64, ColType::Float64) => self.b.ins().fcvt_from_sint(F64, x),
                    (ColType::Boolean, _) => self.b.ins().uextend(I64, x),
                    _ => x,
                };
                (x, valid)
            }
            Value::Num(e) => {
                let n = self.num(e)?;
                let x = match (n.ty, out) {
                    (NumType::Int, ColType::Float64) => self.b.ins().fcvt_from_sint(F64, n.v),
                    _ => n.v,
                };
                (x, n.valid)
            }
        })
    }

    fn constant(&mut self, ty: NumType, c: Option<Const>) -> NumV {
        let valid = self.i8(c.is_some());
        let v = match (ty, c) {
            (NumType::Int, Some(Const::Int(i))) => self.b.ins().iconst(I64, i),
            (NumType::Int, _) => self.b.ins().iconst(I64, 0),
            (NumType::Float, Some(c)) => self.b.ins().f64const(c.as_f64()),
            (NumType::Float, None) => self.b.ins().f64const(0.0),
        };
        NumV { ty, v, valid }
    }

    fn float_of(&mut self, x: NumV) -> CValue {
        match x.ty {
            NumType::Int => self.b.ins().fcvt_from_sint(F64, x.v),
            NumType::Float => x.v,
        }
    }

    fn num(&mut self, e: &NumExpr) -> Result<NumV, Unsupported> {
        let ty = self.rule.num_type(e)?;
        if let Some(c) = self.rule.fold(e) {
            return Ok(self.constant(ty, c));
        }
        Ok(match e {
            NumExpr::Input(k) => {
                let (v, valid) = self.input(*k);
                NumV { ty, v, valid }
            }
            NumExpr::Int(_) | NumExpr::Float(_) => unreachable!("constants fold"),
            NumExpr::Neg(x) => {
                let x = self.num(x)?;
                let v = match ty {
                    NumType::Int => self.b.ins().ineg(x.v),
                    NumType::Float => self.b.ins().fneg(x.v),
                };
                NumV { ty, v, ..x }
            }
            NumExpr::Bin(op, l, r) => {
                let (l, r) = (self.num(l)?, self.num(r)?);
                let mut valid = self.b.ins().band(l.valid, r.valid);
                let v = if ty == NumType::Int {
                    match op {
                        ArithOp::Add => self.b.ins().iadd(l.v, r.v),
                        ArithOp::Sub => self.b.ins().isub(l.v, r.v),
                        ArithOp::Mul => self.b.ins().imul(l.v, r.v),
                        ArithOp::Div => unreachable!("division is Float64"),
                    }
                } else {
                    let (a, b) = (self.float_of(l), self.float_of(r));
                    match op {
                        ArithOp::Add => self.b.ins().fadd(a, b),
                        ArithOp::Sub => self.b.ins().fsub(a, b),
                        ArithOp::Mul => self.b.ins().fmul(a, b),
                        ArithOp::Div => {
                            // NULL when the divisor is +0.0 (what `nullif(b, 0.0)` does:
                            // Arrow's float equality is bitwise).
                            let bits = self.b.ins().bitcast(I64, MemFlagsData::new(), b);
                            let nonzero = self.b.ins().icmp_imm_s(IntCC::NotEqual, bits, 0);
                            valid = self.b.ins().band(valid, nonzero);
                            self.b.ins().fdiv(a, b)
                        }
                    }
                };
                NumV { ty, v, valid }
            }
        })
    }

    /// The bits of a float with `-0.0` made `+0.0` (what DataFusion's comparisons do
    /// before Arrow's total-order kernels).
    fn normalized_bits(&mut self, x: CValue) -> CValue {
        let bits = self.b.ins().bitcast(I64, MemFlagsData::new(), x);
        let magnitude = self.b.ins().ishl_imm_s(bits, 1);
        let is_zero = self.b.ins().icmp_imm_s(IntCC::Equal, magnitude, 0);
        let zero = self.b.ins().iconst(I64, 0);
        self.b.ins().select(is_zero, zero, bits)
    }

    /// The order key of a float: its normalized bits as an i64, with the magnitude bits
    /// flipped for negative numbers, so that signed integer order is `f64::total_cmp`
    /// (with both zeros equal).
    fn key(&mut self, x: CValue) -> CValue {
        let bits = self.normalized_bits(x);
        let sign = self.b.ins().sshr_imm_s(bits, 63);
        let flip = self.b.ins().ushr_imm_s(sign, 1);
        self.b.ins().bxor(bits, flip)
    }

    /// The order key of a numeric value as a float, computed here for a constant.
    fn key_of(&mut self, x: NumV, c: Option<Const>) -> CValue {
        match c {
            Some(c) => self.b.ins().iconst(I64, float_key(c.as_f64())),
            None => {
                let f = self.float_of(x);
                self.key(f)
            }
        }
    }

    /// A comparison that is NULL when `valid` is 0.
    fn tri(&mut self, valid: CValue, c: CValue) -> Tri {
        let t = self.b.ins().band(valid, c);
        let nc = self.not(c);
        let f = self.b.ins().band(valid, nc);
        Tri { t, f }
    }

    fn constant_tri(&mut self, x: Option<bool>) -> Tri {
        let t = self.i8(x == Some(true));
        let f = self.i8(x == Some(false));
        Tri { t, f }
    }

    fn cond(&mut self, c: &Cond) -> Result<Tri, Unsupported> {
        Ok(match c {
            Cond::Input(k) => {
                if self.plan.inputs[*k] != ColType::Boolean {
                    return unsupported("a condition input that is not Boolean");
                }
                let (v, valid) = self.input(*k);
                self.tri(valid, v)
            }
            Cond::Lit(x) => self.constant_tri(Some(*x)),
            Cond::Null => self.constant_tri(None),
            Cond::Not(x) => {
                let x = self.cond(x)?;
                Tri { t: x.f, f: x.t }
            }
            Cond::And(xs) => {
                let mut acc = self.constant_tri(Some(true));
                for x in xs {
                    let x = self.cond(x)?;
                    acc = Tri {
                        t: self.b.ins().band(acc.t, x.t),
                        f: self.b.ins().bor(acc.f, x.f),
                    };
                }
                acc
            }
            Cond::Or(xs) => {
                let mut acc = self.constant_tri(Some(false));
                for x in xs {
                    let x = self.cond(x)?;
                    acc = Tri {
                        t: self.b.ins().bor(acc.t, x.t),
                        f: self.b.ins().band(acc.f, x.f),
                    };
                }
                acc
            }
            Cond::IsNull(o) | Cond::IsNotNull(o) => {
                let valid = match o {
                    Operand::Input(k) => {
                        self.rule.input_type(*k)?;
                        self.input(*k).1
                    }
                    Operand::Num(e) => self.num(e)?.valid,
                    Operand::Cond(c) => {
                        let x = self.cond(c)?;
                        self.b.ins().bor(x.t, x.f)
                    }
                };
                let invalid = self.not(valid);
                if matches!(c, Cond::IsNull(_)) {
                    Tri {
                        t: invalid,
                        f: valid,
                    }
                } else {
                    Tri {
                        t: valid,
                        f: invalid,
                    }
                }
            }
            Cond::Cmp(op, l, r) => {
                let (lc, rc) = (self.rule.fold(l).flatten(), self.rule.fold(r).flatten());
                let (l, r) = (self.num(l)?, self.num(r)?);
                let valid = self.b.ins().band(l.valid, r.valid);
                let (a, b) = if l.ty == NumType::Int && r.ty == NumType::Int {
                    (l.v, r.v)
                } else {
                    (self.key_of(l, lc), self.key_of(r, rc))
                };
                let cc = match op {
                    CmpOp::Eq => IntCC::Equal,
                    CmpOp::Ne => IntCC::NotEqual,
                    CmpOp::Lt => IntCC::SignedLessThan,
                    CmpOp::Le => IntCC::SignedLessThanOrEqual,
                    CmpOp::Gt => IntCC::SignedGreaterThan,
                    CmpOp::Ge => IntCC::SignedGreaterThanOrEqual,
                };
                let c = self.b.ins().icmp(cc, a, b);
                self.tri(valid, c)
            }
            Cond::StrEq {
                input,
                lit,
                negated,
            } => {
                self.rule.check_cond(c)?;
                let (code, valid) = self.input(*input);
                let k = self.plan.code_of(*input, lit);
                let m = self.b.ins().icmp_imm_s(IntCC::Equal, code, k);
                let m = if *negated { self.not(m) } else { m };
                self.tri(valid, m)
            }
            Cond::StrIn {
                input,
                list,
                negated,
            } => {
                self.rule.check_cond(c)?;
                if list.is_empty() {
                    return Ok(self.constant_tri(Some(*negated)));
                }
                let (code, valid) = self.input(*input);
                let mut m = self.i8(false);
                let mut seen = Vec::new();
                for s in list {
                    let k = self.plan.code_of(*input, s);
                    if seen.contains(&k) {
                        continue;
                    }
                    seen.push(k);
                    let e = self.b.ins().icmp_imm_s(IntCC::Equal, code, k);
                    m = self.b.ins().bor(m, e);
                }
                let m = if *negated { self.not(m) } else { m };
                self.tri(valid, m)
            }
            Cond::NumIn {
                expr,
                list,
                negated,
            } => {
                if list.is_empty() {
                    self.rule.num_type(expr)?;
                    return Ok(self.constant_tri(Some(*negated)));
                }
                let x = self.num(expr)?;
                let ints = x.ty == NumType::Int && list.iter().all(|n| matches!(n, Num::Int(_)));
                // Integers compare as integers; otherwise as floats, like `=`: bitwise after
                // making -0.0 +0.0.
                let (v, items): (CValue, Vec<i64>) = if ints {
                    let items = list
                        .iter()
                        .map(|n| match n {
                            Num::Int(i) => *i,
                            Num::Float(f) => f.to_bits() as i64,
                        })
                        .collect();
                    (x.v, items)
                } else {
                    let f = self.float_of(x);
                    let bits = self.normalized_bits(f);
                    let items = list.iter().map(|n| normalized_bits(n.as_f64())).collect();
                    (bits, items)
                };
                let mut m = self.i8(false);
                for k in items {
                    let e = self.b.ins().icmp_imm_s(IntCC::Equal, v, k);
                    m = self.b.ins().bor(m, e);
                }
                let m = if *negated { self.not(m) } else { m };
                self.tri(x.valid, m)
            }
        })
    }
}
