//! Pictures of what a network computes, for `lineage visualize`: the first convolution's
//! filters as a grid of RGB tiles (what Zeiler & Fergus show to argue for 7x7 stride 2 over
//! AlexNet's 11x11 stride 4), and an image's strongest activation maps at each stage as a grid
//! of grey tiles, each encoded as PNG. Only with the `cli` feature (the `png` crate).

use std::collections::HashMap;

use lineage_kernels::{Shape, TensorView};

use crate::error::{NetError, Result};
use crate::graph::{Net, Op};
use crate::plan::{Input, Plan, PlanOptions, Threads, Workspace};
use crate::summary::LayerInfo;
use crate::weights::Weights;

/// Pixels per filter weight in the filter grid: one factor for every model, so that an 11x11
/// filter is drawn 11/7 as wide as a 7x7 one.
pub const FILTER_SCALE: usize = 4;

/// Activation maps are upscaled by a whole factor to at least this many pixels on their longer
/// side (a 6x6 map would be a speck).
pub const MIN_MAP_SIDE: usize = 48;

/// The 1-pixel gaps between tiles and the border: white.
const GAP: u8 = 255;

/// An 8-bit picture, rows top to bottom: grey (1 channel) or interleaved RGB (3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Picture {
    pub width: usize,
    pub height: usize,
    pub channels: usize,
    pub data: Vec<u8>,
}

impl Picture {
    /// The PNG file of the picture.
    pub fn to_png(&self) -> Result<Vec<u8>> {
        let color = match self.channels {
            1 => png::ColorType::Grayscale,
            3 => png::ColorType::Rgb,
            c => return Err(NetError::Input(format!("a picture of {c} channels (1 or 3 can be PNG)"))),
        };
        let fail = |e: png::EncodingError| {
            NetError::Io(format!("encoding a {}x{} PNG: {e}", self.width, self.height))
        };
        let (w, h) = (u32::try_from(self.width), u32::try_from(self.height));
        let (Ok(w), Ok(h)) = (w, h) else {
            return Err(NetError::Input(format!("a {}x{} picture is too large", self.width, self.height)));
        };
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, w, h);
        encoder.set_color(color);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(fail)?;
        writer.write_image_data(&self.data).map_err(fail)?;
        writer.finish().map_err(fail)?;
        Ok(out)
    }
}

/// A picture, the file name it is meant to be written under and a line saying what it shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Named {
    pub file_name: String,
    pub caption: String,
    pub picture: Picture,
}

/// A grid of `n` tiles of `tile_w x tile_h` pixels, as square as it goes, with 1-pixel gaps
/// between the tiles and around them.
struct Grid {
    picture: Picture,
    cols: usize,
    tile_w: usize,
    tile_h: usize,
}

impl Grid {
    fn new(n: usize, tile_w: usize, tile_h: usize, channels: usize) -> Result<Grid> {
        let cols = (1..=n).find(|c| c * c >= n).unwrap_or(1);
        let rows = n.div_ceil(cols);
        let side = |tiles: usize, tile: usize| tiles.checked_mul(tile + 1).and_then(|s| s.checked_add(1));
        let (width, height) = (side(cols, tile_w), side(rows, tile_h));
        let bytes = width.zip(height).and_then(|(w, h)| w.checked_mul(h)?.checked_mul(channels));
        let (Some(width), Some(height), Some(bytes)) = (width, height, bytes) else {
            return Err(NetError::Input(format!("a grid of {n} tiles of {tile_w}x{tile_h} overflows")));
        };
        Ok(Grid {
            picture: Picture { width, height, channels, data: vec![GAP; bytes] },
            cols,
            tile_w,
            tile_h,
        })
    }

    /// Sets pixel `(y, x)` of tile `t` to `value` (one byte per channel).
    fn set(&mut self, t: usize, y: usize, x: usize, value: &[u8]) {
        let (row, col) = (t / self.cols, t % self.cols);
        let py = 1 + row * (self.tile_h + 1) + y;
        let px = 1 + col * (self.tile_w + 1) + x;
        let c = self.picture.channels;
        let at = (py * self.picture.width + px) * c;
        self.picture.data[at..at + c].copy_from_slice(value);
    }
}

/// `values` mapped linearly from their min..max onto 0..255 (all 0 when they are constant).
fn to_bytes(values: &[f32]) -> Vec<u8> {
    let (lo, hi) = values.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(l, h), &v| (l.min(v), h.max(v)));
    let span = hi - lo;
    values
        .iter()
        .map(|&v| if span > 0.0 && span.is_finite() { ((v - lo) / span * 255.0).round() as u8 } else { 0 })
        .collect()
}

/// The first convolution of `net` (which must read the 3-channel image) with its filters from
/// `weights`: each filter normalized on its own to 0..255, drawn [`FILTER_SCALE`] times its
/// size, in a grid named `filters_{layer}_{kh}x{kw}s{stride}.png`.
pub fn first_layer_filters(net: &Net, weights: &Weights) -> Result<Named> {
    let Some((node, p)) = net.nodes().iter().find_map(|n| match n.op() {
        Op::Conv { params, .. } => Some((n, params)),
        _ => None,
    }) else {
        return Err(NetError::Input(format!("{}: no convolution, so no filters to draw", net.name())));
    };
    let name = node.name();
    if p.c_in_per_group() != 3 {
        return Err(NetError::Input(format!(
            "{}: the first convolution {name} reads {} channels per filter; only RGB (3) filters can be drawn",
            net.name(),
            p.c_in_per_group()
        )));
    }
    let tensor = format!("{name}.weight");
    let w = weights
        .get(&tensor)
        .ok_or_else(|| NetError::Weights(format!("{}: no tensor {tensor}", net.name())))?;
    let (kh, kw) = (p.kh, p.kw);
    if w.shape != [p.c_out, 3, kh, kw] || w.data.len() != p.c_out * 3 * kh * kw {
        return Err(NetError::Weights(format!(
            "{tensor}: shape {:?}, expected {:?}",
            w.shape,
            [p.c_out, 3, kh, kw]
        )));
    }
    let mut grid = Grid::new(p.c_out, kw * FILTER_SCALE, kh * FILTER_SCALE, 3)?;
    let taps = kh * kw;
    for (o, filter) in w.data.chunks_exact(3 * taps).enumerate() {
        let bytes = to_bytes(filter);
        for y in 0..kh * FILTER_SCALE {
            for x in 0..kw * FILTER_SCALE {
                let tap = (y / FILTER_SCALE) * kw + x / FILTER_SCALE;
                grid.set(o, y, x, &[bytes[tap], bytes[taps + tap], bytes[2 * taps + tap]]);
            }
        }
    }
    Ok(Named {
        file_name: format!("filters_{name}_{kh}x{kw}s{}.png", p.stride_h),
        caption: format!(
            "{} filters of {name} ({kh}x{kw}, stride {}), each scaled to 0..255, {FILTER_SCALE}x",
            p.c_out, p.stride_h
        ),
        picture: grid.picture,
    })
}

/// The stage boundaries of `net` on inputs of `input`: per resolution (the summary's jump),
/// the first layer whose output a downsampling layer reads (a pooling, a strided convolution,
/// the classifier's flatten), pooling layers and 1x1 maps excepted: each block's output just
/// before the network shrinks the map (AlexNet's LRNs before its pools, ResNet's last block of
/// each stage), with its receptive field.
pub fn stages(net: &Net, input: Shape) -> Result<Vec<LayerInfo>> {
    let summary = net.summary(input)?;
    let info: HashMap<&str, &LayerInfo> = summary.layers.iter().map(|l| (l.name.as_str(), l)).collect();
    let jump = |i: usize| info.get(net.nodes()[i].name()).map_or(1, |l| l.jump);
    let mut downsampled = vec![false; net.nodes().len()];
    for (i, node) in net.nodes().iter().enumerate() {
        for v in node.inputs() {
            if jump(i) > jump(v.index()) {
                downsampled[v.index()] = true;
            }
        }
    }
    let mut out: Vec<LayerInfo> = Vec::new();
    for (i, node) in net.nodes().iter().enumerate() {
        let pooling = matches!(
            node.op(),
            Op::Input | Op::MaxPool(_) | Op::AvgPool(_) | Op::AdaptiveAvgPool { .. } | Op::GlobalAvgPool
        );
        let Some(&layer) = info.get(node.name()) else { continue };
        let spatial = layer.output.h * layer.output.w > 1;
        if downsampled[i] && !pooling && spatial && out.iter().all(|s| s.jump != layer.jump) {
            out.push(layer.clone());
        }
    }
    Ok(out)
}

/// The `top` channels of image 0 of `view` with the largest mean activation, each normalized
/// on its own to 0..255 and upscaled to at least [`MIN_MAP_SIDE`] pixels, as a grey grid in
/// order of decreasing mean; and those channels' indices.
pub fn strongest_maps(layer: &str, view: &TensorView<'_>, top: usize) -> Result<(Picture, Vec<usize>)> {
    let s = view.shape();
    if top == 0 || s.n == 0 || s.h == 0 || s.w == 0 || s.c == 0 {
        return Err(NetError::Input(format!("{layer}: {top} maps of an activation of shape {s:?}")));
    }
    let plane = s.h * s.w;
    let mut means = vec![0.0f64; s.c];
    for p in 0..plane {
        for (m, &v) in means.iter_mut().zip(view.pixel(p)) {
            *m += v as f64;
        }
    }
    let mut order: Vec<usize> = (0..s.c).collect();
    order.sort_by(|&a, &b| means[b].total_cmp(&means[a]));
    order.truncate(top);
    let scale = MIN_MAP_SIDE.div_ceil(s.h.max(s.w)).max(1);
    let mut grid = Grid::new(order.len(), s.w * scale, s.h * scale, 1)?;
    for (t, &c) in order.iter().enumerate() {
        let map: Vec<f32> = (0..plane).map(|p| view.pixel(p)[c]).collect();
        let bytes = to_bytes(&map);
        for y in 0..s.h * scale {
            for x in 0..s.w * scale {
                grid.set(t, y, x, &[bytes[(y / scale) * s.w + x / scale]]);
            }
        }
    }
    Ok((grid.picture, order))
}

/// What [`visualize`] draws.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// Layers whose activation maps to draw (names of the network's summary); empty: the
    /// [`stages`].
    pub layers: Vec<String>,
    /// Activation maps per layer.
    pub top: usize,
}

/// The first layer's filters, then for each stage (or each layer of `options`) the strongest
/// activation maps of `image` (NCHW, of shape `input`), named `stage{i}_{layer}_rf{rf}.png`.
pub fn visualize(
    net: &Net,
    weights: &Weights,
    image: &[f32],
    input: Shape,
    options: &Options,
) -> Result<Vec<Named>> {
    let mut out = vec![first_layer_filters(net, weights)?];
    let layers = if options.layers.is_empty() {
        stages(net, input)?
    } else {
        let summary = net.summary(input)?;
        let mut chosen = Vec::new();
        for name in &options.layers {
            let Some(layer) = summary.layers.iter().find(|l| &l.name == name) else {
                let stages: Vec<String> = stages(net, input)?.into_iter().map(|s| s.name).collect();
                return Err(NetError::Input(format!(
                    "{}: no layer named {name:?} (the names are those of `lineage info {}`; its stages: {})",
                    net.name(),
                    net.name(),
                    stages.join(", ")
                )));
            };
            chosen.push(layer.clone());
        }
        chosen
    };
    let plan_options =
        PlanOptions { outputs: layers.iter().map(|l| l.name.clone()).collect(), ..PlanOptions::default() };
    let plan = Plan::with_options(net, weights, input, &plan_options)?;
    let mut ws = Workspace::new(&plan, Threads::Count(1))?;
    plan.run(Input::Nchw(image), &mut ws)?;
    for (i, layer) in layers.iter().enumerate() {
        let view = plan.kept(&ws, &layer.name)?;
        let (picture, channels) = strongest_maps(&layer.name, &view, options.top)?;
        let o = layer.output;
        let shown: Vec<String> = channels.iter().map(usize::to_string).collect();
        out.push(Named {
            file_name: format!("stage{}_{}_rf{}.png", i + 1, layer.name, layer.receptive_field),
            caption: format!(
                "{} ({}, {}x{}x{}, receptive field {}): channels {} (largest mean first)",
                layer.name,
                layer.kind,
                o.c,
                o.h,
                o.w,
                layer.receptive_field,
                shown.join(" ")
            ),
            picture,
        });
    }
    Ok(out)
}
