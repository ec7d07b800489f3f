//! A fully connected step runs a batch of n images as one n-row product. Image i of a batch
//! gives what a batch-1 run of image i gives, up to rounding (the batched rows sum the inputs
//! in another order than the single-row kernel), the f64 reference agrees, and the bits do not
//! depend on the thread count. Linears that read and write channel slices of concat buffers
//! take the same path.

mod common;

use common::{forward, random_input, random_weights, relative_error, T64};
use lineage_kernels::Shape;
use lineage_nets::{Input, Net, NetBuilder, Plan, Threads, Workspace};

/// Input features: odd, so the single-row kernel's last input has no pair.
const FEATURES: usize = 71;

/// Images per batch: a 4-row tile and a 3-row tile on AVX-512 and NEON, three 2-row tiles and
/// a single row on AVX2.
const BATCH: usize = 7;

/// `a = fc_a(x)`, `b = fc_b(x)` written into `cat = [a, b]`; `c = fc_c(a)` reads its input from
/// that concat, and `out = [c, fc_d(cat)]` has both linears write into its channel slices.
/// Widths that are no multiple of a vector exercise the masked stores.
fn head() -> Net {
    let (mut b, x) = NetBuilder::new("head", FEATURES).unwrap();
    let a = b.linear("fc_a", x, FEATURES, 40, true).unwrap();
    let bb = b.linear("fc_b", x, FEATURES, 24, false).unwrap();
    let cat = b.concat("cat", &[a, bb]).unwrap();
    let c = b.linear("fc_c", a, 40, 17, true).unwrap();
    let d = b.linear("fc_d", cat, 64, 19, true).unwrap();
    let out = b.concat("out", &[c, d]).unwrap();
    b.finish(out).unwrap()
}

fn run(plan: &Plan, threads: usize, x: &[f32]) -> Vec<f32> {
    let mut ws = Workspace::new(plan, Threads::Count(threads)).unwrap();
    let y = plan.run(Input::Nhwc(x), &mut ws).unwrap();
    (0..y.shape().pixels().unwrap()).flat_map(|p| y.pixel(p).to_vec()).collect()
}

#[test]
fn a_batch_through_fully_connected_layers_gives_each_images_own_result() {
    let net = head();
    let weights = random_weights(&net, 3);
    let batch = Shape::new(BATCH, 1, 1, FEATURES);
    let plan = Plan::new(&net, &weights, batch).unwrap();
    // Every concat input is written in place: the linears really see pitched views.
    let kinds: Vec<&str> = plan.steps().iter().map(|s| s.kind).collect();
    assert_eq!(kinds, ["linear"; 4], "{:?}", plan.steps());
    let x = random_input(batch, 5);
    let got = run(&plan, 1, &x);
    assert_eq!(got, run(&plan, 2, &x), "the thread count changed the bits");

    let single = Plan::new(&net, &weights, Shape::new(1, 1, 1, FEATURES)).unwrap();
    let width = plan.output_shape().c;
    for (i, image) in x.chunks(FEATURES).enumerate() {
        let alone = run(&single, 1, image);
        let row = &got[i * width..][..width];
        // Each output sums at most 71 products of values below about 2 in magnitude twice over;
        // two summation orders differ by far less than 1e-5 (a mixed-up row by about 1).
        for (j, (&g, &a)) in row.iter().zip(&alone).enumerate() {
            assert!((g - a).abs() <= 1e-5 * (1.0 + a.abs()), "image {i} output {j}: batch {g}, alone {a}");
        }
    }
    let expected =
        forward(&net, &weights, &T64 { shape: batch, data: x.iter().map(|&v| v as f64).collect() });
    let err = relative_error(&got, &expected[net.output().index()].data);
    assert!(err < 1e-5, "max|engine - reference| / max|reference| = {err:e}");
}
