//! Register tile shapes per vector width, the only per-ISA choice of the kernels: every
//! algorithm has one generic source, and asks here how large a tile its ISA's registers hold.
//!
//! | ISA     | lanes | registers | GEMM tile (rows x vectors)       | depthwise 3x3 / 5x5 row |
//! |---------|-------|-----------|----------------------------------|-------------------------|
//! | scalar  | 1     | (tests)   | 4 x 4                            | 8 (stride 2: 4) / 4     |
//! | NEON    | 4     | 32 q      | 6 x 4 (24 acc + 4 w + 1 = 29)    | 8 (stride 2: 4) / 4     |
//! | AVX2    | 8     | 16 ymm    | 6 x 2 (12 acc + 2 w + 1 = 15)    | 4 / 4                   |
//! | AVX-512 | 16    | 32 zmm    | 6 x 4 (24 acc + 4 w + 1 = 29)    | 4 / 4                   |
//!
//! NEON has AVX-512's register count at a quarter of its width, so it takes AVX-512's GEMM
//! tiles; its depthwise 3x3 row at stride 1 holds 8 outputs (9 weights, 8 accumulators and the
//! row's inputs fit its 32 registers), which saves input loads per output. The x86 shapes were
//! measured (comments below); NEON's follow from the register count and were checked in the
//! aarch64 disassembly (README, instruction sets): no stack traffic in the GEMM loops nor in the
//! 3x3 rows of 4, while 2 of the 5 variants of the 3x3 row of 8 and most 5x5 rows (25 weights)
//! reload a few vectors from the stack per row.
//!
//! Each shape comes with a macro that instantiates the kernel at exactly the shapes of its
//! function, so a shape can only be changed here.

/// Most vectors per GEMM tile: a packed weight block is `max_nv(lanes) * lanes` channels wide.
pub(crate) const fn max_nv(lanes: usize) -> usize {
    match lanes {
        8 => 2,
        _ => 4,
    }
}

/// Rows (output pixels) of the dense GEMM tile, used by implicit GEMM and Winograd's products.
pub(crate) const fn gemm_rows(lanes: usize) -> usize {
    match lanes {
        1 => 4,
        _ => 6,
    }
}

/// `$this.$method::<generics.., MR>(args)` with MR = [`gemm_rows`]`(lanes)`.
macro_rules! by_gemm_rows {
    ($lanes:expr, $this:ident.$method:ident::<$($g:tt),*>($($arg:expr),*)) => {
        match $crate::ukernel::tiles::gemm_rows($lanes) {
            6 => $this.$method::<$($g),*, 6>($($arg),*),
            _ => $this.$method::<$($g),*, 4>($($arg),*),
        }
    };
}
pub(crate) use by_gemm_rows;

/// `$this.$method::<generics.., MR, NV>(args)` with the dense GEMM tile of full blocks:
/// [`gemm_rows`] x [`max_nv`].
macro_rules! by_gemm_tile {
    ($lanes:expr, $this:ident.$method:ident::<$($g:tt),*>($($arg:expr),*)) => {
        match (
            $crate::ukernel::tiles::gemm_rows($lanes),
            $crate::ukernel::tiles::max_nv($lanes),
        ) {
            (6, 4) => $this.$method::<$($g),*, 6, 4>($($arg),*),
            (6, 2) => $this.$method::<$($g),*, 6, 2>($($arg),*),
            _ => $this.$method::<$($g),*, 4, 4>($($arg),*),
        }
    };
}
pub(crate) use by_gemm_tile;

/// `$this.$method::<generics.., NV>(args)`: the tile width (vectors) for a block of `nv` valid
/// vectors, at most [`max_nv`]`(lanes)`: one instantiation per width, so the last, narrower
/// block computes only the vectors it has.
macro_rules! by_gemm_width {
    ($lanes:expr, $nv:expr, $this:ident.$method:ident::<$($g:tt),*>($($arg:expr),*)) => {
        match $nv.min($crate::ukernel::tiles::max_nv($lanes)) {
            4 => $this.$method::<$($g),*, 4>($($arg),*),
            3 => $this.$method::<$($g),*, 3>($($arg),*),
            2 => $this.$method::<$($g),*, 2>($($arg),*),
            _ => $this.$method::<$($g),*, 1>($($arg),*),
        }
    };
}
pub(crate) use by_gemm_width;

/// Grouped convolution's tile (rows, vectors) for a block of `nv` vectors, within the GEMM
/// register budget: narrow blocks (small groups) take more rows.
pub(crate) const fn grouped_tile(lanes: usize, nv: usize) -> (usize, usize) {
    match (lanes, nv) {
        (16, 4) => (6, 4),
        (16, 3) => (8, 3),
        (16, 2) => (8, 2),
        (16, _) => (8, 1),
        (8, 2) => (6, 2),
        (8, _) => (8, 1),
        (4, 4) => (6, 4),
        (4, 3) => (6, 3),
        (4, 2) => (6, 2),
        (4, _) => (8, 1),
        (_, 4) => (4, 4),
        (_, 3) => (4, 3),
        (_, 2) => (4, 2),
        (_, _) => (4, 1),
    }
}

/// `$this.$method::<generics.., MR, NV>(args)` with `(MR, NV)` = [`grouped_tile`].
macro_rules! by_grouped_tile {
    ($lanes:expr, $nv:expr, $this:ident.$method:ident::<$($g:tt),*>($($arg:expr),*)) => {
        match $crate::ukernel::tiles::grouped_tile($lanes, $nv) {
            (6, 4) => $this.$method::<$($g),*, 6, 4>($($arg),*),
            (6, 3) => $this.$method::<$($g),*, 6, 3>($($arg),*),
            (6, 2) => $this.$method::<$($g),*, 6, 2>($($arg),*),
            (8, 3) => $this.$method::<$($g),*, 8, 3>($($arg),*),
            (8, 2) => $this.$method::<$($g),*, 8, 2>($($arg),*),
            (8, 1) => $this.$method::<$($g),*, 8, 1>($($arg),*),
            (4, 4) => $this.$method::<$($g),*, 4, 4>($($arg),*),
            (4, 3) => $this.$method::<$($g),*, 4, 3>($($arg),*),
            (4, 2) => $this.$method::<$($g),*, 4, 2>($($arg),*),
            _ => $this.$method::<$($g),*, 4, 1>($($arg),*),
        }
    };
}
pub(crate) use by_grouped_tile;

/// Output pixels per register tile of the staged grouped path: the accumulators, a kernel
/// row's three weight vectors and one staged input within the register file. AVX2, 4 per
/// group, 128@56: 12-pixel tiles by kernel row ran 0.44 s per 600 calls where 14-pixel tiles
/// tap by tap ran 0.49 s.
pub(crate) const fn staged_pixels(lanes: usize) -> usize {
    match lanes {
        16 | 8 | 4 => 12,
        _ => 4,
    }
}

/// `$this.$method::<generics.., MR>(args)` with MR = [`staged_pixels`]`(lanes)`.
macro_rules! by_staged_pixels {
    ($lanes:expr, $this:ident.$method:ident::<$($g:tt),*>($($arg:expr),*)) => {
        match $crate::ukernel::tiles::staged_pixels($lanes) {
            12 => $this.$method::<$($g),*, 12>($($arg),*),
            _ => $this.$method::<$($g),*, 4>($($arg),*),
        }
    };
}
pub(crate) use by_staged_pixels;

/// Output pixels per depthwise row tile for a `k x k` kernel at horizontal stride `stride`.
/// AVX-512 fits 8 for 3x3 but runs 4 faster on every depthwise layer of the kernels report
/// (Xeon, 1 thread, GFLOP/s 8 -> 4: s2 64@112 17.6 -> 26.1, s2 512@14 22.1 -> 38.3, s2 96@28
/// 33.6 -> 52.0, s1 960@7 51.3 -> 57.7, s1 512@14 72.2 -> 74.8), and with 8 it lost to AVX2
/// at stride 2. NEON takes 8 for 3x3 at stride 1 only: at stride 2 a row of 8 outputs reads 17
/// input vectors, and the aarch64 build reloaded vectors from the stack in those rows
/// (objdump), where all rows of 4 keep everything in registers. Not timed on ARM hardware.
pub(crate) const fn depthwise_row(lanes: usize, k: usize, stride: usize) -> usize {
    match (lanes, k, stride) {
        (8 | 16, _, _) => 4,
        (_, 3, 1) => 8,
        _ => 4,
    }
}
