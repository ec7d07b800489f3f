//! The layer ops other than convolution: pooling, local response normalization, batch
//! normalization, activations, residual add, channel copy (concat fallback), flatten, fully
//! connected and softmax.
//!
//! Every op reads and writes NHWC views, so an output can be a channel slice of a concat
//! buffer. The vectorized ones run on the detected ISA, with an `_with(isa, ...)` twin that
//! tests and benches call for each [`Isa::available`](crate::Isa::available); they split work
//! into tasks whose count does not depend on the thread count, on the current rayon pool, and
//! allocate nothing.
//!
//! ```
//! use lineage_kernels::ops::{self, FullyConnected, Pool2dParams};
//! use lineage_kernels::{Activation, Isa, Shape, TensorView, TensorViewMut};
//!
//! // A 4x4 image of 2 channels, max-pooled 2x2 into the first 2 channels of a 3-channel buffer
//! // (as a concat would), then flattened and classified.
//! let x: Vec<f32> = (0..32).map(|i| i as f32).collect();
//! let x = TensorView::new(&x, Shape::new(1, 4, 4, 2))?;
//! let mut buf = vec![0.0f32; 2 * 2 * 3];
//! let mut concat = TensorViewMut::new(&mut buf, Shape::new(1, 2, 2, 3))?;
//! ops::max_pool2d(&Pool2dParams::square(2, 2, 0), &x, &mut concat.channels_mut(0, 2)?)?;
//! assert_eq!(&buf[..3], &[10.0, 11.0, 0.0]); // pixels (1,1) of channels 0 and 1
//!
//! let pooled = TensorView::with_pitch(&buf, Shape::new(1, 2, 2, 2), 3)?;
//! let mut flat = vec![0.0f32; 8];
//! ops::flatten_nchw_order(&pooled, &mut flat)?; // PyTorch's (C, H, W) order
//! let fc = FullyConnected::new(Isa::detect(), 8, 2, &[1.0; 16], Some(&[0.0, -1000.0]))?;
//! let (mut logits, mut probs) = ([0.0f32; 2], [0.0f32; 2]);
//! fc.run(&flat, &mut logits, Activation::None)?;
//! ops::softmax(&logits, &mut probs)?;
//! assert!(probs[0] > 0.999);
//! # Ok::<(), lineage_kernels::KernelError>(())
//! ```

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
