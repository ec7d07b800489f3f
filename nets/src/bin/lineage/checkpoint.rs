//! A model and its weights as the command line's options describe them: a user's checkpoint
//! with its prefixes stripped and its class count read from the classifier, or random weights.

use std::path::{Path, PathBuf};

use lineage_kernels::Shape;
use lineage_nets::models::googlenet::{googlenet_with, insert_transform_input};
use lineage_nets::models::inception_v3::inception_v3_with;
use lineage_nets::{models, Net, NetError, PlanOptions, Weights};

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
    /// `--transform-input`; `None` is torchvision's choice: on with pretrained weights (a
    /// checkpoint), off without.
    pub transform_input: Option<bool>,
}

impl Model {
    /// The network with `classes` classes (if not given: the checkpoint's classifier rows, 0
    /// for a checkpoint without a classifier, else 1000) and the checkpoint with every prefix
    /// stripped, or random weights (with a warning on stderr). The network's shapes for
    /// `input` are checked first, so a wrong size costs no weights.
    pub fn open(&self, input: Shape, options: &PlanOptions) -> Result<(Net, Weights), NetError> {
        let transformed = TRANSFORMED.contains(&self.name.as_str());
        let transform = self.transform_input.unwrap_or(transformed && self.weights.is_some());
        if transform && !transformed {
            return Err(NetError::Input(format!(
                "--transform-input yes: only {} have torchvision's transform_input, not {}",
                TRANSFORMED.join(" and "),
                self.name
            )));
        }
        options.check_shapes(&net(&self.name, self.classes.unwrap_or(1000), transform)?, input)?;
        match &self.weights {
            None => {
                eprintln!(
                    "lineage: warning: no --weights given: the weights are RANDOM (seed {SEED}); \
                     the classes and probabilities printed mean nothing"
                );
                let net = net(&self.name, self.classes.unwrap_or(1000), transform)?;
                let mut weights = Weights::random(&net, SEED);
                if transform {
                    insert_transform_input(&mut weights);
                }
                Ok((net, weights))
            }
            Some(path) => open_checkpoint(&self.name, path, self.classes, &self.strip, transform),
        }
    }
}

/// The models built with torchvision's `transform_input` when asked.
const TRANSFORMED: [&str; 2] = ["googlenet", "inception_v3"];

/// Model `name` with `classes` classes, with `transform_input` first when `transform`.
fn net(name: &str, classes: usize, transform: bool) -> Result<Net, NetError> {
    match name {
        "googlenet" if transform => googlenet_with(classes, true),
        "inception_v3" if transform => inception_v3_with(classes, true),
        _ => models::with_classes(name, classes),
    }
}

fn open_checkpoint(
    model: &str,
    path: &Path,
    classes: Option<usize>,
    strip: &[String],
    transform: bool,
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
    let net = net(model, classes, transform)?;
    if transform {
        insert_transform_input(&mut weights);
    }
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
