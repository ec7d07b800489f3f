//! The `lineage` program: commands, outputs and one-line errors with a non-zero exit code.

use std::process::Command;

use lineage_nets::npy;

fn lineage(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_lineage")).args(args).output().unwrap();
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
