//! Depthwise convolution (groups = c_in = c_out, channel multiplier 1), vectorized across
//! channels in NHWC.
//!
//! 3x3 and 5x5 kernels at strides 1 and 2 run a row-tile micro-kernel with the weights in
//! registers, by one of two paths:
//! - staged (stride 1, or [`STAGED_MIN_CHANNELS`] channels at stride 2; no dilation): a task
//!   owns a chunk of channels, a segment of output columns and a band of output rows, and
//!   copies the input rows its windows read into a ring on its stack, one plane per channel
//!   vector with the padding as zero columns. In the ring a vector's columns are contiguous,
//!   each input row is fetched once per band and there are no border cases, so a row runs as
//!   one tight loop. With 256+ channels an NHWC pixel is 1-2 KiB and the rows of a window read
//!   in place would also fall into a few L1 sets and evict each other.
//! - by rows (stride 2 with fewer channels): a task is one output row of a chunk of channels,
//!   read straight from the input where the window is inside the image, the border pixels
//!   through the general per-pixel window. A stride-2 output needs two new input columns, so
//!   staging copies four vectors per output where in place there is no copy.
//!
//! Every other geometry takes the general per-pixel path. A multiplier > 1 is a grouped
//! convolution ([`super::grouped`]). Each output value is computed by one task, its taps in a
//! fixed order whatever the tiling, so results are bitwise identical for any thread count.

use pulp::{Simd, WithSimd};

use super::io::{ConvIo, Job};
use super::ring::{image_columns, Ring};
use crate::epilogue::{Activation, Epilogue};
use crate::error::Result;
use crate::pack::PackedDepthwiseWeights;
use crate::params::Conv2dParams;
use crate::spread::Spread;
use crate::tensor::{TensorView, TensorViewMut};
use crate::ukernel::dwconv::{
    dwconv_f32_pixel, dwconv_f32_row, dwconv_f32_row_run, load_channels, TileRows, Window,
};
use crate::ukernel::row_store::{RowStore, RowTile};
use crate::ukernel::simd::{load, store, with_fixed_epilogue, FixedEpilogue};
use crate::ukernel::tiles::depthwise_row;

/// Most channels per task (whole vectors; at least one vector).
const CHUNK: usize = 64;

/// Channels from which the staged path runs at stride 2 (at stride 1 it always does).
/// AVX2, 1 thread, user time of 3x3 layers, staged / by rows: s2 64@112 0.57 / 0.41 s;
/// s1 32@112 0.26 / 0.32, 144@56 0.69 / 0.97 (cachegrind: 620M / 842M instructions).
const STAGED_MIN_CHANNELS: usize = 256;

/// Floats in a staged task's input ring (16 KiB, half of a small L1).
const STAGE_FLOATS: usize = 4096;

/// An error unless `p` is depthwise with channel multiplier 1.
pub(crate) fn supports(p: &Conv2dParams) -> Result<()> {
    crate::pack::depthwise::check_depthwise(p)
}

super::entry_points!(
    /// Depthwise convolution on the detected ISA; packs the weights on every call (plan with
    /// [`Conv2d`](super::Conv2d) to pack once).
    conv2d_depthwise,
    /// Depthwise convolution on an explicit ISA.
    conv2d_depthwise_with,
    super::Algorithm::Depthwise
);

/// Runs the packed depthwise convolution `y = act(conv(x) + bias + residual)` on the current
/// rayon pool.
pub(crate) fn run(
    layer: &str,
    packed: &PackedDepthwiseWeights,
    x: &TensorView<'_>,
    y: &mut TensorViewMut<'_>,
    epilogue: &Epilogue<'_>,
    spread: Spread,
) -> Result<()> {
    let job = Job { packed, io: ConvIo::new(layer, &packed.params, x, y, epilogue, spread)? };
    packed.isa.dispatch(RunAll { job: &job })
}

struct RunAll<'a> {
    job: &'a Job<'a, PackedDepthwiseWeights>,
}

impl WithSimd for RunAll<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let job = self.job;
        let p = &job.packed.params;
        // Row-tile widths of ukernel::tiles, one monomorphization each.
        let stage =
            (p.stride_w == 1 || job.out.c >= STAGED_MIN_CHANNELS) && p.dilation_h == 1 && p.dilation_w == 1;
        match (stage, p.kh, p.kw, p.stride_w, depthwise_row(S::F32_LANES, p.kw, p.stride_w)) {
            (true, 3, 3, 1, 4) => staged::<S, 3, 3, 1, 4>(simd, job),
            (true, 3, 3, 1, _) => staged::<S, 3, 3, 1, 8>(simd, job),
            (true, 3, 3, 2, 4) => staged::<S, 3, 3, 2, 4>(simd, job),
            (true, 5, 5, 1, _) => staged::<S, 5, 5, 1, 4>(simd, job),
            (true, 5, 5, 2, _) => staged::<S, 5, 5, 2, 4>(simd, job),
            _ => by_rows(simd, job),
        }
    }
}

/// The direct path: tasks of one output row by a chunk of channel vectors.
fn by_rows<S: Simd>(simd: S, job: &Job<'_, PackedDepthwiseWeights>) {
    let lanes = S::F32_LANES;
    let rows = job.out.n * job.out.h;
    let blocks_per_chunk = (CHUNK / lanes).max(1);
    let (full, blocks) = (job.out.c / lanes, job.out.c.div_ceil(lanes));
    let chunks = blocks.div_ceil(blocks_per_chunk);
    job.spread.for_each(rows * chunks, |t| {
        let (row, chunk) = (t / chunks, t % chunks);
        let (b0, b1) = (chunk * blocks_per_chunk, ((chunk + 1) * blocks_per_chunk).min(blocks));
        // Whole vectors, then the masked tail vector (only ever in the last chunk).
        if b0 < b1.min(full) {
            crate::isa::vectorize(simd, Task::<false> { job, row, blocks: b0..b1.min(full) });
        }
        if b1 > full {
            crate::isa::vectorize(simd, Task::<true> { job, row, blocks: full..b1 });
        }
    });
}

/// How the staged path splits the work: chunks of `chunk` channels, segments of `segment`
/// output columns, bands of `band` output rows.
#[derive(Clone, Copy)]
struct Split {
    chunk: usize,
    chunks: usize,
    segment: usize,
    segments: usize,
    band: usize,
    bands: usize,
}

impl Split {
    /// Whole output rows when one channel vector's ring holds them, else the widest segments
    /// it holds, in equal parts; then the most channels (up to [`CHUNK`], whole vectors, equal
    /// parts) whose ring holds the segment; on several threads as many row bands as make about
    /// eight tasks per thread (with 144 channels, chunks of 64, 64 and 16 left two threads
    /// with 4 and 2.75 chunks' work). Long segments first: each channel vector of a row costs
    /// its weights, its epilogue choice and a partial last tile (AVX2, 144 channels at 28x28:
    /// about 100 instructions per vector row against 17 per output).
    fn new(job: &ConvIo, lanes: usize, kh: usize, kw: usize, sw: usize) -> Split {
        let (c, ow) = (job.out.c, job.out.w);
        // Channel vectors whose ring holds `segment` output columns.
        let vectors_for = |segment: usize| STAGE_FLOATS / (kh * ((segment - 1) * sw + kw) * lanes);
        // The staged columns one vector's ring holds, and the output columns they cover.
        let ring_columns = STAGE_FLOATS / (kh * lanes);
        let widest = if ring_columns < kw { 1 } else { ((ring_columns - kw) / sw + 1).min(ow) };
        let segments = ow.div_ceil(widest);
        let segment = ow.div_ceil(segments);
        // Equal parts are no wider than the widest, so their ring still fits.
        let most = vectors_for(segment).clamp(1, (CHUNK / lanes).max(1)) * lanes;
        let chunk = c.div_ceil(c.div_ceil(most)).div_ceil(lanes) * lanes;
        let chunks = c.div_ceil(chunk);
        let columns = job.out.n * chunks * segments;
        let threads = job.spread.threads();
        let bands = if threads == 1 { 1 } else { (8 * threads).div_ceil(columns).clamp(1, job.out.h) };
        let band = job.out.h.div_ceil(bands);
        Split { chunk, chunks, segment, segments, band, bands: job.out.h.div_ceil(band) }
    }
}

/// The staged path for a `KH x KW` kernel at column stride SW, in row tiles of OW pixels.
#[inline(always)]
fn staged<S: Simd, const KH: usize, const KW: usize, const SW: usize, const OW: usize>(
    simd: S,
    job: &Job<'_, PackedDepthwiseWeights>,
) {
    let split = Split::new(job, S::F32_LANES, KH, KW, SW);
    let per_image = split.chunks * split.segments * split.bands;
    job.spread.for_each(job.out.n * per_image, |t| {
        let (n, t) = (t / per_image, t % per_image);
        let (chunk, t) = (t / (split.segments * split.bands), t % (split.segments * split.bands));
        let (segment, band) = (t / split.bands, t % split.bands);
        let c0 = chunk * split.chunk;
        let ox0 = segment * split.segment;
        let oy0 = band * split.band;
        let task = StagedTask {
            job,
            n,
            channels: c0..(c0 + split.chunk).min(job.out.c),
            cols: ox0..(ox0 + split.segment).min(job.out.w),
            rows: oy0..(oy0 + split.band).min(job.out.h),
        };
        crate::isa::vectorize(simd, StagedRun::<KH, KW, SW, OW>(task));
    });
}

/// One task of the staged path: image `n`, a range of channels (starting on a vector), output
/// columns and output rows.
struct StagedTask<'a> {
    job: &'a Job<'a, PackedDepthwiseWeights>,
    n: usize,
    channels: std::ops::Range<usize>,
    cols: std::ops::Range<usize>,
    rows: std::ops::Range<usize>,
}

struct StagedRun<'a, const KH: usize, const KW: usize, const SW: usize, const OW: usize>(StagedTask<'a>);

impl<const KH: usize, const KW: usize, const SW: usize, const OW: usize> WithSimd
    for StagedRun<'_, KH, KW, SW, OW>
{
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let task = self.0;
        let job = task.job;
        let p = &job.packed.params;
        let lanes = S::F32_LANES;
        let c = task.channels.len();
        let (vectors, full) = (c.div_ceil(lanes), c / lanes);
        // The ring, one plane per channel vector: KH slots of `columns` vectors each, so the
        // micro-kernel steps between columns by a constant (one vector).
        let columns = (task.cols.len() - 1) * SW + KW;
        let slot_len = columns * lanes;
        debug_assert!(vectors * KH * slot_len <= STAGE_FLOATS, "Split::new sizes the ring");
        let mut stage = core::mem::MaybeUninit::<Ring<STAGE_FLOATS>>::uninit();
        let ring = stage.as_mut_ptr().cast::<f32>();
        let mut slot_row = [isize::MIN; KH];
        // Input column of staged column 0 (negative in the left padding).
        let ix0 = (task.cols.start * SW) as isize - p.pad.left as isize;
        // Staged columns [inside) hold image pixels, the rest are padding in every row: zeroed
        // here once, so that staging a row copies (or zeroes) only its inside columns.
        let inside = image_columns(true, ix0, job.input.w, columns);
        // SAFETY: every plane's KH slots hold `columns` vectors.
        unsafe { zero_padding_columns::<S>(simd, ring, vectors * KH, columns, &inside) };
        // SAFETY: n < batch; the chunk's first channel is a channel of every pixel.
        let image =
            unsafe { job.x.add(task.n * job.input.h * job.input.w * job.x_pitch + task.channels.start) };
        // Copied out of the job, so that the stores (raw pointers that might alias it) do not
        // make the compiler reload them.
        let (packed, residual, activation) = (job.packed, job.residual, job.activation);
        for oy in task.rows.clone() {
            let iy0 = (oy * p.stride_h) as isize - p.pad.top as isize;
            let mut slots = [0usize; KH];
            for (ky, slot_of) in slots.iter_mut().enumerate() {
                let iy = iy0 + ky as isize;
                // KH consecutive rows fall in KH distinct slots.
                let slot = iy.rem_euclid(KH as isize) as usize;
                if slot_row[slot] != iy {
                    slot_row[slot] = iy;
                    let row = (iy >= 0 && iy < job.input.h as isize)
                        // SAFETY: row iy is inside the image.
                        .then(|| unsafe { image.add(iy as usize * job.input.w * job.x_pitch) });
                    // SAFETY: the ring holds `vectors` planes of KH slots of `slot_len` floats.
                    unsafe {
                        stage_row(simd, row, &task, ix0, &inside, ring.add(slot * slot_len), KH * slot_len)
                    };
                }
                *slot_of = slot;
            }
            let first = (task.n * job.out.h + oy) * job.out.w + task.cols.start;
            // SAFETY: the row's first output pixel and the chunk's first channel are inside the
            // output (and residual) views; each plane holds the window's KH staged rows.
            let (mut out, mut x) = unsafe {
                (
                    job.row_store(first, task.channels.start),
                    slots.map(|slot| ring.add(slot * slot_len).cast_const()),
                )
            };
            // Plane by plane: the output steps by one vector of channels.
            for v in 0..vectors {
                let (weights, bias) = vector_weights::<S, KH, KW>(packed, task.channels.start + v * lanes);
                let (n, valid) = (task.cols.len(), (c - v * lanes).min(lanes));
                if v < full {
                    let row = StagedRow::<S, KH, KW, SW, OW, false> { simd, weights, bias, x, out, n, valid };
                    with_fixed_epilogue(residual.is_some(), activation, row);
                } else {
                    let row = StagedRow::<S, KH, KW, SW, OW, true> { simd, weights, bias, x, out, n, valid };
                    with_fixed_epilogue(residual.is_some(), activation, row);
                }
                out = out.next_channels(lanes);
                x = x.map(|p| p.wrapping_add(KH * slot_len));
            }
        }
    }
}

/// The packed taps and the bias of the channel vector starting at `channel`.
#[inline(always)]
fn vector_weights<S: Simd, const KH: usize, const KW: usize>(
    packed: &PackedDepthwiseWeights,
    channel: usize,
) -> ([[S::f32s; KW]; KH], S::f32s) {
    let lanes = S::F32_LANES;
    // SAFETY: channel / lanes is a packed block; weights and bias are padded to whole vectors,
    // KH * KW taps each.
    unsafe {
        let w = packed.weights.as_ptr().add(channel * KH * KW);
        (
            core::array::from_fn(|ky| core::array::from_fn(|kx| load::<S>(w.add((ky * KW + kx) * lanes)))),
            load::<S>(packed.bias.as_ptr().add(channel)),
        )
    }
}

/// One channel vector of a staged output row, run with its epilogue fixed. Built only by the
/// staged task, whose ring and output row `run` relies on.
struct StagedRow<
    S: Simd,
    const KH: usize,
    const KW: usize,
    const SW: usize,
    const OW: usize,
    const MASKED: bool,
> {
    simd: S,
    weights: [[S::f32s; KW]; KH],
    bias: S::f32s,
    /// The vector's staged input rows, at the row segment's first column.
    x: [*const f32; KH],
    out: RowStore,
    n: usize,
    valid: usize,
}

impl<S: Simd, const KH: usize, const KW: usize, const SW: usize, const OW: usize, const MASKED: bool>
    FixedEpilogue for StagedRow<S, KH, KW, SW, OW, MASKED>
{
    type Output = ();

    #[inline(always)]
    fn run<const RES: bool, const ACT: u8>(self) {
        // SAFETY: the staged rows hold (n - 1) * SW + KW whole-vector columns and the output
        // row has n pixels from `out` (built so by the staged task).
        unsafe {
            dwconv_f32_row_run::<S, KH, KW, SW, OW, MASKED, RES, ACT>(
                self.simd,
                &self.weights,
                self.bias,
                self.x,
                self.out,
                self.n,
                self.valid,
            )
        }
    }
}

/// Zeroes the staged columns outside `inside` of `slots` slots of `columns` vectors.
///
/// # Safety
/// `ring` must be writable for `slots * columns` vectors.
#[inline(always)]
unsafe fn zero_padding_columns<S: Simd>(
    simd: S,
    ring: *mut f32,
    slots: usize,
    columns: usize,
    inside: &std::ops::Range<usize>,
) {
    let (lanes, zero) = (S::F32_LANES, simd.splat_f32s(0.0));
    for slot in 0..slots {
        for j in (0..inside.start).chain(inside.end..columns) {
            // SAFETY: slot < slots and j < columns.
            unsafe { store::<S>(ring.add((slot * columns + j) * lanes), zero) };
        }
    }
}

/// Stages input row `x` (the chunk's first channel at pixel 0; `None` for a row of the padding)
/// in one slot of every plane of the ring: staged column j in `inside` is input column
/// `ix0 + j` (zeros for a padding row and in the chunk's tail lanes). The other columns are
/// padding, zeroed once per task.
///
/// # Safety
/// `x` must be readable for the chunk's channels at every pixel of the row; `slot` writable for
/// the `inside` vectors in each of the chunk's planes, `plane` floats apart.
#[inline(always)]
unsafe fn stage_row<S: Simd>(
    simd: S,
    x: Option<*const f32>,
    task: &StagedTask<'_>,
    ix0: isize,
    inside: &std::ops::Range<usize>,
    slot: *mut f32,
    plane: usize,
) {
    let job = task.job;
    let lanes = S::F32_LANES;
    let c = task.channels.len();
    let zero = simd.splat_f32s(0.0);
    for (v, c0) in (0..c).step_by(lanes).enumerate() {
        // SAFETY: per the contract, plane v's slot holds the inside vectors.
        let mut d = unsafe { slot.add(v * plane + inside.start * lanes) };
        let Some(x) = x else {
            for _ in inside.clone() {
                // SAFETY: as above, one vector further per column.
                unsafe { store::<S>(d, zero) };
                d = d.wrapping_add(lanes);
            }
            continue;
        };
        // SAFETY: the first inside column is a pixel of the row (not negative), and each step
        // moves one pixel along the row and one vector along the slot, staying inside both.
        unsafe {
            let mut src = x.add((ix0 + inside.start as isize) as usize * job.x_pitch + c0);
            if c0 + lanes <= c {
                for _ in inside.clone() {
                    store::<S>(d, load::<S>(src));
                    (src, d) = (src.add(job.x_pitch), d.add(lanes));
                }
            } else {
                // The valid lanes only, zeros in the rest.
                for _ in inside.clone() {
                    store::<S>(d, load_channels::<S, true>(simd, src, c - c0));
                    (src, d) = (src.add(job.x_pitch), d.add(lanes));
                }
            }
        }
    }
}

/// One output row of the channel vectors `blocks` (MASKED: the one partial vector).
struct Task<'a, const MASKED: bool> {
    job: &'a Job<'a, PackedDepthwiseWeights>,
    row: usize,
    blocks: std::ops::Range<usize>,
}

impl<const MASKED: bool> WithSimd for Task<'_, MASKED> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let job = self.job;
        let p = &job.packed.params;
        let lanes = S::F32_LANES;
        let valid = (job.out.c - self.blocks.start * lanes).min(lanes);
        let (n, oy) = (self.row / job.out.h, self.row % job.out.h);
        // SAFETY: n < batch and row < n * out.h, so these point inside the views.
        let ctx = unsafe {
            RowCtx {
                image: job.x.add(n * job.input.h * job.input.w * job.x_pitch),
                iy0: (oy * p.stride_h) as isize - p.pad.top as isize,
                out: job.row_store(self.row * job.out.w, 0),
                activation: job.activation,
                weights: job.packed.weights.as_ptr(),
                bias: job.packed.bias.as_ptr(),
                taps: p.kh * p.kw,
                pad_left: p.pad.left,
                valid,
            }
        };
        // Row-tile widths of ukernel::tiles, one monomorphization each.
        // Stride 1 reaches this path only with a dilation, which tiles do not cover.
        match (p.kh, p.kw, p.stride_w, p.dilation_w, depthwise_row(lanes, p.kw, p.stride_w)) {
            (3, 3, 2, 1, 4) => self.tiled::<S, 3, 3, 2, 4>(simd, &ctx),
            (5, 5, 2, 1, _) => self.tiled::<S, 5, 5, 2, 4>(simd, &ctx),
            _ => self.general::<S>(simd, &ctx, 0..job.out.w),
        }
    }
}

/// The per-row constants of a task, copied out of the job so that the compiler keeps them in
/// registers across the stores (which, as raw pointers, might otherwise alias the job).
struct RowCtx {
    /// Pixel (0, 0) of the task's image, channel 0.
    image: *const f32,
    /// Input row of kernel row 0, possibly outside the image.
    iy0: isize,
    /// Output pixel 0 of the row, channel 0 (and the residual's, null when there is none).
    out: RowStore,
    activation: Activation,
    /// The packed taps and bias of channel vector 0, and the taps per vector.
    weights: *const f32,
    bias: *const f32,
    taps: usize,
    pad_left: usize,
    /// The valid lanes of the task's vectors (all of them unless MASKED).
    valid: usize,
}

impl<const MASKED: bool> Task<'_, MASKED> {
    /// The packed taps and the bias of channel vector `block`.
    #[inline(always)]
    fn block_weights<S: Simd>(&self, ctx: &RowCtx, block: usize) -> (*const f32, S::f32s) {
        let lanes = S::F32_LANES;
        // SAFETY: block < c / lanes rounded up; weights and bias are padded to whole vectors.
        unsafe { (ctx.weights.add(block * ctx.taps * lanes), load::<S>(ctx.bias.add(block * lanes))) }
    }

    /// Where channel vector `block`'s outputs go from pixel `ox` of the row on.
    #[inline(always)]
    fn store_at<S: Simd>(&self, ctx: &RowCtx, ox: usize, block: usize) -> RowStore {
        ctx.out.advance(ox).next_channels(block * S::F32_LANES)
    }

    /// Stores the T outputs of channel vector `block` from pixel `ox` with the row's epilogue.
    ///
    /// # Safety
    /// Pixels `ox .. ox + T` must be in the row and `block` one of the task's vectors.
    #[inline(always)]
    unsafe fn store_tile<S: Simd, const T: usize>(
        &self,
        simd: S,
        ctx: &RowCtx,
        acc: [S::f32s; T],
        ox: usize,
        block: usize,
    ) {
        let out = self.store_at::<S>(ctx, ox, block);
        // The tile vouches for store_row's contract through this function's.
        let tile = RowTile::<S, T, MASKED> { simd, acc, out, n: T, valid: ctx.valid };
        with_fixed_epilogue(!ctx.out.residual.is_null(), ctx.activation, tile);
    }

    /// The per-pixel path for the output columns `cols` of the row.
    #[inline(always)]
    fn general<S: Simd>(&self, simd: S, ctx: &RowCtx, cols: std::ops::Range<usize>) {
        let job = self.job;
        let p = &job.packed.params;
        for ox in cols {
            for block in self.blocks.clone() {
                let (w, bias) = self.block_weights::<S>(ctx, block);
                let win = Window {
                    // SAFETY: block * lanes < c, a channel of every pixel.
                    image: unsafe { ctx.image.add(block * S::F32_LANES) },
                    pitch: job.x_pitch,
                    ih: job.input.h as isize,
                    iw: job.input.w as isize,
                    iy0: ctx.iy0,
                    ix0: (ox * p.stride_w) as isize - p.pad.left as isize,
                    kh: p.kh,
                    kw: p.kw,
                    dh: p.dilation_h as isize,
                    dw: p.dilation_w as isize,
                };
                // SAFETY: the window only reads pixels inside the image (the vector's lanes that
                // are valid channels); the packed taps hold kh * kw vectors; ox < out.w.
                unsafe {
                    let acc = dwconv_f32_pixel::<S, MASKED>(simd, bias, &win, w, ctx.valid);
                    self.store_tile::<S, 1>(simd, ctx, [acc], ox, block);
                }
            }
        }
    }

    /// Row tiles of OW pixels (then of 2 and 1) where the window is inside the image horizontally,
    /// the general path on the left and right borders. Channel vectors are the inner loop, so
    /// the input streams through memory pixel by pixel; the tile reloads its taps, which costs
    /// KH * KW loads against the tile's KH * ((OW - 1) * SW + KW) input loads.
    #[inline(always)]
    fn tiled<S: Simd, const KH: usize, const KW: usize, const SW: usize, const OW: usize>(
        &self,
        simd: S,
        ctx: &RowCtx,
    ) {
        let job = self.job;
        let p = &job.packed.params;
        let (iw, ow, pad_left) = (job.input.w, job.out.w, p.pad.left);
        // Columns whose window [ox * SW - pad_left, .. + KW) lies inside 0..iw.
        let lo = pad_left.div_ceil(SW).min(ow);
        let hi = if iw + pad_left >= KW { ((iw + pad_left - KW) / SW + 1).min(ow) } else { 0 };
        let hi = hi.max(lo);
        let mut base = TileRows::<KH> { x: [job.packed.zeros.as_ptr(); KH], pitch: [0; KH] };
        for ky in 0..KH {
            let iy = ctx.iy0 + (ky * p.dilation_h) as isize;
            if iy >= 0 && iy < job.input.h as isize {
                // SAFETY: iy is a row of the image.
                base.x[ky] = unsafe { ctx.image.add(iy as usize * iw * job.x_pitch) };
                base.pitch[ky] = job.x_pitch;
            }
        }
        // The left border: a one-pixel tile that skips the padding columns, where it is one or
        // two of them (the general window costs about ten times as many instructions).
        for ox in 0..lo {
            let right_inside = ox * SW + KW <= iw + pad_left;
            match (right_inside, pad_left - ox * SW) {
                (true, 1) => self.tile::<S, KH, KW, SW, 1, 1>(simd, ctx, &base, ox),
                (true, 2) => self.tile::<S, KH, KW, SW, 1, 2>(simd, ctx, &base, ox),
                _ => self.general::<S>(simd, ctx, ox..ox + 1),
            }
        }
        let mut ox = lo;
        while ox + OW <= hi {
            self.tile::<S, KH, KW, SW, OW, 0>(simd, ctx, &base, ox);
            ox += OW;
        }
        // The rest in tiles of 2 (sharing input columns), then 1.
        while ox + 2 <= hi {
            self.tile::<S, KH, KW, SW, 2, 0>(simd, ctx, &base, ox);
            ox += 2;
        }
        while ox < hi {
            self.tile::<S, KH, KW, SW, 1, 0>(simd, ctx, &base, ox);
            ox += 1;
        }
        self.general::<S>(simd, ctx, hi..ow);
    }

    /// OW outputs of every vector from pixel `ox`, whose windows' first SKIP columns are the
    /// left padding.
    #[inline(always)]
    fn tile<
        S: Simd,
        const KH: usize,
        const KW: usize,
        const SW: usize,
        const OW: usize,
        const SKIP: usize,
    >(
        &self,
        simd: S,
        ctx: &RowCtx,
        base: &TileRows<KH>,
        ox: usize,
    ) {
        let lanes = S::F32_LANES;
        // Negative by SKIP columns on the border: those are never read.
        let ix0 = (ox * SW) as isize - ctx.pad_left as isize;
        for block in self.blocks.clone() {
            let (weights, bias) = vector_weights::<S, KH, KW>(self.job.packed, block * lanes);
            // Zero rows have pitch 0 and stay on the zero vector; block * lanes < c. The pointer
            // is only dereferenced from column SKIP on (below, it may be before the row).
            let rows = TileRows::<KH> {
                x: core::array::from_fn(|ky| {
                    let channel = if base.pitch[ky] == 0 { 0 } else { block * lanes };
                    base.x[ky].wrapping_offset(ix0 * base.pitch[ky] as isize + channel as isize)
                }),
                pitch: base.pitch,
            };
            let mut acc = [bias; OW];
            // SAFETY: columns ix0 + SKIP .. ix0 + (OW - 1) * SW + KW are inside the image row (or
            // the zero vector): on the border ix0 + SKIP = 0 and the window ends inside, else
            // ox >= lo and ox + OW <= hi; the outputs ox .. ox + OW are inside the row.
            unsafe {
                dwconv_f32_row::<S, KH, KW, SW, OW, SKIP, MASKED>(simd, &mut acc, &weights, &rows, ctx.valid);
                self.store_tile::<S, OW>(simd, ctx, acc, ox, block);
            }
        }
    }
}
