//! Every family at an input size other than its default, against PyTorch's logits for the same
//! (formula) weights and input (`bench/peers/make_checkpoint_fixture.py`); and an input too
//! small is an error that says the smallest size the network takes.

mod common;

use common::formula;
use common::parity::fixture;
use lineage_kernels::Shape;
use lineage_nets::{models, Input, Plan, Threads, Weights, Workspace};

/// (model, height, width) of `size_{model}_{h}x{w}.safetensors`, 10 classes.
const SIZES: [(&str, usize, usize); 8] = [
    ("alexnet", 127, 127),
    ("densenet121", 72, 96),
    ("googlenet", 96, 96),
    ("inception_v3", 139, 139),
    ("inception_v4", 139, 139),
    ("mobilenet_v1", 128, 96),
    ("mobilenet_v2", 96, 96),
    ("resnext50_32x4d", 64, 64),
];

#[test]
fn every_family_matches_pytorch_at_a_non_default_size() {
    for (model, h, w) in SIZES {
        let expected = Weights::load(&fixture(&format!("size_{model}_{h}x{w}"))).unwrap();
        let logits = &expected.get("logits").unwrap().data;
        let net = models::with_classes(model, 10).unwrap();
        let plan = Plan::from_weights(&net, formula::weights(&net), Shape::new(1, h, w, 3)).unwrap();
        let mut ws = Workspace::new(&plan, Threads::Count(2)).unwrap();
        let y = plan.run(Input::Nchw(&formula::input(h, w)), &mut ws).unwrap();
        let got = y.pixel(0);
        let diff = got.iter().zip(logits).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        let rel = diff / logits.iter().map(|v| v.abs()).fold(0.0f32, f32::max);
        assert!(rel < 1e-4, "{model} at {h}x{w}: {rel:e} relative to PyTorch");
    }
}

#[test]
fn too_small_an_input_says_the_smallest_size() {
    // The smallest sizes PyTorch runs these at (measured with torchvision).
    for (model, min) in [("inception_v3", 75), ("alexnet", 63), ("densenet121", 29)] {
        let net = models::by_name(model).unwrap();
        let fits = net.infer_shapes(Shape::new(1, min, min, 3));
        assert!(fits.is_ok(), "{model} at {min}x{min}: {fits:?}");
        let err = net.infer_shapes(Shape::new(1, min - 1, min + 20, 3)).unwrap_err().to_string();
        assert!(err.contains(&format!("the smallest input {model} takes is {min}x{min}")), "{err}");
    }
}
