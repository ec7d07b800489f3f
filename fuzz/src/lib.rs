//! The bodies of the cargo-fuzz targets in `fuzz_targets/`, in a library so that
//! `cargo test` replays every committed corpus file through them on stable Rust.

mod bytes;
mod conv;
mod inputs;
mod ops;
mod planner;
mod strided;
mod tiny;
mod weights;

pub use conv::conv_differential;
pub use inputs::{image_shape, inputs};
pub use ops::ops_differential;
pub use planner::planner;
pub use tiny::{tiny_net, TINY_INPUT};
pub use weights::weights;
