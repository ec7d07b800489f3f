//! Weights by name: loaded from safetensors files (f32, or f16/bf16 converted at load), checked
//! against what a network expects, or initialized randomly (He-normal, seeded) for benchmarks.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use safetensors::{Dtype, SafeTensors};

use crate::error::{NetError, Result};
use crate::graph::{Net, ParamRole};
use crate::init::NormalRng;

/// Buffers PyTorch saves that inference never uses.
const IGNORED_SUFFIXES: [&str; 1] = [".num_batches_tracked"];

/// One tensor: row-major data of `shape`.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

/// Named f32 tensors.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Weights {
    tensors: HashMap<String, Tensor>,
    /// `__metadata__` of the file they came from, if any.
    metadata: BTreeMap<String, String>,
}

impl Weights {
    /// Reads a safetensors file.
    pub fn load(path: &Path) -> Result<Weights> {
        let bytes =
            std::fs::read(path).map_err(|e| NetError::Io(format!("reading {}: {e}", path.display())))?;
        Self::from_safetensors(&bytes).map_err(|e| match e {
            NetError::Weights(m) => NetError::Weights(format!("{}: {m}", path.display())),
            other => other,
        })
    }

    /// Parses a safetensors buffer. Every tensor is converted to f32 (from f32, f16 or bf16);
    /// `num_batches_tracked` buffers are skipped; any other dtype is an error naming the tensor.
    pub fn from_safetensors(bytes: &[u8]) -> Result<Weights> {
        let st = SafeTensors::deserialize(bytes).map_err(|e| {
            NetError::Weights(format!("not a valid safetensors file ({} bytes): {e}", bytes.len()))
        })?;
        let mut tensors = HashMap::new();
        for (name, view) in st.iter() {
            if IGNORED_SUFFIXES.iter().any(|s| name.ends_with(s)) {
                continue;
            }
            let data = convert(view.dtype(), view.data()).ok_or_else(|| {
                NetError::Weights(format!(
                    "tensor {name:?} {:?} has dtype {:?}; expected F32, F16 or BF16",
                    view.shape(),
                    view.dtype()
                ))
            })?;
            tensors.insert(name.to_string(), Tensor { shape: view.shape().to_vec(), data });
        }
        let (_, meta) = SafeTensors::read_metadata(bytes)
            .map_err(|e| NetError::Weights(format!("not a valid safetensors file: {e}")))?;
        let metadata = meta.metadata().clone().unwrap_or_default().into_iter().collect();
        Ok(Weights { tensors, metadata })
    }

    /// Deterministic random weights for `net`: He-normal conv and linear weights
    /// (std = sqrt(2 / fan_in)), zero biases, and batch norms with gamma 1, beta 0, mean 0,
    /// variance 1 (PyTorch's initial state).
    pub fn random(net: &Net, seed: u64) -> Weights {
        let mut rng = NormalRng::new(seed);
        let mut tensors = HashMap::new();
        for p in net.parameters() {
            let len = p.shape.iter().product();
            let data = match p.role {
                ParamRole::Weight => {
                    let std = (2.0 / p.fan_in.max(1) as f64).sqrt();
                    (0..len).map(|_| (rng.next_normal() * std) as f32).collect()
                }
                ParamRole::BnGamma | ParamRole::BnVar => vec![1.0; len],
                ParamRole::Bias | ParamRole::BnBeta | ParamRole::BnMean => vec![0.0; len],
            };
            tensors.insert(p.name, Tensor { shape: p.shape, data });
        }
        Weights { tensors, metadata: BTreeMap::new() }
    }

    pub fn get(&self, name: &str) -> Option<&Tensor> {
        self.tensors.get(name)
    }

    /// Removes and returns a tensor (fixtures keep their input and expected output beside the
    /// weights).
    pub fn take(&mut self, name: &str) -> Option<Tensor> {
        self.tensors.remove(name)
    }

    pub fn insert(&mut self, name: &str, tensor: Tensor) {
        self.tensors.insert(name.to_string(), tensor);
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.tensors.keys().map(String::as_str)
    }

    pub fn metadata(&self) -> &BTreeMap<String, String> {
        &self.metadata
    }

    /// Checks that every parameter `net` needs is present with its shape. Returns the names of
    /// tensors the network does not use (sorted); in `strict` mode they are an error.
    pub fn check(&self, net: &Net, strict: bool) -> Result<Vec<String>> {
        let params = net.parameters();
        for p in &params {
            let t = self.get(&p.name).ok_or_else(|| {
                NetError::Weights(format!("{}: missing tensor {:?} of shape {:?}", net.name, p.name, p.shape))
            })?;
            if t.shape != p.shape {
                return Err(NetError::Weights(format!(
                    "{}: tensor {:?} has shape {:?}, the layer expects {:?}",
                    net.name, p.name, t.shape, p.shape
                )));
            }
        }
        let wanted: std::collections::HashSet<&str> = params.iter().map(|p| p.name.as_str()).collect();
        let mut extra: Vec<String> =
            self.names().filter(|n| !wanted.contains(n)).map(str::to_string).collect();
        extra.sort();
        if strict && !extra.is_empty() {
            return Err(NetError::Weights(format!(
                "{}: {} unexpected tensor(s) the network does not use: {}",
                net.name,
                extra.len(),
                extra.join(", ")
            )));
        }
        Ok(extra)
    }

    /// The data of parameter `name`, checked to have `shape`.
    pub(crate) fn expect(&self, name: &str, shape: &[usize]) -> Result<&[f32]> {
        match self.get(name) {
            Some(t) if t.shape == shape => Ok(&t.data),
            Some(t) => Err(NetError::Weights(format!(
                "tensor {name:?} has shape {:?}, the layer expects {shape:?}",
                t.shape
            ))),
            None => Err(NetError::Weights(format!("missing tensor {name:?} of shape {shape:?}"))),
        }
    }
}

/// Little-endian f32, f16 or bf16 bytes as f32; `None` for any other dtype.
fn convert(dtype: Dtype, bytes: &[u8]) -> Option<Vec<f32>> {
    match dtype {
        Dtype::F32 => {
            Some(bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect())
        }
        Dtype::F16 => {
            Some(bytes.chunks_exact(2).map(|b| f16_to_f32(u16::from_le_bytes([b[0], b[1]]))).collect())
        }
        Dtype::BF16 => Some(
            bytes
                .chunks_exact(2)
                .map(|b| f32::from_bits((u16::from_le_bytes([b[0], b[1]]) as u32) << 16))
                .collect(),
        ),
        _ => None,
    }
}

/// IEEE half to single precision, exactly (subnormals, infinities and NaN included).
pub(crate) fn f16_to_f32(h: u16) -> f32 {
    let sign = ((h >> 15) as u32) << 31;
    let exp = ((h >> 10) & 0x1f) as u32;
    let man = (h & 0x3ff) as u32;
    let bits = match (exp, man) {
        (0, 0) => sign,
        (0, m) => {
            // Subnormal: m * 2^-24, exactly representable in f32.
            let v = m as f32 * f32::powi(2.0, -24);
            return if sign != 0 { -v } else { v };
        }
        (0x1f, m) => sign | 0x7f80_0000 | (m << 13),
        (e, m) => sign | ((e + 112) << 23) | (m << 13),
    };
    f32::from_bits(bits)
}
