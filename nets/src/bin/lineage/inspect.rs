//! `lineage inspect FILE.safetensors`: what a checkpoint holds (every tensor's name, dtype,
//! shape and element count, and the total) and which known models it fits, with how many
//! classes, as it is or after stripping a common prefix.

use std::path::Path;

use lineage_nets::{models, NetError, Weights};
use safetensors::SafeTensors;

/// Prefixes that wrappers add to every name: `DataParallel`'s `module.`, Lightning's `model.`.
const COMMON_PREFIXES: [&str; 2] = ["module.", "model."];

pub fn inspect(path: &Path) -> Result<(), NetError> {
    let bytes = std::fs::read(path).map_err(|e| NetError::Io(format!("reading {}: {e}", path.display())))?;
    let (_, meta) = SafeTensors::read_metadata(&bytes)
        .map_err(|e| NetError::Weights(format!("{}: not a valid safetensors file: {e}", path.display())))?;
    let mut tensors: Vec<_> = meta.tensors().into_iter().collect();
    tensors.sort_by(|a, b| a.0.cmp(&b.0));
    let width = tensors.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    let mut total = 0usize;
    for (name, info) in &tensors {
        let count: usize = info.shape.iter().product();
        total += count;
        let dtype = format!("{:?}", info.dtype);
        let shape = format!("{:?}", info.shape);
        println!("{name:<width$}  {dtype:<5} {shape:<20} {count:>10}");
    }
    println!("{} tensors, {total} values", tensors.len());

    let weights = Weights::from_safetensors(&bytes)?;
    let mut any = false;
    for prefix in std::iter::once("").chain(COMMON_PREFIXES) {
        let mut stripped = weights.clone();
        if !prefix.is_empty() && stripped.strip_prefix(prefix)? == 0 {
            continue;
        }
        for (model, classes) in models::fitting(&stripped)? {
            any = true;
            let how =
                if prefix.is_empty() { String::new() } else { format!(" with --strip-prefix {prefix}") };
            println!("fits {model} with {classes} classes{how}");
        }
    }
    if !any {
        println!(
            "fits none of the known models (lineage list); `lineage run MODEL --weights` names what differs"
        );
    }
    Ok(())
}
