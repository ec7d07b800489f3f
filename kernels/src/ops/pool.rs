//! Max, average, adaptive-average and global-average pooling with PyTorch's rules for the
//! output size (`ceil_mode`), the windows and the divisor (`count_include_pad`).

use crate::error::{KernelError, Result};
use crate::isa::Isa;
use crate::ops::pool_kernel::{self, Axis, Reduce};
use crate::params::{Padding, MAX_DIM};
use crate::tensor::{Shape, TensorView, TensorViewMut};

/// A 2-D pooling window. Padding may be asymmetric; each side must be smaller than the kernel
/// along its axis, so that every window overlaps the input (PyTorch asks for at most half).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Pool2dParams {
    pub kh: usize,
    pub kw: usize,
    pub stride_h: usize,
    pub stride_w: usize,
    pub pad: Padding,
    /// Round the output size up, keeping a last window only if it starts inside the input or
    /// the leading padding (PyTorch's rule).
    pub ceil_mode: bool,
    /// Average pooling divides by the window clipped to the padded input (true) or to the input
    /// alone (false).
    pub count_include_pad: bool,
}

impl Pool2dParams {
    /// A square `k x k` window with stride and symmetric padding, floor mode, padding counted.
    pub const fn square(k: usize, stride: usize, pad: usize) -> Self {
        Pool2dParams {
            kh: k,
            kw: k,
            stride_h: stride,
            stride_w: stride,
            pad: Padding::uniform(pad),
            ceil_mode: false,
            count_include_pad: true,
        }
    }

    /// Output `(height, width)` for an `h x w` input, validating the parameters.
    pub fn output_hw(&self, h: usize, w: usize) -> Result<(usize, usize)> {
        let oh = self.out_dim("height", h, self.kh, self.stride_h, self.pad.top, self.pad.bottom)?;
        let ow = self.out_dim("width", w, self.kw, self.stride_w, self.pad.left, self.pad.right)?;
        Ok((oh, ow))
    }

    fn out_dim(
        &self,
        axis: &str,
        size: usize,
        k: usize,
        s: usize,
        pad0: usize,
        pad1: usize,
    ) -> Result<usize> {
        for (name, v) in [("input", size), ("kernel", k), ("stride", s)] {
            if v == 0 || v > MAX_DIM {
                return Err(KernelError::InvalidParams(format!(
                    "pool2d: {name} {axis} = {v} must be in 1..={MAX_DIM} ({self:?})"
                )));
            }
        }
        if pad0 >= k || pad1 >= k {
            return Err(KernelError::InvalidParams(format!(
                "pool2d: {axis} padding {pad0}, {pad1} must be smaller than the kernel {axis} {k}"
            )));
        }
        let padded = size + pad0 + pad1;
        if padded < k {
            return Err(KernelError::InvalidParams(format!(
                "pool2d: kernel {axis} {k} is larger than the padded input {axis} {padded} ({size} + {pad0} + {pad1})"
            )));
        }
        let round = if self.ceil_mode { s - 1 } else { 0 };
        let mut out = (padded - k + round) / s + 1;
        if self.ceil_mode && (out - 1) * s >= size + pad0 {
            out -= 1;
        }
        Ok(out)
    }

    fn axes(&self, input: Shape) -> Result<(Axis, Axis)> {
        let (oh, ow) = self.output_hw(input.h, input.w)?;
        let axis = |size, out, k, stride, pad0, pad1| Axis::Window {
            size,
            out,
            k,
            stride,
            pad0,
            pad1,
            include_pad: self.count_include_pad,
        };
        Ok((
            axis(input.h, oh, self.kh, self.stride_h, self.pad.top, self.pad.bottom),
            axis(input.w, ow, self.kw, self.stride_w, self.pad.left, self.pad.right),
        ))
    }
}

fn check_output(op: &str, x: Shape, y: Shape, oh: usize, ow: usize) -> Result<()> {
    x.check_nonzero(op)?;
    let want = Shape::new(x.n, oh, ow, x.c);
    if y != want {
        return Err(KernelError::ShapeMismatch(format!(
            "{op}: output view {y:?} differs from {want:?} (input {x:?})"
        )));
    }
    Ok(())
}

/// Max pooling; a NaN anywhere in a window makes its output NaN, as in PyTorch.
pub fn max_pool2d(p: &Pool2dParams, x: &TensorView<'_>, y: &mut TensorViewMut<'_>) -> Result<()> {
    max_pool2d_with(Isa::detect(), p, x, y)
}

/// [`max_pool2d`] on an explicit ISA.
pub fn max_pool2d_with(
    isa: Isa,
    p: &Pool2dParams,
    x: &TensorView<'_>,
    y: &mut TensorViewMut<'_>,
) -> Result<()> {
    let (rows, cols) = p.axes(x.shape())?;
    check_output("max_pool2d", x.shape(), y.shape(), rows.out(), cols.out())?;
    pool_kernel::run(isa, Reduce::Max, rows, cols, x, y)
}

/// Average pooling, dividing as `count_include_pad` says.
pub fn avg_pool2d(p: &Pool2dParams, x: &TensorView<'_>, y: &mut TensorViewMut<'_>) -> Result<()> {
    avg_pool2d_with(Isa::detect(), p, x, y)
}

/// [`avg_pool2d`] on an explicit ISA.
pub fn avg_pool2d_with(
    isa: Isa,
    p: &Pool2dParams,
    x: &TensorView<'_>,
    y: &mut TensorViewMut<'_>,
) -> Result<()> {
    let (rows, cols) = p.axes(x.shape())?;
    check_output("avg_pool2d", x.shape(), y.shape(), rows.out(), cols.out())?;
    pool_kernel::run(isa, Reduce::Mean, rows, cols, x, y)
}

/// Adaptive average pooling to the output view's height and width: output `i` averages input
/// rows `floor(i * H / OH) .. ceil((i + 1) * H / OH)` (and the same for columns), as PyTorch.
pub fn adaptive_avg_pool2d(x: &TensorView<'_>, y: &mut TensorViewMut<'_>) -> Result<()> {
    adaptive_avg_pool2d_with(Isa::detect(), x, y)
}

/// [`adaptive_avg_pool2d`] on an explicit ISA.
pub fn adaptive_avg_pool2d_with(isa: Isa, x: &TensorView<'_>, y: &mut TensorViewMut<'_>) -> Result<()> {
    let (xs, ys) = (x.shape(), y.shape());
    if ys.h > MAX_DIM || ys.w > MAX_DIM {
        return Err(KernelError::InvalidParams(format!(
            "adaptive_avg_pool2d: output {}x{} exceeds {MAX_DIM}",
            ys.h, ys.w
        )));
    }
    check_output("adaptive_avg_pool2d", xs, ys, ys.h, ys.w)?;
    let rows = Axis::Adaptive { size: xs.h, out: ys.h };
    let cols = Axis::Adaptive { size: xs.w, out: ys.w };
    pool_kernel::run(isa, Reduce::Mean, rows, cols, x, y)
}

/// The mean of every channel over the image: `y` is `(n, 1, 1, c)`.
pub fn global_avg_pool(x: &TensorView<'_>, y: &mut TensorViewMut<'_>) -> Result<()> {
    global_avg_pool_with(Isa::detect(), x, y)
}

/// [`global_avg_pool`] on an explicit ISA.
pub fn global_avg_pool_with(isa: Isa, x: &TensorView<'_>, y: &mut TensorViewMut<'_>) -> Result<()> {
    let xs = x.shape();
    check_output("global_avg_pool", xs, y.shape(), 1, 1)?;
    let rows = Axis::Adaptive { size: xs.h, out: 1 };
    let cols = Axis::Adaptive { size: xs.w, out: 1 };
    pool_kernel::run(isa, Reduce::Mean, rows, cols, x, y)
}
