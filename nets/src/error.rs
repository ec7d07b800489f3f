//! The error type of the nets crate: every message names the layer or tensor and the values.

use std::fmt;

use lineage_kernels::KernelError;

/// What went wrong while describing, loading, planning or running a network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetError {
    /// A network description that cannot be built (unknown input, duplicate name, bad sizes).
    Graph(String),
    /// Shape inference failed at a layer (the message names the layer and the shapes).
    Shape(String),
    /// A weight file or tensor is missing, misshaped, of the wrong dtype, extra, or corrupt.
    Weights(String),
    /// An input tensor that does not match the plan.
    Input(String),
    /// A kernel refused the request; the message names the layer first.
    Kernel { layer: String, error: KernelError },
    /// Reading or writing a file failed.
    Io(String),
}

impl NetError {
    /// Wraps a kernel error with the name of the layer that called the kernel.
    pub fn kernel(layer: &str) -> impl FnOnce(KernelError) -> NetError + '_ {
        move |error| NetError::Kernel { layer: layer.to_string(), error }
    }
}

impl fmt::Display for NetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetError::Graph(m) => write!(f, "network description: {m}"),
            NetError::Shape(m) => write!(f, "shape: {m}"),
            NetError::Weights(m) => write!(f, "weights: {m}"),
            NetError::Input(m) => write!(f, "input: {m}"),
            NetError::Kernel { layer, error } => write!(f, "layer {layer}: {error}"),
            NetError::Io(m) => write!(f, "io: {m}"),
        }
    }
}

impl std::error::Error for NetError {}

/// Result alias of the nets crate.
pub type Result<T> = std::result::Result<T, NetError>;
