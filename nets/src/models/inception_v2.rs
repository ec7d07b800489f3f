//! Inception v2, i.e. BN-Inception (Ioffe & Szegedy 2015), in pytorchcv's `bninception`
//! structure and names, for 224x224 inputs: `features.init_block` (7x7/2 conv, max-pool, 1x1 and
//! 3x3 convs, max-pool), `features.stage{1,2,3}.unit{N}.branches.branch{1..4}`, `output`. Every
//! conv is pytorchcv's `ConvBlock`: `{name}.conv` WITH a bias, `{name}.bn` (eps 1e-5), ReLU.
//! GoogLeNet's 5x5 branch is two stacked 3x3 convs; the first unit of stages 2 and 3 is a grid
//! reduction (3x3 stride-2 convs padded by 1 beside a 3x3/2 max-pool); pooling branches average
//! 3x3 windows counting the padding, except the last unit's, which takes the maximum. All
//! max-pools use ceil mode.
//!
//! pytorchcv ends in `AvgPool2d(7, stride=1)`, which is the global average at 224x224 (a 7x7
//! map) and fails at its classifier otherwise; a global average keeps other sizes working with
//! the same result at 224. The grid reductions only fit even maps (the strided conv and the
//! ceil-mode pool disagree on odd sizes), so inputs such as 299 are an error, as in PyTorch.

use lineage_kernels::Shape;

use crate::error::Result;
use crate::graph::{ConvSpec, Net, NetBuilder, PoolSpec, Value};
use crate::models::googlenet::basic_conv;

/// The widths of one unit in pytorchcv's `mid1_channels_list` / `mid2_channels_list` form:
/// `mid1` are the 1x1 reductions of the 3x3 and double-3x3 branches, `mid2` the outputs of the
/// 1x1, 3x3, double-3x3 and pool branches (a reduction unit has no 1x1 or pool conv and ignores
/// `mid2[0]` and `mid2[3]`, which pytorchcv sets to 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnitWidths {
    pub mid1: [usize; 2],
    pub mid2: [usize; 4],
}

const fn unit(mid1: [usize; 2], mid2: [usize; 4]) -> UnitWidths {
    UnitWidths { mid1, mid2 }
}

/// pytorchcv's `get_bninception` lists (the paper's 3a, 3b | 3c, 4a-4d | 4e, 5a, 5b).
const STAGES: [&[UnitWidths]; 3] = [
    &[unit([64, 64], [64, 64, 96, 32]), unit([64, 64], [64, 96, 96, 64])],
    &[
        unit([128, 64], [0, 160, 96, 0]),
        unit([64, 96], [224, 96, 128, 128]),
        unit([96, 96], [192, 128, 128, 128]),
        unit([128, 128], [160, 160, 160, 128]),
        unit([128, 160], [96, 192, 192, 128]),
    ],
    &[
        unit([128, 192], [0, 192, 256, 0]),
        unit([192, 160], [352, 320, 224, 128]),
        unit([192, 192], [352, 320, 224, 128]),
    ],
];

/// Width of the pooled features (the last unit's 352 + 320 + 224 + 128).
pub const FEATURES: usize = 1024;

/// The input size the network is designed for.
pub const INPUT: Shape = Shape { n: 1, h: 224, w: 224, c: 3 };

/// pytorchcv's `ConvBlock` with its default bias: `relu(bn(conv(x) + bias))`.
fn conv_block(b: &mut NetBuilder, name: &str, x: Value, c: usize, k: usize, stride: usize) -> Result<Value> {
    basic_conv(b, name, x, ConvSpec::new(c, k, stride, k / 2).with_bias())
}

/// `Inception3x3Branch`: 1x1 to `mid`, then 3x3 (stride `stride`, padding 1) to `c`.
fn branch_3x3(b: &mut NetBuilder, p: &str, x: Value, mid: usize, c: usize, stride: usize) -> Result<Value> {
    let y = conv_block(b, &format!("{p}.conv1"), x, mid, 1, 1)?;
    conv_block(b, &format!("{p}.conv2"), y, c, 3, stride)
}

/// `InceptionDouble3x3Branch`: 1x1 to `mid`, 3x3 to `c`, 3x3 (stride `stride`) to `c`: the
/// paper's replacement of the 5x5 conv.
fn branch_double_3x3(
    b: &mut NetBuilder,
    p: &str,
    x: Value,
    mid: usize,
    c: usize,
    stride: usize,
) -> Result<Value> {
    let y = conv_block(b, &format!("{p}.conv1"), x, mid, 1, 1)?;
    let y = conv_block(b, &format!("{p}.conv2"), y, c, 3, 1)?;
    conv_block(b, &format!("{p}.conv3"), y, c, 3, stride)
}

/// `InceptionBlock` named `{prefix}branches.branch{1..4}`: 1x1 | 1x1 -> 3x3 | 1x1 -> 3x3 -> 3x3 |
/// pool 3/1 pad 1 (average counting the padding, or maximum) -> 1x1, concatenated in that order.
pub fn inception_block(
    b: &mut NetBuilder,
    prefix: &str,
    x: Value,
    w: UnitWidths,
    avg_pool: bool,
) -> Result<Value> {
    let n = |s: &str| format!("{prefix}branches.{s}");
    let b1 = conv_block(b, &n("branch1"), x, w.mid2[0], 1, 1)?;
    let b2 = branch_3x3(b, &n("branch2"), x, w.mid1[0], w.mid2[1], 1)?;
    let b3 = branch_double_3x3(b, &n("branch3"), x, w.mid1[1], w.mid2[2], 1)?;
    let pool = PoolSpec { ceil_mode: true, ..PoolSpec::square(3, 1, 1) };
    let pooled = if avg_pool {
        b.avg_pool(&n("branch4.pool"), x, pool)?
    } else {
        b.max_pool(&n("branch4.pool"), x, pool)?
    };
    let b4 = conv_block(b, &n("branch4.conv"), pooled, w.mid2[3], 1, 1)?;
    b.concat(&format!("{prefix}cat"), &[b1, b2, b3, b4])
}

/// `ReductionBlock` (halves the grid): 1x1 -> 3x3/2 | 1x1 -> 3x3 -> 3x3/2 | max-pool 3/2 (ceil).
pub fn reduction_block(b: &mut NetBuilder, prefix: &str, x: Value, w: UnitWidths) -> Result<Value> {
    let n = |s: &str| format!("{prefix}branches.{s}");
    let b1 = branch_3x3(b, &n("branch1"), x, w.mid1[0], w.mid2[1], 2)?;
    let b2 = branch_double_3x3(b, &n("branch2"), x, w.mid1[1], w.mid2[2], 2)?;
    let pool = PoolSpec { ceil_mode: true, ..PoolSpec::square(3, 2, 0) };
    let b3 = b.max_pool(&n("branch3"), x, pool)?;
    b.concat(&format!("{prefix}cat"), &[b1, b2, b3])
}

/// `StemBlock` named `{prefix}conv1`, `pool1`, `conv2.conv{1,2}`, `pool2`: 7x7/2 conv to `mid`,
/// max-pool 3/2, 1x1 to `mid`, 3x3 to `c`, max-pool 3/2 (224 -> 56 -> 28).
pub fn stem_block(b: &mut NetBuilder, prefix: &str, x: Value, mid: usize, c: usize) -> Result<Value> {
    let pool = PoolSpec { ceil_mode: true, ..PoolSpec::square(3, 2, 0) };
    let y = conv_block(b, &format!("{prefix}conv1"), x, mid, 7, 2)?;
    let y = b.max_pool(&format!("{prefix}pool1"), y, pool)?;
    let y = branch_3x3(b, &format!("{prefix}conv2"), y, mid, c, 1)?;
    b.max_pool(&format!("{prefix}pool2"), y, pool)
}

/// BN-Inception with a `classes`-way classifier (0: the 1024 pooled features).
pub fn inception_v2_with(classes: usize) -> Result<Net> {
    let (mut builder, x) = NetBuilder::new("inception_v2", 3)?;
    let b = &mut builder;
    let mut y = stem_block(b, "features.init_block.", x, 64, 192)?;
    for (i, units) in STAGES.iter().enumerate() {
        for (j, &w) in units.iter().enumerate() {
            let prefix = format!("features.stage{}.unit{}.", i + 1, j + 1);
            let last = i + 1 == STAGES.len() && j + 1 == units.len();
            y = if i > 0 && j == 0 {
                reduction_block(b, &prefix, y, w)?
            } else {
                inception_block(b, &prefix, y, w, !last)?
            };
        }
    }
    y = b.global_avg_pool("features.final_pool", y)?;
    y = b.flatten("flatten", y)?;
    y = b.classifier("output", y, FEATURES, classes)?;
    builder.finish(y)
}

pub fn inception_v2() -> Result<Net> {
    inception_v2_with(1000)
}
