//! `conv_differential`: arbitrary bounded convolution parameters and data; every algorithm that
//! accepts them, on every ISA the machine can test, equals the reference within its stated
//! tolerance, and parameters that are invalid are an error, never a panic.

use lineage_kernels::testing::{check_close, ConvProblem};
use lineage_kernels::{Activation, Algorithm, Conv2d, Conv2dParams, Isa, Padding, Shape};

use crate::bytes::Bytes;

/// Decodes a problem. About one in eight is deliberately out of range (zero sizes, groups that
/// do not divide, kernels larger than the padded input) to exercise the error paths. A
/// trailing byte of 224 or more turns a valid problem into a depthwise one of 200-320 channels
/// on up to 24 x 24 pixels, which reaches the depthwise kernel's staged path (256+ channels).
fn decode(data: &[u8]) -> ConvProblem {
    let mut b = Bytes::new(data);
    let wild = b.byte() < 32;
    let lo = if wild { 0 } else { 1 };
    let groups = b.range(lo.max(1), 4);
    let params = Conv2dParams {
        c_in: b.range(lo, 12) * groups,
        c_out: b.range(lo, 20) * groups,
        kh: b.range(lo, 5),
        kw: b.range(lo, 5),
        stride_h: b.range(lo, 3),
        stride_w: b.range(lo, 3),
        pad: Padding { top: b.range(0, 3), left: b.range(0, 3), bottom: b.range(0, 3), right: b.range(0, 3) },
        dilation_h: b.range(lo, 2),
        dilation_w: b.range(lo, 2),
        groups: if wild { b.range(0, 5) } else { groups },
    };
    let input_shape = Shape::new(b.range(1, 2), b.range(lo, 12), b.range(lo, 12), params.c_in);
    let mut problem = ConvProblem {
        params,
        input_shape,
        input_margin: (b.range(0, 3), b.range(0, 3)),
        output_margin: (b.range(0, 3), b.range(0, 3)),
        activation: [Activation::None, Activation::Relu, Activation::Relu6][b.range(0, 2)],
        with_bias: b.flag(),
        with_residual: b.flag(),
        seed: b.u64(),
    };
    if b.byte() >= 224 && !wild {
        let c = b.range(200, 320);
        problem.params = Conv2dParams { c_in: c, c_out: c, groups: c, ..problem.params };
        problem.input_shape = Shape::new(input_shape.n, b.range(1, 24), b.range(1, 24), c);
    }
    problem
}

/// `(atol, rtol)` of each algorithm, as its own test file states.
fn tolerance(algorithm: Algorithm) -> (f64, f64) {
    match algorithm {
        Algorithm::Direct
        | Algorithm::Pointwise
        | Algorithm::Factorized
        | Algorithm::Depthwise
        | Algorithm::Grouped => (1e-4, 1e-4),
        // Winograd's error grows with the transform's magnitudes: as stated in
        // kernels/tests/winograd.rs, relative to the output's scale.
        Algorithm::Winograd2x2
        | Algorithm::Winograd4x4
        | Algorithm::GroupedWinograd2x2
        | Algorithm::GroupedWinograd4x4 => (2e-4, 2e-4),
    }
}

/// The fuzz target body: panics (a finding) on a mismatch or on a panic inside the kernels.
pub fn conv_differential(data: &[u8]) {
    let problem = decode(data);
    let Ok(reference_data) = problem.data() else {
        // Invalid problems must be refused by the kernels too.
        for algorithm in Algorithm::ALL {
            let weights = vec![0.0; 1];
            assert!(Conv2d::with(Isa::Scalar, algorithm, &problem.params, &weights, None)
                .and_then(|c| c.workspace_len(problem.input_shape))
                .is_err());
        }
        return;
    };
    let want = problem.reference(&reference_data).expect("the reference accepts what data() accepted");
    for algorithm in Algorithm::ALL {
        if algorithm.supports(&problem.params).is_err() {
            continue;
        }
        let (atol, rtol) = tolerance(algorithm);
        for isa in Isa::test_targets() {
            let mut data = problem.data().expect("data() succeeded above");
            let got = problem
                .run(&mut data, |x, w, b, y, e| {
                    Conv2d::with(isa, algorithm, &problem.params, w, b)?.run_alloc(x, y, e)
                })
                .unwrap_or_else(|e| panic!("{algorithm:?} on {isa:?} refused a supported problem: {e}"));
            if let Err(e) = check_close(&got, &want, atol, rtol) {
                panic!("{algorithm:?} on {isa:?} differs from the reference: {e}\n{problem:?}");
            }
            assert!(problem.margins_untouched(&data), "{algorithm:?} on {isa:?} wrote outside its view");
        }
    }
}
