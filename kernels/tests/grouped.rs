//! Grouped convolution against the f64 reference, on every ISA and thread count.

use lineage_kernels::conv::grouped::{
    conv2d_grouped_winograd2x2_with, conv2d_grouped_winograd4x4_with, conv2d_grouped_with,
};
use lineage_kernels::testing::{check_on_every_isa_and_thread_count, conv_problems, ConvProblem, ConvSpace};
use lineage_kernels::{
    conv2d, Algorithm, Conv2d, Conv2dParams, Epilogue, Isa, KernelError, Shape, TensorView, TensorViewMut,
};
use proptest::prelude::*;

/// At most 64 * 9 products of values in -1..1 per output, accumulated in f32.
const ATOL: f64 = 1e-4;
const RTOL: f64 = 1e-4;

fn check(problem: &ConvProblem) -> Result<(), TestCaseError> {
    check_on_every_isa_and_thread_count(problem, conv2d_grouped_with, ATOL, RTOL)
}

/// Grouped problems with `channels` per group in and out (the channel count then is below, at
/// or above the vector width depending on the groups).
fn grouped_space(channels: std::ops::RangeInclusive<usize>, groups: Vec<usize>) -> ConvSpace {
    ConvSpace {
        c_in_per_group: channels.clone(),
        c_out_per_group: channels,
        groups,
        kh: 1..=3,
        kw: 1..=3,
        hw: 1..=9,
        ..ConvSpace::default()
    }
}

proptest! {
    #![proptest_config(lineage_kernels::testing::proptest_config(lineage_kernels::testing::CASES))]

    /// Few channels per group: several groups share one vector (staged at stride 1, else
    /// block-diagonal weights).
    #[test]
    fn small_groups_match_reference(problem in conv_problems(grouped_space(1..=8, vec![2, 3, 4, 8, 32]))) {
        check(&problem)?;
    }

    /// The staged path (stride 1, several groups per vector) on rows wide enough to be split in
    /// segments, and with enough input channels per group to be taken in chunks.
    #[test]
    fn staged_segments_and_chunks_match_reference(problem in conv_problems(ConvSpace {
        c_in_per_group: 1..=24,
        c_out_per_group: 1..=4,
        stride: 1..=1,
        hw: 20..=40,
        batch: 1..=1,
        ..grouped_space(1..=4, vec![2, 4])
    })) {
        check(&problem)?;
    }

    /// Many channels per group: a dense block (or several) per group, with partial vectors.
    #[test]
    fn large_groups_match_reference(problem in conv_problems(grouped_space(9..=64, vec![2, 3, 4]))) {
        check(&problem)?;
    }

    /// One dense Winograd convolution per group on channel slices (input/output margins give
    /// pitches, residual included), against the reference. Winograd's error bounds: F(2x2) has
    /// about half of direct's error, F(4x4) about 1.7x (kernels/tests/winograd.rs).
    #[test]
    fn winograd_per_group_matches_reference(problem in conv_problems(ConvSpace {
        kh: 3..=3, kw: 3..=3, stride: 1..=1, dilation: 1..=1, hw: 1..=14,
        ..grouped_space(9..=40, vec![2, 3, 4])
    })) {
        check_on_every_isa_and_thread_count(&problem, conv2d_grouped_winograd2x2_with, ATOL, RTOL)?;
        check_on_every_isa_and_thread_count(&problem, conv2d_grouped_winograd4x4_with, 4.0 * ATOL, 4.0 * RTOL)?;
    }

    /// Channel multiplier > 1 depthwise and groups = channels (one input channel per group).
    #[test]
    fn one_input_channel_per_group_matches_reference(problem in conv_problems(ConvSpace {
        c_in_per_group: 1..=1, c_out_per_group: 1..=4, ..grouped_space(1..=1, vec![2, 3, 8, 16, 17, 32])
    })) {
        check(&problem)?;
    }
}

/// The ResNeXt shapes themselves: 32 groups of 4, 8, 16 and 32 channels, 3x3, stride 1 and 2.
#[test]
fn resnext_shapes_match_reference() {
    for (cpg, stride) in [(4, 1), (8, 2), (16, 1), (32, 2)] {
        let params = Conv2dParams { groups: 32, ..Conv2dParams::square(32 * cpg, 32 * cpg, 3, stride, 1) };
        let problem = ConvProblem {
            params,
            input_shape: Shape::new(1, 7, 6, 32 * cpg),
            input_margin: (1, 2),
            output_margin: (3, 0),
            activation: lineage_kernels::Activation::Relu,
            with_bias: true,
            with_residual: true,
            seed: cpg as u64,
        };
        check(&problem).unwrap_or_else(|e| panic!("{cpg} per group, stride {stride}: {e}"));
    }
}

#[test]
fn selects_grouped_for_groups_that_are_not_depthwise() {
    let input = Shape::new(1, 8, 8, 64);
    for (c_out, groups) in [(64, 32), (128, 64), (64, 2)] {
        let p = Conv2dParams { groups, ..Conv2dParams::square(64, c_out, 3, 1, 1) };
        let w = vec![0.0; p.weight_len().unwrap()];
        let conv = Conv2d::new(&p, input, &w, None).unwrap();
        assert_eq!(conv.algorithm(), Algorithm::Grouped, "{p:?}");
    }
}

/// AlexNet's conv4 shape (two towers of 192 channels, 3x3 at 13x13), the one the planner runs
/// with Winograd per group, with a residual and pitched views.
#[test]
fn alexnet_towers_per_group_match_reference() {
    let params = Conv2dParams { groups: 2, ..Conv2dParams::square(384, 384, 3, 1, 1) };
    let input_shape = Shape::new(1, 13, 13, 384);
    assert_eq!(
        lineage_kernels::conv::select::select(Isa::Scalar, &params, input_shape).unwrap(),
        Algorithm::GroupedWinograd2x2
    );
    let problem = ConvProblem {
        params,
        input_shape,
        input_margin: (2, 1),
        output_margin: (1, 3),
        activation: lineage_kernels::Activation::Relu,
        with_bias: true,
        with_residual: true,
        seed: 21,
    };
    check_on_every_isa_and_thread_count(&problem, conv2d_grouped_winograd2x2_with, 4.0 * ATOL, 4.0 * RTOL)
        .unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn rejects_groups_that_do_not_divide_the_channels() {
    let x = vec![0.0; 4 * 4 * 12];
    let xv = TensorView::new(&x, Shape::new(1, 4, 4, 12)).unwrap();
    for (c_in, c_out, groups) in [(12, 12, 0), (12, 12, 5), (12, 10, 4), (12, 8, 3), (12, 12, 1)] {
        let p = Conv2dParams { groups, ..Conv2dParams::square(c_in, c_out, 3, 1, 1) };
        let w = vec![0.0; 12 * 12 * 9];
        let mut y = vec![0.0; 4 * 4 * c_out];
        let mut yv = TensorViewMut::new(&mut y, Shape::new(1, 4, 4, c_out)).unwrap();
        let e = Epilogue::default();
        let err = conv2d_grouped_with(Isa::Scalar, &p, &xv, &w, None, &mut yv, &e).unwrap_err();
        let message = err.to_string();
        assert!(message.contains(&format!("groups = {groups}")), "{p:?}: {message}");
        if groups != 1 {
            assert!(matches!(err, KernelError::InvalidParams(_)), "{p:?}: {err:?}");
            assert!(conv2d(&p, &xv, &w, None, &mut yv, &e).is_err(), "{p:?}");
        }
    }
}

#[test]
fn rejects_wrong_weight_length() {
    let p = Conv2dParams { groups: 4, ..Conv2dParams::square(16, 16, 3, 1, 1) };
    let err = Conv2d::with(Isa::Scalar, Algorithm::Grouped, &p, &[0.0; 16 * 16 * 9], None).unwrap_err();
    assert!(matches!(&err, KernelError::ShapeMismatch(m) if m.contains("576")), "{err:?}");
}
