//! Steady-state runs allocate nothing, and the output is bitwise identical for any thread count.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use common::random_input;
use lineage_kernels::Shape;
use lineage_nets::{models, Input, Plan, PlanOptions, Threads, Weights, Workspace};

/// Counts the allocations of the threads that run lineage: the test's own thread and the
/// workspaces' rayon workers. The test harness's main thread is left out: it allocates on its
/// own schedule (e.g. its "running for over 60 seconds" notice, seen under qemu).
struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static COUNTED: Cell<bool> = const { Cell::new(false) };
}

fn count() {
    if COUNTED.get() {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
    }
}

// SAFETY: forwards to the system allocator unchanged; only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Steady-state runs counted per case and call site. Every run is the same work, so an
/// allocation of lineage's in a run shows as at least this many.
const RUNS: usize = 8;

/// The count is process-wide, so the tests of this file take turns.
static SERIAL: Mutex<()> = Mutex::new(());

fn logits(plan: &Plan, ws: &mut Workspace, x: &[f32]) -> Vec<f32> {
    plan.run(Input::Nchw(x), ws).unwrap().data()[..plan.output_shape().c].to_vec()
}

/// MobileNet v2 at 160x160: its second block's 96-channel expansion (80x80, 2.4 MB) runs as a
/// band chain, which the checks below then cover too. Each keeps intermediate activations
/// (the band chain's output among them), which must not cost an allocation either.
fn models_to_check() -> Vec<(&'static str, Shape, [&'static str; 2])> {
    vec![
        ("resnet50", Shape::new(1, 64, 64, 3), ["layer2.0.conv2", "layer3"]),
        ("mobilenet_v2", Shape::new(1, 160, 160, 3), ["features.1", "features.2"]),
    ]
}

fn plans() -> Vec<Plan> {
    models_to_check()
        .into_iter()
        .map(|(name, shape, kept)| {
            let net = models::by_name(name).unwrap();
            let options = PlanOptions { outputs: kept.map(String::from).to_vec(), ..PlanOptions::default() };
            let plan = Plan::with_options(&net, &Weights::random(&net, 3), shape, &options).unwrap();
            let banded = plan.steps().iter().any(|s| s.kind.starts_with("conv-band"));
            assert_eq!(banded, name == "mobilenet_v2", "{name}: band chains");
            plan
        })
        .collect()
}

#[test]
fn steady_state_runs_allocate_nothing() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    COUNTED.set(true);
    let plans = plans();
    // Every workspace (and its threads) exists before counting starts and is dropped after it
    // ends: thread start-up and shutdown allocate, on threads of their own.
    let mut cases = Vec::new();
    for plan in &plans {
        for threads in [1, 2] {
            let ws = Workspace::new(plan, Threads::Count(threads)).unwrap();
            ws.pool().broadcast(|_| COUNTED.set(true));
            cases.push((plan, threads, ws));
        }
    }
    for (plan, threads, ws) in &mut cases {
        let x = random_input(plan.input_shape(), 1);
        let pool = ws.pool();
        // Called from inside the pool: not a single allocation.
        let during = pool.install(|| {
            plan.run(Input::Nchw(&x), ws).unwrap();
            let before = ALLOCATIONS.load(Ordering::SeqCst);
            for _ in 0..RUNS {
                plan.run(Input::Nchw(&x), ws).unwrap();
            }
            ALLOCATIONS.load(Ordering::SeqCst) - before
        });
        assert_eq!(
            during,
            0,
            "{}: {during} allocations in runs 2..={} on {threads} thread(s)",
            plan.name(),
            RUNS + 1
        );
        // Called from outside: each call injects one job into rayon's queue, which allocates a
        // block per 63 jobs (at most one in these runs); nothing else allocates.
        let before = ALLOCATIONS.load(Ordering::SeqCst);
        for _ in 0..RUNS {
            plan.run(Input::Nchw(&x), ws).unwrap();
        }
        let during = ALLOCATIONS.load(Ordering::SeqCst) - before;
        assert!(
            during <= RUNS.div_ceil(63),
            "{}: {during} allocations in {RUNS} runs from outside the pool",
            plan.name()
        );
    }
}

#[test]
fn output_is_bitwise_identical_for_any_thread_count() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    for plan in plans() {
        let x = random_input(plan.input_shape(), 2);
        let reference = logits(&plan, &mut Workspace::new(&plan, Threads::Count(1)).unwrap(), &x);
        assert!(reference.iter().any(|&v| v != reference[0]), "degenerate logits");
        for threads in [2, 3, 4] {
            let mut ws = Workspace::new(&plan, Threads::Count(threads)).unwrap();
            assert_eq!(logits(&plan, &mut ws, &x), reference, "{} on {threads} threads", plan.name());
        }
    }
}
