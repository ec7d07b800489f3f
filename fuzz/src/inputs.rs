//! `inputs`: arbitrary bytes as the `.npy` file the command line reads (`lineage run --input`):
//! parsed, its shape read as NCHW or CHW the way the command line does, planned for a small
//! network and run. Every step returns `Ok` or an error; NaN and infinities in the data
//! propagate as IEEE arithmetic does. (The command line reads no image formats yet, so there
//! is no image decoder to fuzz.)

use lineage_kernels::Shape;
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

/// The fuzz target body.
pub fn inputs(data: &[u8]) {
    let array = match npy::parse(data) {
        Ok(a) => a,
        Err(e) => {
            return assert!(e.to_string().starts_with("input: not a float32 .npy file"), "unclear: {e}")
        }
    };
    let Ok(shape) = image_shape(&array.shape) else { return };
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
    let y = plan.run(Input::Nchw(&array.data), &mut ws).expect("the array fits the plan made for its shape");
    assert_eq!(y.shape(), Shape::new(shape.n, 1, 1, CLASSES));
    if array.data.iter().all(|v| v.is_finite()) {
        let out: Vec<f32> = (0..shape.n).flat_map(|p| y.pixel(p).to_vec()).collect();
        // Finite inputs of moderate size give finite logits (He-normal weights, five layers).
        if array.data.iter().all(|v| v.abs() < 1e6) {
            assert!(out.iter().all(|v| v.is_finite()), "finite input gave {out:?}");
        }
    }
}
