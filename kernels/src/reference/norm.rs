use num_traits::Float;

use crate::epilogue::Activation;
use crate::error::{KernelError, Result};

/// Inference batch norm from its statistics on dense NHWC `input` of `gamma.len()` channels:
/// `act((x - mean) / sqrt(var + eps) * gamma + beta)`, the way PyTorch writes it.
pub fn batch_norm<T: Float>(
    gamma: &[T],
    beta: &[T],
    mean: &[T],
    var: &[T],
    eps: T,
    act: Activation,
    input: &[T],
) -> Result<Vec<T>> {
    let c = gamma.len();
    if c == 0 || beta.len() != c || mean.len() != c || var.len() != c || input.len() % c != 0 {
        return Err(KernelError::ShapeMismatch(format!(
            "reference batch_norm: {c} channels, input of {} elements",
            input.len()
        )));
    }
    Ok(input
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            let ch = i % c;
            act.apply((x - mean[ch]) / (var[ch] + eps).sqrt() * gamma[ch] + beta[ch])
        })
        .collect())
}
