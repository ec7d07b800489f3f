//! Grouped convolution for any `groups > 1` dividing both channel counts (ResNeXt's 32 groups,
//! AlexNet's 2, a depthwise multiplier > 1), on the GEMM micro-kernel.
//!
//! The weights are packed in blocks (see `pack::grouped`): several small groups share one
//! vector of output channels, larger groups get dense blocks of their own. At stride 1 with two
//! or more groups per vector the staged path runs the layer ([`super::grouped_staged`]);
//! otherwise small groups have block-diagonal weights, and each register tile computes, per
//! kernel tap, MR input-row pointers at its block's first input channel (a shared zero row
//! stands in for padding) and runs the GEMM micro-kernel over the block's input channels.
//!
//! Work is split into tasks of (a band of output pixels) x (a block); each output value is
//! computed by one task in a fixed order, so results are bitwise identical for any thread count.

use pulp::{Simd, WithSimd};

use super::implicit_gemm::split_tail;
use super::io::{ConvIo, Job};
use crate::epilogue::Epilogue;
use crate::error::Result;
use crate::pack::PackedGroupedWeights;
use crate::params::Conv2dParams;
use crate::spread::Spread;
use crate::tensor::{TensorView, TensorViewMut};
use crate::ukernel::gemm::{gemm_f32_store, gemm_f32_taps, Taps, TileStore};
use crate::ukernel::simd::array_from_fn;
use crate::ukernel::tiles::by_grouped_tile;

/// Output pixels per task: a multiple of every tile height used here (4, 6, 8).
const BAND: usize = 96;

/// An error unless `p` is a valid convolution with `groups > 1`.
pub(crate) fn supports(p: &Conv2dParams) -> Result<()> {
    crate::pack::grouped::check_grouped(p)
}

super::entry_points!(
    /// Grouped convolution on the detected ISA; packs the weights on every call (plan with
    /// [`Conv2d`](super::Conv2d) to pack once).
    conv2d_grouped,
    /// Grouped convolution on an explicit ISA.
    conv2d_grouped_with,
    super::Algorithm::Grouped
);

/// Runs the packed grouped convolution `y = act(conv(x) + bias + residual)` on the current
/// rayon pool.
pub(crate) fn run(
    layer: &str,
    packed: &PackedGroupedWeights,
    x: &TensorView<'_>,
    y: &mut TensorViewMut<'_>,
    epilogue: &Epilogue<'_>,
    spread: Spread,
) -> Result<()> {
    let job = Job { packed, io: ConvIo::new(layer, &packed.params, x, y, epilogue, spread)? };
    packed.isa.dispatch(RunAll { job: &job })
}

struct RunAll<'a> {
    job: &'a Job<'a, PackedGroupedWeights>,
}

impl WithSimd for RunAll<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let job = self.job;
        if job.packed.staged {
            return super::grouped_staged::run(simd, job);
        }
        let bands = job.out.pixels().unwrap_or(0).div_ceil(BAND);
        let blocks = job.packed.blocks.len();
        job.spread.for_each(bands * blocks, |t| {
            crate::isa::vectorize(simd, Task { job, band: t / blocks, block: t % blocks });
        });
    }
}

struct Task<'a> {
    job: &'a Job<'a, PackedGroupedWeights>,
    band: usize,
    block: usize,
}

impl WithSimd for Task<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let lanes = S::F32_LANES;
        let nv = self.job.packed.blocks[self.block].width.div_ceil(lanes);
        by_grouped_tile!(lanes, nv, self.band::<S>(simd))
    }
}

impl Task<'_> {
    #[inline(always)]
    fn band<S: Simd, const MR: usize, const NV: usize>(&self, simd: S) {
        let pixels = self.job.out.pixels().unwrap_or(0);
        let (p0, p1) = (self.band * BAND, ((self.band + 1) * BAND).min(pixels));
        // Whole tiles, then the last few pixels in a narrower tile.
        let (whole, tail) = split_tail::<MR>(p0..p1);
        self.tiles::<S, MR, NV>(simd, whole);
        match tail.len() {
            0 => {}
            1 | 2 => self.tiles::<S, 2, NV>(simd, tail),
            3 | 4 => self.tiles::<S, 4, NV>(simd, tail),
            _ => self.tiles::<S, MR, NV>(simd, tail),
        }
    }

    /// The register tiles of MR output pixels over `pixels` (the last one partial when MR does
    /// not divide their count).
    #[inline(always)]
    fn tiles<S: Simd, const MR: usize, const NV: usize>(&self, simd: S, pixels: std::ops::Range<usize>) {
        let job = self.job;
        let packed = job.packed;
        let p = &packed.params;
        let block = packed.blocks[self.block];
        let (ih, iw) = (job.input.h as isize, job.input.w as isize);
        let (nr, kmax) = (packed.nr, packed.kmax);
        let taps = p.kh * p.kw;
        let lanes = S::F32_LANES;
        let plane = job.out.h * job.out.w;
        let (p0, p1) = (pixels.start, pixels.end);
        let last_lanes = block.width - (NV - 1) * lanes;
        let zeros = packed.zeros.as_ptr();
        // SAFETY: blocks tile the packed buffer in panels of taps * kmax * nr floats.
        let wblock = unsafe { packed.weights.as_ptr().add(self.block * taps * kmax * nr) };
        for t0 in (p0..p1).step_by(MR) {
            let rows = MR.min(p1 - t0);
            let mut img = [0isize; MR];
            let mut iy0 = [0isize; MR];
            let mut ix0 = [0isize; MR];
            let mut y_rows = [core::ptr::null_mut(); MR];
            let mut res_rows = [core::ptr::null(); MR];
            // The tile's pixels are consecutive: divide once, then step (a division per row
            // costs as much as the FMAs of a small-group tap).
            let (mut n, rem) = (t0 / plane, t0 % plane);
            let (mut oy, mut ox) = (rem / job.out.w, rem % job.out.w);
            for r in 0..MR {
                let pix = t0 + r.min(rows - 1);
                if r > 0 && r < rows {
                    ox += 1;
                    if ox == job.out.w {
                        (ox, oy) = (0, oy + 1);
                        if oy == job.out.h {
                            (oy, n) = (0, n + 1);
                        }
                    }
                }
                img[r] = (n * job.input.h * job.input.w) as isize;
                iy0[r] = (oy * p.stride_h) as isize - p.pad.top as isize;
                ix0[r] = (ox * p.stride_w) as isize - p.pad.left as isize;
                // SAFETY: pix < pixels and oc0 < c_out, so these are inside the views.
                y_rows[r] = unsafe { job.y.add(pix * job.y_pitch + block.oc0) };
                if let Some((res, pitch)) = job.residual {
                    // SAFETY: as for y; the residual has the output's shape.
                    res_rows[r] = unsafe { res.add(pix * pitch + block.oc0) };
                }
            }
            // SAFETY (the row pointers below): a pointer into x is formed only for a pixel inside
            // the image, at the block's first input channel, with its k channels readable;
            // otherwise it is the zero row (kmax >= k floats).
            let at = |r: usize, iy: isize, ix: isize| -> *const f32 {
                if iy >= 0 && iy < ih && ix >= 0 && ix < iw {
                    let pixel = (img[r] + iy * iw + ix) as usize;
                    unsafe { job.x.add(pixel * job.x_pitch + block.ic0) }
                } else {
                    zeros
                }
            };
            let (ext_h, ext_w) = (((p.kh - 1) * p.dilation_h) as isize, ((p.kw - 1) * p.dilation_w) as isize);
            let interior =
                (0..MR).all(|r| iy0[r] >= 0 && iy0[r] + ext_h < ih && ix0[r] >= 0 && ix0[r] + ext_w < iw);
            let kernel =
                Taps { kh: p.kh, kw: p.kw, dilation_h: p.dilation_h, dilation_w: p.dilation_w, merge: false };
            let acc = if interior {
                // Every tap of every row is inside the image: one base pointer per row and one
                // offset per tap replace the per-tap bounds checks (K is short for small groups).
                let base: [*const f32; MR] = array_from_fn(|r| at(r, iy0[r], ix0[r]));
                // SAFETY: the tap's pixel is inside the image (interior), at the block's first
                // input channel with k floats readable.
                let row_at = |r: usize, dy: isize, dx: isize| unsafe {
                    base[r].add(((dy * iw + dx) as usize) * job.x_pitch)
                };
                // SAFETY: per row_at; wblock is the block's panel of taps * kmax rows of nr.
                unsafe { gemm_f32_taps::<S, MR, NV>(simd, &kernel, wblock, kmax * nr, nr, block.k, row_at) }
            } else {
                let row_at = |r: usize, dy: isize, dx: isize| at(r, iy0[r] + dy, ix0[r] + dx);
                // SAFETY: `at` gives the pixel's k channels or the zero row; wblock as above.
                unsafe { gemm_f32_taps::<S, MR, NV>(simd, &kernel, wblock, kmax * nr, nr, block.k, row_at) }
            };
            let store = TileStore {
                y: y_rows,
                residual: job.residual.map(|_| res_rows),
                // SAFETY: the block's bias has nr >= NV * lanes values.
                bias: unsafe { packed.bias.as_ptr().add(self.block * nr) },
                rows,
                last_lanes,
                first: true,
                last: true,
                activation: job.activation,
            };
            // SAFETY: rows <= MR rows of y/residual hold the block's width = (NV-1)*lanes +
            // last_lanes channels from oc0, and the block's bias has NV vectors.
            unsafe { gemm_f32_store::<S, MR, NV>(simd, &acc, &store) };
        }
    }
}

super::entry_points!(
    /// Grouped 3x3 stride-1 convolution as one dense Winograd F(2x2) convolution per group, on
    /// the detected ISA; packs the weights on every call.
    conv2d_grouped_winograd2x2,
    /// [`conv2d_grouped_winograd2x2`] on an explicit ISA.
    conv2d_grouped_winograd2x2_with,
    super::Algorithm::GroupedWinograd2x2
);

super::entry_points!(
    /// Grouped 3x3 stride-1 convolution as one dense Winograd F(4x4) convolution per group, on
    /// the detected ISA; packs the weights on every call.
    conv2d_grouped_winograd4x4,
    /// [`conv2d_grouped_winograd4x4`] on an explicit ISA.
    conv2d_grouped_winograd4x4_with,
    super::Algorithm::GroupedWinograd4x4
);
