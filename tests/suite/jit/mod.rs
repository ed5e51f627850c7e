//! The rule kernels (`mj-jit`): three-valued logic and float order by hand, a
//! differential property test against DataFusion's own evaluation, and kernels inside
//! DataFusion queries.

mod common;
mod differential;
mod query;
mod semantics;
