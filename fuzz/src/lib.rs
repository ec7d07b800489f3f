//! The bodies of the cargo-fuzz targets in `fuzz_targets/`, in a library so that
//! `cargo test` replays every committed corpus file through them on stable Rust.

mod bytes;
mod conv;

pub use conv::conv_differential;
