//! Depthwise convolution (groups = c_in = c_out, channel multiplier 1), vectorized across
//! channels in NHWC.
//!
//! 3x3 and 5x5 kernels at strides 1 and 2 (dilation 1 across the row) run the row-tile
//! micro-kernel with the weights in registers on the pixels whose window lies inside the image
//! horizontally (rows above or below the image read a zero vector); every other pixel, and
//! every other geometry, takes the general per-pixel path. A multiplier > 1 is a grouped
//! convolution ([`super::grouped`]).
//!
//! Tasks are (image row of the output) x (a chunk of channels); each output value is computed
//! by one task in a fixed order, so results are bitwise identical for any thread count.

use pulp::{Simd, WithSimd};
use rayon::prelude::*;

use super::io::{ConvIo, Job};
use crate::epilogue::{Activation, Epilogue};
use crate::error::Result;
use crate::pack::PackedDepthwiseWeights;
use crate::params::Conv2dParams;
use crate::tensor::{TensorView, TensorViewMut};
use crate::ukernel::dwconv::{
    dwconv_f32_pixel, dwconv_f32_row, dwconv_f32_store, row_tile, PixelStore, TileRows, Window,
};
use crate::ukernel::simd::load;

/// Channels per task (whole vectors; at least one vector).
const CHUNK: usize = 64;

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
) -> Result<()> {
    let job = Job { packed, io: ConvIo::new(layer, &packed.params, x, y, epilogue)? };
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
        let lanes = S::F32_LANES;
        let rows = job.out.n * job.out.h;
        let blocks_per_chunk = (CHUNK / lanes).max(1);
        let (full, blocks) = (job.out.c / lanes, job.out.c.div_ceil(lanes));
        let chunks = blocks.div_ceil(blocks_per_chunk);
        (0..rows * chunks).into_par_iter().for_each(|t| {
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
                y: job.y.add(self.row * job.out.w * job.y_pitch),
                y_pitch: job.y_pitch,
                residual: job
                    .residual
                    .map_or(core::ptr::null(), |(r, pitch)| r.add(self.row * job.out.w * pitch)),
                residual_pitch: job.residual.map_or(0, |(_, pitch)| pitch),
                activation: job.activation,
                weights: job.packed.weights.as_ptr(),
                bias: job.packed.bias.as_ptr(),
                taps: p.kh * p.kw,
                pad_left: p.pad.left,
                valid,
            }
        };
        // Row-tile widths from ukernel::dwconv's register budget, one monomorphization each.
        match (p.kh, p.kw, p.stride_w, p.dilation_w, row_tile(lanes, p.kw)) {
            (3, 3, 1, 1, 4) => self.tiled::<S, 3, 3, 1, 4>(simd, &ctx),
            (3, 3, 1, 1, _) => self.tiled::<S, 3, 3, 1, 8>(simd, &ctx),
            (3, 3, 2, 1, 4) => self.tiled::<S, 3, 3, 2, 4>(simd, &ctx),
            (3, 3, 2, 1, _) => self.tiled::<S, 3, 3, 2, 8>(simd, &ctx),
            (5, 5, 1, 1, _) => self.tiled::<S, 5, 5, 1, 4>(simd, &ctx),
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
    /// Output pixel 0 of the row in the output and the residual, channel 0.
    y: *mut f32,
    y_pitch: usize,
    /// Null when there is no residual.
    residual: *const f32,
    residual_pitch: usize,
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

    /// Output pixel `ox` of channel vector `block`.
    #[inline(always)]
    fn store_at<S: Simd>(&self, ctx: &RowCtx, ox: usize, block: usize) -> PixelStore {
        let c0 = block * S::F32_LANES;
        PixelStore {
            // SAFETY: ox < out.w and c0 < c, so the vector starts inside the output view (and
            // the residual view, which has the output's shape).
            y: unsafe { ctx.y.add(ox * ctx.y_pitch + c0) },
            residual: (!ctx.residual.is_null())
                .then(|| unsafe { ctx.residual.add(ox * ctx.residual_pitch + c0) }),
            activation: ctx.activation,
        }
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
                    dwconv_f32_store::<S, MASKED>(simd, acc, &self.store_at::<S>(ctx, ox, block), ctx.valid);
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
        self.general::<S>(simd, ctx, 0..lo);
        let mut ox = lo;
        while ox + OW <= hi {
            self.tile::<S, KH, KW, SW, OW>(simd, ctx, &base, ox);
            ox += OW;
        }
        // The rest in tiles of 2 (sharing input columns), then 1.
        while ox + 2 <= hi {
            self.tile::<S, KH, KW, SW, 2>(simd, ctx, &base, ox);
            ox += 2;
        }
        while ox < hi {
            self.tile::<S, KH, KW, SW, 1>(simd, ctx, &base, ox);
            ox += 1;
        }
        self.general::<S>(simd, ctx, hi..ow);
    }

    #[inline(always)]
    fn tile<S: Simd, const KH: usize, const KW: usize, const SW: usize, const OW: usize>(
        &self,
        simd: S,
        ctx: &RowCtx,
        base: &TileRows<KH>,
        ox: usize,
    ) {
        let lanes = S::F32_LANES;
        let ix0 = ox * SW - ctx.pad_left;
        for block in self.blocks.clone() {
            let (w, bias) = self.block_weights::<S>(ctx, block);
            let mut weights = [[simd.splat_f32s(0.0); KW]; KH];
            for (ky, row) in weights.iter_mut().enumerate() {
                for (kx, v) in row.iter_mut().enumerate() {
                    // SAFETY: the packed taps hold KH * KW vectors.
                    *v = unsafe { load::<S>(w.add((ky * KW + kx) * lanes)) };
                }
            }
            // SAFETY: ox >= lo, so ix0 >= 0, and block * lanes < c; zero rows have pitch 0 and
            // stay on the zero vector.
            let rows = TileRows::<KH> {
                x: core::array::from_fn(|ky| unsafe {
                    base.x[ky].add(ix0 * base.pitch[ky] + if base.pitch[ky] == 0 { 0 } else { block * lanes })
                }),
                pitch: base.pitch,
            };
            let mut acc = [bias; OW];
            // SAFETY: ox + OW <= hi, so columns ix0 .. ix0 + (OW - 1) * SW + KW are inside the
            // image row (or the zero vector); the outputs ox .. ox + OW are inside the row.
            unsafe {
                dwconv_f32_row::<S, KH, KW, SW, OW, MASKED>(simd, &mut acc, &weights, &rows, ctx.valid);
                for (o, a) in acc.iter().enumerate() {
                    dwconv_f32_store::<S, MASKED>(
                        simd,
                        *a,
                        &self.store_at::<S>(ctx, ox + o, block),
                        ctx.valid,
                    );
                }
            }
        }
    }
}
