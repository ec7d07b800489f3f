//! NHWC tensor views with a pixel pitch, so that a view can be a channel slice of a larger
//! buffer (zero-copy concatenation), and the NCHW <-> NHWC conversions done at the edge.

use std::ops::Range;

use crate::error::{checked_product, KernelError, Result};

/// The logical shape of an NHWC activation tensor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Shape {
    pub n: usize,
    pub h: usize,
    pub w: usize,
    pub c: usize,
}

impl Shape {
    pub const fn new(n: usize, h: usize, w: usize, c: usize) -> Self {
        Shape { n, h, w, c }
    }

    /// Number of pixels, `n * h * w`, checked for overflow.
    pub fn pixels(&self) -> Result<usize> {
        checked_product("pixel count", &[self.n, self.h, self.w])
    }

    /// Number of elements of a dense tensor of this shape, checked for overflow.
    pub fn elements(&self) -> Result<usize> {
        checked_product("element count", &[self.n, self.h, self.w, self.c])
    }

    /// An error if any dimension is zero.
    pub fn check_nonzero(&self, what: &str) -> Result<()> {
        if self.n == 0 || self.h == 0 || self.w == 0 || self.c == 0 {
            return Err(KernelError::InvalidParams(format!("{what}: shape {self:?} has a zero dimension")));
        }
        Ok(())
    }
}

/// Length a buffer needs to hold `shape` with `pitch` elements between consecutive pixels.
fn required_len(what: &str, shape: Shape, pitch: usize) -> Result<usize> {
    shape.check_nonzero(what)?;
    if pitch < shape.c {
        return Err(KernelError::ShapeMismatch(format!(
            "{what}: pixel pitch {pitch} is smaller than the channel count {}",
            shape.c
        )));
    }
    let last = checked_product(what, &[shape.pixels()? - 1, pitch])?;
    last.checked_add(shape.c)
        .ok_or_else(|| KernelError::Overflow(format!("{what}: buffer length of {shape:?}")))
}

fn check_len(what: &str, shape: Shape, pitch: usize, len: usize) -> Result<()> {
    let need = required_len(what, shape, pitch)?;
    if len < need {
        return Err(KernelError::ShapeMismatch(format!(
            "{what}: buffer of {len} elements is too short for shape {shape:?} with pitch {pitch} (needs {need})"
        )));
    }
    Ok(())
}

/// The shape of rows `rows` of a one-image view, and the offset of their first element.
fn row_slice(shape: Shape, pitch: usize, rows: &Range<usize>) -> Result<(Shape, usize)> {
    if shape.n != 1 || rows.is_empty() || rows.end > shape.h {
        return Err(KernelError::ShapeMismatch(format!(
            "rows {rows:?} are empty, outside the {} rows of {shape:?}, or of a batch of several images",
            shape.h
        )));
    }
    Ok((Shape { h: rows.len(), ..shape }, rows.start * shape.w * pitch))
}

fn check_channel_slice(shape: Shape, start: usize, len: usize) -> Result<()> {
    match start.checked_add(len) {
        Some(end) if len > 0 && end <= shape.c => Ok(()),
        _ => Err(KernelError::ShapeMismatch(format!(
            "channel slice {start}..{start}+{len} is empty or outside the {} channels of {shape:?}",
            shape.c
        ))),
    }
}

/// A read-only NHWC view: element `(n, y, x, ch)` is at `((n * h + y) * w + x) * pitch + ch`.
#[derive(Clone, Copy, Debug)]
pub struct TensorView<'a> {
    data: &'a [f32],
    shape: Shape,
    pitch: usize,
}

impl<'a> TensorView<'a> {
    /// A dense view (pitch = channels).
    pub fn new(data: &'a [f32], shape: Shape) -> Result<Self> {
        Self::with_pitch(data, shape, shape.c)
    }

    /// A view whose consecutive pixels are `pitch` elements apart.
    pub fn with_pitch(data: &'a [f32], shape: Shape, pitch: usize) -> Result<Self> {
        check_len("input view", shape, pitch, data.len())?;
        Ok(TensorView { data, shape, pitch })
    }

    pub fn shape(&self) -> Shape {
        self.shape
    }

    pub fn pitch(&self) -> usize {
        self.pitch
    }

    /// The underlying elements, starting at pixel 0, channel 0.
    pub fn data(&self) -> &'a [f32] {
        self.data
    }

    /// The channels `start..start + len` of every pixel, as a view into the same buffer.
    pub fn channels(&self, start: usize, len: usize) -> Result<TensorView<'a>> {
        check_channel_slice(self.shape, start, len)?;
        let shape = Shape { c: len, ..self.shape };
        TensorView::with_pitch(&self.data[start..], shape, self.pitch)
    }

    /// Rows `rows` of a one-image view, as a view into the same buffer.
    pub fn rows(&self, rows: Range<usize>) -> Result<TensorView<'a>> {
        let (shape, start) = row_slice(self.shape, self.pitch, &rows)?;
        TensorView::with_pitch(&self.data[start..], shape, self.pitch)
    }

    /// The `c` channels of pixel `p` (pixels numbered in NHW order).
    pub fn pixel(&self, p: usize) -> &'a [f32] {
        &self.data[p * self.pitch..p * self.pitch + self.shape.c]
    }
}

/// A mutable NHWC view, laid out as [`TensorView`].
#[derive(Debug)]
pub struct TensorViewMut<'a> {
    data: &'a mut [f32],
    shape: Shape,
    pitch: usize,
}

impl<'a> TensorViewMut<'a> {
    pub fn new(data: &'a mut [f32], shape: Shape) -> Result<Self> {
        let pitch = shape.c;
        Self::with_pitch(data, shape, pitch)
    }

    pub fn with_pitch(data: &'a mut [f32], shape: Shape, pitch: usize) -> Result<Self> {
        check_len("output view", shape, pitch, data.len())?;
        Ok(TensorViewMut { data, shape, pitch })
    }

    pub fn shape(&self) -> Shape {
        self.shape
    }

    pub fn pitch(&self) -> usize {
        self.pitch
    }

    pub fn data(&self) -> &[f32] {
        self.data
    }

    pub fn data_mut(&mut self) -> &mut [f32] {
        self.data
    }

    pub fn as_view(&self) -> TensorView<'_> {
        TensorView { data: self.data, shape: self.shape, pitch: self.pitch }
    }

    /// The channels `start..start + len` of every pixel, as a mutable view into the same buffer.
    pub fn channels_mut(&mut self, start: usize, len: usize) -> Result<TensorViewMut<'_>> {
        check_channel_slice(self.shape, start, len)?;
        let shape = Shape { c: len, ..self.shape };
        TensorViewMut::with_pitch(&mut self.data[start..], shape, self.pitch)
    }

    /// Rows `rows` of a one-image view, as a mutable view into the same buffer.
    pub fn rows_mut(&mut self, rows: Range<usize>) -> Result<TensorViewMut<'_>> {
        let (shape, start) = row_slice(self.shape, self.pitch, &rows)?;
        TensorViewMut::with_pitch(&mut self.data[start..], shape, self.pitch)
    }

    pub fn pixel(&self, p: usize) -> &[f32] {
        &self.data[p * self.pitch..p * self.pitch + self.shape.c]
    }

    pub fn pixel_mut(&mut self, p: usize) -> &mut [f32] {
        &mut self.data[p * self.pitch..p * self.pitch + self.shape.c]
    }
}

/// Converts a dense NCHW tensor of logical shape `shape` into an NHWC view.
pub fn nchw_to_nhwc(src: &[f32], shape: Shape, dst: &mut TensorViewMut<'_>) -> Result<()> {
    if src.len() != shape.elements()? || dst.shape() != shape {
        return Err(KernelError::ShapeMismatch(format!(
            "nchw_to_nhwc: source of {} elements for {shape:?}, destination {:?}",
            src.len(),
            dst.shape()
        )));
    }
    let plane = shape.h * shape.w;
    for n in 0..shape.n {
        for p in 0..plane {
            let pixel = dst.pixel_mut(n * plane + p);
            for (ch, v) in pixel.iter_mut().enumerate() {
                *v = src[(n * shape.c + ch) * plane + p];
            }
        }
    }
    Ok(())
}

/// Converts an NHWC view into a dense NCHW buffer.
pub fn nhwc_to_nchw(src: &TensorView<'_>, dst: &mut [f32]) -> Result<()> {
    let shape = src.shape();
    if dst.len() != shape.elements()? {
        return Err(KernelError::ShapeMismatch(format!(
            "nhwc_to_nchw: destination of {} elements for {shape:?}",
            dst.len()
        )));
    }
    let plane = shape.h * shape.w;
    for n in 0..shape.n {
        for p in 0..plane {
            for (ch, &v) in src.pixel(n * plane + p).iter().enumerate() {
                dst[(n * shape.c + ch) * plane + p] = v;
            }
        }
    }
    Ok(())
}
