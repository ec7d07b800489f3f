//! Every bad input is an `Err` whose message names the values, never a panic.

use lineage_kernels::{
    conv::direct::conv2d_direct, conv2d, Algorithm, Conv2d, Conv2dParams, Epilogue, Isa, KernelError,
    Padding, Shape, TensorView, TensorViewMut,
};

fn params() -> Conv2dParams {
    Conv2dParams::square(4, 8, 3, 1, 1)
}

fn run(p: &Conv2dParams, input: Shape, x_len: usize, w_len: usize, out: Shape) -> Result<(), KernelError> {
    let x = vec![0.5; x_len];
    let w = vec![0.1; w_len];
    let mut y = vec![0.0; out.elements().unwrap_or(0).max(1)];
    let xv = TensorView::new(&x, input)?;
    let mut yv = TensorViewMut::new(&mut y, out)?;
    conv2d(p, &xv, &w, None, &mut yv, &Epilogue::default())
}

fn message(r: Result<(), KernelError>) -> String {
    r.expect_err("bad input must be an error").to_string()
}

#[test]
fn short_input_buffer_is_an_error() {
    let m = message(run(&params(), Shape::new(1, 5, 5, 4), 99, 288, Shape::new(1, 5, 5, 8)));
    assert!(m.contains("99") && m.contains("100"), "{m}");
}

#[test]
fn wrong_weight_length_is_an_error() {
    let m = message(run(&params(), Shape::new(1, 5, 5, 4), 100, 287, Shape::new(1, 5, 5, 8)));
    assert!(m.contains("287") && m.contains("288"), "{m}");
}

#[test]
fn input_channels_disagreeing_with_params_is_an_error() {
    let m = message(run(&params(), Shape::new(1, 5, 5, 3), 75, 288, Shape::new(1, 5, 5, 8)));
    assert!(m.contains("3 channels") && m.contains("c_in = 4"), "{m}");
}

#[test]
fn wrong_output_shape_is_an_error() {
    let m = message(run(&params(), Shape::new(1, 5, 5, 4), 100, 288, Shape::new(1, 4, 5, 8)));
    assert!(m.contains("output"), "{m}");
}

#[test]
fn zero_sizes_are_errors() {
    let mut p = params();
    p.c_out = 0;
    assert!(message(run(&p, Shape::new(1, 5, 5, 4), 100, 0, Shape::new(1, 5, 5, 1))).contains("c_out = 0"));
    let mut p = params();
    p.stride_h = 0;
    assert!(
        message(run(&p, Shape::new(1, 5, 5, 4), 100, 288, Shape::new(1, 5, 5, 8))).contains("stride_h = 0")
    );
    assert!(TensorView::new(&[], Shape::new(1, 0, 5, 4)).is_err());
}

#[test]
fn overflowing_sizes_are_errors() {
    let huge = Shape::new(usize::MAX / 2, 4, 4, 4);
    assert!(matches!(huge.elements(), Err(KernelError::Overflow(_))));
    assert!(TensorView::new(&[0.0; 4], huge).is_err());
    let mut p = params();
    p.c_in = usize::MAX;
    assert!(p.validate().is_err());
}

#[test]
fn kernel_larger_than_padded_input_is_an_error() {
    let p = Conv2dParams::square(4, 8, 7, 1, 1);
    let m = p.output_hw(4, 4).unwrap_err().to_string();
    assert!(m.contains("extent 7") && m.contains("padded input height 6"), "{m}");
    let mut dilated = params();
    dilated.dilation_w = 3;
    dilated.pad = Padding::uniform(0);
    assert!(dilated.output_hw(6, 6).unwrap_err().to_string().contains("extent 7"));
}

#[test]
fn groups_not_dividing_channels_is_an_error() {
    let mut p = params();
    p.groups = 3;
    let m = p.validate().unwrap_err().to_string();
    assert!(m.contains("groups = 3") && m.contains("c_in = 4"), "{m}");
    p.groups = 0;
    assert!(p.validate().unwrap_err().to_string().contains("groups = 0"));
}

#[test]
fn algorithm_refuses_shapes_it_does_not_handle() {
    let w = vec![0.0; 288];
    let e = Conv2d::with(Isa::Scalar, Algorithm::Pointwise, &params(), &w, None).unwrap_err();
    assert!(e.to_string().contains("1x1"), "{e}");
    let e = Conv2d::with(Isa::Scalar, Algorithm::Factorized, &params(), &w, None).unwrap_err();
    assert!(e.to_string().contains("1xk"), "{e}");
}

#[test]
fn wrong_residual_or_bias_is_an_error() {
    let p = params();
    let (x, w) = (vec![0.5; 100], vec![0.1; 288]);
    let xv = TensorView::new(&x, Shape::new(1, 5, 5, 4)).unwrap();
    let mut y = vec![0.0; 200];
    let mut yv = TensorViewMut::new(&mut y, Shape::new(1, 5, 5, 8)).unwrap();
    let e = conv2d_direct(&p, &xv, &w, Some(&[0.0; 7]), &mut yv, &Epilogue::default()).unwrap_err();
    assert!(e.to_string().contains("bias") && e.to_string().contains('7'), "{e}");
    let r = vec![0.0; 100];
    let residual = TensorView::new(&r, Shape::new(1, 5, 5, 4)).unwrap();
    let epilogue = Epilogue { residual: Some(residual), ..Epilogue::default() };
    let e = conv2d_direct(&p, &xv, &w, None, &mut yv, &epilogue).unwrap_err();
    assert!(e.to_string().contains("residual"), "{e}");
}

#[test]
fn direct_needs_no_workspace() {
    let p = params();
    let conv = Conv2d::with(Isa::Scalar, Algorithm::Direct, &p, &[0.0; 288], None).unwrap();
    let x = vec![0.5; 100];
    let xv = TensorView::new(&x, Shape::new(1, 5, 5, 4)).unwrap();
    let mut y = vec![0.0; 200];
    let mut yv = TensorViewMut::new(&mut y, Shape::new(1, 5, 5, 8)).unwrap();
    // Direct needs no workspace: an empty one is fine.
    assert!(conv.run(&xv, &mut yv, &Epilogue::default(), &mut []).is_ok());
}
