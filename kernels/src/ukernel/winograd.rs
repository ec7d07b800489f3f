//! Winograd transforms `winograd_f32_input` and `winograd_f32_output` of `F(m x m, 3 x 3)`,
//! vectorized across channels, and the constant matrices of each variant with their points.
//!
//! Layouts: input tile `d = alpha - alpha (pixel pointers) - c`; transform domain
//! `v = xi (stride v_stride) - c`; output tile `y = m - m (pixel pointers) - c`.
//!
//! The matrices come from `reference::winograd_matrices` (Toom-Cook with the point at infinity)
//! for the points named next to them; the tests check them against it. Each matrix's product
//! with a column of vectors is written out by hand ([`Transform`]): a generic loop over the
//! constant matrix did not unroll, and compared coefficients at run time.
//!
//! Register budget (alpha = 6, AVX2): one column of 6 inputs + 6 partial sums + a constant;
//! the 36-vector intermediate tile lives in L1 (the stack), as it would in any schedule.

// Indices name matrix rows and columns, as in the formulas.
#![allow(clippy::needless_range_loop)]

use pulp::Simd;

use crate::epilogue::Activation;
use crate::ukernel::simd::{activate, load, load_first, store, store_first};

/// F(2x2, 3x3) points {0, 1, -1, inf}: 2.25x fewer multiplications than direct, and measured
/// *more* accurate than direct (0.4x its error: the transforms only add and subtract).
pub(crate) const F2_POINTS: [f64; 3] = [0.0, 1.0, -1.0];

/// `At` of F(2x2, 3x3): `m x alpha`.
// The specification: the tests check the written-out `Transform`s against it.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) const F2_AT: [[f32; 4]; 2] = [[1.0, 1.0, 1.0, 0.0], [0.0, 1.0, -1.0, 1.0]];

/// `G` of F(2x2, 3x3): `alpha x r`, applied in f64 at pack time.
pub(crate) const F2_G: [[f64; 3]; 4] = [[-1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]];

/// `Bt` of F(2x2, 3x3): `alpha x alpha`.
// The specification: the tests check the written-out `Transform`s against it.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) const F2_BT: [[f32; 4]; 4] =
    [[-1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 1.0, 0.0], [0.0, -1.0, 1.0, 0.0], [0.0, -1.0, 0.0, 1.0]];

const H: f32 = core::f32::consts::FRAC_1_SQRT_2;
const S2: f32 = core::f32::consts::SQRT_2;
const H64: f64 = core::f64::consts::FRAC_1_SQRT_2;
const S64: f64 = core::f64::consts::SQRT_2;

/// F(4x4, 3x3) points {0, +-sqrt(2)/2, +-sqrt(2), inf}: 4x fewer multiplications. Chosen by
/// error: in an f32 simulation of one tile (256 channels, values in -1..1, max|err| / max|ref|
/// over 200 tiles, matrices rounded to f32) {0, +-1, +-2} gave 4.1x direct's error,
/// {0, +-1/2, +-2} 2.6x, {0, +-5/8, +-3/2} 1.7x and these 1.0x; the whole algorithm measures
/// 1.8x direct's error (tests/winograd.rs). The cost is a few more multiplies in the transforms
/// than with the integer points, where +-1 entries are adds.
pub(crate) const F4_POINTS: [f64; 5] = [0.0, H64, -H64, S64, -S64];

/// `At` of F(4x4, 3x3): `m x alpha`.
// The specification: the tests check the written-out `Transform`s against it.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) const F4_AT: [[f32; 6]; 4] = [
    [1.0, 1.0, 1.0, 1.0, 1.0, 0.0],
    [0.0, H, -H, S2, -S2, 0.0],
    [0.0, 0.5, 0.5, 2.0, 2.0, 0.0],
    [0.0, H * 0.5, -H * 0.5, S2 * 2.0, -S2 * 2.0, 1.0],
];

/// `G` of F(4x4, 3x3): `alpha x r`, applied in f64 at pack time.
pub(crate) const F4_G: [[f64; 3]; 6] = [
    [1.0, 0.0, 0.0],
    [-2.0 / 3.0, -S64 / 3.0, -1.0 / 3.0],
    [-2.0 / 3.0, S64 / 3.0, -1.0 / 3.0],
    [1.0 / 6.0, S64 / 6.0, 1.0 / 3.0],
    [1.0 / 6.0, -S64 / 6.0, 1.0 / 3.0],
    [0.0, 0.0, 1.0],
];

/// `Bt` of F(4x4, 3x3): `alpha x alpha`.
// The specification: the tests check the written-out `Transform`s against it.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) const F4_BT: [[f32; 6]; 6] = [
    [1.0, 0.0, -2.5, 0.0, 1.0, 0.0],
    [0.0, -S2, -2.0, H, 1.0, 0.0],
    [0.0, S2, -2.0, -H, 1.0, 0.0],
    [0.0, -H, -0.5, S2, 1.0, 0.0],
    [0.0, H, -0.5, -S2, 1.0, 0.0],
    [0.0, 1.0, 0.0, -2.5, 0.0, 1.0],
];

/// A constant matrix `t` (`R x K`) applied to a column of K vectors: `t x`. Each is written out
/// by hand from its matrix (shared subexpressions, no zero terms); the tests check it against
/// the named constant.
pub(crate) trait Transform<const R: usize, const K: usize> {
    /// The matrix `apply` multiplies by (checked by the tests).
    #[cfg_attr(not(test), allow(dead_code))]
    const MATRIX: [[f32; K]; R];
    fn apply<S: Simd>(simd: S, x: [S::f32s; K]) -> [S::f32s; R];
}

/// [`F2_BT`].
pub(crate) struct F2Input;
/// [`F2_AT`].
pub(crate) struct F2Output;
/// [`F4_BT`].
pub(crate) struct F4Input;
/// [`F4_AT`].
pub(crate) struct F4Output;

impl Transform<4, 4> for F2Input {
    const MATRIX: [[f32; 4]; 4] = F2_BT;
    #[inline(always)]
    fn apply<S: Simd>(simd: S, x: [S::f32s; 4]) -> [S::f32s; 4] {
        [
            simd.sub_f32s(x[2], x[0]),
            simd.add_f32s(x[1], x[2]),
            simd.sub_f32s(x[2], x[1]),
            simd.sub_f32s(x[3], x[1]),
        ]
    }
}

impl Transform<2, 4> for F2Output {
    const MATRIX: [[f32; 4]; 2] = F2_AT;
    #[inline(always)]
    fn apply<S: Simd>(simd: S, x: [S::f32s; 4]) -> [S::f32s; 2] {
        [simd.add_f32s(simd.add_f32s(x[0], x[1]), x[2]), simd.add_f32s(simd.sub_f32s(x[1], x[2]), x[3])]
    }
}

impl Transform<6, 6> for F4Input {
    const MATRIX: [[f32; 6]; 6] = F4_BT;
    #[inline(always)]
    fn apply<S: Simd>(simd: S, x: [S::f32s; 6]) -> [S::f32s; 6] {
        let k = |c: f32| simd.splat_f32s(c);
        // Rows 1-4 pair up as a +- b: sqrt(2) = 2 * (sqrt(2)/2) exactly in f32 too.
        let a = simd.mul_add_f32s(k(-2.0), x[2], x[4]);
        let b = simd.mul_f32s(k(H), simd.mul_add_f32s(k(-2.0), x[1], x[3]));
        let c = simd.mul_add_f32s(k(-0.5), x[2], x[4]);
        let e = simd.mul_f32s(k(H), simd.mul_add_f32s(k(2.0), x[3], simd.neg_f32s(x[1])));
        [
            simd.mul_add_f32s(k(-2.5), x[2], simd.add_f32s(x[0], x[4])),
            simd.add_f32s(a, b),
            simd.sub_f32s(a, b),
            simd.add_f32s(c, e),
            simd.sub_f32s(c, e),
            simd.mul_add_f32s(k(-2.5), x[3], simd.add_f32s(x[1], x[5])),
        ]
    }
}

impl Transform<4, 6> for F4Output {
    const MATRIX: [[f32; 6]; 4] = F4_AT;
    #[inline(always)]
    fn apply<S: Simd>(simd: S, x: [S::f32s; 6]) -> [S::f32s; 4] {
        let k = |c: f32| simd.splat_f32s(c);
        let (p, q) = (simd.add_f32s(x[1], x[2]), simd.sub_f32s(x[1], x[2]));
        let (r, s) = (simd.add_f32s(x[3], x[4]), simd.sub_f32s(x[3], x[4]));
        [
            simd.add_f32s(simd.add_f32s(x[0], p), r),
            simd.mul_add_f32s(k(H), q, simd.mul_f32s(k(S2), s)),
            simd.mul_add_f32s(k(0.5), p, simd.mul_f32s(k(2.0), r)),
            simd.mul_add_f32s(k(H * 0.5), q, simd.mul_add_f32s(k(S2 * 2.0), s, x[5])),
        ]
    }
}

/// `t x t^T` for one vector of channels: `x` is `K x K`, the result `R x R`.
#[inline(always)]
fn sandwich<S: Simd, T: Transform<R, K>, const R: usize, const K: usize>(
    simd: S,
    x: &[[S::f32s; K]; K],
) -> [[S::f32s; R]; R] {
    // Columns first: tx[.][j] = t x[.][j]; then rows: out[i] = t tx[i].
    let mut tx = [[simd.splat_f32s(0.0); K]; R];
    for j in 0..K {
        let col = T::apply(simd, core::array::from_fn(|k| x[k][j]));
        for i in 0..R {
            tx[i][j] = col[i];
        }
    }
    core::array::from_fn(|i| T::apply(simd, tx[i]))
}

/// Input transform `Bt d B` of one tile, for `channels` channels.
///
/// Writes transform-domain entry `xi = i * A + j` of channel `c` at `v + xi * v_stride + c`.
///
/// # Safety
/// Every `d[i][j]` must be readable for `channels` floats (padding pixels point at a zero row);
/// `v + xi * v_stride` writable for `channels` floats for every `xi < A * A`.
#[inline(always)]
pub(crate) unsafe fn winograd_f32_input<S: Simd, T: Transform<A, A>, const A: usize>(
    simd: S,
    d: &[[*const f32; A]; A],
    channels: usize,
    v: *mut f32,
    v_stride: usize,
) {
    let lanes = S::F32_LANES;
    let mut c = 0;
    while c < channels {
        let n = lanes.min(channels - c);
        let mut x = [[simd.splat_f32s(0.0); A]; A];
        for i in 0..A {
            for j in 0..A {
                // SAFETY: d[i][j] is readable for `channels` floats and c + n <= channels.
                x[i][j] = unsafe { load_first(simd, d[i][j].add(c), n) };
            }
        }
        let out = sandwich::<S, T, A, A>(simd, &x);
        for i in 0..A {
            for j in 0..A {
                // SAFETY: entry i*A+j is writable for `channels` floats.
                unsafe { store_first(simd, v.add((i * A + j) * v_stride + c), n, out[i][j]) };
            }
        }
        c += lanes;
    }
}

/// Where one output tile goes.
pub(crate) struct OutputTile<const M: usize> {
    /// Output pixel pointers at the first channel; null for pixels outside the image.
    pub y: [[*mut f32; M]; M],
    /// Residual pixel pointers (same layout as `y`).
    pub residual: Option<[[*const f32; M]; M]>,
    pub activation: Activation,
}

/// Output transform `At m A` of one tile plus the epilogue: `y = act(. + bias + residual)`,
/// for `channels` channels.
///
/// Reads transform-domain entry `xi` of channel `c` at `m + xi * m_stride + c`.
///
/// # Safety
/// `m + xi * m_stride` and `bias` must be readable for `channels` rounded up to whole vectors;
/// every non-null `y` (and its residual) pointer valid for `channels` floats.
#[inline(always)]
pub(crate) unsafe fn winograd_f32_output<S: Simd, T: Transform<M, A>, const M: usize, const A: usize>(
    simd: S,
    m: *const f32,
    m_stride: usize,
    channels: usize,
    bias: *const f32,
    out: &OutputTile<M>,
) {
    let lanes = S::F32_LANES;
    let mut c = 0;
    while c < channels {
        let n = lanes.min(channels - c);
        let mut x = [[simd.splat_f32s(0.0); A]; A];
        for i in 0..A {
            for j in 0..A {
                // SAFETY: whole vectors of every entry are readable (caller's contract).
                x[i][j] = unsafe { load::<S>(m.add((i * A + j) * m_stride + c)) };
            }
        }
        // SAFETY: the bias is readable for whole vectors.
        let b = unsafe { load::<S>(bias.add(c)) };
        let tile = sandwich::<S, T, M, A>(simd, &x);
        for i in 0..M {
            for j in 0..M {
                let y = out.y[i][j];
                if y.is_null() {
                    continue;
                }
                let mut v = simd.add_f32s(tile[i][j], b);
                if let Some(res) = &out.residual {
                    // SAFETY: the residual pixel of an in-image output is valid for `channels`.
                    v = simd.add_f32s(v, unsafe { load_first(simd, res[i][j].add(c), n) });
                }
                v = activate(simd, out.activation, v);
                // SAFETY: y is valid for `channels` floats and c + n <= channels.
                unsafe { store_first(simd, y.add(c), n, v) };
            }
        }
        c += lanes;
    }
}

/// Stores a GEMM accumulator tile into the transform-domain product buffer, rows `ld` apart.
///
/// # Safety
/// `m + r * ld` must be writable for `NV` whole vectors for every `r < rows`.
#[inline(always)]
pub(crate) unsafe fn store_product<S: Simd, const MR: usize, const NV: usize>(
    acc: &[[S::f32s; NV]; MR],
    rows: usize,
    m: *mut f32,
    ld: usize,
) {
    for (r, row) in acc.iter().enumerate().take(rows) {
        for (j, &v) in row.iter().enumerate() {
            // SAFETY: row r has NV whole vectors writable.
            unsafe { store::<S>(m.add(r * ld + j * S::F32_LANES), v) };
        }
    }
}

#[cfg(test)]
mod tests {
    //! The fast transforms against the f64 reference transforms, on their own, on every ISA.

    use pulp::{Simd, WithSimd};

    use super::*;
    use crate::isa::Isa;
    use crate::reference::{winograd_matrices, WinogradMatrices};
    use crate::testing::uniform_values;

    fn reference(m: usize, points: &[f64]) -> WinogradMatrices {
        winograd_matrices(m, 3, points).unwrap()
    }

    /// The f32 constants are the derived matrices rounded to f32; `G` (applied in f64) equals
    /// them to f64 rounding.
    fn check_consts<const M: usize, const A: usize>(
        points: &[f64],
        at: &[[f32; A]; M],
        g: &[[f64; 3]; A],
        bt: &[[f32; A]; A],
    ) {
        let want = reference(M, points);
        let close32 = |got: f32, want: f64| (got as f64 - want).abs() <= 2e-7 * want.abs().max(1.0);
        for i in 0..M {
            for j in 0..A {
                assert!(close32(at[i][j], want.at[i][j]), "At[{i}][{j}] = {} vs {}", at[i][j], want.at[i][j]);
            }
        }
        for i in 0..A {
            for j in 0..A {
                assert!(close32(bt[i][j], want.bt[i][j]), "Bt[{i}][{j}] = {} vs {}", bt[i][j], want.bt[i][j]);
            }
            for k in 0..3 {
                assert!(
                    (g[i][k] - want.g[i][k]).abs() <= 1e-14,
                    "G[{i}][{k}] = {} vs {}",
                    g[i][k],
                    want.g[i][k]
                );
            }
        }
    }

    #[test]
    fn constants_are_the_matrices_of_their_points() {
        check_consts(&F2_POINTS, &F2_AT, &F2_G, &F2_BT);
        check_consts(&F4_POINTS, &F4_AT, &F4_G, &F4_BT);
    }

    /// Column `k` of `T` is `T` applied to the unit vector `e_k` (pulp's one-lane scalar token).
    fn check_transform<T: Transform<R, K>, const R: usize, const K: usize>(name: &str) {
        let t = &T::MATRIX;
        let simd = pulp::Scalar::new();
        for k in 0..K {
            let col = T::apply(simd, core::array::from_fn(|i| if i == k { 1.0 } else { 0.0 }));
            for i in 0..R {
                assert_eq!(col[i], t[i][k], "{name}[{i}][{k}]");
            }
        }
    }

    #[test]
    fn written_out_transforms_are_their_matrices() {
        check_transform::<F2Input, 4, 4>("F2_BT");
        check_transform::<F2Output, 2, 4>("F2_AT");
        check_transform::<F4Input, 6, 6>("F4_BT");
        check_transform::<F4Output, 4, 6>("F4_AT");
    }

    struct Input<'a, T, const A: usize> {
        transform: core::marker::PhantomData<T>,
        d: [[*const f32; A]; A],
        channels: usize,
        v: &'a mut [f32],
    }

    impl<T: Transform<A, A>, const A: usize> WithSimd for Input<'_, T, A> {
        type Output = ();
        #[inline(always)]
        fn with_simd<S: Simd>(self, simd: S) {
            let stride = self.channels;
            // SAFETY: every pointer is readable for `channels` floats; v holds A*A*channels.
            unsafe {
                winograd_f32_input::<S, T, A>(simd, &self.d, self.channels, self.v.as_mut_ptr(), stride)
            }
        }
    }

    struct Output<'a, T, const M: usize, const A: usize> {
        transform: core::marker::PhantomData<T>,
        m: &'a [f32],
        stride: usize,
        channels: usize,
        bias: &'a [f32],
        tile: OutputTile<M>,
    }

    impl<T: Transform<M, A>, const M: usize, const A: usize> WithSimd for Output<'_, T, M, A> {
        type Output = ();
        #[inline(always)]
        fn with_simd<S: Simd>(self, simd: S) {
            // SAFETY: m and bias are padded to whole vectors; y/residual hold `channels` floats.
            unsafe {
                winograd_f32_output::<S, T, M, A>(
                    simd,
                    self.m.as_ptr(),
                    self.stride,
                    self.channels,
                    self.bias.as_ptr(),
                    &self.tile,
                )
            }
        }
    }

    /// Max |a - b| relative to max |b|.
    fn rel_err(got: &[f32], want: &[f64]) -> f64 {
        crate::testing::max_relative_error(got, want)
    }

    fn input_matches<T: Transform<A, A>, const M: usize, const A: usize>(points: &[f64]) {
        let mats = reference(M, points);
        for isa in Isa::test_targets() {
            for channels in [1, 3, 4, 7, 8, 9, 16, 17, 33] {
                let pitch = channels + 2;
                let pixels = uniform_values(channels as u64 * 31 + A as u64, A * A * pitch);
                let zeros = vec![0.0f32; channels];
                // Every seventh pixel is padding, as at the image border.
                let d: [[*const f32; A]; A] = core::array::from_fn(|i| {
                    core::array::from_fn(|j| {
                        if (i * A + j) % 7 == 3 {
                            zeros.as_ptr()
                        } else {
                            pixels[(i * A + j) * pitch + 1..].as_ptr()
                        }
                    })
                });
                let mut v = vec![f32::NAN; A * A * channels];
                isa.dispatch(Input::<T, A> { transform: core::marker::PhantomData, d, channels, v: &mut v })
                    .unwrap();
                for c in 0..channels {
                    let tile: Vec<f64> = (0..A * A)
                        .map(|k| if k % 7 == 3 { 0.0 } else { pixels[k * pitch + 1 + c] as f64 })
                        .collect();
                    let want = mats.input_transform(&tile);
                    let got: Vec<f32> = (0..A * A).map(|k| v[k * channels + c]).collect();
                    let err = rel_err(&got, &want);
                    assert!(
                        err < 1e-6,
                        "{isa:?} F({M},3) input transform, {channels} ch, channel {c}: {err:e}"
                    );
                }
            }
        }
    }

    fn output_matches<T: Transform<M, A>, const M: usize, const A: usize>(points: &[f64]) {
        let mats = reference(M, points);
        for isa in Isa::test_targets() {
            for channels in [1usize, 5, 8, 12, 16, 20] {
                for activation in [Activation::None, Activation::Relu, Activation::Relu6] {
                    let stride = channels.div_ceil(16) * 16;
                    let m = uniform_values(channels as u64 * 17 + M as u64, A * A * stride);
                    let m: Vec<f32> = m.iter().map(|v| v * 4.0).collect();
                    let bias = uniform_values(99, stride);
                    let residual = uniform_values(7, M * M * channels);
                    let mut y = vec![f32::NAN; M * M * channels];
                    // The last column of the tile hangs over the image edge: it must stay NaN.
                    let inside = |j: usize| j + 1 < M;
                    let tile = OutputTile::<M> {
                        y: core::array::from_fn(|i| {
                            core::array::from_fn(|j| {
                                if inside(j) {
                                    y[(i * M + j) * channels..].as_mut_ptr()
                                } else {
                                    core::ptr::null_mut()
                                }
                            })
                        }),
                        residual: Some(core::array::from_fn(|i| {
                            core::array::from_fn(|j| residual[(i * M + j) * channels..].as_ptr())
                        })),
                        activation,
                    };
                    isa.dispatch(Output::<T, M, A> {
                        transform: core::marker::PhantomData,
                        m: &m,
                        stride,
                        channels,
                        bias: &bias,
                        tile,
                    })
                    .unwrap();
                    for c in 0..channels {
                        let x: Vec<f64> = (0..A * A).map(|k| m[k * stride + c] as f64).collect();
                        let tile = mats.output_transform(&x);
                        for i in 0..M {
                            for j in 0..M {
                                let got = y[(i * M + j) * channels + c];
                                if !inside(j) {
                                    assert!(got.is_nan(), "{isa:?}: wrote a pixel outside the image");
                                    continue;
                                }
                                let k = i * M + j;
                                let want = activation
                                    .apply(tile[k] + bias[c] as f64 + residual[k * channels + c] as f64);
                                assert!(
                                    (got as f64 - want).abs() <= 1e-5,
                                    "{isa:?} F({M},3) output transform, {channels} ch, channel {c}, ({i},{j}): {got} vs {want}"
                                );
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn input_transforms_match_reference() {
        input_matches::<F2Input, 2, 4>(&F2_POINTS);
        input_matches::<F4Input, 4, 6>(&F4_POINTS);
    }

    #[test]
    fn output_transforms_match_reference() {
        output_matches::<F2Output, 2, 4>(&F2_POINTS);
        output_matches::<F4Output, 4, 6>(&F4_POINTS);
    }
}
