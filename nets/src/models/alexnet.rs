//! AlexNet (Krizhevsky et al. 2012) in two forms, both named `features.N` / `classifier.N` as
//! torchvision names its `nn.Sequential` children (ReLU, dropout and LRN indices included, so
//! the parameterized layers sit at the same indices as in a PyTorch `Sequential`):
//! - `alexnet`: torchvision's single-GPU variant (64-192-384-256-256, no LRN);
//! - `alexnet_original`: the 2012 paper's layer list (96-256-384-384-256, LRN after the first
//!   two ReLUs), in one group;
//! - `alexnet_grouped`: the same layers with the paper's two-GPU towers, groups = 2 in conv2,
//!   conv4 and conv5 (the convolutions that read only their own GPU's maps; conv3 and the FCs
//!   read both), as Caffe's `bvlc_alexnet` has them. The LRNs run over all channels, as there.

use lineage_kernels::Activation;

use crate::error::Result;
use crate::graph::{ConvSpec, LrnSpec, Net, NetBuilder, PoolSpec, Value};

/// The paper's local response normalization: size 5, alpha 1e-4, beta 0.75, k 2.
pub const PAPER_LRN: LrnSpec = LrnSpec { size: 5, alpha: 1e-4, beta: 0.75, k: 2.0 };

/// torchvision's AlexNet/VGG head: `avgpool` (adaptive `pooled x pooled`), flatten, then FC 4096,
/// ReLU, FC 4096, ReLU, FC `classes` (none if 0) named `classifier.{linear_at}` / `classifier.{relu_at}`
/// (dropout is the identity at inference).
pub(crate) fn classifier(
    b: &mut NetBuilder,
    x: Value,
    pooled: usize,
    relu_at: [usize; 2],
    linear_at: [usize; 3],
    classes: usize,
) -> Result<Value> {
    let c = b.channels(x)?;
    let mut y = b.adaptive_avg_pool("avgpool", x, pooled, pooled)?;
    y = b.flatten("flatten", y)?;
    let widths = [c * pooled * pooled, 4096, 4096];
    for i in 0..2 {
        y = b.linear(&format!("classifier.{}", linear_at[i]), y, widths[i], widths[i + 1], true)?;
        y = b.activation(&format!("classifier.{}", relu_at[i]), y, Activation::Relu)?;
    }
    b.classifier(&format!("classifier.{}", linear_at[2]), y, 4096, classes)
}

/// torchvision's `alexnet` with a `classes`-way classifier.
pub fn alexnet_with(classes: usize) -> Result<Net> {
    let relu = Activation::Relu;
    let (mut b, x) = NetBuilder::new("alexnet", 3)?;
    let pool = PoolSpec::square(3, 2, 0);
    let mut y = b.conv("features.0", x, ConvSpec::new(64, 11, 4, 2).with_bias(), relu)?;
    y = b.max_pool("features.2", y, pool)?;
    y = b.conv("features.3", y, ConvSpec::new(192, 5, 1, 2).with_bias(), relu)?;
    y = b.max_pool("features.5", y, pool)?;
    y = b.conv("features.6", y, ConvSpec::new(384, 3, 1, 1).with_bias(), relu)?;
    y = b.conv("features.8", y, ConvSpec::new(256, 3, 1, 1).with_bias(), relu)?;
    y = b.conv("features.10", y, ConvSpec::new(256, 3, 1, 1).with_bias(), relu)?;
    y = b.max_pool("features.12", y, pool)?;
    y = classifier(&mut b, y, 6, [2, 5], [1, 4, 6], classes)?;
    b.finish(y)
}

pub fn alexnet() -> Result<Net> {
    alexnet_with(1000)
}

/// The channel counts of the paper's five convolutions.
pub const PAPER_WIDTHS: [usize; 5] = [96, 256, 384, 384, 256];

/// The 2012 paper's feature extractor `features.0` .. `features.14`: conv 11x11/4 `widths[0]`
/// pad 2, ReLU, LRN, max-pool 3/2, conv 5x5 `widths[1]` pad 2, ReLU, LRN, max-pool, conv 3x3
/// `widths[2..5]` pad 1 (each with ReLU), max-pool; conv2, conv4 and conv5 in `groups` groups.
pub fn paper_features(b: &mut NetBuilder, x: Value, widths: [usize; 5], groups: usize) -> Result<Value> {
    let relu = Activation::Relu;
    let pool = PoolSpec::square(3, 2, 0);
    let conv = |c, k, pad, g| ConvSpec::new(c, k, 1, pad).groups(g).with_bias();
    let mut y = b.conv("features.0", x, ConvSpec::new(widths[0], 11, 4, 2).with_bias(), relu)?;
    y = b.lrn("features.2", y, PAPER_LRN)?;
    y = b.max_pool("features.3", y, pool)?;
    y = b.conv("features.4", y, conv(widths[1], 5, 2, groups), relu)?;
    y = b.lrn("features.6", y, PAPER_LRN)?;
    y = b.max_pool("features.7", y, pool)?;
    y = b.conv("features.8", y, conv(widths[2], 3, 1, 1), relu)?;
    y = b.conv("features.10", y, conv(widths[3], 3, 1, groups), relu)?;
    y = b.conv("features.12", y, conv(widths[4], 3, 1, groups), relu)?;
    b.max_pool("features.14", y, pool)
}

/// The 2012 paper's AlexNet in one group: [`paper_features`], then torchvision's classifier
/// (adaptive 6x6 pool, FC 4096, 4096, `classes`).
pub fn alexnet_original_with(classes: usize) -> Result<Net> {
    let (mut b, x) = NetBuilder::new("alexnet_original", 3)?;
    let y = paper_features(&mut b, x, PAPER_WIDTHS, 1)?;
    let y = classifier(&mut b, y, 6, [2, 5], [1, 4, 6], classes)?;
    b.finish(y)
}

pub fn alexnet_original() -> Result<Net> {
    alexnet_original_with(1000)
}

/// The 2012 paper's AlexNet with its two towers: [`paper_features`] with groups = 2, then the
/// classifier of [`alexnet_original_with`].
pub fn alexnet_grouped_with(classes: usize) -> Result<Net> {
    let (mut b, x) = NetBuilder::new("alexnet_grouped", 3)?;
    let y = paper_features(&mut b, x, PAPER_WIDTHS, 2)?;
    let y = classifier(&mut b, y, 6, [2, 5], [1, 4, 6], classes)?;
    b.finish(y)
}

pub fn alexnet_grouped() -> Result<Net> {
    alexnet_grouped_with(1000)
}
