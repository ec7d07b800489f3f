//! `ops_differential`: pooling (ceil_mode, count_include_pad, asymmetric padding), local
//! response normalization, concat (each branch copied into its channel slice of the output)
//! and fully connected layers, on every ISA the machine can test, against the f64 references
//! in `lineage_kernels::reference`; parameters that are invalid are an error on every ISA and
//! in the reference, never a panic.

use lineage_kernels::ops::{self, LrnParams, Pool2dParams};
use lineage_kernels::testing::{check_close, uniform_values};
use lineage_kernels::{reference, Activation, FullyConnected, Isa, Padding, Shape};

use crate::bytes::Bytes;
use crate::strided::{widen, Strided};

/// The fuzz target body: panics (a finding) on a mismatch, on a write outside the output view,
/// on invalid parameters being accepted, or on a panic inside the kernels.
pub fn ops_differential(data: &[u8]) {
    let mut b = Bytes::new(data);
    let op = b.range(0, 4);
    // About one in eight problems may hold zero sizes or mismatched shapes.
    let wild = b.byte() < 32;
    let lo = usize::from(!wild);
    let shape = Shape::new(b.range(1, 2), b.range(lo, 10), b.range(lo, 10), b.range(lo, 20));
    let margins = ((b.range(0, 3), b.range(0, 3)), (b.range(0, 3), b.range(0, 3)));
    let seed = b.u64();
    match op {
        0 | 1 => pool(&mut b, op == 0, wild, shape, margins, seed),
        2 => lrn(&mut b, wild, shape, margins, seed),
        3 => concat(&mut b, wild, shape, margins, seed),
        _ => fully_connected(&mut b, wild, seed),
    }
}

fn dense_len(shape: Shape) -> usize {
    shape.n * shape.h * shape.w * shape.c
}

fn pool(
    b: &mut Bytes,
    max: bool,
    wild: bool,
    shape: Shape,
    margins: ((usize, usize), (usize, usize)),
    seed: u64,
) {
    let lo = usize::from(!wild);
    let p = Pool2dParams {
        kh: b.range(lo, 5),
        kw: b.range(lo, 5),
        stride_h: b.range(lo, 3),
        stride_w: b.range(lo, 3),
        pad: Padding { top: b.range(0, 3), left: b.range(0, 3), bottom: b.range(0, 3), right: b.range(0, 3) },
        ceil_mode: b.flag(),
        count_include_pad: b.flag(),
    };
    let values = uniform_values(seed, dense_len(shape));
    let x = Strided::new(shape, margins.0, &values);
    let name = if max { "max_pool2d" } else { "avg_pool2d" };
    let run = |isa, y: &mut Strided| -> lineage_kernels::Result<()> {
        let (xv, mut yv) = (x.view()?, y.view_mut()?);
        if max {
            ops::max_pool2d_with(isa, &p, &xv, &mut yv)
        } else {
            ops::avg_pool2d_with(isa, &p, &xv, &mut yv)
        }
    };
    let reference = if max {
        reference::max_pool2d(&p, &widen(&values), shape)
    } else {
        reference::avg_pool2d(&p, &widen(&values), shape)
    };
    let refuses = |why: &str| {
        for isa in Isa::test_targets() {
            let mut y = Strided::new(Shape::new(1, 1, 1, 1), (0, 0), &[0.0]);
            assert!(run(isa, &mut y).is_err(), "{name} on {isa:?} accepted {why} {p:?} on {shape:?}");
        }
    };
    let Ok((oh, ow)) = p.output_hw(shape.h, shape.w) else {
        assert!(reference.is_err(), "reference {name} accepted invalid {p:?} on {shape:?}");
        return refuses("invalid parameters");
    };
    if shape.check_nonzero(name).is_err() {
        return refuses("an empty input");
    }
    let want = reference.unwrap_or_else(|e| panic!("reference {name} refused valid {p:?} on {shape:?}: {e}"));
    let out = Shape::new(shape.n, oh, ow, shape.c);
    for isa in Isa::test_targets() {
        let mut y = Strided::new(out, margins.1, &vec![f32::NAN; dense_len(out)]);
        run(isa, &mut y).unwrap_or_else(|e| panic!("{name} on {isa:?} refused {p:?} on {shape:?}: {e}"));
        check_close(&y.dense(), &want, 1e-6, 1e-6).unwrap_or_else(|e| {
            panic!("{name} on {isa:?} differs from the reference: {e}\n{p:?} on {shape:?}")
        });
        assert!(y.margins_untouched(), "{name} on {isa:?} wrote outside its view ({p:?} on {shape:?})");
    }
}

fn lrn(b: &mut Bytes, wild: bool, shape: Shape, margins: ((usize, usize), (usize, usize)), seed: u64) {
    let p = LrnParams {
        size: b.range(usize::from(!wild), 7),
        alpha: [1e-4, 1e-3, 0.1, 1.0, if wild { f32::NAN } else { 2.0 }][b.range(0, 4)],
        beta: [0.5, 0.75, 1.0][b.range(0, 2)],
        k: [1.0, 2.0][b.range(0, 1)],
    };
    let values = uniform_values(seed, dense_len(shape));
    let x = Strided::new(shape, margins.0, &values);
    let run = |isa, y: &mut Strided| -> lineage_kernels::Result<()> {
        ops::local_response_norm_with(isa, &p, &x.view()?, &mut y.view_mut()?)
    };
    let valid = p.size > 0 && p.alpha.is_finite() && shape.check_nonzero("lrn").is_ok();
    if !valid {
        for isa in Isa::test_targets() {
            let mut y = Strided::new(shape, margins.1, &values);
            assert!(run(isa, &mut y).is_err(), "local_response_norm on {isa:?} accepted {p:?} on {shape:?}");
        }
        return;
    }
    let want = reference::local_response_norm(&p, &widen(&values), shape)
        .unwrap_or_else(|e| panic!("reference local_response_norm refused {p:?} on {shape:?}: {e}"));
    for isa in Isa::test_targets() {
        let mut y = Strided::new(shape, margins.1, &vec![f32::NAN; dense_len(shape)]);
        run(isa, &mut y)
            .unwrap_or_else(|e| panic!("local_response_norm on {isa:?} refused {p:?} on {shape:?}: {e}"));
        check_close(&y.dense(), &want, 1e-6, 1e-5)
            .unwrap_or_else(|e| panic!("local_response_norm on {isa:?} differs: {e}\n{p:?} on {shape:?}"));
        assert!(y.margins_untouched(), "local_response_norm on {isa:?} wrote outside its view");
    }
}

/// Two branches copied into their channel slices of one output, as the planner does for a
/// concat whose branch cannot write there directly.
fn concat(b: &mut Bytes, wild: bool, shape: Shape, margins: ((usize, usize), (usize, usize)), seed: u64) {
    let c2 = b.range(1, 20);
    // A wild problem may give the second branch a different height than the output.
    let h2 = if wild && b.flag() { shape.h + 1 } else { shape.h };
    let second = Shape::new(shape.n, h2, shape.w, c2);
    let (v1, v2) = (uniform_values(seed, dense_len(shape)), uniform_values(seed ^ 1, dense_len(second)));
    let (x1, x2) = (Strided::new(shape, margins.0, &v1), Strided::new(second, margins.0, &v2));
    let out = Shape::new(shape.n, shape.h, shape.w, shape.c + c2);
    let valid = shape.check_nonzero("concat").is_ok() && h2 == shape.h;
    for isa in Isa::test_targets() {
        let mut y = Strided::new(out, margins.1, &vec![f32::NAN; dense_len(out)]);
        let result = (|| -> lineage_kernels::Result<()> {
            let mut yv = y.view_mut()?;
            ops::copy_channels_with(isa, &x1.view()?, &mut yv.channels_mut(0, shape.c)?)?;
            ops::copy_channels_with(isa, &x2.view()?, &mut yv.channels_mut(shape.c, c2)?)
        })();
        if !valid {
            assert!(result.is_err(), "concat on {isa:?} accepted {shape:?} and {second:?}");
            continue;
        }
        result.unwrap_or_else(|e| panic!("concat on {isa:?} refused {shape:?} and {second:?}: {e}"));
        let want: Vec<f64> = v1
            .chunks_exact(shape.c)
            .zip(v2.chunks_exact(c2))
            .flat_map(|(a, b)| widen(a).into_iter().chain(widen(b)))
            .collect();
        check_close(&y.dense(), &want, 0.0, 0.0).unwrap_or_else(|e| panic!("concat on {isa:?}: {e}"));
        assert!(y.margins_untouched(), "concat on {isa:?} wrote outside its view");
    }
}

fn fully_connected(b: &mut Bytes, wild: bool, seed: u64) {
    let lo = usize::from(!wild);
    let (n, inf, outf) = (b.range(lo, 4), b.range(lo, 80), b.range(lo, 80));
    let act = [Activation::None, Activation::Relu, Activation::Relu6][b.range(0, 2)];
    let with_bias = b.flag();
    // A wild problem may hand one weight too many.
    let extra = usize::from(wild && b.flag());
    let w = uniform_values(seed, inf * outf + extra);
    let bias = with_bias.then(|| uniform_values(seed ^ 1, outf));
    let x = uniform_values(seed ^ 2, n * inf);
    let reference = reference::fully_connected(
        inf,
        outf,
        &widen(&w),
        bias.as_deref().map(widen).as_deref(),
        act,
        &widen(&x),
    );
    let valid = n > 0 && inf > 0 && outf > 0 && extra == 0;
    for isa in Isa::test_targets() {
        let mut y = vec![f32::NAN; n * outf];
        let result =
            FullyConnected::new(isa, inf, outf, &w, bias.as_deref()).and_then(|fc| fc.run(&x, &mut y, act));
        if !valid {
            assert!(
                result.is_err(),
                "fully_connected on {isa:?} accepted n {n}, {inf}->{outf}, {} weights",
                w.len()
            );
            continue;
        }
        result.unwrap_or_else(|e| panic!("fully_connected on {isa:?} refused n {n}, {inf}->{outf}: {e}"));
        let want = reference.as_ref().unwrap_or_else(|e| panic!("reference fully_connected refused: {e}"));
        check_close(&y, want, 1e-5, 1e-5)
            .unwrap_or_else(|e| panic!("fully_connected on {isa:?} differs: {e}"));
    }
}
