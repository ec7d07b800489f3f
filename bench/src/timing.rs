//! Timing of one repeated operation: a warm-up, then the median of as many runs as fit a time
//! budget (at least a few, so one slow outlier on a shared machine cannot set the figure).

use std::time::Duration;

use lineage_kernels::{KernelError, Result};

use crate::clock::Clock;

/// How many runs to time for one figure.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    /// Total time the timed runs should take, as estimated from the warm-up.
    pub time: Duration,
    pub min_runs: usize,
    pub max_runs: usize,
}

impl Default for Budget {
    /// About 0.4 s per figure: a 3.7 GFLOP layer gets its minimum of 3 runs, a small one 50.
    fn default() -> Self {
        Budget { time: Duration::from_millis(400), min_runs: 3, max_runs: 50 }
    }
}

/// The median of the timed runs and how many there were.
#[derive(Clone, Copy, Debug)]
pub struct Measurement {
    pub median: Duration,
    pub runs: usize,
}

impl Measurement {
    /// GFLOP/s of an operation of `flops` floating-point operations.
    pub fn gflops(&self, flops: u64) -> f64 {
        flops as f64 / self.median.as_secs_f64().max(1e-12) / 1e9
    }
}

/// Runs `op` once to warm caches and estimate its time, then times (on `clock`) the number of
/// runs that fits `budget` and returns their median. The first error of `op` is returned as is.
pub fn measure(clock: Clock, budget: Budget, mut op: impl FnMut() -> Result<()>) -> Result<Measurement> {
    if budget.min_runs == 0 || budget.max_runs < budget.min_runs {
        return Err(KernelError::InvalidParams(format!(
            "timing budget: need 1 <= min_runs ({}) <= max_runs ({})",
            budget.min_runs, budget.max_runs
        )));
    }
    let start = clock.now();
    op()?;
    let estimate = (clock.now() - start).as_secs_f64().max(1e-9);
    let fit = (budget.time.as_secs_f64() / estimate) as usize;
    let runs = fit.clamp(budget.min_runs, budget.max_runs);
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = clock.now();
        op()?;
        times.push(clock.now() - start);
    }
    times.sort_unstable();
    Ok(Measurement { median: times[runs / 2], runs })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_count_follows_the_budget_and_its_bounds() {
        let mut calls = 0;
        let budget = Budget { time: Duration::ZERO, min_runs: 3, max_runs: 10 };
        let m = measure(Clock::Wall, budget, || {
            calls += 1;
            Ok(())
        })
        .unwrap();
        // One warm-up plus the minimum, since a zero budget fits no run.
        assert_eq!((m.runs, calls), (3, 4));

        let mut calls = 0;
        let budget = Budget { time: Duration::from_secs(10), min_runs: 1, max_runs: 5 };
        let m = measure(Clock::Wall, budget, || {
            calls += 1;
            Ok(())
        })
        .unwrap();
        assert_eq!((m.runs, calls), (5, 6));
    }

    #[test]
    fn median_ignores_one_slow_run() {
        let mut n = 0;
        let budget = Budget { time: Duration::ZERO, min_runs: 3, max_runs: 3 };
        let m = measure(Clock::Wall, budget, || {
            n += 1;
            // The warm-up and the first timed run are slow; the median is one of the fast ones.
            if n <= 2 {
                std::thread::sleep(Duration::from_millis(50));
            }
            Ok(())
        })
        .unwrap();
        assert!(m.median < Duration::from_millis(25), "{:?}", m.median);
    }

    #[test]
    fn errors_are_passed_through_and_bad_budgets_rejected() {
        let err = KernelError::Unsupported("nope".into());
        assert_eq!(measure(Clock::Wall, Budget::default(), || Err(err.clone())).unwrap_err(), err);
        let bad = Budget { min_runs: 4, max_runs: 2, ..Budget::default() };
        assert!(measure(Clock::Wall, bad, || Ok(())).unwrap_err().to_string().contains("min_runs (4)"));
    }

    #[test]
    fn gflops_is_flops_over_seconds() {
        let m = Measurement { median: Duration::from_millis(2), runs: 1 };
        assert!((m.gflops(4_000_000_000) - 2000.0).abs() < 1e-9);
    }
}
