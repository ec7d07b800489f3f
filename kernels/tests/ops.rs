//! The layer ops (pooling, LRN, batch norm, activation, add, copy, flatten, fully connected,
//! softmax) against the f64 reference, on every available ISA, with inputs and outputs that
//! are channel slices of wider buffers.

use lineage_kernels::ops::{self, BatchNorm, FullyConnected, LrnParams, Pool2dParams};
use lineage_kernels::reference;
use lineage_kernels::testing::{check_close, uniform_values};
use lineage_kernels::{Activation, Isa, Padding, Shape, TensorView, TensorViewMut};
use proptest::prelude::*;

/// An NHWC tensor inside a wider buffer: `margin.0` channels before and `margin.1` after the
/// view's channels in every pixel, so the view is misaligned and its pitch exceeds `c`.
#[derive(Clone, Debug)]
struct Strided {
    data: Vec<f32>,
    shape: Shape,
    margin: (usize, usize),
}

impl Strided {
    fn pitch(&self) -> usize {
        self.shape.c + self.margin.0 + self.margin.1
    }

    /// Values in -1..1 from `seed` (margins included).
    fn random(shape: Shape, margin: (usize, usize), seed: u64) -> Self {
        let len = shape.pixels().unwrap() * (shape.c + margin.0 + margin.1);
        Strided { data: uniform_values(seed, len), shape, margin }
    }

    /// NaN everywhere, so that unwritten outputs and writes into the margins show.
    fn nan(shape: Shape, margin: (usize, usize)) -> Self {
        let len = shape.pixels().unwrap() * (shape.c + margin.0 + margin.1);
        Strided { data: vec![f32::NAN; len], shape, margin }
    }

    fn view(&self) -> TensorView<'_> {
        TensorView::with_pitch(&self.data[self.margin.0..], self.shape, self.pitch()).unwrap()
    }

    fn view_mut(&mut self) -> TensorViewMut<'_> {
        let pitch = self.pitch();
        TensorViewMut::with_pitch(&mut self.data[self.margin.0..], self.shape, pitch).unwrap()
    }

    /// The view's elements, dense NHWC.
    fn dense(&self) -> Vec<f32> {
        self.data.chunks(self.pitch()).flat_map(|px| px[self.margin.0..][..self.shape.c].to_vec()).collect()
    }

    fn dense_f64(&self) -> Vec<f64> {
        self.dense().into_iter().map(f64::from).collect()
    }

    fn margins_untouched(&self) -> bool {
        self.data.chunks(self.pitch()).all(|px| {
            px[..self.margin.0].iter().all(|v| v.is_nan())
                && px[self.margin.0 + self.shape.c..].iter().all(|v| v.is_nan())
        })
    }
}

fn margins() -> impl Strategy<Value = (usize, usize)> {
    (0..=3usize, 0..=3usize)
}

/// Channel counts below, at and above every vector width, and past one task's chunk of 512.
fn channels() -> impl Strategy<Value = usize> {
    prop_oneof![3 => 1..=70usize, 1 => 500..=600usize]
}

fn activations() -> impl Strategy<Value = Activation> {
    prop_oneof![Just(Activation::None), Just(Activation::Relu), Just(Activation::Relu6)]
}

/// Runs `op` on every ISA into a NaN-filled strided output and compares with `want`.
fn check_each_isa<F>(
    out: Shape,
    out_margin: (usize, usize),
    want: &[f64],
    atol: f64,
    rtol: f64,
    op: F,
) -> Result<(), TestCaseError>
where
    F: Fn(Isa, &mut TensorViewMut<'_>) -> lineage_kernels::Result<()>,
{
    for isa in Isa::test_targets() {
        let mut y = Strided::nan(out, out_margin);
        op(isa, &mut y.view_mut()).map_err(|e| TestCaseError::fail(format!("{isa:?}: {e}")))?;
        check_close(&y.dense(), want, atol, rtol)
            .map_err(|e| TestCaseError::fail(format!("{isa:?}: {e}")))?;
        prop_assert!(y.margins_untouched(), "{isa:?}: wrote outside the output view");
    }
    Ok(())
}

#[derive(Clone, Debug)]
struct PoolProblem {
    params: Pool2dParams,
    input: Shape,
    in_margin: (usize, usize),
    out_margin: (usize, usize),
    seed: u64,
}

/// Windows 1-4 a side, strides 1-3, asymmetric padding below the kernel, both rounding modes
/// and divisors, channels below, at and above every vector width, images 1-12 a side.
fn pool_problems() -> impl Strategy<Value = PoolProblem> {
    (
        (1..=2usize, 1..=40usize, 1..=4usize, 1..=4usize, 1..=3usize, 1..=3usize),
        ([0..=3usize, 0..=3, 0..=3, 0..=3], (1..=12usize, 1..=12usize), any::<bool>(), any::<bool>()),
        (margins(), margins(), any::<u64>()),
    )
        .prop_map(
            |(
                (n, c, kh, kw, sh, sw),
                ([pt, pl, pb, pr], (h, w), ceil_mode, count_include_pad),
                (m0, m1, seed),
            )| {
                let pad = Padding {
                    top: pt.min(kh - 1),
                    left: pl.min(kw - 1),
                    bottom: pb.min(kh - 1),
                    right: pr.min(kw - 1),
                };
                let h = h.max(kh.saturating_sub(pad.top + pad.bottom));
                let w = w.max(kw.saturating_sub(pad.left + pad.right));
                PoolProblem {
                    params: Pool2dParams {
                        kh,
                        kw,
                        stride_h: sh,
                        stride_w: sw,
                        pad,
                        ceil_mode,
                        count_include_pad,
                    },
                    input: Shape::new(n, h, w, c),
                    in_margin: m0,
                    out_margin: m1,
                    seed,
                }
            },
        )
}

#[derive(Clone, Copy, Debug)]
enum PoolOp {
    Max,
    Avg,
}

fn check_pool(problem: &PoolProblem, op: PoolOp) -> Result<(), TestCaseError> {
    let x = Strided::random(problem.input, problem.in_margin, problem.seed);
    let p = &problem.params;
    let (oh, ow) = p.output_hw(problem.input.h, problem.input.w).unwrap();
    let out = Shape::new(problem.input.n, oh, ow, problem.input.c);
    let want = match op {
        PoolOp::Max => reference::max_pool2d(p, &x.dense_f64(), problem.input),
        PoolOp::Avg => reference::avg_pool2d(p, &x.dense_f64(), problem.input),
    }
    .unwrap();
    // A max is one of the inputs, exactly; a mean of at most 16 values is within a few ulps.
    let tol = match op {
        PoolOp::Max => 0.0,
        PoolOp::Avg => 1e-6,
    };
    check_each_isa(out, problem.out_margin, &want, tol, tol, |isa, y| match op {
        PoolOp::Max => ops::max_pool2d_with(isa, p, &x.view(), y),
        PoolOp::Avg => ops::avg_pool2d_with(isa, p, &x.view(), y),
    })
}

proptest! {
    #![proptest_config(lineage_kernels::testing::proptest_config(lineage_kernels::testing::CASES))]

    #[test]
    fn max_pool_matches_reference(problem in pool_problems()) {
        check_pool(&problem, PoolOp::Max)?;
    }

    #[test]
    fn avg_pool_matches_reference(problem in pool_problems()) {
        check_pool(&problem, PoolOp::Avg)?;
    }

    #[test]
    fn adaptive_avg_pool_matches_reference(
        (n, c, h, w, oh, ow) in (1..=2usize, 1..=40usize, 1..=12usize, 1..=12usize, 1..=8usize, 1..=8usize),
        (m0, m1, seed) in (margins(), margins(), any::<u64>()),
    ) {
        let input = Shape::new(n, h, w, c);
        let x = Strided::random(input, m0, seed);
        let want = reference::adaptive_avg_pool2d(&x.dense_f64(), input, oh, ow).unwrap();
        check_each_isa(Shape::new(n, oh, ow, c), m1, &want, 1e-6, 1e-6, |isa, y| {
            ops::adaptive_avg_pool2d_with(isa, &x.view(), y)
        })?;
    }

    #[test]
    fn global_avg_pool_matches_reference(
        (n, c, h, w) in (1..=2usize, 1..=600usize, 1..=9usize, 1..=9usize),
        (m0, m1, seed) in (margins(), margins(), any::<u64>()),
    ) {
        let input = Shape::new(n, h, w, c);
        let x = Strided::random(input, m0, seed);
        let want = reference::adaptive_avg_pool2d(&x.dense_f64(), input, 1, 1).unwrap();
        check_each_isa(Shape::new(n, 1, 1, c), m1, &want, 1e-6, 1e-5, |isa, y| {
            ops::global_avg_pool_with(isa, &x.view(), y)
        })?;
    }

    #[test]
    fn local_response_norm_matches_reference(
        (n, c, h, w, size) in (1..=2usize, channels(), 1..=5usize, 1..=5usize, 1..=7usize),
        (alpha, beta, k) in (prop::sample::select(vec![1e-4f32, 0.1, 2.0]), prop::sample::select(vec![0.75f32, 0.5, 1.3]), prop::sample::select(vec![1.0f32, 2.0])),
        (m0, m1, seed) in (margins(), margins(), any::<u64>()),
    ) {
        let input = Shape::new(n, h, w, c);
        let p = LrnParams { size, alpha, beta, k };
        let x = Strided::random(input, m0, seed);
        let want = reference::local_response_norm(&p, &x.dense_f64(), input).unwrap();
        check_each_isa(input, m1, &want, 1e-6, 1e-5, |isa, y| ops::local_response_norm_with(isa, &p, &x.view(), y))?;
    }

    #[test]
    fn batch_norm_matches_reference(
        (n, c, h, w) in (1..=2usize, channels(), 1..=4usize, 1..=4usize),
        act in activations(),
        (m0, m1, seed) in (margins(), margins(), any::<u64>()),
    ) {
        let input = Shape::new(n, h, w, c);
        let x = Strided::random(input, m0, seed);
        let gamma = uniform_values(seed ^ 1, c);
        let beta = uniform_values(seed ^ 2, c);
        let mean = uniform_values(seed ^ 3, c);
        let var: Vec<f32> = uniform_values(seed ^ 4, c).iter().map(|v| v + 1.1).collect();
        let eps = 1e-5f32;
        let bn = BatchNorm::from_stats(&gamma, &beta, &mean, &var, eps).unwrap();
        let wide = |v: &[f32]| v.iter().map(|&x| x as f64).collect::<Vec<_>>();
        let want = reference::batch_norm(&wide(&gamma), &wide(&beta), &wide(&mean), &wide(&var), eps as f64, act, &x.dense_f64()).unwrap();
        check_each_isa(input, m1, &want, 1e-5, 1e-5, |isa, y| ops::batch_norm_with(isa, &bn, act, &x.view(), y))?;
    }

    #[test]
    fn activation_add_and_copy_match_reference(
        (n, c, h, w) in (1..=2usize, channels(), 1..=4usize, 1..=4usize),
        act in activations(),
        (m0, m1, m2, seed) in (margins(), margins(), margins(), any::<u64>()),
    ) {
        let shape = Shape::new(n, h, w, c);
        // Values in -8..8 so that ReLU6 clips on both sides.
        let scaled = |s: Strided| Strided { data: s.data.iter().map(|v| v * 8.0).collect(), ..s };
        let a = scaled(Strided::random(shape, m0, seed));
        let b = scaled(Strided::random(shape, m1, seed ^ 7));
        let want_act: Vec<f64> = a.dense_f64().into_iter().map(|v| act.apply(v)).collect();
        let want_add: Vec<f64> = a.dense_f64().into_iter().zip(b.dense_f64()).map(|(x, y)| act.apply(x + y)).collect();
        check_each_isa(shape, m2, &want_act, 0.0, 0.0, |isa, y| ops::activation_with(isa, act, &a.view(), y))?;
        check_each_isa(shape, m2, &want_add, 0.0, 1e-7, |isa, y| ops::add_with(isa, &a.view(), &b.view(), act, y))?;
        check_each_isa(shape, m2, &a.dense_f64(), 0.0, 0.0, |isa, y| ops::copy_channels_with(isa, &a.view(), y))?;
    }

    #[test]
    fn fully_connected_matches_reference(
        (n, inf, outf) in (1..=5usize, 1..=80usize, 1..=80usize),
        (with_bias, act, seed) in (any::<bool>(), activations(), any::<u64>()),
    ) {
        let w = uniform_values(seed, inf * outf);
        let b = with_bias.then(|| uniform_values(seed ^ 1, outf));
        let x = uniform_values(seed ^ 2, n * inf);
        let wide = |v: &[f32]| v.iter().map(|&x| x as f64).collect::<Vec<_>>();
        let want = reference::fully_connected(inf, outf, &wide(&w), b.as_deref().map(wide).as_deref(), act, &wide(&x)).unwrap();
        for isa in Isa::test_targets() {
            let fc = FullyConnected::new(isa, inf, outf, &w, b.as_deref()).unwrap();
            let mut y = vec![f32::NAN; n * outf];
            fc.run(&x, &mut y, act).unwrap();
            check_close(&y, &want, 1e-5, 1e-5).map_err(|e| TestCaseError::fail(format!("{isa:?}: {e}")))?;
        }
    }

    #[test]
    fn softmax_matches_reference(len in 1..=2000usize, scale in 0.0f32..60.0, seed in any::<u64>()) {
        let x: Vec<f32> = uniform_values(seed, len).iter().map(|v| v * scale).collect();
        let want = reference::softmax(&x.iter().map(|&v| v as f64).collect::<Vec<_>>()).unwrap();
        let mut y = vec![f32::NAN; len];
        ops::softmax(&x, &mut y).unwrap();
        check_close(&y, &want, 1e-7, 1e-5).map_err(TestCaseError::fail)?;
    }
}

// ---- Named edge cases ----

fn dense(data: &[f32], shape: Shape) -> TensorView<'_> {
    TensorView::new(data, shape).unwrap()
}

/// Runs a pooling op on a dense single-channel image on every ISA and returns each output.
fn pool_each_isa(
    op: fn(Isa, &Pool2dParams, &TensorView<'_>, &mut TensorViewMut<'_>) -> lineage_kernels::Result<()>,
    p: &Pool2dParams,
    x: &[f32],
    input: Shape,
) -> Vec<(Isa, Vec<f32>)> {
    let (oh, ow) = p.output_hw(input.h, input.w).unwrap();
    let out = Shape::new(input.n, oh, ow, input.c);
    Isa::test_targets()
        .into_iter()
        .map(|isa| {
            let mut y = vec![f32::NAN; out.elements().unwrap()];
            op(isa, p, &dense(x, input), &mut TensorViewMut::new(&mut y, out).unwrap()).unwrap();
            (isa, y)
        })
        .collect()
}

#[test]
fn output_sizes_follow_pytorch() {
    let pool = |k, s, pad, ceil_mode| Pool2dParams { ceil_mode, ..Pool2dParams::square(k, s, pad) };
    // Sizes that torchvision's nets produce (PyTorch's formula worked by hand).
    assert_eq!(pool(3, 2, 0, false).output_hw(55, 55).unwrap(), (27, 27)); // AlexNet
    assert_eq!(pool(3, 2, 0, true).output_hw(112, 112).unwrap(), (56, 56)); // GoogLeNet
    assert_eq!(pool(3, 2, 0, true).output_hw(111, 111).unwrap(), (55, 55)); // SqueezeNet
    assert_eq!(pool(3, 2, 1, false).output_hw(112, 112).unwrap(), (56, 56)); // ResNet
    assert_eq!(pool(2, 2, 0, true).output_hw(7, 7).unwrap(), (4, 4)); // ceil keeps a partial window
    assert_eq!(pool(2, 2, 0, false).output_hw(7, 7).unwrap(), (3, 3));
    // (5 + 2 - 2) / 2 rounded up is 3, so 4 windows; the 4th starts at 6 - 1 = 5, in the
    // right padding, and PyTorch drops it.
    assert_eq!(pool(2, 2, 1, true).output_hw(5, 5).unwrap(), (3, 3));
    assert_eq!(pool(1, 1, 0, false).output_hw(1, 1).unwrap(), (1, 1));
}

#[test]
fn bad_pool_parameters_are_errors() {
    let p = Pool2dParams::square(3, 2, 0);
    assert!(p.output_hw(2, 5).is_err(), "kernel larger than the padded input");
    assert!(Pool2dParams::square(3, 1, 3).output_hw(5, 5).is_err(), "padding as large as the kernel");
    assert!(Pool2dParams::square(0, 1, 0).output_hw(5, 5).is_err(), "zero kernel");
    assert!(Pool2dParams::square(2, 0, 0).output_hw(5, 5).is_err(), "zero stride");
    let x = vec![0.0f32; 5 * 5 * 3];
    let mut y = vec![0.0f32; 3 * 3 * 3];
    let wrong = Shape::new(1, 3, 3, 3); // the right output is 2x2
    let err = ops::max_pool2d(
        &p,
        &dense(&x, Shape::new(1, 5, 5, 3)),
        &mut TensorViewMut::new(&mut y, wrong).unwrap(),
    );
    assert!(err.unwrap_err().to_string().contains("max_pool2d"));
    let mut y = vec![0.0f32; 2 * 2 * 4];
    let other_c = Shape::new(1, 2, 2, 4);
    assert!(ops::avg_pool2d(
        &p,
        &dense(&x, Shape::new(1, 5, 5, 3)),
        &mut TensorViewMut::new(&mut y, other_c).unwrap()
    )
    .is_err());
}

#[test]
fn ceil_mode_average_divisors_follow_pytorch() {
    // AvgPool2d(3, stride 2, padding 1, ceil_mode) on a 4x4 image of ones: 3x3 outputs. The
    // corner window (0, 0) covers rows/cols -1..2: 4 ones, 9 places with padding. The last
    // window covers rows/cols 3..5 clipped to the padded input 3..5 (row 4 is padding): 1 one,
    // 4 places with padding, 1 without.
    let x = vec![1.0f32; 16];
    let input = Shape::new(1, 4, 4, 1);
    let with_pad = Pool2dParams { ceil_mode: true, ..Pool2dParams::square(3, 2, 1) };
    let without = Pool2dParams { count_include_pad: false, ..with_pad };
    for (isa, y) in pool_each_isa(ops::avg_pool2d_with, &with_pad, &x, input) {
        assert_eq!(y.len(), 9, "{isa:?}");
        assert!((y[0] - 4.0 / 9.0).abs() < 1e-7, "{isa:?}: {y:?}");
        assert!((y[1] - 6.0 / 9.0).abs() < 1e-7, "{isa:?}: {y:?}");
        assert!((y[8] - 0.25).abs() < 1e-7, "{isa:?}: {y:?}");
    }
    for (isa, y) in pool_each_isa(ops::avg_pool2d_with, &without, &x, input) {
        assert!(y.iter().all(|&v| v == 1.0), "{isa:?}: {y:?}");
    }
}

#[test]
fn one_pixel_images() {
    let x = [-0.5f32, 2.0, 7.0];
    let input = Shape::new(1, 1, 1, 3);
    let p = Pool2dParams { count_include_pad: true, ..Pool2dParams::square(2, 2, 1) };
    for (isa, y) in pool_each_isa(ops::max_pool2d_with, &Pool2dParams::square(1, 1, 0), &x, input) {
        assert_eq!(y, x, "{isa:?}");
    }
    // One 2x2 window over the pixel and three padding places.
    for (isa, y) in pool_each_isa(ops::avg_pool2d_with, &p, &x, input) {
        assert_eq!(y, [-0.125, 0.5, 1.75], "{isa:?}");
    }
    for isa in Isa::test_targets() {
        let mut y = [0.0f32; 3];
        ops::global_avg_pool_with(isa, &dense(&x, input), &mut TensorViewMut::new(&mut y, input).unwrap())
            .unwrap();
        assert_eq!(y, x, "{isa:?}");
        let mut big = [0.0f32; 2 * 2 * 3];
        let up = Shape::new(1, 2, 2, 3);
        ops::adaptive_avg_pool2d_with(isa, &dense(&x, input), &mut TensorViewMut::new(&mut big, up).unwrap())
            .unwrap();
        assert_eq!(big[9..], x, "{isa:?}: adaptive pooling up to 2x2 repeats the pixel");
    }
}

#[test]
fn nan_propagates_through_max_pool_and_activations() {
    // 2x2 image, 9 channels (a vector and a tail on AVX2); channel 4 has a NaN in pixel 3 and
    // channel 8 in pixel 0: the 2x2 window's max must be NaN exactly there, wherever the NaN
    // sits in the scan order.
    let input = Shape::new(1, 2, 2, 9);
    let mut x: Vec<f32> = (0..36).map(|i| i as f32 - 10.0).collect();
    x[3 * 9 + 4] = f32::NAN;
    x[8] = f32::NAN;
    for (isa, y) in pool_each_isa(ops::max_pool2d_with, &Pool2dParams::square(2, 2, 0), &x, input) {
        for (ch, v) in y.iter().enumerate() {
            let expect_nan = ch == 4 || ch == 8;
            assert_eq!(v.is_nan(), expect_nan, "{isa:?}: channel {ch} = {v}");
            if !expect_nan {
                assert_eq!(*v, (27 + ch) as f32 - 10.0, "{isa:?}: channel {ch}");
            }
        }
    }
    let shape = Shape::new(1, 1, 3, 9);
    let mut a = vec![-1.0f32; 27];
    a[0] = f32::NAN;
    a[13] = f32::NAN;
    a[26] = f32::NAN;
    for isa in Isa::test_targets() {
        for act in [Activation::Relu, Activation::Relu6] {
            let mut y = vec![0.0f32; 27];
            ops::activation_with(
                isa,
                act,
                &dense(&a, shape),
                &mut TensorViewMut::new(&mut y, shape).unwrap(),
            )
            .unwrap();
            for (i, v) in y.iter().enumerate() {
                assert_eq!(v.is_nan(), a[i].is_nan(), "{isa:?} {act:?}: element {i} = {v}");
            }
        }
    }
}

#[test]
fn batch_norm_folds_into_the_preceding_conv() {
    use lineage_kernels::Conv2dParams;
    let p = Conv2dParams::square(5, 11, 3, 1, 1);
    let input = Shape::new(1, 6, 6, 5);
    let x = uniform_values(1, input.elements().unwrap());
    let w = uniform_values(2, p.weight_len().unwrap());
    let b = uniform_values(3, 11);
    let (gamma, beta, mean) = (uniform_values(4, 11), uniform_values(5, 11), uniform_values(6, 11));
    let var: Vec<f32> = uniform_values(7, 11).iter().map(|v| v + 1.5).collect();
    let bn = BatchNorm::from_stats(&gamma, &beta, &mean, &var, 1e-5).unwrap();
    let wide = |v: &[f32]| v.iter().map(|&x| x as f64).collect::<Vec<_>>();
    let conv =
        reference::conv2d(&p, &wide(&x), input, &wide(&w), Some(&wide(&b)), Activation::None, None).unwrap();
    let want = reference::batch_norm(
        &wide(&gamma),
        &wide(&beta),
        &wide(&mean),
        &wide(&var),
        1e-5,
        Activation::Relu,
        &conv,
    )
    .unwrap();
    for bias in [Some(b.as_slice()), None] {
        let mut folded = w.clone();
        let new_bias = bn.fold_into_conv(&mut folded, bias).unwrap();
        let got = reference::conv2d(
            &p,
            &wide(&x),
            input,
            &wide(&folded),
            Some(&wide(&new_bias)),
            Activation::Relu,
            None,
        )
        .unwrap();
        let got: Vec<f32> = got.iter().map(|&v| v as f32).collect();
        let want = match bias {
            Some(_) => want.clone(),
            None => {
                let conv =
                    reference::conv2d(&p, &wide(&x), input, &wide(&w), None, Activation::None, None).unwrap();
                reference::batch_norm(
                    &wide(&gamma),
                    &wide(&beta),
                    &wide(&mean),
                    &wide(&var),
                    1e-5,
                    Activation::Relu,
                    &conv,
                )
                .unwrap()
            }
        };
        check_close(&got, &want, 1e-5, 1e-5).unwrap();
    }
    let mut short = vec![0.0f32; 10];
    assert!(bn.fold_into_conv(&mut short, None).is_err(), "10 weights are not rows for 11 channels");
    assert!(bn.fold_into_conv(&mut w.clone(), Some(&b[..3])).is_err(), "bias of the wrong length");
    assert!(BatchNorm::from_stats(&gamma, &beta, &mean, &var[..3], 1e-5).is_err());
    assert!(BatchNorm::from_stats(&[1.0], &[0.0], &[0.0], &[-1.0], 1e-5).is_err(), "negative variance");
}

#[test]
fn flatten_orders_like_pytorch() {
    // x(n, h, w, c) = 1000n + 100c + 10h + w, so the expected NCHW order is easy to spell out.
    let shape = Shape::new(2, 3, 4, 5);
    let mut x = Vec::new();
    for n in 0..2 {
        for h in 0..3 {
            for w in 0..4 {
                for c in 0..5 {
                    x.push((1000 * n + 100 * c + 10 * h + w) as f32);
                }
            }
        }
    }
    // A channel slice view (pitch 7) of a wider buffer, holding the same values.
    let wide: Vec<f32> = x.chunks(5).flat_map(|px| [[-1.0f32].as_slice(), px, &[-2.0]].concat()).collect();
    let view = TensorView::with_pitch(&wide[1..], shape, 7).unwrap();
    let mut y = vec![0.0f32; 120];
    ops::flatten_nchw_order(&view, &mut y).unwrap();
    let mut i = 0;
    for n in 0..2 {
        for c in 0..5 {
            for h in 0..3 {
                for w in 0..4 {
                    assert_eq!(y[i], (1000 * n + 100 * c + 10 * h + w) as f32, "index {i}");
                    i += 1;
                }
            }
        }
    }
    assert!(ops::flatten_nchw_order(&view, &mut y[..119]).is_err());
}

#[test]
fn fully_connected_shapes_are_checked() {
    for isa in Isa::test_targets() {
        assert!(FullyConnected::new(isa, 3, 2, &[0.0; 5], None).is_err(), "5 weights for 3->2");
        assert!(
            FullyConnected::new(isa, 3, 2, &[0.0; 6], Some(&[0.0; 3])).is_err(),
            "bias of 3 for 2 outputs"
        );
        assert!(FullyConnected::new(isa, 0, 2, &[], None).is_err(), "zero inputs");
        let fc =
            FullyConnected::new(isa, 3, 2, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], Some(&[0.5, -100.0])).unwrap();
        assert_eq!((fc.in_features(), fc.out_features()), (3, 2));
        let mut y = [0.0f32; 2];
        let err = fc.run(&[1.0; 4], &mut y, Activation::None).unwrap_err();
        assert!(err.to_string().contains("fully_connected 3->2"), "{err}");
        assert!(fc.run(&[1.0; 3], &mut [0.0; 3], Activation::None).is_err());
        fc.run(&[1.0, 0.0, -1.0], &mut y, Activation::Relu).unwrap();
        assert_eq!(y, [0.0, 0.0], "{isa:?}: 1 - 3 + 0.5 < 0 and 4 - 6 - 100 < 0, both clipped");
        fc.run(&[1.0, 1.0, 1.0], &mut y, Activation::None).unwrap();
        assert_eq!(y, [6.5, -85.0], "{isa:?}");
    }
}

#[test]
fn fully_connected_is_identical_for_any_thread_count() {
    let (inf, outf) = (300, 200);
    let w = uniform_values(1, inf * outf);
    let x = uniform_values(2, 3 * inf);
    let fc = FullyConnected::new(Isa::detect(), inf, outf, &w, None).unwrap();
    let run = |threads| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        let mut y = vec![0.0f32; 3 * outf];
        pool.install(|| fc.run(&x, &mut y, Activation::None)).unwrap();
        y
    };
    assert_eq!(run(1), run(3));
}

/// Rows read from and written to channel slices (pitch above the channel count) give the bits
/// of the dense rows, on every ISA; views of the wrong channel or pixel count are errors.
#[test]
fn fully_connected_on_pitched_views_matches_dense_rows() {
    let (n, inf, outf, x_pitch, y_pitch) = (5, 37, 21, 45, 30);
    let w = uniform_values(3, inf * outf);
    let b = uniform_values(4, outf);
    let x = uniform_values(5, n * x_pitch);
    let dense: Vec<f32> = x.chunks(x_pitch).flat_map(|r| r[..inf].to_vec()).collect();
    for isa in Isa::test_targets() {
        let fc = FullyConnected::new(isa, inf, outf, &w, Some(&b)).unwrap();
        let mut want = vec![0.0f32; n * outf];
        fc.run(&dense, &mut want, Activation::Relu).unwrap();
        let mut y = vec![-7.0f32; n * y_pitch];
        let xv = TensorView::with_pitch(&x, Shape::new(n, 1, 1, inf), x_pitch).unwrap();
        let mut yv = TensorViewMut::with_pitch(&mut y, Shape::new(n, 1, 1, outf), y_pitch).unwrap();
        fc.run_view(&xv, &mut yv, Activation::Relu).unwrap();
        for (r, row) in y.chunks(y_pitch).enumerate() {
            assert_eq!(row[..outf], want[r * outf..][..outf], "{isa:?} row {r}");
            assert!(row[outf..].iter().all(|&v| v == -7.0), "{isa:?} row {r}: wrote past its channels");
        }
        let mut other = vec![0.0f32; n * (outf + 1)];
        let mut wide = TensorViewMut::new(&mut other, Shape::new(n, 1, 1, outf + 1)).unwrap();
        let e = fc.run_view(&xv, &mut wide, Activation::None).unwrap_err().to_string();
        assert!(e.contains("37->21") && e.contains("c: 22"), "{e}");
        let mut fewer = vec![0.0f32; (n - 1) * outf];
        let mut short = TensorViewMut::new(&mut fewer, Shape::new(n - 1, 1, 1, outf)).unwrap();
        assert!(fc.run_view(&xv, &mut short, Activation::None).is_err(), "{isa:?}: 4 output rows for 5");
    }
}

#[test]
fn other_bad_shapes_are_errors() {
    let shape = Shape::new(1, 2, 2, 4);
    let x = vec![1.0f32; 16];
    let mut y = vec![0.0f32; 16];
    let other = Shape::new(1, 2, 4, 2);
    let mut yv = TensorViewMut::new(&mut y, other).unwrap();
    let err = ops::activation(Activation::Relu, &dense(&x, shape), &mut yv).unwrap_err();
    assert!(err.to_string().contains("activation"), "{err}");
    assert!(ops::add(
        &dense(&x, shape),
        &dense(&x, other),
        Activation::None,
        &mut TensorViewMut::new(&mut y, shape).unwrap()
    )
    .is_err());
    assert!(ops::copy_channels(&dense(&x, other), &mut TensorViewMut::new(&mut y, shape).unwrap()).is_err());
    let bn = BatchNorm { scale: vec![1.0; 3], shift: vec![0.0; 3] };
    assert!(ops::batch_norm(
        &bn,
        Activation::None,
        &dense(&x, shape),
        &mut TensorViewMut::new(&mut y, shape).unwrap()
    )
    .is_err());
    let lrn = LrnParams { size: 0, alpha: 1e-4, beta: 0.75, k: 1.0 };
    assert!(ops::local_response_norm(
        &lrn,
        &dense(&x, shape),
        &mut TensorViewMut::new(&mut y, shape).unwrap()
    )
    .is_err());
    assert!(ops::softmax(&[], &mut []).is_err());
    assert!(ops::softmax(&[1.0, 2.0], &mut [0.0]).is_err());
    let mut g = vec![0.0f32; 8];
    assert!(ops::global_avg_pool(
        &dense(&x, shape),
        &mut TensorViewMut::new(&mut g, Shape::new(1, 1, 2, 4)).unwrap()
    )
    .is_err());
}

#[test]
fn softmax_is_stable_for_large_logits() {
    let mut y = [0.0f32; 3];
    ops::softmax(&[1000.0, 1000.0, -1000.0], &mut y).unwrap();
    assert_eq!(y, [0.5, 0.5, 0.0]);
    ops::softmax(&[1.0, f32::NAN, 2.0], &mut y).unwrap();
    assert!(y.iter().all(|v| v.is_nan()), "{y:?}");
}
