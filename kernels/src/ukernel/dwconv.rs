//! Depthwise micro-kernels, vectorized across channels in NHWC: one vector holds `lanes`
//! channels of one pixel, and every tap is one FMA of an input vector by a weight vector.
//!
//! Layouts: `x = pixel - c` (any pitch between pixels); `w = kh - kw - lanes(c)` (one channel
//! block of `pack::depthwise`); `acc = OW(vector)`, one per output pixel.
//!
//! `dwconv_f32_{KH}x{KW}s{SW}` (`dwconv_f32_row`) computes OW adjacent output pixels of one
//! channel vector with the KH x KW weights held in registers; each loaded input vector feeds
//! every output of the tile whose window covers it, so a 3x3 s1 tile of 4 loads 6 vectors per
//! kernel row for 12 FMAs. The weights, OW accumulators and one input sit in registers (the
//! row tiles per ISA are in [`super::tiles`]); AVX2's 16 registers cannot hold a 5x5's 25
//! weights, so there the FMAs read them from the stack as memory operands.

use pulp::Simd;

use crate::ukernel::row_store::{store_row, RowStore};
use crate::ukernel::simd::{load, load_first};

/// Loads one channel vector: all lanes, or (MASKED) the first `valid` with zeros elsewhere.
///
/// # Safety
/// The lanes loaded must be readable.
#[inline(always)]
pub(crate) unsafe fn load_channels<S: Simd, const MASKED: bool>(
    simd: S,
    p: *const f32,
    valid: usize,
) -> S::f32s {
    if MASKED {
        // SAFETY: the caller guarantees the masked lanes are readable.
        unsafe { load_first(simd, p, valid) }
    } else {
        // SAFETY: the caller guarantees a full vector is readable.
        unsafe { load::<S>(p) }
    }
}

/// The input rows of a row tile: per kernel row, a pointer at the tile's first input column and
/// the distance between columns (0 for the zero vector standing in for rows outside the image).
pub(crate) struct TileRows<const KH: usize> {
    pub x: [*const f32; KH],
    pub pitch: [usize; KH],
}

/// `acc[o] += sum over (ky, kx) of x[ky][o * SW + kx] * w[ky][kx]` for the OW outputs of a tile,
/// the columns below SKIP being padding (zeros, not read: a tile on the row's left border).
///
/// # Safety
/// Row `ky` must be readable (all lanes, or the masked ones) at columns `SKIP..(OW - 1) * SW +
/// KW`; its pointer need not be valid below column SKIP.
#[inline(always)]
#[allow(clippy::needless_range_loop)] // ky indexes both the rows and the weights
pub(crate) unsafe fn dwconv_f32_row<
    S: Simd,
    const KH: usize,
    const KW: usize,
    const SW: usize,
    const OW: usize,
    const SKIP: usize,
    const MASKED: bool,
>(
    simd: S,
    acc: &mut [S::f32s; OW],
    w: &[[S::f32s; KW]; KH],
    rows: &TileRows<KH>,
    valid: usize,
) {
    for ky in 0..KH {
        for col in SKIP..(OW - 1) * SW + KW {
            // SAFETY: col is one of the tile's readable input columns.
            let xv = unsafe {
                load_channels::<S, MASKED>(simd, rows.x[ky].wrapping_add(col * rows.pitch[ky]), valid)
            };
            for (o, a) in acc.iter_mut().enumerate() {
                // The tap of output o that reads this column, if any (resolved at compile time).
                if col >= o * SW && col - o * SW < KW {
                    *a = simd.mul_add_f32s(xv, w[ky][col - o * SW], *a);
                }
            }
        }
    }
}

/// `n` adjacent output pixels of one channel vector from input rows whose columns are one
/// vector apart (a staged ring): tiles of OW, then of 2 and 1, with the epilogue (RES, ACT as
/// in [`FixedEpilogue`](crate::ukernel::simd::FixedEpilogue)) fixed at compile time, so the
/// loop is loads, FMAs, stores and pointer steps. `bias` is the accumulators' initial value.
///
/// # Safety
/// Row `ky` must be readable as whole vectors at columns `0..(n - 1) * SW + KW` from `x[ky]`;
/// `out` valid (all lanes, or the first `valid` when MASKED) at pixels `0..n`.
#[inline(always)]
#[allow(clippy::too_many_arguments)] // one row's complete description, all in registers
pub(crate) unsafe fn dwconv_f32_row_run<
    S: Simd,
    const KH: usize,
    const KW: usize,
    const SW: usize,
    const OW: usize,
    const MASKED: bool,
    const RES: bool,
    const ACT: u8,
>(
    simd: S,
    w: &[[S::f32s; KW]; KH],
    bias: S::f32s,
    x: [*const f32; KH],
    out: RowStore,
    n: usize,
    valid: usize,
) {
    let lanes = S::F32_LANES;
    // One column offset for all KH rows: stepping KH pointers lets the compiler pack them in a
    // vector register, which then leaves too few registers for the weights.
    let mut column = 0;
    let mut out = out;
    let mut left = n;
    // SAFETY (all three tile kinds): each tile reads columns below (n - 1) * SW + KW of its
    // rows and writes pixels below n, per the contract; the steps move past the tile just done.
    unsafe {
        while left >= OW {
            row_run_tile::<S, KH, KW, SW, OW, MASKED, RES, ACT>(simd, w, bias, &x, column, &out, valid);
            column += OW * SW * lanes;
            out = out.advance(OW);
            left -= OW;
        }
        while left >= 2 {
            row_run_tile::<S, KH, KW, SW, 2, MASKED, RES, ACT>(simd, w, bias, &x, column, &out, valid);
            column += 2 * SW * lanes;
            out = out.advance(2);
            left -= 2;
        }
        if left == 1 {
            row_run_tile::<S, KH, KW, SW, 1, MASKED, RES, ACT>(simd, w, bias, &x, column, &out, valid);
        }
    }
}

/// One tile of [`dwconv_f32_row_run`]: T outputs, stored with the fixed epilogue.
///
/// # Safety
/// As [`dwconv_f32_row_run`]'s, for the tile's columns and pixels.
#[inline(always)]
unsafe fn row_run_tile<
    S: Simd,
    const KH: usize,
    const KW: usize,
    const SW: usize,
    const T: usize,
    const MASKED: bool,
    const RES: bool,
    const ACT: u8,
>(
    simd: S,
    w: &[[S::f32s; KW]; KH],
    bias: S::f32s,
    x: &[*const f32; KH],
    column: usize,
    out: &RowStore,
    valid: usize,
) {
    let rows = TileRows::<KH> { x: x.map(|p| p.wrapping_add(column)), pitch: [S::F32_LANES; KH] };
    let mut acc = [bias; T];
    // SAFETY: per the contract; the staged columns are whole vectors, the T pixels the row's.
    unsafe {
        dwconv_f32_row::<S, KH, KW, SW, T, 0, false>(simd, &mut acc, w, &rows, S::F32_LANES);
        store_row::<S, T, MASKED, RES, ACT>(simd, &acc, out, T, valid);
    }
}

/// The window of one output pixel in any geometry (kernel size, stride, padding, dilation).
pub(crate) struct Window {
    /// The image's pixel (0, 0) at the channel vector's first channel.
    pub image: *const f32,
    pub pitch: usize,
    pub ih: isize,
    pub iw: isize,
    /// Input coordinates of tap (0, 0), possibly outside the image.
    pub iy0: isize,
    pub ix0: isize,
    pub kh: usize,
    pub kw: usize,
    pub dh: isize,
    pub dw: isize,
}

/// `acc + sum of x * w` over the taps of `win` that fall inside the image (`dwconv_f32_kxk`):
/// the general path, also used for the border pixels of the row tiles.
///
/// # Safety
/// `win.image` must be readable (all lanes, or the masked ones) at every pixel of the `ih x iw`
/// image; `w` for `kh * kw` vectors.
#[inline(always)]
pub(crate) unsafe fn dwconv_f32_pixel<S: Simd, const MASKED: bool>(
    simd: S,
    mut acc: S::f32s,
    win: &Window,
    w: *const f32,
    valid: usize,
) -> S::f32s {
    for ky in 0..win.kh {
        let iy = win.iy0 + ky as isize * win.dh;
        if iy < 0 || iy >= win.ih {
            continue;
        }
        for kx in 0..win.kw {
            let ix = win.ix0 + kx as isize * win.dw;
            if ix < 0 || ix >= win.iw {
                continue;
            }
            // SAFETY: (iy, ix) is inside the image; tap ky * kw + kx is one of the kh * kw vectors.
            let (xv, wv) = unsafe {
                (
                    load_channels::<S, MASKED>(
                        simd,
                        win.image.add((iy * win.iw + ix) as usize * win.pitch),
                        valid,
                    ),
                    load::<S>(w.add((ky * win.kw + kx) * S::F32_LANES)),
                )
            };
            acc = simd.mul_add_f32s(xv, wv, acc);
        }
    }
    acc
}
