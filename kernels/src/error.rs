//! The one error type of the kernels: every bad input is an `Err` whose message names the values.

use std::fmt;

/// What went wrong, with a message that names the layer or argument and the offending values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KernelError {
    /// Parameters that no convolution or op can have (zero sizes, groups not dividing channels...).
    InvalidParams(String),
    /// A tensor or buffer whose shape or length disagrees with the parameters.
    ShapeMismatch(String),
    /// Size arithmetic that overflows `usize`.
    Overflow(String),
    /// A valid request this algorithm or ISA does not handle (the caller should pick another).
    Unsupported(String),
}

impl fmt::Display for KernelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KernelError::InvalidParams(m) => write!(f, "invalid parameters: {m}"),
            KernelError::ShapeMismatch(m) => write!(f, "shape mismatch: {m}"),
            KernelError::Overflow(m) => write!(f, "size overflow: {m}"),
            KernelError::Unsupported(m) => write!(f, "unsupported: {m}"),
        }
    }
}

impl std::error::Error for KernelError {}

/// Result alias of the kernels crate.
pub type Result<T> = std::result::Result<T, KernelError>;

/// Multiplies sizes, turning overflow into an error that names `what`.
pub(crate) fn checked_product(what: &str, dims: &[usize]) -> Result<usize> {
    dims.iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| KernelError::Overflow(format!("{what}: product of {dims:?} overflows usize")))
}
