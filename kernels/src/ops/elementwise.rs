//! Activation, residual add and channel copy: per-pixel ops on views of one shape.

use pulp::Simd;

use crate::epilogue::Activation;
use crate::error::Result;
use crate::isa::Isa;
use crate::ops::pixelwise::{self, ChannelMap};
use crate::ops::simd::activate;
use crate::tensor::{TensorView, TensorViewMut};

struct Activate(Activation);

impl ChannelMap for Activate {
    #[inline(always)]
    unsafe fn map<S: Simd>(&self, simd: S, _c0: usize, _n: usize, a: S::f32s, _b: S::f32s) -> S::f32s {
        activate(simd, self.0, a)
    }
}

struct AddThen(Activation);

impl ChannelMap for AddThen {
    #[inline(always)]
    unsafe fn map<S: Simd>(&self, simd: S, _c0: usize, _n: usize, a: S::f32s, b: S::f32s) -> S::f32s {
        activate(simd, self.0, simd.add_f32s(a, b))
    }
}

/// `y = act(x)` (ReLU and ReLU6 keep NaN, as PyTorch's). `x` and `y` are separate buffers.
pub fn activation(act: Activation, x: &TensorView<'_>, y: &mut TensorViewMut<'_>) -> Result<()> {
    activation_with(Isa::detect(), act, x, y)
}

/// [`activation`] on an explicit ISA.
pub fn activation_with(
    isa: Isa,
    act: Activation,
    x: &TensorView<'_>,
    y: &mut TensorViewMut<'_>,
) -> Result<()> {
    pixelwise::run(isa, "activation", &Activate(act), x, None, y)
}

/// `y = act(a + b)`: the residual add of a block whose conv could not fuse it.
pub fn add(a: &TensorView<'_>, b: &TensorView<'_>, act: Activation, y: &mut TensorViewMut<'_>) -> Result<()> {
    add_with(Isa::detect(), a, b, act, y)
}

/// [`add`] on an explicit ISA.
pub fn add_with(
    isa: Isa,
    a: &TensorView<'_>,
    b: &TensorView<'_>,
    act: Activation,
    y: &mut TensorViewMut<'_>,
) -> Result<()> {
    pixelwise::run(isa, "add", &AddThen(act), a, Some(b), y)
}

/// Copies `x` into `y` of the same shape: the concat fallback when a branch cannot write
/// straight into its channel slice of the concat output.
pub fn copy_channels(x: &TensorView<'_>, y: &mut TensorViewMut<'_>) -> Result<()> {
    copy_channels_with(Isa::detect(), x, y)
}

/// [`copy_channels`] on an explicit ISA.
pub fn copy_channels_with(isa: Isa, x: &TensorView<'_>, y: &mut TensorViewMut<'_>) -> Result<()> {
    pixelwise::run(isa, "copy_channels", &Activate(Activation::None), x, None, y)
}
