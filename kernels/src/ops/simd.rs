//! Vector helpers of the ops that must treat NaN as PyTorch does. `Simd::max_f32s` cannot be
//! used for that: pulp's scalar token computes `f32::max`, which drops NaN, while x86 `maxps`
//! keeps whichever operand comes second. Comparisons and selects behave the same everywhere.

use pulp::Simd;

use crate::epilogue::Activation;

/// The activation on a vector, NaN in NaN out (as `Activation::apply` and PyTorch's ReLU).
#[inline(always)]
pub(crate) fn activate<S: Simd>(simd: S, act: Activation, v: S::f32s) -> S::f32s {
    let zero = simd.splat_f32s(0.0);
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

/// The running maximum of max pooling: takes `v` when it is larger or NaN, and keeps a NaN
/// accumulator (nothing compares greater than it), so any NaN in the window wins.
#[inline(always)]
pub(crate) fn max_keep_nan<S: Simd>(simd: S, acc: S::f32s, v: S::f32s) -> S::f32s {
    let take = simd.or_m32s(simd.greater_than_f32s(v, acc), simd.not_m32s(simd.equal_f32s(v, v)));
    simd.select_f32s(take, v, acc)
}
