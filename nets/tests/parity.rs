//! Parity with PyTorch: blocks from the committed fixtures (torchvision modules with trained-like
//! batch-norm statistics, their inputs and outputs), and whole networks from
//! `LINEAGE_PARITY_DIR` when it is set (fixtures too large to commit).

mod common;

use common::parity::{fixture, nhwc_shape, parity, whole_networks_match};
use lineage_nets::models::{mobilenet, resnet};
use lineage_nets::{Net, NetBuilder, Weights};

fn block_net(
    name: &str,
    weights: &Weights,
    build: impl FnOnce(
        &mut NetBuilder,
        lineage_nets::Value,
        usize,
        usize,
    ) -> lineage_nets::Result<lineage_nets::Value>,
) -> Net {
    let input = nhwc_shape(weights.get("input").unwrap());
    let output = nhwc_shape(weights.get("output").unwrap());
    let (mut b, x) = NetBuilder::new(name, input.c).unwrap();
    let y = build(&mut b, x, output.c, input.h / output.h).unwrap();
    b.finish(y).unwrap()
}

#[test]
fn resnet_blocks_match_pytorch() {
    for (name, block) in [
        ("resnet_bottleneck_downsample", resnet::Block::BOTTLENECK),
        ("resnet_basicblock", resnet::Block::Basic),
    ] {
        let weights = Weights::load(&fixture(name)).unwrap();
        let planes = weights.get("conv1.weight").unwrap().shape[0];
        let net = block_net(name, &weights, |b, x, _, stride| {
            resnet::residual_block(b, "", x, block, planes, stride)
        });
        let err = parity(&net, weights);
        eprintln!("{name}: max|lineage - torch| / max|torch| = {err:.2e}");
        assert!(err < 1e-5, "{name}: {err:e}");
    }
}

#[test]
fn mobilenet_v2_blocks_match_pytorch() {
    for name in ["mobilenet_v2_inverted_residual_s1", "mobilenet_v2_inverted_residual_s2"] {
        let weights = Weights::load(&fixture(name)).unwrap();
        let c_in = weights.get("input").unwrap().shape[1];
        let hidden = weights.get("conv.0.0.weight").unwrap().shape[0];
        let net = block_net(name, &weights, |b, x, c_out, stride| {
            mobilenet::inverted_residual(b, "", x, c_out, stride, hidden / c_in)
        });
        let err = parity(&net, weights);
        eprintln!("{name}: max|lineage - torch| / max|torch| = {err:.2e}");
        assert!(err < 1e-5, "{name}: {err:e}");
    }
}

/// Whole networks with random torchvision weights (BN statistics set by a few training-mode
/// batches), a 224x224 input and PyTorch's logits; opt-in because the files are large.
#[test]
fn whole_networks_match_pytorch_when_fixtures_are_given() {
    whole_networks_match(&[("resnet50", "resnet50"), ("mobilenet_v2", "mobilenet_v2")]);
}
