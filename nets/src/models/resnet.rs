//! ResNet (He et al. 2015) in torchvision's exact structure and names: `conv1`, `bn1`,
//! `layer{1..4}.{i}.conv{1,2,3}` / `bn{1,2,3}` / `downsample.{0,1}`, `fc`. The stride sits on
//! the 3x3 convolution of a bottleneck (torchvision's "ResNet v1.5"). ResNeXt is the same
//! network with a grouped, wider 3x3 in each bottleneck ([`super::resnext`]).

use lineage_kernels::Activation;

use crate::error::{NetError, Result};
use crate::graph::{ConvSpec, Net, NetBuilder, PoolSpec, Value};

/// Which residual block a ResNet stacks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Block {
    /// Two 3x3 convolutions (ResNet-18/34), expansion 1.
    Basic,
    /// 1x1 reduce, 3x3 in `groups` groups, 1x1 expand, expansion 4; the 3x3 is
    /// `planes * base_width / 64 * groups` wide (torchvision's `Bottleneck` arguments).
    Bottleneck { groups: usize, base_width: usize },
}

impl Block {
    /// ResNet-50/101/152's bottleneck: one group, 64 wide per 64 planes.
    pub const BOTTLENECK: Block = Block::Bottleneck { groups: 1, base_width: 64 };

    pub fn expansion(self) -> usize {
        match self {
            Block::Basic => 1,
            Block::Bottleneck { .. } => 4,
        }
    }
}

/// One residual block named `{prefix}conv1` and so on (`prefix` is `"layer1.0."`, or `""` for
/// a block on its own): `relu(bn(conv(...)) + identity)`, where identity is the input or
/// `downsample` (1x1 conv + BN) when the stride or the width changes.
pub fn residual_block(
    b: &mut NetBuilder,
    prefix: &str,
    x: Value,
    block: Block,
    planes: usize,
    stride: usize,
) -> Result<Value> {
    let relu = Activation::Relu;
    let n = |s: &str| format!("{prefix}{s}");
    let c_in = b.channels(x)?;
    let c_out = planes * block.expansion();
    let out = match block {
        Block::Basic => {
            let y = b.conv_bn(&n("conv1"), &n("bn1"), x, ConvSpec::new(planes, 3, stride, 1), relu)?;
            b.conv_bn(&n("conv2"), &n("bn2"), y, ConvSpec::new(planes, 3, 1, 1), Activation::None)?
        }
        Block::Bottleneck { groups, base_width } => {
            let width = planes * base_width / 64 * groups;
            let y = b.conv_bn(&n("conv1"), &n("bn1"), x, ConvSpec::new(width, 1, 1, 0), relu)?;
            let spec = ConvSpec::new(width, 3, stride, 1).groups(groups);
            let y = b.conv_bn(&n("conv2"), &n("bn2"), y, spec, relu)?;
            b.conv_bn(&n("conv3"), &n("bn3"), y, ConvSpec::new(c_out, 1, 1, 0), Activation::None)?
        }
    };
    let identity = if stride != 1 || c_in != c_out {
        let spec = ConvSpec::new(c_out, 1, stride, 0);
        b.conv_bn(&n("downsample.0"), &n("downsample.1"), x, spec, Activation::None)?
    } else {
        x
    };
    b.add(&n("add"), out, identity, relu)
}

/// A ResNet with `layers[i]` blocks in stage `i` and a `classes`-way classifier (none if 0).
pub fn resnet(name: &str, block: Block, layers: [usize; 4], classes: usize) -> Result<Net> {
    let (mut b, x) = NetBuilder::new(name, 3)?;
    let mut y = b.conv_bn("conv1", "bn1", x, ConvSpec::new(64, 7, 2, 3), Activation::Relu)?;
    y = b.max_pool("maxpool", y, PoolSpec::square(3, 2, 1))?;
    for (stage, (&blocks, planes)) in layers.iter().zip([64, 128, 256, 512]).enumerate() {
        for i in 0..blocks {
            let stride = if stage > 0 && i == 0 { 2 } else { 1 };
            y = residual_block(&mut b, &format!("layer{}.{i}.", stage + 1), y, block, planes, stride)?;
        }
    }
    y = b.global_avg_pool("avgpool", y)?;
    y = b.flatten("flatten", y)?;
    let features = 512 * block.expansion();
    y = b.classifier("fc", y, features, classes)?;
    b.finish(y)
}

/// `resnet{depth}` (18, 34, 50, 101 or 152) with a `classes`-way classifier (none if 0).
pub fn by_depth(depth: usize, classes: usize) -> Result<Net> {
    let (block, layers) = match depth {
        18 => (Block::Basic, [2, 2, 2, 2]),
        34 => (Block::Basic, [3, 4, 6, 3]),
        50 => (Block::BOTTLENECK, [3, 4, 6, 3]),
        101 => (Block::BOTTLENECK, [3, 4, 23, 3]),
        152 => (Block::BOTTLENECK, [3, 8, 36, 3]),
        _ => return Err(NetError::Graph(format!("resnet: depth {depth}; expected 18, 34, 50, 101 or 152"))),
    };
    resnet(&format!("resnet{depth}"), block, layers, classes)
}

pub fn resnet18() -> Result<Net> {
    by_depth(18, 1000)
}

pub fn resnet34() -> Result<Net> {
    by_depth(34, 1000)
}

pub fn resnet50() -> Result<Net> {
    by_depth(50, 1000)
}

pub fn resnet101() -> Result<Net> {
    by_depth(101, 1000)
}

pub fn resnet152() -> Result<Net> {
    by_depth(152, 1000)
}
