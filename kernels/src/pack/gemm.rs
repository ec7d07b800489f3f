//! Packing of OIHW weights for the implicit-GEMM convolutions (direct, pointwise, factorized).
//!
//! Layout: `w = oc/nr - ic/kc - kh - kw - ic%kc - nr(oc)`, zero-padded to whole blocks, where
//! `nr = max_nv * lanes` output channels (one register tile's width) and `kc` input channels
//! form one K chunk sized to stay in L2 while a band of pixels streams past it.

use aligned_vec::{avec, AVec};

use crate::error::{KernelError, Result};
use crate::isa::Isa;
use crate::params::Conv2dParams;
use crate::ukernel::tiles::max_nv;

/// Floats of one (block, chunk) weight panel we aim to keep in L2 (256 KiB of a 512 KiB+ L2).
const PANEL_BUDGET: usize = 64 * 1024;

/// Floats of the panels one tile sweeps across several blocks: they should stay in L1 (24 KiB
/// of 32+ KiB), so only short-K layers (1x1 with few input channels) group blocks.
const GROUP_BUDGET: usize = 6 * 1024;

/// Weights of a dense (groups = 1) convolution, packed for the GEMM micro-kernel of one ISA.
#[derive(Clone, Debug)]
pub struct PackedGemmWeights {
    pub(crate) params: Conv2dParams,
    pub(crate) isa: Isa,
    /// Output channels per block.
    pub(crate) nr: usize,
    /// Input channels per K chunk.
    pub(crate) kc: usize,
    /// Output-channel blocks one task computes per tile (their panels share the L2 budget).
    pub(crate) group_blocks: usize,
    pub(crate) weights: AVec<f32>,
    /// Bias padded to whole blocks (zeros when there is none).
    pub(crate) bias: AVec<f32>,
    /// A zero row standing in for padded input pixels, as long as the longest K segment.
    pub(crate) zeros: AVec<f32>,
}

impl PackedGemmWeights {
    /// Packs OIHW `weights` `[c_out][c_in][kh][kw]` and an optional bias for `isa`.
    pub fn new(isa: Isa, params: &Conv2dParams, weights: &[f32], bias: Option<&[f32]>) -> Result<Self> {
        params.validate()?;
        isa.ensure_available()?;
        if params.groups != 1 {
            return Err(KernelError::Unsupported(format!(
                "GEMM packing: groups = {} (dense convolutions only; use the grouped algorithm)",
                params.groups
            )));
        }
        super::check_weight_and_bias(params, weights.len(), bias)?;
        let lanes = isa.lanes();
        let nr = max_nv(lanes) * lanes;
        let taps = params.kh * params.kw;
        let (c_in, c_out) = (params.c_in, params.c_out);
        // Even chunks no larger than the budget allows, then as many blocks as fit beside them.
        let chunks = c_in.div_ceil((PANEL_BUDGET / (taps * nr)).clamp(1, c_in));
        let kc = c_in.div_ceil(chunks);
        let group_blocks = (GROUP_BUDGET / (taps * kc * nr)).max(1);
        let blocks = c_out.div_ceil(nr);
        let len = crate::error::checked_product("packed conv weights", &[blocks, nr, taps, c_in])?;
        let mut packed = avec![0.0f32; len];
        let mut dst = 0;
        for block in 0..blocks {
            for ic0 in (0..c_in).step_by(kc) {
                for tap in 0..taps {
                    for ic in ic0..(ic0 + kc).min(c_in) {
                        for j in 0..nr {
                            let oc = block * nr + j;
                            if oc < c_out {
                                packed[dst] = weights[(oc * c_in + ic) * taps + tap];
                            }
                            dst += 1;
                        }
                    }
                }
            }
        }
        let mut padded_bias = avec![0.0f32; blocks * nr];
        if let Some(b) = bias {
            padded_bias[..c_out].copy_from_slice(b);
        }
        Ok(PackedGemmWeights {
            params: *params,
            isa,
            nr,
            kc,
            group_blocks,
            weights: packed,
            bias: padded_bias,
            zeros: avec![0.0f32; kc.max(params.kw * c_in)],
        })
    }
}

packed_accessors!(PackedGemmWeights);
