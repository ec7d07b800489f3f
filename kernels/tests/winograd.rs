//! Winograd F(2x2, 3x3) and F(4x4, 3x3): the f64 derivation, the filter transform, and the whole
//! algorithm against the f64 reference convolution on every ISA.
//!
//! Tolerances are stated as `max |out - ref| / max |ref|` (inputs in -1..1). Measured with
//! `measured_error_at_256_channels` (prints the figures with `--nocapture`): see the bounds.

use lineage_kernels::conv::winograd::WinogradVariant;
use lineage_kernels::pack::PackedWinogradWeights;
use lineage_kernels::reference::{correlate_tile_direct, winograd_matrices};
use lineage_kernels::testing::{conv_problems, max_relative_error, uniform_values, ConvProblem, ConvSpace};
use lineage_kernels::{Activation, Algorithm, Conv2d, Conv2dParams, Epilogue, Isa, Padding, Shape};
use lineage_kernels::{TensorView, TensorViewMut};
use proptest::prelude::*;

/// F(2x2, 3x3) bound; measured 6.9e-7 at 256 channels, 12x12 (direct: 1.65e-6), AVX2 and scalar.
const F2_BOUND: f64 = 4e-6;
/// F(4x4, 3x3) bound; measured 2.8e-6 at 256 channels, 12x12 (direct: 1.65e-6), AVX2 and scalar.
const F4_BOUND: f64 = 1e-5;

fn bound(algorithm: Algorithm) -> f64 {
    match algorithm {
        Algorithm::Winograd2x2 => F2_BOUND,
        _ => F4_BOUND,
    }
}

const VARIANTS: [(Algorithm, WinogradVariant); 2] =
    [(Algorithm::Winograd2x2, WinogradVariant::F2x2), (Algorithm::Winograd4x4, WinogradVariant::F4x4)];

#[test]
fn derived_matrices_correlate_exactly_in_f64() {
    let point_sets: [(usize, Vec<f64>); 5] = [
        (2, WinogradVariant::F2x2.points().to_vec()),
        (4, WinogradVariant::F4x4.points().to_vec()),
        (4, vec![0.0, 1.0, -1.0, 2.0, -2.0]),
        (4, vec![0.0, 0.625, -0.625, 1.5, -1.5]),
        (6, vec![0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0]),
    ];
    for (m, points) in point_sets {
        let mats = winograd_matrices(m, 3, &points).unwrap();
        let alpha = m + 2;
        for seed in 0..20 {
            let d: Vec<f64> = uniform_values(seed, alpha * alpha).iter().map(|&v| v as f64).collect();
            let g: Vec<f64> = uniform_values(seed + 100, 9).iter().map(|&v| v as f64).collect();
            let want = correlate_tile_direct(m, 3, &d, &g);
            let got = mats.correlate_tile(&d, &g);
            for (a, b) in got.iter().zip(&want) {
                assert!((a - b).abs() < 1e-12, "F({m},3) {points:?}: {a} vs {b}");
            }
        }
    }
}

#[test]
fn bad_points_are_errors() {
    assert!(winograd_matrices(4, 3, &[0.0, 1.0, -1.0]).is_err());
    assert!(winograd_matrices(2, 3, &[0.0, 1.0, 1.0]).is_err());
    assert!(winograd_matrices(2, 3, &[0.0, 1.0, f64::NAN]).is_err());
}

#[test]
fn filter_transform_matches_reference() {
    let p = Conv2dParams::square(5, 19, 3, 1, 1);
    let w = uniform_values(3, p.weight_len().unwrap());
    for (_, variant) in VARIANTS {
        let mats = winograd_matrices(variant.m(), 3, variant.points()).unwrap();
        for isa in Isa::test_targets() {
            let packed = PackedWinogradWeights::new(isa, variant, &p, &w, None).unwrap();
            for oc in 0..p.c_out {
                for ic in 0..p.c_in {
                    let g: Vec<f64> = w[(oc * p.c_in + ic) * 9..][..9].iter().map(|&v| v as f64).collect();
                    let want = mats.filter_transform(&g);
                    let got = packed.transformed_filter(oc, ic).unwrap();
                    for (a, b) in got.iter().zip(&want) {
                        // Transformed in f64, rounded once.
                        assert!(
                            (*a as f64 - b).abs() <= 1e-7 * b.abs().max(1.0),
                            "{isa:?} {variant:?}: {a} vs {b}"
                        );
                    }
                }
            }
            assert!(packed.transformed_filter(p.c_out, 0).is_err());
        }
    }
}

/// Runs `problem` on every ISA and checks the error bound, NaN-free output and untouched margins.
fn check(algorithm: Algorithm, problem: &ConvProblem) -> Result<(), TestCaseError> {
    let want = problem.reference(&problem.data().unwrap()).unwrap();
    for isa in Isa::test_targets() {
        let mut data = problem.data().unwrap();
        let got = problem
            .run(&mut data, |x, w, b, y, e| {
                Conv2d::with(isa, algorithm, &problem.params, w, b)?.run_alloc(x, y, e)
            })
            .map_err(|e| TestCaseError::fail(format!("{isa:?}: {e}")))?;
        prop_assert!(got.iter().all(|v| v.is_finite()), "{isa:?} {algorithm:?}: non-finite output");
        let err = max_relative_error(&got, &want);
        prop_assert!(
            err <= bound(algorithm),
            "{isa:?} {algorithm:?}: error {err:e} > {:e}",
            bound(algorithm)
        );
        prop_assert!(problem.margins_untouched(&data), "{isa:?}: wrote outside the output view");
    }
    Ok(())
}

fn winograd_space() -> ConvSpace {
    ConvSpace {
        kh: 3..=3,
        kw: 3..=3,
        stride: 1..=1,
        dilation: 1..=1,
        hw: 1..=14,
        c_in_per_group: 1..=40,
        c_out_per_group: 1..=72,
        ..ConvSpace::default()
    }
}

proptest! {
    #![proptest_config(lineage_kernels::testing::proptest_config(lineage_kernels::testing::CASES))]

    #[test]
    fn winograd_f2x2_matches_reference(problem in conv_problems(winograd_space())) {
        check(Algorithm::Winograd2x2, &problem)?;
    }

    #[test]
    fn winograd_f4x4_matches_reference(problem in conv_problems(winograd_space())) {
        check(Algorithm::Winograd4x4, &problem)?;
    }
}

/// A fixed problem: `c` channels in and out, `h x w` image, asymmetric padding, bias, residual.
fn problem(
    n: usize,
    h: usize,
    w: usize,
    c_in: usize,
    c_out: usize,
    pad: Padding,
    act: Activation,
) -> ConvProblem {
    ConvProblem {
        params: Conv2dParams { pad, ..Conv2dParams::square(c_in, c_out, 3, 1, 0) },
        input_shape: Shape::new(n, h, w, c_in),
        input_margin: (1, 2),
        output_margin: (3, 0),
        activation: act,
        with_bias: true,
        with_residual: true,
        seed: (h * 1000 + w * 10 + c_in) as u64,
    }
}

#[test]
fn image_sizes_that_are_not_multiples_of_the_tile() {
    let pad = Padding { top: 1, left: 2, bottom: 1, right: 0 };
    for (h, w) in [(1, 1), (2, 3), (5, 7), (13, 11)] {
        for (c_in, c_out) in [(1, 1), (8, 8), (9, 17), (33, 40)] {
            for (algorithm, _) in VARIANTS {
                let n = if c_in == 9 { 2 } else { 1 };
                check(algorithm, &problem(n, h, w, c_in, c_out, pad, Activation::Relu)).unwrap();
            }
        }
    }
}

#[test]
fn measured_error_at_256_channels() {
    for (algorithm, _) in VARIANTS {
        for isa in Isa::test_targets() {
            let mut pr = problem(1, 12, 12, 256, 256, Padding::uniform(1), Activation::None);
            pr.with_bias = false;
            pr.with_residual = false;
            let mut data = pr.data().unwrap();
            let want = pr.reference(&data).unwrap();
            let measure = |algorithm: Algorithm, data: &mut _| {
                let got = pr
                    .run(data, |x, w, b, y, e| {
                        Conv2d::with(isa, algorithm, &pr.params, w, b)?.run_alloc(x, y, e)
                    })
                    .unwrap();
                max_relative_error(&got, &want)
            };
            let err = measure(algorithm, &mut data);
            let direct = measure(Algorithm::Direct, &mut data);
            println!("{isa:?} {algorithm:?}: max|err|/max|ref| = {err:.2e} (direct {direct:.2e})");
            assert!(err <= bound(algorithm), "{isa:?} {algorithm:?}: {err:e}");
        }
    }
}

#[test]
fn bitwise_identical_for_any_thread_count() {
    // 2 x 40 x 40 x 200 -> 20 makes more tile blocks (45 of 18 tiles for F(2x2), 17 of 12 for
    // F(4x4)) than the 16 scratch slots, so slots run several blocks each.
    let pr = problem(2, 40, 40, 200, 20, Padding::uniform(1), Activation::Relu6);
    for (algorithm, _) in VARIANTS {
        for isa in Isa::test_targets() {
            let outputs: Vec<Vec<f32>> = [1, 2, 3]
                .iter()
                .map(|&threads| {
                    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
                    let mut data = pr.data().unwrap();
                    pool.install(|| {
                        pr.run(&mut data, |x, w, b, y, e| {
                            Conv2d::with(isa, algorithm, &pr.params, w, b)?.run_alloc(x, y, e)
                        })
                    })
                    .unwrap()
                })
                .collect();
            let bits = |v: &Vec<f32>| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&outputs[0]), bits(&outputs[1]), "{isa:?} {algorithm:?}: 1 vs 2 threads");
            assert_eq!(bits(&outputs[0]), bits(&outputs[2]), "{isa:?} {algorithm:?}: 1 vs 3 threads");
        }
    }
}

#[test]
fn unsupported_shapes_and_short_workspaces_are_errors() {
    let w = vec![0.0f32; 4 * 4 * 25];
    for (algorithm, _) in VARIANTS {
        let strided = Conv2dParams::square(4, 4, 3, 2, 1);
        assert!(Conv2d::with(Isa::Scalar, algorithm, &strided, &w[..144], None).is_err());
        let five = Conv2dParams::square(4, 4, 5, 1, 2);
        assert!(Conv2d::with(Isa::Scalar, algorithm, &five, &w, None).is_err());
        let dilated = Conv2dParams { dilation_h: 2, ..Conv2dParams::square(4, 4, 3, 1, 1) };
        assert!(Conv2d::with(Isa::Scalar, algorithm, &dilated, &w[..144], None).is_err());
        let p = Conv2dParams::square(4, 4, 3, 1, 1);
        assert!(Conv2d::with(Isa::Scalar, algorithm, &p, &w[..143], None).is_err());
        assert!(Conv2d::with(Isa::Scalar, algorithm, &p, &w[..144], Some(&[0.0; 3])).is_err());
        let conv = Conv2d::with(Isa::Scalar, algorithm, &p, &w[..144], None).unwrap();
        let shape = Shape::new(1, 9, 9, 4);
        let need = conv.workspace_len(shape).unwrap();
        assert!(need > 0);
        let x = vec![0.0f32; 9 * 9 * 4];
        let mut y = vec![0.0f32; 9 * 9 * 4];
        let xv = TensorView::new(&x, shape).unwrap();
        let mut yv = TensorViewMut::new(&mut y, shape).unwrap();
        let mut short = vec![0.0f32; need - 1];
        assert!(conv.run(&xv, &mut yv, &Epilogue::default(), &mut short).is_err());
        let mut enough = vec![0.0f32; need];
        assert!(conv.run(&xv, &mut yv, &Epilogue::default(), &mut enough).is_ok());
        let wrong_c = Shape::new(1, 9, 9, 5);
        assert!(conv.workspace_len(wrong_c).is_err());
    }
}
