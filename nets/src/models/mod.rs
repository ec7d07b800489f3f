//! The architectures, by torchvision name.

pub mod mobilenet;
pub mod resnet;

use crate::error::{NetError, Result};
use crate::graph::Net;

/// Every model name [`by_name`] knows.
pub const MODELS: [&str; 6] = ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "mobilenet_v2"];

/// The model called `name` (a torchvision name such as `resnet50`).
pub fn by_name(name: &str) -> Result<Net> {
    match name {
        "resnet18" => resnet::resnet18(),
        "resnet34" => resnet::resnet34(),
        "resnet50" => resnet::resnet50(),
        "resnet101" => resnet::resnet101(),
        "resnet152" => resnet::resnet152(),
        "mobilenet_v2" => mobilenet::mobilenet_v2(),
        other => Err(NetError::Graph(format!("unknown model {other:?}; known: {}", MODELS.join(", ")))),
    }
}
