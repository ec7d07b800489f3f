//! Weight packing, done once at plan time, per algorithm and ISA.

mod gemm;
mod winograd;

pub use gemm::PackedGemmWeights;
pub use winograd::PackedWinogradWeights;
