//! The oracle: plain nested loops, generic over `num_traits::Float`, no unsafe, no SIMD.
//! Tests run it in f64 and compare every fast kernel with it.

mod conv;
mod fc;
mod lrn;
mod norm;
mod pool;
mod softmax;

pub use conv::conv2d;
pub use fc::fully_connected;
pub use lrn::local_response_norm;
pub use norm::batch_norm;
pub use pool::{adaptive_avg_pool2d, avg_pool2d, max_pool2d};
pub use softmax::softmax;
