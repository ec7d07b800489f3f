//! Class names for the top-k print: a user's file (one name a line), ImageNet's for a
//! 1000-way classifier, plain indices otherwise.

use std::path::Path;

use lineage_nets::{imagenet_class, NetError};

pub enum Labels {
    ImageNet,
    Names(Vec<String>),
    Indices,
}

impl Labels {
    /// The labels of a `classes`-way classifier, from `path` if given (its line count must be
    /// `classes`; trailing blank lines are ignored).
    pub fn new(path: Option<&Path>, classes: usize) -> Result<Labels, NetError> {
        let Some(path) = path else {
            return Ok(if classes == 1000 { Labels::ImageNet } else { Labels::Indices });
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| NetError::Io(format!("reading labels {}: {e}", path.display())))?;
        let names: Vec<String> = text.trim_end().lines().map(|l| l.trim().to_string()).collect();
        if names.len() != classes {
            return Err(NetError::Input(format!(
                "labels {}: {} names for a classifier of {classes} classes",
                path.display(),
                names.len()
            )));
        }
        Ok(Labels::Names(names))
    }

    pub fn name(&self, class: usize) -> &str {
        match self {
            Labels::ImageNet => imagenet_class(class).unwrap_or(""),
            Labels::Names(names) => names.get(class).map_or("", String::as_str),
            Labels::Indices => "",
        }
    }
}
