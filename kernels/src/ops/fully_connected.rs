//! Fully connected layer (PyTorch `Linear`): `y = act(x W^T + b)`.
//!
//! At batch 1 this is a matrix-vector product limited by how fast the weights stream from
//! memory, so the weights are packed once into blocks of `nr = NV * lanes` outputs with the
//! block's rows interleaved: `w = out/nr - in - nr(out)`, zero-padded to whole blocks. One
//! pass over a block reads it front to back exactly once, each step one broadcast input value
//! times NV weight vectors. Blocks are the parallel tasks (their count depends only on the
//! shape), so results are identical for any thread count.
//!
//! Register budget per tile of MR batch rows x NV vectors (+ NV weight vectors + 1 broadcast):
//! - batch 1: two sets of NV = 4 accumulators (even and odd inputs), 8 + 4 + 1 = 13, so eight
//!   independent FMA chains hide the FMA latency on every ISA.
//! - Every chain restarts after [`CHAIN`] products and its sum is added to a running total, as
//!   in the convolutions' GEMM: one chain over VGG's 25088 inputs rounded a growing sum 12544
//!   times and made its first FC layer the largest error of the network against float64.
//! - AVX2 (16 ymm): MR = 2, 8 + 4 + 1 = 13. AVX-512 and NEON (32 registers): MR = 4, 16 + 4 + 1.

use aligned_vec::{avec, AVec};
use pulp::{Simd, WithSimd};
use rayon::prelude::*;

use crate::epilogue::Activation;
use crate::error::{checked_product, KernelError, Result};
use crate::isa::Isa;
use crate::params::MAX_DIM;
use crate::tensor::{TensorView, TensorViewMut};
use crate::ukernel::gemm::CHAIN;
use crate::ukernel::simd::activate;
use crate::ukernel::simd::{load, store_first};

/// Vectors of outputs per block.
const NV: usize = 4;

/// Inputs per accumulation segment at batch 1: its even and odd chains are CHAIN long each.
const SEGMENT: usize = 2 * CHAIN;

/// A fully connected layer with its weights packed for one ISA.
#[derive(Clone, Debug)]
pub struct FullyConnected {
    isa: Isa,
    in_features: usize,
    out_features: usize,
    /// Outputs per block: `NV * isa.lanes()`.
    nr: usize,
    weights: AVec<f32>,
    /// The bias, zero-padded to whole blocks.
    bias: AVec<f32>,
}

impl FullyConnected {
    /// Packs PyTorch `Linear` weights (`[out][in]`) and an optional bias (`[out]`) for `isa`.
    pub fn new(
        isa: Isa,
        in_features: usize,
        out_features: usize,
        weights: &[f32],
        bias: Option<&[f32]>,
    ) -> Result<Self> {
        isa.ensure_available()?;
        for (name, v) in [("in_features", in_features), ("out_features", out_features)] {
            if v == 0 || v > MAX_DIM {
                return Err(KernelError::InvalidParams(format!(
                    "fully_connected: {name} = {v} must be in 1..={MAX_DIM}"
                )));
            }
        }
        let want = checked_product("fully_connected weights", &[out_features, in_features])?;
        if weights.len() != want {
            return Err(KernelError::ShapeMismatch(format!(
                "fully_connected: {} weights, expected {want} = {out_features} x {in_features} ([out][in])",
                weights.len()
            )));
        }
        if let Some(b) = bias {
            if b.len() != out_features {
                return Err(KernelError::ShapeMismatch(format!(
                    "fully_connected: bias of {} elements for {out_features} outputs",
                    b.len()
                )));
            }
        }
        let nr = NV * isa.lanes();
        let blocks = out_features.div_ceil(nr);
        let mut packed =
            avec![0.0f32; checked_product("fully_connected packed weights", &[blocks, nr, in_features])?];
        for (block, panel) in packed.chunks_exact_mut(in_features * nr).enumerate() {
            for j in 0..nr.min(out_features - block * nr) {
                let row = &weights[(block * nr + j) * in_features..][..in_features];
                for (k, &w) in row.iter().enumerate() {
                    panel[k * nr + j] = w;
                }
            }
        }
        let mut padded_bias = avec![0.0f32; blocks * nr];
        if let Some(b) = bias {
            padded_bias[..out_features].copy_from_slice(b);
        }
        Ok(FullyConnected { isa, in_features, out_features, nr, weights: packed, bias: padded_bias })
    }

    pub fn in_features(&self) -> usize {
        self.in_features
    }

    pub fn out_features(&self) -> usize {
        self.out_features
    }

    pub fn isa(&self) -> Isa {
        self.isa
    }

    /// Bytes of packed weights and bias.
    pub fn packed_bytes(&self) -> usize {
        (self.weights.len() + self.bias.len()) * size_of::<f32>()
    }

    /// `y = act(x W^T + b)` for `x` of `n` rows `[n][in]` into `y` `[n][out]`, on the current
    /// rayon pool.
    pub fn run(&self, x: &[f32], y: &mut [f32], act: Activation) -> Result<()> {
        let n = x.len() / self.in_features;
        if x.is_empty()
            || x.len() % self.in_features != 0
            || Some(y.len()) != n.checked_mul(self.out_features)
        {
            return Err(KernelError::ShapeMismatch(format!(
                "fully_connected {}->{}: input of {} and output of {} elements are not [n][{}] and [n][{}]",
                self.in_features,
                self.out_features,
                x.len(),
                y.len(),
                self.in_features,
                self.out_features
            )));
        }
        self.run_rows(x, self.in_features, y, self.out_features, n, act)
    }

    /// [`FullyConnected::run`] on every pixel of `x` (its channels are the `in` features) into
    /// the same pixel of `y` (`out` channels): one `n`-row product for a batch of `n` images
    /// of `(n, 1, 1, in)`, which reads the weights once rather than `n` times. The views'
    /// channel pitches let `x` and `y` be channel slices of larger buffers.
    pub fn run_view(&self, x: &TensorView<'_>, y: &mut TensorViewMut<'_>, act: Activation) -> Result<()> {
        let (xs, ys) = (x.shape(), y.shape());
        let n = xs.pixels()?;
        if xs.c != self.in_features || ys.c != self.out_features || ys.pixels()? != n {
            return Err(KernelError::ShapeMismatch(format!(
                "fully_connected {}->{}: input {xs:?} and output {ys:?} are not n pixels of {} and {} channels",
                self.in_features, self.out_features, self.in_features, self.out_features
            )));
        }
        let (x_pitch, y_pitch) = (x.pitch(), y.pitch());
        // The views hold (n - 1) * pitch + c floats each (TensorView's own check).
        self.run_rows(x.data(), x_pitch, y.data_mut(), y_pitch, n, act)
    }

    /// Rows `r < n` of `x` at `r * x_pitch` (`in` floats each) into `y` at `r * y_pitch`.
    /// The callers have checked that both slices hold their `n` rows.
    fn run_rows(
        &self,
        x: &[f32],
        x_pitch: usize,
        y: &mut [f32],
        y_pitch: usize,
        n: usize,
        act: Activation,
    ) -> Result<()> {
        debug_assert!(x.len() >= (n - 1) * x_pitch + self.in_features);
        debug_assert!(y.len() >= (n - 1) * y_pitch + self.out_features);
        let job = Job { fc: self, x: x.as_ptr(), x_pitch, y: y.as_mut_ptr(), y_pitch, n, act };
        self.isa.dispatch(RunAll { job: &job })
    }
}

/// Raw pointers, because tasks write disjoint column blocks of `y` from several threads.
struct Job<'a> {
    fc: &'a FullyConnected,
    x: *const f32,
    /// Floats from one row of `x` to the next (at least `in`).
    x_pitch: usize,
    y: *mut f32,
    /// Floats from one row of `y` to the next (at least `out`).
    y_pitch: usize,
    n: usize,
    act: Activation,
}

// SAFETY: the pointers come from slices that outlive the job (it lives on `run`'s stack while
// the pool runs the tasks); tasks only read `x` and write disjoint column blocks of `y` (rows
// at least `out` floats apart, so the blocks of different rows are disjoint too).
unsafe impl Sync for Job<'_> {}

struct RunAll<'a> {
    job: &'a Job<'a>,
}

impl WithSimd for RunAll<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let job = self.job;
        let blocks = job.fc.out_features.div_ceil(job.fc.nr);
        (0..blocks).into_par_iter().for_each(|block| {
            crate::isa::vectorize(simd, Task { job, block });
        });
    }
}

struct Task<'a> {
    job: &'a Job<'a>,
    block: usize,
}

impl WithSimd for Task<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let max_rows = if S::F32_LANES == 8 { 2 } else { 4 };
        let mut r0 = 0;
        while r0 < self.job.n {
            let rows = (self.job.n - r0).min(max_rows);
            // SAFETY: rows r0..r0 + rows exist in x and y.
            unsafe {
                match rows {
                    1 => self.single_row(simd, r0),
                    2 => self.tile::<S, 2>(simd, r0),
                    3 => self.tile::<S, 3>(simd, r0),
                    _ => self.tile::<S, 4>(simd, r0),
                }
            }
            r0 += rows;
        }
    }
}

impl Task<'_> {
    fn panel(&self) -> *const f32 {
        let fc = self.job.fc;
        // SAFETY: block < blocks, so its panel of in * nr floats is inside the packed weights.
        unsafe { fc.weights.as_ptr().add(self.block * fc.in_features * fc.nr) }
    }

    /// Batch row `r`: the streaming case, with even and odd inputs in separate accumulators.
    ///
    /// # Safety
    /// Row `r` exists in x and y.
    #[inline(always)]
    #[allow(clippy::needless_range_loop)] // j names the vector in both accumulator sets
    unsafe fn single_row<S: Simd>(&self, simd: S, r: usize) {
        let (fc, lanes) = (self.job.fc, S::F32_LANES);
        let k_all = fc.in_features;
        let mut total = [simd.splat_f32s(0.0); NV];
        // SAFETY (loop): x row r has k_all floats; the panel has k_all rows of nr = NV * lanes.
        unsafe {
            let x = self.job.x.add(r * self.job.x_pitch);
            let mut w = self.panel();
            for k0 in (0..k_all).step_by(SEGMENT) {
                let len = (k_all - k0).min(SEGMENT);
                let mut even = [simd.splat_f32s(0.0); NV];
                let mut odd = [simd.splat_f32s(0.0); NV];
                for pair in 0..len / 2 {
                    let k = k0 + 2 * pair;
                    let (b0, b1) = (simd.splat_f32s(*x.add(k)), simd.splat_f32s(*x.add(k + 1)));
                    for j in 0..NV {
                        even[j] = simd.mul_add_f32s(b0, load::<S>(w.add(j * lanes)), even[j]);
                        odd[j] = simd.mul_add_f32s(b1, load::<S>(w.add(fc.nr + j * lanes)), odd[j]);
                    }
                    w = w.add(2 * fc.nr);
                }
                if len % 2 == 1 {
                    let b = simd.splat_f32s(*x.add(k0 + len - 1));
                    for j in 0..NV {
                        even[j] = simd.mul_add_f32s(b, load::<S>(w.add(j * lanes)), even[j]);
                    }
                    w = w.add(fc.nr);
                }
                for j in 0..NV {
                    total[j] = simd.add_f32s(total[j], simd.add_f32s(even[j], odd[j]));
                }
            }
        }
        // SAFETY: row r exists in y.
        unsafe { self.store(simd, r, &total) };
    }

    /// Batch rows `r0..r0 + MR` at once, so each weight vector loaded serves MR rows.
    ///
    /// # Safety
    /// Rows `r0..r0 + MR` exist in x and y.
    #[inline(always)]
    #[allow(clippy::needless_range_loop)] // indices name the tile's rows and vectors
    unsafe fn tile<S: Simd, const MR: usize>(&self, simd: S, r0: usize) {
        let (fc, lanes) = (self.job.fc, S::F32_LANES);
        let k_all = fc.in_features;
        let mut total = [[simd.splat_f32s(0.0); NV]; MR];
        // SAFETY (loop): each x row has k_all floats; the panel has k_all rows of nr floats.
        unsafe {
            let x = self.job.x.add(r0 * self.job.x_pitch);
            let mut w = self.panel();
            for k0 in (0..k_all).step_by(CHAIN) {
                let mut acc = [[simd.splat_f32s(0.0); NV]; MR];
                for k in k0..(k0 + CHAIN).min(k_all) {
                    let wv: [S::f32s; NV] = core::array::from_fn(|j| load::<S>(w.add(j * lanes)));
                    for r in 0..MR {
                        let b = simd.splat_f32s(*x.add(r * self.job.x_pitch + k));
                        for j in 0..NV {
                            acc[r][j] = simd.mul_add_f32s(b, wv[j], acc[r][j]);
                        }
                    }
                    w = w.add(fc.nr);
                }
                for r in 0..MR {
                    for j in 0..NV {
                        total[r][j] = simd.add_f32s(total[r][j], acc[r][j]);
                    }
                }
            }
        }
        for (r, row) in total.iter().enumerate() {
            // SAFETY: row r0 + r exists in y.
            unsafe { self.store(simd, r0 + r, row) };
        }
    }

    /// `y[r][block outputs] = act(acc + bias)`, masked to the outputs that exist.
    ///
    /// # Safety
    /// Row `r` exists in y.
    #[inline(always)]
    unsafe fn store<S: Simd>(&self, simd: S, r: usize, acc: &[S::f32s; NV]) {
        let (fc, lanes) = (self.job.fc, S::F32_LANES);
        let o0 = self.block * fc.nr;
        let valid = fc.out_features - o0;
        for (j, &a) in acc.iter().enumerate() {
            if j * lanes >= valid {
                break;
            }
            let len = (valid - j * lanes).min(lanes);
            // SAFETY: the padded bias has whole blocks; outputs o0 + j * lanes + len <= out of row r.
            unsafe {
                let v = simd.add_f32s(a, load::<S>(fc.bias.as_ptr().add(o0 + j * lanes)));
                let y = self.job.y.add(r * self.job.y_pitch + o0 + j * lanes);
                store_first(simd, y, len, activate(simd, self.job.act, v));
            }
        }
    }
}
