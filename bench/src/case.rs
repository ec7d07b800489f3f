//! One measured case: a layer packed for one ISA and algorithm, with its input, output and
//! workspace allocated once so that timing covers `Conv2d::run` alone.

use lineage_kernels::{
    reference, Activation, Algorithm, Conv2d, Conv2dParams, Epilogue, Isa, KernelError, Result, Shape,
    TensorView, TensorViewMut,
};

use crate::layers::Layer;

/// The ISAs to measure: a comma-separated list (`scalar,avx2`), each of which must run here
/// ([`Isa::test_targets`], so `avx2-as-512` too), or by default every available one except
/// scalar (the tests' reference point, not a target).
pub fn isa_list(spec: Option<&str>) -> Result<Vec<Isa>> {
    let Some(spec) = spec else {
        return Ok(Isa::available().into_iter().filter(|&isa| isa != Isa::Scalar).collect());
    };
    let mut isas = Vec::new();
    for name in spec.split(',') {
        let isa = Isa::parse(name)?;
        isa.ensure_available()?;
        if !isas.contains(&isa) {
            isas.push(isa);
        }
    }
    Ok(isas)
}

/// A packed convolution of one layer with its buffers.
pub struct ConvCase {
    conv: Conv2d,
    params: Conv2dParams,
    w: Vec<f32>,
    b: Vec<f32>,
    input: Shape,
    output: Shape,
    x: Vec<f32>,
    y: Vec<f32>,
    workspace: Vec<f32>,
    flops: u64,
}

impl ConvCase {
    /// Packs `layer` for `isa` and `algorithm` (an error if the algorithm does not support the
    /// layer or the ISA cannot run here) and fills input, weights and bias with fixed values.
    pub fn new(layer: &Layer, isa: Isa, algorithm: Algorithm) -> Result<Self> {
        isa.ensure_available()?;
        let p = &layer.params;
        let output = p.output_shape(layer.input)?;
        let macs = p.macs(layer.input)?;
        let flops = macs
            .checked_mul(2)
            .ok_or_else(|| KernelError::Overflow(format!("{}: FLOP count of {macs} MACs", layer.name)))?;
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let w = uniform(&mut seed, p.weight_len()?);
        let b = uniform(&mut seed, p.c_out);
        let conv = Conv2d::with(isa, algorithm, p, &w, Some(&b))?;
        let workspace = vec![0.0; conv.workspace_len(layer.input)?];
        Ok(ConvCase {
            conv,
            params: *p,
            w,
            b,
            input: layer.input,
            output,
            x: uniform(&mut seed, layer.input.elements()?),
            y: vec![0.0; output.elements()?],
            workspace,
            flops,
        })
    }

    /// Floating-point operations of one run: 2 per multiply-accumulate.
    pub fn flops(&self) -> u64 {
        self.flops
    }

    /// One convolution with bias and ReLU fused, as the nets run it, on the current rayon pool.
    pub fn run(&mut self) -> Result<()> {
        let x = TensorView::new(&self.x, self.input)?;
        let mut y = TensorViewMut::new(&mut self.y, self.output)?;
        self.conv.run(&x, &mut y, &Epilogue::activation(Activation::Relu), &mut self.workspace)
    }

    /// `max |y - reference| / max |reference|` of the last output against the f64 reference: the
    /// error measure the Winograd variants state.
    pub fn max_relative_error(&self) -> Result<f64> {
        let widen = |v: &[f32]| v.iter().map(|&x| x as f64).collect::<Vec<f64>>();
        let want = reference::conv2d(
            &self.params,
            &widen(&self.x),
            self.input,
            &widen(&self.w),
            Some(&widen(&self.b)),
            Activation::Relu,
            None,
        )?;
        let max_ref = want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let max_err = self.y.iter().zip(&want).fold(0.0f64, |m, (&g, &w)| m.max((g as f64 - w).abs()));
        Ok(max_err / max_ref.max(f64::MIN_POSITIVE))
    }

    /// The last output, so callers can keep it observable.
    pub fn output(&self) -> &[f32] {
        &self.y
    }
}

/// `len` values in [-1, 1) from a xorshift generator: fixed inputs, no dependency.
fn uniform(state: &mut u64, len: usize) -> Vec<f32> {
    (0..len)
        .map(|_| {
            *state ^= *state << 13;
            *state ^= *state >> 7;
            *state ^= *state << 17;
            (*state >> 40) as f32 / (1u64 << 23) as f32 - 1.0
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::LAYERS;

    #[test]
    fn every_layer_has_a_supporting_algorithm() {
        for layer in LAYERS {
            assert!(
                Algorithm::ALL.iter().any(|a| a.supports(&layer.params).is_ok()),
                "{} has no algorithm",
                layer.name
            );
        }
    }

    #[test]
    fn isa_list_parses_and_rejects() {
        assert_eq!(isa_list(Some("scalar, scalar")).unwrap(), vec![Isa::Scalar]);
        assert!(!isa_list(None).unwrap().contains(&Isa::Scalar));
        assert!(isa_list(Some("avx3")).unwrap_err().to_string().contains("avx3"));
        for isa in [Isa::Avx2, Isa::Avx512, Isa::Neon, Isa::Avx2As512] {
            if !Isa::test_targets().contains(&isa) {
                assert!(isa_list(Some(isa.name())).is_err(), "{isa:?} is not available here");
            }
        }
    }

    #[test]
    fn a_case_computes_the_layer_it_names() {
        // The AlexNet layer through the case matches the f64 reference at one output pixel.
        let layer = LAYERS.iter().find(|l| l.name.starts_with("alexnet")).unwrap();
        let mut case = ConvCase::new(layer, Isa::detect(), Algorithm::Direct).unwrap();
        case.run().unwrap();
        assert_eq!(case.flops(), 2 * 55 * 55 * 96 * 3 * 121);
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let w = uniform(&mut seed, layer.params.weight_len().unwrap());
        let b = uniform(&mut seed, 96);
        let x = uniform(&mut seed, layer.input.elements().unwrap());
        // Output pixel (10, 20), channel 5: input rows 10*4-2.., columns 20*4-2.. (all inside).
        let (oy, ox, oc) = (10usize, 20usize, 5usize);
        let mut acc = b[oc] as f64;
        for ky in 0..11 {
            for kx in 0..11 {
                for ic in 0..3 {
                    let (iy, ix) = (oy * 4 + ky - 2, ox * 4 + kx - 2);
                    let xv = x[(iy * 224 + ix) * 3 + ic] as f64;
                    acc += xv * w[((oc * 3 + ic) * 11 + ky) * 11 + kx] as f64;
                }
            }
        }
        let got = case.output()[(oy * 55 + ox) * 96 + oc] as f64;
        assert!((got - acc.max(0.0)).abs() <= 1e-4 * (1.0 + acc.abs()), "{got} vs {acc}");
    }

    #[test]
    fn unsupported_algorithm_is_an_error() {
        let layer = LAYERS.iter().find(|l| l.name == "resnet50/3x3/64@56").unwrap();
        assert!(ConvCase::new(layer, Isa::Scalar, Algorithm::Pointwise).is_err());
    }
}
