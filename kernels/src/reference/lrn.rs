use num_traits::Float;

use crate::error::{KernelError, Result};
use crate::ops::LrnParams;
use crate::tensor::Shape;

/// `torch.nn.LocalResponseNorm` on dense NHWC `input`: channel `c` is divided by
/// `(k + alpha / size * sum of x_j^2 over j in c - size/2 ..= c + (size-1)/2)^beta`, the sum
/// skipping channels outside `0..C` (PyTorch pads them with zeros).
pub fn local_response_norm<T: Float>(p: &LrnParams, input: &[T], shape: Shape) -> Result<Vec<T>> {
    if input.len() != shape.elements()? || p.size == 0 {
        return Err(KernelError::ShapeMismatch(format!(
            "reference local_response_norm: {} elements for {shape:?}, size {}",
            input.len(),
            p.size
        )));
    }
    let cast = |v: f32| T::from(v).unwrap_or_else(T::nan);
    let (alpha, beta, k) = (cast(p.alpha), cast(p.beta), cast(p.k));
    let size = T::from(p.size).unwrap_or_else(T::nan);
    let mut y = Vec::with_capacity(input.len());
    for pixel in input.chunks_exact(shape.c) {
        for c in 0..shape.c {
            let lo = c as isize - (p.size / 2) as isize;
            let hi = c as isize + ((p.size - 1) / 2) as isize;
            let mut sum = T::zero();
            for j in lo..=hi {
                if j >= 0 && (j as usize) < shape.c {
                    sum = sum + pixel[j as usize] * pixel[j as usize];
                }
            }
            y.push(pixel[c] / (k + alpha * sum / size).powf(beta));
        }
    }
    Ok(y)
}
