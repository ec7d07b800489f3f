//! Convolution algorithms and the planned, packed [`Conv2d`] that runs one of them.
//!
//! Every algorithm has a dispatching entry point (`conv2d_direct`) and an explicit-ISA one
//! (`conv2d_direct_with`); both pack the weights on every call, which is right for one-off use
//! and tests. A network packs once with [`Conv2d::new`] (selected algorithm) or
//! [`Conv2d::with`] (forced algorithm) and calls [`Conv2d::run`] for every image.

pub mod depthwise;
pub mod direct;
pub mod factorized;
pub mod grouped;
pub(crate) mod grouped_staged;
mod implicit_gemm;
mod io;
mod per_group;
pub mod pointwise;
mod ring;
pub mod select;
pub mod winograd;

use crate::epilogue::Epilogue;
use crate::error::Result;
use crate::isa::Isa;
use crate::pack::{PackedDepthwiseWeights, PackedGemmWeights, PackedGroupedWeights, PackedWinogradWeights};
use crate::params::{Conv2dParams, Padding};
use crate::spread::Spread;
use crate::tensor::{Shape, TensorView, TensorViewMut};

/// The convolution algorithms of the crate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// Implicit GEMM over the kernel taps, any dense convolution.
    Direct,
    /// 1x1 convolution as a GEMM.
    Pointwise,
    /// 1xk and kx1 convolutions.
    Factorized,
    /// Winograd F(2x2, 3x3): 3x3 stride-1 convolutions.
    Winograd2x2,
    /// Winograd F(4x4, 3x3): 3x3 stride-1 convolutions.
    Winograd4x4,
    /// One kxk filter per channel (groups = c_in = c_out), vectorized across channels.
    Depthwise,
    /// Any groups > 1: small groups share vectors (on replicated input at stride 1, else
    /// block-diagonal weights), large ones run a GEMM each.
    Grouped,
    /// Groups > 1 with 3x3 stride-1 kernels, run as one dense Winograd F(2x2, 3x3) convolution
    /// per group, one group after another on channel slices (few, large groups: AlexNet's two
    /// towers at 13x13).
    GroupedWinograd2x2,
    /// As [`Algorithm::GroupedWinograd2x2`], with Winograd F(4x4, 3x3) per group.
    GroupedWinograd4x4,
}

impl Algorithm {
    /// Every algorithm, for tests and reports that try each.
    pub const ALL: [Algorithm; 9] = [
        Algorithm::Direct,
        Algorithm::Pointwise,
        Algorithm::Factorized,
        Algorithm::Winograd2x2,
        Algorithm::Winograd4x4,
        Algorithm::Depthwise,
        Algorithm::Grouped,
        Algorithm::GroupedWinograd2x2,
        Algorithm::GroupedWinograd4x4,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Direct => "direct",
            Algorithm::Pointwise => "pointwise",
            Algorithm::Factorized => "factorized",
            Algorithm::Winograd2x2 => "winograd-f2x2",
            Algorithm::Winograd4x4 => "winograd-f4x4",
            Algorithm::Depthwise => "depthwise",
            Algorithm::Grouped => "grouped",
            Algorithm::GroupedWinograd2x2 => "grouped-winograd-f2x2",
            Algorithm::GroupedWinograd4x4 => "grouped-winograd-f4x4",
        }
    }

    /// An error unless the algorithm handles `p`.
    pub fn supports(self, p: &Conv2dParams) -> Result<()> {
        match self {
            Algorithm::Direct => direct::supports(p),
            Algorithm::Pointwise => pointwise::supports(p),
            Algorithm::Factorized => factorized::supports(p),
            Algorithm::Winograd2x2 | Algorithm::Winograd4x4 => winograd::supports(p),
            Algorithm::Depthwise => depthwise::supports(p),
            Algorithm::Grouped => grouped::supports(p),
            Algorithm::GroupedWinograd2x2 | Algorithm::GroupedWinograd4x4 => {
                grouped::supports(p)?;
                winograd::supports(&per_group::group_params(p))
            }
        }
    }

    /// The dense algorithm each group runs, for the algorithms that run a dense convolution per
    /// group.
    pub fn per_group(self) -> Option<Algorithm> {
        match self {
            Algorithm::GroupedWinograd2x2 => Some(Algorithm::Winograd2x2),
            Algorithm::GroupedWinograd4x4 => Some(Algorithm::Winograd4x4),
            _ => None,
        }
    }
}

/// Packed weights in the form their algorithm needs.
#[derive(Clone, Debug)]
enum Kernel {
    Gemm(PackedGemmWeights),
    Winograd(PackedWinogradWeights),
    Depthwise(PackedDepthwiseWeights),
    Grouped(PackedGroupedWeights),
    /// One dense convolution per group, each packed for its group's slice of the channels.
    PerGroup(per_group::PerGroup),
}

/// A convolution with its weights packed once for one algorithm and ISA.
#[derive(Clone, Debug)]
pub struct Conv2d {
    algorithm: Algorithm,
    kernel: Kernel,
}

impl Conv2d {
    /// Packs for the algorithm that [`select::select`] picks for inputs of `input` shape on the
    /// detected ISA. The packed convolution still runs on any input size.
    pub fn new(p: &Conv2dParams, input: Shape, w: &[f32], b: Option<&[f32]>) -> Result<Self> {
        let isa = Isa::detect();
        Self::with(isa, select::select(isa, p, input)?, p, w, b)
    }

    /// Packs OIHW weights `w` and bias `b` for an explicit ISA and algorithm.
    pub fn with(
        isa: Isa,
        algorithm: Algorithm,
        p: &Conv2dParams,
        w: &[f32],
        b: Option<&[f32]>,
    ) -> Result<Self> {
        algorithm.supports(p)?;
        let kernel = match algorithm {
            Algorithm::Direct | Algorithm::Pointwise | Algorithm::Factorized => {
                Kernel::Gemm(PackedGemmWeights::new(isa, p, w, b)?)
            }
            Algorithm::Winograd2x2 => {
                Kernel::Winograd(PackedWinogradWeights::new(isa, winograd::WinogradVariant::F2x2, p, w, b)?)
            }
            Algorithm::Winograd4x4 => {
                Kernel::Winograd(PackedWinogradWeights::new(isa, winograd::WinogradVariant::F4x4, p, w, b)?)
            }
            Algorithm::Depthwise => Kernel::Depthwise(PackedDepthwiseWeights::new(isa, p, w, b)?),
            Algorithm::Grouped => Kernel::Grouped(PackedGroupedWeights::new(isa, p, w, b)?),
            Algorithm::GroupedWinograd2x2 | Algorithm::GroupedWinograd4x4 => {
                let dense = algorithm.per_group().unwrap_or(Algorithm::Direct);
                Kernel::PerGroup(per_group::PerGroup::new(isa, dense, p, w, b)?)
            }
        };
        Ok(Conv2d { algorithm, kernel })
    }

    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    pub fn params(&self) -> &Conv2dParams {
        match &self.kernel {
            Kernel::Gemm(k) => k.params(),
            Kernel::Winograd(k) => k.params(),
            Kernel::Depthwise(k) => k.params(),
            Kernel::Grouped(k) => k.params(),
            Kernel::PerGroup(k) => &k.params,
        }
    }

    pub fn isa(&self) -> Isa {
        match &self.kernel {
            Kernel::Gemm(k) => k.isa(),
            Kernel::Winograd(k) => k.isa(),
            Kernel::Depthwise(k) => k.isa(),
            Kernel::Grouped(k) => k.isa(),
            Kernel::PerGroup(k) => k.isa,
        }
    }

    /// Bytes of packed weights and constants.
    pub fn packed_bytes(&self) -> usize {
        match &self.kernel {
            Kernel::Gemm(k) => k.size_bytes(),
            Kernel::Winograd(k) => k.size_bytes(),
            Kernel::Depthwise(k) => k.size_bytes(),
            Kernel::Grouped(k) => k.size_bytes(),
            Kernel::PerGroup(k) => k.groups.iter().map(Conv2d::packed_bytes).sum(),
        }
    }

    /// Floats of scratch memory [`Conv2d::run`] needs for inputs of shape `input`.
    pub fn workspace_len(&self, input: Shape) -> Result<usize> {
        self.params().output_shape(input)?;
        match &self.kernel {
            Kernel::Winograd(k) => winograd::workspace_len(k, input),
            Kernel::PerGroup(k) => k.workspace_len(input),
            Kernel::Gemm(_) | Kernel::Depthwise(_) | Kernel::Grouped(_) => Ok(0),
        }
    }

    /// `y = act(conv(x) + bias + residual)` on the current rayon pool (install a pool to choose
    /// the thread count; the result is bitwise identical for any count). `workspace` must hold
    /// at least [`Conv2d::workspace_len`] floats; nothing is allocated.
    pub fn run(
        &self,
        x: &TensorView<'_>,
        y: &mut TensorViewMut<'_>,
        epilogue: &Epilogue<'_>,
        workspace: &mut [f32],
    ) -> Result<()> {
        self.run_spread(x, y, epilogue, workspace, Spread::Pool)
    }

    /// [`Conv2d::run`] on the calling thread alone, with the same result: for callers that
    /// split the work across threads themselves (a band of rows of fused layers per thread).
    pub fn run_serial(
        &self,
        x: &TensorView<'_>,
        y: &mut TensorViewMut<'_>,
        epilogue: &Epilogue<'_>,
        workspace: &mut [f32],
    ) -> Result<()> {
        self.run_spread(x, y, epilogue, workspace, Spread::Caller)
    }

    fn run_spread(
        &self,
        x: &TensorView<'_>,
        y: &mut TensorViewMut<'_>,
        epilogue: &Epilogue<'_>,
        workspace: &mut [f32],
        spread: Spread,
    ) -> Result<()> {
        let need = self.workspace_len(x.shape())?;
        if workspace.len() < need {
            return Err(crate::KernelError::ShapeMismatch(format!(
                "conv2d ({}): workspace of {} floats, needs {need}",
                self.algorithm.name(),
                workspace.len()
            )));
        }
        let name = self.algorithm.name();
        match &self.kernel {
            Kernel::Gemm(k) => implicit_gemm::run(name, k, x, y, epilogue, spread),
            Kernel::Winograd(k) => winograd::run(name, k, x, y, epilogue, workspace, spread),
            Kernel::Depthwise(k) => depthwise::run(name, k, x, y, epilogue, spread),
            Kernel::Grouped(k) => grouped::run(name, k, x, y, epilogue, spread),
            Kernel::PerGroup(k) => k.run(name, x, y, epilogue, workspace, spread),
        }
    }

    /// The same packed weights with other padding: a band of rows cut from a larger image runs
    /// with no padding where its rows continue the image (weights never depend on padding).
    pub fn with_padding(&self, pad: Padding) -> Result<Conv2d> {
        let p = Conv2dParams { pad, ..*self.params() };
        p.validate()?;
        self.algorithm.supports(&p)?;
        let mut padded = self.clone();
        match &mut padded.kernel {
            Kernel::Gemm(k) => k.params = p,
            Kernel::Winograd(k) => k.params = p,
            Kernel::Depthwise(k) => k.params = p,
            Kernel::Grouped(k) => k.params = p,
            Kernel::PerGroup(k) => {
                k.params = p;
                for group in &mut k.groups {
                    *group = group.with_padding(pad)?;
                }
            }
        }
        Ok(padded)
    }

    /// [`Conv2d::run`] with a workspace allocated for this call.
    pub fn run_alloc(
        &self,
        x: &TensorView<'_>,
        y: &mut TensorViewMut<'_>,
        epilogue: &Epilogue<'_>,
    ) -> Result<()> {
        let mut workspace = vec![0.0f32; self.workspace_len(x.shape())?];
        self.run(x, y, epilogue, &mut workspace)
    }
}

/// Convolution with the algorithm [`select::select`] picks for this shape on the detected ISA.
pub fn conv2d(
    p: &Conv2dParams,
    x: &TensorView<'_>,
    w: &[f32],
    b: Option<&[f32]>,
    y: &mut TensorViewMut<'_>,
    epilogue: &Epilogue<'_>,
) -> Result<()> {
    Conv2d::new(p, x.shape(), w, b)?.run_alloc(x, y, epilogue)
}

/// Defines an algorithm's two one-shot entry points: `$name` on the detected ISA and
/// `$name_with` on an explicit one.
macro_rules! entry_points {
    ($(#[$doc:meta])* $name:ident, $(#[$doc_with:meta])* $name_with:ident, $algorithm:expr) => {
        $(#[$doc])*
        pub fn $name(
            p: &$crate::params::Conv2dParams,
            x: &$crate::tensor::TensorView<'_>,
            w: &[f32],
            b: Option<&[f32]>,
            y: &mut $crate::tensor::TensorViewMut<'_>,
            epilogue: &$crate::epilogue::Epilogue<'_>,
        ) -> $crate::error::Result<()> {
            $name_with($crate::isa::Isa::detect(), p, x, w, b, y, epilogue)
        }

        $(#[$doc_with])*
        pub fn $name_with(
            isa: $crate::isa::Isa,
            p: &$crate::params::Conv2dParams,
            x: &$crate::tensor::TensorView<'_>,
            w: &[f32],
            b: Option<&[f32]>,
            y: &mut $crate::tensor::TensorViewMut<'_>,
            epilogue: &$crate::epilogue::Epilogue<'_>,
        ) -> $crate::error::Result<()> {
            $crate::conv::Conv2d::with(isa, $algorithm, p, w, b)?.run_alloc(x, y, epilogue)
        }
    };
}
pub(crate) use entry_points;
