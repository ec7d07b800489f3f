//! MobileNet v2 (Sandler et al. 2018) in torchvision's exact structure and names:
//! `features.0` (conv-BN-ReLU6), `features.{1..17}.conv.*` (inverted residuals),
//! `features.18` (1x1 conv-BN-ReLU6), `classifier.1` (the linear layer after dropout).

use lineage_kernels::Activation;

use crate::error::Result;
use crate::graph::{ConvSpec, Net, NetBuilder, Value};

/// (expansion t, output channels c, repeats n, first stride s), as in the paper's table 2.
const SETTINGS: [(usize, usize, usize, usize); 7] = [
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
];

/// An inverted residual block named `{prefix}conv.*`: 1x1 expand (if `expand_ratio` > 1),
/// 3x3 depthwise with `stride`, 1x1 linear projection, plus the input when the stride is 1
/// and the width is kept (no activation after the sum: the linear bottleneck).
pub fn inverted_residual(
    b: &mut NetBuilder,
    prefix: &str,
    x: Value,
    c_out: usize,
    stride: usize,
    expand_ratio: usize,
) -> Result<Value> {
    let relu6 = Activation::Relu6;
    let n = |s: &str| format!("{prefix}conv.{s}");
    let c_in = b.channels(x)?;
    let hidden = c_in * expand_ratio;
    let mut i = 0;
    let mut y = x;
    if expand_ratio != 1 {
        y = b.conv_bn(&n("0.0"), &n("0.1"), y, ConvSpec::new(hidden, 1, 1, 0), relu6)?;
        i = 1;
    }
    let dw = ConvSpec::new(hidden, 3, stride, 1).groups(hidden);
    y = b.conv_bn(&n(&format!("{i}.0")), &n(&format!("{i}.1")), y, dw, relu6)?;
    let project = ConvSpec::new(c_out, 1, 1, 0);
    y = b.conv_bn(&n(&format!("{}", i + 1)), &n(&format!("{}", i + 2)), y, project, Activation::None)?;
    if stride == 1 && c_in == c_out {
        y = b.add(&format!("{prefix}add"), y, x, Activation::None)?;
    }
    Ok(y)
}

/// MobileNet v2 at width 1.0 with a `classes`-way classifier.
pub fn mobilenet_v2_with(classes: usize) -> Result<Net> {
    let (mut b, x) = NetBuilder::new("mobilenet_v2", 3)?;
    let mut y =
        b.conv_bn("features.0.0", "features.0.1", x, ConvSpec::new(32, 3, 2, 1), Activation::Relu6)?;
    let mut index = 1;
    for (t, c, n, s) in SETTINGS {
        for i in 0..n {
            let stride = if i == 0 { s } else { 1 };
            y = inverted_residual(&mut b, &format!("features.{index}."), y, c, stride, t)?;
            index += 1;
        }
    }
    let last = format!("features.{index}");
    y = b.conv_bn(
        &format!("{last}.0"),
        &format!("{last}.1"),
        y,
        ConvSpec::new(1280, 1, 1, 0),
        Activation::Relu6,
    )?;
    y = b.global_avg_pool("avgpool", y)?;
    y = b.flatten("flatten", y)?;
    y = b.classifier("classifier.1", y, 1280, classes)?;
    b.finish(y)
}

pub fn mobilenet_v2() -> Result<Net> {
    mobilenet_v2_with(1000)
}
