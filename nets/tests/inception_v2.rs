//! Inception v2 (BN-Inception) against pytorchcv's `bninception`, from the fixtures of
//! `bench/peers/make_inception_v2_fixtures.py`: its blocks (random weights, perturbed batch-norm
//! statistics), the whole network at 224x224 (formula weights), its state dict's names and
//! shapes, and its parameter and MAC counts; and, opt-in, the whole network with pytorchcv's
//! own init from `LINEAGE_PARITY_DIR` (the script's `--parity-dir`).

mod common;

use common::formula;
use common::parity::{fixture, nhwc_shape, parity, whole_networks_match};
use lineage_kernels::Shape;
use lineage_nets::models::inception_v2::{self as v2, UnitWidths};
use lineage_nets::{models, Input, NetBuilder, Plan, Result, Threads, Value, Weights, Workspace};

/// The JSON `config` of a fixture's metadata.
fn config(weights: &Weights) -> serde_json::Value {
    let text = weights.metadata().get("config").expect("fixture config");
    serde_json::from_str(text).expect("config is JSON")
}

fn channels(w: &Weights, conv: &str) -> usize {
    w.get(&format!("{conv}.conv.weight")).unwrap_or_else(|| panic!("no {conv}.conv.weight")).shape[0]
}

type Build = fn(&mut NetBuilder, Value, &Weights) -> Result<Value>;

/// Builds the block of fixture `name` (prefix "", pytorchcv's BN eps 1e-5, the builder's
/// default) and checks it against PyTorch.
fn check_block(name: &str, build: Build) {
    let weights = Weights::load(&fixture(name)).unwrap();
    assert_eq!(config(&weights)["bn_eps"], serde_json::json!([1e-5]), "{name}");
    let input = nhwc_shape(weights.get("input").unwrap());
    let (mut b, x) = NetBuilder::new(name, input.c).unwrap();
    let y = build(&mut b, x, &weights).unwrap();
    let net = b.finish(y).unwrap();
    let err = parity(&net, weights);
    eprintln!("{name}: max|lineage - torch| / max|torch| = {err:.2e}");
    assert!(err < 1e-5, "{name}: {err:e}");
}

fn inception_widths(w: &Weights) -> UnitWidths {
    let c = |t: &str| channels(w, &format!("branches.{t}"));
    UnitWidths {
        mid1: [c("branch2.conv1"), c("branch3.conv1")],
        mid2: [c("branch1"), c("branch2.conv2"), c("branch3.conv2"), c("branch4.conv")],
    }
}

#[test]
fn blocks_match_pytorchcv() {
    check_block("inception_v2_stem", |b, x, w| {
        v2::stem_block(b, "", x, channels(w, "conv1"), channels(w, "conv2.conv2"))
    });
    check_block("inception_v2_inception_avg", |b, x, w| {
        v2::inception_block(b, "", x, inception_widths(w), true)
    });
    check_block("inception_v2_inception_max", |b, x, w| {
        v2::inception_block(b, "", x, inception_widths(w), false)
    });
    check_block("inception_v2_reduction", |b, x, w| {
        let c = |t: &str| channels(w, &format!("branches.{t}"));
        let widths = UnitWidths {
            mid1: [c("branch1.conv1"), c("branch2.conv1")],
            mid2: [0, c("branch1.conv2"), c("branch2.conv2"), 0],
        };
        v2::reduction_block(b, "", x, widths)
    });
}

const WHOLE: &str = "inception_v2_formula_224x224";

#[test]
fn whole_network_matches_pytorchcv_logits_and_features() {
    let expected = Weights::load(&fixture(WHOLE)).unwrap();
    assert_eq!(config(&expected)["input_shape"], serde_json::json!([1, 3, 224, 224]));
    let input = formula::input(v2::INPUT.h, v2::INPUT.w);
    // 10 classes; 0 classes is the model with `output` replaced by Identity.
    for (classes, tensor) in [(10, "logits"), (0, "features")] {
        let want = &expected.get(tensor).unwrap().data;
        let net = models::with_classes("inception_v2", classes).unwrap();
        let plan = Plan::from_weights(&net, formula::weights(&net), v2::INPUT).unwrap();
        let mut ws = Workspace::new(&plan, Threads::Count(2)).unwrap();
        let y = plan.run(Input::Nchw(&input), &mut ws).unwrap();
        let got = y.pixel(0);
        assert_eq!(got.len(), want.len(), "{tensor}");
        let diff = got.iter().zip(want).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        let rel = diff / want.iter().map(|v| v.abs()).fold(0.0f32, f32::max);
        eprintln!("inception_v2 {tensor}: max|lineage - torch| / max|torch| = {rel:.2e}");
        assert!(rel < 1e-4, "{tensor}: {rel:e} relative to PyTorch");
    }
}

/// pytorchcv's init, random BN parameters and statistics, a 224x224 input and its logits.
#[test]
fn whole_network_with_pytorchcv_weights_matches_when_the_fixture_is_given() {
    whole_networks_match(&[("inception_v2", "inception_v2")]);
}

#[test]
fn names_shapes_and_counts_equal_pytorchcv() {
    let cfg = config(&Weights::load(&fixture(WHOLE)).unwrap());
    let net = models::by_name("inception_v2").unwrap();
    let mut ours: Vec<(String, Vec<usize>)> =
        net.parameters().into_iter().map(|p| (p.name, p.shape)).collect();
    let mut theirs: Vec<(String, Vec<usize>)> = serde_json::from_value(cfg["state_dict"].clone()).unwrap();
    assert_eq!(theirs.len(), 416, "pytorchcv's state dict without num_batches_tracked");
    ours.sort();
    theirs.sort();
    assert_eq!(ours, theirs);

    let params = cfg["params"].as_u64().unwrap() as usize;
    let macs = cfg["macs"].as_u64().unwrap();
    let s = net.summary(v2::INPUT).unwrap();
    eprintln!("inception_v2: {} params, {} MACs (pytorchcv {params}, {macs})", s.total_params, s.total_macs);
    assert_eq!(net.parameter_count(), params);
    assert_eq!(s.total_params, params, "per-layer sum");
    assert_eq!(s.total_macs, macs);
}

#[test]
fn maps_and_receptive_fields_follow_the_hand_derivation() {
    let s = models::by_name("inception_v2").unwrap().summary(v2::INPUT).unwrap();
    let layer = |n: &str| s.layers.iter().find(|l| l.name == n).unwrap_or_else(|| panic!("no layer {n}"));
    let out = |n: &str| layer(n).output;
    assert_eq!(out("features.init_block.pool2"), Shape::new(1, 28, 28, 192));
    assert_eq!(out("features.stage1.unit2.cat"), Shape::new(1, 28, 28, 320));
    assert_eq!(out("features.stage2.unit1.cat"), Shape::new(1, 14, 14, 576));
    assert_eq!(out("features.stage2.unit5.cat"), Shape::new(1, 14, 14, 608));
    assert_eq!(out("features.stage3.unit1.cat"), Shape::new(1, 7, 7, 1056));
    assert_eq!(out("features.stage3.unit3.cat"), Shape::new(1, 7, 7, 1024));
    // Along the height: 7x7/2 -> 7 j2; pool 3/2 -> 11 j4; 3x3 -> 19; pool -> 27 j8; each
    // inception unit's double 3x3 adds 4j: 59, 91; reduction 107, 123 j16; 4 units -> 379;
    // reduction 411, 443 j32; 2 units -> 699. The last conv is 5b's pool branch: 571 + 64.
    let rf = |n: &str| (layer(n).receptive_field, layer(n).jump);
    assert_eq!(rf("features.stage1.unit2.cat"), (91, 8));
    assert_eq!(rf("features.stage2.unit1.cat"), (123, 16));
    assert_eq!(rf("features.stage2.unit5.cat"), (379, 16));
    assert_eq!(rf("features.stage3.unit3.cat"), (699, 32));
    let last = s.layers.iter().rev().find(|l| l.kind.ends_with("conv")).unwrap();
    assert_eq!(last.name, "features.stage3.unit3.branches.branch4.conv.conv");
    assert_eq!((last.receptive_field, last.jump), (635, 32));
}

#[test]
fn odd_maps_at_a_grid_reduction_are_an_error_naming_the_unit_and_even_ones_fit() {
    // 299 -> 150 -> 75 -> 37 at stage 2: the strided conv gives 19, the ceil-mode pool 18
    // (PyTorch's torch.cat fails there too).
    let net = models::by_name("inception_v2").unwrap();
    let err = net.infer_shapes(Shape::new(1, 299, 299, 3)).unwrap_err().to_string();
    assert!(err.contains("features.stage2.unit1.cat"), "{err}");
    // Sides that are multiples of 32 keep every map even.
    for side in [192, 256] {
        let out = net.infer_shapes(Shape::new(1, side, side, 3)).unwrap();
        assert_eq!(out.last(), Some(&Shape::new(1, 1, 1, 1000)), "{side}");
    }
}
