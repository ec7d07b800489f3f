//! A convolution run band by band (`Conv2dParams::band_input`, `Conv2d::with_padding`,
//! `Conv2d::run_serial`) gives the rows of the whole-image run: bitwise for every algorithm
//! that computes each output pixel the same way wherever it sits (so a plan that fuses layers
//! per band of rows stays bitwise identical to the unfused plan), within the reference's
//! tolerance for Winograd (also run per group), whose output tiles move with the band.

use lineage_kernels::testing::{check_close, conv_problems, ConvProblem, ConvSpace};
use lineage_kernels::{Algorithm, Conv2d, Epilogue, Isa, TensorView, TensorViewMut};
use proptest::prelude::*;

/// Output rows cut into bands at `cuts` (positions taken modulo the output height).
fn bands(out_h: usize, cuts: &[usize]) -> Vec<std::ops::Range<usize>> {
    let mut at: Vec<usize> = cuts.iter().map(|c| c % out_h).filter(|&c| c > 0).collect();
    at.extend([0, out_h]);
    at.sort_unstable();
    at.dedup();
    at.windows(2).map(|w| w[0]..w[1]).collect()
}

/// Runs `conv` on each band of `problem` (batch 1) and returns the dense output.
fn run_in_bands(problem: &ConvProblem, conv: &Conv2d, cuts: &[usize]) -> Result<Vec<f32>, String> {
    let data = problem.data().map_err(|e| e.to_string())?;
    let p = &problem.params;
    let (input, out) = (problem.input_shape, data.output_shape);
    let in_pitch = input.c + problem.input_margin.0 + problem.input_margin.1;
    let mut y = vec![f32::NAN; out.elements().unwrap()];
    for rows in bands(out.h, cuts) {
        let (in_rows, pad) = p.band_input(rows.clone(), input.h).map_err(|e| e.to_string())?;
        let banded = conv.with_padding(pad).map_err(|e| e.to_string())?;
        let whole = TensorView::with_pitch(&data.input[problem.input_margin.0..], input, in_pitch).unwrap();
        let x = whole.rows(in_rows).map_err(|e| e.to_string())?;
        let residual = match &data.residual {
            Some(r) => {
                Some(TensorView::new(r, out).and_then(|r| r.rows(rows.clone())).map_err(|e| e.to_string())?)
            }
            None => None,
        };
        let mut whole_y = TensorViewMut::new(&mut y, out).unwrap();
        let mut yv = whole_y.rows_mut(rows).map_err(|e| e.to_string())?;
        let epilogue = Epilogue { activation: problem.activation, residual };
        banded
            .run_serial(&x, &mut yv, &epilogue, &mut vec![0.0; banded.workspace_len(x.shape()).unwrap()])
            .map_err(|e| e.to_string())?;
    }
    Ok(y)
}

proptest! {
    #![proptest_config(lineage_kernels::testing::proptest_config(lineage_kernels::testing::CASES))]

    #[test]
    fn bands_give_the_whole_image_rows(
        problem in conv_problems(ConvSpace {
            batch: 1..=1, groups: vec![1, 2, 4, 8], hw: 1..=14, ..ConvSpace::default()
        }),
        cuts in proptest::collection::vec(0usize..64, 0..4),
    ) {
        let data = problem.data().unwrap();
        let out_h = data.output_shape.h;
        // A band that reads only padding (a 1x1 kernel over a padding row) has no input rows.
        prop_assume!(bands(out_h, &cuts).into_iter().all(|r| {
            problem.params.band_input(r, problem.input_shape.h).is_ok()
        }));
        let want = problem.reference(&data).unwrap();
        for isa in Isa::test_targets() {
            for algorithm in Algorithm::ALL {
                if algorithm.supports(&problem.params).is_err() {
                    continue;
                }
                let conv = Conv2d::with(isa, algorithm, &problem.params, &data.weights, data.bias.as_deref())
                    .unwrap();
                let mut whole_data = problem.data().unwrap();
                let whole = problem.run(&mut whole_data, |x, _, _, y, e| conv.run_alloc(x, y, e)).unwrap();
                let banded = run_in_bands(&problem, &conv, &cuts).map_err(TestCaseError::fail)?;
                let context = format!("{isa:?} {algorithm:?} bands {:?}", bands(whole_data.output_shape.h, &cuts));
                let winograd = algorithm.per_group().unwrap_or(algorithm);
                if matches!(winograd, Algorithm::Winograd2x2 | Algorithm::Winograd4x4) {
                    check_close(&banded, &want, 1e-3, 1e-3).map_err(|e| TestCaseError::fail(format!("{context}: {e}")))?;
                } else {
                    let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<u32>>();
                    prop_assert_eq!(bits(&banded), bits(&whole), "{}", context);
                }
            }
        }
    }
}

#[test]
fn band_input_names_the_rows_and_padding() {
    // 3x3, stride 2, padding 1 on a 7-row image: 4 output rows reading rows -1..=7.
    let p = lineage_kernels::Conv2dParams::square(1, 1, 3, 2, 1);
    let (rows, pad) = p.band_input(0..2, 7).unwrap();
    assert_eq!((rows, pad.top, pad.bottom), (0..4, 1, 0));
    let (rows, pad) = p.band_input(2..4, 7).unwrap();
    assert_eq!((rows, pad.top, pad.bottom), (3..7, 0, 1));
    assert!(p.band_input(3..5, 7).is_err(), "past the last output row");
    assert!(p.band_input(2..2, 7).is_err(), "an empty band");
}
