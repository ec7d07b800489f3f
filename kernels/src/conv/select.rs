//! Which algorithm runs which convolution: the one table of rules, each with the measurement
//! that justifies it (from `cargo run --release -p lineage-bench --bin kernels-report`).

use crate::cpu::Cpu;
use crate::error::Result;
use crate::isa::Isa;
use crate::params::Conv2dParams;
use crate::tensor::Shape;

use super::Algorithm;

/// Fewest input and output channels for which Winograd beats direct: at 3 -> 64 channels
/// (VGG16's first layer, 224x224) F(4x4) ties or loses (1.02x, 0.89x in two runs); at 16
/// channels (56x56) it wins 1.12x and 1.47x, at 32 channels 1.5-2.0x.
const WINOGRAD_MIN_CHANNELS: usize = 16;

/// Fewest F(4x4) output tiles (over the batch) at which F(4x4) beats F(2x2) and direct on any
/// channel count: 28x28 and larger (49+ tiles) run 1.9-2.9x faster than direct, F(2x2) 1.8-1.95x.
const WINOGRAD_F4_MIN_TILES: usize = 32;

/// `c_in * c_out` above which the transformed weights (36 floats per pair for F(4x4)) dominate:
/// on small images such heavy layers still win with F(4x4) from 9 tiles (512 channels at
/// 10x10: 1.35-1.5x, at 14x14: 1.55x, while F(2x2) gives 1.0-1.3x), but not at 7x7 (4 tiles:
/// F(4x4) 0.88x, F(2x2) 0.92x), where direct keeps them.
const WINOGRAD_HEAVY_WEIGHTS: usize = 128 * 1024;
const WINOGRAD_HEAVY_MIN_TILES: usize = 9;

/// Fewest input channels for F(4x4); narrower layers that would take it get F(2x2). With 32
/// input channels (Inception v3/v4's stem) F(4x4)'s error is not diluted by a long dot product:
/// it made v3's and v4's logits 2.1x as far from a float64 run as PyTorch's own (nets/tests/
/// accuracy.rs); F(2x2) there brought them to 0.93x and 1.00x, for 1% of v4's time (Zen 4).
const WINOGRAD_F4_MIN_C_IN: usize = 64;

/// Fewest channels for F(2x2) on small images with light weights: at 14x14 with 64-256
/// channels it runs 1.5-1.9x faster than direct where F(4x4) gives 1.1-1.5x, and at 7x7 with
/// 128-256 channels 1.1-1.5x; with 32 channels the runs disagree (0.8x to 1.2x).
const WINOGRAD_F2_MIN_CHANNELS: usize = 64;

/// Fewest input and output channels per group, and most groups, for which a grouped
/// convolution runs as one dense Winograd convolution per group when Winograd is what one
/// group's dense convolution would take. Why 64: from `lanes` output channels per group on, the
/// grouped kernel already runs each group as a dense GEMM of its own (`pack::grouped`), as fast
/// as direct on one group (grouped-vs-dense, 2026-12-07: 0.99-1.00x), so Winograd's measured
/// gain over direct carries over; 64 is a whole number of vectors on every ISA (4 on AVX-512)
/// and the smallest channel count at which F(2x2) was measured faster on small images (the
/// constant above). Narrower groups share vectors in the grouped kernel, which per-group dense
/// convolutions could not. Why at most 4 groups: the groups run one after another, so many
/// groups mean many small convolutions; only 2 (AlexNet's towers, 13x13, 192 channels per
/// group: F(2x2) 1.08-1.35x faster than the grouped kernel) were measured. ResNeXt's 32 groups
/// keep the grouped kernel.
const PER_GROUP_MIN_CHANNELS: usize = 64;
const PER_GROUP_MAX_GROUPS: usize = 4;

/// Zen 4's Winograd rules (`kernels-report --isa avx2,avx512`, AMD EPYC family 19h model 11h,
/// 1 thread, two runs 2026-12-07; ratios are Winograd's speed over direct, F(2x2) / F(4x4) on
/// AVX-512 first). Winograd gains much less there than on the machines above, most where few
/// channels share each tile's transforms: 128 -> 32 (DenseNet's growth layers) 0.81-0.90x /
/// 0.63-0.84x at 56 down to 7 (AVX2: 0.47-0.81x), 32 -> 32 and 32 -> 64 (Inception v3's stem)
/// 0.71x, 0.96x / 0.55x, 0.71x, 64 -> 64 at 56 0.95-1.08x / 0.78-1.07x (AVX2 0.84-0.89x); with
/// 96 channels and more it wins: 96 at 35 1.12x / 1.07x, 96 -> 128 at 28 1.47x / 1.52x, 192 at 13
/// 1.40x / 1.31x, 512 at 7 1.35-1.38x / 1.40-1.44x, and F(4x4) pulls ahead only with 256
/// channels at 56 (1.55-1.74x / 2.08-2.13x), level at 128 on 28 (1.47-1.50x / 1.48-1.54x). On
/// AVX2, F(2x2) beats F(4x4) on every layer (128 at 28 1.30x / 1.18x, 256 at 56 1.53-1.70x /
/// 1.14-1.40x).
const ZEN4_AVX512_MIN_CHANNELS: usize = 64;
const ZEN4_AVX2_MIN_CHANNELS: usize = 96;
/// Fewest output channels and tiles (28x28) for F(4x4) on Zen 4's AVX-512, where it ties or
/// beats F(2x2): F(4x4) saves GEMM work and spends it on transforms, and each tile's input
/// transform is shared by every output channel (64 -> 64 at 56 and 96 at 35 F(2x2), 96 -> 128
/// at 28 and up F(4x4)).
const ZEN4_F4_MIN_C_OUT: usize = 128;
const ZEN4_F4_MIN_TILES: usize = 49;

/// Picks the algorithm for `p` on inputs of shape `input` on `isa`.
///
/// The rules hold on every ISA measured: the ratios below are from the kernels report, 1
/// thread, on a Zen 3 EPYC (AVX2, 2026-11-29) and on a Sapphire-Rapids-class Xeon (AVX-512 and
/// AVX2 in the same run, 2026-12-06; probe 215 and 114 GFLOP/s). Where an ISA would want a
/// different rule, that is said in its row; none is taken on a machine it was not measured on.
/// A Zen 4 ([`Cpu::Zen4`]) takes Winograd by rules of its own, measured on it (see
/// `ZEN4_AVX512_MIN_CHANNELS`): Winograd from 64 channels in and out (96 on AVX2), F(4x4) only
/// from 128 output channels on 28x28 and larger with AVX-512, F(2x2) otherwise, at any size.
///
/// | rule | why (Winograd's speed over direct) |
/// |---|---|
/// | 1x1, no padding -> pointwise | a plain GEMM; the same micro-kernel with one K segment per pixel |
/// | 1xk / kx1 -> factorized | the 1-D window; same engine, named so plans and reports show it |
/// | 3x3 stride 1, >= 16 channels, >= 32 tiles of 4x4 (28x28 and up) -> Winograd F(4x4) | ResNet-50/VGG16 layers at 224, 112, 56 and 28: Zen 3 AVX2 1.9-2.9x; Xeon AVX-512 1.87-2.57x, AVX2 2.16-2.96x |
/// | the rows above with c_in < 64 -> Winograd F(2x2) instead | accuracy, not speed: F(4x4) on Inception's 32-channel stem doubled the network's error (see the constant) |
/// | 3x3 stride 1, fewer tiles, c_in * c_out > 128K, >= 9 tiles -> Winograd F(4x4) | 512 channels at 14x14: Zen 3 1.55x, at 10x10 1.35-1.5x |
/// | 3x3 stride 1, fewer tiles, light weights, >= 64 channels -> Winograd F(2x2) | 64-256 channels at 14x14: Zen 3 1.5-1.9x (F(4x4) 1.1-1.5x); 128-256 at 7x7: 1.1-1.5x. Xeon 256@14: AVX-512 F(2x2) 1.25x, F(4x4) 1.52x; AVX2 1.54x, 1.94x: F(4x4) would be 1.2x faster there, at 4x F(2x2)'s error, so F(2x2) stays |
/// | 3x3 stride 1, heavy weights, < 9 tiles (7x7) -> direct | 512@7: Zen 3 F(4x4) 0.88x, F(2x2) 0.92x (later runs ~1.0-1.2x); Xeon AVX-512 1.04-1.06x, F(2x2) 0.98x (level, and F(4x4) would add its error); Xeon AVX2 F(4x4) 1.40x, but AVX2 is not the default there |
/// | anything else dense -> direct | implicit GEMM, no im2col copy |
/// | groups = c_in = c_out -> depthwise | vectorized across channels, weights in registers |
/// | 2-4 groups of >= 64 channels in and out whose dense conv takes Winograd -> grouped-winograd (the same variant per group) | AlexNet's conv4/conv5 towers (3x3, 192 channels per group at 13x13): the grouped kernel is as fast as direct per group, F(2x2) 1.08-1.35x faster (see the constants) |
/// | other groups > 1 -> grouped | several small groups per vector, or a dense GEMM per group |
///
/// Errors: F(2x2) has about half of direct's error, F(4x4) about 1.7x (the kernels report's
/// "max err" column). The figures are ratios of one run each on shared machines.
pub fn select(isa: Isa, p: &Conv2dParams, input: Shape) -> Result<Algorithm> {
    select_on(Cpu::detect(), isa, p, input)
}

/// [`select`] for a CPU of kind `cpu`.
fn select_on(cpu: Cpu, isa: Isa, p: &Conv2dParams, input: Shape) -> Result<Algorithm> {
    let out = p.output_shape(input)?;
    if p.groups > 1 {
        if Algorithm::Depthwise.supports(p).is_ok() {
            return Ok(Algorithm::Depthwise);
        }
        Algorithm::Grouped.supports(p)?;
        return Ok(per_group_choice(cpu, isa, p, input)?.unwrap_or(Algorithm::Grouped));
    }
    for algorithm in [Algorithm::Pointwise, Algorithm::Factorized] {
        if algorithm.supports(p).is_ok() {
            return Ok(algorithm);
        }
    }
    let winograd = match (cpu, isa) {
        _ if Algorithm::Winograd4x4.supports(p).is_err() => None,
        (Cpu::Zen4, Isa::Avx2 | Isa::Avx512) => zen4_winograd_choice(isa, p, f4_tiles(out)),
        _ => winograd_choice(p, f4_tiles(out)),
    };
    if let Some(winograd) = winograd {
        return Ok(winograd);
    }
    Algorithm::Direct.supports(p)?;
    Ok(Algorithm::Direct)
}

/// The per-group Winograd algorithm for few, large groups whose one-group dense convolution
/// would take Winograd (see [`PER_GROUP_MIN_CHANNELS`]), if any.
fn per_group_choice(cpu: Cpu, isa: Isa, p: &Conv2dParams, input: Shape) -> Result<Option<Algorithm>> {
    let (cig, cog) = (p.c_in_per_group(), p.c_out / p.groups);
    if p.groups > PER_GROUP_MAX_GROUPS || cig < PER_GROUP_MIN_CHANNELS || cog < PER_GROUP_MIN_CHANNELS {
        return Ok(None);
    }
    let group = super::per_group::group_params(p);
    Ok(match select_on(cpu, isa, &group, Shape { c: cig, ..input })? {
        Algorithm::Winograd2x2 => Some(Algorithm::GroupedWinograd2x2),
        Algorithm::Winograd4x4 => Some(Algorithm::GroupedWinograd4x4),
        _ => None,
    })
}

/// F(4x4) output tiles of an output of shape `out` (over the batch): the image size the rules
/// weigh.
fn f4_tiles(out: Shape) -> usize {
    out.n.saturating_mul(out.h.div_ceil(4)).saturating_mul(out.w.div_ceil(4))
}

/// The Winograd variant measured faster than direct for a layer that Winograd supports, with
/// `tiles` F(4x4) tiles, if any (see the constants).
fn winograd_choice(p: &Conv2dParams, tiles: usize) -> Option<Algorithm> {
    let channels = p.c_in.min(p.c_out);
    let heavy = p.c_in.saturating_mul(p.c_out) > WINOGRAD_HEAVY_WEIGHTS;
    if channels < WINOGRAD_MIN_CHANNELS {
        None
    } else if tiles >= WINOGRAD_F4_MIN_TILES || (heavy && tiles >= WINOGRAD_HEAVY_MIN_TILES) {
        Some(if p.c_in < WINOGRAD_F4_MIN_C_IN { Algorithm::Winograd2x2 } else { Algorithm::Winograd4x4 })
    } else if !heavy && channels >= WINOGRAD_F2_MIN_CHANNELS {
        Some(Algorithm::Winograd2x2)
    } else {
        None
    }
}

/// Zen 4's Winograd variant for a layer that Winograd supports, with `tiles` F(4x4) tiles, if
/// any (see [`ZEN4_AVX512_MIN_CHANNELS`]).
fn zen4_winograd_choice(isa: Isa, p: &Conv2dParams, tiles: usize) -> Option<Algorithm> {
    let channels = p.c_in.min(p.c_out);
    let min_channels = if isa == Isa::Avx512 { ZEN4_AVX512_MIN_CHANNELS } else { ZEN4_AVX2_MIN_CHANNELS };
    if channels < min_channels {
        None
    } else if isa == Isa::Avx512 && p.c_out >= ZEN4_F4_MIN_C_OUT && tiles >= ZEN4_F4_MIN_TILES {
        Some(Algorithm::Winograd4x4)
    } else {
        Some(Algorithm::Winograd2x2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pick(c_in: usize, c_out: usize, hw: usize, stride: usize) -> Algorithm {
        let p = Conv2dParams::square(c_in, c_out, 3, stride, 1);
        select_on(Cpu::Other, Isa::Scalar, &p, Shape::new(1, hw, hw, c_in)).unwrap()
    }

    fn pick_zen4(isa: Isa, c_in: usize, c_out: usize, hw: usize) -> Algorithm {
        let p = Conv2dParams::square(c_in, c_out, 3, 1, 1);
        select_on(Cpu::Zen4, isa, &p, Shape::new(1, hw, hw, c_in)).unwrap()
    }

    #[test]
    fn zen4_takes_winograd_where_it_was_measured_faster_there() {
        use Algorithm::{Direct, Winograd2x2 as F2, Winograd4x4 as F4};
        let avx512 = |c_in, c_out, hw| pick_zen4(Isa::Avx512, c_in, c_out, hw);
        // DenseNet's growth layers and Inception v3's stem: direct.
        assert_eq!([avx512(128, 32, 56), avx512(128, 32, 7), avx512(32, 64, 147)], [Direct; 3]);
        assert_eq!([avx512(64, 64, 56), avx512(96, 96, 35), avx512(512, 512, 7)], [F2; 3]);
        assert_eq!([avx512(128, 128, 28), avx512(256, 256, 56), avx512(64, 192, 56)], [F4; 3]);
        let avx2 = |c_in, c_out, hw| pick_zen4(Isa::Avx2, c_in, c_out, hw);
        assert_eq!([avx2(64, 64, 56), avx2(128, 32, 56)], [Direct; 2]);
        assert_eq!([avx2(96, 96, 35), avx2(256, 256, 56)], [F2; 2]);
        // The scalar ISA (tests) keeps the general rules on a Zen 4 too.
        let p = Conv2dParams::square(256, 256, 3, 1, 1);
        assert_eq!(select_on(Cpu::Zen4, Isa::Scalar, &p, Shape::new(1, 56, 56, 256)).unwrap(), F4);
    }

    #[test]
    fn winograd_where_it_was_measured_faster() {
        assert_eq!(pick(64, 64, 56, 1), Algorithm::Winograd4x4);
        assert_eq!(pick(128, 128, 28, 1), Algorithm::Winograd4x4);
        assert_eq!(pick(512, 512, 28, 1), Algorithm::Winograd4x4);
        assert_eq!(pick(512, 512, 14, 1), Algorithm::Winograd4x4);
        assert_eq!(pick(256, 256, 14, 1), Algorithm::Winograd2x2);
        assert_eq!(pick(128, 128, 7, 1), Algorithm::Winograd2x2);
    }

    #[test]
    fn narrow_inputs_take_the_more_accurate_winograd() {
        assert_eq!(pick(32, 64, 147, 1), Algorithm::Winograd2x2);
        assert_eq!(pick(63, 96, 35, 1), Algorithm::Winograd2x2);
        assert_eq!(pick(64, 96, 35, 1), Algorithm::Winograd4x4);
    }

    #[test]
    fn direct_where_winograd_ties_or_does_not_apply() {
        assert_eq!(pick(512, 512, 7, 1), Algorithm::Direct);
        assert_eq!(pick(32, 32, 14, 1), Algorithm::Direct);
        assert_eq!(pick(3, 64, 224, 1), Algorithm::Direct);
        assert_eq!(pick(64, 64, 56, 2), Algorithm::Direct);
    }

    fn pick_grouped(c_in: usize, c_out: usize, groups: usize, hw: usize, k: usize) -> Algorithm {
        let p = Conv2dParams { groups, ..Conv2dParams::square(c_in, c_out, k, 1, k / 2) };
        select_on(Cpu::Other, Isa::Scalar, &p, Shape::new(1, hw, hw, c_in)).unwrap()
    }

    #[test]
    fn few_large_groups_take_winograd_per_group() {
        // AlexNet's conv4 and conv5 (two towers at 13x13) and a 4-tower layer at 56x56.
        assert_eq!(pick_grouped(384, 384, 2, 13, 3), Algorithm::GroupedWinograd2x2);
        assert_eq!(pick_grouped(384, 256, 2, 13, 3), Algorithm::GroupedWinograd2x2);
        assert_eq!(pick_grouped(256, 256, 4, 56, 3), Algorithm::GroupedWinograd4x4);
        // conv2 (5x5), narrow groups, many groups and 7x7 heavy groups keep the grouped kernel.
        assert_eq!(pick_grouped(96, 256, 2, 27, 5), Algorithm::Grouped);
        assert_eq!(pick_grouped(96, 96, 2, 13, 3), Algorithm::Grouped);
        assert_eq!(pick_grouped(2048, 2048, 32, 7, 3), Algorithm::Grouped);
        assert_eq!(pick_grouped(1024, 1024, 2, 7, 3), Algorithm::Grouped);
        assert_eq!(pick_grouped(384, 384, 2, 13, 1), Algorithm::Grouped);
    }
}
