//! Rule kernels compiled by Cranelift.
