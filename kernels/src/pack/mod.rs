//! Weight packing, done once at plan time, per algorithm and ISA.

pub(crate) mod depthwise;
mod gemm;

pub use depthwise::PackedDepthwiseWeights;
pub use gemm::PackedGemmWeights;
