//! Parity with PyTorch: blocks from the committed fixtures (torchvision modules with trained-like
//! batch-norm statistics, their inputs and outputs), and whole networks from
//! `LINEAGE_PARITY_DIR` when it is set (fixtures too large to commit).

use std::path::{Path, PathBuf};

use lineage_kernels::Shape;
use lineage_nets::models::{self, mobilenet, resnet};
use lineage_nets::{Input, Net, NetBuilder, Plan, Tensor, Threads, Weights, Workspace};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(format!("{name}.safetensors"))
}

/// NCHW shape of a 4-D tensor as the engine's NHWC shape.
fn nhwc_shape(t: &Tensor) -> Shape {
    assert_eq!(t.shape.len(), 4, "{:?}", t.shape);
    Shape::new(t.shape[0], t.shape[2], t.shape[3], t.shape[1])
}

/// Runs `net` on the fixture's input and returns max|lineage - torch| / max|torch|.
fn parity(net: &Net, mut weights: Weights, input_name: &str, output_name: &str) -> f64 {
    let input = weights.take(input_name).expect("fixture input");
    let expected = weights.take(output_name).expect("fixture output");
    // Strict: every tensor of the file is a parameter of the network we built.
    weights.check(net, true).unwrap();
    let shape = nhwc_shape(&input);
    let plan = Plan::new(net, &weights, shape).unwrap();
    let mut ws = Workspace::new(&plan, Threads::Count(2)).unwrap();
    let y = plan.run(Input::Nchw(&input.data), &mut ws).unwrap();
    let mut got = vec![0.0; expected.data.len()];
    lineage_kernels::nhwc_to_nchw(&y, &mut got).unwrap();
    let diff = got.iter().zip(&expected.data).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    let scale = expected.data.iter().map(|v| v.abs()).fold(0.0f32, f32::max);
    assert!(scale > 0.0, "degenerate expected output");
    // The output must depend on the input, or the comparison proves nothing.
    assert!(expected.data.iter().any(|&v| v != expected.data[0]));
    (diff / scale) as f64
}

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
        let err = parity(&net, weights, "input", "output");
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
        let err = parity(&net, weights, "input", "output");
        eprintln!("{name}: max|lineage - torch| / max|torch| = {err:.2e}");
        assert!(err < 1e-5, "{name}: {err:e}");
    }
}

/// Whole networks with random torchvision weights (BN statistics set by a few training-mode
/// batches), a 224x224 input and PyTorch's logits; opt-in because the files are large.
#[test]
fn whole_networks_match_pytorch_when_fixtures_are_given() {
    let Some(dir) = std::env::var_os("LINEAGE_PARITY_DIR") else {
        eprintln!("LINEAGE_PARITY_DIR not set: whole-network parity skipped");
        return;
    };
    for name in ["resnet50", "mobilenet_v2"] {
        let path = Path::new(&dir).join(format!("{name}.safetensors"));
        if !path.exists() {
            eprintln!("{}: not found, skipped", path.display());
            continue;
        }
        let net = models::by_name(name).unwrap();
        let mut weights = Weights::load(&path).unwrap();
        // The logits are [1, 1000]; the engine's output is (1, 1, 1, 1000).
        let logits = weights.take("logits").expect("logits");
        weights.insert("output", Tensor { shape: vec![1, 1000, 1, 1], data: logits.data });
        let err = parity(&net, weights, "input", "output");
        eprintln!("{name}: max|lineage - torch| / max|torch| = {err:.2e}");
        assert!(err < 1e-4, "{name}: {err:e}");
    }
}
