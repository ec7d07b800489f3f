//! Innermost loops, generic over `pulp::Simd`: no loop here ever walks a whole tensor.

pub(crate) mod dwconv;
pub(crate) mod gemm;
pub(crate) mod row_store;
pub(crate) mod simd;
pub(crate) mod tiles;
pub(crate) mod winograd;
