//! criterion benches of the nets: the batch-1 latency of every family's default model at one
//! thread and at all threads, and every distinct conv layer shape of those models per algorithm
//! that supports it and per ISA. Named `family/model/net/threads` and
//! `family/model/layer/algorithm/isa`, with `Throughput::Elements(flops)` (criterion's Gelem/s
//! is GFLOP/s, 2 per MAC). `FC/alexnet-classifier/batch-N` times AlexNet's fully connected
//! layers alone at batch 1, 4 and 16 on one thread: batch-N time / (N x batch-1 time) is what
//! one N-row product saves over N single-image passes (`cargo bench ... -- FC/`).
//!
//! `cargo bench -p lineage-bench --bench nets -- ResNet/` runs one family, `-- /avx2` one ISA,
//! `-- /net/` the whole nets only. `LINEAGE_BENCH_ISA=scalar,avx2` chooses the ISAs (default:
//! every available one but scalar). One thread is timed on this thread's CPU time (the shared
//! machine's other processes do not count), more threads on wall time. Models and layers are
//! built only when their bench runs, so a filter also saves the planning.

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, SamplingMode, Throughput};
use lineage_bench::clock::Clock;
use lineage_bench::zoo::catalog::FAMILIES;
use lineage_bench::zoo::measure::Model;
use lineage_bench::{isa_list, ConvCase, Layer};
use lineage_kernels::{Algorithm, Conv2dParams, Shape};
use lineage_nets::{models, Input, NetBuilder, Op, Plan, Threads, Weights, Workspace};
use rayon::ThreadPool;

fn nets(c: &mut Criterion) {
    let spec = std::env::var("LINEAGE_BENCH_ISA").ok();
    let isas = isa_list(spec.as_deref()).unwrap_or_else(|e| panic!("LINEAGE_BENCH_ISA: {e}"));
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    // This thread as the only worker: one-thread runs happen inline here, where the CPU clock
    // is read.
    let here = Arc::new(
        rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .use_current_thread()
            .build()
            .expect("one-thread pool on the bench thread"),
    );
    let mut seen: Vec<(Conv2dParams, Shape)> = Vec::new();
    for family in &FAMILIES {
        let name = family.default_model;
        let size = family.input_size;
        let net = models::by_name(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        let input = Shape::new(1, size, size, 3);
        let macs = net.summary(input).unwrap_or_else(|e| panic!("{name}: {e}")).total_macs;
        let mut group = c.benchmark_group(format!("{}/{name}", family.name.replace(' ', "-")));
        // Flat sampling and few samples: a VGG-16 run takes most of a second.
        group.sampling_mode(SamplingMode::Flat).sample_size(10);
        group.warm_up_time(Duration::from_millis(300)).measurement_time(Duration::from_secs(2));

        let mut model: Option<Model> = None;
        for threads in if cores > 1 { vec![1, cores] } else { vec![1] } {
            group.throughput(Throughput::Elements(2 * macs));
            // criterion calls the routine once per phase: plan and start the threads only once.
            let mut workspace: Option<Workspace> = None;
            group.bench_function(format!("net/{threads}-thread"), |b| {
                let m =
                    model.get_or_insert_with(|| Model::new(name).unwrap_or_else(|e| panic!("{name}: {e}")));
                let ws = workspace.get_or_insert_with(|| {
                    let pool =
                        if threads == 1 { Threads::Pool(Arc::clone(&here)) } else { Threads::Count(threads) };
                    Workspace::new(&m.plan, pool).expect("workspace")
                });
                b.iter_custom(|iters| timed(&here, threads, iters, || m.run(ws).expect("net runs")));
            });
        }
        drop(model);

        for layer in net.conv_layers(input).unwrap_or_else(|e| panic!("{name}: {e}")) {
            if seen.contains(&(layer.params, layer.input)) {
                continue;
            }
            seen.push((layer.params, layer.input));
            layer_benches(&mut group, &here, &isas, &layer.name, layer.params, layer.input);
        }
        group.finish();
    }
    classifier_batches(c, &here);
}

/// Batch sizes of the classifier benches.
const FC_BATCHES: [usize; 3] = [1, 4, 16];

/// AlexNet's classifier (its linears, 9216 -> 4096 -> 4096 -> 1000, with ReLU between; no
/// dropout at inference) as a network of its own, on random weights, timed per batch size on
/// this thread.
fn classifier_batches(c: &mut Criterion, here: &Arc<ThreadPool>) {
    let net = models::by_name("alexnet").expect("alexnet");
    let linears: Vec<(String, usize, usize)> = net
        .nodes()
        .iter()
        .filter_map(|n| match n.op() {
            Op::Linear { in_f, out_f, .. } => Some((n.name().to_string(), *in_f, *out_f)),
            _ => None,
        })
        .collect();
    let features = linears[0].1;
    let (mut b, x) = NetBuilder::new("alexnet-classifier", features).expect("builder");
    let mut y = x;
    for (i, (name, in_f, out_f)) in linears.iter().enumerate() {
        if i > 0 {
            y = b.activation(&format!("{name}.relu"), y, lineage_kernels::Activation::Relu).expect("relu");
        }
        y = b.linear(name, y, *in_f, *out_f, true).expect("linear");
    }
    let head = b.finish(y).expect("classifier");
    let macs: u64 = linears.iter().map(|(_, i, o)| (i * o) as u64).sum();
    let mut weights: Option<Weights> = None;
    let mut group = c.benchmark_group("FC/alexnet-classifier");
    group.sampling_mode(SamplingMode::Flat).sample_size(10);
    group.warm_up_time(Duration::from_millis(300)).measurement_time(Duration::from_secs(2));
    for batch in FC_BATCHES {
        group.throughput(Throughput::Elements(2 * macs * batch as u64));
        let mut case: Option<(Plan, Workspace, Vec<f32>)> = None;
        group.bench_function(format!("batch-{batch}/1-thread"), |bench| {
            let (plan, ws, x) = case.get_or_insert_with(|| {
                let w = weights.get_or_insert_with(|| Weights::random(&head, 1));
                let plan = Plan::new(&head, w, Shape::new(batch, 1, 1, features)).expect("plan");
                let ws = Workspace::new(&plan, Threads::Pool(Arc::clone(here))).expect("workspace");
                let x = (0..batch * features).map(|i| ((i % 29) as f32 - 14.0) * 0.05).collect();
                (plan, ws, x)
            });
            bench.iter_custom(|iters| {
                timed(here, 1, iters, || {
                    plan.run(Input::Nhwc(x), ws).expect("classifier runs");
                })
            });
        });
    }
    group.finish();
}

/// One bench per algorithm that supports the layer and per ISA, on this thread alone.
fn layer_benches(
    group: &mut BenchmarkGroup<'_, WallTime>,
    here: &Arc<ThreadPool>,
    isas: &[lineage_kernels::Isa],
    name: &str,
    params: Conv2dParams,
    input: Shape,
) {
    let p = &params;
    let id = format!(
        "{name}:{}x{}s{}g{}:{}to{}@{}x{}",
        p.kh, p.kw, p.stride_h, p.groups, p.c_in, p.c_out, input.h, input.w
    );
    let flops = 2 * p.macs(input).unwrap_or_else(|e| panic!("{id}: {e}"));
    for &algorithm in Algorithm::ALL.iter().filter(|a| a.supports(p).is_ok()) {
        for &isa in isas {
            group.throughput(Throughput::Elements(flops));
            let mut case: Option<ConvCase> = None;
            group.bench_function(format!("{id}/{}/{}", algorithm.name(), isa.name()), |b| {
                let case = case.get_or_insert_with(|| {
                    // ConvCase takes the static-named layers of the kernel table; a bench process
                    // can afford to keep this one name alive to its end.
                    let layer = Layer { name: Box::leak(id.clone().into_boxed_str()), params, input };
                    ConvCase::new(&layer, isa, algorithm).unwrap_or_else(|e| panic!("{id}: {e}"))
                });
                b.iter_custom(|iters| timed(here, 1, iters, || case.run().expect("convolution runs")));
            });
        }
    }
}

/// Time of `iters` calls of `op`: for one thread, this thread's CPU time with `op` run inside
/// the one-thread pool `here` (so nested rayon work stays on this thread); otherwise wall time.
fn timed(here: &ThreadPool, threads: usize, iters: u64, mut op: impl FnMut() + Send) -> Duration {
    if threads == 1 {
        let clock = Clock::single_thread();
        here.install(|| {
            let start = clock.now();
            for _ in 0..iters {
                op();
            }
            clock.now() - start
        })
    } else {
        let start = Instant::now();
        for _ in 0..iters {
            op();
        }
        start.elapsed()
    }
}

criterion_group!(benches, nets);
criterion_main!(benches);
