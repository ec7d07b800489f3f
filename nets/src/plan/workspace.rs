//! Per-thread run state: the activation arena, the convolutions' scratch and the thread pool.

use std::sync::Arc;

use rayon::{ThreadPool, ThreadPoolBuilder};

use super::Plan;
use crate::error::{NetError, Result};

/// Which threads a workspace runs on.
#[derive(Clone, Debug)]
pub enum Threads {
    /// A pool of this many threads owned by the workspace, at most [`max_threads`].
    Count(usize),
    /// The caller's pool (several workspaces may share it).
    Pool(Arc<ThreadPool>),
}

/// Everything one in-flight run mutates. Make one per thread that calls [`Plan::run`].
#[derive(Debug)]
pub struct Workspace {
    pub(crate) arena: Vec<f32>,
    pub(crate) scratch: Vec<f32>,
    pub(crate) pool: Arc<ThreadPool>,
}

impl Workspace {
    /// Allocates the arena and scratch `plan` needs, and the thread pool.
    pub fn new(plan: &Plan, threads: Threads) -> Result<Workspace> {
        let pool = match threads {
            Threads::Count(0) => return Err(NetError::Input("a workspace needs at least one thread".into())),
            Threads::Count(n) if n > max_threads() => {
                return Err(NetError::Input(format!(
                    "a workspace of {n} threads: at most {} ({THREADS_PER_CORE} per core of the {} \
                     this machine has)",
                    max_threads(),
                    cores()
                )))
            }
            Threads::Count(n) => Arc::new(
                ThreadPoolBuilder::new()
                    .num_threads(n)
                    .thread_name(|i| format!("lineage-{i}"))
                    .build()
                    .map_err(|e| NetError::Io(format!("starting {n} threads: {e}")))?,
            ),
            Threads::Pool(p) => p,
        };
        // Band chains run a band per thread, each in its own part of the scratch.
        let scratch = plan.scratch_len.max(pool.current_num_threads().saturating_mul(plan.band_len));
        Ok(Workspace { arena: zeroed(plan.arena_len)?, scratch: zeroed(scratch)?, pool })
    }

    /// The workspace's pool. [`Plan::run`] installs itself in it; a caller that runs many images
    /// from inside the pool (`ws.pool().install(|| ...)`) saves even rayon's job injection,
    /// whose queue allocates one block per 63 calls made from outside the pool.
    pub fn pool(&self) -> Arc<ThreadPool> {
        Arc::clone(&self.pool)
    }

    /// Threads of the workspace's pool.
    pub fn threads(&self) -> usize {
        self.pool.current_num_threads()
    }

    pub(crate) fn check(&self, plan: &Plan) -> Result<()> {
        if self.arena.len() < plan.arena_len || self.scratch.len() < plan.scratch_len {
            return Err(NetError::Input(format!(
                "workspace of {} + {} floats is too small for plan {} ({} + {})",
                self.arena.len(),
                self.scratch.len(),
                plan.name,
                plan.arena_len,
                plan.scratch_len
            )));
        }
        Ok(())
    }
}

/// More threads than this per core only add switching; a typo such as `--threads 100000`
/// would otherwise spawn threads until the system stops it.
pub const THREADS_PER_CORE: usize = 8;

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The most threads [`Threads::Count`] may ask for: [`THREADS_PER_CORE`] per core.
pub fn max_threads() -> usize {
    cores().saturating_mul(THREADS_PER_CORE)
}

/// `len` zeros, or an error (not an abort) when the memory is not available.
fn zeroed(len: usize) -> Result<Vec<f32>> {
    let mut v = Vec::new();
    v.try_reserve_exact(len)
        .map_err(|e| NetError::Input(format!("cannot allocate a workspace of {len} floats: {e}")))?;
    v.resize(len, 0.0);
    Ok(v)
}
