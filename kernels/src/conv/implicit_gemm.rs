//! The implicit-GEMM engine behind the direct, pointwise and factorized convolutions: no im2col
//! buffer; each register tile computes, per kernel tap, MR input-row pointers (a shared zero
//! row stands in for padding) and runs the GEMM micro-kernel over them. A 1x1 stride-1
//! unpadded layer takes a leaner band loop whose rows are plain pixel steps; a layer with at
//! most 4 input channels (an image stem) copies its input rows with their padding first, so
//! its tiles need no per-tap bookkeeping either.
//!
//! Work is split into tasks of (a band of output pixels) x (a block of output channels); each
//! output value is computed by one task in a fixed order, so results are bitwise identical for
//! any thread count.

use pulp::{Simd, WithSimd};

use super::io::{ConvIo, Job};
use super::ring::{image_columns, Ring};
use crate::epilogue::Epilogue;
use crate::error::Result;
use crate::pack::PackedGemmWeights;
use crate::params::Padding;
use crate::spread::Spread;
use crate::tensor::{Shape, TensorView, TensorViewMut};
use crate::ukernel::gemm::{
    gemm_f32_accumulate, gemm_f32_store, gemm_f32_taps, ChainedTile, Taps, TileStore,
};
use crate::ukernel::row_store::{prefetch_floats, store_row};
use crate::ukernel::simd::{array_from_fn, load, with_fixed_epilogue, FixedEpilogue};
use crate::ukernel::tiles::{by_gemm_rows, by_gemm_width};

/// Most output pixels per task: a multiple of every tile height (4, 6, 8).
const BAND: usize = 96;

/// Fewest output pixels per task, when narrower bands make more tasks (a multiple of the
/// tile heights too).
const MIN_BAND: usize = 24;

/// Tasks a layer should have for two threads to end together: a small layer cut into 96-pixel
/// bands has few (MobileNet v2's 960 -> 160 at 7x7: three tasks of 49 pixels, the third half as
/// wide) and one thread waits for the other's last.
const MIN_TASKS: usize = 16;

/// Input channels up to which a layer runs on staged rows (see [`Task::staged_band`]).
const STAGED_MAX_C_IN: usize = 4;

/// Floats of a task's staged input rows (32 KiB on its stack).
const STAGED_FLOATS: usize = 8192;

/// Runs the packed convolution `y = act(conv(x) + bias + residual)` on the current rayon pool.
pub(crate) fn run(
    layer: &str,
    packed: &PackedGemmWeights,
    x: &TensorView<'_>,
    y: &mut TensorViewMut<'_>,
    epilogue: &Epilogue<'_>,
    spread: Spread,
) -> Result<()> {
    let job = Job { packed, io: ConvIo::new(layer, &packed.params, x, y, epilogue, spread)? };
    let pixels = job.out.pixels()?;
    let groups = job.out.c.div_ceil(packed.nr).div_ceil(packed.group_blocks);
    let band = match spread {
        Spread::Pool => band_pixels(pixels, groups),
        Spread::Caller => BAND,
    };
    spread.try_for_each(pixels.div_ceil(band) * groups, |t| {
        let p0 = t / groups * band;
        packed.isa.dispatch(Task { job: &job, pixels: p0..(p0 + band).min(pixels), group: t % groups })
    })
}

/// Output pixels per task on the pool: [`BAND`], or down to [`MIN_BAND`] while there are fewer
/// than [`MIN_TASKS`] tasks. It depends on the layer only, never on the thread count (and a
/// pixel's value not on its band: band chains run the same rows in bands of their own).
fn band_pixels(pixels: usize, groups: usize) -> usize {
    let bands = MIN_TASKS.div_ceil(groups);
    pixels.div_ceil(bands).next_multiple_of(MIN_BAND).clamp(MIN_BAND, BAND)
}

struct Task<'a> {
    job: &'a Job<'a, PackedGemmWeights>,
    /// The task's output pixels (a band of the flattened batch x rows x columns).
    pixels: std::ops::Range<usize>,
    group: usize,
}

impl WithSimd for Task<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        // The tile height is fixed per ISA; the width adapts per block (`by_gemm_width`).
        by_gemm_rows!(S::F32_LANES, self.band::<S>(simd))
    }
}

/// Where the MR rows of one register tile come from and go to.
struct TileRows<const MR: usize> {
    /// Valid rows (the rest repeat the last one and are not stored).
    rows: usize,
    /// Pixel index of the row's image start, and the top-left input coordinate of its window.
    img: [isize; MR],
    iy0: [isize; MR],
    ix0: [isize; MR],
    /// Output and residual rows at channel 0.
    y: [*mut f32; MR],
    residual: [*const f32; MR],
    /// Whole kernel rows are contiguous K segments for every row of the tile.
    merge: bool,
    /// Every tap of every row is inside the image; then `window` holds each row's top-left
    /// input pixel at channel 0 (else null).
    interior: bool,
    window: [*const f32; MR],
}

impl Task<'_> {
    #[inline(always)]
    fn band<S: Simd, const MR: usize>(&self, simd: S) {
        let job = self.job;
        let packed = job.packed;
        let p = &packed.params;
        let (c_in, nr, kc) = (p.c_in, packed.nr, packed.kc);
        let (p0, p1) = (self.pixels.start, self.pixels.end);
        let blocks = job.out.c.div_ceil(nr);
        let b0 = self.group * packed.group_blocks;
        let b1 = (b0 + packed.group_blocks).min(blocks);
        let chunks = c_in.div_ceil(kc);
        if p.kh == 1
            && p.kw == 1
            && p.stride_h == 1
            && p.stride_w == 1
            && p.pad == Padding::uniform(0)
            && chunks == 1
        {
            return self.pointwise_band::<S, MR>(simd, p0..p1, b0..b1);
        }
        if chunks == 1 && p.dilation_h == 1 && p.dilation_w == 1 && p.c_in <= STAGED_MAX_C_IN {
            let widest = (p1 - p0).min(job.out.w);
            if p.kh * ((widest - 1) * p.stride_w + p.kw) * c_in <= STAGED_FLOATS {
                return self.staged_band::<S, MR>(simd, p0..p1, b0..b1);
            }
        }
        // A whole kernel row is one contiguous K segment when its pixels are adjacent in memory
        // and the chunk spans every input channel.
        let rows_contiguous = p.dilation_w == 1 && kc >= c_in && job.x_pitch == c_in && p.kw > 1;

        for chunk in 0..chunks {
            let (whole, tail) = split_tail::<MR>(p0..p1);
            self.tiles::<S, MR>(simd, whole, b0..b1, chunk, rows_contiguous);
            match tail.len() {
                0 => {}
                1 | 2 => self.tiles::<S, 2>(simd, tail, b0..b1, chunk, rows_contiguous),
                3 | 4 => self.tiles::<S, 4>(simd, tail, b0..b1, chunk, rows_contiguous),
                _ => self.tiles::<S, MR>(simd, tail, b0..b1, chunk, rows_contiguous),
            }
        }
    }

    /// The register tiles of MR output pixels over `pixels` (the last one partial when MR does
    /// not divide their count), blocks `blocks`, K chunk `chunk`.
    #[inline(always)]
    fn tiles<S: Simd, const MR: usize>(
        &self,
        simd: S,
        pixels: std::ops::Range<usize>,
        blocks: std::ops::Range<usize>,
        chunk: usize,
        rows_contiguous: bool,
    ) {
        let job = self.job;
        let p = &job.packed.params;
        let nr = job.packed.nr;
        let lanes = S::F32_LANES;
        let (ih, iw) = (job.input.h as isize, job.input.w as isize);
        let (ext_h, ext_w) = (((p.kh - 1) * p.dilation_h) as isize, ((p.kw - 1) * p.dilation_w) as isize);
        let (p0, p1) = (pixels.start, pixels.end);
        let (b0, b1) = (blocks.start, blocks.end);
        // Output coordinates walk pixel by pixel: one division per band, none per tile.
        let mut cursor = PixelCursor::at(p0, job.out);
        for t0 in (p0..p1).step_by(MR) {
            let rows = MR.min(p1 - t0);
            let mut tile = TileRows {
                rows,
                img: [0; MR],
                iy0: [0; MR],
                ix0: [0; MR],
                y: [core::ptr::null_mut(); MR],
                residual: [core::ptr::null(); MR],
                merge: false,
                interior: false,
                window: [core::ptr::null(); MR],
            };
            for r in 0..MR {
                // Rows past the band's end repeat its last pixel (computed, never stored).
                let pix = t0 + r.min(rows - 1);
                tile.img[r] = (cursor.n * job.input.h * job.input.w) as isize;
                tile.iy0[r] = (cursor.oy * p.stride_h) as isize - p.pad.top as isize;
                tile.ix0[r] = (cursor.ox * p.stride_w) as isize - p.pad.left as isize;
                // SAFETY: pix < pixels, so these are pixel starts inside the views.
                tile.y[r] = unsafe { job.y.add(pix * job.y_pitch) };
                if let Some((res, pitch)) = job.residual {
                    // SAFETY: as for y; the residual has the output's shape.
                    tile.residual[r] = unsafe { res.add(pix * pitch) };
                }
                if r + 1 < rows || rows == MR {
                    cursor.advance(job.out);
                }
            }
            tile.merge =
                rows_contiguous && (0..MR).all(|r| tile.ix0[r] >= 0 && tile.ix0[r] + p.kw as isize <= iw);
            tile.interior = (0..MR).all(|r| {
                tile.iy0[r] >= 0 && tile.iy0[r] + ext_h < ih && tile.ix0[r] >= 0 && tile.ix0[r] + ext_w < iw
            });
            if tile.interior {
                // SAFETY: each row's window starts at a pixel inside the image.
                tile.window = array_from_fn(|r| unsafe {
                    job.x.add((tile.img[r] + tile.iy0[r] * iw + tile.ix0[r]) as usize * job.x_pitch)
                });
            }
            for block in b0..b1 {
                let nv = (job.out.c - block * nr).div_ceil(lanes).min(nr / lanes);
                by_gemm_width!(lanes, nv, self.tile::<S, MR>(simd, &tile, block, chunk));
            }
        }
    }

    /// The band of a 1x1, stride-1, unpadded convolution whose K fits one chunk (MobileNet's
    /// expansions and projections, ResNet's bottleneck ends): output pixel i reads input pixel
    /// i, so a tile's rows are plain pointer steps and the per-tile bookkeeping of the general
    /// path (window coordinates, bounds checks, zero rows) goes away, and the epilogue is
    /// fixed once per band. It weighs on short K: a 16 -> 96 channel layer ran at 35% of the
    /// peak-FMA probe through the general path, 41% here with a per-tile epilogue and 70% with
    /// the bias-initialized tiles below; 64 -> 256 at 67%, 78% and 89% (kernels report, AVX2,
    /// 1 thread).
    #[inline(always)]
    fn pointwise_band<S: Simd, const MR: usize>(
        &self,
        simd: S,
        pixels: std::ops::Range<usize>,
        blocks: std::ops::Range<usize>,
    ) {
        let band = PointwiseBand::<S, MR> { task: self, simd, pixels, blocks };
        with_fixed_epilogue(self.job.residual.is_some(), self.job.activation, band);
    }

    /// The band of a layer with few input channels (an image stem: 3 -> 32 3x3 stride 2, 3 -> 64
    /// 7x7 stride 2), row segment by row segment: the segment's KH input rows are copied with
    /// their padding as zeros, so a kernel row is one contiguous K segment of KW * c_in floats
    /// for every pixel of a tile, the tile's rows are one pointer stepped by SW * c_in, and
    /// the per-tile window bookkeeping and border checks of the general path, which weigh
    /// against a K of only 27, go away; the epilogue is fixed once per band, the tiles start
    /// from the bias.
    #[inline(always)]
    fn staged_band<S: Simd, const MR: usize>(
        &self,
        simd: S,
        pixels: std::ops::Range<usize>,
        blocks: std::ops::Range<usize>,
    ) {
        let band = StagedBand::<S, MR> { task: self, simd, pixels, blocks };
        with_fixed_epilogue(self.job.residual.is_some(), self.job.activation, band);
    }

    /// [`Self::staged_band`] with its epilogue fixed: stages and computes each output row
    /// segment of the band in turn.
    #[inline(always)]
    fn staged_segments<S: Simd, const MR: usize, const RES: bool, const ACT: u8>(
        &self,
        simd: S,
        pixels: std::ops::Range<usize>,
        blocks: std::ops::Range<usize>,
    ) {
        let job = self.job;
        let p = &job.packed.params;
        let c_in = p.c_in;
        let mut ring = core::mem::MaybeUninit::<Ring<STAGED_FLOATS>>::uninit();
        let staged = ring.as_mut_ptr().cast::<f32>();
        let mut cursor = PixelCursor::at(pixels.start, job.out);
        let mut t0 = pixels.start;
        while t0 < pixels.end {
            let n = (job.out.w - cursor.ox).min(pixels.end - t0);
            let columns = (n - 1) * p.stride_w + p.kw;
            let row_len = columns * c_in;
            debug_assert!(p.kh * row_len <= STAGED_FLOATS, "staged_band's caller checks the size");
            let ix0 = (cursor.ox * p.stride_w) as isize - p.pad.left as isize;
            let inside = image_columns(true, ix0, job.input.w, columns);
            for ky in 0..p.kh {
                let iy = (cursor.oy * p.stride_h + ky) as isize - p.pad.top as isize;
                // SAFETY: the staged rows hold kh rows of row_len floats (checked by the caller).
                let dst = unsafe { staged.add(ky * row_len) };
                let row = (iy >= 0 && iy < job.input.h as isize).then(|| {
                    // SAFETY: row iy of image n is inside the input.
                    unsafe { job.x.add((cursor.n * job.input.h + iy as usize) * job.input.w * job.x_pitch) }
                });
                // SAFETY: dst holds `columns` pixels of c_in floats; the row, iw pixels.
                unsafe { stage_pixels(row, job.x_pitch, c_in, ix0, &inside, columns, dst) };
            }
            let (whole, tail) = split_tail::<MR>(0..n);
            let segment = StagedSegment { staged, row_len, t0 };
            self.staged_tiles::<S, MR, RES, ACT>(simd, &segment, whole, blocks.clone());
            match tail.len() {
                0 => {}
                1 | 2 => self.staged_tiles::<S, 2, RES, ACT>(simd, &segment, tail, blocks.clone()),
                3 | 4 => self.staged_tiles::<S, 4, RES, ACT>(simd, &segment, tail, blocks.clone()),
                _ => self.staged_tiles::<S, MR, RES, ACT>(simd, &segment, tail, blocks.clone()),
            }
            t0 += n;
            cursor = PixelCursor::at(t0, job.out);
        }
    }

    /// The register tiles of MR pixels over the segment's pixels `tiles` (relative to its start;
    /// the last one partial when MR does not divide their count).
    #[inline(always)]
    fn staged_tiles<S: Simd, const MR: usize, const RES: bool, const ACT: u8>(
        &self,
        simd: S,
        segment: &StagedSegment,
        tiles: std::ops::Range<usize>,
        blocks: std::ops::Range<usize>,
    ) {
        let job = self.job;
        let p = &job.packed.params;
        let (lanes, nr) = (S::F32_LANES, job.packed.nr);
        let step = p.stride_w * p.c_in;
        for o in tiles.clone().step_by(MR) {
            let rows = MR.min(tiles.end - o);
            // Rows past the segment's end repeat its last pixel (computed, never stored).
            let x = array_from_fn(|r| segment.staged.wrapping_add((o + r.min(rows - 1)) * step).cast_const());
            for block in blocks.clone() {
                let nv = (job.out.c - block * nr).div_ceil(lanes).min(nr / lanes);
                by_gemm_width!(
                    lanes,
                    nv,
                    self.staged_tile::<S, MR, RES, ACT>(simd, &x, segment, segment.t0 + o, rows, block)
                );
            }
        }
    }

    /// One MR x NV register tile of a staged segment: the bias, one K segment of KW * c_in per
    /// kernel row, then the store of `rows` pixels from output pixel `t0`.
    #[inline(always)]
    fn staged_tile<S: Simd, const MR: usize, const RES: bool, const ACT: u8, const NV: usize>(
        &self,
        simd: S,
        x: &[*const f32; MR],
        segment: &StagedSegment,
        t0: usize,
        rows: usize,
        block: usize,
    ) {
        let packed = self.job.packed;
        let p = &packed.params;
        let (k, nr) = (p.kw * p.c_in, packed.nr);
        let mut acc = ChainedTile::new(simd, self.bias_tile::<S, MR, NV>(block));
        for ky in 0..p.kh {
            let xr = x.map(|row| row.wrapping_add(ky * segment.row_len));
            // SAFETY: each tile row starts a window's kernel row ky in the staged rows, k floats
            // long; block's panel holds kh * k rows of nr floats (one chunk, taps row-major).
            unsafe {
                gemm_f32_accumulate::<S, MR, NV>(
                    simd,
                    &mut acc,
                    &xr,
                    packed.weights.as_ptr().add((block * p.kh + ky) * k * nr),
                    nr,
                    k,
                )
            };
            acc.end_chain(simd);
        }
        self.store_tile::<S, MR, RES, ACT, NV>(simd, &acc.sum(simd), t0, rows, block);
    }

    /// The register tiles of MR pixels of a pointwise band (the last one partial when MR does
    /// not divide the pixel count).
    #[inline(always)]
    fn pointwise_tiles<S: Simd, const MR: usize, const RES: bool, const ACT: u8>(
        &self,
        simd: S,
        pixels: std::ops::Range<usize>,
        blocks: std::ops::Range<usize>,
    ) {
        let job = self.job;
        let lanes = S::F32_LANES;
        let nr = job.packed.nr;
        for t0 in pixels.clone().step_by(MR) {
            let rows = MR.min(pixels.end - t0);
            // Rows past the band's end repeat its last pixel (computed, never stored).
            // SAFETY: every pixel is below the batch's pixel count, in the input (same
            // positions as the output: 1x1, stride 1, no padding).
            let x = array_from_fn(|r| unsafe { job.x.add((t0 + r.min(rows - 1)) * job.x_pitch) });
            for block in blocks.clone() {
                let nv = (job.out.c - block * nr).div_ceil(lanes).min(nr / lanes);
                by_gemm_width!(lanes, nv, self.pointwise_tile::<S, MR, RES, ACT>(simd, &x, t0, rows, block));
            }
        }
    }

    /// One MR x NV register tile of [`Self::pointwise_band`]: the bias, all of K, then the
    /// store of `rows` pixels from pixel `t0`.
    #[inline(always)]
    fn pointwise_tile<S: Simd, const MR: usize, const RES: bool, const ACT: u8, const NV: usize>(
        &self,
        simd: S,
        x: &[*const f32; MR],
        t0: usize,
        rows: usize,
        block: usize,
    ) {
        let packed = self.job.packed;
        let (c_in, nr) = (packed.params.c_in, packed.nr);
        // SAFETY: t0 is an output pixel and block * nr one of its channels.
        unsafe { self.job.row_store(t0, block * nr) }.prefetch(rows, NV * S::F32_LANES);
        let mut acc = ChainedTile::new(simd, self.bias_tile::<S, MR, NV>(block));
        // SAFETY: each row holds c_in channels; block's panel is c_in rows of nr floats (one
        // chunk, one tap).
        unsafe {
            gemm_f32_accumulate::<S, MR, NV>(
                simd,
                &mut acc,
                x,
                packed.weights.as_ptr().add(block * c_in * nr),
                nr,
                c_in,
            )
        };
        self.store_tile::<S, MR, RES, ACT, NV>(simd, &acc.sum(simd), t0, rows, block);
    }

    /// A tile's accumulators set to block `block`'s bias.
    #[inline(always)]
    fn bias_tile<S: Simd, const MR: usize, const NV: usize>(&self, block: usize) -> [[S::f32s; NV]; MR] {
        let packed = self.job.packed;
        let oc0 = block * packed.nr;
        // SAFETY: the bias is padded to whole blocks.
        let bias: [S::f32s; NV] =
            array_from_fn(|j| unsafe { load::<S>(packed.bias.as_ptr().add(oc0 + j * S::F32_LANES)) });
        [bias; MR]
    }

    /// Stores the first `rows` rows of a tile of block `block` at the consecutive output pixels
    /// from `t0`, with the epilogue fixed (RES, ACT) and the bias already in `acc`.
    #[inline(always)]
    #[allow(clippy::needless_range_loop)] // j names the tile's vector column
    fn store_tile<S: Simd, const MR: usize, const RES: bool, const ACT: u8, const NV: usize>(
        &self,
        simd: S,
        acc: &[[S::f32s; NV]; MR],
        t0: usize,
        rows: usize,
        block: usize,
    ) {
        let job = self.job;
        let lanes = S::F32_LANES;
        let oc0 = block * job.packed.nr;
        let valid = (job.out.c - oc0).min(NV * lanes) - (NV - 1) * lanes;
        // SAFETY: t0 is an output pixel and oc0 one of its channels.
        let out = unsafe { job.row_store(t0, oc0) };
        for j in 0..NV {
            let column: [S::f32s; MR] = array_from_fn(|r| acc[r][j]);
            let out = out.next_channels(j * lanes);
            // SAFETY: pixels t0..t0 + rows are outputs (the caller's tile); vector j holds
            // lanes channels, the last one `valid`.
            unsafe {
                if j + 1 < NV || valid == lanes {
                    store_row::<S, MR, false, RES, ACT>(simd, &column, &out, rows, lanes)
                } else {
                    store_row::<S, MR, true, RES, ACT>(simd, &column, &out, rows, valid)
                }
            }
        }
    }

    /// One MR x NV register tile: accumulate the chunk's K segments, then store.
    #[inline(always)]
    fn tile<S: Simd, const MR: usize, const NV: usize>(
        &self,
        simd: S,
        tile: &TileRows<MR>,
        block: usize,
        chunk: usize,
    ) {
        let job = self.job;
        let packed = job.packed;
        let p = &packed.params;
        let (ih, iw) = (job.input.h as isize, job.input.w as isize);
        let (c_in, nr, kc) = (p.c_in, packed.nr, packed.kc);
        let taps = p.kh * p.kw;
        let lanes = S::F32_LANES;
        let ic0 = chunk * kc;
        let kcur = kc.min(c_in - ic0);
        let oc0 = block * nr;
        let zeros = packed.zeros.as_ptr();
        let chunks = c_in.div_ceil(kc);
        let store = TileStore {
            // SAFETY: oc0 < c_out, inside every output (and residual) pixel row.
            y: array_from_fn(|r| unsafe { tile.y[r].add(oc0) }),
            residual: job.residual.map(|_| array_from_fn(|r| unsafe { tile.residual[r].add(oc0) })),
            // SAFETY: the bias is padded to whole blocks.
            bias: unsafe { packed.bias.as_ptr().add(oc0) },
            rows: tile.rows,
            last_lanes: (job.out.c - oc0).min(NV * lanes) - (NV - 1) * lanes,
            first: chunk == 0,
            last: chunk + 1 == chunks,
            activation: job.activation,
        };
        for r in 0..store.rows {
            prefetch_floats(store.y[r], NV * lanes);
            if let Some(residual) = &store.residual {
                prefetch_floats(residual[r], NV * lanes);
            }
        }
        // SAFETY: (block, chunk) panels tile the packed buffer exactly (see pack::gemm).
        let wchunk = unsafe { packed.weights.as_ptr().add(block * taps * c_in * nr + taps * ic0 * nr) };
        // SAFETY (the row pointers): a pointer into x is formed only for a pixel inside the
        // image, at channel ic0, with kcur (or kw * c_in when merged) floats of that pixel row
        // readable; otherwise it is the zero row, which is long enough for both.
        let at = |r: usize, iy: isize, ix: isize| -> *const f32 {
            if iy >= 0 && iy < ih && ix >= 0 && ix < iw {
                let pixel = (tile.img[r] + iy * iw + ix) as usize;
                unsafe { job.x.add(pixel * job.x_pitch + ic0) }
            } else {
                zeros
            }
        };
        let kernel = Taps {
            kh: p.kh,
            kw: p.kw,
            dilation_h: p.dilation_h,
            dilation_w: p.dilation_w,
            merge: tile.merge,
        };
        let acc = if tile.interior {
            // Every tap is inside the image: rows step from the window's corner by constant
            // offsets, with no bounds checks.
            // SAFETY: (dy, dx) is a tap of the window, inside the image (interior), at ic0.
            let row_at = |r: usize, dy: isize, dx: isize| unsafe {
                tile.window[r].add(((dy * iw + dx) as usize) * job.x_pitch + ic0)
            };
            // SAFETY: as for the border case below.
            unsafe { gemm_f32_taps::<S, MR, NV>(simd, &kernel, wchunk, kcur * nr, nr, kcur, row_at) }
        } else {
            let row_at = |r: usize, dy: isize, dx: isize| at(r, tile.iy0[r] + dy, tile.ix0[r] + dx);
            // SAFETY: `at` gives kcur readable floats per row (kw * kcur when merged, which
            // `merge` checks, the chunk then spanning c_in); wchunk is the (block, chunk) panel
            // of taps * kcur rows of nr floats.
            unsafe { gemm_f32_taps::<S, MR, NV>(simd, &kernel, wchunk, kcur * nr, nr, kcur, row_at) }
        };
        // SAFETY: the valid rows of y/residual hold (NV-1)*lanes + last_lanes channels from
        // oc0 (the block's valid channels), and the padded bias has NV vectors.
        unsafe { gemm_f32_store::<S, MR, NV>(simd, &acc, &store) };
    }
}

/// `pixels` split into whole tiles of MR and the rest, which a narrower tile takes: a 7x7
/// layer's 49 pixels are eight 6-row tiles and one pixel, which a 6-row tile would compute six
/// times (10% more work for the layer).
pub(super) fn split_tail<const MR: usize>(
    pixels: std::ops::Range<usize>,
) -> (std::ops::Range<usize>, std::ops::Range<usize>) {
    let whole = pixels.start + pixels.len() / MR * MR;
    (pixels.start..whole, whole..pixels.end)
}

/// The (image, row, column) of an output pixel, advanced without division.
struct PixelCursor {
    n: usize,
    oy: usize,
    ox: usize,
}

impl PixelCursor {
    #[inline(always)]
    fn at(pixel: usize, out: Shape) -> Self {
        let plane = out.h * out.w;
        let rem = pixel % plane;
        PixelCursor { n: pixel / plane, oy: rem / out.w, ox: rem % out.w }
    }

    #[inline(always)]
    fn advance(&mut self, out: Shape) {
        self.ox += 1;
        if self.ox == out.w {
            self.ox = 0;
            self.oy += 1;
            if self.oy == out.h {
                self.oy = 0;
                self.n += 1;
            }
        }
    }
}

/// A pointwise band with its epilogue fixed (see [`Task::pointwise_band`]).
struct PointwiseBand<'a, S: Simd, const MR: usize> {
    task: &'a Task<'a>,
    simd: S,
    pixels: std::ops::Range<usize>,
    blocks: std::ops::Range<usize>,
}

impl<S: Simd, const MR: usize> FixedEpilogue for PointwiseBand<'_, S, MR> {
    type Output = ();

    #[inline(always)]
    fn run<const RES: bool, const ACT: u8>(self) {
        let (task, simd) = (self.task, self.simd);
        let (whole, tail) = split_tail::<MR>(self.pixels);
        task.pointwise_tiles::<S, MR, RES, ACT>(simd, whole, self.blocks.clone());
        match tail.len() {
            0 => {}
            1 | 2 => task.pointwise_tiles::<S, 2, RES, ACT>(simd, tail, self.blocks),
            3 | 4 => task.pointwise_tiles::<S, 4, RES, ACT>(simd, tail, self.blocks),
            _ => task.pointwise_tiles::<S, MR, RES, ACT>(simd, tail, self.blocks),
        }
    }
}

/// A staged band with its epilogue fixed (see [`Task::staged_band`]).
struct StagedBand<'a, S: Simd, const MR: usize> {
    task: &'a Task<'a>,
    simd: S,
    pixels: std::ops::Range<usize>,
    blocks: std::ops::Range<usize>,
}

impl<S: Simd, const MR: usize> FixedEpilogue for StagedBand<'_, S, MR> {
    type Output = ();

    #[inline(always)]
    fn run<const RES: bool, const ACT: u8>(self) {
        self.task.staged_segments::<S, MR, RES, ACT>(self.simd, self.pixels, self.blocks);
    }
}

/// One output row segment's staged input rows: KH rows of `row_len` floats from `staged`, for
/// the output pixels from `t0`.
struct StagedSegment {
    staged: *mut f32,
    row_len: usize,
    t0: usize,
}

/// Copies the pixels of input row `row` (`None`: a row of the padding) at input columns
/// `ix0..ix0 + columns` to `dst`, `c_in` floats each, with zeros outside the `inside` columns.
///
/// # Safety
/// `row` must be readable for the row's pixels (`pitch` floats apart, c_in each) at the inside
/// columns; `dst` writable for `columns * c_in` floats.
#[inline(always)]
unsafe fn stage_pixels(
    row: Option<*const f32>,
    pitch: usize,
    c_in: usize,
    ix0: isize,
    inside: &std::ops::Range<usize>,
    columns: usize,
    dst: *mut f32,
) {
    let inside = if row.is_some() { inside.clone() } else { 0..0 };
    // SAFETY (all writes): below columns * c_in; the reads are inside columns of the row.
    unsafe {
        core::ptr::write_bytes(dst, 0, inside.start * c_in);
        core::ptr::write_bytes(dst.add(inside.end * c_in), 0, (columns - inside.end) * c_in);
        let Some(row) = row else { return };
        let src = row.add((ix0 + inside.start as isize) as usize * pitch);
        let dst = dst.add(inside.start * c_in);
        if pitch == c_in {
            core::ptr::copy_nonoverlapping(src, dst, inside.len() * c_in);
        } else {
            for j in 0..inside.len() {
                core::ptr::copy_nonoverlapping(src.add(j * pitch), dst.add(j * c_in), c_in);
            }
        }
    }
}
