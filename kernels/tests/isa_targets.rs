//! The ISAs the property tests loop over are the ones the CPU has, and dispatching to one runs
//! its vector width: a silent fall-back to scalar (a missing `cfg`, a failed feature
//! detection) would otherwise let every kernel test pass on the scalar path alone.

use lineage_kernels::Isa;

/// The f32 lanes of the pulp token an ISA dispatches to.
struct TokenLanes;

impl pulp::WithSimd for TokenLanes {
    type Output = usize;

    fn with_simd<S: pulp::Simd>(self, _simd: S) -> usize {
        S::F32_LANES
    }
}

#[test]
fn every_test_target_dispatches_to_its_own_vector_width() {
    for isa in Isa::test_targets() {
        let lanes = isa.dispatch(TokenLanes).unwrap();
        assert_eq!(lanes, isa.lanes(), "{} dispatched to a {lanes}-lane token", isa.name());
    }
}

#[cfg(target_arch = "aarch64")]
#[test]
fn aarch64_tests_run_neon() {
    assert!(Isa::available().contains(&Isa::Neon), "NEON missing: {:?}", Isa::available());
    assert!(Isa::test_targets().contains(&Isa::Neon), "tests skip NEON: {:?}", Isa::test_targets());
    assert_eq!(Isa::detect(), Isa::Neon);
}

#[cfg(target_arch = "x86_64")]
#[test]
fn x86_tests_run_every_isa_the_cpu_reports() {
    let targets = Isa::test_targets();
    if std::env::var_os(lineage_kernels::isa::ISA_ENV).is_none() {
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
            assert!(targets.contains(&Isa::Avx2), "tests skip AVX2: {targets:?}");
        }
        if std::arch::is_x86_feature_detected!("avx512f") {
            assert!(targets.contains(&Isa::Avx512), "tests skip AVX-512: {targets:?}");
        }
    }
    assert!(targets.contains(&Isa::Scalar));
}
