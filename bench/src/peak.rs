//! The peak-FMA probe: the single-thread f32 FLOP rate this core reaches on independent fused
//! multiply-adds with no memory traffic, the 100% that every kernel figure is a share of.

use std::hint::black_box;
use std::time::Duration;

use lineage_kernels::{Isa, KernelError};
use pulp::{Simd, WithSimd};

use crate::clock::Clock;

/// Target length of one timed repetition: long enough to swamp timer and frequency-ramp noise.
const REP_TARGET: Duration = Duration::from_millis(30);
/// Timed repetitions; the best one is reported (noise only ever makes a run slower).
const REPS: usize = 7;
/// Loop trips of the calibration run (about a millisecond at 100 GFLOP/s).
const CALIBRATION_ITERS: u64 = 1 << 16;

/// `CHAINS` independent `acc = acc * a + b` chains, `iters` steps each. Every step of a chain
/// waits for the previous one (FMA latency 4-5 cycles), so saturating two FMA ports takes
/// latency x ports = 8-10 chains in flight.
struct FmaChains<const CHAINS: usize> {
    iters: u64,
}

impl<const CHAINS: usize> WithSimd for FmaChains<CHAINS> {
    type Output = f32;

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) -> f32 {
        // a < 1 and b > 0 keep every chain at a normal number near b / (1 - a): no overflow,
        // no denormals. black_box hides the values so nothing is folded at compile time.
        let a = simd.splat_f32s(black_box(0.999_9));
        let b = simd.splat_f32s(black_box(1e-3));
        let mut acc: [S::f32s; CHAINS] = core::array::from_fn(|i| simd.splat_f32s(i as f32));
        for _ in 0..self.iters {
            for v in acc.iter_mut() {
                *v = simd.mul_add_f32s(*v, a, b);
            }
        }
        acc.iter().map(|&v| simd.reduce_sum_f32s(v)).sum()
    }
}

/// Runs `iters` steps of the chains on `isa`, returns the elapsed time and the FLOPs done.
fn run_chains(isa: Isa, iters: u64) -> Result<(Duration, f64), KernelError> {
    // Register budget: the chains plus `a` and `b`. 16 vector registers on AVX2 (pulp's scalar
    // token just reuses that); AVX2-as-512 holds each vector in two of them, so half the chains;
    // 32 on AVX-512 and NEON, whose cores may have up to 4 FMA pipes: 24 chains cover
    // latency 4-6 x 4 pipes without spilling.
    match isa {
        Isa::Scalar | Isa::Avx2 => timed::<12>(isa, iters),
        Isa::Avx2As512 => timed::<6>(isa, iters),
        Isa::Avx512 | Isa::Neon => timed::<24>(isa, iters),
    }
}

fn timed<const CHAINS: usize>(isa: Isa, iters: u64) -> Result<(Duration, f64), KernelError> {
    let clock = Clock::single_thread();
    let start = clock.now();
    let sum = isa.dispatch(FmaChains::<CHAINS> { iters })?;
    let elapsed = clock.now() - start;
    black_box(sum);
    let flops = 2.0 * (iters as f64) * (CHAINS as f64) * (isa.lanes() as f64);
    Ok((elapsed, flops))
}

/// Single-thread peak f32 GFLOP/s of `isa` on this machine: the best of several ~30 ms runs,
/// timed on [`Clock::single_thread`].
/// An error if the ISA cannot run here.
pub fn peak_gflops(isa: Isa) -> Result<f64, KernelError> {
    isa.ensure_available()?;
    let (calibration, _) = run_chains(isa, CALIBRATION_ITERS)?;
    let scale = REP_TARGET.as_secs_f64() / calibration.as_secs_f64().max(1e-9);
    let iters = ((CALIBRATION_ITERS as f64) * scale).clamp(CALIBRATION_ITERS as f64, 1e10) as u64;
    let mut best = 0.0f64;
    for _ in 0..REPS {
        let (elapsed, flops) = run_chains(isa, iters)?;
        best = best.max(flops / elapsed.as_secs_f64().max(1e-9) / 1e9);
    }
    Ok(best)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chains_compute_the_affine_recurrence() {
        // One chain from 0 after 2 steps: (0 * a + b) * a + b, summed over the lanes.
        let isa = Isa::detect();
        let got = isa.dispatch(FmaChains::<1> { iters: 2 }).unwrap();
        let (a, b) = (0.999_9f32, 1e-3f32);
        let want = (b * a + b) * isa.lanes() as f32;
        assert!((got - want).abs() <= 1e-6 * want.abs(), "got {got}, want {want}");
    }

    #[test]
    fn unavailable_isa_is_an_error_not_a_crash() {
        for isa in [Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Neon, Isa::Avx2As512] {
            if !Isa::test_targets().contains(&isa) {
                let err = peak_gflops(isa).unwrap_err();
                assert!(err.to_string().contains(isa.name()), "{err}");
            }
        }
    }
}
