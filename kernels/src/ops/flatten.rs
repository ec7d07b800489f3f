//! Flatten for classifiers trained on NCHW: PyTorch's `torch.flatten(x, 1)` orders a feature
//! map as (C, H, W), so an NHWC map must be transposed before the first fully connected layer
//! (AlexNet's 256x6x6, VGG's 512x7x7). A (n, 1, 1, c) map is already flat and needs no call.

use crate::error::{KernelError, Result};
use crate::tensor::TensorView;

/// Writes `x` (NHWC) into `y` as `[n][c][h][w]`, the order of PyTorch's flatten.
pub fn flatten_nchw_order(x: &TensorView<'_>, y: &mut [f32]) -> Result<()> {
    let shape = x.shape();
    if y.len() != shape.elements()? {
        return Err(KernelError::ShapeMismatch(format!(
            "flatten: output of {} elements for input {shape:?} ({} elements)",
            y.len(),
            shape.elements()?
        )));
    }
    let plane = shape.h * shape.w;
    for n in 0..shape.n {
        let image = &mut y[n * shape.c * plane..][..shape.c * plane];
        for p in 0..plane {
            for (ch, &v) in x.pixel(n * plane + p).iter().enumerate() {
                image[ch * plane + p] = v;
            }
        }
    }
    Ok(())
}
