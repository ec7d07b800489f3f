//! Weight packing, done once at plan time, per algorithm and ISA.

mod gemm;

pub use gemm::PackedGemmWeights;
