//! One convolution call's tensors in raw form, checked once, shared by the parallel tasks of
//! every algorithm (tasks write disjoint parts of `y` from several threads).

use std::ops::Deref;

use crate::epilogue::{Activation, Epilogue};
use crate::error::{KernelError, Result};
use crate::params::Conv2dParams;
use crate::tensor::{Shape, TensorView, TensorViewMut};
use crate::ukernel::row_store::RowStore;

use crate::spread::Spread;

pub(crate) struct ConvIo {
    pub x: *const f32,
    pub x_pitch: usize,
    pub input: Shape,
    pub y: *mut f32,
    pub y_pitch: usize,
    pub out: Shape,
    pub residual: Option<(*const f32, usize)>,
    pub activation: Activation,
    pub spread: Spread,
}

// SAFETY: the pointers come from views that outlive every job built on them (a job lives on
// its `run`'s stack while the pool runs the tasks); tasks only read `x` and `residual`, and each
// algorithm's tasks write disjoint regions of `y`.
unsafe impl Sync for ConvIo {}

impl ConvIo {
    /// Checks that `y` and the epilogue's residual have the output shape `p` gives for `x`.
    pub fn new(
        layer: &str,
        p: &Conv2dParams,
        x: &TensorView<'_>,
        y: &mut TensorViewMut<'_>,
        epilogue: &Epilogue<'_>,
        spread: Spread,
    ) -> Result<Self> {
        let out = p.output_shape(x.shape())?;
        if y.shape() != out {
            return Err(KernelError::ShapeMismatch(format!(
                "{layer}: output view {:?} differs from the output shape {out:?}",
                y.shape()
            )));
        }
        epilogue.check(layer, out)?;
        Ok(ConvIo {
            x: x.data().as_ptr(),
            x_pitch: x.pitch(),
            input: x.shape(),
            y: y.data_mut().as_mut_ptr(),
            y_pitch: y.pitch(),
            out,
            residual: epilogue.residual.map(|r| (r.data().as_ptr(), r.pitch())),
            activation: epilogue.activation,
            spread,
        })
    }
}

impl ConvIo {
    /// Where the outputs from output pixel `pixel` (counted over the batch: `(n * h + oy) * w +
    /// ox`) on, starting at `channel`, go, and the residual's matching place.
    ///
    /// # Safety
    /// `pixel` must be a pixel of the output and `channel` one of its channels.
    #[inline(always)]
    pub unsafe fn row_store(&self, pixel: usize, channel: usize) -> RowStore {
        // SAFETY: per the contract, inside the output view and the residual view (which has
        // the output's shape).
        unsafe {
            RowStore {
                y: self.y.add(pixel * self.y_pitch + channel),
                y_pitch: self.y_pitch,
                residual: self
                    .residual
                    .map_or(core::ptr::null(), |(r, pitch)| r.add(pixel * pitch + channel)),
                residual_pitch: self.residual.map_or(0, |(_, pitch)| pitch),
            }
        }
    }
}

/// An algorithm's packed weights with the call's tensors; fields of the tensors read through.
pub(crate) struct Job<'a, P> {
    pub packed: &'a P,
    pub io: ConvIo,
}

impl<P> Deref for Job<'_, P> {
    type Target = ConvIo;

    fn deref(&self) -> &ConvIo {
        &self.io
    }
}
