//! A model and its weights as the command line's options describe them: a user's checkpoint
//! with its prefixes stripped and its class count read from the classifier, or random weights.

use std::path::{Path, PathBuf};

use lineage_nets::{models, Net, NetError, Weights};

/// Seed of the random weights used when no file is given.
pub const SEED: u64 = 42;

/// The model options of `run`, `bench` and `info`.
pub struct Model {
    pub name: String,
    pub weights: Option<PathBuf>,
    /// `--classes`; `None` reads it from the checkpoint.
    pub classes: Option<usize>,
    /// `--strip-prefix`, in the order given.
    pub strip: Vec<String>,
}

impl Model {
    /// The network with `classes` classes (if not given: the checkpoint's classifier rows, 0
    /// for a checkpoint without a classifier, else 1000) and the checkpoint with every prefix
    /// stripped, or random weights.
    pub fn open(&self) -> Result<(Net, Weights), NetError> {
        let Some(path) = &self.weights else {
            let net = models::with_classes(&self.name, self.classes.unwrap_or(1000))?;
            let weights = Weights::random(&net, SEED);
            return Ok((net, weights));
        };
        open_checkpoint(&self.name, path, self.classes, &self.strip)
    }
}

fn open_checkpoint(
    model: &str,
    path: &Path,
    classes: Option<usize>,
    strip: &[String],
) -> Result<(Net, Weights), NetError> {
    let mut weights = Weights::load(path)?;
    for prefix in strip {
        weights.strip_prefix(prefix)?;
    }
    let classes = match (classes, models::classes_in(model, &weights)?) {
        (Some(c), _) | (None, Some(c)) => c,
        // No classifier tensor: a headless checkpoint if everything else fits, else the
        // ImageNet classifier (whose tensors the error then lists as missing).
        (None, None) if weights.check(&models::with_classes(model, 0)?, false).is_ok() => 0,
        (None, None) => 1000,
    };
    let net = models::with_classes(model, classes)?;
    let unused = weights.check(&net, false).map_err(|e| match e {
        NetError::Weights(m) => NetError::Weights(format!("{}: {m}", path.display())),
        other => other,
    })?;
    if !unused.is_empty() {
        eprintln!(
            "lineage: note: {} tensor(s) in {} are not used: {}",
            unused.len(),
            path.display(),
            unused.join(", ")
        );
    }
    Ok((net, weights))
}
