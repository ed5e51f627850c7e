//! The kernel as a DataFusion scalar function.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use arrow::datatypes::DataType;
use datafusion::common::{Result, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use crate::kernel::{Kernel, compile_shared};
use mj_ir::rule::{Rule, Unsupported};

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

    /// As [`Rule::coerce_args`] says.
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        self.rule
            .coerce_args(arg_types)
            .or_else(|e| plan_err!("{e}"))
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
