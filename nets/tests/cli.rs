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
