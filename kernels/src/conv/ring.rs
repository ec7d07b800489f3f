//! The stack ring of the staged paths (depthwise with many channels, grouped with small
//! groups): the input rows a task's windows read, copied into planes of whole vectors with the
//! padding as zero columns, so the micro-kernels step between columns by a constant and meet no
//! border.

use std::ops::Range;

/// A task's ring of `N` floats, aligned for whole-vector loads.
#[repr(C, align(64))]
pub(super) struct Ring<const N: usize>([f32; N]);

/// The staged columns `0..columns` (input columns `ix0..`) that hold pixels of a row `iw` wide;
/// none for a row of the padding (`in_image` false).
pub(super) fn image_columns(in_image: bool, ix0: isize, iw: usize, columns: usize) -> Range<usize> {
    if !in_image {
        return 0..0;
    }
    let first = (-ix0).clamp(0, columns as isize) as usize;
    let end = (iw as isize - ix0).clamp(0, columns as isize) as usize;
    first..end.max(first)
}
