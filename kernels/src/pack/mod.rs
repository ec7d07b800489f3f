//! Weight packing, done once at plan time, per algorithm and ISA.

pub(crate) mod depthwise;
mod gemm;
pub(crate) mod grouped;

pub use depthwise::PackedDepthwiseWeights;
pub use gemm::PackedGemmWeights;
pub use grouped::PackedGroupedWeights;
