//! What a kernel does to each output value before storing it: `act(acc + bias + residual)`.
//!
//! The residual is added before the activation because that is what every net here needs:
//! ResNet computes `relu(bn(conv(x)) + identity)`, and MobileNet v2's linear bottleneck adds
//! the identity with no activation at all. (Adding after the activation would make the fused
//! ResNet block wrong.)

use num_traits::Float;

use crate::error::{KernelError, Result};
use crate::tensor::{Shape, TensorView};

/// The activation fused into a kernel's store.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Activation {
    #[default]
    None,
    Relu,
    Relu6,
}

impl Activation {
    /// Applies the activation to one value, in any float type. The comparison form keeps NaN
    /// (as PyTorch's ReLU does) where `max(v, 0)` would drop it.
    #[inline(always)]
    pub fn apply<T: Float>(self, v: T) -> T {
        let zero = T::zero();
        match self {
            Activation::None => v,
            Activation::Relu => {
                if v < zero {
                    zero
                } else {
                    v
                }
            }
            Activation::Relu6 => {
                let six = T::from(6.0).unwrap_or(v);
                if v < zero {
                    zero
                } else if v > six {
                    six
                } else {
                    v
                }
            }
        }
    }
}

/// The per-call part of the epilogue: the activation and an optional residual tensor of the
/// output's shape (it may be a channel slice of a larger buffer).
#[derive(Clone, Copy, Debug, Default)]
pub struct Epilogue<'a> {
    pub activation: Activation,
    pub residual: Option<TensorView<'a>>,
}

impl<'a> Epilogue<'a> {
    pub fn activation(activation: Activation) -> Self {
        Epilogue { activation, residual: None }
    }

    /// An error unless the residual (if any) has the output's shape.
    pub fn check(&self, layer: &str, out: Shape) -> Result<()> {
        match self.residual {
            Some(r) if r.shape() != out => Err(KernelError::ShapeMismatch(format!(
                "{layer}: residual shape {:?} differs from output shape {out:?}",
                r.shape()
            ))),
            _ => Ok(()),
        }
    }
}
