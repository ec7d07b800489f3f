//! Pointwise (1x1) convolution: a GEMM of the pixels (at any stride) by the weights.

use crate::error::{KernelError, Result};
use crate::params::Conv2dParams;

/// An error unless `p` is a dense 1x1 convolution without padding.
pub(crate) fn supports(p: &Conv2dParams) -> Result<()> {
    super::direct::supports(p)?;
    if p.kh != 1 || p.kw != 1 || p.pad != Default::default() {
        return Err(KernelError::Unsupported(format!(
            "pointwise conv: needs a 1x1 kernel without padding, got {}x{} with {:?}",
            p.kh, p.kw, p.pad
        )));
    }
    Ok(())
}

super::entry_points!(
    /// 1x1 convolution on the detected ISA; packs the weights on every call.
    conv2d_pointwise,
    /// 1x1 convolution on an explicit ISA.
    conv2d_pointwise_with,
    super::Algorithm::Pointwise
);
