//! Tensors stored with extra channels around the view in every pixel, so that a kernel that
//! writes outside its view (or reads past its pitch) changes a sentinel the target checks.

use lineage_kernels::{Result, Shape, TensorView, TensorViewMut};

/// What the margins hold; a NaN, so any read of a margin also spoils the result.
const SENTINEL: f32 = f32::NAN;

/// An NHWC tensor whose pixels are `left + shape.c + right` elements apart.
pub struct Strided {
    pub shape: Shape,
    left: usize,
    right: usize,
    buf: Vec<f32>,
}

impl Strided {
    /// `values` (dense NHWC) placed in the view, margins set to the sentinel.
    pub fn new(shape: Shape, margin: (usize, usize), values: &[f32]) -> Self {
        let pitch = margin.0 + shape.c + margin.1;
        let pixels = shape.n * shape.h * shape.w;
        let mut buf = vec![SENTINEL; pixels * pitch];
        for (p, chunk) in values.chunks_exact(shape.c.max(1)).take(pixels).enumerate() {
            buf[p * pitch + margin.0..][..shape.c].copy_from_slice(chunk);
        }
        Strided { shape, left: margin.0, right: margin.1, buf }
    }

    pub fn pitch(&self) -> usize {
        self.left + self.shape.c + self.right
    }

    pub fn view(&self) -> Result<TensorView<'_>> {
        TensorView::with_pitch(&self.buf[self.left.min(self.buf.len())..], self.shape, self.pitch())
    }

    pub fn view_mut(&mut self) -> Result<TensorViewMut<'_>> {
        let pitch = self.pitch();
        let start = self.left.min(self.buf.len());
        TensorViewMut::with_pitch(&mut self.buf[start..], self.shape, pitch)
    }

    /// The view's elements, dense NHWC.
    pub fn dense(&self) -> Vec<f32> {
        let pitch = self.pitch().max(1);
        self.buf.chunks_exact(pitch).flat_map(|px| px[self.left..][..self.shape.c].to_vec()).collect()
    }

    /// Whether every margin element still holds the sentinel.
    pub fn margins_untouched(&self) -> bool {
        let pitch = self.pitch().max(1);
        self.buf.chunks_exact(pitch).all(|px| {
            px[..self.left]
                .iter()
                .chain(&px[self.left + self.shape.c..])
                .all(|v| v.to_bits() == SENTINEL.to_bits())
        })
    }
}

pub fn widen(v: &[f32]) -> Vec<f64> {
    v.iter().map(|&x| x as f64).collect()
}
