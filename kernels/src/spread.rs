//! Where a convolution's tasks run: over the current rayon pool, or all on the calling thread
//! for callers that split the work themselves (a fused band of layers per thread).

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
            Spread::Pool => (0..tasks).into_par_iter().for_each(task),
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
            Spread::Pool => (0..tasks).into_par_iter().try_for_each(task),
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
