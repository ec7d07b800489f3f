//! The architectures, by torchvision name.

pub mod alexnet;
pub mod densenet;
pub mod googlenet;
pub mod inception_v3;
pub mod inception_v4;
pub mod mobilenet;
pub mod mobilenet_v1;
pub mod resnet;
pub mod resnext;
pub mod vgg;
pub mod zfnet;

use crate::error::{NetError, Result};
use crate::graph::Net;

/// Every model name [`by_name`] knows.
pub const MODELS: [&str; 27] = [
    "resnet18",
    "resnet34",
    "resnet50",
    "resnet101",
    "resnet152",
    "mobilenet_v2",
    "alexnet",
    "alexnet_original",
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

/// The model called `name` (a torchvision name such as `resnet50`).
pub fn by_name(name: &str) -> Result<Net> {
    match name {
        "resnet18" => resnet::resnet18(),
        "resnet34" => resnet::resnet34(),
        "resnet50" => resnet::resnet50(),
        "resnet101" => resnet::resnet101(),
        "resnet152" => resnet::resnet152(),
        "mobilenet_v2" => mobilenet::mobilenet_v2(),
        "alexnet" => alexnet::alexnet(),
        "alexnet_original" => alexnet::alexnet_original(),
        "zfnet" => zfnet::zfnet(),
        "vgg11" => vgg::vgg(11, false, 1000),
        "vgg13" => vgg::vgg(13, false, 1000),
        "vgg16" => vgg::vgg(16, false, 1000),
        "vgg19" => vgg::vgg(19, false, 1000),
        "vgg11_bn" => vgg::vgg(11, true, 1000),
        "vgg13_bn" => vgg::vgg(13, true, 1000),
        "vgg16_bn" => vgg::vgg(16, true, 1000),
        "vgg19_bn" => vgg::vgg(19, true, 1000),
        "googlenet" => googlenet::googlenet(),
        "inception_v3" => inception_v3::inception_v3(),
        "inception_v4" => inception_v4::inception_v4(),
        "resnext50_32x4d" => resnext::resnext50_32x4d(),
        "resnext101_32x8d" => resnext::resnext101_32x8d(),
        "densenet121" => densenet::by_depth(121),
        "densenet161" => densenet::by_depth(161),
        "densenet169" => densenet::by_depth(169),
        "densenet201" => densenet::by_depth(201),
        "mobilenet_v1" => mobilenet_v1::mobilenet_v1(),
        other => Err(NetError::Graph(format!("unknown model {other:?}; known: {}", MODELS.join(", ")))),
    }
}
