//! ResNeXt (Xie et al. 2017) in torchvision's structure and names, which are ResNet's
//! (`conv1`, `bn1`, `layer{1..4}.{i}.conv{1,2,3}` / `bn{1,2,3}` / `downsample.{0,1}`, `fc`) with
//! a grouped 3x3 convolution in each bottleneck: width = planes * base_width / 64 * groups.

use lineage_kernels::Activation;

use crate::error::Result;
use crate::graph::{ConvSpec, Net, NetBuilder, PoolSpec, Value};

/// Bottleneck expansion (output channels = 4 x planes).
const EXPANSION: usize = 4;

/// torchvision's `Bottleneck(inplanes, planes, stride, groups, base_width)` named `{prefix}conv1`
/// and so on: 1x1 to `width`, grouped 3x3 with `stride`, 1x1 to `4 * planes`, plus the input (or
/// its 1x1/`stride` conv + BN `downsample` when the stride or width changes), then ReLU.
pub fn grouped_bottleneck(
    b: &mut NetBuilder,
    prefix: &str,
    x: Value,
    planes: usize,
    stride: usize,
    groups: usize,
    base_width: usize,
) -> Result<Value> {
    let relu = Activation::Relu;
    let n = |s: &str| format!("{prefix}{s}");
    let c_in = b.channels(x)?;
    let width = planes * base_width / 64 * groups;
    let c_out = planes * EXPANSION;
    let y = b.conv_bn(&n("conv1"), &n("bn1"), x, ConvSpec::new(width, 1, 1, 0), relu)?;
    let y = b.conv_bn(&n("conv2"), &n("bn2"), y, ConvSpec::new(width, 3, stride, 1).groups(groups), relu)?;
    let y = b.conv_bn(&n("conv3"), &n("bn3"), y, ConvSpec::new(c_out, 1, 1, 0), Activation::None)?;
    let identity = if stride != 1 || c_in != c_out {
        let spec = ConvSpec::new(c_out, 1, stride, 0);
        b.conv_bn(&n("downsample.0"), &n("downsample.1"), x, spec, Activation::None)?
    } else {
        x
    };
    b.add(&n("add"), y, identity, relu)
}

/// A ResNeXt with `layers[i]` bottlenecks in stage `i`, `groups` x `base_width` bottleneck width.
pub fn resnext(
    name: &str,
    layers: [usize; 4],
    groups: usize,
    base_width: usize,
    classes: usize,
) -> Result<Net> {
    let (mut b, x) = NetBuilder::new(name, 3)?;
    let mut y = b.conv_bn("conv1", "bn1", x, ConvSpec::new(64, 7, 2, 3), Activation::Relu)?;
    y = b.max_pool("maxpool", y, PoolSpec::square(3, 2, 1))?;
    for (stage, (&blocks, planes)) in layers.iter().zip([64, 128, 256, 512]).enumerate() {
        for i in 0..blocks {
            let stride = if stage > 0 && i == 0 { 2 } else { 1 };
            let prefix = format!("layer{}.{i}.", stage + 1);
            y = grouped_bottleneck(&mut b, &prefix, y, planes, stride, groups, base_width)?;
        }
    }
    y = b.global_avg_pool("avgpool", y)?;
    y = b.flatten("flatten", y)?;
    y = b.linear("fc", y, 512 * EXPANSION, classes, true)?;
    b.finish(y)
}

pub fn resnext50_32x4d() -> Result<Net> {
    resnext("resnext50_32x4d", [3, 4, 6, 3], 32, 4, 1000)
}

pub fn resnext101_32x8d() -> Result<Net> {
    resnext("resnext101_32x8d", [3, 4, 23, 3], 32, 8, 1000)
}
