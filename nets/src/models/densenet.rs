//! DenseNet (Huang et al. 2017) in torchvision's structure and names: `features.conv0/norm0/
//! pool0`, `features.denseblock{N}.denselayer{M}.{norm1,conv1,norm2,conv2}` (batch norm and
//! ReLU before each conv), `features.transition{N}.{norm,conv,pool}`, `features.norm5`,
//! `classifier`.
//!
//! Each dense layer reads the concatenation of the block input and every earlier layer's new
//! channels. The block is described as a chain `cat_M = concat(cat_{M-1}, new_M)`, so every
//! value is a channel prefix of the block's final buffer: the form in which a planner can
//! write the whole block into one buffer without copying.

use lineage_kernels::Activation;

use crate::error::{NetError, Result};
use crate::graph::{ConvSpec, Net, NetBuilder, PoolSpec, Value};

/// Bottleneck width factor of every dense layer (1x1 conv to `BN_SIZE * growth` channels).
pub const BN_SIZE: usize = 4;

/// One dense layer named `{prefix}`: BN-ReLU-conv1x1(`bn_size * growth`)-BN-ReLU-conv3x3(`growth`).
pub fn dense_layer(
    b: &mut NetBuilder,
    prefix: &str,
    x: Value,
    growth: usize,
    bn_size: usize,
) -> Result<Value> {
    let relu = Activation::Relu;
    let n = |s: &str| format!("{prefix}{s}");
    let y = b.batch_norm(&n("norm1"), x, relu)?;
    let y = b.conv_bn(&n("conv1"), &n("norm2"), y, ConvSpec::new(bn_size * growth, 1, 1, 0), relu)?;
    b.conv(&n("conv2"), y, ConvSpec::new(growth, 3, 1, 1), Activation::None)
}

/// A dense block of `layers` layers named `{prefix}denselayer{1..}`; returns the concatenation
/// of its input and all new channels.
pub fn dense_block(
    b: &mut NetBuilder,
    prefix: &str,
    x: Value,
    layers: usize,
    growth: usize,
    bn_size: usize,
) -> Result<Value> {
    let mut features = x;
    for m in 1..=layers {
        let layer = format!("{prefix}denselayer{m}.");
        let new = dense_layer(b, &layer, features, growth, bn_size)?;
        features = b.concat(&format!("{layer}cat"), &[features, new])?;
    }
    Ok(features)
}

/// A transition named `{prefix}`: BN-ReLU, 1x1 conv to `c_out`, 2x2 average pool.
pub fn transition(b: &mut NetBuilder, prefix: &str, x: Value, c_out: usize) -> Result<Value> {
    let n = |s: &str| format!("{prefix}{s}");
    let y = b.batch_norm(&n("norm"), x, Activation::Relu)?;
    let y = b.conv(&n("conv"), y, ConvSpec::new(c_out, 1, 1, 0), Activation::None)?;
    b.avg_pool(&n("pool"), y, PoolSpec::square(2, 2, 0))
}

/// torchvision's `DenseNet(growth_rate, block_config, num_init_features)`.
pub fn densenet(
    name: &str,
    growth: usize,
    blocks: [usize; 4],
    init_features: usize,
    classes: usize,
) -> Result<Net> {
    let (mut b, x) = NetBuilder::new(name, 3)?;
    let relu = Activation::Relu;
    let stem = ConvSpec::new(init_features, 7, 2, 3);
    let mut y = b.conv_bn("features.conv0", "features.norm0", x, stem, relu)?;
    y = b.max_pool("features.pool0", y, PoolSpec::square(3, 2, 1))?;
    for (i, &layers) in blocks.iter().enumerate() {
        y = dense_block(&mut b, &format!("features.denseblock{}.", i + 1), y, layers, growth, BN_SIZE)?;
        if i + 1 < blocks.len() {
            let c = b.channels(y)? / 2;
            y = transition(&mut b, &format!("features.transition{}.", i + 1), y, c)?;
        }
    }
    y = b.batch_norm("features.norm5", y, relu)?;
    y = b.global_avg_pool("avgpool", y)?;
    y = b.flatten("flatten", y)?;
    let c = b.channels(y)?;
    y = b.classifier("classifier", y, c, classes)?;
    b.finish(y)
}

/// `densenet121`, `densenet161`, `densenet169` or `densenet201` with a `classes`-way
/// classifier (none if 0).
pub fn by_depth(depth: usize, classes: usize) -> Result<Net> {
    let (growth, blocks, init) = match depth {
        121 => (32, [6, 12, 24, 16], 64),
        161 => (48, [6, 12, 36, 24], 96),
        169 => (32, [6, 12, 32, 32], 64),
        201 => (32, [6, 12, 48, 32], 64),
        _ => return Err(NetError::Graph(format!("densenet: depth {depth}; expected 121, 161, 169 or 201"))),
    };
    densenet(&format!("densenet{depth}"), growth, blocks, init, classes)
}
