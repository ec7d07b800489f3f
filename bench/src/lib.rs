//! Benchmarks and reports of the lineage kernels and nets: the case-study report (`zoo`), the
//! layer table, the peak-FMA probe that every GFLOP/s figure is compared with, and the timing
//! and setup shared by the `kernels-report` binary and the criterion benches.

pub mod case;
pub mod clock;
pub mod json;
pub mod layers;
pub mod machine;
pub mod peak;
pub mod progress;
pub mod svg;
pub mod timing;
pub mod zoo;

pub use case::{isa_list, ConvCase};
pub use layers::{Layer, LAYERS};
pub use peak::peak_gflops;
