//! criterion benches of every layer of the table, per algorithm and ISA, named
//! `layer/algorithm/isa`, with `Throughput::Elements(flops)`: criterion's `Gelem/s` is GFLOP/s.
//!
//! `cargo bench -p lineage-bench -- resnet50` runs a subset; `LINEAGE_BENCH_ISA=scalar,avx2`
//! chooses the ISAs (default: every available one but scalar). Single-threaded and timed on this
//! thread's CPU time, like `kernels-report`, so other processes on a shared machine do not count.

use std::hint::black_box;
use std::time::Duration;

use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use lineage_bench::clock::Clock;
use lineage_bench::{isa_list, ConvCase, LAYERS};
use lineage_kernels::Algorithm;

/// criterion measurement on [`Clock::single_thread`] (thread CPU time where the OS has it).
/// Values are nanoseconds, as criterion's wall time, so its formatter applies unchanged.
struct SingleThreadTime {
    clock: Clock,
    wall: WallTime,
}

impl Measurement for SingleThreadTime {
    type Intermediate = Duration;
    type Value = Duration;

    fn start(&self) -> Duration {
        self.clock.now()
    }
    fn end(&self, start: Duration) -> Duration {
        self.clock.now().saturating_sub(start)
    }
    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }
    fn zero(&self) -> Duration {
        Duration::ZERO
    }
    fn to_f64(&self, value: &Duration) -> f64 {
        value.as_nanos() as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        self.wall.formatter()
    }
}

fn kernels(c: &mut Criterion<SingleThreadTime>) {
    let spec = std::env::var("LINEAGE_BENCH_ISA").ok();
    let isas = isa_list(spec.as_deref()).unwrap_or_else(|e| panic!("LINEAGE_BENCH_ISA: {e}"));
    // This thread is the pool's only worker, so the convolutions run on the thread whose CPU
    // time is measured (install from a worker of the pool runs inline).
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .use_current_thread()
        .build()
        .expect("one-thread pool on the bench thread");
    for layer in LAYERS {
        let mut group = c.benchmark_group(layer.name);
        // Flat sampling: the large layers take tens of ms per run, too long for linear sampling.
        group.sampling_mode(SamplingMode::Flat).sample_size(10);
        group.warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
        for &algorithm in Algorithm::ALL.iter().filter(|a| a.supports(&layer.params).is_ok()) {
            for &isa in &isas {
                let mut case = ConvCase::new(layer, isa, algorithm)
                    .unwrap_or_else(|e| panic!("{} {algorithm:?} {isa:?}: {e}", layer.name));
                group.throughput(Throughput::Elements(case.flops()));
                group.bench_function(format!("{}/{}", algorithm.name(), isa.name()), |b| {
                    b.iter(|| {
                        pool.install(|| case.run()).expect("packed convolution runs");
                        black_box(case.output());
                    })
                });
            }
        }
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .with_measurement(SingleThreadTime { clock: Clock::single_thread(), wall: WallTime });
    targets = kernels
}
criterion_main!(benches);
