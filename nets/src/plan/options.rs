//! What a user may choose when planning, beside the network and the input shape.

use lineage_kernels::{Algorithm, Isa};

use crate::error::{NetError, Result};

/// Options of [`Plan::with_options`](super::Plan::with_options); [`Default`] is what
/// [`Plan::new`](super::Plan::new) plans with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlanOptions {
    /// The instruction set every step of the plan runs on. Defaults to [`Isa::detect`] (the
    /// best this CPU has, within the `LINEAGE_ISA` cap); planning fails if the CPU lacks it.
    pub isa: Isa,
    /// No Winograd convolution: every 3x3 layer runs as direct convolution, whose rounding
    /// error is that of a plain dot product. Slower on VGG, ResNet and Inception; see the zoo
    /// report's exact column for the cost.
    pub exact: bool,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions { isa: Isa::detect(), exact: false }
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
}
