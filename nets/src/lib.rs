//! The nine CNN architectures of the case study on lineage-kernels (being built).
