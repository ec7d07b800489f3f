//! Bounded resources: a thread count, an input size or a planned arena beyond its limit is an
//! error that names the figure and the limit, before the cost is paid.

mod common;

use lineage_kernels::Shape;
use lineage_nets::{max_threads, models, Plan, PlanOptions, Threads, Weights, Workspace, THREADS_PER_CORE};

fn lineage(args: &[&str]) -> (bool, String) {
    let out = common::program::lineage().args(args).output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into())
}

fn small_plan() -> Plan {
    let net = models::with_classes("resnet18", 10).unwrap();
    Plan::new(&net, &Weights::random(&net, 1), Shape::new(1, 32, 32, 3)).unwrap()
}

#[test]
fn a_thread_count_beyond_the_cap_is_an_error_naming_it() {
    let plan = small_plan();
    let cores = std::thread::available_parallelism().unwrap().get();
    assert_eq!(max_threads(), cores * THREADS_PER_CORE);
    let e = Workspace::new(&plan, Threads::Count(100_000)).unwrap_err().to_string();
    assert!(
        e.contains("100000 threads") && e.contains(&format!("at most {}", cores * THREADS_PER_CORE)),
        "{e}"
    );
    assert!(Workspace::new(&plan, Threads::Count(max_threads() + 1)).is_err());
    let (ok, err) = lineage(&["bench", "resnet18", "--size", "32", "--runs", "1", "--threads", "100000"]);
    assert!(!ok && err.contains("100000 threads"), "{err}");
}

#[test]
fn an_arena_beyond_the_limit_is_an_error_with_the_figure() {
    // resnet18 at 12000x12000: conv1's output alone is 64 x 6000 x 6000 floats (9216 MB).
    let net = models::by_name("resnet18").unwrap();
    let e =
        PlanOptions::default().check_shapes(&net, Shape::new(1, 12_000, 12_000, 3)).unwrap_err().to_string();
    assert!(
        e.contains("conv1") && e.contains("9216.0 MB") && e.contains("max_arena_bytes = 4295.0 MB"),
        "{e}"
    );
    let (ok, err) = lineage(&["info", "resnet18", "--size", "12000"]);
    assert!(!ok && err.contains("9216.0 MB"), "{err}");

    // The whole arena, not only the largest activation, counts: a limit between the two fails.
    let plan = small_plan();
    let bytes = plan.arena_bytes();
    let net = models::with_classes("resnet18", 10).unwrap();
    let weights = Weights::random(&net, 1);
    let input = Shape::new(1, 32, 32, 3);
    let largest = 64 * 16 * 16 * 4;
    assert!(largest < bytes - 1);
    let tight = PlanOptions { max_arena_bytes: bytes - 1, ..PlanOptions::default() };
    let e = Plan::with_options(&net, &weights, input, &tight).unwrap_err().to_string();
    assert!(e.contains("arena and scratch") && e.contains(&format!("{:.1} MB", bytes as f64 / 1e6)), "{e}");
    let exact = PlanOptions { max_arena_bytes: bytes, ..PlanOptions::default() };
    assert!(Plan::with_options(&net, &weights, input, &exact).is_ok());
}

#[test]
fn an_endless_input_is_read_only_up_to_the_limit() {
    let (ok, err) = lineage(&["run", "resnet18", "--input", "/dev/zero"]);
    assert!(!ok && err.contains("/dev/zero: more than 256 MiB"), "{err}");
}
