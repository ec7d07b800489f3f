//! # lineage-nets
//!
//! CNN architectures on lineage-kernels: a builder that describes a network in torchvision's
//! names ([`NetBuilder`]), weights by name ([`Weights`]), introspection ([`Summary`]), and a
//! planner/executor that runs batch-1 inference without allocating.

pub mod error;
pub mod graph;
mod init;
pub mod models;
pub mod npy;
pub mod plan;
pub mod summary;
pub mod weights;

pub use error::{NetError, Result};
pub use graph::{ConvSpec, LrnSpec, Net, NetBuilder, Op, ParamSpec, PoolSpec, Value};
pub use init::NormalRng;
pub use plan::{Input, Plan, StepInfo, Threads, Workspace};
pub use summary::{LayerInfo, Summary};
pub use weights::{Tensor, Weights};
