//! Softmax over a whole slice (the 1000 logits of a classifier): scalar, because it runs once
//! per image on a thousand values.

use crate::error::{KernelError, Result};

/// `y_i = exp(x_i - max x) / sum_j exp(x_j - max x)`: subtracting the maximum keeps every
/// exponent at most 0, so nothing overflows. A NaN input makes every output NaN.
pub fn softmax(x: &[f32], y: &mut [f32]) -> Result<()> {
    if x.is_empty() || x.len() != y.len() {
        return Err(KernelError::ShapeMismatch(format!(
            "softmax: input of {} and output of {} elements (must be equal and nonzero)",
            x.len(),
            y.len()
        )));
    }
    let max = x.iter().fold(f32::NEG_INFINITY, |m, &v| if v > m || v.is_nan() { v } else { m });
    let mut sum = 0.0f64;
    for (o, &v) in y.iter_mut().zip(x) {
        *o = (v - max).exp();
        sum += *o as f64;
    }
    let inv = (1.0 / sum) as f32;
    y.iter_mut().for_each(|o| *o *= inv);
    Ok(())
}
