//! The layer ops other than convolution: pooling, local response normalization, batch
//! normalization, activations, residual add, channel copy (concat fallback), flatten, fully
//! connected and softmax.
//!
//! Every op reads and writes NHWC views, so an output can be a channel slice of a concat
//! buffer. The vectorized ones run on the detected ISA, with an `_with(isa, ...)` twin that
//! tests and benches call for each [`Isa::available`](crate::Isa::available); they split work
//! into tasks whose count does not depend on the thread count, on the current rayon pool, and
//! allocate nothing.

mod batch_norm;
mod elementwise;
mod flatten;
mod fully_connected;
mod lrn;
mod pixelwise;
mod pool;
mod pool_kernel;
mod simd;
mod softmax;

pub use batch_norm::{batch_norm, batch_norm_with, BatchNorm};
pub use elementwise::{activation, activation_with, add, add_with, copy_channels, copy_channels_with};
pub use flatten::flatten_nchw_order;
pub use fully_connected::FullyConnected;
pub use lrn::{local_response_norm, local_response_norm_with, LrnParams};
pub use pool::{
    adaptive_avg_pool2d, adaptive_avg_pool2d_with, avg_pool2d, avg_pool2d_with, global_avg_pool,
    global_avg_pool_with, max_pool2d, max_pool2d_with, Pool2dParams,
};
pub use softmax::softmax;
