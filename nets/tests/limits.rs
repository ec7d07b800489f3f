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

#[test]
fn the_arena_limit_is_a_strict_option_of_run_info_and_bench() {
    let dir = std::env::temp_dir().join(format!("lineage-arena-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let x = dir.join("x.npy");
    std::fs::write(&x, lineage_nets::npy::encode(&[1, 3, 224, 224], &vec![0.5; 3 * 224 * 224])).unwrap();
    let x = x.to_str().unwrap();
    // resnet18 at 224x224: conv1's output alone is 64 x 112 x 112 floats, 3.2 MB.
    for args in [
        &["info", "resnet18", "--max-arena-mb", "1"][..],
        &["run", "resnet18", "--input", x, "--max-arena-mb", "1"],
        &["bench", "resnet18", "--runs", "1", "--max-arena-mb", "1"],
    ] {
        let (ok, err) = lineage(args);
        assert!(
            !ok && err.contains("conv1") && err.contains("3.2 MB") && err.contains("= 1.0 MB"),
            "{args:?}: {err}"
        );
    }
    let (ok, err) = lineage(&["info", "resnet18", "--max-arena-mb", "100"]);
    assert!(ok, "{err}");
    // Above the default too: the 12000x12000 input's 9216 MB is measured against the new limit.
    let (ok, err) = lineage(&["info", "resnet18", "--size", "12000", "--max-arena-mb", "9000"]);
    assert!(!ok && err.contains("9216.0 MB") && err.contains("= 9000.0 MB"), "{err}");
    for (value, says) in [
        ("0", "--max-arena-mb 0: must be 1 to"),
        ("18446744073709551615", "--max-arena-mb 18446744073709551615: must be 1 to"),
        ("4k", "--max-arena-mb \"4k\" is not a whole number"),
        ("-1", "--max-arena-mb \"-1\" is not a whole number"),
    ] {
        let (ok, err) = lineage(&["info", "resnet18", "--max-arena-mb", value]);
        assert!(!ok && err.contains(says), "{value}: {err}");
    }
    let (ok, err) = lineage(&["list", "--max-arena-mb", "5"]);
    assert!(!ok && err.contains("unknown option --max-arena-mb for list"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}
