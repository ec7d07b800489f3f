//! The steps of a plan and how each one runs on the arena.

use lineage_kernels::ops::{self, BatchNorm, FullyConnected, LrnParams, Pool2dParams};
use lineage_kernels::{Activation, Conv2d, Epilogue, Isa, Shape, TensorView, TensorViewMut};

use super::band::BandChain;
use crate::error::{NetError, Result};

/// Where a value lives in the arena: element `(pixel p, channel ch)` is at
/// `offset + p * pitch + ch`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Slot {
    pub offset: usize,
    pub shape: Shape,
    pub pitch: usize,
}

impl Slot {
    /// Floats from the first to one past the last element.
    pub fn span(&self) -> usize {
        (self.shape.n * self.shape.h * self.shape.w - 1) * self.pitch + self.shape.c
    }

    pub fn end(&self) -> usize {
        self.offset + self.span()
    }
}

/// What a step computes.
#[derive(Debug)]
pub(crate) enum Kind {
    /// `act(conv(x) + bias + residual)`: batch norm folded in, the residual add fused.
    Conv {
        conv: Box<Conv2d>,
        act: Activation,
        residual: Option<Slot>,
    },
    MaxPool(Pool2dParams),
    AvgPool(Pool2dParams),
    AdaptiveAvgPool,
    GlobalAvgPool,
    BatchNorm {
        bn: BatchNorm,
        act: Activation,
    },
    Act(Activation),
    Lrn(LrnParams),
    /// An expansion, a depthwise convolution and a projection run a band of rows at a time.
    Band(Box<BandChain>),
    /// An add the planner could not fuse into a convolution.
    Add {
        other: Slot,
        act: Activation,
    },
    /// A concat input that could not be written in place.
    CopyChannels,
    /// PyTorch-order flatten of a map larger than 1x1.
    Flatten,
    Linear {
        fc: FullyConnected,
        act: Activation,
    },
    Softmax,
}

impl Kind {
    pub fn name(&self) -> &'static str {
        match self {
            Kind::Conv { residual: Some(_), .. } => "conv+add",
            Kind::Conv { .. } => "conv",
            Kind::Band(chain) if chain.residual.is_some() => "conv-band+add",
            Kind::Band(_) => "conv-band",
            Kind::MaxPool(_) => "maxpool",
            Kind::AvgPool(_) => "avgpool",
            Kind::AdaptiveAvgPool => "adaptivepool",
            Kind::GlobalAvgPool => "globalpool",
            Kind::BatchNorm { .. } => "batchnorm",
            Kind::Act(_) => "act",
            Kind::Lrn(_) => "lrn",
            Kind::Add { .. } => "add",
            Kind::CopyChannels => "copy",
            Kind::Flatten => "flatten",
            Kind::Linear { .. } => "linear",
            Kind::Softmax => "softmax",
        }
    }
}

/// One step: `output = kind(input)`, named after the layer it computes.
#[derive(Debug)]
pub(crate) struct Step {
    pub name: String,
    pub kind: Kind,
    pub input: Slot,
    pub output: Slot,
}

impl Step {
    /// Every slot the step reads.
    pub fn reads(&self) -> impl Iterator<Item = Slot> + '_ {
        let extra = match &self.kind {
            Kind::Conv { residual, .. } => *residual,
            Kind::Band(chain) => chain.residual,
            Kind::Add { other, .. } => Some(*other),
            _ => None,
        };
        std::iter::once(self.input).chain(extra)
    }

    /// Runs the step on `arena`; `scratch` is the convolutions' workspace. The planner
    /// guarantees that no slot read overlaps the output's range.
    pub fn run(&self, isa: Isa, arena: &mut [f32], scratch: &mut [f32]) -> Result<()> {
        let out = self.output;
        let internal = |what: &str| NetError::Kernel {
            layer: self.name.clone(),
            error: lineage_kernels::KernelError::ShapeMismatch(format!(
                "plan slot {what} is outside the arena"
            )),
        };
        if out.end() > arena.len() {
            return Err(internal("output"));
        }
        let (before, rest) = arena.split_at_mut(out.offset);
        let (out_mem, after) = rest.split_at_mut(out.span());
        let (before, after): (&[f32], &[f32]) = (before, after);
        let end = out.end();
        let view = |s: Slot| -> Result<TensorView<'_>> {
            let data = if s.end() <= out.offset {
                &before[s.offset..]
            } else if s.offset >= end && s.end() - end <= after.len() {
                &after[s.offset - end..]
            } else {
                return Err(internal("read overlapping the output"));
            };
            TensorView::with_pitch(data, s.shape, s.pitch).map_err(NetError::kernel(&self.name))
        };
        let x = view(self.input)?;
        let mut y =
            TensorViewMut::with_pitch(out_mem, out.shape, out.pitch).map_err(NetError::kernel(&self.name))?;
        let k = NetError::kernel(&self.name);
        match &self.kind {
            Kind::Conv { conv, act, residual } => {
                let residual = residual.map(view).transpose()?;
                conv.run(&x, &mut y, &Epilogue { activation: *act, residual }, scratch)
            }
            Kind::Band(chain) => chain.run(&x, &mut y, chain.residual.map(view).transpose()?, scratch),
            Kind::MaxPool(p) => ops::max_pool2d_with(isa, p, &x, &mut y),
            Kind::AvgPool(p) => ops::avg_pool2d_with(isa, p, &x, &mut y),
            Kind::AdaptiveAvgPool => ops::adaptive_avg_pool2d_with(isa, &x, &mut y),
            Kind::GlobalAvgPool => ops::global_avg_pool_with(isa, &x, &mut y),
            Kind::BatchNorm { bn, act } => ops::batch_norm_with(isa, bn, *act, &x, &mut y),
            Kind::Act(act) => ops::activation_with(isa, *act, &x, &mut y),
            Kind::Lrn(p) => ops::local_response_norm_with(isa, p, &x, &mut y),
            Kind::Add { other, act } => ops::add_with(isa, &x, &view(*other)?, *act, &mut y),
            Kind::CopyChannels => ops::copy_channels_with(isa, &x, &mut y),
            Kind::Flatten => ops::flatten_nchw_order(&x, y.data_mut()),
            // The whole batch as one product: the weights stream from memory once, not per image.
            Kind::Linear { fc, act } => fc.run_view(&x, &mut y, *act),
            Kind::Softmax => per_pixel(&x, &mut y, ops::softmax),
        }
        .map_err(k)
    }
}

/// Applies `f` to the channel vector of every pixel (softmax works on the channels of one image
/// at a time).
fn per_pixel(
    x: &TensorView<'_>,
    y: &mut TensorViewMut<'_>,
    mut f: impl FnMut(&[f32], &mut [f32]) -> lineage_kernels::Result<()>,
) -> lineage_kernels::Result<()> {
    let pixels = x.shape().pixels()?;
    for p in 0..pixels {
        f(x.pixel(p), y.pixel_mut(p))?;
    }
    Ok(())
}

impl Step {
    /// Visits the input, the extra read (residual or second addend) and the output, in that
    /// order (the planner patches arena offsets through it).
    pub(crate) fn for_each_slot_mut(&mut self, mut f: impl FnMut(&mut Slot)) {
        f(&mut self.input);
        match &mut self.kind {
            Kind::Conv { residual: Some(r), .. } => f(r),
            Kind::Band(chain) => {
                if let Some(r) = &mut chain.residual {
                    f(r)
                }
            }
            Kind::Add { other, .. } => f(other),
            _ => {}
        }
        f(&mut self.output);
    }
}
