//! ResNeXt (Xie et al. 2017) in torchvision's structure and names, which are ResNet's
//! (`conv1`, `bn1`, `layer{1..4}.{i}.conv{1,2,3}` / `bn{1,2,3}` / `downsample.{0,1}`, `fc`) with
//! a grouped 3x3 convolution in each bottleneck: width = planes * base_width / 64 * groups.

use super::resnet::{resnet, Block};
use crate::error::Result;
use crate::graph::Net;

pub fn resnext50_32x4d_with(classes: usize) -> Result<Net> {
    resnet("resnext50_32x4d", Block::Bottleneck { groups: 32, base_width: 4 }, [3, 4, 6, 3], classes)
}

pub fn resnext101_32x8d_with(classes: usize) -> Result<Net> {
    resnet("resnext101_32x8d", Block::Bottleneck { groups: 32, base_width: 8 }, [3, 4, 23, 3], classes)
}

pub fn resnext50_32x4d() -> Result<Net> {
    resnext50_32x4d_with(1000)
}

pub fn resnext101_32x8d() -> Result<Net> {
    resnext101_32x8d_with(1000)
}
