//! Benchmarks and reports.
