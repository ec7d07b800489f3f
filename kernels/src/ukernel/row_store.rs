//! Storing one channel vector's outputs along a row of pixels (a depthwise row tile, a
//! grouped staged tile): `y = act(acc + residual?)` with the epilogue fixed at compile time.

use pulp::Simd;

use crate::ukernel::dwconv::load_channels;
use crate::ukernel::simd::{activate, activation_of, store, store_first, FixedEpilogue};

/// Where one channel vector's outputs along a row go: the vector at the row's first pixel and
/// the floats between pixels, in the output and in the residual (null when there is none).
#[derive(Clone, Copy)]
pub(crate) struct RowStore {
    pub y: *mut f32,
    pub y_pitch: usize,
    pub residual: *const f32,
    pub residual_pitch: usize,
}

impl RowStore {
    /// The same pixels, `channels` channels further (the next channel vector's outputs).
    #[inline(always)]
    pub(crate) fn next_channels(self, channels: usize) -> RowStore {
        RowStore { y: self.y.wrapping_add(channels), residual: self.residual.wrapping_add(channels), ..self }
    }

    /// The store `pixels` pixels further along the row.
    #[inline(always)]
    pub(crate) fn advance(self, pixels: usize) -> RowStore {
        RowStore {
            y: self.y.wrapping_add(pixels * self.y_pitch),
            residual: self.residual.wrapping_add(pixels * self.residual_pitch),
            ..self
        }
    }

    /// Asks the cache for the lines of the first `rows` pixels' first `floats` channels, and of
    /// their residual, so that a tile's store does not wait for them after its K loop.
    #[inline(always)]
    pub(crate) fn prefetch(&self, rows: usize, floats: usize) {
        for r in 0..rows {
            prefetch_floats(self.y.wrapping_add(r * self.y_pitch), floats);
            if !self.residual.is_null() {
                prefetch_floats(self.residual.wrapping_add(r * self.residual_pitch), floats);
            }
        }
    }
}

/// Asks the cache for the lines holding `floats` floats from `p`: a hint, which never faults,
/// whatever the address (hence no safety contract).
#[inline(always)]
#[cfg_attr(not(target_arch = "x86_64"), allow(unused_variables))]
pub(crate) fn prefetch_floats(p: *const f32, floats: usize) {
    #[cfg(target_arch = "x86_64")]
    for f in (0..floats).step_by(16) {
        use core::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // SAFETY: a prefetch never faults; wrapping_add only computes the address.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(p.wrapping_add(f).cast()) };
    }
}

/// Stores `act(acc[o] + residual)` at the first `n <= T` pixels of `out`, all lanes or (MASKED)
/// the first `valid`; RES and ACT as in [`FixedEpilogue`](crate::ukernel::simd::FixedEpilogue).
///
/// # Safety
/// `out` (and its residual, with RES) must be valid at pixels `0..n` for the stored lanes.
#[inline(always)]
pub(crate) unsafe fn store_row<
    S: Simd,
    const T: usize,
    const MASKED: bool,
    const RES: bool,
    const ACT: u8,
>(
    simd: S,
    acc: &[S::f32s; T],
    out: &RowStore,
    n: usize,
    valid: usize,
) {
    for (o, a) in acc.iter().enumerate().take(n) {
        let mut v = *a;
        if RES {
            // SAFETY: pixel o < n of the row, where the residual is readable.
            v = simd.add_f32s(v, unsafe {
                load_channels::<S, MASKED>(simd, out.residual.add(o * out.residual_pitch), valid)
            });
        }
        v = activate(simd, activation_of(ACT), v);
        // SAFETY: pixel o < n of the row.
        unsafe {
            let y = out.y.add(o * out.y_pitch);
            if MASKED {
                store_first(simd, y, valid, v);
            } else {
                store::<S>(y, v);
            }
        }
    }
}

/// A register tile of one channel vector along a row, to be stored by [`store_row`] with the
/// epilogue that [`with_fixed_epilogue`](crate::ukernel::simd::with_fixed_epilogue) picks.
/// Whoever builds one vouches for `store_row`'s contract on `out`, `n` and `valid`.
/// The tile is held by value: a reference to it would keep the accumulators in memory.
pub(crate) struct RowTile<S: Simd, const T: usize, const MASKED: bool> {
    pub simd: S,
    pub acc: [S::f32s; T],
    pub out: RowStore,
    pub n: usize,
    pub valid: usize,
}

impl<S: Simd, const T: usize, const MASKED: bool> FixedEpilogue for RowTile<S, T, MASKED> {
    type Output = ();

    #[inline(always)]
    fn run<const RES: bool, const ACT: u8>(self) {
        // SAFETY: vouched for by the builder.
        unsafe { store_row::<S, T, MASKED, RES, ACT>(self.simd, &self.acc, &self.out, self.n, self.valid) }
    }
}
