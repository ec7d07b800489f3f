//! Direct, pointwise and factorized convolutions against the f64 reference, on every ISA.

use lineage_kernels::testing::{check_close, conv_problems, ConvProblem, ConvSpace};
use lineage_kernels::{Algorithm, Conv2d, Isa};
use proptest::prelude::*;

/// Tolerances of the implicit-GEMM kernels: f32 accumulation over at most ~1000 products of
/// values in -1..1 stays within these.
const ATOL: f64 = 1e-4;
const RTOL: f64 = 1e-4;
/// The products per output [`ATOL`] is stated for.
const ATOL_PRODUCTS: usize = 1000;

/// [`ATOL`] for `problem`: the rounding error of a sum of `k` products of random sign grows as
/// `sqrt(k)`, so longer sums (the K-chunk property's 150-520 channels x 3x3-5x5 taps) get the
/// same per-product bound. 256 cases found a scalar sum of 401 x 25 products 1.35e-4 off (its
/// terms sum to about 33 in magnitude; the value itself was 0.26): rounding, not a bug.
fn atol(problem: &ConvProblem) -> f64 {
    let p = &problem.params;
    let k = p.c_in / p.groups * p.kh * p.kw;
    ATOL * (k as f64 / ATOL_PRODUCTS as f64).sqrt().max(1.0)
}

fn check(algorithm: Algorithm, problem: &ConvProblem) -> Result<(), TestCaseError> {
    let want = problem.reference(&problem.data().unwrap()).unwrap();
    for isa in Isa::test_targets() {
        let mut data = problem.data().unwrap();
        let got = problem
            .run(&mut data, |x, w, b, y, e| {
                Conv2d::with(isa, algorithm, &problem.params, w, b)?.run_alloc(x, y, e)
            })
            .map_err(|e| TestCaseError::fail(format!("{isa:?}: {e}")))?;
        check_close(&got, &want, atol(problem), RTOL)
            .map_err(|e| TestCaseError::fail(format!("{isa:?} {algorithm:?}: {e}")))?;
        prop_assert!(problem.margins_untouched(&data), "{isa:?}: wrote outside the output view");
    }
    Ok(())
}

proptest! {
    #![proptest_config(lineage_kernels::testing::proptest_config(lineage_kernels::testing::CASES))]

    /// Enough input channels that the packed K dimension splits into several L2 chunks.
    #[test]
    fn direct_with_k_chunks_matches_reference(problem in conv_problems(ConvSpace {
        batch: 1..=1, c_in_per_group: 150..=520, c_out_per_group: 1..=40, kh: 3..=5, kw: 3..=5,
        hw: 1..=6, ..ConvSpace::default()
    })) {
        check(Algorithm::Direct, &problem)?;
    }

    #[test]
    fn direct_matches_reference(problem in conv_problems(ConvSpace::default())) {
        check(Algorithm::Direct, &problem)?;
    }

    #[test]
    fn pointwise_matches_reference(problem in conv_problems(ConvSpace {
        kh: 1..=1, kw: 1..=1, pad: 0..=0, dilation: 1..=1, c_in_per_group: 1..=300, ..ConvSpace::default()
    })) {
        check(Algorithm::Pointwise, &problem)?;
    }

    #[test]
    fn factorized_1xk_matches_reference(problem in conv_problems(ConvSpace {
        kh: 1..=1, kw: 2..=7, ..ConvSpace::default()
    })) {
        check(Algorithm::Factorized, &problem)?;
    }

    #[test]
    fn factorized_kx1_matches_reference(problem in conv_problems(ConvSpace {
        kh: 2..=7, kw: 1..=1, ..ConvSpace::default()
    })) {
        check(Algorithm::Factorized, &problem)?;
    }
}
