//! VGG (Simonyan & Zisserman 2014) in torchvision's structure and names: `features.N` (3x3
//! convs with bias, optionally followed by batch norm at `features.N+1`, ReLU, and 2x2 max-pools),
//! `avgpool` (adaptive 7x7), `classifier.{0,3,6}` (FC 4096, 4096, `classes`).

use lineage_kernels::Activation;

use crate::error::{NetError, Result};
use crate::graph::{ConvSpec, Net, NetBuilder, PoolSpec};
use crate::models::alexnet::classifier;

/// A layer of torchvision's `cfgs`: a 3x3 conv to this many channels, or a max-pool (`None`).
type Cfg = &'static [Option<usize>];

const M: Option<usize> = None;
const A: Cfg =
    &[Some(64), M, Some(128), M, Some(256), Some(256), M, Some(512), Some(512), M, Some(512), Some(512), M];
const B: Cfg = &[
    Some(64),
    Some(64),
    M,
    Some(128),
    Some(128),
    M,
    Some(256),
    Some(256),
    M,
    Some(512),
    Some(512),
    M,
    Some(512),
    Some(512),
    M,
];
const D: Cfg = &[
    Some(64),
    Some(64),
    M,
    Some(128),
    Some(128),
    M,
    Some(256),
    Some(256),
    Some(256),
    M,
    Some(512),
    Some(512),
    Some(512),
    M,
    Some(512),
    Some(512),
    Some(512),
    M,
];
const E: Cfg = &[
    Some(64),
    Some(64),
    M,
    Some(128),
    Some(128),
    M,
    Some(256),
    Some(256),
    Some(256),
    Some(256),
    M,
    Some(512),
    Some(512),
    Some(512),
    Some(512),
    M,
    Some(512),
    Some(512),
    Some(512),
    Some(512),
    M,
];

/// VGG with `depth` weight layers (11, 13, 16 or 19), batch norm after each conv if `bn`.
pub fn vgg(depth: usize, bn: bool, classes: usize) -> Result<Net> {
    let cfg = match depth {
        11 => A,
        13 => B,
        16 => D,
        19 => E,
        _ => return Err(NetError::Graph(format!("vgg: depth {depth}; expected 11, 13, 16 or 19"))),
    };
    let name = format!("vgg{depth}{}", if bn { "_bn" } else { "" });
    let (mut b, x) = NetBuilder::new(&name, 3)?;
    let mut y = x;
    let mut index = 0;
    for layer in cfg {
        match *layer {
            Some(c) => {
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
            None => {
                y = b.max_pool(&format!("features.{index}"), y, PoolSpec::square(2, 2, 0))?;
                index += 1;
            }
        }
    }
    y = classifier(&mut b, y, 7, [1, 4], [0, 3, 6], classes)?;
    b.finish(y)
}
