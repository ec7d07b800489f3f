//! Small pulp helpers shared by the micro-kernels: unaligned vector loads and stores, masked
//! tails, and the NaN-preserving activation and maximum. `Simd::max_f32s` cannot be used for
//! those: pulp's scalar token computes `f32::max`, which drops NaN, while x86 `maxps` keeps
//! whichever operand comes second; comparisons and selects behave the same everywhere.

use pulp::Simd;

use crate::epilogue::Activation;

/// Loads one full vector from `p`.
///
/// # Safety
/// `p..p + S::F32_LANES` must be readable.
#[inline(always)]
pub(crate) unsafe fn load<S: Simd>(p: *const f32) -> S::f32s {
    // SAFETY: the caller guarantees a full vector is readable; f32s is plain old data.
    unsafe { core::ptr::read_unaligned(p as *const S::f32s) }
}

/// Stores one full vector at `p`.
///
/// # Safety
/// `p..p + S::F32_LANES` must be writable.
#[inline(always)]
pub(crate) unsafe fn store<S: Simd>(p: *mut f32, v: S::f32s) {
    // SAFETY: the caller guarantees a full vector is writable.
    unsafe { core::ptr::write_unaligned(p as *mut S::f32s, v) }
}

/// pulp 0.22.3's `V3_512b` (16 lanes as pairs of AVX2 registers: the `Isa::Avx2As512` test
/// target) places the upper half of masked loads and stores 16 lanes past the pointer instead
/// of 8; partial vectors go through a stack copy there. Constant-folded for every other token.
#[inline(always)]
fn masked_ops_unreliable<S: Simd>() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        core::any::TypeId::of::<S>() == core::any::TypeId::of::<pulp::x86::V3_512b>()
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Loads the first `n` lanes (`n <= S::F32_LANES`) from `p`, zeros elsewhere.
///
/// # Safety
/// `p..p + n` must be readable.
#[inline(always)]
pub(crate) unsafe fn load_first<S: Simd>(simd: S, p: *const f32, n: usize) -> S::f32s {
    if n == S::F32_LANES {
        // SAFETY: n lanes are readable and n is a full vector.
        unsafe { load::<S>(p) }
    } else {
        // SAFETY: lanes 0..n are readable.
        unsafe { load_lanes(simd, p, 0, n) }
    }
}

/// Loads lanes `first..end` (`first < end <= S::F32_LANES`) of the vector at `p`, zeros
/// elsewhere; `p` itself need not be readable outside those lanes.
///
/// # Safety
/// `p + first..p + end` must be readable.
#[inline(always)]
pub(crate) unsafe fn load_lanes<S: Simd>(simd: S, p: *const f32, first: usize, end: usize) -> S::f32s {
    if masked_ops_unreliable::<S>() {
        let mut buf = [0.0f32; 16];
        // SAFETY: the caller guarantees the lanes are readable; buf holds a whole vector.
        unsafe {
            core::ptr::copy_nonoverlapping(p.wrapping_add(first), buf.as_mut_ptr().add(first), end - first);
            load::<S>(buf.as_ptr())
        }
    } else {
        // SAFETY: the mask covers exactly the readable lanes.
        unsafe { simd.mask_load_ptr_f32s(simd.mask_between_m32s(first as u32, end as u32), p) }
    }
}

/// Stores the first `n` lanes (`n <= S::F32_LANES`) of `v` at `p`.
///
/// # Safety
/// `p..p + n` must be writable.
#[inline(always)]
pub(crate) unsafe fn store_first<S: Simd>(simd: S, p: *mut f32, n: usize, v: S::f32s) {
    if n == S::F32_LANES {
        // SAFETY: n lanes are writable and n is a full vector.
        unsafe { store::<S>(p, v) }
    } else if masked_ops_unreliable::<S>() {
        let mut buf = [0.0f32; 16];
        // SAFETY: buf holds a whole vector (16 lanes); n < 16 floats are writable at p.
        unsafe {
            store::<S>(buf.as_mut_ptr(), v);
            core::ptr::copy_nonoverlapping(buf.as_ptr(), p, n);
        }
    } else {
        // SAFETY: the mask covers exactly the n writable lanes.
        unsafe { simd.mask_store_ptr_f32s(simd.mask_between_m32s(0, n as u32), p, v) }
    }
}

/// The activation on a vector, NaN in NaN out (as `Activation::apply` and PyTorch's ReLU).
///
/// On vector tokens `max(0, v)` and `min(6, v)` keep a NaN `v`: x86 `maxps`/`minps` return
/// their second operand when either is NaN, NEON's `fmax`/`fmin` return NaN; one instruction
/// each where the compare-and-select form takes three (1-lane pulp scalar computes `f32::max`,
/// which drops NaN, and keeps that form).
#[inline(always)]
pub(crate) fn activate<S: Simd>(simd: S, act: Activation, v: S::f32s) -> S::f32s {
    let zero = simd.splat_f32s(0.0);
    if S::F32_LANES > 1 {
        return match act {
            Activation::None => v,
            Activation::Relu => simd.max_f32s(zero, v),
            Activation::Relu6 => simd.min_f32s(simd.splat_f32s(6.0), simd.max_f32s(zero, v)),
        };
    }
    match act {
        Activation::None => v,
        Activation::Relu => simd.select_f32s(simd.less_than_f32s(v, zero), zero, v),
        Activation::Relu6 => {
            let six = simd.splat_f32s(6.0);
            let low = simd.select_f32s(simd.less_than_f32s(v, zero), zero, v);
            simd.select_f32s(simd.greater_than_f32s(low, six), six, low)
        }
    }
}

/// A micro-kernel whose epilogue is fixed at compile time: RES adds the residual, ACT is the
/// activation's code (0 none, 1 ReLU, 2 ReLU6; [`activation_of`] maps it back). Choosing once
/// per tile or row instead of per stored vector removes two branches from every store.
pub(crate) trait FixedEpilogue {
    type Output;
    fn run<const RES: bool, const ACT: u8>(self) -> Self::Output;
}

/// Runs `kernel` with the epilogue `(residual, activation)` as compile-time constants.
#[inline(always)]
pub(crate) fn with_fixed_epilogue<K: FixedEpilogue>(
    residual: bool,
    activation: Activation,
    kernel: K,
) -> K::Output {
    match (residual, activation) {
        (false, Activation::None) => kernel.run::<false, 0>(),
        (false, Activation::Relu) => kernel.run::<false, 1>(),
        (false, Activation::Relu6) => kernel.run::<false, 2>(),
        (true, Activation::None) => kernel.run::<true, 0>(),
        (true, Activation::Relu) => kernel.run::<true, 1>(),
        (true, Activation::Relu6) => kernel.run::<true, 2>(),
    }
}

/// The activation of a [`FixedEpilogue`] code.
#[inline(always)]
pub(crate) const fn activation_of(code: u8) -> Activation {
    match code {
        0 => Activation::None,
        1 => Activation::Relu,
        _ => Activation::Relu6,
    }
}

/// The running maximum of max pooling: takes `v` when it is larger or NaN, and keeps a NaN
/// accumulator (nothing compares greater than it), so any NaN in the window wins.
#[inline(always)]
pub(crate) fn max_keep_nan<S: Simd>(simd: S, acc: S::f32s, v: S::f32s) -> S::f32s {
    let take = simd.or_m32s(simd.greater_than_f32s(v, acc), simd.not_m32s(simd.equal_f32s(v, v)));
    simd.select_f32s(take, v, acc)
}

/// `core::array::from_fn`, always inlined: the standard one is an ordinary generic function,
/// and in the large monomorphized tile loops the compiler stopped inlining it (a call per
/// kernel tap built each row-pointer array; grouped 3x3 256@28 ran 8% more instructions).
#[inline(always)]
pub(crate) fn array_from_fn<T: Copy, const N: usize>(mut f: impl FnMut(usize) -> T) -> [T; N] {
    let mut out = [core::mem::MaybeUninit::<T>::uninit(); N];
    for (i, o) in out.iter_mut().enumerate() {
        o.write(f(i));
    }
    // SAFETY: every element was written; [MaybeUninit<T>; N] and [T; N] have one layout.
    unsafe { core::mem::transmute_copy(&out) }
}
