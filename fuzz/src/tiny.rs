//! The small network the `weights` and `inputs` targets load into, with every parameter kind a
//! weight file holds (conv weight and bias, batch norm statistics, linear weight and bias),
//! and the one-thread pool every target plans runs on.

use std::sync::{Arc, OnceLock};

use lineage_kernels::{Activation, Shape};
use lineage_nets::{ConvSpec, Net, NetBuilder, PoolSpec, Result};
use rayon::{ThreadPool, ThreadPoolBuilder};

/// Input channels of [`tiny_net`] (an RGB image).
pub const CHANNELS: usize = 3;
/// Classes of [`tiny_net`].
pub const CLASSES: usize = 5;

/// conv(3->4, 3x3, bias) + ReLU -> conv(4->6, 3x3) + BN + ReLU -> max pool -> global average
/// pool -> flatten -> linear(6->5).
pub fn tiny_net() -> Result<Net> {
    let (mut b, x) = NetBuilder::new("tiny", CHANNELS)?;
    let y = b.conv("conv1", x, ConvSpec::new(4, 3, 1, 1).with_bias(), Activation::Relu)?;
    let y = b.conv_bn("conv2", "bn2", y, ConvSpec::new(6, 3, 1, 1), Activation::Relu)?;
    let y = b.max_pool("pool", y, PoolSpec { ceil_mode: true, ..PoolSpec::square(2, 2, 0) })?;
    let y = b.global_avg_pool("gap", y)?;
    let y = b.flatten("flat", y)?;
    let y = b.linear("fc", y, 6, CLASSES, true)?;
    b.finish(y)
}

/// The NHWC input shape the `weights` target plans [`tiny_net`] for.
pub const TINY_INPUT: Shape = Shape { n: 1, h: 5, w: 5, c: CHANNELS };

/// One worker thread shared by every run (a pool per fuzz input would dominate the time).
pub fn pool() -> Arc<ThreadPool> {
    static POOL: OnceLock<Arc<ThreadPool>> = OnceLock::new();
    POOL.get_or_init(|| Arc::new(ThreadPoolBuilder::new().num_threads(1).build().expect("one thread starts")))
        .clone()
}
