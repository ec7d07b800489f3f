//! Packing of grouped OIHW weights into blocks for the GEMM micro-kernel.
//!
//! A block is a run of output channels that one register tile computes, over the contiguous
//! run of input channels its groups read:
//! - few output channels per group (at most one vector): as many whole groups as fit in one
//!   vector share it, so 4 channels per group fill an 8-lane vector with 2 groups (a 16-lane one
//!   with 4). Where the staged path takes the layer ([`crate::conv::grouped_staged`]), row `j`
//!   of a tap holds, in each group's lanes, the weights of that group's input channel `j` (the
//!   staged input replicates channel `j` of each group into its lanes). Otherwise the weights
//!   are block-diagonal: row `kk` is input channel `ic0 + kk`, zero in the other groups' lanes;
//! - more: each group alone, split into blocks of up to `max_nv` vectors (a dense GEMM per group).
//!
//! Layout: `w = block - kh - kw - k - nr(oc)` with `k = kmax` input-channel rows per tap (rows
//! past a short block's k are zero) and `nr = nv * lanes` columns (zero past the block's width).

use aligned_vec::{avec, AVec};

use super::check_weight_and_bias;
use crate::error::{checked_product, KernelError, Result};
use crate::isa::Isa;
use crate::params::Conv2dParams;
use crate::ukernel::tiles::max_nv;

/// The output and input channels of one packed block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct GroupBlock {
    /// First output channel and number of output channels (`1..=nr`).
    pub oc0: usize,
    pub width: usize,
    /// First input channel and the K of each tap (the block's input channels, or with
    /// replicated input the channels of one group).
    pub ic0: usize,
    pub k: usize,
}

/// Weights of a grouped convolution (`groups > 1`, any divisor of both channel counts), packed
/// for one ISA.
#[derive(Clone, Debug)]
pub struct PackedGroupedWeights {
    pub(crate) params: Conv2dParams,
    pub(crate) isa: Isa,
    pub(crate) blocks: Vec<GroupBlock>,
    /// The staged path runs it, on replicated input (several groups per block).
    pub(crate) staged: bool,
    /// Columns per block (a whole number of vectors) and input-channel rows per tap.
    pub(crate) nr: usize,
    pub(crate) kmax: usize,
    pub(crate) weights: AVec<f32>,
    /// Bias per block, `nr` values each (zeros when there is none).
    pub(crate) bias: AVec<f32>,
    /// A zero row standing in for padded input pixels, `kmax` long.
    pub(crate) zeros: AVec<f32>,
}

/// An error unless `p` is a valid grouped convolution (groups > 1 dividing both channel counts).
pub(crate) fn check_grouped(p: &Conv2dParams) -> Result<()> {
    p.validate()?;
    if p.groups < 2 {
        return Err(KernelError::Unsupported(format!(
            "grouped conv: groups = {} (a dense convolution; use direct, pointwise or factorized)",
            p.groups
        )));
    }
    Ok(())
}

/// The blocks of `p` for `lanes`-wide vectors (for the staged path if `staged`), and their
/// common column count `nr`.
fn plan_blocks(p: &Conv2dParams, lanes: usize, staged: bool) -> (Vec<GroupBlock>, usize) {
    let (cig, cog) = (p.c_in_per_group(), p.c_out / p.groups);
    if cog <= lanes {
        let per_block = lanes / cog;
        let blocks = (0..p.groups)
            .step_by(per_block)
            .map(|g0| {
                let n = per_block.min(p.groups - g0);
                GroupBlock {
                    oc0: g0 * cog,
                    width: n * cog,
                    ic0: g0 * cig,
                    k: if staged { cig } else { n * cig },
                }
            })
            .collect();
        (blocks, lanes)
    } else {
        let nr = cog.div_ceil(lanes).min(max_nv(lanes)) * lanes;
        let blocks = (0..p.groups)
            .flat_map(|g| {
                (0..cog).step_by(nr).map(move |j| GroupBlock {
                    oc0: g * cog + j,
                    width: nr.min(cog - j),
                    ic0: g * cig,
                    k: cig,
                })
            })
            .collect();
        (blocks, nr)
    }
}

impl PackedGroupedWeights {
    /// Packs OIHW `weights` `[c_out][c_in / groups][kh][kw]` and an optional bias for `isa`.
    pub fn new(isa: Isa, params: &Conv2dParams, weights: &[f32], bias: Option<&[f32]>) -> Result<Self> {
        check_grouped(params)?;
        isa.ensure_available()?;
        check_weight_and_bias(params, weights.len(), bias)?;
        let (cig, cog) = (params.c_in_per_group(), params.c_out / params.groups);
        let taps = params.kh * params.kw;
        let staged = crate::conv::grouped_staged::takes(params, isa.lanes());
        let (blocks, nr) = plan_blocks(params, isa.lanes(), staged);
        let kmax = blocks.iter().map(|b| b.k).max().unwrap_or(1);
        let len = checked_product("packed grouped weights", &[blocks.len(), taps, kmax, nr])?;
        let mut packed = avec![0.0f32; len];
        let mut padded_bias = avec![0.0f32; blocks.len() * nr];
        for (bi, b) in blocks.iter().enumerate() {
            for j in 0..b.width {
                let oc = b.oc0 + j;
                let g = oc / cog;
                for kk in 0..b.k {
                    // The input channel within group g that row kk holds in lane j.
                    let Some(ic) = (if staged { Some(kk) } else { (b.ic0 + kk).checked_sub(g * cig) }) else {
                        continue; // block-diagonal: an earlier group's input
                    };
                    if ic >= cig {
                        continue; // block-diagonal: a later group's input
                    }
                    for tap in 0..taps {
                        packed[((bi * taps + tap) * kmax + kk) * nr + j] =
                            weights[(oc * cig + ic) * taps + tap];
                    }
                }
                if let Some(bias) = bias {
                    padded_bias[bi * nr + j] = bias[oc];
                }
            }
        }
        Ok(PackedGroupedWeights {
            params: *params,
            isa,
            blocks,
            staged,
            nr,
            kmax,
            weights: packed,
            bias: padded_bias,
            zeros: avec![0.0f32; kmax],
        })
    }
}

packed_accessors!(PackedGroupedWeights);
