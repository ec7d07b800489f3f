//! Weights by name: loaded from safetensors files (f32, or f16/bf16 converted at load), checked
//! against what a network expects, or initialized randomly (He-normal, seeded) for benchmarks.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};

use safetensors::tensor::{Metadata, TensorInfo};
use safetensors::{Dtype, SafeTensors};

use crate::error::{NetError, Result};
use crate::graph::{Net, ParamRole};
use crate::init::NormalRng;
use crate::keys::Fit;

/// Buffers PyTorch saves that inference never uses.
const IGNORED_SUFFIXES: [&str; 1] = [".num_batches_tracked"];

/// The safetensors crate's own limit on the JSON header.
const MAX_HEADER: u64 = 100_000_000;

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
    /// Reads a safetensors file one tensor at a time, so that the peak memory is the f32
    /// weights plus the largest tensor's bytes (not the whole file twice). The header is
    /// validated first: its length (at most 100 MB), the data size against the file size, and
    /// every tensor's byte range against its dtype and shape.
    pub fn load(path: &Path) -> Result<Weights> {
        let name = path.display();
        let io = |e: std::io::Error| NetError::Io(format!("reading {name}: {e}"));
        let bad = |m: String| NetError::Weights(format!("{name}: not a valid safetensors file: {m}"));
        let mut file = File::open(path).map_err(io)?;
        let file_len = file.metadata().map_err(io)?.len();
        let mut len_bytes = [0u8; 8];
        file.read_exact(&mut len_bytes)
            .map_err(|_| bad(format!("{file_len} bytes, shorter than the header length")))?;
        let header_len = u64::from_le_bytes(len_bytes);
        if header_len > MAX_HEADER || header_len + 8 > file_len {
            return Err(bad(format!("header of {header_len} bytes in a file of {file_len} bytes")));
        }
        let mut header = vec![0u8; header_len as usize];
        file.read_exact(&mut header).map_err(io)?;
        let meta: Metadata =
            serde_json::from_slice(&header).map_err(|e| bad(format!("corrupt header: {e}")))?;
        let data_len = file_len - 8 - header_len;
        if meta.data_len() as u64 != data_len {
            return Err(bad(format!(
                "the header describes {} bytes of data, the file holds {data_len}",
                meta.data_len()
            )));
        }
        let mut infos: Vec<(String, &TensorInfo)> = meta.tensors().into_iter().collect();
        infos.sort_by_key(|(_, info)| info.data_offsets);
        let mut tensors = HashMap::new();
        let mut buf = Vec::new();
        for (tensor, info) in infos {
            if IGNORED_SUFFIXES.iter().any(|s| tensor.ends_with(s)) {
                continue;
            }
            let (start, end) = info.data_offsets;
            let count = info.shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
            let width = match info.dtype {
                Dtype::F32 => 4,
                Dtype::F16 | Dtype::BF16 => 2,
                other => {
                    return Err(NetError::Weights(format!(
                        "{name}: tensor {tensor:?} {:?} has dtype {other:?}; expected F32, F16 or BF16",
                        info.shape
                    )))
                }
            };
            if end < start
                || end as u64 > data_len
                || count.and_then(|c| c.checked_mul(width)) != Some(end - start)
            {
                return Err(bad(format!("tensor {tensor:?} {:?} has byte range {start}..{end}", info.shape)));
            }
            buf.resize(end - start, 0);
            file.seek(SeekFrom::Start(8 + header_len + start as u64)).map_err(io)?;
            file.read_exact(&mut buf).map_err(io)?;
            let data = convert(info.dtype, &buf).ok_or_else(|| bad(format!("tensor {tensor:?}")))?;
            tensors.insert(tensor, Tensor { shape: info.shape.clone(), data });
        }
        let metadata = meta.metadata().clone().unwrap_or_default().into_iter().collect();
        Ok(Weights { tensors, metadata })
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
    /// tensors the network does not use (sorted); in `strict` mode they are an error. A misfit
    /// is ONE error listing every missing, misshaped and unexpected tensor (see [`Fit`]).
    pub fn check(&self, net: &Net, strict: bool) -> Result<Vec<String>> {
        let fit = Fit::of(self, net);
        if fit.fits(strict) {
            Ok(fit.unexpected)
        } else {
            Err(fit.error(net, self))
        }
    }

    /// Renames every tensor to `rename(name)` (a hook for checkpoints saved under other
    /// names); two tensors renamed to one name are an error naming both.
    pub fn rename(&mut self, mut rename: impl FnMut(&str) -> String) -> Result<()> {
        let mut names: Vec<(String, String)> = self.tensors.keys().map(|n| (rename(n), n.clone())).collect();
        names.sort();
        if let Some(w) = names.windows(2).find(|w| w[0].0 == w[1].0) {
            let (new, a, b) = (&w[0].0, &w[0].1, &w[1].1);
            return Err(NetError::Weights(format!("tensors {a:?} and {b:?} are both renamed to {new:?}")));
        }
        let mut old = std::mem::take(&mut self.tensors);
        self.tensors =
            names.into_iter().filter_map(|(new, name)| old.remove(&name).map(|t| (new, t))).collect();
        Ok(())
    }

    /// Removes `prefix` from every name that starts with it (`module.` of a model saved from
    /// `DataParallel`, `model.` of a Lightning checkpoint); returns how many names changed.
    pub fn strip_prefix(&mut self, prefix: &str) -> Result<usize> {
        let mut count = 0;
        self.rename(|name| match name.strip_prefix(prefix) {
            Some(rest) => {
                count += 1;
                rest.to_string()
            }
            None => name.to_string(),
        })?;
        Ok(count)
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
