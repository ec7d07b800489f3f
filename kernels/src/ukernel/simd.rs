//! Small pulp helpers shared by the micro-kernels: unaligned vector loads and stores, masked
//! tails, and the vectorized activation.

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
    } else if masked_ops_unreliable::<S>() {
        let mut buf = [0.0f32; 16];
        // SAFETY: n < lanes = 16 floats are readable at p; buf holds a whole vector.
        unsafe {
            core::ptr::copy_nonoverlapping(p, buf.as_mut_ptr(), n);
            load::<S>(buf.as_ptr())
        }
    } else {
        // SAFETY: the mask covers exactly the n readable lanes.
        unsafe { simd.mask_load_ptr_f32s(simd.mask_between_m32s(0, n as u32), p) }
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

/// The activation on a vector. `max(0, v)` with the zero first returns `v` when `v` is NaN on
/// x86 (the second operand wins), so NaN propagates as in the scalar form.
#[inline(always)]
pub(crate) fn activate<S: Simd>(simd: S, act: Activation, v: S::f32s) -> S::f32s {
    match act {
        Activation::None => v,
        Activation::Relu => simd.max_f32s(simd.splat_f32s(0.0), v),
        Activation::Relu6 => simd.min_f32s(simd.splat_f32s(6.0), simd.max_f32s(simd.splat_f32s(0.0), v)),
    }
}
