//! The report's pictures: `lineage visualize`'s first-layer filters and stage activation maps
//! of AlexNet (11x11 stride 4) and ZFNet (7x7 stride 2), the comparison the ZFNet paper argues
//! from, drawn with the report's random weights on a synthetic test pattern and listed in
//! `visualize.md` beside the plots.

use std::fmt::Write;
use std::path::Path;

use lineage_kernels::Shape;
use lineage_nets::preprocess::{normalize_nchw, preset, Rgb8};
use lineage_nets::visualize::{visualize, Options, Picture};
use lineage_nets::{models, Weights};

use crate::zoo::measure::WEIGHT_SEED;

/// The models whose pictures the report draws.
pub const VISUALIZED: [&str; 2] = ["alexnet_original", "zfnet"];

/// Activation maps per stage.
const TOP: usize = 16;

/// A 224x224 test pattern with edges at several orientations and scales: vertical stripes,
/// diagonal stripes, a disc and a checkerboard, one per quadrant, in different colours.
fn pattern() -> Result<Rgb8, String> {
    let side = 224;
    let mut data = Vec::with_capacity(side * side * 3);
    for y in 0..side {
        for x in 0..side {
            let (top, left) = (y < side / 2, x < side / 2);
            let px: [u8; 3] = match (top, left) {
                (true, true) if (x / 8) % 2 == 0 => [220, 40, 40],
                (true, false) if ((x + y) / 11) % 2 == 0 => [40, 200, 60],
                (false, true) if (x as i64 - 56).pow(2) + (y as i64 - 168).pow(2) < 40 * 40 => [40, 60, 220],
                (false, false) if ((x / 14) + (y / 14)) % 2 == 0 => [30, 30, 30],
                (false, true) => [230, 210, 60],
                _ => [235, 235, 235],
            };
            data.extend_from_slice(&px);
        }
    }
    Rgb8::new(side, side, data).map_err(|e| e.to_string())
}

fn png(path: &Path, picture: &Picture) -> Result<(), String> {
    let bytes = picture.to_png().map_err(|e| format!("{}: {e}", path.display()))?;
    std::fs::write(path, bytes).map_err(|e| format!("writing {}: {e}", path.display()))
}

/// Draws the pictures of each model of `names` into `dir/visualize/{model}/` and writes
/// `dir/visualize.md`, which links them with their captions; returns its path.
pub fn write(dir: &Path, names: &[&str]) -> Result<std::path::PathBuf, String> {
    let image = pattern()?;
    let root = dir.join("visualize");
    std::fs::create_dir_all(&root).map_err(|e| format!("creating {}: {e}", root.display()))?;
    let seen =
        Picture { width: image.width(), height: image.height(), channels: 3, data: image.data().to_vec() };
    png(&root.join("input.png"), &seen)?;
    let mut md = format!(
        "# First-layer filters and activation maps\n\n\
         The weights are RANDOM (seed {WEIGHT_SEED}, as the timings use): the filters are noise and the \
         maps show random features. What the pictures do show is each first layer's filter size and \
         the resolution of each stage: AlexNet's 11x11 stride-4 filters against ZFNet's 7x7 stride 2 \
         (drawn at the same 4 pixels per weight), and the maps those strides leave. Run \
         `lineage visualize MODEL --weights W.safetensors --input IMAGE --out DIR` with trained \
         weights to see learned filters.\n\nInput (a synthetic test pattern): ![input](visualize/input.png)\n"
    );
    for name in names {
        let net = models::by_name(name).map_err(|e| e.to_string())?;
        let weights = Weights::random(&net, WEIGHT_SEED);
        let p = preset(name).map_err(|e| e.to_string())?;
        let x = normalize_nchw(&image, p.mean, p.std).map_err(|e| e.to_string())?;
        let input = Shape::new(1, image.height(), image.width(), 3);
        let pictures = visualize(&net, &weights, &x, input, &Options { layers: Vec::new(), top: TOP })
            .map_err(|e| format!("{name}: {e}"))?;
        let out = root.join(name);
        std::fs::create_dir_all(&out).map_err(|e| format!("creating {}: {e}", out.display()))?;
        let _ = writeln!(md, "\n## {name}\n");
        for p in &pictures {
            png(&out.join(&p.file_name), &p.picture)?;
            let _ =
                writeln!(md, "- {}\n\n  ![{}](visualize/{name}/{})\n", p.caption, p.file_name, p.file_name);
        }
    }
    let index = dir.join("visualize.md");
    std::fs::write(&index, md).map_err(|e| format!("writing {}: {e}", index.display()))?;
    Ok(index)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_links_every_picture_it_wrote_and_says_the_weights_are_random() {
        let dir = std::env::temp_dir().join(format!("lineage-zoo-pictures-{}", std::process::id()));
        let index = write(&dir, &["zfnet"]).unwrap();
        let md = std::fs::read_to_string(&index).unwrap();
        assert!(md.contains("RANDOM"), "{md}");
        let links: Vec<&str> =
            md.split("](").skip(1).map(|rest| rest.split(')').next().unwrap_or_default()).collect();
        // The input, the 7x7/2 filters and ZFNet's three stages.
        assert_eq!(links.len(), 5, "{md}");
        assert!(links.contains(&"visualize/zfnet/filters_features.stage1.unit1.conv_7x7s2.png"), "{md}");
        for link in links {
            assert!(dir.join(link).is_file(), "{link}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
