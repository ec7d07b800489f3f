//! `lineage visualize` and `lineage_nets::visualize`: the pictures have the sizes the grid
//! layout gives, show what the f64 oracle computes (filters and the strongest maps, in order),
//! are not constant, and bad layer names, images and options are one-line errors.

#![cfg(feature = "cli")]

mod common;

use std::path::{Path, PathBuf};

use lineage_kernels::{Activation, Shape};
use lineage_nets::visualize::{self, Options, Picture};
use lineage_nets::{ConvSpec, Net, NetBuilder, PoolSpec, Weights};

/// Decodes a PNG: (width, height, channels, bytes).
fn decode(bytes: &[u8]) -> (usize, usize, usize, Vec<u8>) {
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes)).read_info().unwrap();
    let mut data = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut data).unwrap();
    assert_eq!(info.bit_depth, png::BitDepth::Eight);
    let channels = match info.color_type {
        png::ColorType::Grayscale => 1,
        png::ColorType::Rgb => 3,
        other => panic!("color type {other:?}"),
    };
    data.truncate(info.buffer_size());
    (info.width as usize, info.height as usize, channels, data)
}

fn varies(data: &[u8]) -> bool {
    data.iter().any(|&v| v != data[0])
}

/// conv 5x5/2 (8) -> max-pool 3/2 -> conv 3x3 (12) -> max-pool 2/2 -> global pool -> fc.
/// Receptive fields: conv1 5 (jump 2), pool1 9 (jump 4), conv2 17; pool2 then downsamples.
fn tiny() -> Net {
    let (mut b, x) = NetBuilder::new("tiny", 3).unwrap();
    let y = b.conv("conv1", x, ConvSpec::new(8, 5, 2, 2).with_bias(), Activation::Relu).unwrap();
    let y = b.max_pool("pool1", y, PoolSpec::square(3, 2, 1)).unwrap();
    let y = b.conv("conv2", y, ConvSpec::new(12, 3, 1, 1).with_bias(), Activation::Relu).unwrap();
    let y = b.max_pool("pool2", y, PoolSpec::square(2, 2, 0)).unwrap();
    let y = b.global_avg_pool("gap", y).unwrap();
    let y = b.flatten("flatten", y).unwrap();
    let y = b.linear("fc", y, 12, 5, true).unwrap();
    b.finish(y).unwrap()
}

/// The bytes a map or filter gets: min..max onto 0..255.
fn normalized(values: &[f64]) -> Vec<f64> {
    let lo = values.iter().cloned().fold(f64::INFINITY, f64::min);
    let hi = values.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    values.iter().map(|v| (v - lo) / (hi - lo) * 255.0).collect()
}

#[test]
fn pictures_show_the_filters_and_the_strongest_maps_in_order() {
    let net = tiny();
    let weights = common::random_weights(&net, 5);
    let input = Shape::new(1, 32, 32, 3);
    let nhwc = common::random_input(input, 11);
    let mut nchw = vec![0.0; nhwc.len()];
    let view = lineage_kernels::TensorView::new(&nhwc, input).unwrap();
    lineage_kernels::nhwc_to_nchw(&view, &mut nchw).unwrap();
    let top = 4;
    let pictures =
        visualize::visualize(&net, &weights, &nchw, input, &Options { layers: vec![], top }).unwrap();
    let names: Vec<&str> = pictures.iter().map(|p| p.file_name.as_str()).collect();
    assert_eq!(names, ["filters_conv1_5x5s2.png", "stage1_conv1_rf5.png", "stage2_conv2_rf17.png"]);

    // Filters: 8 tiles of 5x5 weights at 4x in a 3x3 grid with 1-px gaps: 3 * 21 + 1 = 64.
    let (w, h, c, px) = decode(&pictures[0].picture.to_png().unwrap());
    assert_eq!((w, h, c), (64, 64, 3));
    assert!(varies(&px));
    let filters = &weights.get("conv1.weight").unwrap().data;
    for o in [0usize, 7] {
        let f: Vec<f64> = filters[o * 75..(o + 1) * 75].iter().map(|&v| v as f64).collect();
        let want = normalized(&f);
        let (tx, ty) = (1 + (o % 3) * 21, 1 + (o / 3) * 21);
        for (ky, kx) in [(0, 0), (2, 3), (4, 4)] {
            for ch in 0..3 {
                // Every pixel of the 4x4 block of weight (ky, kx).
                let (y, x) = (ty + ky * 4 + 3, tx + kx * 4 + 1);
                let got = px[(y * w + x) * 3 + ch] as f64;
                let expected = want[(ch * 5 + ky) * 5 + kx];
                assert!((got - expected).abs() <= 1.0, "filter {o} ({ky},{kx}) ch {ch}: {got} vs {expected}");
            }
        }
    }

    // Maps: the oracle's activations, ranked by mean.
    let values = common::forward(
        &net,
        &weights,
        &common::T64 { shape: input, data: nhwc.iter().map(|&v| v as f64).collect() },
    );
    for (picture, layer, side) in [(&pictures[1], "conv1", 16usize), (&pictures[2], "conv2", 8)] {
        let node = net.nodes().iter().position(|n| n.name() == layer).unwrap();
        let t = &values[node];
        let channels = t.shape.c;
        let map = |ch: usize| -> Vec<f64> { (0..side * side).map(|p| t.data[p * channels + ch]).collect() };
        let mean = |ch: usize| map(ch).iter().sum::<f64>();
        let mut order: Vec<usize> = (0..channels).collect();
        order.sort_by(|&a, &b| mean(b).total_cmp(&mean(a)));
        // 4 maps upscaled to 48 px in a 2x2 grid: 2 * 49 + 1 = 99.
        let scale = 48 / side;
        let (w, h, c, px) = decode(&picture.picture.to_png().unwrap());
        assert_eq!((w, h, c), (99, 99, 1), "{layer}");
        assert!(varies(&px), "{layer}");
        for (tile, &ch) in order.iter().take(top).enumerate() {
            let want = normalized(&map(ch));
            let (tx, ty) = (1 + (tile % 2) * 49, 1 + (tile / 2) * 49);
            for (my, mx) in [(0, 0), (side / 2, side / 3), (side - 1, side - 1)] {
                let got = px[(ty + my * scale) * w + tx + mx * scale + scale - 1] as f64;
                let expected = want[my * side + mx];
                assert!(
                    (got - expected).abs() <= 1.0,
                    "{layer} tile {tile} = channel {ch}: {got} vs {expected}"
                );
            }
        }
        assert!(
            picture.caption.contains(&format!("channels {} {}", order[0], order[1])),
            "{}",
            picture.caption
        );
    }
}

#[test]
fn a_layer_can_be_chosen_and_an_unknown_one_is_an_error() {
    let net = tiny();
    let weights = Weights::random(&net, 1);
    let input = Shape::new(1, 32, 32, 3);
    let x = vec![0.5; 3 * 32 * 32];
    let options = Options { layers: vec!["pool1".into()], top: 3 };
    let pictures = visualize::visualize(&net, &weights, &x, input, &options).unwrap();
    assert_eq!(pictures[1].file_name, "stage1_pool1_rf9.png");
    let options = Options { layers: vec!["conv9".into()], top: 3 };
    let err = visualize::visualize(&net, &weights, &x, input, &options).unwrap_err().to_string();
    assert!(err.contains("\"conv9\"") && err.contains("stages: conv1, conv2"), "{err}");
    let err = visualize::visualize(&net, &weights, &x, input, &Options { layers: vec![], top: 0 })
        .unwrap_err()
        .to_string();
    assert!(err.contains("conv1") && err.contains("0 maps"), "{err}");
    let picture = Picture { width: 1, height: 1, channels: 2, data: vec![0, 0] };
    assert!(picture.to_png().unwrap_err().to_string().contains("2 channels"));
}

fn lineage(args: &[&str]) -> (bool, String, String) {
    let out = common::program::lineage().args(args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn image() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/images/tiny.png").display().to_string()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lineage-visualize-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// (file, width, height, channels) of what `lineage visualize model` writes, in its order.
fn visualized(model: &str, dir: &Path) -> Vec<(String, usize, usize, usize)> {
    let (ok, out, err) =
        lineage(&["visualize", model, "--input", &image(), "--out", &dir.display().to_string()]);
    assert!(ok, "{err}");
    assert!(err.contains("RANDOM"), "random weights are announced: {err}");
    out.lines()
        .map(|line| {
            let (path, _) = line.split_once(": ").unwrap();
            let (w, h, c, px) = decode(&std::fs::read(path).unwrap());
            assert!(varies(&px), "{path} is constant");
            let file = Path::new(path).file_name().unwrap().to_string_lossy().into_owned();
            (file, w, h, c)
        })
        .collect()
}

#[test]
fn alexnet_and_zfnet_first_layers_and_stages() {
    let dir = scratch("alexnet");
    // 96 filters: a 10x10 grid; 11 * 4 = 44 px tiles: 10 * 45 + 1 = 451. 16 maps: 4x4 grids of
    // 55 px (55x55, 1x), 54 (27x27, 2x), 52 (13x13, 4x). Receptive fields as in zoo_models.rs.
    assert_eq!(
        visualized("alexnet_original", &dir),
        [
            ("input.png".to_string(), 224, 224, 3),
            ("filters_features.0_11x11s4.png".to_string(), 451, 451, 3),
            ("stage1_features.2_rf11.png".to_string(), 225, 225, 1),
            ("stage2_features.6_rf51.png".to_string(), 221, 221, 1),
            ("stage3_features.12_rf163.png".to_string(), 213, 213, 1),
        ]
    );
    // 7 * 4 = 28 px tiles: 10 * 29 + 1 = 291; maps 110x110 (1x), 26x26 (2x), 13x13 (4x).
    assert_eq!(
        visualized("zfnet", &dir)[1..],
        [
            ("filters_features.stage1.unit1.conv_7x7s2.png".to_string(), 291, 291, 3),
            ("stage1_features.stage1.unit1.lrn_rf7.png".to_string(), 445, 445, 1),
            ("stage2_features.stage2.unit1.lrn_rf27.png".to_string(), 213, 213, 1),
            ("stage3_features.stage3.unit3.conv_rf139.png".to_string(), 213, 213, 1),
        ]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_layers_images_and_options_are_one_line_errors() {
    let dir = scratch("errors");
    let out = dir.display().to_string();
    std::fs::create_dir_all(&dir).unwrap();
    let text = dir.join("not-an-image.png");
    std::fs::write(&text, "hello").unwrap();
    let truncated = dir.join("truncated.png");
    std::fs::write(&truncated, &std::fs::read(image()).unwrap()[..100]).unwrap();
    let (img, text, truncated) = (image(), text.display().to_string(), truncated.display().to_string());
    let m = "alexnet_original";
    let cases: [(&[&str], &str); 8] = [
        (
            &["visualize", m, "--input", &img, "--out", &out, "--layers", "features.99"],
            "no layer named \"features.99\"",
        ),
        (&["visualize", m, "--input", &text, "--out", &out], "not a PNG or JPEG image"),
        (&["visualize", m, "--input", &truncated, "--out", &out], "truncated.png"),
        (&["visualize", m, "--input", "/nonexistent.png", "--out", &out], "/nonexistent.png"),
        (&["visualize", m, "--input", &img], "--out DIR is required"),
        (&["visualize", m, "--out", &out], "--input"),
        (&["visualize", m, "--input", &img, "--out", &out, "--top", "0"], "--top 0"),
        (&["visualize", m, "--input", &img, "--out", &out, "--size", "9"], "unknown option --size"),
    ];
    for (args, needle) in cases {
        let (ok, _, err) = lineage(args);
        assert!(!ok, "{args:?} succeeded");
        let error =
            err.lines().find(|l| l.starts_with("lineage: error: ")).unwrap_or_else(|| panic!("{err}"));
        assert!(error.contains(needle), "{args:?}: {err}");
    }
    let (ok, _, err) = lineage(&["visualize", m, "--input", &img, "--out", &text]);
    assert!(!ok && err.contains("not a directory"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
