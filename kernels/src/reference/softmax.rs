use num_traits::Float;

use crate::error::{KernelError, Result};

/// `exp(x_i) / sum_j exp(x_j)`, shifted by the maximum so the exponents cannot overflow.
pub fn softmax<T: Float>(x: &[T]) -> Result<Vec<T>> {
    if x.is_empty() {
        return Err(KernelError::ShapeMismatch("reference softmax: empty input".into()));
    }
    let max = x.iter().fold(T::neg_infinity(), |m, &v| m.max(v));
    let exps: Vec<T> = x.iter().map(|&v| (v - max).exp()).collect();
    let sum = exps.iter().fold(T::zero(), |s, &e| s + e);
    Ok(exps.into_iter().map(|e| e / sum).collect())
}
