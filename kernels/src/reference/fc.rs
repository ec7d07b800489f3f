use num_traits::Float;

use crate::epilogue::Activation;
use crate::error::{KernelError, Result};

/// PyTorch `Linear` then the activation: `y[n][o] = act(sum_i x[n][i] * w[o][i] + b[o])`.
pub fn fully_connected<T: Float>(
    in_features: usize,
    out_features: usize,
    weights: &[T],
    bias: Option<&[T]>,
    act: Activation,
    x: &[T],
) -> Result<Vec<T>> {
    if in_features == 0
        || weights.len() != in_features * out_features
        || x.len() % in_features != 0
        || bias.is_some_and(|b| b.len() != out_features)
    {
        return Err(KernelError::ShapeMismatch(format!(
            "reference fully_connected {in_features}->{out_features}: {} weights, input of {}",
            weights.len(),
            x.len()
        )));
    }
    let mut y = Vec::with_capacity(x.len() / in_features * out_features);
    for row in x.chunks_exact(in_features) {
        for o in 0..out_features {
            let w = &weights[o * in_features..][..in_features];
            let dot = row.iter().zip(w).fold(T::zero(), |acc, (&a, &b)| acc + a * b);
            y.push(act.apply(dot + bias.map_or(T::zero(), |b| b[o])));
        }
    }
    Ok(y)
}
