//! Measuring one model: its introspection (depth, parameters, MACs, receptive field), its plan
//! (arena bytes, the conv algorithms chosen) and its latency at each thread count.

use std::time::Duration;

use lineage_kernels::Shape;
use lineage_nets::{models, Input, NormalRng, Plan, PlanOptions, Result, Threads, Weights, Workspace};

use crate::clock::Clock;
use crate::zoo::catalog::{family_of, Family};

/// Seed of the random weights (timing does not depend on their values).
pub(crate) const WEIGHT_SEED: u64 = 42;

/// How many timed runs one figure gets.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Runs {
    /// Exactly this many.
    Fixed(usize),
    /// As many as fit `time` (estimated from the warm-up run), within `min..=max`.
    Budget { time: Duration, min: usize, max: usize },
}

impl Runs {
    /// Runs that fit for an operation that took `estimate` once.
    pub fn count(self, estimate: Duration) -> usize {
        match self {
            Runs::Fixed(n) => n.max(1),
            Runs::Budget { time, min, max } => {
                let fit = time.as_secs_f64() / estimate.as_secs_f64().max(1e-9);
                (fit as usize).clamp(min.max(1), max.max(min.max(1)))
            }
        }
    }

    /// The most runs a figure can get (what a light model gets).
    pub fn most(self) -> usize {
        match self {
            Runs::Fixed(n) => n.max(1),
            Runs::Budget { min, max, .. } => max.max(min.max(1)),
        }
    }
}

/// Latency of one model at one thread count.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Timing {
    pub threads: usize,
    pub clock: Clock,
    pub runs: usize,
    pub median: Duration,
    /// Nearest-rank 99th percentile: the slowest run when there are fewer than 100.
    pub p99: Duration,
    /// The fastest run: on a machine whose speed comes and goes in phases, the least
    /// disturbed one.
    pub best: Duration,
}

/// A model described and planned, ready to be timed.
pub struct Model {
    pub name: String,
    pub family: &'static Family,
    pub input_size: usize,
    /// Weighted layers: convolutions and fully connected layers.
    pub depth: usize,
    pub params: usize,
    pub macs: u64,
    /// Receptive field (input rows) of one output pixel of the last convolution.
    pub receptive_field: usize,
    pub arena_bytes: usize,
    /// The conv algorithms the planner chose and how many convolutions each runs, most first.
    pub algorithms: Vec<(&'static str, usize)>,
    pub plan: Plan,
    input: Vec<f32>,
}

impl Model {
    /// Builds `name` with random weights at its family's input size, batch 1, and plans it
    /// with the default options.
    pub fn new(name: &str) -> Result<Model> {
        Model::with_options(name, &PlanOptions::default())
    }

    /// [`Model::new`] planned with `options` (e.g. `exact`).
    pub fn with_options(name: &str, options: &PlanOptions) -> Result<Model> {
        let net = models::by_name(name)?;
        let family = family_of(name).ok_or_else(|| {
            lineage_nets::NetError::Graph(format!("model {name:?} belongs to no family of the case study"))
        })?;
        let size = family.input_size;
        let shape = Shape::new(1, size, size, 3);
        let summary = net.summary(shape)?;
        let is_conv = |kind: &str| matches!(kind, "conv" | "dwconv" | "gconv");
        let depth = summary.layers.iter().filter(|l| is_conv(l.kind) || l.kind == "linear").count();
        let receptive_field =
            summary.layers.iter().rev().find(|l| is_conv(l.kind)).map_or(0, |l| l.receptive_field);
        let plan = Plan::from_weights_with(&net, Weights::random(&net, WEIGHT_SEED), shape, options)?;
        let mut rng = NormalRng::new(7);
        let input = (0..3 * size * size).map(|_| rng.next_normal() as f32).collect();
        Ok(Model {
            name: name.to_string(),
            family,
            input_size: size,
            depth,
            params: summary.total_params,
            macs: summary.total_macs,
            receptive_field,
            arena_bytes: plan.arena_bytes(),
            algorithms: algorithm_counts(plan.steps().iter().filter_map(|s| s.algorithm)),
            plan,
            input,
        })
    }

    /// One batch-1 run on the random input, in `ws` (made for this model's plan).
    pub fn run(&self, ws: &mut Workspace) -> Result<()> {
        self.plan.run(Input::Nchw(&self.input), ws).map(|_| ())
    }

    /// Times one batch-1 run at `threads` threads: thread CPU time for one thread (the whole
    /// run happens on the pool's single worker, where the clock is read), wall time otherwise.
    pub fn time(&self, threads: usize, runs: Runs) -> Result<Timing> {
        let clock = if threads == 1 { Clock::single_thread() } else { Clock::Wall };
        let mut ws = Workspace::new(&self.plan, Threads::Count(threads))?;
        let pool = ws.pool();
        // Inside the pool, `Plan::run` runs inline on this worker: nothing is injected, and
        // with one thread every kernel runs on the thread whose CPU time is read.
        let mut times = pool.install(|| -> Result<Vec<Duration>> {
            let start = clock.now();
            self.run(&mut ws)?;
            let n = runs.count(clock.now() - start);
            (0..n)
                .map(|_| {
                    let start = clock.now();
                    self.run(&mut ws)?;
                    Ok(clock.now() - start)
                })
                .collect()
        })?;
        times.sort_unstable();
        Ok(Timing {
            threads,
            clock,
            runs: times.len(),
            median: times[times.len() / 2],
            p99: nearest_rank(&times, 0.99),
            best: times[0],
        })
    }

    /// Wall seconds per step over `runs` profiled runs at `threads` threads, in step order.
    pub fn profile(&self, threads: usize, runs: usize) -> Result<Vec<f64>> {
        let mut ws = Workspace::new(&self.plan, Threads::Count(threads))?;
        let mut seconds = vec![0.0; self.plan.steps().len()];
        let pool = ws.pool();
        pool.install(|| -> Result<()> {
            self.run(&mut ws)?;
            for _ in 0..runs.max(1) {
                self.plan.run_profiled(Input::Nchw(&self.input), &mut ws, &mut seconds)?;
            }
            Ok(())
        })?;
        seconds.iter_mut().for_each(|s| *s /= runs.max(1) as f64);
        Ok(seconds)
    }
}

/// How often each algorithm occurs, most frequent first (ties by name).
pub fn algorithm_counts(algorithms: impl Iterator<Item = &'static str>) -> Vec<(&'static str, usize)> {
    let mut counts: Vec<(&'static str, usize)> = Vec::new();
    for a in algorithms {
        match counts.iter_mut().find(|(name, _)| *name == a) {
            Some((_, n)) => *n += 1,
            None => counts.push((a, 1)),
        }
    }
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    counts
}

/// The nearest-rank `q` quantile of ascending `sorted` (non-empty): the smallest sample with at
/// least a share `q` of the samples at or below it.
pub fn nearest_rank(sorted: &[Duration], q: f64) -> Duration {
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_is_the_slowest_run_below_100_runs() {
        let ms = |v: &[u64]| v.iter().map(|&m| Duration::from_millis(m)).collect::<Vec<_>>();
        assert_eq!(nearest_rank(&ms(&[1, 2, 3, 40]), 0.99), Duration::from_millis(40));
        let hundred: Vec<u64> = (1..=100).collect();
        assert_eq!(nearest_rank(&ms(&hundred), 0.99), Duration::from_millis(99));
        assert_eq!(nearest_rank(&ms(&hundred), 0.5), Duration::from_millis(50));
        assert_eq!(nearest_rank(&ms(&[7]), 0.99), Duration::from_millis(7));
    }

    #[test]
    fn budget_trades_runs_for_time_within_bounds() {
        let budget = Runs::Budget { time: Duration::from_secs(3), min: 5, max: 30 };
        assert_eq!(budget.count(Duration::from_millis(10)), 30);
        assert_eq!(budget.count(Duration::from_millis(200)), 15);
        assert_eq!(budget.count(Duration::from_secs(2)), 5);
        assert_eq!(Runs::Fixed(4).count(Duration::from_secs(9)), 4);
        assert_eq!(budget.most(), 30);
    }

    #[test]
    fn algorithm_counts_are_sorted_by_count_then_name() {
        let got = algorithm_counts(
            ["direct", "pointwise", "pointwise", "depthwise", "direct", "pointwise"].into_iter(),
        );
        assert_eq!(got, vec![("pointwise", 3), ("direct", 2), ("depthwise", 1)]);
    }

    #[test]
    fn a_small_model_is_described_like_its_paper() {
        // MobileNet v1 at 224: 28 weighted layers (27 convolutions and the classifier),
        // 4.23 M parameters and 569 M MACs (the paper's Table 1 and the PyTorch hook count).
        let m = Model::new("mobilenet_v1").unwrap();
        assert_eq!(m.depth, 28);
        assert_eq!(m.input_size, 224);
        assert!((m.params as f64 / 1e6 - 4.23).abs() < 0.01, "{}", m.params);
        assert!((m.macs as f64 / 1e6 - 569.0).abs() < 2.0, "{}", m.macs);
        // A banded step runs a depthwise and a pointwise convolution (v1 has no expansions).
        let banded = m.algorithms.iter().find(|a| a.0 == "banded").map_or(0, |a| a.1);
        assert_eq!(m.algorithms.iter().map(|a| a.1).sum::<usize>() + banded, 27);
        let t = m.time(1, Runs::Fixed(3)).unwrap();
        assert_eq!((t.threads, t.runs), (1, 3));
        assert!(t.p99 >= t.median && t.median >= t.best);
        assert_eq!(m.profile(1, 1).unwrap().len(), m.plan.steps().len());
    }
}
