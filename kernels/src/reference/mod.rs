//! The oracle: plain nested loops, generic over `num_traits::Float`, no unsafe, no SIMD.
//! Tests run it in f64 and compare every fast kernel with it.

mod conv;
mod winograd;

pub use conv::conv2d;
pub use winograd::{correlate_tile_direct, winograd_matrices, WinogradMatrices};
