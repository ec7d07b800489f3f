//! Parity with PyTorch, shared by the block and whole-network parity tests: fixtures hold a
//! module's parameters under their torchvision/timm names plus `input` (NCHW) and `output`.

use std::path::{Path, PathBuf};

use lineage_kernels::Shape;
use lineage_nets::{models, Input, Net, Plan, Tensor, Threads, Weights, Workspace};

/// A committed fixture, `tests/fixtures/{name}.safetensors`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(format!("{name}.safetensors"))
}

/// NCHW shape of a 4-D tensor as the engine's NHWC shape.
pub fn nhwc_shape(t: &Tensor) -> Shape {
    assert_eq!(t.shape.len(), 4, "{:?}", t.shape);
    Shape::new(t.shape[0], t.shape[2], t.shape[3], t.shape[1])
}

/// Runs `net` on the file's `input` and returns max|lineage - torch| / max|torch| against
/// `output`; every other tensor of the file must be a parameter of `net` (strict names).
pub fn parity(net: &Net, mut weights: Weights) -> f64 {
    let input = weights.take("input").expect("fixture input");
    let expected = weights.take("output").expect("fixture output");
    weights.check(net, true).unwrap_or_else(|e| panic!("{}: {e}", net.name()));
    let plan = Plan::new(net, &weights, nhwc_shape(&input)).unwrap();
    let mut ws = Workspace::new(&plan, Threads::Count(2)).unwrap();
    let y = plan.run(Input::Nchw(&input.data), &mut ws).unwrap();
    let mut got = vec![0.0; expected.data.len()];
    lineage_kernels::nhwc_to_nchw(&y, &mut got).unwrap();
    let diff = got.iter().zip(&expected.data).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    let scale = expected.data.iter().map(|v| v.abs()).fold(0.0f32, f32::max);
    assert!(scale > 0.0, "{}: degenerate expected output", net.name());
    // The output must depend on the input, or the comparison proves nothing.
    assert!(expected.data.iter().any(|&v| v != expected.data[0]), "{}: constant expected output", net.name());
    (diff / scale) as f64
}

/// Whole networks `(file in LINEAGE_PARITY_DIR, model)`: random reference weights with
/// non-degenerate BN statistics, an input and the reference's logits, each within 1e-4 of
/// PyTorch. Opt-in because the files are large; `LINEAGE_PARITY_ONLY=a,b` picks models.
pub fn whole_networks_match(nets: &[(&str, &str)]) {
    let Some(dir) = std::env::var_os("LINEAGE_PARITY_DIR") else {
        eprintln!("LINEAGE_PARITY_DIR not set: whole-network parity skipped");
        return;
    };
    let only = std::env::var("LINEAGE_PARITY_ONLY").ok();
    for &(file, model) in nets {
        if only.as_deref().is_some_and(|o| !o.split(',').any(|m| m == model)) {
            continue;
        }
        let path = Path::new(&dir).join(format!("{file}.safetensors"));
        if !path.exists() {
            eprintln!("{}: not found, skipped", path.display());
            continue;
        }
        let net = models::by_name(model).unwrap();
        let mut weights = Weights::load(&path).unwrap();
        // The logits are [1, 1000]; the engine's output is (1, 1, 1, 1000).
        let logits = weights.take("logits").expect("logits");
        weights.insert("output", Tensor { shape: vec![1, 1000, 1, 1], data: logits.data });
        let err = parity(&net, weights);
        eprintln!("{model}: max|lineage - torch| / max|torch| = {err:.2e}");
        assert!(err < 1e-4, "{model}: {err:e}");
    }
}
