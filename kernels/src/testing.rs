//! Property-testing support, public behind the `testing` feature so users can check their own
//! kernels against ours: the [`ConvProblem`] strategy, the f64 reference, and the closeness check.

use std::ops::RangeInclusive;

use proptest::prelude::*;

use crate::epilogue::{Activation, Epilogue};
use crate::error::Result;
use crate::params::{Conv2dParams, Padding};
use crate::reference;
use crate::tensor::{Shape, TensorView, TensorViewMut};

/// The default case count of every property: at least 256 per property and ISA, so a run of
/// `cargo test` explores the shape space, not a sample of a dozen. Properties keep their shapes
/// small enough for this count instead of running fewer cases.
pub const CASES: u32 = 256;

/// A proptest config with `default_cases` cases, unless `PROPTEST_CASES` asks for another count
/// (`ProptestConfig::with_cases` alone would ignore the variable).
pub fn proptest_config(default_cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default_cases);
    ProptestConfig::with_cases(cases)
}

/// Deterministic values in -1..1 from a seed (xorshift64*), so problems are cheap to shrink.
pub fn uniform_values(seed: u64, len: usize) -> Vec<f32> {
    let mut s = seed | 1;
    (0..len)
        .map(|_| {
            s ^= s >> 12;
            s ^= s << 25;
            s ^= s >> 27;
            let bits = s.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 40; // 24 random bits
            (bits as f32 / (1u64 << 23) as f32) - 1.0
        })
        .collect()
}

/// One random convolution: params, input (possibly a channel slice of a wider buffer), weights,
/// bias, activation and residual.
#[derive(Clone, Debug)]
pub struct ConvProblem {
    pub params: Conv2dParams,
    pub input_shape: Shape,
    /// Extra channels around the input view in its buffer: `(before, after)`, so the view is
    /// misaligned and strided.
    pub input_margin: (usize, usize),
    /// Extra channels around the output view: `(before, after)`.
    pub output_margin: (usize, usize),
    pub activation: Activation,
    pub with_bias: bool,
    pub with_residual: bool,
    pub seed: u64,
}

/// The space [`conv_problems`] draws from. Channel ranges are per group.
#[derive(Clone, Debug)]
pub struct ConvSpace {
    pub batch: RangeInclusive<usize>,
    pub c_in_per_group: RangeInclusive<usize>,
    pub c_out_per_group: RangeInclusive<usize>,
    pub groups: Vec<usize>,
    pub kh: RangeInclusive<usize>,
    pub kw: RangeInclusive<usize>,
    pub stride: RangeInclusive<usize>,
    pub pad: RangeInclusive<usize>,
    pub dilation: RangeInclusive<usize>,
    pub hw: RangeInclusive<usize>,
    pub margin: RangeInclusive<usize>,
}

impl Default for ConvSpace {
    /// Dense convolutions: channels below, at and above every vector width, kernels 1-5,
    /// strides 1-3, asymmetric padding 0-2, dilation 1-2, images 1-12 pixels a side.
    fn default() -> Self {
        ConvSpace {
            batch: 1..=2,
            c_in_per_group: 1..=40,
            c_out_per_group: 1..=72,
            groups: vec![1],
            kh: 1..=5,
            kw: 1..=5,
            stride: 1..=3,
            pad: 0..=2,
            dilation: 1..=2,
            hw: 1..=12,
            margin: 0..=3,
        }
    }
}

/// Strategy of valid convolution problems in `space`: the image is enlarged where needed so
/// the (dilated) kernel fits the padded input.
pub fn conv_problems(space: ConvSpace) -> impl Strategy<Value = ConvProblem> {
    let sizes = (
        space.batch.clone(),
        space.c_in_per_group.clone(),
        space.c_out_per_group.clone(),
        proptest::sample::select(space.groups.clone()),
        space.kh.clone(),
        space.kw.clone(),
        (space.stride.clone(), space.stride.clone()),
        (space.dilation.clone(), space.dilation.clone()),
    );
    let layout = (
        [space.pad.clone(), space.pad.clone(), space.pad.clone(), space.pad.clone()],
        (space.hw.clone(), space.hw.clone()),
        (space.margin.clone(), space.margin.clone(), space.margin.clone(), space.margin.clone()),
        prop_oneof![Just(Activation::None), Just(Activation::Relu), Just(Activation::Relu6)],
        any::<bool>(),
        any::<bool>(),
        any::<u64>(),
    );
    (sizes, layout).prop_map(
        |(
            (n, cig, cog, groups, kh, kw, (sh, sw), (dh, dw)),
            ([pt, pl, pb, pr], (h, w), (m0, m1, m2, m3), activation, with_bias, with_residual, seed),
        )| {
            let pad = Padding { top: pt, left: pl, bottom: pb, right: pr };
            let params = Conv2dParams {
                c_in: cig * groups,
                c_out: cog * groups,
                kh,
                kw,
                stride_h: sh,
                stride_w: sw,
                pad,
                dilation_h: dh,
                dilation_w: dw,
                groups,
            };
            let min_h = ((kh - 1) * dh + 1).saturating_sub(pt + pb).max(1);
            let min_w = ((kw - 1) * dw + 1).saturating_sub(pl + pr).max(1);
            ConvProblem {
                params,
                input_shape: Shape::new(n, h.max(min_h), w.max(min_w), cig * groups),
                input_margin: (m0, m1),
                output_margin: (m2, m3),
                activation,
                with_bias,
                with_residual,
                seed,
            }
        },
    )
}

/// The buffers of a [`ConvProblem`], made once, viewed by the kernel under test.
pub struct ConvData {
    pub input: Vec<f32>,
    pub weights: Vec<f32>,
    pub bias: Option<Vec<f32>>,
    pub residual: Option<Vec<f32>>,
    pub output: Vec<f32>,
    pub output_shape: Shape,
}

impl ConvProblem {
    /// Makes the buffers; the output buffer is filled with NaN so unwritten values show.
    pub fn data(&self) -> Result<ConvData> {
        let p = &self.params;
        let out = p.output_shape(self.input_shape)?;
        let in_pitch = self.input_shape.c + self.input_margin.0 + self.input_margin.1;
        let out_pitch = out.c + self.output_margin.0 + self.output_margin.1;
        Ok(ConvData {
            input: uniform_values(self.seed, self.input_shape.pixels()? * in_pitch),
            weights: uniform_values(self.seed ^ 0x5eed_0001, p.weight_len()?),
            bias: self.with_bias.then(|| uniform_values(self.seed ^ 0x5eed_0002, p.c_out)),
            residual: self
                .with_residual
                .then(|| uniform_values(self.seed ^ 0x5eed_0003, out.elements().unwrap_or(0))),
            output: vec![f32::NAN; out.pixels()? * out_pitch],
            output_shape: out,
        })
    }

    fn input_pitch(&self) -> usize {
        self.input_shape.c + self.input_margin.0 + self.input_margin.1
    }

    fn output_pitch(&self, out: Shape) -> usize {
        out.c + self.output_margin.0 + self.output_margin.1
    }

    /// Runs `kernel` on views of the problem's buffers and returns the dense output.
    pub fn run<F>(&self, data: &mut ConvData, kernel: F) -> Result<Vec<f32>>
    where
        F: FnOnce(
            &TensorView<'_>,
            &[f32],
            Option<&[f32]>,
            &mut TensorViewMut<'_>,
            &Epilogue<'_>,
        ) -> Result<()>,
    {
        let out = data.output_shape;
        let x =
            TensorView::with_pitch(&data.input[self.input_margin.0..], self.input_shape, self.input_pitch())?;
        let residual = match &data.residual {
            Some(r) => Some(TensorView::new(r, out)?),
            None => None,
        };
        let epilogue = Epilogue { activation: self.activation, residual };
        let out_pitch = self.output_pitch(out);
        let mut y = TensorViewMut::with_pitch(&mut data.output[self.output_margin.0..], out, out_pitch)?;
        kernel(&x, &data.weights, data.bias.as_deref(), &mut y, &epilogue)?;
        let y = y.as_view();
        Ok((0..out.pixels()?).flat_map(|p| y.pixel(p).to_vec()).collect())
    }

    /// The reference output, computed in f64 from the same buffers.
    pub fn reference(&self, data: &ConvData) -> Result<Vec<f64>> {
        let pitch = self.input_pitch();
        let c = self.input_shape.c;
        let input: Vec<f64> = (0..self.input_shape.pixels()?)
            .flat_map(|p| {
                let start = p * pitch + self.input_margin.0;
                data.input[start..start + c].iter().map(|&v| v as f64)
            })
            .collect();
        let widen = |v: &[f32]| v.iter().map(|&x| x as f64).collect::<Vec<f64>>();
        reference::conv2d(
            &self.params,
            &input,
            self.input_shape,
            &widen(&data.weights),
            data.bias.as_deref().map(widen).as_deref(),
            self.activation,
            data.residual.as_deref().map(widen).as_deref(),
        )
    }

    /// Checks that nothing outside the output view was written (the margins must stay NaN).
    pub fn margins_untouched(&self, data: &ConvData) -> bool {
        let out = data.output_shape;
        let pitch = self.output_pitch(out);
        data.output.chunks(pitch).all(|px| {
            px[..self.output_margin.0].iter().all(|v| v.is_nan())
                && px[self.output_margin.0 + out.c..].iter().all(|v| v.is_nan())
        })
    }
}

/// The signature of a one-shot convolution entry point on an explicit ISA
/// (`conv2d_depthwise_with`, `conv2d_grouped_with`, ...).
pub type ConvWith = fn(
    crate::isa::Isa,
    &Conv2dParams,
    &TensorView<'_>,
    &[f32],
    Option<&[f32]>,
    &mut TensorViewMut<'_>,
    &Epilogue<'_>,
) -> Result<()>;

/// Runs `problem` through `conv` on every ISA of [`crate::isa::Isa::test_targets`] on rayon
/// pools of 1, 2 and 3 threads: each output must be within `atol + rtol * |ref|` of the f64
/// reference, leave the margins around the output view untouched, and be bitwise identical for
/// every thread count.
pub fn check_on_every_isa_and_thread_count(
    problem: &ConvProblem,
    conv: ConvWith,
    atol: f64,
    rtol: f64,
) -> std::result::Result<(), TestCaseError> {
    let want = problem.reference(&problem.data()?)?;
    let fail = |isa, e: &dyn std::fmt::Display| TestCaseError::fail(format!("{isa:?}: {e}"));
    for isa in crate::isa::Isa::test_targets() {
        let mut first: Option<Vec<f32>> = None;
        for threads in [1, 2, 3] {
            let pool =
                rayon::ThreadPoolBuilder::new().num_threads(threads).build().map_err(|e| fail(isa, &e))?;
            let mut data = problem.data()?;
            let got = pool
                .install(|| problem.run(&mut data, |x, w, b, y, e| conv(isa, &problem.params, x, w, b, y, e)))
                .map_err(|e| fail(isa, &e))?;
            check_close(&got, &want, atol, rtol).map_err(|e| fail(isa, &e))?;
            prop_assert!(problem.margins_untouched(&data), "{isa:?}: wrote outside the output view");
            match &first {
                Some(f) => prop_assert!(f == &got, "{isa:?}: {threads} threads differ bitwise from 1 thread"),
                None => first = Some(got),
            }
        }
    }
    Ok(())
}

/// `|got - want| <= atol + rtol * |want|` everywhere, or a message naming the first element
/// that is not.
pub fn check_close(got: &[f32], want: &[f64], atol: f64, rtol: f64) -> std::result::Result<(), String> {
    if got.len() != want.len() {
        return Err(format!("length {} differs from reference length {}", got.len(), want.len()));
    }
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let err = (g as f64 - w).abs();
        if err.is_nan() || err > atol + rtol * w.abs() {
            return Err(format!(
                "element {i}: got {g}, reference {w}, |diff| {err:.3e} > {atol:e} + {rtol:e} * |ref|"
            ));
        }
    }
    Ok(())
}

/// `max |got - want| / max |want|`: the error measure stated for Winograd variants.
pub fn max_relative_error(got: &[f32], want: &[f64]) -> f64 {
    let max_ref = want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let max_err = got.iter().zip(want).fold(0.0f64, |m, (&g, &w)| m.max((g as f64 - w).abs()));
    if max_ref == 0.0 {
        max_err
    } else {
        max_err / max_ref
    }
}
