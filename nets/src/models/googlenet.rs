//! GoogLeNet (Szegedy et al. 2014) in torchvision's structure and names: `conv1..3`,
//! `maxpool1..4`, `inception{3a..5b}.branch{1..4}`, `fc`. Every conv is torchvision's
//! `BasicConv2d` (conv without bias, batch norm with eps 1e-3, ReLU) named `{name}.conv` /
//! `{name}.bn`. As in torchvision, the "5x5" branch uses a 3x3 conv and max-pools use ceil
//! mode; the auxiliary heads only serve training and are not built.

use lineage_kernels::Activation;

use crate::error::Result;
use crate::graph::{ConvSpec, Net, NetBuilder, PoolSpec, Value};
use crate::weights::{Tensor, Weights};

/// Batch-norm epsilon of torchvision's `BasicConv2d` (GoogLeNet, Inception v3) and timm's
/// Inception v4.
pub const INCEPTION_BN_EPS: f32 = 1e-3;

/// Name of the optional input transform (see [`insert_transform_input`]).
pub const TRANSFORM_INPUT: &str = "transform_input";

/// `BasicConv2d`: `relu(bn(conv(x)))` named `{name}.conv` / `{name}.bn`, with the builder's
/// batch-norm epsilon (the networks here set [`INCEPTION_BN_EPS`] with
/// [`NetBuilder::set_bn_eps`] first).
pub fn basic_conv(b: &mut NetBuilder, name: &str, x: Value, spec: ConvSpec) -> Result<Value> {
    b.conv_bn(&format!("{name}.conv"), &format!("{name}.bn"), x, spec, Activation::Relu)
}

/// torchvision's `transform_input` (for weights trained on inputs normalized to -1..1 and
/// used with ImageNet-normalized inputs), as a per-channel affine batch norm named
/// [`TRANSFORM_INPUT`] with epsilon 0 (an exact affine map); its constants come from
/// [`insert_transform_input`].
pub(crate) fn transform_input(b: &mut NetBuilder, x: Value) -> Result<Value> {
    b.batch_norm_eps(TRANSFORM_INPUT, x, 0.0, Activation::None)
}

/// Adds the constants of torchvision's `transform_input`,
/// `x_c * (std_c / 0.5) + (mean_c - 0.5) / 0.5` with ImageNet's mean and std, to `weights`.
pub fn insert_transform_input(weights: &mut Weights) {
    let mean = [0.485f32, 0.456, 0.406];
    let std = [0.229f32, 0.224, 0.225];
    let t = |data: Vec<f32>| Tensor { shape: vec![3], data };
    weights.insert(&format!("{TRANSFORM_INPUT}.weight"), t(std.iter().map(|s| s / 0.5).collect()));
    weights.insert(&format!("{TRANSFORM_INPUT}.bias"), t(mean.iter().map(|m| (m - 0.5) / 0.5).collect()));
    weights.insert(&format!("{TRANSFORM_INPUT}.running_mean"), t(vec![0.0; 3]));
    weights.insert(&format!("{TRANSFORM_INPUT}.running_var"), t(vec![1.0; 3]));
}

/// The widths of one Inception module, in torchvision's argument order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InceptionWidths {
    pub ch1x1: usize,
    pub ch3x3red: usize,
    pub ch3x3: usize,
    pub ch5x5red: usize,
    pub ch5x5: usize,
    pub pool_proj: usize,
}

const fn widths(w: [usize; 6]) -> InceptionWidths {
    InceptionWidths { ch1x1: w[0], ch3x3red: w[1], ch3x3: w[2], ch5x5red: w[3], ch5x5: w[4], pool_proj: w[5] }
}

/// torchvision's `Inception` module named `{prefix}branch{1..4}`: 1x1; 1x1 then 3x3; 1x1 then
/// 3x3 (the "5x5" branch); max-pool 3/1 pad 1 (ceil mode) then 1x1; concatenated in that order.
pub fn inception(b: &mut NetBuilder, prefix: &str, x: Value, w: InceptionWidths) -> Result<Value> {
    let n = |s: &str| format!("{prefix}{s}");
    let b1 = basic_conv(b, &n("branch1"), x, ConvSpec::new(w.ch1x1, 1, 1, 0))?;
    let b2 = basic_conv(b, &n("branch2.0"), x, ConvSpec::new(w.ch3x3red, 1, 1, 0))?;
    let b2 = basic_conv(b, &n("branch2.1"), b2, ConvSpec::new(w.ch3x3, 3, 1, 1))?;
    let b3 = basic_conv(b, &n("branch3.0"), x, ConvSpec::new(w.ch5x5red, 1, 1, 0))?;
    let b3 = basic_conv(b, &n("branch3.1"), b3, ConvSpec::new(w.ch5x5, 3, 1, 1))?;
    let pool = PoolSpec { ceil_mode: true, ..PoolSpec::square(3, 1, 1) };
    let b4 = b.max_pool(&n("branch4.0"), x, pool)?;
    let b4 = basic_conv(b, &n("branch4.1"), b4, ConvSpec::new(w.pool_proj, 1, 1, 0))?;
    b.concat(&n("cat"), &[b1, b2, b3, b4])
}

/// The nine modules: (name, widths), with the max-pool that precedes 4a and 5a.
const MODULES: [(&str, InceptionWidths); 9] = [
    ("inception3a", widths([64, 96, 128, 16, 32, 32])),
    ("inception3b", widths([128, 128, 192, 32, 96, 64])),
    ("inception4a", widths([192, 96, 208, 16, 48, 64])),
    ("inception4b", widths([160, 112, 224, 24, 64, 64])),
    ("inception4c", widths([128, 128, 256, 24, 64, 64])),
    ("inception4d", widths([112, 144, 288, 32, 64, 64])),
    ("inception4e", widths([256, 160, 320, 32, 128, 128])),
    ("inception5a", widths([256, 160, 320, 32, 128, 128])),
    ("inception5b", widths([384, 192, 384, 48, 128, 128])),
];

/// GoogLeNet with a `classes`-way classifier; with `transform_input`, the input first goes
/// through torchvision's `transform_input` (whose constants [`insert_transform_input`] adds).
pub fn googlenet_with(classes: usize, transform: bool) -> Result<Net> {
    let (mut b, x) = NetBuilder::new("googlenet", 3)?;
    b.set_bn_eps(INCEPTION_BN_EPS)?;
    let ceil = |k, s| PoolSpec { ceil_mode: true, ..PoolSpec::square(k, s, 0) };
    let mut y = if transform { transform_input(&mut b, x)? } else { x };
    y = basic_conv(&mut b, "conv1", y, ConvSpec::new(64, 7, 2, 3))?;
    y = b.max_pool("maxpool1", y, ceil(3, 2))?;
    y = basic_conv(&mut b, "conv2", y, ConvSpec::new(64, 1, 1, 0))?;
    y = basic_conv(&mut b, "conv3", y, ConvSpec::new(192, 3, 1, 1))?;
    y = b.max_pool("maxpool2", y, ceil(3, 2))?;
    for (name, w) in MODULES {
        match name {
            "inception4a" => y = b.max_pool("maxpool3", y, ceil(3, 2))?,
            "inception5a" => y = b.max_pool("maxpool4", y, ceil(2, 2))?,
            _ => {}
        }
        y = inception(&mut b, &format!("{name}."), y, w)?;
    }
    y = b.global_avg_pool("avgpool", y)?;
    y = b.flatten("flatten", y)?;
    y = b.classifier("fc", y, 1024, classes)?;
    b.finish(y)
}

pub fn googlenet() -> Result<Net> {
    googlenet_with(1000, false)
}
