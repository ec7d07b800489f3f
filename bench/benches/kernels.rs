//! criterion benches of every layer of the table, per algorithm and ISA, named
//! `layer/algorithm/isa` with FLOP throughput (criterion prints it as GFLOP/s... as Gelem/s).
//!
//! `cargo bench -p lineage-bench -- resnet50` runs a subset; `LINEAGE_BENCH_ISA=scalar,avx2`
//! chooses the ISAs (default: every available one but scalar). Single-threaded, like the report.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use lineage_bench::{isa_list, ConvCase, ALGORITHMS, LAYERS};

fn kernels(c: &mut Criterion) {
    let spec = std::env::var("LINEAGE_BENCH_ISA").ok();
    let isas = isa_list(spec.as_deref()).unwrap_or_else(|e| panic!("LINEAGE_BENCH_ISA: {e}"));
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().expect("one-thread pool");
    for layer in LAYERS {
        let mut group = c.benchmark_group(layer.name);
        // Flat sampling: the large layers take tens of ms per run, too long for linear sampling.
        group.sampling_mode(SamplingMode::Flat).sample_size(10);
        group.warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
        for &algorithm in ALGORITHMS.iter().filter(|a| a.supports(&layer.params).is_ok()) {
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

criterion_group!(benches, kernels);
criterion_main!(benches);
