//! The bad inputs the README's robustness table lists, each triggered through the public API:
//! every one is an error whose message names the argument and its values (the test prints
//! them; `cargo test -p lineage-fuzz --test bad_inputs -- --nocapture` shows the table's
//! messages), and NaN or infinity in the input propagates as IEEE arithmetic does.

use std::path::{Path, PathBuf};

use lineage_kernels::ops::{self, Pool2dParams};
use lineage_kernels::{conv2d, Conv2dParams, Epilogue, Padding, Shape, TensorView, TensorViewMut};
use lineage_nets::{npy, Input, Plan, Threads, Weights, Workspace};

fn corpus(target: &str, file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus").join(target).join(file)
}

/// Prints the case and its message as a table row and checks that the message holds `needles`.
fn expect_error<T: std::fmt::Debug, E: std::fmt::Display>(case: &str, r: Result<T, E>, needles: &[&str]) {
    let message = r.expect_err(case).to_string();
    println!("| {case} | `{message}` |");
    for n in needles {
        assert!(message.contains(n), "{case}: {message:?} lacks {n:?}");
    }
}

fn conv(
    p: &Conv2dParams,
    input: Shape,
    x_len: usize,
    w_len: usize,
    out: Shape,
) -> lineage_kernels::Result<()> {
    let x = vec![0.5; x_len];
    let w = vec![0.1; w_len];
    let mut y = vec![0.0; out.elements().unwrap_or(0).max(1)];
    conv2d(
        p,
        &TensorView::new(&x, input)?,
        &w,
        None,
        &mut TensorViewMut::new(&mut y, out)?,
        &Epilogue::default(),
    )
}

#[test]
fn kernel_arguments() {
    let p = Conv2dParams::square(4, 8, 3, 1, 1);
    expect_error("wrong buffer length", TensorView::new(&[0.0; 5], Shape::new(1, 2, 2, 3)), &["5", "12"]);
    expect_error(
        "wrong weight length",
        conv(&p, Shape::new(1, 5, 5, 4), 100, 287, Shape::new(1, 5, 5, 8)),
        &["287", "288"],
    );
    expect_error(
        "shape mismatch (output)",
        conv(&p, Shape::new(1, 5, 5, 4), 100, 288, Shape::new(1, 4, 5, 8)),
        &["8"],
    );
    expect_error(
        "zero-sized dims",
        conv(&Conv2dParams::square(0, 8, 3, 1, 1), Shape::new(1, 5, 5, 4), 100, 0, Shape::new(1, 5, 5, 8)),
        &["c_in", "0"],
    );
    expect_error("zero-sized tensor", TensorView::new(&[], Shape::new(1, 0, 4, 4)), &["0"]);
    expect_error(
        "overflowing sizes",
        TensorView::new(&[0.0; 4], Shape::new(1 << 40, 1 << 20, 1 << 20, 4)),
        &[],
    );
    expect_error(
        "kernel larger than padded input",
        conv(
            &Conv2dParams::square(4, 8, 7, 1, 1),
            Shape::new(1, 4, 4, 4),
            64,
            8 * 4 * 49,
            Shape::new(1, 1, 1, 8),
        ),
        &["7"],
    );
    let grouped = Conv2dParams { groups: 3, ..p };
    expect_error(
        "invalid groups",
        conv(&grouped, Shape::new(1, 5, 5, 4), 100, 96, Shape::new(1, 5, 5, 8)),
        &["groups", "3"],
    );
    let pool = Pool2dParams { pad: Padding::uniform(3), ..Pool2dParams::square(3, 2, 0) };
    let x = vec![0.0; 16];
    let mut y = vec![0.0; 16];
    expect_error(
        "pool padding as large as the window",
        ops::max_pool2d(
            &pool,
            &TensorView::new(&x, Shape::new(1, 4, 4, 1)).unwrap(),
            &mut TensorViewMut::new(&mut y, Shape::new(1, 3, 3, 1)).unwrap(),
        ),
        &["pad"],
    );
}

#[test]
fn weight_files() {
    let net = lineage_fuzz::tiny_net().unwrap();
    let load_checked = |file: &str| Weights::load(&corpus("weights", file)).and_then(|w| w.check(&net, true));
    assert!(load_checked("tiny-f32.safetensors").is_ok());
    expect_error("missing tensor", load_checked("tiny-missing.safetensors"), &["fc.bias", "[5]"]);
    expect_error(
        "misshaped tensor",
        load_checked("tiny-misshaped.safetensors"),
        &["conv2.weight", "[6, 4, 1, 1]", "[6, 4, 3, 3]"],
    );
    expect_error("extra tensor (strict check)", load_checked("tiny-extra.safetensors"), &["head.weight"]);
    let lenient =
        Weights::load(&corpus("weights", "tiny-extra.safetensors")).unwrap().check(&net, false).unwrap();
    assert_eq!(lenient, ["head.weight"], "the lenient check lists the unused tensor");
    expect_error("wrong-dtype tensor", load_checked("tiny-int32.safetensors"), &["conv1.bias", "I32"]);
    expect_error("truncated weight file", load_checked("truncated.safetensors"), &["truncated.safetensors"]);
    expect_error("header claiming a huge size", load_checked("huge-header.safetensors"), &["header of"]);
    expect_error("tensor shape overflowing usize", load_checked("huge-shape.safetensors"), &["overflow"]);
    expect_error("corrupt header", load_checked("not-json.safetensors"), &["corrupt header"]);
    expect_error("missing file", load_checked("no-such-file.safetensors"), &["no-such-file"]);
}

#[test]
fn npy_inputs() {
    let parse = |file: &str| npy::parse(&std::fs::read(corpus("inputs", file)).unwrap());
    assert_eq!(parse("nchw-f32.npy").unwrap().shape, [1, 3, 5, 5]);
    expect_error("wrong .npy dtype (float64)", parse("f64.npy"), &["<f8"]);
    expect_error("wrong .npy dtype (big-endian)", parse("big-endian.npy"), &[">f4"]);
    expect_error("Fortran-order .npy", parse("fortran.npy"), &["Fortran"]);
    expect_error("truncated .npy", parse("truncated.npy"), &["[1, 3, 4, 4]", "48 floats"]);
    expect_error("not a .npy file", npy::parse(b"P6\n4 4\n255\n"), &["magic"]);
    expect_error(
        "wrong .npy rank",
        lineage_fuzz::image_shape(&parse("rank2-f32.npy").unwrap().shape),
        &["[3, 4]"],
    );
    let net = lineage_fuzz::tiny_net().unwrap();
    let plan_for = |file: &str| {
        let shape = lineage_fuzz::image_shape(&parse(file).unwrap().shape).unwrap();
        Plan::from_weights(&net, Weights::random(&net, 1), shape)
    };
    expect_error(
        "input with the wrong channel count",
        plan_for("four-channels.npy"),
        &["input has 4 channels", "expects 3"],
    );
    expect_error("input with a zero-sized dim", plan_for("zero-dim.npy"), &["0"]);
}

#[test]
fn image_inputs() {
    let decode = |file: &str| lineage_nets::image::decode(&std::fs::read(corpus("inputs", file)).unwrap());
    assert_eq!(decode("tiny.png").unwrap().width(), 40);
    expect_error("truncated JPEG", decode("truncated.jpg"), &["corrupt JPEG image"]);
    expect_error("CMYK JPEG", decode("cmyk.jpg"), &["CMYK", "8x8"]);
    expect_error(
        "image header claiming a huge size",
        decode("oom-huge-png-header.png"),
        &["PNG image of 40x83886080 pixels", "256 MiB"],
    );
    expect_error(
        "image too thin to resize",
        lineage_nets::preprocess::shorter_side_size(1, 10_000_000, 256),
        &["1x10000000", "2^28"],
    );
}

#[test]
fn nan_and_infinity_propagate() {
    // A 3x3 convolution (padding 1) of a 5x5 image with NaN at (1, 1) and +inf at (3, 3): the
    // outputs whose window holds the NaN are NaN, those holding only the infinity are infinite
    // (all weights are positive), and the rest are finite.
    let p = Conv2dParams::square(1, 1, 3, 1, 1);
    let mut x = vec![1.0f32; 25];
    x[5 + 1] = f32::NAN;
    x[3 * 5 + 3] = f32::INFINITY;
    let mut y = vec![0.0f32; 25];
    conv2d(
        &p,
        &TensorView::new(&x, Shape::new(1, 5, 5, 1)).unwrap(),
        &[0.5; 9],
        None,
        &mut TensorViewMut::new(&mut y, Shape::new(1, 5, 5, 1)).unwrap(),
        &Epilogue::default(),
    )
    .unwrap();
    for (i, v) in y.iter().enumerate() {
        let (r, c) = (i / 5, i % 5);
        let near = |pr: usize, pc: usize| r.abs_diff(pr) <= 1 && c.abs_diff(pc) <= 1;
        match (near(1, 1), near(3, 3)) {
            (true, _) => assert!(v.is_nan(), "({r}, {c}) = {v}"),
            (false, true) => assert_eq!(*v, f32::INFINITY, "({r}, {c})"),
            _ => assert!(v.is_finite(), "({r}, {c}) = {v}"),
        }
    }
    // Through a whole planned network: one NaN pixel reaches the logits through the global
    // average pool, and nothing panics.
    let net = lineage_fuzz::tiny_net().unwrap();
    let plan = Plan::from_weights(&net, Weights::random(&net, 1), lineage_fuzz::TINY_INPUT).unwrap();
    let mut ws = Workspace::new(&plan, Threads::Count(1)).unwrap();
    let mut x = vec![0.25f32; 75];
    x[40] = f32::NAN;
    let y = plan.run(Input::Nhwc(&x), &mut ws).unwrap();
    println!("NaN pixel through tiny: logits {:?}", y.pixel(0));
    assert!(y.pixel(0).iter().all(|v| v.is_nan()), "{:?}", y.pixel(0));
}
