//! A grouped convolution run as one dense [`Conv2d`] per group, one group after another, each
//! on its group's channel slice of the input, the output and the residual (views with the full
//! tensor's pitch, which every algorithm honours).
//!
//! This is for few, large groups (AlexNet's two towers), where a dense algorithm other than
//! direct (Winograd) beats the grouped kernel's own dense GEMM per group: see
//! [`super::select`] for when it is chosen.

use super::{Algorithm, Conv2d};
use crate::epilogue::Epilogue;
use crate::error::{KernelError, Result};
use crate::isa::Isa;
use crate::pack::check_weight_and_bias;
use crate::params::Conv2dParams;
use crate::spread::Spread;
use crate::tensor::{Shape, TensorView, TensorViewMut};

/// One group's dense convolution: the grouped params with one group's channels and groups = 1.
pub(crate) fn group_params(p: &Conv2dParams) -> Conv2dParams {
    let groups = p.groups.max(1);
    Conv2dParams { c_in: p.c_in / groups, c_out: p.c_out / groups, groups: 1, ..*p }
}

/// The packed dense convolution of each group.
#[derive(Clone, Debug)]
pub(crate) struct PerGroup {
    pub params: Conv2dParams,
    pub isa: Isa,
    pub groups: Vec<Conv2d>,
}

impl PerGroup {
    /// Packs OIHW weights `w` (c_out x c_in / groups x kh x kw) and bias `b` of the grouped
    /// convolution `p` as `p.groups` dense convolutions of algorithm `dense`. The caller has
    /// checked that `p` is a valid grouped convolution.
    pub fn new(isa: Isa, dense: Algorithm, p: &Conv2dParams, w: &[f32], b: Option<&[f32]>) -> Result<Self> {
        check_weight_and_bias(p, w.len(), b)?;
        let gp = group_params(p);
        // Group g's filters are output channels g * c_out/groups.., contiguous in OIHW.
        let per_group = w.len() / p.groups;
        let groups = (0..p.groups)
            .map(|g| {
                let wg = &w[g * per_group..(g + 1) * per_group];
                let bg = b.map(|b| &b[g * gp.c_out..(g + 1) * gp.c_out]);
                Conv2d::with(isa, dense, &gp, wg, bg)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(PerGroup { params: *p, isa, groups })
    }

    fn group_input(&self, input: Shape) -> Shape {
        Shape { c: group_params(&self.params).c_in, ..input }
    }

    /// The largest workspace of any group (they run one after another on the same workspace).
    pub fn workspace_len(&self, input: Shape) -> Result<usize> {
        let input = self.group_input(input);
        self.groups.iter().try_fold(0, |most, g| Ok(most.max(g.workspace_len(input)?)))
    }

    /// Runs each group's convolution on its channel slices of `x`, `y` and the residual.
    pub fn run(
        &self,
        layer: &str,
        x: &TensorView<'_>,
        y: &mut TensorViewMut<'_>,
        epilogue: &Epilogue<'_>,
        workspace: &mut [f32],
        spread: Spread,
    ) -> Result<()> {
        let p = &self.params;
        let out = p.output_shape(x.shape())?;
        if x.shape().c != p.c_in {
            return Err(KernelError::ShapeMismatch(format!(
                "{layer}: input has {} channels, the convolution {}",
                x.shape().c,
                p.c_in
            )));
        }
        if y.shape() != out {
            return Err(KernelError::ShapeMismatch(format!(
                "{layer}: output view {:?} differs from the output shape {out:?}",
                y.shape()
            )));
        }
        epilogue.check(layer, out)?;
        let Conv2dParams { c_in: cig, c_out: cog, .. } = group_params(p);
        for (g, conv) in self.groups.iter().enumerate() {
            let xg = x.channels(g * cig, cig)?;
            let mut yg = y.channels_mut(g * cog, cog)?;
            let residual = epilogue.residual.map(|r| r.channels(g * cog, cog)).transpose()?;
            let eg = Epilogue { activation: epilogue.activation, residual };
            conv.run_spread(&xg, &mut yg, &eg, workspace, spread)?;
        }
        Ok(())
    }
}
