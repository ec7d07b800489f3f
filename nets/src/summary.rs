//! Introspection: per layer its kind, output shape, parameters, multiply-accumulates, receptive
//! field and jump (cumulative stride), and the totals. The receptive field grows by
//! `(k - 1) * dilation * jump` at each layer and the jump multiplies by the stride.

use std::fmt;

use lineage_kernels::{Conv2dParams, Shape};

use crate::error::{NetError, Result};
use crate::graph::{Net, Op};

/// One row of the table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerInfo {
    pub name: String,
    pub kind: &'static str,
    pub output: Shape,
    pub params: usize,
    pub macs: u64,
    /// Receptive field (rows of input pixels one output pixel sees), along the height axis.
    pub receptive_field: usize,
    /// Input pixels between neighbouring output pixels, along the height axis.
    pub jump: usize,
}

/// The table of a network for one input shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    pub net: String,
    pub input: Shape,
    pub layers: Vec<LayerInfo>,
    pub total_params: usize,
    pub total_macs: u64,
}

impl Net {
    /// The per-layer table for an input of shape `input` (NHWC).
    pub fn summary(&self, input: Shape) -> Result<Summary> {
        let shapes = self.infer_shapes(input)?;
        let mut rf = vec![(1usize, 1usize); self.nodes().len()];
        let mut layers = Vec::new();
        let counts = self.parameter_counts();
        for (i, node) in self.nodes().iter().enumerate() {
            let x = node.inputs().first().map(|v| shapes[v.index()]).unwrap_or(input);
            let (r, j) = node
                .inputs()
                .iter()
                .map(|v| rf[v.index()])
                .fold((1, 1), |(r, j), (r2, j2)| (r.max(r2), j.max(j2)));
            // (kernel extent, stride) of the window this layer slides along the height axis.
            let window = match node.op() {
                Op::Conv { params: p, .. } => Some(((p.kh - 1) * p.dilation_h + 1, p.stride_h)),
                Op::MaxPool(s) | Op::AvgPool(s) => Some((s.kh, s.stride_h)),
                Op::AdaptiveAvgPool { h, .. } => {
                    let stride = (x.h / h).max(1);
                    Some((x.h - (h - 1).min(x.h - 1) * stride, stride))
                }
                // Global pooling and flatten (always followed by a fully connected layer) mix
                // the whole map.
                Op::GlobalAvgPool | Op::Flatten => Some((x.h, x.h)),
                _ => None,
            };
            // Saturating: a receptive field beyond usize is "everything" for any input.
            rf[i] = match window {
                Some((k, s)) => {
                    (r.saturating_add((k.max(1) - 1).saturating_mul(j)), j.saturating_mul(s.max(1)))
                }
                None => (r, j),
            };
            if matches!(node.op(), Op::Input) {
                continue;
            }
            let out = shapes[i];
            let product = |factors: &[usize]| {
                factors.iter().try_fold(1u64, |acc, &f| acc.checked_mul(f as u64)).ok_or_else(|| {
                    NetError::Shape(format!(
                        "layer {}: multiply-accumulate count {factors:?} overflows",
                        node.name()
                    ))
                })
            };
            let macs = match node.op() {
                Op::Conv { params: p, .. } => {
                    product(&[out.n, out.h, out.w, p.c_out, p.c_in_per_group(), p.kh, p.kw])?
                }
                Op::Linear { in_f, out_f, .. } => product(&[out.n, *in_f, *out_f])?,
                _ => 0,
            };
            layers.push(LayerInfo {
                name: node.name().to_string(),
                kind: node.op().kind(),
                output: out,
                params: counts[i],
                macs,
                receptive_field: rf[i].0,
                jump: rf[i].1,
            });
        }
        Ok(Summary {
            net: self.name().to_string(),
            input,
            total_params: layers.iter().map(|l| l.params).fold(0, usize::saturating_add),
            total_macs: layers.iter().map(|l| l.macs).fold(0, u64::saturating_add),
            layers,
        })
    }

    /// Trainable parameters of each node (a conv counts its batch norm's gamma and beta).
    fn parameter_counts(&self) -> Vec<usize> {
        let params = self.parameters();
        self.nodes()
            .iter()
            .map(|node| {
                let bn = match node.op() {
                    Op::Conv { bn: Some(b), .. } => Some(b.name.as_str()),
                    _ => None,
                };
                params
                    .iter()
                    .filter(|p| p.trainable)
                    .filter(|p| {
                        let owner = p.name.rsplit_once('.').map(|(o, _)| o).unwrap_or("");
                        owner == node.name() || Some(owner) == bn
                    })
                    .map(|p| p.shape.iter().product::<usize>())
                    .fold(0, usize::saturating_add)
            })
            .collect()
    }
}

/// A convolution of a network with the input shape it sees: what benchmarks iterate over.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConvLayer {
    pub name: String,
    pub params: Conv2dParams,
    pub input: Shape,
}

impl Net {
    /// Every convolution with its parameters and input shape, for an input of `input`.
    pub fn conv_layers(&self, input: Shape) -> Result<Vec<ConvLayer>> {
        let shapes = self.infer_shapes(input)?;
        Ok(self
            .nodes()
            .iter()
            .filter_map(|node| match node.op() {
                Op::Conv { params, .. } => Some(ConvLayer {
                    name: node.name().to_string(),
                    params: *params,
                    input: shapes[node.inputs()[0].index()],
                }),
                _ => None,
            })
            .collect())
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = self.input;
        writeln!(f, "{} on input {}x{}x{}x{} (NCHW)", self.net, i.n, i.c, i.h, i.w)?;
        writeln!(
            f,
            "{:<28} {:<12} {:>18} {:>10} {:>14} {:>6} {:>5}",
            "layer", "kind", "output (CxHxW)", "params", "MACs", "rf", "jump"
        )?;
        for l in &self.layers {
            let shape = format!("{}x{}x{}", l.output.c, l.output.h, l.output.w);
            writeln!(
                f,
                "{:<28} {:<12} {:>18} {:>10} {:>14} {:>6} {:>5}",
                l.name, l.kind, shape, l.params, l.macs, l.receptive_field, l.jump
            )?;
        }
        writeln!(
            f,
            "total: {} parameters, {} MACs ({:.2} GMAC)",
            self.total_params,
            self.total_macs,
            self.total_macs as f64 / 1e9
        )
    }
}
