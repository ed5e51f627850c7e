//! Shared helpers: DataFusion's evaluation of `to_expr`, and exact array comparison.
#![allow(dead_code)]

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Field, Float64Type, Int64Type, Schema};
use datafusion::common::{Column, DFSchema, Result};
use datafusion::optimizer::simplify_expressions::{ExprSimplifier, SimplifyContext};
use datafusion::prelude::{Expr, SessionContext};
use mj_jit::Rule;
use mj_plan::case::to_expr;

/// The rule's inputs as column expressions named like the rule's inputs.
pub fn columns(rule: &Rule) -> Vec<Expr> {
    rule.inputs
        .iter()
        .map(|(n, _)| Expr::Column(Column::from_name(n)))
        .collect()
}

/// A batch with one column per rule input.
pub fn batch(rule: &Rule, arrays: &[ArrayRef]) -> RecordBatch {
    let fields: Vec<Field> = rule
        .inputs
        .iter()
        .zip(arrays)
        .map(|((n, _), a)| Field::new(n, a.data_type().clone(), true))
        .collect();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays.to_vec()).unwrap()
}

/// DataFusion's value of `to_expr(rule)` over the batch, as a physical expression
/// (coerced; simplified too when `simplify`).
pub fn datafusion_eval(rule: &Rule, batch: &RecordBatch, simplify: bool) -> Result<ArrayRef> {
    let schema = DFSchema::try_from(batch.schema().as_ref().clone())?;
    let expr = to_expr(rule, &columns(rule))?;
    let simplifier = ExprSimplifier::new(
        SimplifyContext::builder()
            .with_schema(Arc::new(schema.clone()))
            .build(),
    );
    let mut expr = simplifier.coerce(expr, &schema)?;
    if simplify {
        expr = simplifier.simplify(expr)?;
    }
    let ctx = SessionContext::new();
    let phys = ctx.create_physical_expr(expr, &schema)?;
    phys.evaluate(batch)?.into_array(batch.num_rows())
}

/// Exact equality: same type, length and nulls; values equal (floats bitwise).
pub fn same(a: &dyn Array, b: &dyn Array) -> Result<(), String> {
    if a.data_type() != b.data_type() {
        return Err(format!(
            "types differ: {} vs {}",
            a.data_type(),
            b.data_type()
        ));
    }
    if a.len() != b.len() {
        return Err(format!("lengths differ: {} vs {}", a.len(), b.len()));
    }
    for i in 0..a.len() {
        let (na, nb) = (a.is_null(i), b.is_null(i));
        if na != nb {
            return Err(format!("row {i}: {} vs {}", show(a, i), show(b, i)));
        }
        if na {
            continue;
        }
        let eq = match a.data_type() {
            DataType::Int64 => {
                a.as_primitive::<Int64Type>().value(i) == b.as_primitive::<Int64Type>().value(i)
            }
            DataType::Float64 => {
                a.as_primitive::<Float64Type>().value(i).to_bits()
                    == b.as_primitive::<Float64Type>().value(i).to_bits()
            }
            DataType::Boolean => a.as_boolean().value(i) == b.as_boolean().value(i),
            DataType::Utf8 => a.as_string::<i32>().value(i) == b.as_string::<i32>().value(i),
            t => return Err(format!("unexpected type {t}")),
        };
        if !eq {
            return Err(format!("row {i}: {} vs {}", show(a, i), show(b, i)));
        }
    }
    Ok(())
}

pub fn show(a: &dyn Array, i: usize) -> String {
    if a.is_null(i) {
        return "NULL".to_string();
    }
    match a.data_type() {
        DataType::Int64 => a.as_primitive::<Int64Type>().value(i).to_string(),
        DataType::Float64 => {
            let x = a.as_primitive::<Float64Type>().value(i);
            format!("{x:?} ({:#x})", x.to_bits())
        }
        DataType::Boolean => a.as_boolean().value(i).to_string(),
        DataType::Utf8 => format!("{:?}", a.as_string::<i32>().value(i)),
        _ => arrow::util::display::array_value_to_string(a, i).unwrap_or_default(),
    }
}
