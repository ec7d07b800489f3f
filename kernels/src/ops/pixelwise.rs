//! The driver of the per-pixel ops (activation, add, batch norm, copy): every output channel is
//! a function of the same channel of one or two inputs of the output's shape.
//!
//! Tasks are (image row) x (chunk of channels); their count depends only on the shape, and each
//! value is computed by one task the same way, so results are identical for any thread count.

use pulp::{Simd, WithSimd};

use crate::error::{KernelError, Result};
use crate::isa::Isa;
use crate::spread::Spread;
use crate::tensor::{Shape, TensorView, TensorViewMut};
use crate::ukernel::simd::{load, load_first, store, store_first};

/// Channels per task: enough work to pay for a task when a tensor is a single pixel (an FC
/// activation of 4096 channels becomes 8 tasks).
pub(crate) const CHANNEL_CHUNK: usize = 512;

/// One per-pixel op on vectors of channels.
pub(crate) trait ChannelMap: Sync {
    /// The output vector of channels `c0..c0 + n` from the same channels of the inputs (`b`
    /// is zeros when there is no second input). Lanes past `n` are not stored.
    ///
    /// # Safety
    /// `c0 + n` is at most the channel count the op's parameters were checked against, and
    /// `n <= S::F32_LANES`.
    unsafe fn map<S: Simd>(&self, simd: S, c0: usize, n: usize, a: S::f32s, b: S::f32s) -> S::f32s;
}

/// An error naming `op` unless `got` equals the output shape `want`.
pub(crate) fn check_shape(op: &str, what: &str, got: Shape, want: Shape) -> Result<()> {
    if got == want {
        Ok(())
    } else {
        Err(KernelError::ShapeMismatch(format!(
            "{op}: {what} shape {got:?} differs from output shape {want:?}"
        )))
    }
}

/// Runs `map` over every pixel of `y` (of `a`'s shape, and `b`'s if given) on `isa`.
pub(crate) fn run<M: ChannelMap>(
    isa: Isa,
    op: &str,
    map: &M,
    a: &TensorView<'_>,
    b: Option<&TensorView<'_>>,
    y: &mut TensorViewMut<'_>,
) -> Result<()> {
    let shape = y.shape();
    check_shape(op, "input", a.shape(), shape)?;
    if let Some(b) = b {
        check_shape(op, "second input", b.shape(), shape)?;
    }
    let job = Job {
        a: (a.data().as_ptr(), a.pitch()),
        b: b.map(|b| (b.data().as_ptr(), b.pitch())),
        y: (y.data_mut().as_mut_ptr(), y.pitch()),
        shape,
    };
    isa.dispatch(RunAll { job: &job, map })
}

/// Raw pointers and pitches, because tasks write disjoint parts of `y` from several threads.
struct Job {
    a: (*const f32, usize),
    b: Option<(*const f32, usize)>,
    y: (*mut f32, usize),
    shape: Shape,
}

// SAFETY: the pointers come from views that outlive the job (it lives on `run`'s stack while the
// pool runs the tasks); tasks only read `a` and `b` and write disjoint (row, chunk) parts of `y`.
unsafe impl Sync for Job {}

struct RunAll<'a, M> {
    job: &'a Job,
    map: &'a M,
}

impl<M: ChannelMap> WithSimd for RunAll<'_, M> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let (job, map) = (self.job, self.map);
        let rows = job.shape.n * job.shape.h;
        let chunks = job.shape.c.div_ceil(CHANNEL_CHUNK);
        Spread::Pool.for_each(rows * chunks, |t| {
            crate::isa::vectorize(simd, Task { job, map, row: t / chunks, chunk: t % chunks });
        });
    }
}

struct Task<'a, M> {
    job: &'a Job,
    map: &'a M,
    row: usize,
    chunk: usize,
}

impl<M: ChannelMap> WithSimd for Task<'_, M> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let (job, lanes) = (self.job, S::F32_LANES);
        let c0 = self.chunk * CHANNEL_CHUNK;
        let c1 = (c0 + CHANNEL_CHUNK).min(job.shape.c);
        let zero = simd.splat_f32s(0.0);
        for px in self.row * job.shape.w..(self.row + 1) * job.shape.w {
            // SAFETY (all pointer arithmetic and accesses below): px is a pixel of the shape
            // and channels c0..c1 lie inside it, so every view has them in bounds; full vectors
            // stop at c1 and the tail is masked to c1.
            unsafe {
                let a = job.a.0.add(px * job.a.1);
                let b = job.b.map(|(p, pitch)| p.add(px * pitch));
                let y = job.y.0.add(px * job.y.1);
                let mut c = c0;
                while c + lanes <= c1 {
                    let vb = match b {
                        Some(b) => load::<S>(b.add(c)),
                        None => zero,
                    };
                    store::<S>(y.add(c), self.map.map(simd, c, lanes, load::<S>(a.add(c)), vb));
                    c += lanes;
                }
                if c < c1 {
                    let n = c1 - c;
                    let vb = match b {
                        Some(b) => load_first(simd, b.add(c), n),
                        None => zero,
                    };
                    let v = self.map.map(simd, c, n, load_first(simd, a.add(c), n), vb);
                    store_first(simd, y.add(c), n, v);
                }
            }
        }
    }
}
