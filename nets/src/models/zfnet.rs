//! ZFNet (Zeiler & Fergus 2013) in pytorchcv's `zfnet` structure and names:
//! `features.stage{1,2,3}.unit{M}.conv` (conv with bias, ReLU, and LRN(5, 1e-4, 0.75, k=2) in the
//! units of stages 1 and 2), `features.stage{N}.pool{N}` (max-pool 3/2, ceil mode), and
//! `output.fc1.fc`, `output.fc2.fc` (FC + ReLU + dropout), `output.fc3`. At 224x224 the maps
//! are the paper's 110, 55, 26, 13, 6.

use lineage_kernels::Activation;

use crate::error::Result;
use crate::graph::{ConvSpec, Net, NetBuilder, PoolSpec};
use crate::models::alexnet::PAPER_LRN;

/// (output channels, kernel, stride, padding) of each unit, by stage.
const STAGES: [&[(usize, usize, usize, usize)]; 3] =
    [&[(96, 7, 2, 1)], &[(256, 5, 2, 0)], &[(384, 3, 1, 1), (384, 3, 1, 1), (256, 3, 1, 1)]];

pub fn zfnet_with(classes: usize) -> Result<Net> {
    let (mut b, x) = NetBuilder::new("zfnet", 3)?;
    let mut y = x;
    for (i, units) in STAGES.iter().enumerate() {
        let stage = format!("features.stage{}", i + 1);
        for (j, &(c, k, s, p)) in units.iter().enumerate() {
            let unit = format!("{stage}.unit{}", j + 1);
            y =
                b.conv(&format!("{unit}.conv"), y, ConvSpec::new(c, k, s, p).with_bias(), Activation::Relu)?;
            if i < 2 {
                y = b.lrn(&format!("{unit}.lrn"), y, PAPER_LRN)?;
            }
        }
        let pool = PoolSpec { ceil_mode: true, ..PoolSpec::square(3, 2, 0) };
        y = b.max_pool(&format!("{stage}.pool{}", i + 1), y, pool)?;
    }
    let features = b.channels(y)? * 6 * 6;
    y = b.flatten("flatten", y)?;
    y = b.linear("output.fc1.fc", y, features, 4096, true)?;
    y = b.activation("output.fc1.activ", y, Activation::Relu)?;
    y = b.linear("output.fc2.fc", y, 4096, 4096, true)?;
    y = b.activation("output.fc2.activ", y, Activation::Relu)?;
    y = b.classifier("output.fc3", y, 4096, classes)?;
    b.finish(y)
}

pub fn zfnet() -> Result<Net> {
    zfnet_with(1000)
}
