//! Inception v3 (Szegedy et al. 2015) in torchvision's structure and names, for 299x299
//! inputs: `Conv2d_{1a,2a,2b,3b,4a}_*`, `maxpool1/2`, `Mixed_5b..7c` (modules A, A, A, B, C,
//! C, C, C, D, E, E), `fc`. Every conv is a `BasicConv2d` (BN eps 1e-3); the 7x7 and 3x3 convs
//! are factorized into 1x7/7x1 and 1x3/3x1 pairs; pooling branches average 3x3 windows with the
//! padding counted (`F.avg_pool2d(x, 3, 1, 1)`). The auxiliary head is training-only.
//!
//! The module functions take a channel divisor `d` (1 for the network) so that the PyTorch
//! fixtures, built with every hard-coded width divided by 16, can be checked with the same code.

use lineage_kernels::{Padding, Shape};

use crate::error::Result;
use crate::graph::{ConvSpec, Net, NetBuilder, PoolSpec, Value};
use crate::models::googlenet::{basic_conv, transform_input, INCEPTION_BN_EPS};

/// A `kh x kw` conv to `c` channels with stride 1 and "same" padding.
pub(crate) fn same(c: usize, kh: usize, kw: usize) -> ConvSpec {
    ConvSpec { kh, kw, pad: Padding::symmetric(kh / 2, kw / 2), ..ConvSpec::new(c, 1, 1, 0) }
}

fn avg_pool_branch(b: &mut NetBuilder, prefix: &str, x: Value, c: usize) -> Result<Value> {
    let pooled = b.avg_pool(&format!("{prefix}avg_pool"), x, PoolSpec::square(3, 1, 1))?;
    basic_conv(b, &format!("{prefix}branch_pool"), pooled, ConvSpec::new(c, 1, 1, 0))
}

/// `InceptionA(in, pool_features)`: 1x1 64; 1x1 48 -> 5x5 64; 1x1 64 -> 3x3 96 -> 3x3 96; pool.
pub fn inception_a(
    b: &mut NetBuilder,
    prefix: &str,
    x: Value,
    pool_features: usize,
    d: usize,
) -> Result<Value> {
    let n = |s: &str| format!("{prefix}{s}");
    let b1 = basic_conv(b, &n("branch1x1"), x, ConvSpec::new(64 / d, 1, 1, 0))?;
    let b5 = basic_conv(b, &n("branch5x5_1"), x, ConvSpec::new(48 / d, 1, 1, 0))?;
    let b5 = basic_conv(b, &n("branch5x5_2"), b5, ConvSpec::new(64 / d, 5, 1, 2))?;
    let b3 = basic_conv(b, &n("branch3x3dbl_1"), x, ConvSpec::new(64 / d, 1, 1, 0))?;
    let b3 = basic_conv(b, &n("branch3x3dbl_2"), b3, ConvSpec::new(96 / d, 3, 1, 1))?;
    let b3 = basic_conv(b, &n("branch3x3dbl_3"), b3, ConvSpec::new(96 / d, 3, 1, 1))?;
    let bp = avg_pool_branch(b, prefix, x, pool_features / d)?;
    b.concat(&n("cat"), &[b1, b5, b3, bp])
}

/// `InceptionB` (grid reduction 35 -> 17): 3x3/2 384; 1x1 64 -> 3x3 96 -> 3x3/2 96; max-pool 3/2.
pub fn inception_b(b: &mut NetBuilder, prefix: &str, x: Value, d: usize) -> Result<Value> {
    let n = |s: &str| format!("{prefix}{s}");
    let b3 = basic_conv(b, &n("branch3x3"), x, ConvSpec::new(384 / d, 3, 2, 0))?;
    let bd = basic_conv(b, &n("branch3x3dbl_1"), x, ConvSpec::new(64 / d, 1, 1, 0))?;
    let bd = basic_conv(b, &n("branch3x3dbl_2"), bd, ConvSpec::new(96 / d, 3, 1, 1))?;
    let bd = basic_conv(b, &n("branch3x3dbl_3"), bd, ConvSpec::new(96 / d, 3, 2, 0))?;
    let bp = b.max_pool(&n("max_pool"), x, PoolSpec::square(3, 2, 0))?;
    b.concat(&n("cat"), &[b3, bd, bp])
}

/// `InceptionC(in, channels_7x7)`: 1x1 192; 1x1 c7 -> 1x7 c7 -> 7x1 192;
/// 1x1 c7 -> 7x1 c7 -> 1x7 c7 -> 7x1 c7 -> 1x7 192; pool -> 1x1 192.
pub fn inception_c(b: &mut NetBuilder, prefix: &str, x: Value, c7: usize, d: usize) -> Result<Value> {
    let n = |s: &str| format!("{prefix}{s}");
    let (c7, c192) = (c7 / d, 192 / d);
    let b1 = basic_conv(b, &n("branch1x1"), x, ConvSpec::new(c192, 1, 1, 0))?;
    let b7 = basic_conv(b, &n("branch7x7_1"), x, ConvSpec::new(c7, 1, 1, 0))?;
    let b7 = basic_conv(b, &n("branch7x7_2"), b7, same(c7, 1, 7))?;
    let b7 = basic_conv(b, &n("branch7x7_3"), b7, same(c192, 7, 1))?;
    let bd = basic_conv(b, &n("branch7x7dbl_1"), x, ConvSpec::new(c7, 1, 1, 0))?;
    let bd = basic_conv(b, &n("branch7x7dbl_2"), bd, same(c7, 7, 1))?;
    let bd = basic_conv(b, &n("branch7x7dbl_3"), bd, same(c7, 1, 7))?;
    let bd = basic_conv(b, &n("branch7x7dbl_4"), bd, same(c7, 7, 1))?;
    let bd = basic_conv(b, &n("branch7x7dbl_5"), bd, same(c192, 1, 7))?;
    let bp = avg_pool_branch(b, prefix, x, c192)?;
    b.concat(&n("cat"), &[b1, b7, bd, bp])
}

/// `InceptionD` (grid reduction 17 -> 8): 1x1 192 -> 3x3/2 320;
/// 1x1 192 -> 1x7 192 -> 7x1 192 -> 3x3/2 192; max-pool 3/2.
pub fn inception_d(b: &mut NetBuilder, prefix: &str, x: Value, d: usize) -> Result<Value> {
    let n = |s: &str| format!("{prefix}{s}");
    let c192 = 192 / d;
    let b3 = basic_conv(b, &n("branch3x3_1"), x, ConvSpec::new(c192, 1, 1, 0))?;
    let b3 = basic_conv(b, &n("branch3x3_2"), b3, ConvSpec::new(320 / d, 3, 2, 0))?;
    let b7 = basic_conv(b, &n("branch7x7x3_1"), x, ConvSpec::new(c192, 1, 1, 0))?;
    let b7 = basic_conv(b, &n("branch7x7x3_2"), b7, same(c192, 1, 7))?;
    let b7 = basic_conv(b, &n("branch7x7x3_3"), b7, same(c192, 7, 1))?;
    let b7 = basic_conv(b, &n("branch7x7x3_4"), b7, ConvSpec::new(c192, 3, 2, 0))?;
    let bp = b.max_pool(&n("max_pool"), x, PoolSpec::square(3, 2, 0))?;
    b.concat(&n("cat"), &[b3, b7, bp])
}

/// `InceptionE`: 1x1 320; 1x1 384 -> (1x3 384 | 3x1 384); 1x1 448 -> 3x3 384 -> (1x3 384 |
/// 3x1 384); pool -> 1x1 192. torchvision concatenates the split pairs first; one flat concat
/// gives the same channel order.
pub fn inception_e(b: &mut NetBuilder, prefix: &str, x: Value, d: usize) -> Result<Value> {
    let n = |s: &str| format!("{prefix}{s}");
    let c384 = 384 / d;
    let b1 = basic_conv(b, &n("branch1x1"), x, ConvSpec::new(320 / d, 1, 1, 0))?;
    let b3 = basic_conv(b, &n("branch3x3_1"), x, ConvSpec::new(c384, 1, 1, 0))?;
    let b3a = basic_conv(b, &n("branch3x3_2a"), b3, same(c384, 1, 3))?;
    let b3b = basic_conv(b, &n("branch3x3_2b"), b3, same(c384, 3, 1))?;
    let bd = basic_conv(b, &n("branch3x3dbl_1"), x, ConvSpec::new(448 / d, 1, 1, 0))?;
    let bd = basic_conv(b, &n("branch3x3dbl_2"), bd, ConvSpec::new(c384, 3, 1, 1))?;
    let bda = basic_conv(b, &n("branch3x3dbl_3a"), bd, same(c384, 1, 3))?;
    let bdb = basic_conv(b, &n("branch3x3dbl_3b"), bd, same(c384, 3, 1))?;
    let bp = avg_pool_branch(b, prefix, x, 192 / d)?;
    b.concat(&n("cat"), &[b1, b3a, b3b, bda, bdb, bp])
}

/// The input size the network is designed for.
pub const INPUT: Shape = Shape { n: 1, h: 299, w: 299, c: 3 };

pub fn inception_v3_with(classes: usize, transform: bool) -> Result<Net> {
    let (mut builder, x) = NetBuilder::new("inception_v3", 3)?;
    builder.set_bn_eps(INCEPTION_BN_EPS)?;
    let b = &mut builder;
    let mut y = if transform { transform_input(b, x)? } else { x };
    y = basic_conv(b, "Conv2d_1a_3x3", y, ConvSpec::new(32, 3, 2, 0))?;
    y = basic_conv(b, "Conv2d_2a_3x3", y, ConvSpec::new(32, 3, 1, 0))?;
    y = basic_conv(b, "Conv2d_2b_3x3", y, ConvSpec::new(64, 3, 1, 1))?;
    y = b.max_pool("maxpool1", y, PoolSpec::square(3, 2, 0))?;
    y = basic_conv(b, "Conv2d_3b_1x1", y, ConvSpec::new(80, 1, 1, 0))?;
    y = basic_conv(b, "Conv2d_4a_3x3", y, ConvSpec::new(192, 3, 1, 0))?;
    y = b.max_pool("maxpool2", y, PoolSpec::square(3, 2, 0))?;
    y = inception_a(b, "Mixed_5b.", y, 32, 1)?;
    y = inception_a(b, "Mixed_5c.", y, 64, 1)?;
    y = inception_a(b, "Mixed_5d.", y, 64, 1)?;
    y = inception_b(b, "Mixed_6a.", y, 1)?;
    for (name, c7) in [("Mixed_6b.", 128), ("Mixed_6c.", 160), ("Mixed_6d.", 160), ("Mixed_6e.", 192)] {
        y = inception_c(b, name, y, c7, 1)?;
    }
    y = inception_d(b, "Mixed_7a.", y, 1)?;
    y = inception_e(b, "Mixed_7b.", y, 1)?;
    y = inception_e(b, "Mixed_7c.", y, 1)?;
    y = b.global_avg_pool("avgpool", y)?;
    y = b.flatten("flatten", y)?;
    y = b.classifier("fc", y, 2048, classes)?;
    builder.finish(y)
}

pub fn inception_v3() -> Result<Net> {
    inception_v3_with(1000, false)
}
