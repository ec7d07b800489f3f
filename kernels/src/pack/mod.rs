//! Weight packing, done once at plan time, per algorithm and ISA.

use crate::error::{KernelError, Result};
use crate::params::Conv2dParams;

/// The accessors every packed-weights type shares: its layer's parameters, its ISA, and the
/// bytes its `weights`, `bias` and `zeros` buffers hold.
macro_rules! packed_accessors {
    ($packed:ty) => {
        impl $packed {
            pub fn params(&self) -> &crate::params::Conv2dParams {
                &self.params
            }

            pub fn isa(&self) -> crate::isa::Isa {
                self.isa
            }

            /// Bytes held by the packed weights, bias and zero padding.
            pub fn size_bytes(&self) -> usize {
                (self.weights.len() + self.bias.len() + self.zeros.len()) * std::mem::size_of::<f32>()
            }
        }
    };
}

pub(crate) mod depthwise;
mod gemm;
pub(crate) mod grouped;
mod winograd;

pub use depthwise::PackedDepthwiseWeights;
pub use gemm::PackedGemmWeights;
pub use grouped::PackedGroupedWeights;
pub use winograd::PackedWinogradWeights;

/// An error unless `len` is the OIHW weight length of `p` and the bias (if any) has c_out values.
pub(crate) fn check_weight_and_bias(p: &Conv2dParams, len: usize, bias: Option<&[f32]>) -> Result<()> {
    let want = p.weight_len()?;
    if len != want {
        return Err(KernelError::ShapeMismatch(format!(
            "conv2d weights: {len} elements, expected {want} = {} x {} x {} x {} (OIHW, groups = {})",
            p.c_out,
            p.c_in_per_group(),
            p.kh,
            p.kw,
            p.groups
        )));
    }
    if let Some(b) = bias {
        if b.len() != p.c_out {
            return Err(KernelError::ShapeMismatch(format!(
                "conv2d bias: {} elements, expected c_out = {}",
                b.len(),
                p.c_out
            )));
        }
    }
    Ok(())
}
