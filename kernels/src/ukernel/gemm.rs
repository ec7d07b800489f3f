//! The packed GEMM micro-kernel family `gemm_f32_{MR}x{NV}v`: a register tile of MR output
//! pixels x NV vectors of output channels, accumulated over K segments and stored through the
//! fused epilogue.
//!
//! Layouts: `x = MR row pointers - k` (each row a pixel's channels, any pitch between rows);
//! `w = k - nr` (the packed block, `w_stride = nr >= NV * lanes` floats per k);
//! `acc = MR - NV(vector)`.
//!
//! A tile holds MR x NV accumulators, NV weight vectors and one broadcast in registers; the
//! shapes per ISA are in [`super::tiles`].

use pulp::Simd;

use crate::epilogue::Activation;
use crate::ukernel::simd::{
    activate, activation_of, array_from_fn, load, load_first, store_first, with_fixed_epilogue, FixedEpilogue,
};

/// The longest FMA chain summed into one value before it is added to the running total: a
/// chain's rounding error grows with its length, so blocking K this way keeps every dot product
/// near the error of a pairwise sum at the cost of one add per accumulator every CHAIN steps.
pub(crate) const CHAIN: usize = 32;

/// A register tile summed in chains of at most [`CHAIN`] products: `partial` is the chain being
/// built, `total` the sum of the finished ones. Where a chain restarts depends only on how many
/// products came before in the kernel row, not on how the caller splits the row into calls, so a
/// row summed in one call (merged taps) or tap by tap gives the same bits (bands rely on it).
pub(crate) struct ChainedTile<S: Simd, const MR: usize, const NV: usize> {
    total: [[S::f32s; NV]; MR],
    partial: [[S::f32s; NV]; MR],
    len: usize,
}

impl<S: Simd, const MR: usize, const NV: usize> ChainedTile<S, MR, NV> {
    /// A tile whose sums start at `start` (zeros, or the bias).
    #[inline(always)]
    pub(crate) fn new(simd: S, start: [[S::f32s; NV]; MR]) -> Self {
        ChainedTile { total: start, partial: [[simd.splat_f32s(0.0); NV]; MR], len: 0 }
    }

    /// Ends the chain being built: a kernel row ends one, so that short rows (a first layer's
    /// 3 channels x 3 taps) are summed apart, not in one chain across the window.
    #[inline(always)]
    #[allow(clippy::needless_range_loop)] // indices name the tile's rows and vectors
    pub(crate) fn end_chain(&mut self, simd: S) {
        for r in 0..MR {
            for j in 0..NV {
                self.total[r][j] = simd.add_f32s(self.total[r][j], self.partial[r][j]);
                self.partial[r][j] = simd.splat_f32s(0.0);
            }
        }
        self.len = 0;
    }

    /// The finished sums.
    #[inline(always)]
    pub(crate) fn sum(&self, simd: S) -> [[S::f32s; NV]; MR] {
        array_from_fn(|r| array_from_fn(|j| simd.add_f32s(self.total[r][j], self.partial[r][j])))
    }
}

/// `acc += x * w` over `k` steps: `acc[r][j] += x[r][kk] * w[kk][j]`.
///
/// # Safety
/// Every `x[r]` must be readable for `k` floats, `w` for `(k - 1) * w_stride + NV * lanes`.
#[inline(always)]
#[allow(clippy::needless_range_loop)] // indices name the tile's rows and vectors
pub(crate) unsafe fn gemm_f32_accumulate<S: Simd, const MR: usize, const NV: usize>(
    simd: S,
    acc: &mut ChainedTile<S, MR, NV>,
    x: &[*const f32; MR],
    w: *const f32,
    w_stride: usize,
    k: usize,
) {
    // The chain is a local: through `acc` the compiler may store the tile to memory after
    // every FMA (it did in the grouped path, 2.5x slower); the total is touched once a chain.
    let mut chain = acc.partial;
    let mut wp = w;
    let mut kk = 0;
    while kk < k {
        let steps = (k - kk).min(CHAIN - acc.len);
        for _ in 0..steps {
            let mut wv = [simd.splat_f32s(0.0); NV];
            for (j, v) in wv.iter_mut().enumerate() {
                // SAFETY: the caller guarantees NV vectors are readable at every k step.
                *v = unsafe { load::<S>(wp.add(j * S::F32_LANES)) };
            }
            for r in 0..MR {
                // SAFETY: row r is readable for k floats.
                let b = simd.splat_f32s(unsafe { *x[r].add(kk) });
                for j in 0..NV {
                    chain[r][j] = simd.mul_add_f32s(b, wv[j], chain[r][j]);
                }
            }
            // SAFETY: stays within the weight block (at most one past its end after the last step).
            wp = unsafe { wp.add(w_stride) };
            kk += 1;
        }
        acc.len += steps;
        if acc.len == CHAIN {
            for r in 0..MR {
                for j in 0..NV {
                    acc.total[r][j] = simd.add_f32s(acc.total[r][j], chain[r][j]);
                }
            }
            chain = [[simd.splat_f32s(0.0); NV]; MR];
            acc.len = 0;
        }
    }
    acc.partial = chain;
}

/// The kernel taps a register tile accumulates over: size, dilation, and whether each kernel
/// row is one contiguous K segment (its pixels adjacent in memory, its taps' weights adjacent).
pub(crate) struct Taps {
    pub kh: usize,
    pub kw: usize,
    pub dilation_h: usize,
    pub dilation_w: usize,
    pub merge: bool,
}

/// A register tile accumulated over every kernel tap: tile row r's input for the tap at offset
/// (dy, dx) is `row_at(r, dy, dx)`, with `k` channels; tap t's weights are `k` rows of
/// `w_stride` floats from `w + t * tap_stride`. With `merge`, kernel row ky is one segment of
/// `kw * k` channels from `row_at(r, dy, 0)`. The tile is a local returned by value: kept
/// behind a `&mut` across the tap loop, the compiler stored it to the stack after every tap.
///
/// # Safety
/// `row_at` must return rows readable for `k` floats (`kw * k` at dx = 0 when merging, which
/// also needs `tap_stride == k * w_stride`); every tap's weights as for [`gemm_f32_accumulate`].
#[inline(always)]
pub(crate) unsafe fn gemm_f32_taps<S: Simd, const MR: usize, const NV: usize>(
    simd: S,
    taps: &Taps,
    w: *const f32,
    tap_stride: usize,
    w_stride: usize,
    k: usize,
    row_at: impl Fn(usize, isize, isize) -> *const f32,
) -> [[S::f32s; NV]; MR] {
    let mut acc = ChainedTile::new(simd, [[simd.splat_f32s(0.0); NV]; MR]);
    for ky in 0..taps.kh {
        let dy = (ky * taps.dilation_h) as isize;
        if taps.merge {
            let xr: [*const f32; MR] = array_from_fn(|r| row_at(r, dy, 0));
            // SAFETY: per the contract, kernel row ky's kw taps are kw * k consecutive rows.
            unsafe {
                gemm_f32_accumulate::<S, MR, NV>(
                    simd,
                    &mut acc,
                    &xr,
                    w.add(ky * taps.kw * tap_stride),
                    w_stride,
                    taps.kw * k,
                )
            };
        } else {
            for kx in 0..taps.kw {
                let dx = (kx * taps.dilation_w) as isize;
                let xr: [*const f32; MR] = array_from_fn(|r| row_at(r, dy, dx));
                // SAFETY: per the contract.
                unsafe {
                    gemm_f32_accumulate::<S, MR, NV>(
                        simd,
                        &mut acc,
                        &xr,
                        w.add((ky * taps.kw + kx) * tap_stride),
                        w_stride,
                        k,
                    )
                };
            }
        }
        acc.end_chain(simd);
    }
    acc.sum(simd)
}

/// Where and how a tile is stored.
pub(crate) struct TileStore<const MR: usize> {
    /// Output row pointers at the block's first channel.
    pub y: [*mut f32; MR],
    /// Residual row pointers (same layout as `y`), added on the last K chunk.
    pub residual: Option<[*const f32; MR]>,
    /// The block's bias (NV full vectors readable), added on the first K chunk.
    pub bias: *const f32,
    /// Valid rows (`<= MR`) and valid lanes of the last vector (`1..=lanes`).
    pub rows: usize,
    pub last_lanes: usize,
    /// First K chunk (add bias, overwrite `y`) and last (add residual, activate).
    pub first: bool,
    pub last: bool,
    pub activation: Activation,
}

/// Stores `acc` through the epilogue: `y = act(acc + (first ? bias : y) + residual?)`.
///
/// # Safety
/// For each of the `rows` rows, `y` (and `residual`) must be valid for `(NV - 1) * lanes +
/// last_lanes` floats; `bias` readable for `NV * lanes`.
#[inline(always)]
#[allow(clippy::needless_range_loop)] // indices name the tile's rows and vectors
pub(crate) unsafe fn gemm_f32_store<S: Simd, const MR: usize, const NV: usize>(
    simd: S,
    acc: &[[S::f32s; NV]; MR],
    out: &TileStore<MR>,
) {
    if out.first && out.last {
        // One K chunk (most layers): the epilogue's choices made once per tile, not per vector.
        with_fixed_epilogue(out.residual.is_some(), out.activation, WholeStore { simd, acc, out });
        return;
    }
    let lanes = S::F32_LANES;
    for r in 0..out.rows {
        for j in 0..NV {
            let n = if j + 1 == NV { out.last_lanes } else { lanes };
            let off = j * lanes;
            // SAFETY (all accesses below): row r has n valid floats at offset off, per the contract.
            let mut v = if out.first {
                simd.add_f32s(acc[r][j], unsafe { load::<S>(out.bias.add(off)) })
            } else {
                simd.add_f32s(acc[r][j], unsafe { load_first(simd, out.y[r].add(off), n) })
            };
            if out.last {
                if let Some(res) = &out.residual {
                    v = simd.add_f32s(v, unsafe { load_first(simd, res[r].add(off), n) });
                }
                v = activate(simd, out.activation, v);
            }
            unsafe { store_first(simd, out.y[r].add(off), n, v) };
        }
    }
}

/// [`gemm_f32_store`] for a tile's only K chunk: `y = act(acc + bias + residual?)`, with the
/// residual and the activation fixed at compile time. Built only by `gemm_f32_store`, whose
/// contract `run` relies on.
struct WholeStore<'a, S: Simd, const MR: usize, const NV: usize> {
    simd: S,
    acc: &'a [[S::f32s; NV]; MR],
    out: &'a TileStore<MR>,
}

impl<S: Simd, const MR: usize, const NV: usize> FixedEpilogue for WholeStore<'_, S, MR, NV> {
    type Output = ();

    #[inline(always)]
    #[allow(clippy::needless_range_loop)] // indices name the tile's rows and vectors
    fn run<const RES: bool, const ACT: u8>(self) {
        let (simd, acc, out) = (self.simd, self.acc, self.out);
        let lanes = S::F32_LANES;
        // SAFETY (all accesses below): per gemm_f32_store's contract, the bias has NV vectors
        // and row r has n valid floats at off.
        let bias: [S::f32s; NV] = array_from_fn(|j| unsafe { load::<S>(out.bias.add(j * lanes)) });
        for r in 0..out.rows {
            for j in 0..NV {
                let n = if j + 1 == NV { out.last_lanes } else { lanes };
                let off = j * lanes;
                let mut v = simd.add_f32s(acc[r][j], bias[j]);
                if RES {
                    if let Some(res) = &out.residual {
                        v = simd.add_f32s(v, unsafe { load_first(simd, res[r].add(off), n) });
                    }
                }
                v = activate(simd, activation_of(ACT), v);
                unsafe { store_first(simd, out.y[r].add(off), n, v) };
            }
        }
    }
}
