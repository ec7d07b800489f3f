use num_traits::Float;

use crate::error::{KernelError, Result};
use crate::ops::Pool2dParams;
use crate::tensor::Shape;

fn check_input<T>(op: &str, input: &[T], shape: Shape) -> Result<()> {
    if input.len() != shape.elements()? {
        return Err(KernelError::ShapeMismatch(format!(
            "reference {op}: input has {} elements, shape {shape:?} needs {}",
            input.len(),
            shape.elements()?
        )));
    }
    Ok(())
}

/// Output size along one axis, as PyTorch's `pooling_output_shape` words it: the number of
/// window starts `o * s - pad0` up to the padded end, rounded up in ceil mode, without a last
/// window that would start past the input and its leading padding.
fn out_size(size: usize, k: usize, s: usize, pad0: usize, pad1: usize, ceil_mode: bool) -> usize {
    let span = (size + pad0 + pad1 - k) as f64 / s as f64;
    let mut out = if ceil_mode { span.ceil() } else { span.floor() } as usize + 1;
    if ceil_mode && (out - 1) * s >= size + pad0 {
        out -= 1;
    }
    out
}

/// A pooling window of output `(oy, ox)`: the input rows and columns it covers, and the
/// element count of the window clipped to the padded input (PyTorch's `pool_size`).
struct Window {
    rows: std::ops::Range<usize>,
    cols: std::ops::Range<usize>,
    padded_count: usize,
}

fn window(p: &Pool2dParams, shape: Shape, oy: usize, ox: usize) -> Window {
    let hstart = (oy * p.stride_h) as isize - p.pad.top as isize;
    let wstart = (ox * p.stride_w) as isize - p.pad.left as isize;
    let hend = (hstart + p.kh as isize).min((shape.h + p.pad.bottom) as isize);
    let wend = (wstart + p.kw as isize).min((shape.w + p.pad.right) as isize);
    let padded_count = ((hend - hstart) * (wend - wstart)) as usize;
    let clip = |v: isize, size: usize| v.clamp(0, size as isize) as usize;
    Window {
        rows: clip(hstart, shape.h)..clip(hend, shape.h),
        cols: clip(wstart, shape.w)..clip(wend, shape.w),
        padded_count,
    }
}

fn pool<T: Float>(
    op: &str,
    p: &Pool2dParams,
    input: &[T],
    shape: Shape,
    reduce: impl Fn(&dyn Fn(usize, usize) -> T, Window) -> T,
) -> Result<Vec<T>> {
    check_input(op, input, shape)?;
    p.output_hw(shape.h, shape.w)?; // the parameters' validation
    let oh = out_size(shape.h, p.kh, p.stride_h, p.pad.top, p.pad.bottom, p.ceil_mode);
    let ow = out_size(shape.w, p.kw, p.stride_w, p.pad.left, p.pad.right, p.ceil_mode);
    let mut y = Vec::with_capacity(shape.n * oh * ow * shape.c);
    for n in 0..shape.n {
        let image = &input[n * shape.h * shape.w * shape.c..][..shape.h * shape.w * shape.c];
        for oy in 0..oh {
            for ox in 0..ow {
                for ch in 0..shape.c {
                    let at = |y: usize, x: usize| image[(y * shape.w + x) * shape.c + ch];
                    y.push(reduce(&at, window(p, shape, oy, ox)));
                }
            }
        }
    }
    Ok(y)
}

/// Max pooling of dense NHWC `input`, as PyTorch: `-inf` start, and a NaN wins its window.
pub fn max_pool2d<T: Float>(p: &Pool2dParams, input: &[T], shape: Shape) -> Result<Vec<T>> {
    pool("max_pool2d", p, input, shape, |at, win| {
        let mut max = T::neg_infinity();
        for y in win.rows.clone() {
            for x in win.cols.clone() {
                let v = at(y, x);
                if v > max || v.is_nan() {
                    max = v;
                }
            }
        }
        max
    })
}

/// Average pooling of dense NHWC `input`, dividing by the window clipped to the padded input
/// (`count_include_pad`) or to the input.
pub fn avg_pool2d<T: Float>(p: &Pool2dParams, input: &[T], shape: Shape) -> Result<Vec<T>> {
    pool("avg_pool2d", p, input, shape, |at, win| {
        let mut sum = T::zero();
        for y in win.rows.clone() {
            for x in win.cols.clone() {
                sum = sum + at(y, x);
            }
        }
        let count = if p.count_include_pad { win.padded_count } else { win.rows.len() * win.cols.len() };
        sum / T::from(count).unwrap_or_else(T::nan)
    })
}

/// Adaptive average pooling of dense NHWC `input` to `oh x ow`: output `i` averages inputs
/// `floor(i * H / OH) .. ceil((i + 1) * H / OH)` on each axis.
pub fn adaptive_avg_pool2d<T: Float>(input: &[T], shape: Shape, oh: usize, ow: usize) -> Result<Vec<T>> {
    check_input("adaptive_avg_pool2d", input, shape)?;
    if oh == 0 || ow == 0 {
        return Err(KernelError::InvalidParams(format!("reference adaptive_avg_pool2d: output {oh}x{ow}")));
    }
    let bounds = |i: usize, size: usize, out: usize| {
        let start = (i as f64 * size as f64 / out as f64).floor() as usize;
        let end = ((i + 1) as f64 * size as f64 / out as f64).ceil() as usize;
        start..end
    };
    let mut y = Vec::with_capacity(shape.n * oh * ow * shape.c);
    for n in 0..shape.n {
        for oy in 0..oh {
            for ox in 0..ow {
                let (rows, cols) = (bounds(oy, shape.h, oh), bounds(ox, shape.w, ow));
                let count = T::from(rows.len() * cols.len()).unwrap_or_else(T::nan);
                for ch in 0..shape.c {
                    let mut sum = T::zero();
                    for y in rows.clone() {
                        for x in cols.clone() {
                            sum = sum + input[((n * shape.h + y) * shape.w + x) * shape.c + ch];
                        }
                    }
                    y.push(sum / count);
                }
            }
        }
    }
    Ok(y)
}
