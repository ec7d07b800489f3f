//! Which algorithm runs which convolution: the one table of rules, each with the measurement
//! that justifies it (from `cargo run --release -p lineage-bench --bin kernels-report`).

use crate::error::Result;
use crate::isa::Isa;
use crate::params::Conv2dParams;
use crate::tensor::Shape;

use super::Algorithm;

/// Fewest input and output channels for which Winograd beats direct: at 3 -> 64 channels
/// (VGG16's first layer, 224x224) F(4x4) ties or loses (1.02x, 0.89x in two runs); at 16
/// channels (56x56) it wins 1.12x and 1.47x, at 32 channels 1.5-2.0x.
const WINOGRAD_MIN_CHANNELS: usize = 16;

/// `c_in * c_out` above which the transformed weights (36 floats per pair for F(4x4), 4x the
/// direct weights) no longer fit the caches and must be amortized over many tiles.
const WINOGRAD_HEAVY_WEIGHTS: usize = 128 * 1024;

/// Fewest F(4x4) output tiles (over the batch) that amortize heavy transformed weights: 512
/// channels at 28x28 (49 tiles) win 1.7-2.0x; at 14x14 (16 tiles) 1.09x and 1.31x, at 7x7
/// (4 tiles) 0.79x to 1.13x over four runs: too close to call, so direct (less workspace, less
/// error) keeps them. 128 channels at 7x7 (light weights) win 1.9x and are picked.
const WINOGRAD_HEAVY_MIN_TILES: usize = 32;

/// Picks the algorithm for `p` on inputs of shape `input` on `isa`.
///
/// | rule | why |
/// |---|---|
/// | 1x1, no padding -> pointwise | a plain GEMM; the same micro-kernel with one K segment per pixel |
/// | 1xk / kx1 -> factorized | the 1-D window; same engine, named so plans and reports show it |
/// | 3x3 stride 1, >= 16 channels in and out, and (c_in * c_out <= 128K or >= 32 tiles of 4x4) -> Winograd F(4x4) | 1.6-2.9x faster than direct on the ResNet-50/VGG16 layers at 112, 56, 28 and 14 (AVX2, 1 thread; the kernels report's Winograd rows) |
/// | anything else dense -> direct | implicit GEMM, no im2col copy |
/// | groups = c_in = c_out -> depthwise | vectorized across channels, weights in registers |
/// | other groups > 1 -> grouped | several small groups per vector, or a dense GEMM per group |
///
/// Winograd F(2x2) is never picked: F(4x4) was as fast or faster on every measured layer; F(2x2)
/// stays available for its accuracy (about half of direct's error, F(4x4) about 1.7x).
pub fn select(_isa: Isa, p: &Conv2dParams, input: Shape) -> Result<Algorithm> {
    let out = p.output_shape(input)?;
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
    if Algorithm::Winograd4x4.supports(p).is_ok() && winograd_wins(p, out) {
        return Ok(Algorithm::Winograd4x4);
    }
    Algorithm::Direct.supports(p)?;
    Ok(Algorithm::Direct)
}

/// Where F(4x4) was measured faster than direct (see the constants).
fn winograd_wins(p: &Conv2dParams, out: Shape) -> bool {
    let tiles = out.n.saturating_mul(out.h.div_ceil(4)).saturating_mul(out.w.div_ceil(4));
    p.c_in.min(p.c_out) >= WINOGRAD_MIN_CHANNELS
        && (p.c_in.saturating_mul(p.c_out) <= WINOGRAD_HEAVY_WEIGHTS || tiles >= WINOGRAD_HEAVY_MIN_TILES)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pick(c_in: usize, c_out: usize, hw: usize, stride: usize) -> Algorithm {
        let p = Conv2dParams::square(c_in, c_out, 3, stride, 1);
        select(Isa::Scalar, &p, Shape::new(1, hw, hw, c_in)).unwrap()
    }

    #[test]
    fn winograd_where_it_was_measured_faster() {
        assert_eq!(pick(64, 64, 56, 1), Algorithm::Winograd4x4);
        assert_eq!(pick(128, 128, 28, 1), Algorithm::Winograd4x4);
        assert_eq!(pick(256, 256, 14, 1), Algorithm::Winograd4x4);
        assert_eq!(pick(512, 512, 28, 1), Algorithm::Winograd4x4);
        assert_eq!(pick(128, 128, 7, 1), Algorithm::Winograd4x4);
    }

    #[test]
    fn direct_where_winograd_ties_or_does_not_apply() {
        assert_eq!(pick(512, 512, 7, 1), Algorithm::Direct);
        assert_eq!(pick(512, 512, 14, 1), Algorithm::Direct);
        assert_eq!(pick(3, 64, 224, 1), Algorithm::Direct);
        assert_eq!(pick(64, 64, 56, 2), Algorithm::Direct);
    }
}
