//! Plans that travel: every plan mj builds can be written with `datafusion-proto` and
//! read back elsewhere (a Ballista scheduler or executor, another process), because
//!
//! - plans scan Parquet partitions (`ListingTable` over `OUT/<layer>/<table>/dt=D`),
//!   never memory, and the files are named in the plan;
//! - mj's own functions (rule kernels) are written by [`MjCodec`] as the rule itself,
//!   and compiled again where the plan is read: machine code never travels.

use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::TableProvider;
use datafusion::common::TableReference;
use datafusion::datasource::file_format::FileFormatFactory;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{Extension, LogicalPlan, ScalarUDF};
use datafusion::physical_plan::ExecutionPlan;
use datafusion_proto::logical_plan::{DefaultLogicalExtensionCodec, LogicalExtensionCodec};
use datafusion_proto::physical_plan::{
    DefaultPhysicalExtensionCodec, PhysicalExtensionCodec, PhysicalProtoConverterExtension,
};

/// Writes and reads mj's own functions; everything else goes to the codecs it wraps:
/// DataFusion's by default, Ballista's on a cluster (its shuffles, its file formats).
#[derive(Debug, Clone)]
pub struct MjCodec {
    logical: Arc<dyn LogicalExtensionCodec>,
    physical: Arc<dyn PhysicalExtensionCodec>,
}

impl Default for MjCodec {
    fn default() -> MjCodec {
        MjCodec::over(
            Arc::new(DefaultLogicalExtensionCodec {}),
            Arc::new(DefaultPhysicalExtensionCodec {}),
        )
    }
}

impl MjCodec {
    /// mj's functions over other codecs.
    pub fn over(
        logical: Arc<dyn LogicalExtensionCodec>,
        physical: Arc<dyn PhysicalExtensionCodec>,
    ) -> MjCodec {
        MjCodec { logical, physical }
    }
}

/// A rule's function (its kernel, or the planner's call not yet bound) as bytes: its
/// rule as JSON. DataFusion's own functions travel by name and write nothing here.
fn encode_udf(udf: &ScalarUDF, buf: &mut Vec<u8>) -> Result<()> {
    if let Some(rule) = mj_jit::rule_of(udf).or_else(|| mj_plan::case::placeholder_rule(udf)) {
        buf.extend_from_slice(rule.to_json().as_bytes());
    }
    Ok(())
}

/// A rule kernel read back: the rule, compiled again for this machine.
fn decode_udf(name: &str, buf: &[u8]) -> Result<Arc<ScalarUDF>> {
    if buf.is_empty() {
        return Err(DataFusionError::Plan(format!(
            "the plan calls `{name}`, which is neither DataFusion's nor mj's"
        )));
    }
    let text = std::str::from_utf8(buf)
        .map_err(|e| DataFusionError::Plan(format!("`{name}`: not a rule: {e}")))?;
    let rule = mj_jit::Rule::from_json(text)
        .map_err(|e| DataFusionError::Plan(format!("`{name}`: not a rule: {e}")))?;
    let udf = mj_jit::RuleUdf::new(rule)
        .map_err(|e| DataFusionError::Plan(format!("`{name}` cannot be compiled here: {}", e.0)))?;
    Ok(Arc::new(udf))
}

impl LogicalExtensionCodec for MjCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[LogicalPlan],
        ctx: &TaskContext,
    ) -> Result<Extension> {
        self.logical.try_decode(buf, inputs, ctx)
    }

    fn try_encode(&self, node: &Extension, buf: &mut Vec<u8>) -> Result<()> {
        self.logical.try_encode(node, buf)
    }

    fn try_decode_table_provider(
        &self,
        buf: &[u8],
        table_ref: &TableReference,
        schema: SchemaRef,
        ctx: &TaskContext,
    ) -> Result<Arc<dyn TableProvider>> {
        self.logical
            .try_decode_table_provider(buf, table_ref, schema, ctx)
    }

    fn try_encode_table_provider(
        &self,
        table_ref: &TableReference,
        _node: Arc<dyn TableProvider>,
        _buf: &mut Vec<u8>,
    ) -> Result<()> {
        Err(DataFusionError::Plan(format!(
            "`{table_ref}` is not a Parquet partition, so the plan cannot travel"
        )))
    }

    fn try_decode_file_format(
        &self,
        buf: &[u8],
        ctx: &TaskContext,
    ) -> Result<Arc<dyn FileFormatFactory>> {
        self.logical.try_decode_file_format(buf, ctx)
    }

    fn try_encode_file_format(
        &self,
        buf: &mut Vec<u8>,
        node: Arc<dyn FileFormatFactory>,
    ) -> Result<()> {
        self.logical.try_encode_file_format(buf, node)
    }

    fn try_decode_udf(&self, name: &str, buf: &[u8]) -> Result<Arc<ScalarUDF>> {
        decode_udf(name, buf)
    }

    fn try_encode_udf(&self, node: &ScalarUDF, buf: &mut Vec<u8>) -> Result<()> {
        encode_udf(node, buf)
    }
}

impl PhysicalExtensionCodec for MjCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        ctx: &TaskContext,
        converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        self.physical.try_decode(buf, inputs, ctx, converter)
    }

    fn try_encode(
        &self,
        node: Arc<dyn ExecutionPlan>,
        buf: &mut Vec<u8>,
        converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<()> {
        self.physical.try_encode(node, buf, converter)
    }

    fn try_decode_udf(&self, name: &str, buf: &[u8]) -> Result<Arc<ScalarUDF>> {
        decode_udf(name, buf)
    }

    fn try_encode_udf(&self, node: &ScalarUDF, buf: &mut Vec<u8>) -> Result<()> {
        encode_udf(node, buf)
    }
}

/// A logical plan as bytes.
pub fn encode_logical(plan: &LogicalPlan) -> Result<Vec<u8>> {
    datafusion_proto::bytes::logical_plan_to_bytes_with_extension_codec(plan, &MjCodec::default())
        .map(|b| b.to_vec())
}

/// A logical plan read back, with nothing registered beforehand: tables come from
/// the files the plan names, mj's functions from their rules.
pub fn decode_logical(bytes: &[u8], ctx: &TaskContext) -> Result<LogicalPlan> {
    datafusion_proto::bytes::logical_plan_from_bytes_with_extension_codec(
        bytes,
        ctx,
        &MjCodec::default(),
    )
}

/// A physical plan as bytes.
pub fn encode_physical(plan: Arc<dyn ExecutionPlan>) -> Result<Vec<u8>> {
    datafusion_proto::bytes::physical_plan_to_bytes_with_extension_codec(plan, &MjCodec::default())
        .map(|b| b.to_vec())
}

/// A physical plan read back.
pub fn decode_physical(bytes: &[u8], ctx: &TaskContext) -> Result<Arc<dyn ExecutionPlan>> {
    datafusion_proto::bytes::physical_plan_from_bytes_with_extension_codec(
        bytes,
        ctx,
        &MjCodec::default(),
    )
}
