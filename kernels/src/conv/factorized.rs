//! Factorized 1xk and kx1 convolutions (Inception v3's 1x7/7x1 and 1x3/3x1).
//!
//! They run on the implicit-GEMM engine: a 1xk row is one contiguous K segment of `k * c_in`
//! when the row lies inside the image, which is exactly the 1-D sliding window; a kx1 column
//! is k segments of `c_in`. The kernels report shows both at the direct kernel's efficiency,
//! so a separate 1-D kernel has not earned its place.

use crate::error::{KernelError, Result};
use crate::params::Conv2dParams;

/// An error unless `p` is a dense 1xk or kx1 convolution with k > 1.
pub(crate) fn supports(p: &Conv2dParams) -> Result<()> {
    super::direct::supports(p)?;
    if (p.kh == 1) == (p.kw == 1) {
        return Err(KernelError::Unsupported(format!(
            "factorized conv: needs a 1xk or kx1 kernel with k > 1, got {}x{}",
            p.kh, p.kw
        )));
    }
    Ok(())
}

super::entry_points!(
    /// 1xk / kx1 convolution on the detected ISA; packs the weights on every call.
    conv2d_factorized,
    /// 1xk / kx1 convolution on an explicit ISA.
    conv2d_factorized_with,
    super::Algorithm::Factorized
);
