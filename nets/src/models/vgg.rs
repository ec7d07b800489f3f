//! VGG (Simonyan & Zisserman 2014) in torchvision's structure and names: `features.N` (3x3
//! convs with bias, optionally followed by batch norm at `features.N+1`, ReLU, and 2x2 max-pools),
//! `avgpool` (adaptive 7x7), `classifier.{0,3,6}` (FC 4096, 4096, `classes`).

use lineage_kernels::Activation;

use crate::error::{NetError, Result};
use crate::graph::{ConvSpec, Net, NetBuilder, PoolSpec};
use crate::models::alexnet::classifier;

/// Output channels of the five stages; each stage is its 3x3 convolutions, then a 2x2 max-pool.
const WIDTHS: [usize; 5] = [64, 128, 256, 512, 512];

/// Convolutions per stage of torchvision's `cfgs` "A", "B", "D" and "E".
fn convs_per_stage(depth: usize) -> Option<[usize; 5]> {
    match depth {
        11 => Some([1, 1, 2, 2, 2]),
        13 => Some([2, 2, 2, 2, 2]),
        16 => Some([2, 2, 3, 3, 3]),
        19 => Some([2, 2, 4, 4, 4]),
        _ => None,
    }
}

/// VGG with `depth` weight layers (11, 13, 16 or 19), batch norm after each conv if `bn`.
pub fn vgg(depth: usize, bn: bool, classes: usize) -> Result<Net> {
    let stages = convs_per_stage(depth)
        .ok_or_else(|| NetError::Graph(format!("vgg: depth {depth}; expected 11, 13, 16 or 19")))?;
    let name = format!("vgg{depth}{}", if bn { "_bn" } else { "" });
    let (mut b, x) = NetBuilder::new(&name, 3)?;
    let mut y = x;
    // torchvision numbers conv, (batch norm,) ReLU and pool modules alike in `features`.
    let mut index = 0;
    for (&convs, &c) in stages.iter().zip(&WIDTHS) {
        for _ in 0..convs {
            let spec = ConvSpec::new(c, 3, 1, 1).with_bias();
            let conv = format!("features.{index}");
            if bn {
                let norm = format!("features.{}", index + 1);
                y = b.conv_bn(&conv, &norm, y, spec, Activation::Relu)?;
                index += 3;
            } else {
                y = b.conv(&conv, y, spec, Activation::Relu)?;
                index += 2;
            }
        }
        y = b.max_pool(&format!("features.{index}"), y, PoolSpec::square(2, 2, 0))?;
        index += 1;
    }
    y = classifier(&mut b, y, 7, [1, 4], [0, 3, 6], classes)?;
    b.finish(y)
}
