//! What a user may choose when planning, beside the network and the input shape.

use lineage_kernels::{Algorithm, Isa, Shape};

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
    /// Most bytes a workspace of the plan may take (activation arena and scratch): planning
    /// fails beyond it, before any weight is packed when the largest single activation already
    /// exceeds it, so that an absurd input size is an error rather than a huge allocation.
    /// Defaults to [`DEFAULT_MAX_ARENA_BYTES`].
    pub max_arena_bytes: usize,
}

/// 4 GiB: every model here at 224x224 and batch 64 fits (ResNet-152 takes about 2.5 GB), a
/// typo in the input size does not.
pub const DEFAULT_MAX_ARENA_BYTES: usize = 1 << 32;

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            isa: Isa::detect(),
            exact: false,
            outputs: Vec::new(),
            max_arena_bytes: DEFAULT_MAX_ARENA_BYTES,
        }
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

    /// The shapes of every layer of `net` for `input` ([`Net::infer_shapes`]), or an error when
    /// they do not fit or the largest activation alone exceeds
    /// [`PlanOptions::max_arena_bytes`]: what planning checks before it touches a weight, so
    /// a caller can check it before making or loading any.
    pub fn check_shapes(&self, net: &Net, input: Shape) -> Result<Vec<Shape>> {
        let shapes = net.infer_shapes(input)?;
        let largest = shapes.iter().zip(net.nodes()).max_by_key(|(s, _)| s.elements().unwrap_or(usize::MAX));
        if let Some((s, node)) = largest {
            let what = format!("the activation of layer {} ({s:?})", node.name());
            self.check_arena(net.name(), &what, s.elements().unwrap_or(usize::MAX))?;
        }
        Ok(shapes)
    }

    /// An error unless `floats` of workspace fit [`PlanOptions::max_arena_bytes`]; `what` says
    /// which figure it is.
    pub(crate) fn check_arena(&self, net: &str, what: &str, floats: usize) -> Result<()> {
        match floats.checked_mul(4) {
            Some(bytes) if bytes <= self.max_arena_bytes => Ok(()),
            bytes => Err(NetError::Shape(format!(
                "{net}: {what} takes {} MB, more than the plan option max_arena_bytes = {:.1} MB",
                bytes
                    .map_or_else(|| "more than usize::MAX".to_string(), |b| format!("{:.1}", b as f64 / 1e6)),
                self.max_arena_bytes as f64 / 1e6
            ))),
        }
    }

    /// The algorithm the plan uses where the kernels' selection picked `selected`.
    pub(crate) fn algorithm(&self, selected: Algorithm) -> Algorithm {
        match selected {
            Algorithm::Winograd2x2 | Algorithm::Winograd4x4 if self.exact => Algorithm::Direct,
            // The grouped kernel runs each group with direct's engine, at direct's speed.
            Algorithm::GroupedWinograd2x2 | Algorithm::GroupedWinograd4x4 if self.exact => Algorithm::Grouped,
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
                .nodes()
                .iter()
                .position(|n| n.name() == name)
                .or_else(|| net.nodes().iter().rposition(|n| n.name().starts_with(&inside)));
            match node {
                Some(i) => found.push((name.clone(), i)),
                None => unknown.push(name.as_str()),
            }
        }
        if !unknown.is_empty() {
            return Err(NetError::Input(format!(
                "{}: plan option outputs: no layer or module named {} (the layer names are those of \
                 the network's summary)",
                net.name(),
                unknown.join(", ")
            )));
        }
        Ok(found)
    }
}
