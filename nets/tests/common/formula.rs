//! The weights and inputs of `bench/peers/make_checkpoint_fixture.py`, computed exactly as it
//! does (FNV-1a seed per tensor name, lineage's splitmix64 uniforms, f64 then f32), so that
//! fixtures hold only PyTorch's outputs, not tens of megabytes of weights.

use lineage_nets::graph::ParamRole;
use lineage_nets::{Net, NormalRng, Tensor, Weights};

fn fnv1a(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3))
}

/// `count` values of the formula for the tensor `name`.
fn values(name: &str, count: usize, value: impl Fn(f64) -> f64) -> Vec<f32> {
    let mut rng = NormalRng::new(fnv1a(name));
    (0..count).map(|_| value(rng.next_uniform()) as f32).collect()
}

/// Every parameter of `net` as (name under `prefix`, shape, data).
pub fn tensors(net: &Net, prefix: &str) -> Vec<(String, Vec<usize>, Vec<f32>)> {
    net.parameters()
        .into_iter()
        .map(|p| {
            let count = p.shape.iter().product();
            let bound = (6.0 / p.fan_in as f64).sqrt();
            let data = match p.role {
                ParamRole::Weight => values(&p.name, count, |u| (2.0 * u - 1.0) * bound),
                ParamRole::Bias | ParamRole::BnBeta => values(&p.name, count, |u| (2.0 * u - 1.0) * 0.1),
                ParamRole::BnGamma | ParamRole::BnVar => values(&p.name, count, |u| 0.5 + u),
                ParamRole::BnMean => values(&p.name, count, |u| (2.0 * u - 1.0) * 0.2),
            };
            (format!("{prefix}{}", p.name), p.shape, data)
        })
        .collect()
}

/// The formula's weights for `net`, under the network's own names.
pub fn weights(net: &Net) -> Weights {
    let mut w = Weights::default();
    for (name, shape, data) in tensors(net, "") {
        w.insert(&name, Tensor { shape, data });
    }
    w
}

/// The formula's NCHW input of `3 x h x w`.
pub fn input(h: usize, w: usize) -> Vec<f32> {
    values("input", 3 * h * w, |u| 2.0 * u - 1.0)
}

/// A safetensors file of `tensors` (name, shape, values), as PyTorch's `save_file` writes one.
pub fn safetensors_file(tensors: &[(String, Vec<usize>, Vec<f32>)]) -> Vec<u8> {
    use safetensors::tensor::TensorView;
    let bytes: Vec<Vec<u8>> =
        tensors.iter().map(|(_, _, d)| d.iter().flat_map(|v| v.to_le_bytes()).collect()).collect();
    let views: Vec<(String, TensorView)> = tensors
        .iter()
        .zip(&bytes)
        .map(|((n, s, _), b)| (n.clone(), TensorView::new(safetensors::Dtype::F32, s.clone(), b).unwrap()))
        .collect();
    safetensors::serialize(views, None::<std::collections::HashMap<String, String>>).unwrap()
}
