//! `inputs`: arbitrary bytes as the file the command line reads (`lineage run --input`), told
//! apart by their first bytes as the command line does: a `.npy` array is parsed and its shape
//! read as NCHW or CHW; a PNG or JPEG image is decoded and preprocessed (resize, centre crop,
//! normalize). Either is then planned for a small network and run. Every step returns `Ok` or
//! an error; NaN and infinities in the data propagate as IEEE arithmetic does.

use lineage_kernels::Shape;
use lineage_nets::image::{self, Format};
use lineage_nets::preprocess::{self, Filter, Preset, IMAGENET_MEAN, IMAGENET_STD};
use lineage_nets::{npy, Input, NetError, Plan, Threads, Weights, Workspace};

use crate::tiny::{pool, tiny_net, CLASSES};

/// The command line's reading of an array's shape (nets/src/bin/lineage.rs, `infer`).
pub fn image_shape(shape: &[usize]) -> Result<Shape, NetError> {
    match *shape {
        [n, c, h, w] => Ok(Shape::new(n, h, w, c)),
        [c, h, w] => Ok(Shape::new(1, h, w, c)),
        _ => Err(NetError::Input(format!("shape {shape:?}, expected NCHW or CHW"))),
    }
}

/// The preprocessing images get: a model preset's steps at a size the tiny network runs
/// quickly (the real presets differ only in sizes, filter and statistics).
const SMALL_PRESET: Preset =
    Preset { resize: 9, crop: 7, filter: Filter::Bicubic, mean: IMAGENET_MEAN, std: IMAGENET_STD };

/// The fuzz target body.
pub fn inputs(data: &[u8]) {
    match Format::sniff(data) {
        Some(Format::Npy) | None => array_input(data),
        Some(Format::Png | Format::Jpeg) => image_input(data),
    }
}

fn array_input(data: &[u8]) {
    let array = match npy::parse(data) {
        Ok(a) => a,
        Err(e) => {
            return assert!(e.to_string().starts_with("input: not a float32 .npy file"), "unclear: {e}")
        }
    };
    let Ok(shape) = image_shape(&array.shape) else { return };
    run(&array.data, shape);
}

fn image_input(data: &[u8]) {
    let rgb = match image::decode(data) {
        Ok(rgb) => rgb,
        Err(e) => {
            let message = e.to_string();
            return assert!(
                ["corrupt PNG", "corrupt JPEG", "PNG image", "JPEG image", "image of"]
                    .iter()
                    .any(|m| message.contains(m)),
                "unclear: {message}"
            );
        }
    };
    assert_eq!(rgb.data().len(), rgb.width() * rgb.height() * 3);
    let x = match preprocess::preprocess(&rgb, &SMALL_PRESET) {
        Ok(x) => x,
        // Only an image smaller than the crop after resizing is refused (a 1-pixel-wide strip).
        Err(e) => return assert!(e.to_string().contains("crop"), "unclear: {e}"),
    };
    // 8-bit pixels normalized: always finite, within (0 - 0.5) / 0.22 and (1 - 0.4) / 0.22.
    assert!(x.iter().all(|v| v.abs() < 3.0), "preprocessing gave an out-of-range value");
    run(&x, Shape::new(1, SMALL_PRESET.crop, SMALL_PRESET.crop, 3));
}

/// Plans the tiny network for `shape` and runs it on `data`.
fn run(data: &[f32], shape: Shape) {
    let net = tiny_net().expect("the tiny network builds");
    let plan = match Plan::from_weights(&net, Weights::random(&net, 7), shape) {
        Ok(plan) => plan,
        Err(e) => {
            let message = e.to_string();
            // Refused at the input itself or at the first layer the shape does not fit.
            assert!(
                ["input", "conv1", "conv2", "pool", "gap", "fc"].iter().any(|l| message.contains(l)),
                "the error names no layer: {message}"
            );
            return;
        }
    };
    let mut ws = Workspace::new(&plan, Threads::Pool(pool())).expect("a workspace for a planned net");
    let y = plan.run(Input::Nchw(data), &mut ws).expect("the array fits the plan made for its shape");
    assert_eq!(y.shape(), Shape::new(shape.n, 1, 1, CLASSES));
    if data.iter().all(|v| v.is_finite()) {
        let out: Vec<f32> = (0..shape.n).flat_map(|p| y.pixel(p).to_vec()).collect();
        // Finite inputs of moderate size give finite logits (He-normal weights, five layers).
        if data.iter().all(|v| v.abs() < 1e6) {
            assert!(out.iter().all(|v| v.is_finite()), "finite input gave {out:?}");
        }
    }
}
