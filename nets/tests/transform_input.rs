//! torchvision's pretrained GoogLeNet and Inception v3 weights run with `transform_input=True`
//! (the weights builders switch it on); `lineage run` with `--weights` does the same, and
//! `--transform-input no` gives the model as built without it. Both against PyTorch's logits
//! for the formula weights of `bench/peers/make_checkpoint_fixture.py`.

mod common;

use common::formula;
use common::parity::fixture;
use lineage_nets::{models, npy, Weights};

/// (model, input side) of the `transform_input_*` and `size_*` fixtures.
const MODELS: [(&str, usize); 2] = [("googlenet", 96), ("inception_v3", 139)];

fn max_relative(got: &[f32], want: &[f32]) -> f32 {
    assert_eq!(got.len(), want.len());
    let diff = got.iter().zip(want).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    diff / want.iter().map(|v| v.abs()).fold(0.0f32, f32::max)
}

#[test]
fn a_checkpoint_runs_with_torchvisions_transform_input_unless_told_not_to() {
    let dir = std::env::temp_dir().join(format!("lineage-transform-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (model, side) in MODELS {
        let net = models::with_classes(model, 10).unwrap();
        let (w, x, y) = (dir.join(format!("{model}.safetensors")), dir.join("x.npy"), dir.join("y.npy"));
        std::fs::write(&w, formula::safetensors_file(&formula::tensors(&net, ""))).unwrap();
        std::fs::write(&x, npy::encode(&[1, 3, side, side], &formula::input(side, side))).unwrap();
        for (flag, expected) in
            [(None, "transform_input"), (Some("yes"), "transform_input"), (Some("no"), "size")]
        {
            let mut args =
                vec!["run", model, "--weights", w.to_str().unwrap(), "--input", x.to_str().unwrap()];
            args.extend(["--output", y.to_str().unwrap()]);
            if let Some(f) = flag {
                args.extend(["--transform-input", f]);
            }
            let out = common::program::lineage().args(&args).output().unwrap();
            assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
            let got = npy::parse(&std::fs::read(&y).unwrap()).unwrap().data;
            let want = Weights::load(&fixture(&format!("{expected}_{model}_{side}x{side}"))).unwrap();
            let want = &want.get("logits").unwrap().data;
            let rel = max_relative(&got, want);
            assert!(
                rel < 1e-4,
                "{model} --transform-input {flag:?}: {rel:e} relative to PyTorch's {expected}"
            );
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn transform_input_is_refused_for_a_model_without_it() {
    let out = common::program::lineage()
        .args(["info", "resnet18", "--size", "64", "--transform-input", "yes"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("googlenet and inception_v3") && err.contains("resnet18"),
        "{err}"
    );
}
