//! # lineage-kernels
//!
//! Hand-vectorized f32 convolution kernels for CNN inference on CPUs: AVX-512, AVX2 and NEON
//! from one pulp-generic source, each checked against plain nested loops.
//!
//! Activations are NHWC views with a pixel pitch ([`TensorView`]), so a view can be a channel
//! slice of a larger buffer; weights arrive as OIHW (PyTorch) and are packed once.
//!
//! ```
//! use lineage_kernels::{Conv2d, Conv2dParams, Epilogue, Activation, Shape, TensorView, TensorViewMut};
//!
//! let p = Conv2dParams::square(3, 8, 3, 1, 1); // 3 -> 8 channels, 3x3, stride 1, pad 1
//! let input = Shape::new(1, 5, 5, 3);
//! let x = vec![0.5f32; 5 * 5 * 3];
//! let w = vec![0.1f32; 8 * 3 * 3 * 3];
//! let conv = Conv2d::new(&p, input, &w, None)?;
//! let mut y = vec![0.0f32; 5 * 5 * 8];
//! let x = TensorView::new(&x, input)?;
//! let mut yv = TensorViewMut::new(&mut y, Shape::new(1, 5, 5, 8))?;
//! conv.run_alloc(&x, &mut yv, &Epilogue::activation(Activation::Relu))?;
//! assert!((y[(2 * 5 + 2) * 8] - 27.0 * 0.05).abs() < 1e-5); // centre pixel sees all 27 taps
//! # Ok::<(), lineage_kernels::KernelError>(())
//! ```

pub mod conv;
pub mod cpu;
pub mod epilogue;
pub mod error;
pub mod isa;
pub mod ops;
pub mod pack;
pub mod params;
pub mod reference;
mod spread;
pub mod tensor;
#[cfg(feature = "testing")]
pub mod testing;
mod ukernel;

pub use conv::{conv2d, Algorithm, Conv2d};
pub use cpu::Cpu;
pub use epilogue::{Activation, Epilogue};
pub use error::{KernelError, Result};
pub use isa::Isa;
pub use ops::{BatchNorm, FullyConnected, LrnParams, Pool2dParams};
pub use params::{Conv2dParams, Padding};
pub use tensor::{nchw_to_nhwc, nhwc_to_nchw, Shape, TensorView, TensorViewMut};
