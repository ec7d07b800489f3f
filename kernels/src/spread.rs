//! Where a layer's tasks run: over the current rayon pool, or all on the calling thread
//! for callers that split the work themselves (a fused band of layers per thread).

use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Spread {
    Pool,
    Caller,
}

impl Spread {
    /// Threads the tasks can spread over (splits that cut more finely for more threads ask).
    pub fn threads(self) -> usize {
        match self {
            Spread::Pool => rayon::current_num_threads(),
            Spread::Caller => 1,
        }
    }

    /// Runs `task(0..tasks)`.
    pub fn for_each(self, tasks: usize, task: impl Fn(usize) + Sync + Send) {
        match self {
            Spread::Pool => affine(tasks, |t| {
                task(t);
                Ok::<(), ()>(())
            })
            .unwrap_or(()),
            Spread::Caller => (0..tasks).for_each(task),
        }
    }

    /// Runs `task(0..tasks)` up to the first error.
    pub fn try_for_each<E: Send>(
        self,
        tasks: usize,
        task: impl Fn(usize) -> Result<(), E> + Sync + Send,
    ) -> Result<(), E> {
        match self {
            Spread::Pool => affine(tasks, task),
            Spread::Caller => (0..tasks).try_for_each(task),
        }
    }

    /// Runs `task(i, chunk)` on the `len`-float chunks of `scratch`.
    pub fn for_each_chunk(
        self,
        scratch: &mut [f32],
        len: usize,
        task: impl Fn(usize, &mut [f32]) + Sync + Send,
    ) {
        match self {
            Spread::Pool => scratch.par_chunks_mut(len).enumerate().for_each(|(i, c)| task(i, c)),
            Spread::Caller => scratch.chunks_mut(len).enumerate().for_each(|(i, c)| task(i, c)),
        }
    }
}

/// Most shares [`affine`] cuts a layer's tasks into (threads beyond it share their cursors).
const MAX_SHARES: usize = 64;

/// Runs `task(0..tasks)` on the current pool, each thread starting on a contiguous share of the
/// tasks chosen by its pool index counted from the calling thread's (which takes the first share,
/// as it takes the first band of a fused chain), then taking what is left of the others'. Every
/// layer orders its tasks by output pixel, so a thread mostly reads the rows it wrote in the step
/// before, still in its own cache; work stealing would hand the rows to whichever thread is free,
/// and the other core's cache lines then move at each step (the small layers of MobileNet spent
/// more time on that than on their arithmetic). Which thread runs a task never changes its result.
fn affine<E: Send>(tasks: usize, task: impl Fn(usize) -> Result<(), E> + Sync + Send) -> Result<(), E> {
    let threads = rayon::current_num_threads();
    let shares = threads.min(tasks).min(MAX_SHARES);
    if shares <= 1 {
        return (0..tasks).try_for_each(task);
    }
    let end = |s: usize| (s + 1) * tasks / shares;
    let next: [AtomicUsize; MAX_SHARES] = std::array::from_fn(|s| AtomicUsize::new(s * tasks / shares));
    let caller = rayon::current_thread_index().unwrap_or(0);
    (0..shares).into_par_iter().try_for_each(|claimer| {
        let own =
            rayon::current_thread_index().map_or(claimer, |i| (i + threads - caller) % threads) % shares;
        for s in (own..shares).chain(0..own) {
            loop {
                let t = next[s].fetch_add(1, Ordering::Relaxed);
                if t >= end(s) {
                    break;
                }
                task(t)?;
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every task runs exactly once, for any split of tasks over threads, and the first error
    /// stops the run.
    #[test]
    fn affine_runs_each_task_once() {
        for threads in 1..=3 {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            for tasks in [0, 1, 2, 3, 7, 64, 65, 200] {
                let runs: Vec<AtomicUsize> = (0..tasks).map(|_| AtomicUsize::new(0)).collect();
                pool.install(|| {
                    Spread::Pool.for_each(tasks, |t| _ = runs[t].fetch_add(1, Ordering::Relaxed))
                });
                assert!(
                    runs.iter().all(|r| r.load(Ordering::Relaxed) == 1),
                    "{tasks} tasks, {threads} threads"
                );
                let failed = pool
                    .install(|| Spread::Pool.try_for_each(tasks, |t| if t == 5 { Err(t) } else { Ok(()) }));
                assert_eq!(
                    failed,
                    if tasks > 5 { Err(5) } else { Ok(()) },
                    "{tasks} tasks, {threads} threads"
                );
            }
        }
    }
}
