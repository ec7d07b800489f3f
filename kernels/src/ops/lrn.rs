//! Local response normalization across channels, as `torch.nn.LocalResponseNorm`:
//! `y_c = x_c / (k + alpha / size * sum_{j in window(c)} x_j^2)^beta`, where the window runs
//! from `c - size / 2` to `c + (size - 1) / 2`, zero outside the channels.

use pulp::{Simd, WithSimd};

use crate::error::{KernelError, Result};
use crate::isa::Isa;
use crate::ops::pixelwise::{check_shape, CHANNEL_CHUNK};
use crate::params::MAX_DIM;
use crate::spread::Spread;
use crate::tensor::{Shape, TensorView, TensorViewMut};
use crate::ukernel::simd::{load_first, load_lanes, store, store_first};

/// `torch.nn.LocalResponseNorm(size, alpha, beta, k)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LrnParams {
    pub size: usize,
    pub alpha: f32,
    pub beta: f32,
    pub k: f32,
}

impl LrnParams {
    fn validate(&self) -> Result<()> {
        if self.size == 0 || self.size > MAX_DIM {
            return Err(KernelError::InvalidParams(format!(
                "local_response_norm: size = {} must be in 1..={MAX_DIM}",
                self.size
            )));
        }
        if !(self.alpha.is_finite() && self.beta.is_finite() && self.k.is_finite()) {
            return Err(KernelError::InvalidParams(format!(
                "local_response_norm: alpha {}, beta {}, k {} must be finite",
                self.alpha, self.beta, self.k
            )));
        }
        Ok(())
    }
}

/// Local response normalization of `x` into `y` (same shape).
pub fn local_response_norm(p: &LrnParams, x: &TensorView<'_>, y: &mut TensorViewMut<'_>) -> Result<()> {
    local_response_norm_with(Isa::detect(), p, x, y)
}

/// [`local_response_norm`] on an explicit ISA.
pub fn local_response_norm_with(
    isa: Isa,
    p: &LrnParams,
    x: &TensorView<'_>,
    y: &mut TensorViewMut<'_>,
) -> Result<()> {
    p.validate()?;
    check_shape("local_response_norm", "input", x.shape(), y.shape())?;
    let job = Job {
        p: *p,
        x: x.data().as_ptr(),
        x_pitch: x.pitch(),
        y: y.data_mut().as_mut_ptr(),
        y_pitch: y.pitch(),
        shape: y.shape(),
    };
    isa.dispatch(RunAll { job: &job })
}

/// Raw pointers, because tasks write disjoint parts of `y` from several threads.
struct Job {
    p: LrnParams,
    x: *const f32,
    x_pitch: usize,
    y: *mut f32,
    y_pitch: usize,
    shape: Shape,
}

// SAFETY: the pointers come from views that outlive the job (it lives on the caller's stack while
// the pool runs the tasks); tasks only read `x` and write disjoint (row, chunk) parts of `y`.
unsafe impl Sync for Job {}

struct RunAll<'a> {
    job: &'a Job,
}

impl WithSimd for RunAll<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let job = self.job;
        let rows = job.shape.n * job.shape.h;
        let chunks = job.shape.c.div_ceil(CHANNEL_CHUNK);
        Spread::Pool.for_each(rows * chunks, |t| {
            crate::isa::vectorize(simd, Task { job, row: t / chunks, chunk: t % chunks });
        });
    }
}

struct Task<'a> {
    job: &'a Job,
    row: usize,
    chunk: usize,
}

impl WithSimd for Task<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let (job, lanes) = (self.job, S::F32_LANES);
        let c_all = job.shape.c as isize;
        let before = (job.p.size / 2) as isize;
        let after = ((job.p.size - 1) / 2) as isize;
        let k = simd.splat_f32s(job.p.k);
        let alpha = simd.splat_f32s(job.p.alpha / job.p.size as f32);
        let one = simd.splat_f32s(1.0);
        let c0 = self.chunk * CHANNEL_CHUNK;
        let c1 = (c0 + CHANNEL_CHUNK).min(job.shape.c);
        for px in self.row * job.shape.w..(self.row + 1) * job.shape.w {
            // SAFETY: px is a pixel of the shape, in both views.
            let (x, y) = unsafe { (job.x.add(px * job.x_pitch), job.y.add(px * job.y_pitch)) };
            for c in (c0..c1).step_by(lanes) {
                let len = (c1 - c).min(lanes);
                let mut sum = simd.splat_f32s(0.0);
                for d in -before..=after {
                    // Lanes i with 0 <= c + i + d < channels (and i < len) read channel c + i + d.
                    let src = c as isize + d;
                    let first = (-src).max(0);
                    let end = (c_all - src).min(len as isize);
                    if first < end {
                        // SAFETY: only the lanes of channels inside the pixel are read; the
                        // pointer itself is formed with wrapping arithmetic.
                        let v =
                            unsafe { load_lanes(simd, x.wrapping_offset(src), first as usize, end as usize) };
                        sum = simd.mul_add_f32s(v, v, sum);
                    }
                }
                let div = simd.mul_add_f32s(alpha, sum, k);
                // SAFETY: channels c..c + len are inside the pixel in both views.
                let xv = unsafe { load_first(simd, x.add(c), len) };
                let out = if job.p.beta == 0.75 {
                    // div^-0.75 = div^-0.5 * div^-0.25: two square roots instead of a power.
                    let r = simd.div_f32s(one, simd.sqrt_f32s(div));
                    simd.mul_f32s(xv, simd.mul_f32s(r, simd.sqrt_f32s(r)))
                } else {
                    general_power::<S>(xv, div, job.p.beta)
                };
                // SAFETY: as for the load.
                unsafe { store_first(simd, y.add(c), len, out) };
            }
        }
    }
}

/// `x / div^beta` lane by lane, for powers with no cheap vector form.
#[inline(always)]
fn general_power<S: Simd>(x: S::f32s, div: S::f32s, beta: f32) -> S::f32s {
    const MAX_LANES: usize = 16;
    assert!(S::F32_LANES <= MAX_LANES, "a vector of more than {MAX_LANES} f32 lanes");
    let (mut xs, mut ds) = ([0.0f32; MAX_LANES], [0.0f32; MAX_LANES]);
    // SAFETY: both arrays hold at least one vector (asserted above).
    unsafe {
        store::<S>(xs.as_mut_ptr(), x);
        store::<S>(ds.as_mut_ptr(), div);
    }
    for (x, d) in xs.iter_mut().zip(&ds).take(S::F32_LANES) {
        *x /= d.powf(beta);
    }
    // SAFETY: as above.
    unsafe { crate::ukernel::simd::load::<S>(xs.as_ptr()) }
}
