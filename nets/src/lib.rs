//! # lineage-nets
//!
//! CNN architectures on lineage-kernels: a builder that describes a network in torchvision's
//! names ([`NetBuilder`]), weights by name ([`Weights`]), introspection ([`Summary`]), and a
//! planner/executor that runs batch-1 inference without allocating ([`Plan`]).
//!
//! ```
//! use lineage_kernels::{Activation, Shape};
//! use lineage_nets::{ConvSpec, Input, NetBuilder, Plan, PoolSpec, Threads, Weights, Workspace};
//!
//! // conv1 + bn1 + ReLU, max pool, global pool, fc: weights load as `conv1.weight`, `bn1.*`, `fc.*`.
//! let (mut b, x) = NetBuilder::new("tiny", 3)?;
//! let y = b.conv_bn("conv1", "bn1", x, ConvSpec::new(16, 3, 2, 1), Activation::Relu)?;
//! let y = b.max_pool("maxpool", y, PoolSpec::square(3, 2, 1))?;
//! let y = b.global_avg_pool("avgpool", y)?;
//! let y = b.flatten("flatten", y)?;
//! let y = b.linear("fc", y, 16, 10, true)?;
//! let net = b.finish(y)?;
//! assert_eq!(net.parameter_count(), 16 * 27 + 2 * 16 + 16 * 10 + 10);
//!
//! let input = Shape::new(1, 32, 32, 3); // NHWC shape; NCHW data is accepted too
//! let plan = Plan::new(&net, &Weights::random(&net, 0), input)?;
//! let mut workspace = Workspace::new(&plan, Threads::Count(2))?;
//! let image = vec![0.5f32; 3 * 32 * 32];
//! let logits = plan.run(Input::Nchw(&image), &mut workspace)?;
//! assert_eq!(logits.shape(), Shape::new(1, 1, 1, 10));
//! # Ok::<(), lineage_nets::NetError>(())
//! ```

pub mod classes;
pub mod error;
pub mod graph;
#[cfg(feature = "cli")]
pub mod image;
mod init;
pub mod keys;
pub mod models;
pub mod npy;
pub mod plan;
pub mod preprocess;
pub mod summary;
#[cfg(feature = "cli")]
pub mod visualize;
pub mod weights;

pub use classes::imagenet_class;
pub use error::{NetError, Result};
pub use graph::{BnSpec, ConvSpec, LrnSpec, Net, NetBuilder, Node, Op, ParamSpec, PoolSpec, Value};
pub use init::NormalRng;
pub use keys::Fit;
pub use plan::{
    max_threads, Input, Plan, PlanOptions, StepInfo, Threads, Workspace, DEFAULT_MAX_ARENA_BYTES,
    THREADS_PER_CORE,
};
pub use summary::{ConvLayer, LayerInfo, Summary};
pub use weights::{Tensor, Weights};
