//! `lineage visualize MODEL --input IMAGE --out DIR`: the first layer's filters and the image's
//! strongest activation maps at each stage (or each `--layers` name) as PNG files in DIR, with
//! the crop the network saw as `input.png`.

use std::path::Path;

use lineage_kernels::Shape;
use lineage_nets::visualize::{self, Picture};
use lineage_nets::{image, preprocess, NetError, PlanOptions};

use crate::checkpoint::Model;

/// `--layers a,b` (empty: the stages) and `--top K`.
pub struct Request {
    pub layers: Vec<String>,
    pub top: usize,
}

impl Request {
    pub fn parse(layers: Option<&str>, top: usize) -> Result<Request, String> {
        let layers: Vec<String> =
            layers.map_or(Vec::new(), |l| l.split(',').map(|n| n.trim().to_string()).collect());
        if layers.iter().any(String::is_empty) {
            return Err("--layers has an empty name".to_string());
        }
        if top == 0 {
            return Err("--top 0: draw at least one activation map".to_string());
        }
        Ok(Request { layers, top })
    }
}

pub fn run(model: &Model, input: &Path, out: &Path, request: &Request) -> Result<(), NetError> {
    if out.exists() && !out.is_dir() {
        return Err(NetError::Io(format!("--out {} exists and is not a directory", out.display())));
    }
    let named = |e: NetError| match e {
        NetError::Input(m) => NetError::Input(format!("{}: {m}", input.display())),
        other => other,
    };
    let rgb = image::decode(&crate::read_input(input)?).map_err(named)?;
    let preset = preprocess::preset(&model.name)?;
    let crop = preprocess::resize_and_crop(&rgb, preset.resize, preset.crop, preset.filter).map_err(named)?;
    let x = preprocess::normalize_nchw(&crop, preset.mean, preset.std)?;
    let shape = Shape::new(1, preset.crop, preset.crop, 3);
    let (net, weights) = model.open(shape, &PlanOptions::default())?;
    let options = visualize::Options { layers: request.layers.clone(), top: request.top };
    let pictures = visualize::visualize(&net, &weights, &x, shape, &options)?;
    std::fs::create_dir_all(out).map_err(|e| NetError::Io(format!("creating {}: {e}", out.display())))?;
    let seen =
        Picture { width: crop.width(), height: crop.height(), channels: 3, data: crop.data().to_vec() };
    let files = std::iter::once(("input.png".to_string(), "the preprocessed crop".to_string(), seen))
        .chain(pictures.into_iter().map(|n| (n.file_name, n.caption, n.picture)));
    for (file, caption, picture) in files {
        let path = out.join(&file);
        std::fs::write(&path, picture.to_png()?)
            .map_err(|e| NetError::Io(format!("writing {}: {e}", path.display())))?;
        println!("{}: {caption}", path.display());
    }
    Ok(())
}
