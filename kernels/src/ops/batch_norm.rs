//! Batch normalization at inference: a per-channel `y = x * scale + shift`, folded into the
//! preceding convolution where there is one, and standalone (with its ReLU) for DenseNet's
//! pre-activation.

use pulp::Simd;

use crate::epilogue::Activation;
use crate::error::{KernelError, Result};
use crate::isa::Isa;
use crate::ops::pixelwise::{self, ChannelMap};
use crate::ops::simd::activate;
use crate::tensor::{TensorView, TensorViewMut};
use crate::ukernel::simd::load_first;

/// Inference-time batch norm of `scale.len()` channels: `y = x * scale + shift`.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchNorm {
    pub scale: Vec<f32>,
    pub shift: Vec<f32>,
}

impl BatchNorm {
    /// From PyTorch's `weight` (gamma), `bias` (beta), `running_mean`, `running_var` and `eps`:
    /// `scale = gamma / sqrt(var + eps)`, `shift = beta - mean * scale`, computed in f64.
    pub fn from_stats(gamma: &[f32], beta: &[f32], mean: &[f32], var: &[f32], eps: f32) -> Result<Self> {
        let c = gamma.len();
        if c == 0 || beta.len() != c || mean.len() != c || var.len() != c {
            return Err(KernelError::ShapeMismatch(format!(
                "batch_norm: gamma, beta, mean, var have {c}, {}, {}, {} elements (must be equal and nonzero)",
                beta.len(),
                mean.len(),
                var.len()
            )));
        }
        let mut scale = Vec::with_capacity(c);
        let mut shift = Vec::with_capacity(c);
        for i in 0..c {
            let denom = var[i] as f64 + eps as f64;
            if denom.is_nan() || denom <= 0.0 || denom.is_infinite() {
                return Err(KernelError::InvalidParams(format!(
                    "batch_norm: channel {i}: var {} + eps {eps} must be positive and finite",
                    var[i]
                )));
            }
            let s = gamma[i] as f64 / denom.sqrt();
            scale.push(s as f32);
            shift.push((beta[i] as f64 - mean[i] as f64 * s) as f32);
        }
        Ok(BatchNorm { scale, shift })
    }

    /// Number of channels.
    pub fn channels(&self) -> usize {
        self.scale.len()
    }

    fn check(&self, op: &str) -> Result<()> {
        if self.scale.is_empty() || self.scale.len() != self.shift.len() {
            return Err(KernelError::InvalidParams(format!(
                "{op}: scale has {} channels and shift {} (must be equal and nonzero)",
                self.scale.len(),
                self.shift.len()
            )));
        }
        Ok(())
    }

    /// Folds the norm into the convolution before it: OIHW `weights` (`[c_out][...]`, c_out =
    /// the norm's channels) are scaled in place per output channel, and the new bias
    /// `bias * scale + shift` is returned (a missing bias counts as zeros).
    pub fn fold_into_conv(&self, weights: &mut [f32], bias: Option<&[f32]>) -> Result<Vec<f32>> {
        self.check("batch_norm fold")?;
        let c = self.channels();
        if weights.is_empty() || weights.len() % c != 0 {
            return Err(KernelError::ShapeMismatch(format!(
                "batch_norm fold: {} conv weights are not a whole number of rows for {c} output channels",
                weights.len()
            )));
        }
        if let Some(b) = bias {
            if b.len() != c {
                return Err(KernelError::ShapeMismatch(format!(
                    "batch_norm fold: conv bias has {} elements, the norm {c} channels",
                    b.len()
                )));
            }
        }
        let per_channel = weights.len() / c;
        for (row, &s) in weights.chunks_exact_mut(per_channel).zip(&self.scale) {
            row.iter_mut().for_each(|w| *w *= s);
        }
        Ok((0..c).map(|i| bias.map_or(0.0, |b| b[i]) * self.scale[i] + self.shift[i]).collect())
    }
}

struct ScaleShift<'a> {
    bn: &'a BatchNorm,
    act: Activation,
}

impl ChannelMap for ScaleShift<'_> {
    #[inline(always)]
    unsafe fn map<S: Simd>(&self, simd: S, c0: usize, n: usize, a: S::f32s, _b: S::f32s) -> S::f32s {
        // SAFETY: c0 + n <= the channels of x, which equal the norm's (checked in batch_norm_with).
        let (scale, shift) = unsafe {
            (
                load_first(simd, self.bn.scale.as_ptr().add(c0), n),
                load_first(simd, self.bn.shift.as_ptr().add(c0), n),
            )
        };
        activate(simd, self.act, simd.mul_add_f32s(a, scale, shift))
    }
}

/// `y = act(x * scale + shift)` per channel.
pub fn batch_norm(
    bn: &BatchNorm,
    act: Activation,
    x: &TensorView<'_>,
    y: &mut TensorViewMut<'_>,
) -> Result<()> {
    batch_norm_with(Isa::detect(), bn, act, x, y)
}

/// [`batch_norm`] on an explicit ISA.
pub fn batch_norm_with(
    isa: Isa,
    bn: &BatchNorm,
    act: Activation,
    x: &TensorView<'_>,
    y: &mut TensorViewMut<'_>,
) -> Result<()> {
    bn.check("batch_norm")?;
    if x.shape().c != bn.channels() {
        return Err(KernelError::ShapeMismatch(format!(
            "batch_norm: input has {} channels, the norm {}",
            x.shape().c,
            bn.channels()
        )));
    }
    pixelwise::run(isa, "batch_norm", &ScaleShift { bn, act }, x, None, y)
}
