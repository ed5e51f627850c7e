//! The kernel as a DataFusion scalar function.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use arrow::datatypes::DataType;
use datafusion::common::{Result, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::prelude::Expr;

use crate::expr::to_expr;
use crate::ir::{ColType, Rule, Unsupported};
use crate::kernel::{Kernel, compile_shared};

/// A rule as a scalar function `mj_rule_<name>(inputs…)` evaluated by its kernel.
///
/// Two `RuleUdf`s are equal (and hash equally) when their rules serialize to the same
/// JSON, whatever code they run.
pub struct RuleUdf {
    rule: Rule,
    json: String,
    name: String,
    signature: Signature,
    kernel: Arc<Kernel>,
}

impl RuleUdf {
    /// Compiles the rule into a scalar function, or says why not.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(rule: Rule) -> Result<ScalarUDF, Unsupported> {
        Ok(ScalarUDF::new_from_impl(Self::from_rule(rule)?))
    }

    /// The implementation itself (for [`ScalarUDF::new_from_impl`] or an `Arc`).
    pub fn from_rule(rule: Rule) -> Result<RuleUdf, Unsupported> {
        let kernel = compile_shared(&rule)?;
        Ok(RuleUdf {
            json: rule.to_json(),
            name: format!("mj_rule_{}", rule.name),
            signature: Signature::user_defined(Volatility::Immutable),
            rule,
            kernel,
        })
    }

    /// The rule this function computes.
    pub fn rule(&self) -> &Rule {
        &self.rule
    }

    /// The rule as JSON (what a codec carries).
    pub fn json(&self) -> &str {
        &self.json
    }

    /// The compiled kernel.
    pub fn kernel(&self) -> &Kernel {
        &self.kernel
    }
}

/// The rule of a scalar function made by [`RuleUdf::new`], if it is one.
pub fn rule_of(udf: &ScalarUDF) -> Option<&Rule> {
    udf.inner().downcast_ref::<RuleUdf>().map(RuleUdf::rule)
}

impl std::fmt::Debug for RuleUdf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuleUdf")
            .field("name", &self.name)
            .field("rule", &self.json)
            .finish_non_exhaustive()
    }
}

impl PartialEq for RuleUdf {
    fn eq(&self, other: &Self) -> bool {
        self.json == other.json
    }
}

impl Eq for RuleUdf {}

impl Hash for RuleUdf {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.json.hash(state);
    }
}

/// Whether an argument type can be passed to an input of type `t` as it is.
fn accepts(t: ColType, dt: &DataType) -> bool {
    match t {
        ColType::Utf8 => match dt {
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null => true,
            DataType::Dictionary(k, v) => {
                k.is_dictionary_key_type()
                    && matches!(
                        v.as_ref(),
                        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
                    )
            }
            _ => false,
        },
        t => *dt == t.data_type(),
    }
}

impl ScalarUDFImpl for RuleUdf {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(self.rule.output.data_type())
    }

    /// String inputs take any string type as it is (dictionaries stay encoded); other
    /// inputs are cast to Int64, Float64 or Boolean when DataFusion can (integers to Int64
    /// or Float64, Float32 to Float64, NULL to anything).
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if arg_types.len() != self.rule.inputs.len() {
            return plan_err!(
                "{} takes {} arguments, got {}",
                self.name,
                self.rule.inputs.len(),
                arg_types.len()
            );
        }
        arg_types
            .iter()
            .zip(&self.rule.inputs)
            .map(|(dt, (name, t))| {
                if accepts(*t, dt) {
                    return Ok(dt.clone());
                }
                let ok = match t {
                    ColType::Int64 => dt.is_integer() || *dt == DataType::Null,
                    ColType::Float64 => dt.is_numeric() || *dt == DataType::Null,
                    ColType::Boolean => *dt == DataType::Null,
                    ColType::Utf8 => false,
                };
                if ok {
                    Ok(t.data_type())
                } else {
                    plan_err!("argument `{name}` of {} is {t:?}, not {dt}", self.name)
                }
            })
            .collect()
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let n = args.number_rows;
        let arrays = args
            .args
            .into_iter()
            .map(|a| a.into_array(n))
            .collect::<Result<Vec<_>>>()?;
        Ok(ColumnarValue::Array(self.kernel.eval_rows(&arrays, n)?))
    }
}

/// The rule applied to `args`: a call of its kernel when `jit` is set and the rule
/// compiles, else [`to_expr`]'s CASE expression together with the reason it is not
/// compiled. The reason is `None` exactly when the expression calls the kernel.
pub fn rule_call(rule: &Rule, args: Vec<Expr>, jit: bool) -> Result<(Expr, Option<String>)> {
    if !jit {
        return Ok((to_expr(rule, &args)?, Some("the JIT is off".to_string())));
    }
    match RuleUdf::new(rule.clone()) {
        Ok(udf) => {
            if args.len() != rule.inputs.len() {
                return plan_err!(
                    "rule `{}` takes {} arguments, got {}",
                    rule.name,
                    rule.inputs.len(),
                    args.len()
                );
            }
            Ok((udf.call(args), None))
        }
        Err(why) => Ok((to_expr(rule, &args)?, Some(why.0))),
    }
}
