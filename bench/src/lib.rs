//! Benchmarks and reports of the lineage kernels: the layer table, the peak-FMA probe that
//! every GFLOP/s figure is compared with, and the timing and setup shared by the
//! `kernels-report` binary and the criterion benches.

pub mod case;
pub mod clock;
pub mod json;
pub mod layers;
pub mod peak;
pub mod timing;

pub use case::{isa_list, ConvCase};
pub use layers::{Layer, LAYERS};
pub use peak::peak_gflops;
