//! The pooling kernel shared by max, average, adaptive and global pooling: for each output
//! pixel, a window of input pixels reduced over vectors of channels.
//!
//! Windows are separable: each axis maps an output index to an input range and to the count
//! the mean divides by, so the divisor is the product of the two counts (true of PyTorch's
//! `count_include_pad` either way and of adaptive pooling). Tasks are (output row) x (chunk of
//! channels), a count that depends only on the shape.

use pulp::{Simd, WithSimd};

use crate::error::Result;
use crate::isa::Isa;
use crate::ops::pixelwise::CHANNEL_CHUNK;
use crate::spread::Spread;
use crate::tensor::{Shape, TensorView, TensorViewMut};
use crate::ukernel::simd::max_keep_nan;
use crate::ukernel::simd::{load_first, store_first};

/// How one axis maps output indices to input windows.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Axis {
    /// A sliding window (validated by `Pool2dParams::output_hw`: it always overlaps the input).
    Window { size: usize, out: usize, k: usize, stride: usize, pad0: usize, pad1: usize, include_pad: bool },
    /// PyTorch's adaptive pooling: `floor(o * size / out) .. ceil((o + 1) * size / out)`.
    Adaptive { size: usize, out: usize },
}

impl Axis {
    pub(crate) fn out(&self) -> usize {
        match *self {
            Axis::Window { out, .. } | Axis::Adaptive { out, .. } => out,
        }
    }

    /// The input range `start..end` of output `o` and the count its mean divides by.
    #[inline(always)]
    fn window(&self, o: usize) -> (usize, usize, usize) {
        match *self {
            Axis::Window { size, k, stride, pad0, pad1, include_pad, .. } => {
                let start = (o * stride) as isize - pad0 as isize;
                // PyTorch clips the window to the padded input before counting the padding in.
                let end = (start + k as isize).min((size + pad1) as isize);
                let (s, e) = (start.max(0) as usize, end.min(size as isize) as usize);
                (s, e, if include_pad { (end - start) as usize } else { e - s })
            }
            Axis::Adaptive { size, out } => {
                let (s, e) = (o * size / out, ((o + 1) * size).div_ceil(out));
                (s, e, e - s)
            }
        }
    }
}

/// What a window reduces to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reduce {
    Max,
    Mean,
}

/// Pools `x` into `y`, whose shape the caller has checked against the axes.
pub(crate) fn run(
    isa: Isa,
    reduce: Reduce,
    rows: Axis,
    cols: Axis,
    x: &TensorView<'_>,
    y: &mut TensorViewMut<'_>,
) -> Result<()> {
    let job = Job {
        x: x.data().as_ptr(),
        x_pitch: x.pitch(),
        input: x.shape(),
        y: y.data_mut().as_mut_ptr(),
        y_pitch: y.pitch(),
        out: y.shape(),
        rows,
        cols,
    };
    match reduce {
        Reduce::Max => isa.dispatch(RunAll::<true> { job: &job }),
        Reduce::Mean => isa.dispatch(RunAll::<false> { job: &job }),
    }
}

/// Raw pointers, because tasks write disjoint parts of `y` from several threads.
struct Job {
    x: *const f32,
    x_pitch: usize,
    input: Shape,
    y: *mut f32,
    y_pitch: usize,
    out: Shape,
    rows: Axis,
    cols: Axis,
}

// SAFETY: the pointers come from views that outlive the job (it lives on `run`'s stack while the
// pool runs the tasks); tasks only read `x` and write disjoint (row, chunk) parts of `y`.
unsafe impl Sync for Job {}

struct RunAll<'a, const MAX: bool> {
    job: &'a Job,
}

impl<const MAX: bool> WithSimd for RunAll<'_, MAX> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let job = self.job;
        let rows = job.out.n * job.out.h;
        let chunks = job.out.c.div_ceil(CHANNEL_CHUNK);
        Spread::Pool.for_each(rows * chunks, |t| {
            crate::isa::vectorize(simd, Task::<MAX> { job, row: t / chunks, chunk: t % chunks });
        });
    }
}

struct Task<'a, const MAX: bool> {
    job: &'a Job,
    row: usize,
    chunk: usize,
}

/// Vectors of channels reduced at once (4 accumulators, 4 loads in flight).
const BLOCK: usize = 4;

impl<const MAX: bool> WithSimd for Task<'_, MAX> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let (job, lanes) = (self.job, S::F32_LANES);
        let (n, oy) = (self.row / job.out.h, self.row % job.out.h);
        let c0 = self.chunk * CHANNEL_CHUNK;
        let c1 = (c0 + CHANNEL_CHUNK).min(job.out.c);
        let (y0, y1, count_y) = job.rows.window(oy);
        for ox in 0..job.out.w {
            let (x0, x1, count_x) = job.cols.window(ox);
            let win = Window { n, y0, y1, x0, x1, count: (count_y * count_x) as f32 };
            // SAFETY: the output pixel (n, oy, ox) is inside y's shape.
            let out = unsafe { job.y.add(((n * job.out.h + oy) * job.out.w + ox) * job.y_pitch) };
            let mut c = c0;
            while c + BLOCK * lanes <= c1 {
                // SAFETY: channels c..c + BLOCK * lanes lie inside c0..c1.
                unsafe { self.block::<S, BLOCK>(simd, &win, out, c, lanes) };
                c += BLOCK * lanes;
            }
            while c < c1 {
                let len = (c1 - c).min(lanes);
                // SAFETY: channels c..c + len lie inside c0..c1.
                unsafe { self.block::<S, 1>(simd, &win, out, c, len) };
                c += len;
            }
        }
    }
}

/// The input window of one output pixel of image `n`, and the mean's divisor.
struct Window {
    n: usize,
    y0: usize,
    y1: usize,
    x0: usize,
    x1: usize,
    count: f32,
}

impl<const MAX: bool> Task<'_, MAX> {
    /// Reduces NV vectors of channels from `c` (the last one `last` lanes wide) over the window
    /// and stores them at `out + c`.
    ///
    /// # Safety
    /// `c + (NV - 1) * lanes + last` is at most the channel count, the window lies inside the
    /// input, and `out` points at an output pixel.
    #[inline(always)]
    unsafe fn block<S: Simd, const NV: usize>(
        &self,
        simd: S,
        win: &Window,
        out: *mut f32,
        c: usize,
        last: usize,
    ) {
        let (job, lanes) = (self.job, S::F32_LANES);
        let init = if MAX { f32::NEG_INFINITY } else { 0.0 };
        let mut acc = [simd.splat_f32s(init); NV];
        for iy in win.y0..win.y1 {
            for ix in win.x0..win.x1 {
                let pixel = (win.n * job.input.h + iy) * job.input.w + ix;
                // SAFETY: (n, iy, ix) is an input pixel and the channels are inside it.
                let p = unsafe { job.x.add(pixel * job.x_pitch + c) };
                for (j, a) in acc.iter_mut().enumerate() {
                    let len = if j + 1 == NV { last } else { lanes };
                    // SAFETY: as above, len channels from c + j * lanes.
                    let v = unsafe { load_first(simd, p.add(j * lanes), len) };
                    *a = if MAX { max_keep_nan(simd, *a, v) } else { simd.add_f32s(*a, v) };
                }
            }
        }
        let divisor = simd.splat_f32s(win.count);
        for (j, a) in acc.into_iter().enumerate() {
            let len = if j + 1 == NV { last } else { lanes };
            let v = if MAX { a } else { simd.div_f32s(a, divisor) };
            // SAFETY: len channels from c + j * lanes of the output pixel.
            unsafe { store_first(simd, out.add(c + j * lanes), len, v) };
        }
    }
}
