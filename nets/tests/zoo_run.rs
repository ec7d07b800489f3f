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
    for name in ["alexnet", "alexnet_original", "alexnet_grouped", "zfnet"] {
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

#[test]
fn googlenet_transform_input_equals_transforming_the_input_by_hand() {
    use lineage_nets::models::googlenet::{googlenet_with, insert_transform_input};
    let side = 64;
    let plain = googlenet_with(1000, false).unwrap();
    let transformed = googlenet_with(1000, true).unwrap();
    let weights = Weights::random(&plain, 5);
    let mut with_transform = weights.clone();
    insert_transform_input(&mut with_transform);
    with_transform.check(&transformed, true).unwrap();
    let shape = Shape::new(1, side, side, 3);
    let mut rng = NormalRng::new(2);
    let x: Vec<f32> = (0..3 * side * side).map(|_| rng.next_normal() as f32).collect();
    // torchvision: x_c * (std_c / 0.5) + (mean_c - 0.5) / 0.5, channel-major (NCHW).
    let (mean, std) = ([0.485f32, 0.456, 0.406], [0.229f32, 0.224, 0.225]);
    let by_hand: Vec<f32> = x
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let c = i / (side * side);
            v * (std[c] / 0.5) + (mean[c] - 0.5) / 0.5
        })
        .collect();
    let plan = Plan::new(&plain, &weights, shape).unwrap();
    let mut ws = Workspace::new(&plan, Threads::Count(1)).unwrap();
    let expected = logits(&plan, &mut ws, &by_hand);
    let plan = Plan::new(&transformed, &with_transform, shape).unwrap();
    let mut ws = Workspace::new(&plan, Threads::Count(1)).unwrap();
    let got = logits(&plan, &mut ws, &x);
    let scale = expected.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let diff = got.iter().zip(&expected).fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
    assert!(diff <= 1e-5 * scale, "{diff} vs {scale}");
    assert_ne!(got, logits(&plan, &mut ws, &by_hand));
}
