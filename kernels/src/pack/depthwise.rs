//! Packing of depthwise (channel multiplier 1) OIHW weights for the dwconv micro-kernels.
//!
//! Layout: `w = c/lanes - kh - kw - lanes(c)`, zero-padded to whole vectors, so the taps of one
//! channel vector are `kh * kw` consecutive vectors; the bias is padded the same way.

use aligned_vec::{avec, AVec};

use crate::error::{checked_product, KernelError, Result};
use crate::isa::Isa;
use crate::params::Conv2dParams;

/// Weights of a depthwise convolution (`groups = c_in = c_out`), packed for one ISA.
#[derive(Clone, Debug)]
pub struct PackedDepthwiseWeights {
    pub(crate) params: Conv2dParams,
    pub(crate) isa: Isa,
    pub(crate) weights: AVec<f32>,
    /// Bias padded to whole vectors (zeros when there is none).
    pub(crate) bias: AVec<f32>,
    /// One vector of zeros standing in for input rows above or below the image.
    pub(crate) zeros: AVec<f32>,
}

/// An error unless `p` is a depthwise convolution with channel multiplier 1.
pub(crate) fn check_depthwise(p: &Conv2dParams) -> Result<()> {
    p.validate()?;
    if p.groups != p.c_in || p.c_out != p.c_in {
        return Err(KernelError::Unsupported(format!(
            "depthwise conv: needs groups = c_in = c_out (multiplier 1), got groups = {}, c_in = {}, c_out = {} (use the grouped algorithm)",
            p.groups, p.c_in, p.c_out
        )));
    }
    Ok(())
}

impl PackedDepthwiseWeights {
    /// Packs OIHW `weights` `[c][1][kh][kw]` and an optional bias for `isa`.
    pub fn new(isa: Isa, params: &Conv2dParams, weights: &[f32], bias: Option<&[f32]>) -> Result<Self> {
        check_depthwise(params)?;
        isa.ensure_available()?;
        super::check_weight_and_bias(params, weights.len(), bias)?;
        let lanes = isa.lanes();
        let taps = params.kh * params.kw;
        let c = params.c_out;
        let padded = c.div_ceil(lanes) * lanes;
        let mut packed = avec![0.0f32; checked_product("packed depthwise weights", &[padded, taps])?];
        for ch in 0..c {
            let (block, lane) = (ch / lanes, ch % lanes);
            for tap in 0..taps {
                packed[(block * taps + tap) * lanes + lane] = weights[ch * taps + tap];
            }
        }
        let mut padded_bias = avec![0.0f32; padded];
        if let Some(b) = bias {
            padded_bias[..c].copy_from_slice(b);
        }
        Ok(PackedDepthwiseWeights {
            params: *params,
            isa,
            weights: packed,
            bias: padded_bias,
            zeros: avec![0.0f32; lanes],
        })
    }
}

packed_accessors!(PackedDepthwiseWeights);
