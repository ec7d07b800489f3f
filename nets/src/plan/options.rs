//! What a user may choose when planning, beside the network and the input shape.

use lineage_kernels::{Algorithm, Isa};

use crate::error::{NetError, Result};
use crate::graph::Net;

/// Options of [`Plan::with_options`](super::Plan::with_options); [`Default`] is what
/// [`Plan::new`](super::Plan::new) plans with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanOptions {
    /// The instruction set every step of the plan runs on. Defaults to [`Isa::detect`] (the
    /// best this CPU has, within the `LINEAGE_ISA` cap); planning fails if the CPU lacks it.
    pub isa: Isa,
    /// No Winograd convolution: every 3x3 layer runs as direct convolution, whose rounding
    /// error is that of a plain dot product. Slower on VGG, ResNet and Inception; see the zoo
    /// report's exact column for the cost.
    pub exact: bool,
    /// Activations kept for [`Plan::kept`](super::Plan::kept) besides the output: layer names
    /// of the graph (`layer3.5.add`, `features.8`) or module names (`layer3`: the output of its
    /// last layer), as a forward hook or torchvision's feature extractor names them. Their
    /// buffers live to the end of a run; nothing else changes and a run still allocates
    /// nothing. A convolution layer's value is after its folded batch norm and fused
    /// activation (PyTorch's `conv` module output is before them; its in-place ReLU then
    /// leaves what the block computes), so block and module names are the ones to compare
    /// with PyTorch's forward hooks.
    pub outputs: Vec<String>,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions { isa: Isa::detect(), exact: false, outputs: Vec::new() }
    }
}

impl PlanOptions {
    /// Checks that this machine can run the plan's ISA.
    pub(crate) fn check(&self, net: &str) -> Result<()> {
        if self.isa.is_supported() {
            return Ok(());
        }
        let available: Vec<&str> = Isa::available().iter().map(|i| i.name()).collect();
        Err(NetError::Input(format!(
            "{net}: plan option isa = {} is not supported by this CPU (available: {})",
            self.isa.name(),
            available.join(", ")
        )))
    }

    /// The algorithm the plan uses where the kernels' selection picked `selected`.
    pub(crate) fn algorithm(&self, selected: Algorithm) -> Algorithm {
        match selected {
            Algorithm::Winograd2x2 | Algorithm::Winograd4x4 if self.exact => Algorithm::Direct,
            other => other,
        }
    }

    /// The node of each name in [`PlanOptions::outputs`]: a layer of that name, else the last
    /// layer inside the module of that name. Unknown names are one error listing them all.
    pub(crate) fn output_nodes(&self, net: &Net) -> Result<Vec<(String, usize)>> {
        let mut found = Vec::new();
        let mut unknown = Vec::new();
        for name in &self.outputs {
            let inside = format!("{name}.");
            let node = net
                .nodes
                .iter()
                .position(|n| &n.name == name)
                .or_else(|| net.nodes.iter().rposition(|n| n.name.starts_with(&inside)));
            match node {
                Some(i) => found.push((name.clone(), i)),
                None => unknown.push(name.as_str()),
            }
        }
        if !unknown.is_empty() {
            return Err(NetError::Input(format!(
                "{}: plan option outputs: no layer or module named {} (the layer names are those of \
                 the network's summary)",
                net.name,
                unknown.join(", ")
            )));
        }
        Ok(found)
    }
}
