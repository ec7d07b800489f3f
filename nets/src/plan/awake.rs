//! Keeps a run's other pool threads awake between its steps. Rayon parks a thread that found
//! no work for a few dozen yields (tens of microseconds), and the next step then waits for the
//! wake-up, which in a VM is a round trip through the host. Each other thread spins on
//! `rayon::yield_now` for the run instead, as ONNX Runtime's and OpenVINO's pools spin, and
//! takes the steps' tasks as they come (Zen 4, 2 threads, runs alternating in one process:
//! MobileNet v1/v2 and GoogLeNet 0-4% faster, in 8 of 9 pairs). Which thread runs a task never
//! changes its result. On a pool shared by several workspaces a spinning thread may also start another
//! caller's run, and this run then returns when that one ends.

use std::sync::atomic::{AtomicBool, Ordering};

/// Runs `f` on the calling pool thread while the pool's other threads look for work until it
/// returns (or panics); outside a pool, just runs `f`. Allocates nothing: the helpers are
/// `rayon::join` jobs on the stack.
pub(crate) fn with_threads_awake<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    let Some(caller) = rayon::current_thread_index() else {
        return f();
    };
    let done = AtomicBool::new(false);
    let helpers = rayon::current_num_threads().saturating_sub(1);
    with_helpers(helpers, &done, caller, || {
        let _done = SetOnDrop(&done);
        f()
    })
}

/// `f`, with `n` spinning helpers queued behind it for the other threads to steal.
fn with_helpers<R: Send>(n: usize, done: &AtomicBool, caller: usize, f: impl FnOnce() -> R + Send) -> R {
    if n == 0 {
        return f();
    }
    rayon::join(|| with_helpers(n - 1, done, caller, f), || spin(done, caller)).0
}

/// Runs the pool's pending tasks until `done`. A helper that the caller itself pops (when no
/// other thread stole it before `f` ended) returns at once: spinning there would wait for a
/// flag that only the caller's own `f` sets.
fn spin(done: &AtomicBool, caller: usize) {
    if rayon::current_thread_index() == Some(caller) {
        return;
    }
    while !done.load(Ordering::Acquire) {
        if rayon::yield_now() != Some(rayon::Yield::Executed) {
            std::hint::spin_loop();
        }
    }
}

/// Sets the flag when dropped, so that the helpers stop even if the run panics.
struct SetOnDrop<'a>(&'a AtomicBool);

impl Drop for SetOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use rayon::prelude::*;

    use super::*;

    /// `f`'s value comes back on any pool and outside one, and a panic in `f` reaches the
    /// caller instead of leaving the helpers spinning (the test would hang).
    #[test]
    fn returns_and_stops_on_panic() {
        assert_eq!(with_threads_awake(|| 7), 7);
        for threads in 1..=3 {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            let sum = pool.install(|| with_threads_awake(|| (0..1000u64).into_par_iter().sum::<u64>()));
            assert_eq!(sum, 499_500, "{threads} threads");
            let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                pool.install(|| with_threads_awake(|| panic!("step")))
            }));
            assert!(panicked.is_err(), "{threads} threads");
        }
    }
}
