//! Convolutions fused band by band of output rows: an optional 1x1 expansion, a depthwise
//! convolution and a 1x1 projection run on a few rows at a time, so the wide tensors between
//! them (MobileNet v2's 96 channels at 112x112 are 4.8 MB) live in a per-thread scratch the
//! size of the L2 cache instead of going to memory and back. Each thread takes a run of
//! output rows; the expanded rows a band shares with the previous one are moved, not redone.
//! Every output value is computed exactly as the unfused layers compute it (the kernels'
//! band runs are bitwise equal to whole-image runs), so results do not depend on the bands.

use lineage_kernels::{Activation, Conv2d, Epilogue, KernelError, Padding, Shape, TensorView, TensorViewMut};
use rayon::prelude::*;

use super::Slot;

/// Bytes of one thread's band buffers: half of a 512 KiB L2, leaving room for the weights
/// and the input rows.
const BAND_BYTES: usize = 256 * 1024;

/// A convolution and the activation fused into its store.
#[derive(Debug)]
pub(crate) struct Layer {
    pub conv: Conv2d,
    pub act: Activation,
}

/// `project(depthwise(expand(x)))` (+ residual), planned for one input shape.
#[derive(Debug)]
pub(crate) struct BandChain {
    expand: Option<Layer>,
    depthwise: Layer,
    project: Layer,
    pub residual: Option<Slot>,
    /// The depthwise convolution with every padding a band can need.
    padded: Vec<Conv2d>,
    /// The depthwise input (the expansion's output).
    mid: Shape,
    /// Output rows per band.
    band: usize,
}

impl BandChain {
    /// Plans the chain for batch-1 depthwise inputs of shape `mid`.
    pub fn new(
        expand: Option<Layer>,
        depthwise: Layer,
        project: Layer,
        residual: Option<Slot>,
        mid: Shape,
    ) -> lineage_kernels::Result<BandChain> {
        let p = *depthwise.conv.params();
        let out = p.output_shape(mid)?;
        let mut padded = Vec::new();
        for top in 0..=p.pad.top {
            for bottom in 0..=p.pad.bottom {
                padded.push(depthwise.conv.with_padding(Padding { top, bottom, ..p.pad })?);
            }
        }
        let mut chain = BandChain { expand, depthwise, project, residual, padded, mid, band: 1 };
        chain.band = (1..=out.h).rev().find(|&rows| chain.floats(rows) * 4 <= BAND_BYTES).unwrap_or(1);
        Ok(chain)
    }

    /// Input rows of a band of `rows` output rows.
    fn in_rows(&self, rows: usize) -> usize {
        let p = self.depthwise.conv.params();
        (rows - 1) * p.stride_h + (p.kh - 1) * p.dilation_h + 1
    }

    /// Floats of the expanded rows a band of `rows` output rows reads (none without an
    /// expansion: the depthwise reads the chain's input).
    fn expanded_floats(&self, rows: usize) -> usize {
        if self.expand.is_some() {
            self.in_rows(rows) * self.mid.w * self.mid.c
        } else {
            0
        }
    }

    /// Scratch floats of one thread for bands of `rows` output rows: the expanded rows and the
    /// depthwise output rows.
    fn floats(&self, rows: usize) -> usize {
        let ow = self.depthwise.conv.params().output_hw(self.mid.h, self.mid.w).map_or(0, |(_, w)| w);
        self.expanded_floats(rows) + rows * ow * self.mid.c
    }

    /// Scratch floats of one thread.
    pub fn scratch_len(&self) -> usize {
        self.floats(self.band)
    }

    pub fn packed_bytes(&self) -> usize {
        let layers = self.expand.iter().chain([&self.depthwise, &self.project]);
        layers.map(|l| l.conv.packed_bytes()).sum::<usize>()
            + self.padded.iter().map(Conv2d::packed_bytes).sum::<usize>()
    }

    /// Runs the chain on `x` into `y`, a run of rows per thread of the current pool (at most
    /// as many as `scratch` holds).
    pub fn run(
        &self,
        x: &TensorView<'_>,
        y: &mut TensorViewMut<'_>,
        residual: Option<TensorView<'_>>,
        scratch: &mut [f32],
    ) -> lineage_kernels::Result<()> {
        let len = self.scratch_len();
        let out = y.shape();
        let threads = rayon::current_num_threads().min(scratch.len() / len).min(out.h);
        if threads == 0 || out.n != 1 {
            return Err(KernelError::ShapeMismatch(format!(
                "fused band: scratch of {} floats for bands of {len}, output {out:?} (batch 1)",
                scratch.len()
            )));
        }
        let per_thread = out.h.div_ceil(threads);
        let (pitch, row) = (y.pitch(), out.w * y.pitch());
        // The view's own floats (its slice may run on): one chunk of rows per thread.
        let span = (out.h * out.w - 1) * pitch + out.c;
        y.data_mut()[..span]
            .par_chunks_mut(per_thread * row)
            .zip(scratch.par_chunks_mut(len))
            .enumerate()
            .try_for_each(|(t, (y, scratch))| {
                let rows = t * per_thread..((t + 1) * per_thread).min(out.h);
                let mut y = TensorViewMut::with_pitch(y, Shape { h: rows.len(), ..out }, pitch)?;
                let residual = residual.map(|r| r.rows(rows.clone())).transpose()?;
                self.run_rows(x, rows, &mut y, residual, scratch)
            })
    }

    /// Output rows `rows` into `y` (those rows only), band by band, on this thread.
    fn run_rows(
        &self,
        x: &TensorView<'_>,
        rows: std::ops::Range<usize>,
        y: &mut TensorViewMut<'_>,
        residual: Option<TensorView<'_>>,
        scratch: &mut [f32],
    ) -> lineage_kernels::Result<()> {
        let p = *self.depthwise.conv.params();
        let mid_row = self.mid.w * self.mid.c;
        let (expanded, dw_out) = scratch.split_at_mut(self.expanded_floats(self.band));
        // The image rows held at the top of `expanded`.
        let mut held = 0..0;
        for start in rows.clone().step_by(self.band) {
            let band = start..(start + self.band).min(rows.end);
            let (in_rows, pad) = p.band_input(band.clone(), self.mid.h)?;
            let mid = match &self.expand {
                Some(expand) => {
                    // Bands go down the image: the rows kept are the end of those held.
                    let kept = in_rows.start.max(held.start)..held.end.max(in_rows.start);
                    if !kept.is_empty() {
                        let from = kept.start - held.start..kept.end - held.start;
                        expanded.copy_within(from.start * mid_row..from.end * mid_row, 0);
                    }
                    let held_shape = Shape { h: in_rows.len(), ..self.mid };
                    if kept.end < in_rows.end {
                        let mut dst = TensorViewMut::new(expanded, held_shape)?;
                        let mut dst = dst.rows_mut(kept.len()..in_rows.len())?;
                        let act = Epilogue::activation(expand.act);
                        expand.conv.run_serial(&x.rows(kept.end..in_rows.end)?, &mut dst, &act, &mut [])?;
                    }
                    held = in_rows.clone();
                    TensorView::new(expanded, held_shape)?
                }
                None => x.rows(in_rows)?,
            };
            let depthwise = self.padded.iter().find(|c| c.params().pad == pad).ok_or_else(|| {
                KernelError::ShapeMismatch(format!("fused band: no depthwise convolution padded {pad:?}"))
            })?;
            let dw_shape = depthwise.params().output_shape(mid.shape())?;
            let mut dw = TensorViewMut::new(dw_out, dw_shape)?;
            depthwise.run_serial(&mid, &mut dw, &Epilogue::activation(self.depthwise.act), &mut [])?;
            let local = band.start - rows.start..band.end - rows.start;
            let epilogue = Epilogue {
                activation: self.project.act,
                residual: residual.map(|r| r.rows(local.clone())).transpose()?,
            };
            self.project.conv.run_serial(&dw.as_view(), &mut y.rows_mut(local)?, &epilogue, &mut [])?;
        }
        Ok(())
    }
}
