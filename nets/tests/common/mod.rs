//! A naive f64 interpreter of a network description: the oracle the planned engine is checked
//! against. It shares nothing with the planner (no fusion, no folding, no arena) and uses
//! PyTorch's definitions of every layer; convolutions use the kernels' reference loops.

#![allow(dead_code)]

pub mod formula;
pub mod parity;
pub mod program;

use std::borrow::Cow;

use lineage_kernels::{reference, Activation, Conv2dParams, Shape};
use lineage_nets::{Net, NormalRng, Op, PoolSpec, Tensor, Weights};

/// A dense NHWC tensor.
#[derive(Clone, Debug)]
pub struct T64 {
    pub shape: Shape,
    pub data: Vec<f64>,
}

impl T64 {
    fn at(&self, n: usize, y: usize, x: usize, c: usize) -> f64 {
        let s = self.shape;
        self.data[((n * s.h + y) * s.w + x) * s.c + c]
    }
}

fn w64(weights: &Weights, name: &str) -> Vec<f64> {
    weights.get(name).unwrap_or_else(|| panic!("no tensor {name}")).data.iter().map(|&v| v as f64).collect()
}

fn act(a: Activation, v: f64) -> f64 {
    a.apply(v)
}

fn bn(weights: &Weights, name: &str, eps: f64, t: &mut T64) {
    let (g, b, m, v) = (
        w64(weights, &format!("{name}.weight")),
        w64(weights, &format!("{name}.bias")),
        w64(weights, &format!("{name}.running_mean")),
        w64(weights, &format!("{name}.running_var")),
    );
    normalize(t, &g, &b, &m, &v, eps);
}

fn normalize(t: &mut T64, g: &[f64], b: &[f64], m: &[f64], v: &[f64], eps: f64) {
    let c = t.shape.c;
    for (i, x) in t.data.iter_mut().enumerate() {
        let ch = i % c;
        *x = (*x - m[ch]) / (v[ch] + eps).sqrt() * g[ch] + b[ch];
    }
}

/// PyTorch's train-mode batch norm on one batch with `momentum=None`: normalizes with the
/// batch's mean and biased variance and stores its mean and unbiased variance (in f32) as the
/// running statistics.
fn calibrate(weights: &mut Weights, name: &str, eps: f64, t: &mut T64) {
    let (g, b) = (w64(weights, &format!("{name}.weight")), w64(weights, &format!("{name}.bias")));
    let c = t.shape.c;
    let n = (t.data.len() / c) as f64;
    let mut mean = vec![0.0; c];
    t.data.iter().enumerate().for_each(|(i, x)| mean[i % c] += x / n);
    let mut var = vec![0.0; c];
    t.data.iter().enumerate().for_each(|(i, x)| var[i % c] += (x - mean[i % c]).powi(2) / n);
    let stat = |v: Vec<f64>| Tensor { shape: vec![c], data: v.iter().map(|&x| x as f32).collect() };
    weights.insert(&format!("{name}.running_mean"), stat(mean.clone()));
    weights.insert(&format!("{name}.running_var"), stat(var.iter().map(|v| v * n / (n - 1.0)).collect()));
    normalize(t, &g, &b, &mean, &var, eps);
}

fn pool(spec: &PoolSpec, max: bool, x: &T64, out: Shape) -> T64 {
    let s = x.shape;
    let mut data = Vec::with_capacity(out.elements().unwrap());
    for n in 0..out.n {
        for oy in 0..out.h {
            for ox in 0..out.w {
                for c in 0..s.c {
                    // PyTorch: the window in padded coordinates, clipped to input + padding for
                    // the divisor, then to the image for the values.
                    let hs = (oy * spec.stride_h) as isize - spec.pad.top as isize;
                    let ws = (ox * spec.stride_w) as isize - spec.pad.left as isize;
                    let he = (hs + spec.kh as isize).min((s.h + spec.pad.bottom) as isize);
                    let we = (ws + spec.kw as isize).min((s.w + spec.pad.right) as isize);
                    let pool_size = ((he - hs) * (we - ws)) as f64;
                    let (h0, w0) = (hs.max(0), ws.max(0));
                    let (h1, w1) = (he.min(s.h as isize), we.min(s.w as isize));
                    let mut acc = if max { f64::NEG_INFINITY } else { 0.0 };
                    for yy in h0..h1 {
                        for xx in w0..w1 {
                            let v = x.at(n, yy as usize, xx as usize, c);
                            acc = if max { acc.max(v) } else { acc + v };
                        }
                    }
                    let count = ((h1 - h0) * (w1 - w0)) as f64;
                    data.push(if max {
                        acc
                    } else if spec.count_include_pad {
                        acc / pool_size
                    } else {
                        acc / count
                    });
                }
            }
        }
    }
    T64 { shape: out, data }
}

fn adaptive(x: &T64, out: Shape) -> T64 {
    let s = x.shape;
    let mut data = Vec::new();
    for n in 0..out.n {
        for oy in 0..out.h {
            for ox in 0..out.w {
                let (y0, y1) = (oy * s.h / out.h, ((oy + 1) * s.h).div_ceil(out.h));
                let (x0, x1) = (ox * s.w / out.w, ((ox + 1) * s.w).div_ceil(out.w));
                for c in 0..s.c {
                    let mut acc = 0.0;
                    for yy in y0..y1 {
                        for xx in x0..x1 {
                            acc += x.at(n, yy, xx, c);
                        }
                    }
                    data.push(acc / ((y1 - y0) * (x1 - x0)) as f64);
                }
            }
        }
    }
    T64 { shape: out, data }
}

/// Runs `net` on the dense NHWC `input` in f64 and returns every node's output.
pub fn forward(net: &Net, weights: &Weights, input: &T64) -> Vec<T64> {
    evaluate(net, &mut Cow::Borrowed(weights), input, false)
}

/// `weights` with every batch norm's running statistics measured on `input` as PyTorch's
/// train mode measures them (one batch, `momentum=None`, in f64), layer after layer, so that
/// activations stay normalized however deep the network.
pub fn calibrated_bn(net: &Net, weights: &Weights, input: &T64) -> Weights {
    let mut w = Cow::Borrowed(weights);
    evaluate(net, &mut w, input, true);
    w.into_owned()
}

fn evaluate(net: &Net, weights: &mut Cow<'_, Weights>, input: &T64, calibrating: bool) -> Vec<T64> {
    let shapes = net.infer_shapes(input.shape).unwrap();
    let mut values: Vec<T64> = Vec::new();
    for (i, node) in net.nodes().iter().enumerate() {
        let out = shapes[i];
        let x = node.inputs().first().map(|v| values[v.index()].clone());
        let y = match node.op() {
            Op::Input => input.clone(),
            Op::Conv { params, bias, bn: norm, act: a } => {
                let x = x.unwrap();
                let p: Conv2dParams = *params;
                let w = w64(weights, &format!("{}.weight", node.name()));
                let b = bias.then(|| w64(weights, &format!("{}.bias", node.name())));
                let data = reference::conv2d(&p, &x.data, x.shape, &w, b.as_deref(), Activation::None, None)
                    .unwrap();
                let mut t = T64 { shape: out, data };
                match norm {
                    Some(norm) if calibrating => {
                        calibrate(weights.to_mut(), &norm.name, norm.eps as f64, &mut t)
                    }
                    Some(norm) => bn(weights, &norm.name, norm.eps as f64, &mut t),
                    None => {}
                }
                t.data.iter_mut().for_each(|v| *v = act(*a, *v));
                t
            }
            Op::BatchNorm { eps, act: a } => {
                let mut t = x.unwrap();
                if calibrating {
                    calibrate(weights.to_mut(), node.name(), *eps as f64, &mut t);
                } else {
                    bn(weights, node.name(), *eps as f64, &mut t);
                }
                t.data.iter_mut().for_each(|v| *v = act(*a, *v));
                t
            }
            Op::Act(a) => {
                let mut t = x.unwrap();
                t.data.iter_mut().for_each(|v| *v = act(*a, *v));
                t
            }
            Op::MaxPool(s) => pool(s, true, &x.unwrap(), out),
            Op::AvgPool(s) => pool(s, false, &x.unwrap(), out),
            Op::AdaptiveAvgPool { .. } | Op::GlobalAvgPool => adaptive(&x.unwrap(), out),
            Op::Lrn(s) => {
                let x = x.unwrap();
                let c = x.shape.c;
                let data = x
                    .data
                    .iter()
                    .enumerate()
                    .map(|(i, &v)| {
                        let (pix, ch) = (i / c, i % c);
                        let lo = ch.saturating_sub(s.size / 2);
                        let hi = (ch + (s.size - 1) / 2).min(c - 1);
                        let sq: f64 = (lo..=hi).map(|k| x.data[pix * c + k].powi(2)).sum();
                        v / (s.k as f64 + s.alpha as f64 * sq / s.size as f64).powf(s.beta as f64)
                    })
                    .collect();
                T64 { shape: out, data }
            }
            Op::Add { act: a } => {
                let (p, q) = (&values[node.inputs()[0].index()], &values[node.inputs()[1].index()]);
                let data = p.data.iter().zip(&q.data).map(|(u, v)| act(*a, u + v)).collect();
                T64 { shape: out, data }
            }
            Op::Concat => {
                let mut data = Vec::new();
                let pixels = out.n * out.h * out.w;
                for pix in 0..pixels {
                    for v in node.inputs() {
                        let t = &values[v.index()];
                        data.extend_from_slice(&t.data[pix * t.shape.c..(pix + 1) * t.shape.c]);
                    }
                }
                T64 { shape: out, data }
            }
            Op::Flatten => {
                let x = x.unwrap();
                let s = x.shape;
                let mut data = Vec::new();
                for n in 0..s.n {
                    for c in 0..s.c {
                        for yy in 0..s.h {
                            for xx in 0..s.w {
                                data.push(x.at(n, yy, xx, c));
                            }
                        }
                    }
                }
                T64 { shape: out, data }
            }
            Op::Linear { in_f, out_f, bias, act: a } => {
                let x = x.unwrap();
                let w = w64(weights, &format!("{}.weight", node.name()));
                let b = bias.then(|| w64(weights, &format!("{}.bias", node.name())));
                let mut data = Vec::new();
                for n in 0..out.n {
                    for o in 0..*out_f {
                        let mut acc = b.as_ref().map_or(0.0, |b| b[o]);
                        for i in 0..*in_f {
                            acc += w[o * in_f + i] * x.data[n * in_f + i];
                        }
                        data.push(act(*a, acc));
                    }
                }
                T64 { shape: out, data }
            }
            Op::Softmax => {
                let x = x.unwrap();
                let c = x.shape.c;
                let mut data = Vec::new();
                for row in x.data.chunks(c) {
                    let m = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                    let e: Vec<f64> = row.iter().map(|v| (v - m).exp()).collect();
                    let s: f64 = e.iter().sum();
                    data.extend(e.iter().map(|v| v / s));
                }
                T64 { shape: out, data }
            }
        };
        values.push(y);
    }
    values
}

/// Random values for every parameter, with batch-norm statistics far from the identity so that
/// folding is really exercised.
pub fn random_weights(net: &Net, seed: u64) -> Weights {
    let mut rng = NormalRng::new(seed);
    let mut w = Weights::random(net, seed);
    for p in net.parameters() {
        let len: usize = p.shape.iter().product();
        let mut draw = |lo: f64, hi: f64| -> Vec<f32> {
            (0..len).map(|_| (lo + (hi - lo) * rng.next_uniform()) as f32).collect()
        };
        let data = if p.name.ends_with("running_var") {
            draw(0.5, 2.0)
        } else if p.name.ends_with("running_mean") || p.name.ends_with(".bias") {
            draw(-0.5, 0.5)
        } else if p.shape.len() == 1 {
            draw(0.5, 1.5)
        } else {
            continue;
        };
        w.insert(&p.name, Tensor { shape: p.shape, data });
    }
    w
}

/// Uniform values in -1..1.
pub fn random_input(shape: Shape, seed: u64) -> Vec<f32> {
    let mut rng = NormalRng::new(seed);
    (0..shape.elements().unwrap()).map(|_| (rng.next_uniform() * 2.0 - 1.0) as f32).collect()
}

/// max |a - b| / max |b|.
pub fn relative_error(a: &[f32], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    let diff = a.iter().zip(b).map(|(&x, &y)| (x as f64 - y).abs()).fold(0.0, f64::max);
    let scale = b.iter().map(|y| y.abs()).fold(0.0, f64::max);
    diff / scale.max(1e-30)
}
