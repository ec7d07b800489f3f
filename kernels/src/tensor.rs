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
    // Channel plane by channel plane: sequential reads, writes stepping by the pitch (a
    // per-pixel gather with its index arithmetic cost 16 instructions per float, a checked
    // strided iterator 11).
    let (plane, pitch) = (shape.h * shape.w, dst.pitch());
    let data = dst.data_mut().as_mut_ptr();
    for (n, image) in src.chunks_exact(shape.c * plane).enumerate() {
        for (ch, src_plane) in image.chunks_exact(plane).enumerate() {
            for (p, &v) in src_plane.iter().enumerate() {
                // SAFETY: pixel n * plane + p of the view, channel ch < c: inside the view's
                // data, whose length the view checked when it was made.
                unsafe { *data.add((n * plane + p) * pitch + ch) = v };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nchw_to_nhwc_fills_a_pitched_view_and_round_trips() {
        let shape = Shape::new(2, 3, 5, 3);
        let src: Vec<f32> = (0..shape.elements().unwrap()).map(|i| i as f32).collect();
        let pitch = 7;
        let mut buf = vec![f32::NAN; (shape.pixels().unwrap() - 1) * pitch + shape.c];
        let mut view = TensorViewMut::with_pitch(&mut buf, shape, pitch).unwrap();
        nchw_to_nhwc(&src, shape, &mut view).unwrap();
        let plane = shape.h * shape.w;
        for n in 0..shape.n {
            for p in 0..plane {
                for ch in 0..shape.c {
                    assert_eq!(view.pixel(n * plane + p)[ch], src[(n * shape.c + ch) * plane + p]);
                }
            }
        }
        let mut back = vec![0.0; src.len()];
        nhwc_to_nchw(&view.as_view(), &mut back).unwrap();
        assert_eq!(back, src);
        // The floats between pixels are not the view's: untouched.
        assert!(buf.chunks(pitch).all(|px| px[shape.c..].iter().all(|v| v.is_nan())));
    }
}
