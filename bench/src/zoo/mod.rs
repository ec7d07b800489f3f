//! The case-study report: every family's default model measured on this machine, with what
//! each architecture introduced, its size, its latency and how the planner ran it.

pub mod catalog;
pub mod measure;
pub mod options;
pub mod pictures;
pub mod plots;
pub mod report;
