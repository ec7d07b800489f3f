//! Accuracy against float64: the default model of every family, with the formula weights of
//! `bench/peers/make_checkpoint_fixture.py`, run by lineage (default plan and exact plan) and by
//! the naive f64 interpreter; each error `max|logits - f64| / max|f64|` is compared with PyTorch
//! f32's own error against PyTorch f64, recorded by `bench/peers/make_accuracy_fixture.py`.
//! Batch-norm statistics are calibrated on the input in f64 by both sides (as PyTorch's train
//! mode measures them), so activations stay normalized through every depth.
//! The default plan must stay within 1.5x PyTorch's error, the exact plan within 1.0x.
//! Inputs are below the default size where the family allows it (the interpreter is slow);
//! `--nocapture` prints the table of the README. The tests' names end in `_vs_f64`: the f64
//! interpreter takes minutes a model under emulation, so `.ci/run` skips them under qemu.

mod common;

use common::parity::fixture;
use common::{calibrated_bn, formula, forward, relative_error, T64};
use lineage_kernels::Shape;
use lineage_nets::{models, Input, Net, Plan, PlanOptions, Threads, Weights, Workspace};

/// Lineage's default plan may be this much less accurate than PyTorch f32.
const DEFAULT_RATIO: f64 = 1.5;
/// Lineage's exact plan may not be less accurate than PyTorch f32.
const EXACT_RATIO: f64 = 1.0;

/// Both f64 runs (PyTorch's, rounded to f32 in the file, and the interpreter) must agree to this
/// fraction of PyTorch f32's error, so the reference is an order more accurate than what it
/// measures (calibrated Inception v4 amplifies 1-ulp differences of its statistics to ~6e-6).
const ORACLE_AGREEMENT: f64 = 0.1;

/// `h x w` NCHW values as the interpreter's dense NHWC tensor.
fn nhwc64(nchw: &[f32], h: usize, w: usize) -> T64 {
    let plane = h * w;
    let data = (0..plane).flat_map(|p| (0..3).map(move |c| nchw[c * plane + p] as f64)).collect();
    T64 { shape: Shape::new(1, h, w, 3), data }
}

fn lineage_logits(net: &Net, weights: &Weights, size: usize, exact: bool, x: &[f32]) -> Vec<f32> {
    let options = PlanOptions { exact, ..PlanOptions::default() };
    let plan = Plan::with_options(net, weights, Shape::new(1, size, size, 3), &options).unwrap();
    let mut ws = Workspace::new(&plan, Threads::Count(2)).unwrap();
    plan.run(Input::Nchw(x), &mut ws).unwrap().pixel(0).to_vec()
}

/// Checks `model` at `size x size` and prints its row of the table.
fn check(model: &str, size: usize) {
    let recorded = Weights::load(&fixture("accuracy_vs_f64")).unwrap();
    let tensor = |suffix: &str| recorded.get(&format!("{model}.{suffix}")).unwrap().data.clone();
    let torch_f64 = tensor("logits_f64");
    let torch_error = tensor("torch_error")[0] as f64;

    let net = models::by_name(model).unwrap();
    let x = formula::input(size, size);
    let input = nhwc64(&x, size, size);
    let weights = calibrated_bn(&net, &formula::weights(&net), &input);
    let values = forward(&net, &weights, &input);
    let f64_logits = &values[net.output().index()].data;
    let agreement = relative_error(&torch_f64, f64_logits);
    assert!(
        agreement < ORACLE_AGREEMENT * torch_error,
        "{model}: PyTorch f64 vs interpreter {agreement:e}, PyTorch f32's error {torch_error:e}"
    );

    let default = relative_error(&lineage_logits(&net, &weights, size, false, &x), f64_logits);
    let exact = relative_error(&lineage_logits(&net, &weights, size, true, &x), f64_logits);
    eprintln!(
        "| {model} | {size} | {torch_error:.2e} | {default:.2e} ({:.2}x) | {exact:.2e} ({:.2}x) |",
        default / torch_error,
        exact / torch_error
    );
    assert!(
        default <= DEFAULT_RATIO * torch_error,
        "{model}: default plan error {default:.3e} > {DEFAULT_RATIO} x PyTorch f32's {torch_error:.3e}"
    );
    assert!(
        exact <= EXACT_RATIO * torch_error,
        "{model}: exact plan error {exact:.3e} > {EXACT_RATIO} x PyTorch f32's {torch_error:.3e}"
    );
}

#[test]
fn alexnet_original_vs_f64() {
    check("alexnet_original", 224);
}

#[test]
fn zfnet_vs_f64() {
    check("zfnet", 224);
}

#[test]
fn vgg16_vs_f64() {
    check("vgg16", 112);
}

#[test]
fn googlenet_vs_f64() {
    check("googlenet", 160);
}

#[test]
fn resnet50_vs_f64() {
    check("resnet50", 160);
}

#[test]
fn inception_v3_vs_f64() {
    check("inception_v3", 203);
}

#[test]
fn inception_v4_vs_f64() {
    check("inception_v4", 203);
}

#[test]
fn resnext50_32x4d_vs_f64() {
    check("resnext50_32x4d", 160);
}

#[test]
fn densenet121_vs_f64() {
    check("densenet121", 160);
}

#[test]
fn mobilenet_v1_vs_f64() {
    check("mobilenet_v1", 160);
}

#[test]
fn mobilenet_v2_vs_f64() {
    check("mobilenet_v2", 160);
}
