//! `weights`: arbitrary bytes, and mutations of valid safetensors files, as the weights of a
//! small network, through both loaders (`Weights::from_safetensors` on a buffer and
//! `Weights::load` on a file, the command line's path), then checked against the network and
//! planned. Every step returns `Ok` or an error that names the file, tensor or network; none
//! panics or allocates what the file does not hold (libFuzzer's `-malloc_limit_mb` turns an
//! absurd allocation into a crash).

use std::path::PathBuf;

use lineage_nets::{Input, Plan, Threads, Weights, Workspace};

use crate::tiny::{pool, tiny_net, TINY_INPUT};

/// A file per process, rewritten by every input (fuzz jobs in parallel do not share it).
fn scratch_file() -> PathBuf {
    std::env::temp_dir().join(format!("lineage-fuzz-weights-{}.safetensors", std::process::id()))
}

/// The fuzz target body.
pub fn weights(data: &[u8]) {
    let net = tiny_net().expect("the tiny network builds");
    let in_memory = Weights::from_safetensors(data);
    let path = scratch_file();
    std::fs::write(&path, data).expect("the temporary directory is writable");
    let from_file = Weights::load(&path);
    let _ = std::fs::remove_file(&path);
    match (&in_memory, &from_file) {
        // Compared bit for bit: a file may hold NaN, which `==` never equals.
        (Ok(a), Ok(b)) => assert_eq!(bits(a), bits(b), "the two loaders read the same file differently"),
        (Err(e), _) => assert!(e.to_string().starts_with("weights: "), "unclear error: {e}"),
        (_, Err(e)) => {
            let message = e.to_string();
            assert!(
                message.contains(&*path.to_string_lossy()),
                "the error does not name the file: {message}"
            );
        }
    }
    for weights in [in_memory, from_file].into_iter().flatten() {
        if let Err(e) = weights.check(&net, true) {
            assert!(e.to_string().contains("tiny"), "the error does not name the network: {e}");
        }
        match Plan::from_weights(&net, weights, TINY_INPUT) {
            Ok(plan) => {
                // Any values the file holds, NaN and infinities included, run without a panic.
                let mut ws =
                    Workspace::new(&plan, Threads::Pool(pool())).expect("a workspace for a planned net");
                let x = vec![0.5; 75];
                plan.run(Input::Nhwc(&x), &mut ws).expect("a planned network runs on its input shape");
            }
            // Well-formed tensors can still hold values a layer refuses (a negative batch-norm
            // variance): that is an error naming the layer, like a bad file names the tensor.
            Err(e) => {
                let m = e.to_string();
                assert!(m.starts_with("weights: ") || m.starts_with("layer "), "planning failed unnamed: {m}")
            }
        }
    }
}

/// Every tensor's name, shape and data bits, sorted by name.
fn bits(w: &Weights) -> Vec<(String, Vec<usize>, Vec<u32>)> {
    let mut names: Vec<&str> = w.names().collect();
    names.sort_unstable();
    names
        .into_iter()
        .map(|n| {
            let t = w.get(n).expect("a listed name");
            (n.to_string(), t.shape.clone(), t.data.iter().map(|v| v.to_bits()).collect())
        })
        .collect()
}
