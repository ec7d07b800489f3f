//! Packing of OIHW 3x3 weights for the Winograd convolutions: the filter transform `G g Gt`
//! is done here, once, in f64 (then rounded), and laid out for the GEMM micro-kernel.
//!
//! Layout: `u = oc/nr - xi - ic - nr(oc)`, zero-padded to whole blocks, where `xi < alpha^2`
//! is the transform-domain position and `nr = max_nv * lanes` output channels (one register
//! tile's width). One block's panels for all `xi` are contiguous, so the batched GEMMs of a
//! block of output channels stream through them once.

use aligned_vec::{avec, AVec};

use crate::conv::winograd::WinogradVariant;
use crate::error::{checked_product, KernelError, Result};
use crate::isa::Isa;
use crate::params::Conv2dParams;
use crate::ukernel::tiles::max_nv;
use crate::ukernel::winograd::{F2_G, F4_G};

/// Weights of a 3x3 stride-1 convolution, filter-transformed and packed for one ISA.
#[derive(Clone, Debug)]
pub struct PackedWinogradWeights {
    pub(crate) params: Conv2dParams,
    pub(crate) isa: Isa,
    pub(crate) variant: WinogradVariant,
    /// Output channels per block.
    pub(crate) nr: usize,
    pub(crate) weights: AVec<f32>,
    /// Bias padded to whole blocks (zeros when there is none).
    pub(crate) bias: AVec<f32>,
    /// A zero row standing in for padded input pixels, `c_in` long.
    pub(crate) zeros: AVec<f32>,
}

/// `G g Gt` in f64 for a 3x3 filter `g` (row-major), written row-major into `u`.
fn filter_transform<const A: usize>(gm: &[[f64; 3]; A], g: &[f64; 9], u: &mut [f64]) {
    let mut gg = [[0.0f64; 3]; A];
    for (i, row) in gg.iter_mut().enumerate() {
        for (l, v) in row.iter_mut().enumerate() {
            *v = (0..3).map(|k| gm[i][k] * g[k * 3 + l]).sum();
        }
    }
    for i in 0..A {
        for j in 0..A {
            u[i * A + j] = (0..3).map(|l| gg[i][l] * gm[j][l]).sum();
        }
    }
}

impl PackedWinogradWeights {
    /// Transforms and packs OIHW `weights` `[c_out][c_in][3][3]` and an optional bias for `isa`.
    pub fn new(
        isa: Isa,
        variant: WinogradVariant,
        params: &Conv2dParams,
        weights: &[f32],
        bias: Option<&[f32]>,
    ) -> Result<Self> {
        crate::conv::winograd::supports(params)?;
        isa.ensure_available()?;
        super::check_weight_and_bias(params, weights.len(), bias)?;
        let lanes = isa.lanes();
        let nr = max_nv(lanes) * lanes;
        let (c_in, c_out) = (params.c_in, params.c_out);
        let area = variant.alpha() * variant.alpha();
        let blocks = c_out.div_ceil(nr);
        let len = checked_product("packed winograd weights", &[blocks, nr, area, c_in])?;
        let mut packed = avec![0.0f32; len];
        let mut u = vec![0.0f64; area];
        for oc in 0..c_out {
            let (block, j) = (oc / nr, oc % nr);
            for ic in 0..c_in {
                let base = (oc * c_in + ic) * 9;
                let g: [f64; 9] = core::array::from_fn(|k| weights[base + k] as f64);
                match variant {
                    WinogradVariant::F2x2 => filter_transform(&F2_G, &g, &mut u),
                    WinogradVariant::F4x4 => filter_transform(&F4_G, &g, &mut u),
                }
                for (xi, &value) in u.iter().enumerate() {
                    packed[((block * area + xi) * c_in + ic) * nr + j] = value as f32;
                }
            }
        }
        let mut padded_bias = avec![0.0f32; blocks * nr];
        if let Some(b) = bias {
            padded_bias[..c_out].copy_from_slice(b);
        }
        Ok(PackedWinogradWeights {
            params: *params,
            isa,
            variant,
            nr,
            weights: packed,
            bias: padded_bias,
            zeros: avec![0.0f32; c_in],
        })
    }

    pub fn variant(&self) -> WinogradVariant {
        self.variant
    }

    /// The transformed filter of output channel `oc`, input channel `ic`: `alpha^2` values
    /// row-major (what the filter-transform test compares with the reference).
    pub fn transformed_filter(&self, oc: usize, ic: usize) -> Result<Vec<f32>> {
        let (c_in, c_out) = (self.params.c_in, self.params.c_out);
        if oc >= c_out || ic >= c_in {
            return Err(KernelError::InvalidParams(format!(
                "winograd transformed_filter: (oc, ic) = ({oc}, {ic}) outside {c_out} x {c_in}"
            )));
        }
        let area = self.variant.alpha() * self.variant.alpha();
        let (block, j) = (oc / self.nr, oc % self.nr);
        Ok((0..area).map(|xi| self.weights[((block * area + xi) * c_in + ic) * self.nr + j]).collect())
    }
}

packed_accessors!(PackedWinogradWeights);
