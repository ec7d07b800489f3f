//! Direct convolution: any kh x kw, stride, padding and dilation, groups = 1, as an implicit
//! GEMM (no im2col buffer).

use crate::error::{KernelError, Result};
use crate::params::Conv2dParams;

/// An error unless the direct algorithm handles `p`.
pub(crate) fn supports(p: &Conv2dParams) -> Result<()> {
    p.validate()?;
    if p.groups != 1 {
        return Err(KernelError::Unsupported(format!(
            "direct conv: groups = {} (use the grouped or depthwise algorithm)",
            p.groups
        )));
    }
    Ok(())
}

super::entry_points!(
    /// Direct convolution on the detected ISA; packs the weights on every call (plan with
    /// [`Conv2d`](super::Conv2d) to pack once).
    conv2d_direct,
    /// Direct convolution on an explicit ISA.
    conv2d_direct_with,
    super::Algorithm::Direct
);
