//! MobileNet v1 (Howard et al. 2017) in timm's `mobilenetv1_100` structure and names (built by
//! timm's EfficientNet builder): `conv_stem` + `bn1` (3x3/2, 32 channels, ReLU6),
//! `blocks.{S}.{M}` depthwise separable blocks (`conv_dw` + `bn1` ReLU6, `conv_pw` + `bn2`
//! ReLU6, no residual), global average pool, `classifier`. There is no `conv_head`.

use lineage_kernels::Activation;

use crate::error::Result;
use crate::graph::{ConvSpec, Net, NetBuilder, Value};

/// (output channels, stride) of each block, by stage, as in the paper's table 1.
pub const STAGES: [&[(usize, usize)]; 5] = [
    &[(64, 1)],
    &[(128, 2), (128, 1)],
    &[(256, 2), (256, 1)],
    &[(512, 2), (512, 1), (512, 1), (512, 1), (512, 1), (512, 1)],
    &[(1024, 2), (1024, 1)],
];

/// timm's `DepthwiseSeparableConv` named `{prefix}`: depthwise 3x3 with `stride` + BN + ReLU6,
/// pointwise 1x1 to `c_out` + BN + ReLU6.
pub fn depthwise_separable(
    b: &mut NetBuilder,
    prefix: &str,
    x: Value,
    c_out: usize,
    stride: usize,
) -> Result<Value> {
    let relu6 = Activation::Relu6;
    let n = |s: &str| format!("{prefix}{s}");
    let c = b.channels(x)?;
    let y = b.conv_bn(&n("conv_dw"), &n("bn1"), x, ConvSpec::new(c, 3, stride, 1).groups(c), relu6)?;
    b.conv_bn(&n("conv_pw"), &n("bn2"), y, ConvSpec::new(c_out, 1, 1, 0), relu6)
}

pub fn mobilenet_v1_with(classes: usize) -> Result<Net> {
    let (mut b, x) = NetBuilder::new("mobilenet_v1", 3)?;
    let mut y = b.conv_bn("conv_stem", "bn1", x, ConvSpec::new(32, 3, 2, 1), Activation::Relu6)?;
    for (s, blocks) in STAGES.iter().enumerate() {
        for (m, &(c, stride)) in blocks.iter().enumerate() {
            y = depthwise_separable(&mut b, &format!("blocks.{s}.{m}."), y, c, stride)?;
        }
    }
    y = b.global_avg_pool("global_pool", y)?;
    y = b.flatten("flatten", y)?;
    y = b.classifier("classifier", y, 1024, classes)?;
    b.finish(y)
}

pub fn mobilenet_v1() -> Result<Net> {
    mobilenet_v1_with(1000)
}
