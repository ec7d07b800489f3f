use num_traits::Float;

use crate::epilogue::Activation;
use crate::error::{KernelError, Result};
use crate::params::Conv2dParams;
use crate::tensor::Shape;

/// Direct definition of a grouped, strided, padded, dilated 2-D convolution.
///
/// `input` is dense NHWC of `in_shape`, `weights` OIHW `[c_out][c_in/groups][kh][kw]`,
/// `residual` (if any) dense NHWC of the output shape. Returns the dense NHWC output
/// `act(conv + bias + residual)`.
pub fn conv2d<T: Float>(
    p: &Conv2dParams,
    input: &[T],
    in_shape: Shape,
    weights: &[T],
    bias: Option<&[T]>,
    act: Activation,
    residual: Option<&[T]>,
) -> Result<Vec<T>> {
    let out = p.output_shape(in_shape)?;
    let check = |what: &str, got: usize, want: usize| {
        if got == want {
            Ok(())
        } else {
            Err(KernelError::ShapeMismatch(format!(
                "reference conv2d: {what} has {got} elements, expected {want}"
            )))
        }
    };
    check("input", input.len(), in_shape.elements()?)?;
    check("weights", weights.len(), p.weight_len()?)?;
    if let Some(b) = bias {
        check("bias", b.len(), p.c_out)?;
    }
    if let Some(r) = residual {
        check("residual", r.len(), out.elements()?)?;
    }
    let cpg_in = p.c_in / p.groups;
    let cpg_out = p.c_out / p.groups;
    let mut y = vec![T::zero(); out.elements()?];
    for n in 0..out.n {
        for oy in 0..out.h {
            for ox in 0..out.w {
                for oc in 0..p.c_out {
                    let g = oc / cpg_out;
                    let mut acc = bias.map_or(T::zero(), |b| b[oc]);
                    for ky in 0..p.kh {
                        let iy = (oy * p.stride_h + ky * p.dilation_h) as isize - p.pad.top as isize;
                        if iy < 0 || iy >= in_shape.h as isize {
                            continue;
                        }
                        for kx in 0..p.kw {
                            let ix = (ox * p.stride_w + kx * p.dilation_w) as isize - p.pad.left as isize;
                            if ix < 0 || ix >= in_shape.w as isize {
                                continue;
                            }
                            let pixel = (n * in_shape.h + iy as usize) * in_shape.w + ix as usize;
                            for icg in 0..cpg_in {
                                let x = input[pixel * p.c_in + g * cpg_in + icg];
                                let w = weights[((oc * cpg_in + icg) * p.kh + ky) * p.kw + kx];
                                acc = acc + x * w;
                            }
                        }
                    }
                    let o = ((n * out.h + oy) * out.w + ox) * p.c_out + oc;
                    if let Some(r) = residual {
                        acc = acc + r[o];
                    }
                    y[o] = act.apply(acc);
                }
            }
        }
    }
    Ok(y)
}
