//! Convolution parameters and their output-shape arithmetic.

use std::ops::Range;

use crate::error::{checked_product, KernelError, Result};
use crate::tensor::Shape;

/// Padding in pixels on each side; asymmetric padding is allowed (TensorFlow "SAME" style).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Padding {
    pub top: usize,
    pub left: usize,
    pub bottom: usize,
    pub right: usize,
}

impl Padding {
    pub const fn uniform(p: usize) -> Self {
        Padding { top: p, left: p, bottom: p, right: p }
    }

    /// `ph` rows above and below, `pw` columns left and right.
    pub const fn symmetric(ph: usize, pw: usize) -> Self {
        Padding { top: ph, left: pw, bottom: ph, right: pw }
    }
}

/// A 2-D convolution: weights are OIHW `[c_out][c_in / groups][kh][kw]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Conv2dParams {
    pub c_in: usize,
    pub c_out: usize,
    pub kh: usize,
    pub kw: usize,
    pub stride_h: usize,
    pub stride_w: usize,
    pub pad: Padding,
    pub dilation_h: usize,
    pub dilation_w: usize,
    pub groups: usize,
}

/// Largest size accepted for any single dimension; larger is an error, not an allocation attempt.
pub const MAX_DIM: usize = 1 << 24;

impl Conv2dParams {
    /// A square `k x k` convolution with stride, symmetric padding, no dilation, one group.
    pub const fn square(c_in: usize, c_out: usize, k: usize, stride: usize, pad: usize) -> Self {
        Conv2dParams {
            c_in,
            c_out,
            kh: k,
            kw: k,
            stride_h: stride,
            stride_w: stride,
            pad: Padding::uniform(pad),
            dilation_h: 1,
            dilation_w: 1,
            groups: 1,
        }
    }

    /// Checks that the parameters describe a convolution (independently of the input size).
    pub fn validate(&self) -> Result<()> {
        let named = [
            ("c_in", self.c_in),
            ("c_out", self.c_out),
            ("kh", self.kh),
            ("kw", self.kw),
            ("stride_h", self.stride_h),
            ("stride_w", self.stride_w),
            ("dilation_h", self.dilation_h),
            ("dilation_w", self.dilation_w),
            ("groups", self.groups),
        ];
        for (name, v) in named {
            if v == 0 || v > MAX_DIM {
                return Err(KernelError::InvalidParams(format!(
                    "conv2d: {name} = {v} must be in 1..={MAX_DIM} ({self:?})"
                )));
            }
        }
        for (name, v) in [
            ("pad.top", self.pad.top),
            ("pad.left", self.pad.left),
            ("pad.bottom", self.pad.bottom),
            ("pad.right", self.pad.right),
        ] {
            if v > MAX_DIM {
                return Err(KernelError::InvalidParams(format!("conv2d: {name} = {v} exceeds {MAX_DIM}")));
            }
        }
        if self.c_in % self.groups != 0 || self.c_out % self.groups != 0 {
            return Err(KernelError::InvalidParams(format!(
                "conv2d: groups = {} must divide c_in = {} and c_out = {}",
                self.groups, self.c_in, self.c_out
            )));
        }
        Ok(())
    }

    /// Input channels seen by each output channel.
    pub fn c_in_per_group(&self) -> usize {
        self.c_in / self.groups
    }

    /// Number of weight elements (OIHW), checked for overflow.
    pub fn weight_len(&self) -> Result<usize> {
        checked_product("conv2d weights", &[self.c_out, self.c_in_per_group(), self.kh, self.kw])
    }

    /// Extent of the dilated kernel along one axis: `(k - 1) * d + 1`.
    fn extent(k: usize, d: usize) -> Result<usize> {
        (k - 1)
            .checked_mul(d)
            .and_then(|e| e.checked_add(1))
            .ok_or_else(|| KernelError::Overflow(format!("conv2d: dilated extent of k={k}, d={d}")))
    }

    fn out_dim(
        axis: &str,
        size: usize,
        pad0: usize,
        pad1: usize,
        k: usize,
        d: usize,
        s: usize,
    ) -> Result<usize> {
        let padded = size
            .checked_add(pad0)
            .and_then(|v| v.checked_add(pad1))
            .ok_or_else(|| KernelError::Overflow(format!("conv2d: padded {axis} of {size}")))?;
        let extent = Self::extent(k, d)?;
        if extent > padded {
            return Err(KernelError::InvalidParams(format!(
                "conv2d: kernel {axis} extent {extent} (k={k}, dilation={d}) is larger than the padded input {axis} {padded} ({size} + {pad0} + {pad1})"
            )));
        }
        Ok((padded - extent) / s + 1)
    }

    /// Output `(height, width)` for an input of `h x w`, validating everything on the way.
    pub fn output_hw(&self, h: usize, w: usize) -> Result<(usize, usize)> {
        self.validate()?;
        if h == 0 || w == 0 || h > MAX_DIM || w > MAX_DIM {
            return Err(KernelError::InvalidParams(format!(
                "conv2d: input size {h}x{w} must be in 1..={MAX_DIM}"
            )));
        }
        let oh = Self::out_dim(
            "height",
            h,
            self.pad.top,
            self.pad.bottom,
            self.kh,
            self.dilation_h,
            self.stride_h,
        )?;
        let ow = Self::out_dim(
            "width",
            w,
            self.pad.left,
            self.pad.right,
            self.kw,
            self.dilation_w,
            self.stride_w,
        )?;
        Ok((oh, ow))
    }

    /// Output shape for an input shape, checking the input's channel count.
    pub fn output_shape(&self, input: Shape) -> Result<Shape> {
        input.check_nonzero("conv2d input")?;
        if input.c != self.c_in {
            return Err(KernelError::ShapeMismatch(format!(
                "conv2d: input has {} channels, params expect c_in = {}",
                input.c, self.c_in
            )));
        }
        let (oh, ow) = self.output_hw(input.h, input.w)?;
        let out = Shape::new(input.n, oh, ow, self.c_out);
        out.elements()?;
        Ok(out)
    }

    /// The input rows that output rows `out_rows` read from an image of `input_h` rows, and
    /// the padding with which a convolution over just those rows gives just those outputs (the
    /// image's own padding at its edges, none where the band continues the image).
    pub fn band_input(&self, out_rows: Range<usize>, input_h: usize) -> Result<(Range<usize>, Padding)> {
        self.validate()?;
        // Any width the kernel fits will do: only the height matters here.
        let (oh, _) = self.output_hw(input_h, (self.kw - 1) * self.dilation_w + 1)?;
        if out_rows.is_empty() || out_rows.end > oh {
            return Err(KernelError::ShapeMismatch(format!(
                "conv2d: output rows {out_rows:?} are not a band of the {oh} output rows"
            )));
        }
        // In padded-image coordinates, where input row r is row r + pad.top.
        let first = out_rows.start * self.stride_h;
        let end = (out_rows.end - 1) * self.stride_h + (self.kh - 1) * self.dilation_h + 1;
        let (lo, hi) = (first.max(self.pad.top), end.min(self.pad.top + input_h));
        if lo >= hi {
            return Err(KernelError::ShapeMismatch(format!(
                "conv2d: output rows {out_rows:?} read only padding"
            )));
        }
        let pad = Padding { top: lo - first, bottom: end - hi, ..self.pad };
        Ok((lo - self.pad.top..hi - self.pad.top, pad))
    }

    /// Multiply-accumulates of one image: `oh * ow * c_out * (c_in / groups) * kh * kw`.
    pub fn macs(&self, input: Shape) -> Result<u64> {
        let out = self.output_shape(input)?;
        let n = checked_product(
            "conv2d MACs",
            &[out.n, out.h, out.w, self.c_out, self.c_in_per_group(), self.kh, self.kw],
        )?;
        Ok(n as u64)
    }
}
