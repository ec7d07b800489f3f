//! Winograd convolution `F(m x m, 3 x 3)` for 3x3, stride-1, dilation-1, dense convolutions with
//! any padding.
//!
//! The output is cut into `m x m` tiles (the last row and column of tiles may hang over the
//! edge). Tiles are processed in blocks of `tb`: the block's input tiles are transformed into
//! `v = xi - tile - ic` (sized so a block stays in L2); then, per block of `nr` output
//! channels, the `alpha^2` transform-domain products `v[xi] * u[xi]` run on the GEMM
//! micro-kernel into `m = xi - tile - nr`, and the output transform (with the fused bias,
//! residual and activation) stores them right away.
//!
//! Accuracy (max |err| / max |ref|, 256 channels, inputs in -1..1): F(2x2) 6.9e-7, F(4x4)
//! 2.8e-6, direct 1.65e-6 (tests/winograd.rs). A tile mixes its inputs, so a NaN or infinity in
//! one input pixel spreads to the whole output tile, where direct keeps it to the outputs that
//! see the pixel.
//!
//! Blocks are tasks; the workspace holds a fixed number of scratch slots (at most
//! [`MAX_SLOTS`], independent of the thread count), each running a fixed contiguous range of
//! tasks, so every output value is computed by the same code in the same order for any number
//! of threads.

use pulp::{Simd, WithSimd};

use super::io::ConvIo;
use crate::epilogue::Epilogue;
use crate::error::{checked_product, KernelError, Result};
use crate::pack::PackedWinogradWeights;
use crate::params::Conv2dParams;
use crate::spread::Spread;
use crate::tensor::{Shape, TensorView, TensorViewMut};
use crate::ukernel::gemm::{gemm_f32_accumulate, ChainedTile};
use crate::ukernel::tiles::{by_gemm_tile, by_gemm_width, gemm_rows, max_nv};
use crate::ukernel::winograd::{
    store_product, winograd_f32_input, winograd_f32_output, F2Input, F2Output, F4Input, F4Output, OutputTile,
    Transform, F2_POINTS, F4_POINTS,
};

/// The output tile size of a Winograd convolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WinogradVariant {
    /// F(2x2, 3x3): 4x4 transform domain, 2.25x fewer multiplications than direct.
    F2x2,
    /// F(4x4, 3x3): 6x6 transform domain, 4x fewer multiplications than direct.
    F4x4,
}

impl WinogradVariant {
    /// Output tile side `m`.
    pub fn m(self) -> usize {
        match self {
            WinogradVariant::F2x2 => 2,
            WinogradVariant::F4x4 => 4,
        }
    }

    /// Transform-domain tile side `alpha = m + 2`.
    pub fn alpha(self) -> usize {
        self.m() + 2
    }

    /// The finite interpolation points (the point at infinity is implied) that the variant's
    /// matrices are derived from (`reference::winograd_matrices(m, 3, points)`).
    pub fn points(self) -> &'static [f64] {
        match self {
            WinogradVariant::F2x2 => &F2_POINTS,
            WinogradVariant::F4x4 => &F4_POINTS,
        }
    }
}

/// Most scratch slots (parallel tasks at once) a workspace holds.
pub const MAX_SLOTS: usize = 16;

/// Floats of transformed input per block we aim to keep in L2 (256 KiB).
const BLOCK_BUDGET: usize = 64 * 1024;

/// Fewest register tiles of rows per block even when the block then outgrows L2: every block
/// streams all the transformed weights once, and with a single tile of rows per block the GEMMs
/// wait on them (AVX2, 512 channels at 28x28: 32 ms with 6 tiles per block, 24 ms with 12).
const MIN_TILE_ROWS_PER_BLOCK: usize = 2;

/// An error unless the Winograd algorithm handles `p`.
pub(crate) fn supports(p: &Conv2dParams) -> Result<()> {
    p.validate()?;
    if p.groups != 1 || p.kh != 3 || p.kw != 3 {
        return Err(KernelError::Unsupported(format!(
            "winograd conv: needs a dense 3x3 kernel, got {}x{} with groups = {}",
            p.kh, p.kw, p.groups
        )));
    }
    if (p.stride_h, p.stride_w, p.dilation_h, p.dilation_w) != (1, 1, 1, 1) {
        return Err(KernelError::Unsupported(format!(
            "winograd conv: needs stride 1 and dilation 1, got stride {}x{}, dilation {}x{}",
            p.stride_h, p.stride_w, p.dilation_h, p.dilation_w
        )));
    }
    Ok(())
}

/// How the tiles of one run are blocked and where each slot's scratch lies.
#[derive(Clone, Copy, Debug)]
struct Blocking {
    tiles_w: usize,
    tiles_per_image: usize,
    tiles: usize,
    /// Tiles per block (a multiple of the GEMM tile rows).
    tb: usize,
    tasks: usize,
    slots: usize,
    /// Floats of transformed input (`v`) and of transform-domain products (`m`) per slot.
    v_len: usize,
    m_len: usize,
}

impl Blocking {
    fn new(packed: &PackedWinogradWeights, input: Shape) -> Result<Blocking> {
        let out = packed.params.output_shape(input)?;
        let m = packed.variant.m();
        let area = packed.variant.alpha() * packed.variant.alpha();
        let c_in = packed.params.c_in;
        let mr = gemm_rows(packed.isa.lanes());
        let (tiles_h, tiles_w) = (out.h.div_ceil(m), out.w.div_ceil(m));
        let tiles_per_image = checked_product("winograd tiles", &[tiles_h, tiles_w])?;
        let tiles = checked_product("winograd tiles", &[tiles_per_image, out.n])?;
        let fit = BLOCK_BUDGET / (area * c_in);
        let tb = (fit / mr * mr).clamp(MIN_TILE_ROWS_PER_BLOCK * mr, 8 * mr).min(tiles.div_ceil(mr) * mr);
        let tasks = tiles.div_ceil(tb);
        Ok(Blocking {
            tiles_w,
            tiles_per_image,
            tiles,
            tb,
            tasks,
            slots: tasks.min(MAX_SLOTS),
            v_len: checked_product("winograd workspace", &[area, tb, c_in])?,
            m_len: checked_product("winograd workspace", &[area, tb, packed.nr])?,
        })
    }

    fn slot_len(&self) -> usize {
        self.v_len + self.m_len
    }
}

/// Floats of scratch [`run`] needs for inputs of shape `input`.
pub(crate) fn workspace_len(packed: &PackedWinogradWeights, input: Shape) -> Result<usize> {
    let b = Blocking::new(packed, input)?;
    checked_product("winograd workspace", &[b.slots, b.slot_len()])
}

/// Runs the packed convolution `y = act(conv(x) + bias + residual)` on the current rayon pool.
pub(crate) fn run(
    layer: &str,
    packed: &PackedWinogradWeights,
    x: &TensorView<'_>,
    y: &mut TensorViewMut<'_>,
    epilogue: &Epilogue<'_>,
    workspace: &mut [f32],
    spread: Spread,
) -> Result<()> {
    let io = ConvIo::new(layer, &packed.params, x, y, epilogue, spread)?;
    let blocking = Blocking::new(packed, x.shape())?;
    let need = blocking.slots * blocking.slot_len();
    if workspace.len() < need {
        return Err(KernelError::ShapeMismatch(format!(
            "{layer}: workspace of {} floats, needs {need}",
            workspace.len()
        )));
    }
    let job = Job { packed, blocking, io };
    packed.isa.dispatch(RunAll { job: &job, workspace: &mut workspace[..need] })
}

/// Everything a task needs: the packed filters, the tile blocking and the call's tensors
/// (tasks write the disjoint output tiles of their own blocks).
struct Job<'a> {
    packed: &'a PackedWinogradWeights,
    blocking: Blocking,
    io: ConvIo,
}

impl std::ops::Deref for Job<'_> {
    type Target = ConvIo;

    fn deref(&self) -> &ConvIo {
        &self.io
    }
}

struct RunAll<'a> {
    job: &'a Job<'a>,
    workspace: &'a mut [f32],
}

impl WithSimd for RunAll<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let job = self.job;
        let b = &job.blocking;
        let per_slot = b.tasks.div_ceil(b.slots);
        job.spread.for_each_chunk(self.workspace, b.slot_len(), |slot, scratch| {
            let tasks = slot * per_slot..((slot + 1) * per_slot).min(b.tasks);
            crate::isa::vectorize(simd, Slot { job, tasks, scratch });
        });
    }
}

/// One scratch slot running a contiguous range of tasks (tile blocks).
struct Slot<'a> {
    job: &'a Job<'a>,
    tasks: core::ops::Range<usize>,
    scratch: &'a mut [f32],
}

impl WithSimd for Slot<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        // One monomorphization per (variant, register tile).
        match self.job.packed.variant {
            WinogradVariant::F2x2 => {
                by_gemm_tile!(S::F32_LANES, self.blocks::<S, F2Input, F2Output, 2, 4>(simd))
            }
            WinogradVariant::F4x4 => {
                by_gemm_tile!(S::F32_LANES, self.blocks::<S, F4Input, F4Output, 4, 6>(simd))
            }
        }
    }
}

impl Slot<'_> {
    #[inline(always)]
    fn blocks<
        S: Simd,
        TI: Transform<A, A>,
        TO: Transform<M, A>,
        const M: usize,
        const A: usize,
        const MR: usize,
        const NV: usize,
    >(
        self,
        simd: S,
    ) {
        let job = self.job;
        let b = &job.blocking;
        let packed = job.packed;
        let (c_in, c_out, nr) = (packed.params.c_in, packed.params.c_out, packed.nr);
        debug_assert_eq!(nr, NV * S::F32_LANES);
        debug_assert_eq!(MR, gemm_rows(S::F32_LANES));
        debug_assert_eq!(nr, max_nv(S::F32_LANES) * S::F32_LANES);
        let area = A * A;
        let tb = b.tb;
        let (v, m) = self.scratch.split_at_mut(b.v_len);
        let (v, m) = (v.as_mut_ptr(), m.as_mut_ptr());
        let (ih, iw) = (job.input.h as isize, job.input.w as isize);
        let (pad_top, pad_left) = (packed.params.pad.top as isize, packed.params.pad.left as isize);
        let tile_origin = |tile: usize| {
            let (n, rem) = (tile / b.tiles_per_image, tile % b.tiles_per_image);
            (n, (rem / b.tiles_w) * M, (rem % b.tiles_w) * M)
        };
        for task in self.tasks {
            let t0 = task * tb;
            let count = tb.min(b.tiles - t0);
            for t in 0..count {
                let (n, oy, ox) = tile_origin(t0 + t);
                let d: [[*const f32; A]; A] = core::array::from_fn(|i| {
                    core::array::from_fn(|j| {
                        let (iy, ix) =
                            (oy as isize + i as isize - pad_top, ox as isize + j as isize - pad_left);
                        if iy >= 0 && iy < ih && ix >= 0 && ix < iw {
                            let pixel = (n * job.input.h + iy as usize) * job.input.w + ix as usize;
                            // SAFETY: the pixel is inside the input view.
                            unsafe { job.x.add(pixel * job.x_pitch) }
                        } else {
                            packed.zeros.as_ptr()
                        }
                    })
                });
                // SAFETY: pixels hold c_in readable channels (the zero row is c_in long); entry
                // xi of tile t is row xi * tb + t < area * tb of the v scratch, c_in floats each.
                unsafe { winograd_f32_input::<S, TI, A>(simd, &d, c_in, v.add(t * c_in), tb * c_in) };
            }
            for block in 0..c_out.div_ceil(nr) {
                let oc0 = block * nr;
                // SAFETY: block panels tile the packed weights exactly (see pack::winograd).
                let u = unsafe { packed.weights.as_ptr().add(block * area * c_in * nr) };
                let width = nr.min(c_out - oc0);
                let products = Products { v: v as *const f32, m, u, area, count, tb, c_in, nr };
                // The last block computes only the vectors it needs (a narrower register tile).
                // SAFETY: the pointers and sizes describe this slot's scratch and block panel.
                unsafe {
                    by_gemm_width!(S::F32_LANES, width.div_ceil(S::F32_LANES), products.run::<S, MR>(simd))
                }
                for t in 0..count {
                    let (n, oy, ox) = tile_origin(t0 + t);
                    let pixel = |i: usize, j: usize| {
                        (oy + i < job.out.h && ox + j < job.out.w)
                            .then(|| (n * job.out.h + oy + i) * job.out.w + ox + j)
                    };
                    let tile = OutputTile::<M> {
                        y: core::array::from_fn(|i| {
                            core::array::from_fn(|j| match pixel(i, j) {
                                // SAFETY: the pixel is inside the output view, oc0 < c_out.
                                Some(p) => unsafe { job.y.add(p * job.y_pitch + oc0) },
                                None => core::ptr::null_mut(),
                            })
                        }),
                        residual: job.residual.map(|(res, pitch)| {
                            core::array::from_fn(|i| {
                                core::array::from_fn(|j| match pixel(i, j) {
                                    // SAFETY: as for y; the residual has the output's shape.
                                    Some(p) => unsafe { res.add(p * pitch + oc0) },
                                    None => core::ptr::null(),
                                })
                            })
                        }),
                        activation: job.activation,
                    };
                    // SAFETY: entry xi of tile t is at m + (xi * tb + t) * nr with nr whole
                    // vectors; the padded bias has nr floats from oc0; in-image pixels hold
                    // `width` channels from oc0.
                    unsafe {
                        winograd_f32_output::<S, TO, M, A>(
                            simd,
                            m.add(t * nr),
                            tb * nr,
                            width,
                            packed.bias.as_ptr().add(oc0),
                            &tile,
                        )
                    };
                }
            }
        }
    }
}

/// The batched transform-domain GEMMs of one block of tiles and one block of output channels:
/// `m[xi] = v[xi] * u[xi]` for every `xi`.
struct Products {
    /// `xi - tile (tb) - c_in`
    v: *const f32,
    /// `xi - tile (tb) - nr`
    m: *mut f32,
    /// The block's panels: `xi - c_in - nr`.
    u: *const f32,
    area: usize,
    /// Valid tiles of the block (`<= tb`).
    count: usize,
    tb: usize,
    c_in: usize,
    nr: usize,
}

impl Products {
    /// # Safety
    /// `v`, `m` and `u` must hold the layouts above, and `NV * lanes <= nr`.
    #[inline(always)]
    unsafe fn run<S: Simd, const MR: usize, const NV: usize>(&self, simd: S) {
        let (tb, c_in, nr) = (self.tb, self.c_in, self.nr);
        for xi in 0..self.area {
            for r0 in (0..self.count).step_by(MR) {
                let rows = MR.min(self.count - r0);
                // SAFETY: rows r0..r0+rows are transformed tiles of this block; the padding rows
                // of the register tile repeat the last valid one.
                let xr: [*const f32; MR] =
                    core::array::from_fn(|r| unsafe { self.v.add((xi * tb + r0 + r.min(rows - 1)) * c_in) });
                let mut acc = ChainedTile::new(simd, [[simd.splat_f32s(0.0); NV]; MR]);
                // SAFETY: each row has c_in floats; the xi panel is c_in x nr floats with NV
                // vectors readable per k; m rows hold nr floats.
                unsafe {
                    gemm_f32_accumulate::<S, MR, NV>(
                        simd,
                        &mut acc,
                        &xr,
                        self.u.add(xi * c_in * nr),
                        nr,
                        c_in,
                    );
                    store_product::<S, MR, NV>(&acc.sum(simd), rows, self.m.add((xi * tb + r0) * nr), nr);
                }
            }
        }
    }
}

super::entry_points!(
    /// Winograd F(2x2, 3x3) convolution on the detected ISA; packs the weights on every call
    /// (plan with [`Conv2d`](super::Conv2d) to pack once).
    conv2d_winograd_f2x2,
    /// Winograd F(2x2, 3x3) convolution on an explicit ISA.
    conv2d_winograd_f2x2_with,
    super::Algorithm::Winograd2x2
);

super::entry_points!(
    /// Winograd F(4x4, 3x3) convolution on the detected ISA; packs the weights on every call
    /// (plan with [`Conv2d`](super::Conv2d) to pack once).
    conv2d_winograd_f4x4,
    /// Winograd F(4x4, 3x3) convolution on an explicit ISA.
    conv2d_winograd_f4x4_with,
    super::Algorithm::Winograd4x4
);
