//! Every case-study model plans and runs end to end on random weights at batch 1 and gives
//! finite logits that depend on the input. Inputs are as small as each architecture allows;
//! AlexNet, ZFNet and VGG need 224x224 for their classifiers and run once each.

use lineage_kernels::Shape;
use lineage_nets::{models, Input, NormalRng, Plan, Threads, Weights, Workspace};

fn logits(plan: &Plan, ws: &mut Workspace, x: &[f32]) -> Vec<f32> {
    let y = plan.run(Input::Nchw(x), ws).unwrap();
    assert_eq!(y.shape(), Shape::new(1, 1, 1, 1000), "{}", plan.name());
    y.pixel(0).to_vec()
}

fn runs(name: &str, side: usize) {
    let net = models::by_name(name).unwrap();
    let weights = Weights::random(&net, 3);
    let shape = Shape::new(1, side, side, 3);
    let plan = Plan::new(&net, &weights, shape).unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut ws = Workspace::new(&plan, Threads::Count(1)).unwrap();
    let mut rng = NormalRng::new(9);
    let x: Vec<f32> = (0..3 * side * side).map(|_| rng.next_normal() as f32).collect();
    let x2: Vec<f32> = (0..3 * side * side).map(|_| rng.next_normal() as f32).collect();
    let (a, b) = (logits(&plan, &mut ws, &x), logits(&plan, &mut ws, &x2));
    assert!(a.iter().chain(&b).all(|v| v.is_finite()), "{name}: non-finite logits");
    assert!(a.iter().zip(&b).any(|(p, q)| p != q), "{name}: logits do not depend on the input");
}

#[test]
fn alexnets_and_zfnet_run_at_224() {
    for name in ["alexnet", "alexnet_original", "zfnet"] {
        runs(name, 224);
    }
}

#[test]
fn vgg16_runs_at_224() {
    runs("vgg16", 224);
}

#[test]
fn vgg11_bn_runs_at_224() {
    runs("vgg11_bn", 224);
}

#[test]
fn googlenet_runs() {
    runs("googlenet", 64);
}

#[test]
fn inceptions_run() {
    runs("inception_v3", 75);
    runs("inception_v4", 75);
}

#[test]
fn resnexts_run() {
    runs("resnext50_32x4d", 32);
    runs("resnext101_32x8d", 32);
}

#[test]
fn densenets_run() {
    for name in ["densenet121", "densenet161", "densenet169", "densenet201"] {
        runs(name, 32);
    }
}

#[test]
fn mobilenet_v1_runs() {
    runs("mobilenet_v1", 32);
}
