//! The staged path of grouped convolution at stride 1 for groups of at most half a vector of
//! output channels (ResNeXt-50's first stage: 4 channels per group, 2 groups per AVX2 vector, 4
//! per AVX-512 one): `G = lanes / (c_out / groups)` groups share a vector.
//!
//! Block-diagonal weights give each such vector G * k FMAs per tap of which only k are useful
//! (every lane also multiplies the other groups' inputs by zero). Here a task instead stages
//! its input rows replicated: staged vector `j` of a pixel holds, in each group's lanes, that
//! group's input channel `j`. One FMA with the weights of (tap, `j`) then advances all G groups
//! at once, k FMAs per tap. The copy is paid once per input pixel, channel and task; at stride
//! 1 every input pixel serves kh * kw output pixels, at stride 2 only about a quarter as many,
//! and there the copy costs more than the saved FMAs (AVX2, 4 per group, 128@56: 1.5x faster
//! than block-diagonal at stride 1, 1.45x slower at stride 2), so stride 2 stays block-diagonal.
//!
//! A task owns (an image, a block, a segment of output columns, a band of output rows), stages
//! each input row its windows read into a ring on its stack (padding as zero columns, so there
//! are no border cases), and runs register tiles of MR output pixels of a row (3-wide kernels
//! by kernel row, each staged input loaded once for the three taps that read it). When the
//! block's input channels do not fit the ring at once, they are taken in chunks, the output
//! carrying the partial sums. Each output value is computed by one task in a fixed order, so
//! results are bitwise identical for any thread count.

use pulp::{Simd, WithSimd};

use super::io::Job;
use super::ring::{image_columns, Ring};
use crate::pack::PackedGroupedWeights;
use crate::params::Conv2dParams;
use crate::ukernel::gemm::{gemm_f32_store, TileStore};
use crate::ukernel::row_store::RowTile;
use crate::ukernel::simd::{array_from_fn, load, store, with_fixed_epilogue};
use crate::ukernel::tiles::{by_staged_pixels, staged_pixels};

/// Floats in a task's ring (24 KiB, three quarters of a small L1).
const RING_FLOATS: usize = 6144;

/// Whether the staged path takes `p` at `lanes`: stride 1, at least [`min_shared_groups`]
/// groups share a vector (with one, the replication is a broadcast, which the GEMM path does
/// without a copy), and a ring of one input-channel plane holds the rows of one register tile's
/// windows (very large kernels or dilations do not fit).
pub(crate) fn takes(p: &Conv2dParams, lanes: usize) -> bool {
    p.stride_h == 1
        && p.stride_w == 1
        && min_shared_groups(lanes) * (p.c_out / p.groups) <= lanes
        && Geometry::new(p, lanes).floats(1, 1) <= RING_FLOATS
}

/// Fewest groups per vector for which staging beats block-diagonal weights. On 16 lanes two
/// groups of 8 channels fill a 24 KiB ring with so few columns that the rows are cut into short
/// segments and the input channels into chunks (ResNeXt-50 256@28, Xeon AVX-512, 1 thread:
/// staged 47.3 GFLOP/s, block-diagonal 51.6; AVX2 51.5); four groups of 4 stay staged.
const fn min_shared_groups(lanes: usize) -> usize {
    if lanes == 16 {
        4
    } else {
        2
    }
}

/// The ring's shape for one layer and vector width.
#[derive(Clone, Copy)]
struct Geometry {
    lanes: usize,
    mr: usize,
    /// Input rows a window spans (ring slots), and its input columns.
    slots: usize,
    span_w: usize,
}

impl Geometry {
    fn new(p: &Conv2dParams, lanes: usize) -> Geometry {
        Geometry {
            lanes,
            mr: staged_pixels(lanes),
            slots: (p.kh - 1) * p.dilation_h + 1,
            span_w: (p.kw - 1) * p.dilation_w + 1,
        }
    }

    /// Staged columns for a segment of `segment` output columns (whole tiles).
    fn columns(&self, segment: usize) -> usize {
        segment.div_ceil(self.mr) * self.mr - 1 + self.span_w
    }

    /// Ring floats for `planes` input channels and `segment` output columns.
    fn floats(&self, planes: usize, segment: usize) -> usize {
        planes * self.slots * self.columns(segment) * self.lanes
    }
}

/// How a layer's work is split: chunks of `planes` input channels per group, segments of
/// `segment` output columns, bands of `band` output rows.
#[derive(Clone, Copy)]
struct Split {
    geometry: Geometry,
    planes: usize,
    segment: usize,
    segments: usize,
    band: usize,
    bands: usize,
}

impl Split {
    /// Whole rows and all input channels where they fit; otherwise halve the segment down to
    /// two tiles, then the channel chunk (partial sums go through the output), then the
    /// segment down to one tile. Then as many row bands as make about four tasks per thread.
    fn new(job: &Job<'_, PackedGroupedWeights>, lanes: usize) -> Split {
        let p = &job.packed.params;
        let geometry = Geometry::new(p, lanes);
        let (mut planes, mut segment) = (p.c_in_per_group(), job.out.w);
        let fits = |planes: usize, segment: usize| geometry.floats(planes, segment) <= RING_FLOATS;
        while !fits(planes, segment) && segment > 2 * geometry.mr {
            segment = segment.div_ceil(2);
        }
        while !fits(planes, segment) && planes > 1 {
            planes = planes.div_ceil(2);
        }
        while !fits(planes, segment) && segment > 1 {
            segment = segment.div_ceil(2);
        }
        let segments = job.out.w.div_ceil(segment);
        let columns = job.out.n * job.packed.blocks.len() * segments;
        let bands = (4 * job.spread.threads()).div_ceil(columns).clamp(1, job.out.h);
        let band = job.out.h.div_ceil(bands);
        Split { geometry, planes, segment, segments, band, bands: job.out.h.div_ceil(band) }
    }
}

/// Runs every task of the staged path on the current rayon pool.
pub(crate) fn run<S: Simd>(simd: S, job: &Job<'_, PackedGroupedWeights>) {
    let split = Split::new(job, S::F32_LANES);
    let blocks = job.packed.blocks.len();
    let per_image = blocks * split.segments * split.bands;
    job.spread.for_each(job.out.n * per_image, |t| {
        let (n, t) = (t / per_image, t % per_image);
        let (block, t) = (t / (split.segments * split.bands), t % (split.segments * split.bands));
        let (segment, band) = (t / split.bands, t % split.bands);
        let (ox0, oy0) = (segment * split.segment, band * split.band);
        let task = Task {
            job,
            split,
            n,
            block,
            cols: ox0..(ox0 + split.segment).min(job.out.w),
            rows: oy0..(oy0 + split.band).min(job.out.h),
        };
        by_staged_pixels!(S::F32_LANES, task.in_tiles::<S>(simd))
    });
}

/// One task: image `n`, one block, a range of output columns and of output rows.
struct Task<'a> {
    job: &'a Job<'a, PackedGroupedWeights>,
    split: Split,
    n: usize,
    block: usize,
    cols: std::ops::Range<usize>,
    rows: std::ops::Range<usize>,
}

impl Task<'_> {
    /// Runs the task in register tiles of MR output pixels.
    fn in_tiles<S: Simd, const MR: usize>(self, simd: S) {
        crate::isa::vectorize(simd, TaskRun::<MR>(self));
    }
}

/// A task run in register tiles of MR output pixels ([`staged_pixels`]).
struct TaskRun<'a, const MR: usize>(Task<'a>);

impl<const MR: usize> WithSimd for TaskRun<'_, MR> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let task = &self.0;
        let k = task.job.packed.params.c_in_per_group();
        let mut ring = core::mem::MaybeUninit::<Ring<RING_FLOATS>>::uninit();
        for j0 in (0..k).step_by(task.split.planes) {
            let planes = j0..(j0 + task.split.planes).min(k);
            task.chunk::<S, MR>(simd, ring.as_mut_ptr().cast::<f32>(), planes);
        }
    }
}

impl Task<'_> {
    /// The task's rows over input channels `planes` of each group, added to the earlier chunks'
    /// partial sums in the output.
    #[inline(always)]
    fn chunk<S: Simd, const MR: usize>(&self, simd: S, ring: *mut f32, planes: std::ops::Range<usize>) {
        let job = self.job;
        let packed = job.packed;
        let p = &packed.params;
        let g = self.split.geometry;
        let lanes = S::F32_LANES;
        let block = packed.blocks[self.block];
        let (k, taps, nr) = (p.c_in_per_group(), p.kh * p.kw, packed.nr);
        let columns = g.columns(self.cols.len());
        // Ring layout: `ring = plane - slot - column - lanes`, one plane per input channel of
        // the chunk, `slots` input rows each.
        let slot_len = columns * lanes;
        let plane_len = g.slots * slot_len;
        // Split::new sizes the ring for every layer `takes` accepts; the check keeps a mismatch
        // between the two from ever writing past the stack buffer.
        assert!(
            planes.len() * plane_len <= RING_FLOATS,
            "grouped staged: the ring cannot hold {} planes",
            planes.len()
        );
        let replicate = Replicate::<S>::new(simd, p, block.width);
        // Input column of staged column 0 (negative in the left padding).
        let ix0 = self.cols.start as isize - p.pad.left as isize;
        // Input rows staged so far: [staged.start, staged.end), at slot (row mod slots).
        let mut staged = isize::MIN..isize::MIN;
        // SAFETY: blocks tile the packed buffer in panels of taps * k * nr floats.
        let wblock = unsafe { packed.weights.as_ptr().add(self.block * taps * k * nr) };
        // SAFETY: the block's bias has nr >= lanes values.
        let bias = unsafe { load::<S>(packed.bias.as_ptr().add(self.block * nr)) };
        // Copied out of the job, so that the stores (raw pointers that might alias it) do not
        // make the compiler reload it.
        let residual = job.residual;
        for oy in self.rows.clone() {
            let iy0 = oy as isize - p.pad.top as isize;
            let window = iy0..iy0 + g.slots as isize;
            // Rows go down the image, so the rows already staged are a prefix of the window.
            for iy in staged.end.max(window.start)..window.end {
                let slot = iy.rem_euclid(g.slots as isize) as usize;
                let row = (iy >= 0 && iy < job.input.h as isize).then(|| {
                    let pixel = (self.n * job.input.h + iy as usize) * job.input.w;
                    // SAFETY: row iy of image n is inside the input; ic0 is one of its channels.
                    unsafe { job.x.add(pixel * job.x_pitch + block.ic0) }
                });
                // SAFETY: the ring holds planes.len() planes of `slots` slots of `columns`
                // vectors (debug-asserted above, sized by Split::new).
                let dst = unsafe { ring.add(slot * slot_len) };
                // Two and four groups per vector (4 and 8 channels per group at 8 and 16 lanes)
                // with the replication unrolled.
                match replicate.groups {
                    // SAFETY (all three): as above.
                    2 => unsafe {
                        self.stage_row::<S, 2>(&replicate, row, ix0, columns, dst, plane_len, &planes)
                    },
                    4 => unsafe {
                        self.stage_row::<S, 4>(&replicate, row, ix0, columns, dst, plane_len, &planes)
                    },
                    _ => unsafe {
                        self.stage_row::<S, 0>(&replicate, row, ix0, columns, dst, plane_len, &planes)
                    },
                }
            }
            staged = window;
            let out_row = (self.n * job.out.h + oy) * job.out.w;
            for ox in self.cols.clone().step_by(MR) {
                let rows = MR.min(self.cols.end - ox);
                let col0 = ox - self.cols.start;
                // Input row iy0 + ky * dh sits in slot (iy0 + ky * dh) mod slots.
                let first_slot = iy0.rem_euclid(g.slots as isize) as usize;
                let tile = TileTaps {
                    ring: ring.cast_const(),
                    slot_len,
                    plane_len,
                    slots: g.slots,
                    first_slot,
                    col0,
                    weights: wblock,
                    k,
                    nr,
                };
                // With all input channels in one chunk the sums start from the bias and the
                // tile is stored as a row; chunks add up in the output.
                let whole = planes.start == 0 && planes.end == k;
                let init = if whole { bias } else { simd.splat_f32s(0.0) };
                let acc = if p.kw == 3 && p.dilation_w == 1 {
                    // SAFETY: whole tiles are staged: columns col0 .. col0 + MR + 2 are in the ring.
                    unsafe { tile.kernel_rows_of_three::<S, MR>(simd, p, &planes, init) }
                } else {
                    // SAFETY: as above, columns col0 .. col0 + MR - 1 + span_w.
                    unsafe { tile.taps::<S, MR>(simd, p, &planes, init) }
                };
                let pixel = out_row + ox;
                if whole {
                    // SAFETY: the tile's `rows` pixels are in the output (and residual) views,
                    // oc0 one of their channels, the block's width of them valid.
                    let out = unsafe { job.row_store(pixel, block.oc0) };
                    let (n, valid) = (rows, block.width);
                    if block.width == lanes {
                        let tile = RowTile::<S, MR, false> { simd, acc, out, n, valid };
                        with_fixed_epilogue(residual.is_some(), job.activation, tile);
                    } else {
                        let tile = RowTile::<S, MR, true> { simd, acc, out, n, valid };
                        with_fixed_epilogue(residual.is_some(), job.activation, tile);
                    }
                    continue;
                }
                let pixel = |r: usize| pixel + r.min(rows - 1);
                let store = TileStore {
                    // SAFETY: the pixels are in the output (and residual) views, oc0 one of
                    // their channels.
                    y: array_from_fn(|r| unsafe { job.y.add(pixel(r) * job.y_pitch + block.oc0) }),
                    residual: residual.map(|(res, pitch)| {
                        array_from_fn(|r| unsafe { res.add(pixel(r) * pitch + block.oc0) })
                    }),
                    // SAFETY: the block's bias has nr >= lanes values.
                    bias: unsafe { packed.bias.as_ptr().add(self.block * nr) },
                    rows,
                    last_lanes: block.width,
                    first: planes.start == 0,
                    last: planes.end == k,
                    activation: job.activation,
                };
                let acc = acc.map(|a| [a]);
                // SAFETY: the valid rows hold the block's width (<= lanes) channels from oc0.
                unsafe { gemm_f32_store::<S, MR, 1>(simd, &acc, &store) };
            }
        }
    }

    /// Stages input row `x` (the block's first input channel at pixel 0; `None` for a row of
    /// the padding) into one slot of each plane: staged column c is input column `ix0 + c`,
    /// replicated per group (zeros outside the image).
    ///
    /// # Safety
    /// `x` must be readable for the block's input channels at every pixel of the row; `slot`
    /// writable for `columns` vectors in each of `planes.len()` planes, `plane_len` floats apart.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    unsafe fn stage_row<S: Simd, const G: usize>(
        &self,
        replicate: &Replicate<S>,
        x: Option<*const f32>,
        ix0: isize,
        columns: usize,
        slot: *mut f32,
        plane_len: usize,
        planes: &std::ops::Range<usize>,
    ) {
        let job = self.job;
        let lanes = S::F32_LANES;
        let inside = image_columns(x.is_some(), ix0, job.input.w, columns);
        let zero = replicate.simd.splat_f32s(0.0);
        for jl in 0..planes.len() {
            // SAFETY: per the contract, plane jl's slot holds `columns` vectors.
            let dst = unsafe { slot.add(jl * plane_len) };
            for c in (0..inside.start).chain(inside.end..columns) {
                // SAFETY: c < columns.
                unsafe { store::<S>(dst.add(c * lanes), zero) };
            }
        }
        let Some(x) = x else { return };
        // SAFETY: input column ix0 + c is inside the row for c in `inside`, and column c of each
        // plane's slot is writable; the pointers step by one pixel and one column (one past the
        // last after the loop).
        unsafe {
            let first = x.add((ix0 + inside.start as isize) as usize * job.x_pitch + planes.start);
            for j in 0..planes.len() {
                let mut pixel = first.add(j);
                let mut column = slot.add(j * plane_len + inside.start * lanes);
                for _ in inside.clone() {
                    store::<S>(column, replicate.channel::<G>(pixel));
                    pixel = pixel.add(job.x_pitch);
                    column = column.add(lanes);
                }
            }
        }
    }
}

/// Where one register tile's operands are: the ring (planes of `slots` slots of staged input
/// rows), the tile's first staged column, and the block's packed taps (`taps - k - nr`).
struct TileTaps {
    ring: *const f32,
    slot_len: usize,
    plane_len: usize,
    slots: usize,
    /// The slot of the window's first input row.
    first_slot: usize,
    col0: usize,
    weights: *const f32,
    /// Input channels per group (weight rows per tap) and floats per weight row.
    k: usize,
    nr: usize,
}

impl TileTaps {
    /// The kernel rows with the ring slot of each: input row iy0 + ky * dh sits in slot
    /// (iy0 + ky * dh) mod slots, and dh < slots when kh > 1, so one wrap at most per step.
    #[inline(always)]
    fn kernel_rows<'a>(&'a self, p: &'a Conv2dParams) -> impl Iterator<Item = (usize, usize)> + 'a {
        let mut slot = self.first_slot;
        (0..p.kh).map(move |ky| {
            if ky > 0 {
                slot += p.dilation_h;
                if slot >= self.slots {
                    slot -= self.slots;
                }
            }
            (ky, slot)
        })
    }

    /// `init` plus the tile's sums over every tap and the chunk's input channels `planes`, tap
    /// by tap: one weight vector, then MR FMAs reading the staged inputs from memory.
    ///
    /// # Safety
    /// Columns `col0 .. col0 + MR - 1 + (kw - 1) * dw + 1` of each plane's slots are staged; the
    /// weights hold every tap's `k` rows of `nr >= lanes` floats.
    #[inline(always)]
    unsafe fn taps<S: Simd, const MR: usize>(
        &self,
        simd: S,
        p: &Conv2dParams,
        planes: &std::ops::Range<usize>,
        init: S::f32s,
    ) -> [S::f32s; MR] {
        let (lanes, k, nr) = (S::F32_LANES, self.k, self.nr);
        let mut acc = [init; MR];
        for (ky, slot) in self.kernel_rows(p) {
            for kx in 0..p.kw {
                let column = self.col0 + kx * p.dilation_w;
                // SAFETY: per the contract; the pointers step to the next plane and weight row
                // (one past the last after the loop).
                unsafe {
                    let mut x = self.ring.add(slot * self.slot_len + column * lanes);
                    let mut w = self.weights.add(((ky * p.kw + kx) * k + planes.start) * nr);
                    for _ in 0..planes.len() {
                        let wv = load::<S>(w);
                        for (r, a) in acc.iter_mut().enumerate() {
                            *a = simd.mul_add_f32s(load::<S>(x.add(r * lanes)), wv, *a);
                        }
                        x = x.add(self.plane_len);
                        w = w.add(nr);
                    }
                }
            }
        }
        acc
    }

    /// [`Self::taps`] for a kernel three columns wide (dilation 1), by kernel row: per input
    /// channel the row's three weight vectors stay in registers and each staged input vector,
    /// loaded once, feeds the (up to) three outputs whose windows cover it. That is MR + 2
    /// loads for 3 * MR FMAs, where tap by tap every FMA reads its input from memory.
    ///
    /// # Safety
    /// As for [`Self::taps`] with kw = 3: columns `col0 .. col0 + MR + 2` are staged.
    #[inline(always)]
    unsafe fn kernel_rows_of_three<S: Simd, const MR: usize>(
        &self,
        simd: S,
        p: &Conv2dParams,
        planes: &std::ops::Range<usize>,
        init: S::f32s,
    ) -> [S::f32s; MR] {
        let (lanes, k, nr) = (S::F32_LANES, self.k, self.nr);
        let mut acc = [init; MR];
        for (ky, slot) in self.kernel_rows(p) {
            // SAFETY: per the contract; the pointers step to the next plane and weight row (one
            // past the last after the loop).
            unsafe {
                let mut x = self.ring.add(slot * self.slot_len + self.col0 * lanes);
                let mut w = self.weights.add((ky * 3 * k + planes.start) * nr);
                for _ in 0..planes.len() {
                    let wv: [S::f32s; 3] = array_from_fn(|kx| load::<S>(w.add(kx * k * nr)));
                    for col in 0..MR + 2 {
                        let xv = load::<S>(x.add(col * lanes));
                        for (kx, wk) in wv.iter().enumerate() {
                            // Output col - kx reads this column at tap kx (resolved at compile time).
                            if col >= kx && col - kx < MR {
                                acc[col - kx] = simd.mul_add_f32s(xv, *wk, acc[col - kx]);
                            }
                        }
                    }
                    x = x.add(self.plane_len);
                    w = w.add(nr);
                }
            }
        }
        acc
    }
}

/// Builds the replicated vectors of a block: lane l holds input channel j of lane l's group.
struct Replicate<S: Simd> {
    simd: S,
    /// Groups in the block, and the lanes of each but the last (the last takes every lane above).
    groups: usize,
    masks: [S::m32s; 16],
    /// Input channels per group (the distance between groups' channel j).
    k: usize,
}

impl<S: Simd> Replicate<S> {
    #[inline(always)]
    fn new(simd: S, p: &Conv2dParams, width: usize) -> Self {
        let cog = p.c_out / p.groups;
        let groups = width / cog;
        const LANE_INDEX: [f32; 16] = [0., 1., 2., 3., 4., 5., 6., 7., 8., 9., 10., 11., 12., 13., 14., 15.];
        // SAFETY: the array holds a whole vector (at most 16 lanes).
        let lane = unsafe { load::<S>(LANE_INDEX.as_ptr()) };
        let masks = array_from_fn(|g| {
            let (from, to) = (simd.splat_f32s((g * cog) as f32), simd.splat_f32s(((g + 1) * cog) as f32));
            simd.and_m32s(simd.greater_than_or_equal_f32s(lane, from), simd.less_than_f32s(lane, to))
        });
        Replicate { simd, groups, masks, k: p.c_in_per_group() }
    }

    /// Channel `j` of each group of a pixel, in the group's lanes, from `x` at group 0's channel
    /// `j`; G is the block's group count as a constant (0: not a constant).
    ///
    /// # Safety
    /// `x` must be readable at `g * k` for every group g of the block.
    #[inline(always)]
    unsafe fn channel<const G: usize>(&self, x: *const f32) -> S::f32s {
        let simd = self.simd;
        let last = if G == 0 { self.groups } else { G } - 1;
        // SAFETY (the reads): group g's channel j is at g * k.
        let mut v = simd.splat_f32s(unsafe { *x.add(last * self.k) });
        for g in (0..last).rev() {
            v = simd.select_f32s(self.masks[g], simd.splat_f32s(unsafe { *x.add(g * self.k) }), v);
        }
        v
    }
}
