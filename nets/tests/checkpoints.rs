//! A user's own checkpoint: a ResNet-18 with 10 classes saved from `DataParallel` (`module.`
//! keys), against PyTorch's logits and pooled features for it
//! (`bench/peers/make_checkpoint_fixture.py`, whose weight formula `common::formula` repeats),
//! through the library and through `lineage run`.

mod common;

use std::path::{Path, PathBuf};

use common::formula;
use common::parity::fixture;
use lineage_kernels::Shape;
use lineage_nets::{models, npy, Input, Net, Plan, PlanOptions, Tensor, Threads, Weights, Workspace};

const FIXTURE: &str = "checkpoint_resnet18_10_classes";
/// The modules whose outputs the fixture holds as `kept.NAME` (NCHW).
const KEPT: [&str; 3] = ["maxpool", "layer2.1", "layer3"];

/// max|got - want| / max|want|.
fn relative_error(got: &[f32], want: &[f32]) -> f32 {
    assert_eq!(got.len(), want.len());
    let diff = got.iter().zip(want).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    diff / want.iter().map(|v| v.abs()).fold(0.0f32, f32::max)
}

struct Expected {
    input: Tensor,
    logits: Tensor,
    features: Tensor,
    kept: Vec<Tensor>,
}

fn expected() -> Expected {
    let mut w = Weights::load(&fixture(FIXTURE)).unwrap();
    Expected {
        input: w.take("input").unwrap(),
        logits: w.take("logits").unwrap(),
        features: w.take("features").unwrap(),
        kept: KEPT.iter().map(|k| w.take(&format!("kept.{k}")).unwrap()).collect(),
    }
}

fn run(net: &Net, weights: &Weights, x: &[f32]) -> Vec<f32> {
    let plan = Plan::new(net, weights, Shape::new(1, 64, 64, 3)).unwrap();
    let mut ws = Workspace::new(&plan, Threads::Count(2)).unwrap();
    let y = plan.run(Input::Nchw(x), &mut ws).unwrap();
    y.pixel(0).to_vec()
}

#[test]
fn data_parallel_checkpoint_with_10_classes_matches_pytorch_through_the_library() {
    let e = expected();
    let file = formula::safetensors_file(&formula::tensors(
        &models::with_classes("resnet18", 10).unwrap(),
        "module.",
    ));
    let mut weights = Weights::from_safetensors(&file).unwrap();

    // As saved, nothing fits: one error names every tensor, with the name it should have.
    let err = Plan::new(&models::by_name("resnet18").unwrap(), &weights, Shape::new(1, 64, 64, 3))
        .unwrap_err()
        .to_string();
    assert!(err.contains("102 missing") && err.contains("102 unexpected"), "{err}");
    assert!(err.contains("missing layer4.1.bn2.running_var [512]"), "{err}");
    assert!(err.contains("unexpected module.fc.weight [10, 512] (nearest known name: fc.weight)"), "{err}");

    assert_eq!(weights.strip_prefix("module.").unwrap(), 102);
    assert_eq!(models::classes_in("resnet18", &weights).unwrap(), Some(10));
    let logits = run(&models::with_classes("resnet18", 10).unwrap(), &weights, &e.input.data);
    let err = relative_error(&logits, &e.logits.data);
    assert!(err < 1e-4, "logits differ from PyTorch by {err:e} relative");

    // Without its classifier the same weights give PyTorch's pooled features (fc unused).
    let headless = models::with_classes("resnet18", 0).unwrap();
    assert_eq!(weights.check(&headless, false).unwrap(), vec!["fc.bias", "fc.weight"]);
    let features = run(&headless, &weights, &e.input.data);
    let err = relative_error(&features, &e.features.data);
    assert!(err < 1e-4, "features differ from PyTorch by {err:e} relative");

    // Intermediate activations by module name, as PyTorch's forward hooks saw them; keeping
    // them changes nothing else.
    let net = models::with_classes("resnet18", 10).unwrap();
    let options = PlanOptions { outputs: KEPT.map(String::from).to_vec(), ..PlanOptions::default() };
    let plan = Plan::with_options(&net, &weights, Shape::new(1, 64, 64, 3), &options).unwrap();
    let mut ws = Workspace::new(&plan, Threads::Count(2)).unwrap();
    let y = plan.run(Input::Nchw(&e.input.data), &mut ws).unwrap().pixel(0).to_vec();
    assert_eq!(y, logits, "keeping activations changed the logits");
    assert_eq!(plan.kept_names().collect::<Vec<_>>(), KEPT);
    for (name, want) in KEPT.iter().zip(&e.kept) {
        let view = plan.kept(&ws, name).unwrap();
        let mut got = vec![0.0; want.data.len()];
        lineage_kernels::nhwc_to_nchw(&view, &mut got).unwrap();
        let err = relative_error(&got, &want.data);
        assert!(err < 1e-4, "{name} differs from PyTorch by {err:e} relative");
    }
    assert!(plan.kept(&ws, "fc").unwrap_err().to_string().contains("\"fc\" is not a kept activation"));
    let options = PlanOptions { outputs: vec!["layer9".into(), "layer3".into(), "conv".into()], ..options };
    let err = Plan::with_options(&net, &weights, Shape::new(1, 64, 64, 3), &options).unwrap_err().to_string();
    assert!(err.contains("no layer or module named layer9, conv"), "{err}");
}

fn lineage(args: &[&str]) -> (bool, String, String) {
    let out = common::program::lineage().args(args).output().unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.success(), text(&out.stdout), text(&out.stderr))
}

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lineage-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn lineage_run_strips_the_prefix_reads_the_class_count_and_matches_pytorch() {
    let e = expected();
    let dir = temp_dir("checkpoint");
    let (w, x, y, labels) =
        (dir.join("w.safetensors"), dir.join("x.npy"), dir.join("y.npy"), dir.join("l.txt"));
    let net = models::with_classes("resnet18", 10).unwrap();
    std::fs::write(&w, formula::safetensors_file(&formula::tensors(&net, "module."))).unwrap();
    std::fs::write(&x, npy::encode(&[1, 3, 64, 64], &e.input.data)).unwrap();
    let names: Vec<String> = (0..10).map(|i| format!("kind-{i}")).collect();
    std::fs::write(&labels, names.join("\n") + "\n").unwrap();

    let (ok, _, err) = lineage(&["run", "resnet18", "--weights", path(&w), "--input", path(&x)]);
    assert!(!ok, "a checkpoint with module. keys loaded without --strip-prefix");
    assert!(err.contains("unexpected module.layer1.0.conv1.weight [64, 64, 3, 3] (nearest known name: layer1.0.conv1.weight)"), "{err}");

    let common = ["run", "resnet18", "--weights", path(&w), "--strip-prefix", "module.", "--input", path(&x)];
    let (ok, out, err) =
        lineage(&[&common[..], &["--output", path(&y), "--labels", path(&labels), "--top", "10"]].concat());
    assert!(ok, "{err}");
    let logits = npy::parse(&std::fs::read(&y).unwrap()).unwrap();
    assert_eq!(logits.shape, vec![1, 10]);
    let rel = relative_error(&logits.data, &e.logits.data);
    assert!(rel < 1e-4, "lineage run logits differ from PyTorch by {rel:e} relative");
    // Every row names its class from the labels file.
    let rows: Vec<&str> = out.lines().filter(|l| l.trim_start().starts_with("class")).collect();
    assert_eq!(rows.len(), 10, "{out}");
    for row in rows {
        let class: usize = row.split_whitespace().nth(1).unwrap().parse().unwrap();
        assert!(row.trim_end().ends_with(&names[class]), "{row}");
    }

    // Without a labels file a 10-way classifier prints bare indices (ImageNet's names are for
    // 1000 classes).
    let (ok, out, err) = lineage(&[&common[..], &["--top", "3"]].concat());
    assert!(ok, "{err}");
    let rows: Vec<&str> = out.lines().filter(|l| l.trim_start().starts_with("class")).collect();
    assert_eq!(rows.len(), 3, "{out}");
    assert!(rows.iter().all(|r| r.split_whitespace().count() == 6), "{out}");

    let (ok, _, err) = lineage(&[&common[..], &["--features", "layer3,layer9"]].concat());
    assert!(!ok && err.contains("no layer or module named layer9"), "{err}");
    let (ok, out, err) =
        lineage(&[&common[..], &["--features", &KEPT.join(","), "--features-dir", path(&dir)]].concat());
    assert!(ok, "{err}");
    for (name, want) in KEPT.iter().zip(&e.kept) {
        let got = npy::parse(&std::fs::read(dir.join(format!("{name}.npy"))).unwrap()).unwrap();
        assert_eq!(got.shape, want.shape, "{name}");
        let rel = relative_error(&got.data, &want.data);
        assert!(rel < 1e-4, "--features {name} differs from PyTorch by {rel:e} relative");
        assert!(out.contains(&format!("{name}: ")), "{out}");
    }

    let (ok, _, err) = lineage(&[&common[..], &["--output", path(&y), "--classes", "0"]].concat());
    assert!(ok, "{err}");
    let features = npy::parse(&std::fs::read(&y).unwrap()).unwrap();
    assert_eq!(features.shape, vec![1, 512]);
    let rel = relative_error(&features.data, &e.features.data);
    assert!(rel < 1e-4, "lineage run --classes 0 differs from PyTorch's features by {rel:e} relative");

    let (ok, _, err) = lineage(&[&common[..], &["--classes", "7"]].concat());
    assert!(
        !ok && err.contains("wrong shape fc.weight: [10, 512] in the weights, the layer expects [7, 512]"),
        "{err}"
    );
    std::fs::write(&labels, "cat\ndog\n").unwrap();
    let (ok, _, err) = lineage(&[&common[..], &["--labels", path(&labels)]].concat());
    assert!(!ok && err.contains("2 names for a classifier of 10 classes"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn lineage_inspect_lists_tensors_and_the_models_they_fit() {
    let dir = temp_dir("inspect");
    let w = dir.join("w.safetensors");
    let net = models::with_classes("resnet18", 10).unwrap();
    std::fs::write(&w, formula::safetensors_file(&formula::tensors(&net, "module."))).unwrap();
    let (ok, out, err) = lineage(&["inspect", path(&w)]);
    assert!(ok, "{err}");
    assert!(
        out.lines().any(|l| l.split_whitespace().collect::<Vec<_>>()
            == ["module.fc.weight", "F32", "[10,", "512]", "5120"]),
        "{out}"
    );
    let total = net.parameters().iter().map(|p| p.shape.iter().product::<usize>()).sum::<usize>();
    assert!(out.contains(&format!("102 tensors, {total} values")), "{out}");
    assert!(out.contains("fits resnet18 with 10 classes with --strip-prefix module."), "{out}");
    assert_eq!(out.matches("fits ").count(), 1, "{out}");

    let headless = models::with_classes("resnet34", 0).unwrap();
    std::fs::write(&w, formula::safetensors_file(&formula::tensors(&headless, ""))).unwrap();
    let (ok, out, err) = lineage(&["inspect", path(&w)]);
    assert!(ok && out.contains("fits resnet34 with 0 classes"), "{out}{err}");
    // Run, a checkpoint without a classifier gives the pooled features, no --classes 0 needed.
    let x = dir.join("x.npy");
    std::fs::write(&x, npy::encode(&[1, 3, 32, 32], &formula::input(32, 32))).unwrap();
    let (ok, out, err) = lineage(&["run", "resnet34", "--weights", path(&w), "--input", path(&x)]);
    assert!(ok && out.contains("image 0: 512 features"), "{out}{err}");

    // A file of no known architecture says so.
    let (ok, out, err) = lineage(&["inspect", path(&fixture(FIXTURE))]);
    assert!(ok && out.contains("fits none of the known models"), "{out}{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}
