//! Depthwise convolution against the f64 reference, on every ISA and thread count.

use lineage_kernels::conv::depthwise::conv2d_depthwise_with;
use lineage_kernels::testing::{check_on_every_isa_and_thread_count, conv_problems, ConvProblem, ConvSpace};
use lineage_kernels::{Algorithm, Conv2d, Conv2dParams, Isa, KernelError, Shape, TensorView, TensorViewMut};
use proptest::prelude::*;

/// At most 25 products of values in -1..1 per output: f32 accumulation stays well within these.
const ATOL: f64 = 1e-5;
const RTOL: f64 = 1e-5;

/// Depthwise problems: channel counts below, at and above every vector width.
fn depthwise_space(kernel: std::ops::RangeInclusive<usize>) -> ConvSpace {
    ConvSpace {
        c_in_per_group: 1..=1,
        c_out_per_group: 1..=1,
        groups: vec![1, 2, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 24, 31, 32, 33, 40, 64, 65, 72],
        kh: kernel.clone(),
        kw: kernel,
        hw: 1..=20,
        ..ConvSpace::default()
    }
}

fn check(problem: &ConvProblem) -> Result<(), TestCaseError> {
    check_on_every_isa_and_thread_count(problem, conv2d_depthwise_with, ATOL, RTOL)
}

proptest! {
    #![proptest_config(lineage_kernels::testing::proptest_config(lineage_kernels::testing::CASES))]

    /// 3x3 and 5x5 (the row-tile kernels at strides 1 and 2, and their borders) and others.
    #[test]
    fn depthwise_matches_reference(problem in conv_problems(depthwise_space(1..=5))) {
        check(&problem)?;
    }

    /// Square 3x3 / 5x5 only, stride 1-2, dilation 1, so the row tiles run on most pixels.
    #[test]
    fn depthwise_row_tiles_match_reference(problem in square_kernel_problems(1..=2, 6..=24)) {
        check(&problem)?;
    }

    /// Rows of 1-4 pixels at stride 2, where a window on the left padding can also end past the
    /// row (then the border tile must not run).
    #[test]
    fn depthwise_tiny_rows_match_reference(problem in square_kernel_problems(2..=2, 1..=4)) {
        check(&problem)?;
    }
}

proptest! {
    #![proptest_config(lineage_kernels::testing::proptest_config(lineage_kernels::testing::CASES))]

    /// MobileNet-sized layers, by rows (under 256 channels) and staged (from 256): several
    /// channel chunks (the last one partial), row bands.
    #[test]
    fn depthwise_wide_layers_match_reference(
        problem in conv_problems(wide_space(vec![96, 144, 200, 256, 300, 520], 3..=5))
    ) {
        check(&problem)?;
    }

    /// The staged path only (256+ channels, 3x3 and 5x5, no dilation): chunks, bands and the
    /// ring's zero rows and columns in every case.
    #[test]
    fn depthwise_staged_layers_match_reference(
        problem in conv_problems(wide_space(vec![256, 300, 520], 3..=3))
            .prop_union(conv_problems(wide_space(vec![256, 300, 520], 5..=5)))
    ) {
        check(&problem)?;
    }

    /// Rows wider than a staged ring holds for one channel vector (5x5 from about 100 pixels on
    /// 8 lanes, 3x3 from 170), so the staged tasks cut them into segments.
    #[test]
    fn depthwise_rows_wider_than_a_ring_match_reference(
        problem in conv_problems(ConvSpace { hw: 100..=180, ..wide_space(vec![3, 8, 9, 17], 5..=5) })
            .prop_union(conv_problems(ConvSpace { hw: 170..=180, ..wide_space(vec![8, 9], 3..=3) }))
    ) {
        check(&problem)?;
    }
}

/// Square 3x3 and 5x5 depthwise problems (the row tiles' kernels) without dilation.
fn square_kernel_problems(
    stride: std::ops::RangeInclusive<usize>,
    hw: std::ops::RangeInclusive<usize>,
) -> impl Strategy<Value = ConvProblem> {
    let space =
        |k| ConvSpace { stride: stride.clone(), dilation: 1..=1, hw: hw.clone(), ..depthwise_space(k..=k) };
    conv_problems(space(3)).prop_union(conv_problems(space(5)))
}

/// Depthwise layers of `channels` on 30-60 pixel rows, strides 1-2, no dilation.
fn wide_space(channels: Vec<usize>, kernel: std::ops::RangeInclusive<usize>) -> ConvSpace {
    ConvSpace {
        groups: channels,
        stride: 1..=2,
        dilation: 1..=1,
        hw: 30..=60,
        batch: 1..=1,
        ..depthwise_space(kernel)
    }
}

fn depthwise_params(c: usize, groups: usize) -> Conv2dParams {
    Conv2dParams { groups, ..Conv2dParams::square(c, c, 3, 1, 1) }
}

#[test]
fn selects_depthwise_for_multiplier_one() {
    let p = depthwise_params(32, 32);
    let conv = Conv2d::new(&p, Shape::new(1, 8, 8, 32), &vec![0.0; 32 * 9], None).unwrap();
    assert_eq!(conv.algorithm(), Algorithm::Depthwise);
}

#[test]
fn rejects_other_groupings() {
    for (c_in, c_out, groups) in [(32, 32, 16), (32, 64, 32), (32, 32, 0), (32, 32, 5)] {
        let p = Conv2dParams { c_out, ..depthwise_params(c_in, groups) };
        let err = Conv2d::with(Isa::Scalar, Algorithm::Depthwise, &p, &vec![0.0; 32 * 64 * 9], None);
        assert!(
            matches!(err, Err(KernelError::Unsupported(_)) | Err(KernelError::InvalidParams(_))),
            "{p:?}"
        );
    }
}

#[test]
fn rejects_wrong_weight_bias_and_output_sizes() {
    let p = depthwise_params(16, 16);
    let shape = Shape::new(1, 4, 4, 16);
    let x = vec![0.0; 16 * 16];
    let xv = TensorView::new(&x, shape).unwrap();
    let mut y = vec![0.0; 16 * 16];
    let mut yv = TensorViewMut::new(&mut y, shape).unwrap();
    let e = Default::default();
    let short = conv2d_depthwise_with(Isa::Scalar, &p, &xv, &[0.0; 16 * 9 - 1], None, &mut yv, &e);
    assert!(matches!(short, Err(KernelError::ShapeMismatch(m)) if m.contains("143")));
    let bias = conv2d_depthwise_with(Isa::Scalar, &p, &xv, &[0.0; 16 * 9], Some(&[0.0; 15]), &mut yv, &e);
    assert!(matches!(bias, Err(KernelError::ShapeMismatch(m)) if m.contains("15")));
    let mut y2 = vec![0.0; 9 * 16];
    let mut small = TensorViewMut::new(&mut y2, Shape::new(1, 3, 3, 16)).unwrap();
    let out = conv2d_depthwise_with(Isa::Scalar, &p, &xv, &[0.0; 16 * 9], None, &mut small, &e);
    assert!(matches!(out, Err(KernelError::ShapeMismatch(_))));
}
