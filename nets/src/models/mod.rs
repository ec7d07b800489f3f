//! The architectures, by torchvision name.

pub mod alexnet;
pub mod densenet;
pub mod googlenet;
pub mod inception_v2;
pub mod inception_v3;
pub mod inception_v4;
pub mod mobilenet;
pub mod mobilenet_v1;
pub mod resnet;
pub mod resnext;
pub mod vgg;
pub mod zfnet;

use crate::error::{NetError, Result};
use crate::graph::{Net, Op};
use crate::weights::Weights;

/// Every model name [`by_name`] knows.
pub const MODELS: [&str; 29] = [
    "resnet18",
    "resnet34",
    "resnet50",
    "resnet101",
    "resnet152",
    "mobilenet_v2",
    "alexnet",
    "alexnet_original",
    "alexnet_grouped",
    "zfnet",
    "vgg11",
    "vgg13",
    "vgg16",
    "vgg19",
    "vgg11_bn",
    "vgg13_bn",
    "vgg16_bn",
    "vgg19_bn",
    "googlenet",
    "inception_v2",
    "inception_v3",
    "inception_v4",
    "resnext50_32x4d",
    "resnext101_32x8d",
    "densenet121",
    "densenet161",
    "densenet169",
    "densenet201",
    "mobilenet_v1",
];

/// The model called `name` (a torchvision name such as `resnet50`) with ImageNet's 1000 classes.
pub fn by_name(name: &str) -> Result<Net> {
    with_classes(name, 1000)
}

/// The model called `name` with a `classes`-way classifier; 0 removes the classifier, so that
/// the network's output is its pooled feature vector (2048 for `resnet50`, 4096 for `vgg16`).
pub fn with_classes(name: &str, classes: usize) -> Result<Net> {
    let c = classes;
    match name {
        "resnet18" => resnet::by_depth(18, c),
        "resnet34" => resnet::by_depth(34, c),
        "resnet50" => resnet::by_depth(50, c),
        "resnet101" => resnet::by_depth(101, c),
        "resnet152" => resnet::by_depth(152, c),
        "mobilenet_v2" => mobilenet::mobilenet_v2_with(c),
        "alexnet" => alexnet::alexnet_with(c),
        "alexnet_original" => alexnet::alexnet_original_with(c),
        "alexnet_grouped" => alexnet::alexnet_grouped_with(c),
        "zfnet" => zfnet::zfnet_with(c),
        "vgg11" => vgg::vgg(11, false, c),
        "vgg13" => vgg::vgg(13, false, c),
        "vgg16" => vgg::vgg(16, false, c),
        "vgg19" => vgg::vgg(19, false, c),
        "vgg11_bn" => vgg::vgg(11, true, c),
        "vgg13_bn" => vgg::vgg(13, true, c),
        "vgg16_bn" => vgg::vgg(16, true, c),
        "vgg19_bn" => vgg::vgg(19, true, c),
        "googlenet" => googlenet::googlenet_with(c, false),
        "inception_v2" => inception_v2::inception_v2_with(c),
        "inception_v3" => inception_v3::inception_v3_with(c, false),
        "inception_v4" => inception_v4::inception_v4_with(c),
        "resnext50_32x4d" => resnext::resnext50_32x4d_with(c),
        "resnext101_32x8d" => resnext::resnext101_32x8d_with(c),
        "densenet121" => densenet::by_depth(121, c),
        "densenet161" => densenet::by_depth(161, c),
        "densenet169" => densenet::by_depth(169, c),
        "densenet201" => densenet::by_depth(201, c),
        "mobilenet_v1" => mobilenet_v1::mobilenet_v1_with(c),
        other => Err(NetError::Graph(format!("unknown model {other:?}; known: {}", MODELS.join(", ")))),
    }
}

/// The class count of a checkpoint for model `name`: the rows of its classifier's weight
/// (`fc.weight` for ResNet), or `None` when the weights hold no such tensor.
pub fn classes_in(name: &str, weights: &Weights) -> Result<Option<usize>> {
    let net = by_name(name)?;
    let head = net.node(net.output())?;
    if !matches!(head.op(), Op::Linear { .. }) {
        return Err(NetError::Graph(format!("{name}: the last layer {:?} is not a classifier", head.name())));
    }
    let weight = format!("{}.weight", head.name());
    Ok(weights.get(&weight).and_then(|t| match t.shape[..] {
        [rows, _] => Some(rows),
        _ => None,
    }))
}

/// The known models `weights` fit exactly (every parameter present with its shape, no tensor
/// left over), each with the class count its classifier has (0 for a headless checkpoint).
pub fn fitting(weights: &Weights) -> Result<Vec<(&'static str, usize)>> {
    let mut fits = Vec::new();
    for name in MODELS {
        let classes = classes_in(name, weights)?.unwrap_or(0);
        if weights.check(&with_classes(name, classes)?, true).is_ok() {
            fits.push((name, classes));
        }
    }
    Ok(fits)
}
