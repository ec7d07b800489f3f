//! The `lineage` program: commands, outputs and one-line errors with a non-zero exit code.

mod common;

use lineage_nets::npy;

fn lineage(args: &[&str]) -> (bool, String, String) {
    let out = common::program::lineage().args(args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn list_info_and_errors() {
    let (ok, out, _) = lineage(&["list"]);
    assert!(ok && out.lines().any(|l| l == "resnet50") && out.lines().any(|l| l == "mobilenet_v2"));
    let (ok, out, _) = lineage(&["--help"]);
    assert!(ok && out.starts_with("usage:"), "{out}");
    let (ok, out, _) = lineage(&["info", "resnet18", "--size", "64"]);
    assert!(ok, "{out}");
    assert!(
        out.contains("layer4.1.conv2") && out.contains("11689512 parameters") && out.contains("arena"),
        "{out}"
    );
    for args in [
        &["info", "resnet51"][..],
        &["run", "resnet18"],
        &["frobnicate"],
        &["info", "resnet18", "--size", "x"],
    ] {
        let (ok, _, err) = lineage(args);
        assert!(!ok, "{args:?} succeeded");
        assert!(err.starts_with("lineage: error: "), "{args:?}: {err}");
    }
}

#[test]
fn run_writes_logits_as_npy() {
    let dir = std::env::temp_dir().join(format!("lineage-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (x, y) = (dir.join("x.npy"), dir.join("y.npy"));
    let data: Vec<f32> = (0..3 * 32 * 32).map(|i| ((i * 37) % 101) as f32 / 50.0 - 1.0).collect();
    std::fs::write(&x, npy::encode(&[1, 3, 32, 32], &data)).unwrap();
    let (ok, out, err) = lineage(&[
        "run",
        "resnet18",
        "--input",
        x.to_str().unwrap(),
        "--output",
        y.to_str().unwrap(),
        "--top",
        "3",
    ]);
    assert!(ok, "{err}");
    assert_eq!(out.lines().filter(|l| l.contains("class")).count(), 3, "{out}");
    let logits = npy::parse(&std::fs::read(&y).unwrap()).unwrap();
    assert_eq!(logits.shape, vec![1, 1000]);
    // The top class printed is the argmax of the written logits.
    let best = (0..1000).max_by(|&a, &b| logits.data[a].total_cmp(&logits.data[b])).unwrap();
    assert!(out.contains(&format!("class {best:>4}")), "{out}");
    std::fs::remove_dir_all(&dir).unwrap();
}

fn image_fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/images").join(name)
}

#[test]
fn run_on_an_image_prints_class_names() {
    let png = image_fixture("tiny.png");
    let (ok, out, err) = lineage(&["run", "resnet18", "--input", png.to_str().unwrap(), "--top", "3"]);
    assert!(ok, "{err}");
    let rows: Vec<&str> = out.lines().filter(|l| l.trim_start().starts_with("class")).collect();
    assert_eq!(rows.len(), 3, "{out}");
    for row in rows {
        let index: usize = row.split_whitespace().nth(1).unwrap().parse().unwrap();
        let name = lineage_nets::imagenet_class(index).unwrap();
        assert!(row.trim_end().ends_with(name), "{row}");
    }
    let dir = std::env::temp_dir().join(format!("lineage-images-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("broken.jpg");
    let jpg = std::fs::read(image_fixture("tiny.jpg")).unwrap();
    std::fs::write(&bad, &jpg[..jpg.len() / 3]).unwrap();
    let text = dir.join("notes.png");
    std::fs::write(&text, "hello").unwrap();
    for path in [&bad, &text] {
        let (ok, _, err) = lineage(&["run", "resnet18", "--input", path.to_str().unwrap()]);
        assert!(!ok, "{path:?} accepted");
        assert!(err.starts_with("lineage: error: ") && err.trim_end().lines().count() == 1, "{err}");
        assert!(err.contains(path.to_str().unwrap()), "{err}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn arguments_are_strict() {
    let dir = std::env::temp_dir().join(format!("lineage-strict-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let x = dir.join("x.npy");
    std::fs::write(&x, npy::encode(&[1, 3, 32, 32], &vec![0.5; 3 * 32 * 32])).unwrap();
    let x = x.to_str().unwrap();
    let top = dir.join("--top");
    let missing = dir.join("no-such-dir").join("y.npy");
    for (args, says) in [
        // A value that is an option: not a file named --top.
        (
            &["run", "resnet18", "--input", x, "--output", "--top", "3"][..],
            "needs a value, got the option --top",
        ),
        (&["run", "resnet18", "--input", x, "extra"], "unexpected argument \"extra\""),
        (&["list", "resnet18"], "unexpected argument"),
        (&["run", "resnet18", "--input", x, "--top", "3", "--top", "4"], "--top is given twice"),
        (&["run", "resnet18", "--input", x, "--output", missing.to_str().unwrap()], "does not exist"),
        (
            &["run", "resnet18", "--input", x, "--features", "layer1", "--features-dir", "/no/such"],
            "/no/such",
        ),
        (&["bench", "resnet18", "--profile", "maybe"], "expected yes or no"),
        (&["info", "resnet18", "--output", "y.npy"], "unknown option --output for info"),
    ] {
        let (ok, out, err) = lineage(args);
        assert!(!ok, "{args:?} succeeded: {out}");
        assert!(err.starts_with("lineage: error: ") && err.contains(says), "{args:?}: {err}");
        // Nothing ran: no inference output, no file named after an option.
        assert!(!out.contains("class"), "{args:?}: {out}");
    }
    assert!(!top.exists());
    // `help` as an option's value is a value, not a request for usage.
    let run = common::program::lineage()
        .current_dir(&dir)
        .args(["run", "resnet18", "--input", x, "--output", "help"])
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    assert!(!String::from_utf8_lossy(&run.stdout).starts_with("usage:"));
    assert!(dir.join("help").is_file());
    for args in [&["help"][..], &["run", "--help"], &["-h"]] {
        let (ok, out, _) = lineage(args);
        assert!(ok && out.starts_with("usage:"), "{args:?}: {out}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn random_weights_are_announced() {
    let (ok, out, err) = lineage(&["info", "resnet18", "--size", "32"]);
    assert!(ok, "{err}");
    assert!(err.contains("warning") && err.contains("RANDOM"), "{err}");
    assert!(!out.contains("RANDOM"), "the warning goes to stderr: {out}");
}

#[test]
fn exact_plans_run_no_winograd() {
    // ResNet-18 at 64x64 has 3x3 stride-1 layers the kernels' selection gives to Winograd.
    let bench = |exact: &str| {
        let args = ["bench", "resnet18", "--size", "64", "--runs", "1", "--profile", "yes", "--exact", exact];
        let (ok, out, err) = lineage(&args);
        assert!(ok, "{args:?}: {err}");
        out
    };
    let default = bench("no");
    assert!(default.contains("winograd"), "{default}");
    let exact = bench("yes");
    assert!(!exact.contains("winograd") && exact.contains("(exact)"), "{exact}");
    let (ok, _, err) = lineage(&["bench", "resnet18", "--exact", "maybe"]);
    assert!(!ok && err.contains("--exact \"maybe\": expected yes or no"), "{err}");
}
