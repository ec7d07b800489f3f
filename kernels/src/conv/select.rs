//! Which algorithm runs which convolution: the one table of rules, each with the measurement
//! that justifies it (from `cargo run --release -p lineage-bench --bin kernels-report`).

use crate::error::Result;
use crate::isa::Isa;
use crate::params::Conv2dParams;
use crate::tensor::Shape;

use super::Algorithm;

/// Picks the algorithm for `p` on inputs of shape `input` on `isa`.
///
/// | rule | why |
/// |---|---|
/// | 1x1, no padding -> pointwise | a plain GEMM; the same micro-kernel with one K segment per pixel |
/// | 1xk / kx1 -> factorized | the 1-D window; same engine, named so plans and reports show it |
/// | anything else dense -> direct | implicit GEMM, no im2col copy |
/// | groups = c_in = c_out -> depthwise | vectorized across channels, weights in registers |
/// | other groups > 1 -> grouped | several small groups per vector, or a dense GEMM per group |
pub fn select(_isa: Isa, p: &Conv2dParams, input: Shape) -> Result<Algorithm> {
    p.output_shape(input)?;
    if p.groups > 1 {
        if Algorithm::Depthwise.supports(p).is_ok() {
            return Ok(Algorithm::Depthwise);
        }
        Algorithm::Grouped.supports(p)?;
        return Ok(Algorithm::Grouped);
    }
    for algorithm in [Algorithm::Pointwise, Algorithm::Factorized] {
        if algorithm.supports(p).is_ok() {
            return Ok(algorithm);
        }
    }
    Algorithm::Direct.supports(p)?;
    Ok(Algorithm::Direct)
}
