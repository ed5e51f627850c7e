//! Binding rules: the planner calls each rule through a placeholder carrying the rule
//! (`mj_plan::case::RuleCall`); before a plan runs, each call is bound here — to the
//! rule's Cranelift kernel (`mj_jit::RuleUdf`) when the JIT is on and the rule compiles,
//! else to DataFusion's `CASE` (`mj_plan::case::to_expr`). Which one each rule got is a
//! fact of the run: it is in the manifest and in `mj plan`.

use std::sync::Arc;

use datafusion::common::Result;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::{Expr, LogicalPlan};
use serde::{Deserialize, Serialize};

/// How a tag's rule is evaluated: by a Cranelift kernel, or by DataFusion's `CASE`
/// (and why).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RuleNote {
    /// The tag, or `aipl_<model>`.
    pub rule: String,
    pub kernel: bool,
    pub fallback: Option<String>,
}

impl std::fmt::Display for RuleNote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.fallback {
            None => write!(
                f,
                "{}: compiled by Cranelift (mj_rule_{})",
                self.rule, self.rule
            ),
            Some(why) => write!(f, "{}: DataFusion CASE ({why})", self.rule),
        }
    }
}

/// Binds every rule call of `plan`; with the planner's notes on its `case`s, says how
/// each is evaluated.
pub fn bind(
    plan: LogicalPlan,
    planned: Vec<mj_plan::assets::RulePlan>,
    jit: bool,
) -> Result<(LogicalPlan, Vec<RuleNote>)> {
    // (rule, why not a kernel) per call bound.
    let mut bound: Vec<(String, Option<String>)> = Vec::new();
    let plan = plan
        .transform_up(|node| {
            node.map_expressions(|e| e.transform_up(|e| bind_call(e, jit, &mut bound)))
        })?
        .data;
    let notes = planned
        .into_iter()
        .map(|p| {
            let fallback = match p.fallback {
                Some(why) => Some(why),
                None => bound
                    .iter()
                    .find(|(rule, _)| *rule == p.tag)
                    .map_or_else(|| Some("not bound".to_string()), |(_, why)| why.clone()),
            };
            RuleNote {
                rule: p.tag,
                kernel: fallback.is_none(),
                fallback,
            }
        })
        .collect();
    Ok((plan, notes))
}

fn bind_call(
    e: Expr,
    jit: bool,
    bound: &mut Vec<(String, Option<String>)>,
) -> Result<Transformed<Expr>> {
    let Expr::ScalarFunction(call) = &e else {
        return Ok(Transformed::no(e));
    };
    let Some(rule) = mj_plan::case::placeholder_rule(&call.func) else {
        return Ok(Transformed::no(e));
    };
    let rule = rule.clone();
    let Expr::ScalarFunction(ScalarFunction { args, .. }) = e else {
        unreachable!("matched above")
    };
    let name = rule.name.clone();
    let (expr, why) = bind_rule(&rule, args, jit)?;
    bound.push((name, why));
    Ok(Transformed::yes(expr))
}

/// A call of `rule` on `args`, bound: the kernel's call when `jit` is set and the rule
/// compiles, else the rule's `CASE` together with the reason it is no kernel (`None`
/// exactly when the expression calls the kernel).
pub fn bind_rule(rule: &mj_ir::Rule, args: Vec<Expr>, jit: bool) -> Result<(Expr, Option<String>)> {
    if !jit {
        let case = mj_plan::case::to_expr(rule, &args)?;
        return Ok((case, Some("the JIT is off".to_string())));
    }
    if args.len() != rule.inputs.len() {
        return datafusion::common::plan_err!(
            "rule `{}` takes {} arguments, got {}",
            rule.name,
            rule.inputs.len(),
            args.len()
        );
    }
    match mj_jit::RuleUdf::new(rule.clone()) {
        Ok(udf) => Ok((
            Expr::ScalarFunction(ScalarFunction::new_udf(Arc::new(udf), args)),
            None,
        )),
        Err(why) => Ok((mj_plan::case::to_expr(rule, &args)?, Some(why.0))),
    }
}
