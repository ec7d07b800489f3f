//! Inception v4 (Szegedy et al. 2016) in timm's `inception_v4` structure and names, for 299x299
//! inputs: `features.0..2` (stem convs), `features.3` Mixed_3a, `features.4` Mixed_4a,
//! `features.5` Mixed_5a, `features.6..9` Inception_A, `features.10` Reduction_A,
//! `features.11..17` Inception_B, `features.18` Reduction_B, `features.19..21` Inception_C,
//! `last_linear`. Every conv is timm's `ConvNormAct` (`{name}.conv` without bias, `{name}.bn`
//! with eps 1e-3, ReLU), unpadded unless the module pads it; pooling branches average 3x3
//! windows without counting the padding (`count_include_pad=False`).
//!
//! The module functions take a channel divisor `d` (1 for the network) so that the PyTorch
//! fixtures, built with every width divided by 16, are checked with the same code.

use lineage_kernels::Shape;

use crate::error::Result;
use crate::graph::{ConvSpec, Net, NetBuilder, PoolSpec, Value};
use crate::models::googlenet::{basic_conv, INCEPTION_BN_EPS};
use crate::models::inception_v3::same;

fn max_pool(b: &mut NetBuilder, name: &str, x: Value) -> Result<Value> {
    b.max_pool(name, x, PoolSpec::square(3, 2, 0))
}

/// `branch3`: average pool 3/1 pad 1 excluding the padding, then a 1x1 conv to `c`.
fn avg_pool_branch(b: &mut NetBuilder, prefix: &str, x: Value, c: usize) -> Result<Value> {
    let spec = PoolSpec { count_include_pad: false, ..PoolSpec::square(3, 1, 1) };
    let pooled = b.avg_pool(&format!("{prefix}branch3.0"), x, spec)?;
    basic_conv(b, &format!("{prefix}branch3.1"), pooled, ConvSpec::new(c, 1, 1, 0))
}

/// `Mixed3a`: max-pool 3/2 | 3x3/2 96 (64 -> 160 channels).
pub fn mixed_3a(b: &mut NetBuilder, prefix: &str, x: Value, d: usize) -> Result<Value> {
    let p = max_pool(b, &format!("{prefix}maxpool"), x)?;
    let c = basic_conv(b, &format!("{prefix}conv"), x, ConvSpec::new(96 / d, 3, 2, 0))?;
    b.concat(&format!("{prefix}cat"), &[p, c])
}

/// `Mixed4a`: 1x1 64 -> 3x3 96 | 1x1 64 -> 1x7 64 -> 7x1 64 -> 3x3 96 (160 -> 192 channels).
pub fn mixed_4a(b: &mut NetBuilder, prefix: &str, x: Value, d: usize) -> Result<Value> {
    let n = |s: &str| format!("{prefix}{s}");
    let b0 = basic_conv(b, &n("branch0.0"), x, ConvSpec::new(64 / d, 1, 1, 0))?;
    let b0 = basic_conv(b, &n("branch0.1"), b0, ConvSpec::new(96 / d, 3, 1, 0))?;
    let b1 = basic_conv(b, &n("branch1.0"), x, ConvSpec::new(64 / d, 1, 1, 0))?;
    let b1 = basic_conv(b, &n("branch1.1"), b1, same(64 / d, 1, 7))?;
    let b1 = basic_conv(b, &n("branch1.2"), b1, same(64 / d, 7, 1))?;
    let b1 = basic_conv(b, &n("branch1.3"), b1, ConvSpec::new(96 / d, 3, 1, 0))?;
    b.concat(&n("cat"), &[b0, b1])
}

/// `Mixed5a`: 3x3/2 192 | max-pool 3/2 (192 -> 384 channels).
pub fn mixed_5a(b: &mut NetBuilder, prefix: &str, x: Value, d: usize) -> Result<Value> {
    let c = basic_conv(b, &format!("{prefix}conv"), x, ConvSpec::new(192 / d, 3, 2, 0))?;
    let p = max_pool(b, &format!("{prefix}maxpool"), x)?;
    b.concat(&format!("{prefix}cat"), &[c, p])
}

/// `InceptionA` (384 channels): 1x1 96 | 1x1 64 -> 3x3 96 | 1x1 64 -> 3x3 96 -> 3x3 96 | pool.
pub fn inception_a(b: &mut NetBuilder, prefix: &str, x: Value, d: usize) -> Result<Value> {
    let n = |s: &str| format!("{prefix}{s}");
    let b0 = basic_conv(b, &n("branch0"), x, ConvSpec::new(96 / d, 1, 1, 0))?;
    let b1 = basic_conv(b, &n("branch1.0"), x, ConvSpec::new(64 / d, 1, 1, 0))?;
    let b1 = basic_conv(b, &n("branch1.1"), b1, ConvSpec::new(96 / d, 3, 1, 1))?;
    let b2 = basic_conv(b, &n("branch2.0"), x, ConvSpec::new(64 / d, 1, 1, 0))?;
    let b2 = basic_conv(b, &n("branch2.1"), b2, ConvSpec::new(96 / d, 3, 1, 1))?;
    let b2 = basic_conv(b, &n("branch2.2"), b2, ConvSpec::new(96 / d, 3, 1, 1))?;
    let b3 = avg_pool_branch(b, prefix, x, 96 / d)?;
    b.concat(&n("cat"), &[b0, b1, b2, b3])
}

/// `ReductionA` (35 -> 17, 384 -> 1024 channels): 3x3/2 384 | 1x1 192 -> 3x3 224 -> 3x3/2 256 |
/// max-pool 3/2.
pub fn reduction_a(b: &mut NetBuilder, prefix: &str, x: Value, d: usize) -> Result<Value> {
    let n = |s: &str| format!("{prefix}{s}");
    let b0 = basic_conv(b, &n("branch0"), x, ConvSpec::new(384 / d, 3, 2, 0))?;
    let b1 = basic_conv(b, &n("branch1.0"), x, ConvSpec::new(192 / d, 1, 1, 0))?;
    let b1 = basic_conv(b, &n("branch1.1"), b1, ConvSpec::new(224 / d, 3, 1, 1))?;
    let b1 = basic_conv(b, &n("branch1.2"), b1, ConvSpec::new(256 / d, 3, 2, 0))?;
    let b2 = max_pool(b, &n("branch2"), x)?;
    b.concat(&n("cat"), &[b0, b1, b2])
}

/// `InceptionB` (1024 channels): 1x1 384 | 1x1 192 -> 1x7 224 -> 7x1 256 |
/// 1x1 192 -> 7x1 192 -> 1x7 224 -> 7x1 224 -> 1x7 256 | pool -> 1x1 128.
pub fn inception_b(b: &mut NetBuilder, prefix: &str, x: Value, d: usize) -> Result<Value> {
    let n = |s: &str| format!("{prefix}{s}");
    let b0 = basic_conv(b, &n("branch0"), x, ConvSpec::new(384 / d, 1, 1, 0))?;
    let b1 = basic_conv(b, &n("branch1.0"), x, ConvSpec::new(192 / d, 1, 1, 0))?;
    let b1 = basic_conv(b, &n("branch1.1"), b1, same(224 / d, 1, 7))?;
    let b1 = basic_conv(b, &n("branch1.2"), b1, same(256 / d, 7, 1))?;
    let b2 = basic_conv(b, &n("branch2.0"), x, ConvSpec::new(192 / d, 1, 1, 0))?;
    let b2 = basic_conv(b, &n("branch2.1"), b2, same(192 / d, 7, 1))?;
    let b2 = basic_conv(b, &n("branch2.2"), b2, same(224 / d, 1, 7))?;
    let b2 = basic_conv(b, &n("branch2.3"), b2, same(224 / d, 7, 1))?;
    let b2 = basic_conv(b, &n("branch2.4"), b2, same(256 / d, 1, 7))?;
    let b3 = avg_pool_branch(b, prefix, x, 128 / d)?;
    b.concat(&n("cat"), &[b0, b1, b2, b3])
}

/// `ReductionB` (17 -> 8, 1024 -> 1536 channels): 1x1 192 -> 3x3/2 192 |
/// 1x1 256 -> 1x7 256 -> 7x1 320 -> 3x3/2 320 | max-pool 3/2.
pub fn reduction_b(b: &mut NetBuilder, prefix: &str, x: Value, d: usize) -> Result<Value> {
    let n = |s: &str| format!("{prefix}{s}");
    let b0 = basic_conv(b, &n("branch0.0"), x, ConvSpec::new(192 / d, 1, 1, 0))?;
    let b0 = basic_conv(b, &n("branch0.1"), b0, ConvSpec::new(192 / d, 3, 2, 0))?;
    let b1 = basic_conv(b, &n("branch1.0"), x, ConvSpec::new(256 / d, 1, 1, 0))?;
    let b1 = basic_conv(b, &n("branch1.1"), b1, same(256 / d, 1, 7))?;
    let b1 = basic_conv(b, &n("branch1.2"), b1, same(320 / d, 7, 1))?;
    let b1 = basic_conv(b, &n("branch1.3"), b1, ConvSpec::new(320 / d, 3, 2, 0))?;
    let b2 = max_pool(b, &n("branch2"), x)?;
    b.concat(&n("cat"), &[b0, b1, b2])
}

/// `InceptionC` (1536 channels): 1x1 256 | 1x1 384 -> (1x3 256 | 3x1 256) |
/// 1x1 384 -> 3x1 448 -> 1x3 512 -> (1x3 256 | 3x1 256) | pool -> 1x1 256. timm concatenates
/// the split pairs first; one flat concat gives the same channel order.
pub fn inception_c(b: &mut NetBuilder, prefix: &str, x: Value, d: usize) -> Result<Value> {
    let n = |s: &str| format!("{prefix}{s}");
    let c256 = 256 / d;
    let b0 = basic_conv(b, &n("branch0"), x, ConvSpec::new(c256, 1, 1, 0))?;
    let b1 = basic_conv(b, &n("branch1_0"), x, ConvSpec::new(384 / d, 1, 1, 0))?;
    let b1a = basic_conv(b, &n("branch1_1a"), b1, same(c256, 1, 3))?;
    let b1b = basic_conv(b, &n("branch1_1b"), b1, same(c256, 3, 1))?;
    let b2 = basic_conv(b, &n("branch2_0"), x, ConvSpec::new(384 / d, 1, 1, 0))?;
    let b2 = basic_conv(b, &n("branch2_1"), b2, same(448 / d, 3, 1))?;
    let b2 = basic_conv(b, &n("branch2_2"), b2, same(512 / d, 1, 3))?;
    let b2a = basic_conv(b, &n("branch2_3a"), b2, same(c256, 1, 3))?;
    let b2b = basic_conv(b, &n("branch2_3b"), b2, same(c256, 3, 1))?;
    let b3 = avg_pool_branch(b, prefix, x, c256)?;
    b.concat(&n("cat"), &[b0, b1a, b1b, b2a, b2b, b3])
}

/// The input size the network is designed for.
pub const INPUT: Shape = Shape { n: 1, h: 299, w: 299, c: 3 };

pub fn inception_v4_with(classes: usize) -> Result<Net> {
    let (mut builder, x) = NetBuilder::new("inception_v4", 3)?;
    builder.set_bn_eps(INCEPTION_BN_EPS)?;
    let b = &mut builder;
    let mut y = basic_conv(b, "features.0", x, ConvSpec::new(32, 3, 2, 0))?;
    y = basic_conv(b, "features.1", y, ConvSpec::new(32, 3, 1, 0))?;
    y = basic_conv(b, "features.2", y, ConvSpec::new(64, 3, 1, 1))?;
    y = mixed_3a(b, "features.3.", y, 1)?;
    y = mixed_4a(b, "features.4.", y, 1)?;
    y = mixed_5a(b, "features.5.", y, 1)?;
    for i in 6..10 {
        y = inception_a(b, &format!("features.{i}."), y, 1)?;
    }
    y = reduction_a(b, "features.10.", y, 1)?;
    for i in 11..18 {
        y = inception_b(b, &format!("features.{i}."), y, 1)?;
    }
    y = reduction_b(b, "features.18.", y, 1)?;
    for i in 19..22 {
        y = inception_c(b, &format!("features.{i}."), y, 1)?;
    }
    y = b.global_avg_pool("global_pool", y)?;
    y = b.flatten("flatten", y)?;
    y = b.classifier("last_linear", y, 1536, classes)?;
    builder.finish(y)
}

pub fn inception_v4() -> Result<Net> {
    inception_v4_with(1000)
}
