//! ImageNet preprocessing as the models' torchvision (or timm) presets do it on a PIL image:
//! resize so the shorter side is `resize`, centre crop `crop` x `crop`, scale to [0, 1],
//! normalize with the model's mean and std, and lay out as NCHW float32 (batch 1).
//!
//! The resize reproduces Pillow's `Image.resize` for 8-bit RGB (what torchvision's `Resize` and
//! timm's transforms call on a PIL image): a separable convolution with the filter stretched by
//! the scale when shrinking (antialiasing), fixed-point coefficients with 22 fractional bits,
//! the horizontal pass first and each pass rounded back to 8 bits. On the same decoded pixels
//! the output therefore equals torchvision's bit for bit up to float rounding in `normalize`.

use crate::error::{NetError, Result};

/// torchvision's ImageNet channel means (RGB).
pub const IMAGENET_MEAN: [f32; 3] = [0.485, 0.456, 0.406];
/// torchvision's ImageNet channel standard deviations (RGB).
pub const IMAGENET_STD: [f32; 3] = [0.229, 0.224, 0.225];
/// timm's "Inception" normalization (maps [0, 1] to [-1, 1]).
pub const INCEPTION_MEAN_STD: [f32; 3] = [0.5, 0.5, 0.5];

/// Pillow's resampling filters used by the presets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Filter {
    /// Triangle filter of support 1 (`InterpolationMode.BILINEAR`).
    Bilinear,
    /// Keys cubic with a = -0.5, support 2 (`InterpolationMode.BICUBIC`).
    Bicubic,
}

impl Filter {
    fn support(self) -> f64 {
        match self {
            Filter::Bilinear => 1.0,
            Filter::Bicubic => 2.0,
        }
    }

    fn weight(self, x: f64) -> f64 {
        let x = x.abs();
        match self {
            Filter::Bilinear => (1.0 - x).max(0.0),
            Filter::Bicubic => {
                const A: f64 = -0.5;
                if x < 1.0 {
                    ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0
                } else if x < 2.0 {
                    (((x - 5.0) * x + 8.0) * x - 4.0) * A
                } else {
                    0.0
                }
            }
        }
    }
}

/// A model's evaluation preprocessing.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Preset {
    /// Length of the shorter side after resizing.
    pub resize: usize,
    /// Side of the square centre crop.
    pub crop: usize,
    pub filter: Filter,
    pub mean: [f32; 3],
    pub std: [f32; 3],
}

const TORCHVISION: Preset =
    Preset { resize: 256, crop: 224, filter: Filter::Bilinear, mean: IMAGENET_MEAN, std: IMAGENET_STD };

/// Every model's preset, from torchvision's `IMAGENET1K_V1` weights (`weights.transforms()`) or
/// timm's `pretrained_cfg` (resize = floor(crop / crop_pct)). `alexnet_original`,
/// `alexnet_grouped` and `zfnet` have no published weights here; they take torchvision's
/// ImageNet preset, as pytorchcv does (`inception_v2`, pytorchcv's `bninception`, takes the same).
const PRESETS: [(&str, Preset); 29] = [
    ("resnet18", TORCHVISION),
    ("resnet34", TORCHVISION),
    ("resnet50", TORCHVISION),
    ("resnet101", TORCHVISION),
    ("resnet152", TORCHVISION),
    ("mobilenet_v2", TORCHVISION),
    ("alexnet", TORCHVISION),
    ("alexnet_original", TORCHVISION),
    ("alexnet_grouped", TORCHVISION),
    ("zfnet", TORCHVISION),
    ("vgg11", TORCHVISION),
    ("vgg13", TORCHVISION),
    ("vgg16", TORCHVISION),
    ("vgg19", TORCHVISION),
    ("vgg11_bn", TORCHVISION),
    ("vgg13_bn", TORCHVISION),
    ("vgg16_bn", TORCHVISION),
    ("vgg19_bn", TORCHVISION),
    ("googlenet", TORCHVISION),
    ("inception_v2", TORCHVISION),
    ("inception_v3", Preset { resize: 342, crop: 299, ..TORCHVISION }),
    (
        "inception_v4",
        Preset {
            resize: 341,
            crop: 299,
            filter: Filter::Bicubic,
            mean: INCEPTION_MEAN_STD,
            std: INCEPTION_MEAN_STD,
        },
    ),
    ("resnext50_32x4d", TORCHVISION),
    ("resnext101_32x8d", TORCHVISION),
    ("densenet121", TORCHVISION),
    ("densenet161", TORCHVISION),
    ("densenet169", TORCHVISION),
    ("densenet201", TORCHVISION),
    (
        "mobilenet_v1",
        Preset {
            resize: 256,
            crop: 224,
            filter: Filter::Bicubic,
            mean: INCEPTION_MEAN_STD,
            std: INCEPTION_MEAN_STD,
        },
    ),
];

/// The preprocessing preset of model `name`.
pub fn preset(name: &str) -> Result<Preset> {
    PRESETS.iter().find(|(n, _)| *n == name).map(|(_, p)| *p).ok_or_else(|| {
        let known: Vec<&str> = PRESETS.iter().map(|(n, _)| *n).collect();
        NetError::Input(format!("no preprocessing preset for model {name:?}; known: {}", known.join(", ")))
    })
}

/// An 8-bit RGB image, rows top to bottom, pixels interleaved `R G B`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rgb8 {
    width: usize,
    height: usize,
    data: Vec<u8>,
}

impl Rgb8 {
    /// Wraps `data` (`height * width * 3` bytes) as an image.
    pub fn new(width: usize, height: usize, data: Vec<u8>) -> Result<Rgb8> {
        if width == 0 || height == 0 {
            return Err(NetError::Input(format!("image of {width}x{height} pixels is empty")));
        }
        if width.checked_mul(height).and_then(|p| p.checked_mul(3)) != Some(data.len()) {
            return Err(NetError::Input(format!(
                "a {width}x{height} RGB image needs {width}*{height}*3 bytes, got {}",
                data.len()
            )));
        }
        Ok(Rgb8 { width, height, data })
    }

    pub fn width(&self) -> usize {
        self.width
    }

    pub fn height(&self) -> usize {
        self.height
    }

    /// The interleaved RGB bytes.
    pub fn data(&self) -> &[u8] {
        &self.data
    }
}

/// Fractional bits of Pillow's fixed-point resampling coefficients (`PRECISION_BITS`).
const PRECISION_BITS: u32 = 32 - 8 - 2;

/// For each output index along one axis: the first input index and the fixed-point weights,
/// as Pillow's `precompute_coeffs` and `normalize_coeffs_8bpc` compute them.
/// Only the outputs in `outputs` (all of `0..out_size` for a whole resize).
fn coefficients(
    in_size: usize,
    out_size: usize,
    outputs: std::ops::Range<usize>,
    filter: Filter,
) -> Vec<(usize, Vec<i64>)> {
    let scale = in_size as f64 / out_size as f64;
    let filter_scale = scale.max(1.0);
    let support = filter.support() * filter_scale;
    let inverse_scale = 1.0 / filter_scale;
    outputs
        .map(|o| {
            let center = (o as f64 + 0.5) * scale;
            // Pillow truncates toward zero, then clamps.
            let first = ((center - support + 0.5) as i64).max(0) as usize;
            let end = ((center + support + 0.5) as i64).min(in_size as i64) as usize;
            let raw: Vec<f64> =
                (first..end).map(|i| filter.weight((i as f64 - center + 0.5) * inverse_scale)).collect();
            let total: f64 = raw.iter().sum();
            let fixed = raw
                .iter()
                .map(|&w| {
                    let w = if total != 0.0 { w / total } else { w };
                    let scaled = w * (1i64 << PRECISION_BITS) as f64;
                    (if scaled < 0.0 { scaled - 0.5 } else { scaled + 0.5 }) as i64
                })
                .collect();
            (first, fixed)
        })
        .collect()
}

/// Rounds a fixed-point accumulator back to a byte, as Pillow's `clip8`.
fn clip8(acc: i64) -> u8 {
    (acc >> PRECISION_BITS).clamp(0, 255) as u8
}

/// One separable pass: `along_x` resamples each row to `out` columns, else each column to
/// `out` rows, and keeps only the outputs in `keep` (the part of the resized image a crop keeps).
fn resample(img: &Rgb8, out: usize, keep: std::ops::Range<usize>, along_x: bool, filter: Filter) -> Rgb8 {
    let (w, h) = (img.width, img.height);
    let coeffs = coefficients(if along_x { w } else { h }, out, keep.clone(), filter);
    let (ow, oh) = if along_x { (keep.len(), h) } else { (w, keep.len()) };
    let mut data = vec![0u8; ow * oh * 3];
    for y in 0..oh {
        for x in 0..ow {
            let (first, k) = &coeffs[if along_x { x } else { y }];
            for c in 0..3 {
                let mut acc = 1i64 << (PRECISION_BITS - 1);
                for (j, &kj) in k.iter().enumerate() {
                    let (sx, sy) = if along_x { (first + j, y) } else { (x, first + j) };
                    acc += img.data[(sy * w + sx) * 3 + c] as i64 * kj;
                }
                data[(y * ow + x) * 3 + c] = clip8(acc);
            }
        }
    }
    Rgb8 { width: ow, height: oh, data }
}

/// Most pixels a resize may produce (768 MiB of RGB): a thin strip of an image, whose longer
/// side would grow by the shorter side's scale, is an error rather than an absurd allocation.
const MAX_RESIZED_PIXELS: f64 = (1u64 << 28) as f64;

/// The output size torchvision's `Resize(size)` picks: the shorter side becomes `size`, the
/// longer `int(size * long / short)`.
pub fn shorter_side_size(width: usize, height: usize, size: usize) -> Result<(usize, usize)> {
    let cannot = |why: &str| {
        NetError::Input(format!("cannot resize a {width}x{height} image to shorter side {size}{why}"))
    };
    if width == 0 || height == 0 || size == 0 {
        return Err(cannot(""));
    }
    let (short, long) = if width <= height { (width, height) } else { (height, width) };
    let long_out = (size as f64 * long as f64 / short as f64).floor();
    if long_out * size as f64 > MAX_RESIZED_PIXELS {
        return Err(cannot(&format!(": {long_out} pixels long, more than 2^28 pixels in all")));
    }
    let long_out = long_out as usize;
    Ok(if width <= height { (size, long_out) } else { (long_out, size) })
}

/// Resizes `img` so that its shorter side is `size` (Pillow's `Image.resize` with `filter`).
pub fn resize_shorter_side(img: &Rgb8, size: usize, filter: Filter) -> Result<Rgb8> {
    let (ow, oh) = shorter_side_size(img.width, img.height, size)?;
    let mut out = img.clone();
    if ow != img.width {
        out = resample(&out, ow, 0..ow, true, filter);
    }
    if oh != img.height {
        out = resample(&out, oh, 0..oh, false, filter);
    }
    Ok(out)
}

/// [`resize_shorter_side`] then [`center_crop`], computing only the pixels the crop keeps: the
/// same bytes, at the cost of the crop rather than of the whole resized image (a 4000x1 strip
/// resized to shorter side 256 is 1,024,000 x 256 pixels, of which a 224 crop keeps 50,176).
pub fn resize_and_crop(img: &Rgb8, size: usize, crop: usize, filter: Filter) -> Result<Rgb8> {
    let (ow, oh) = shorter_side_size(img.width, img.height, size)?;
    if crop == 0 || crop > ow || crop > oh {
        return Err(NetError::Input(format!(
            "centre crop of {crop}x{crop} from a {}x{} image resized to {ow}x{oh}",
            img.width, img.height
        )));
    }
    let (left, top) = (crop_offset(ow - crop), crop_offset(oh - crop));
    let columns = if ow != img.width {
        resample(img, ow, left..left + crop, true, filter)
    } else {
        window(img, left, 0, crop, img.height)
    };
    Ok(if oh != img.height {
        resample(&columns, oh, top..top + crop, false, filter)
    } else {
        window(&columns, 0, top, crop, crop)
    })
}

/// The `width x height` window of `img` whose top left pixel is `(left, top)` (in bounds).
fn window(img: &Rgb8, left: usize, top: usize, width: usize, height: usize) -> Rgb8 {
    let mut data = Vec::with_capacity(width * height * 3);
    for y in top..top + height {
        let row = (y * img.width + left) * 3;
        data.extend_from_slice(&img.data[row..row + width * 3]);
    }
    Rgb8 { width, height, data }
}

/// torchvision's `CenterCrop` offset for `d` spare pixels: `round(d / 2)`, halves to even
/// (only odd `d` has a half, and it rounds to the even neighbour).
fn crop_offset(d: usize) -> usize {
    let (q, odd) = (d / 2, d % 2 == 1);
    if odd && q % 2 == 1 {
        q + 1
    } else {
        q
    }
}

/// The central `size` x `size` square, placed as torchvision's `CenterCrop` places it
/// (offset `round((side - size) / 2)`, halves rounded to even).
pub fn center_crop(img: &Rgb8, size: usize) -> Result<Rgb8> {
    if size == 0 || size > img.width || size > img.height {
        return Err(NetError::Input(format!(
            "centre crop of {size}x{size} from a {}x{} image",
            img.width, img.height
        )));
    }
    let (left, top) = (crop_offset(img.width - size), crop_offset(img.height - size));
    Ok(window(img, left, top, size, size))
}

/// `(pixel / 255 - mean) / std` per channel, as a 1x3xHxW (NCHW) float32 tensor.
pub fn normalize_nchw(img: &Rgb8, mean: [f32; 3], std: [f32; 3]) -> Result<Vec<f32>> {
    if let Some(c) = (0..3).find(|&c| !(std[c].is_finite() && std[c] > 0.0 && mean[c].is_finite())) {
        return Err(NetError::Input(format!(
            "normalize: channel {c} has mean {} and std {}; std must be positive and both finite",
            mean[c], std[c]
        )));
    }
    let plane = img.width * img.height;
    let mut out = vec![0f32; 3 * plane];
    for (p, px) in img.data.chunks_exact(3).enumerate() {
        for c in 0..3 {
            // ToTensor divides by 255, then Normalize subtracts and divides, in float32.
            out[c * plane + p] = (px[c] as f32 / 255.0 - mean[c]) / std[c];
        }
    }
    Ok(out)
}

/// The whole preset: resize the shorter side, centre crop, normalize; a 1x3xCxC NCHW tensor.
pub fn preprocess(img: &Rgb8, preset: &Preset) -> Result<Vec<f32>> {
    if preset.crop > preset.resize {
        return Err(NetError::Input(format!(
            "preset crops {} pixels from a shorter side of {}",
            preset.crop, preset.resize
        )));
    }
    let cropped = resize_and_crop(img, preset.resize, preset.crop, preset.filter)?;
    normalize_nchw(&cropped, preset.mean, preset.std)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_model_has_a_preset() {
        for name in crate::models::MODELS {
            assert!(preset(name).is_ok(), "{name}");
        }
        assert!(preset("resnet51").unwrap_err().to_string().contains("resnet51"));
    }

    #[test]
    fn output_sizes_follow_torchvision() {
        // int(256 * 500 / 375) = 341, int(256 * 640 / 480) = 341.
        assert_eq!(shorter_side_size(500, 375, 256).unwrap(), (341, 256));
        assert_eq!(shorter_side_size(480, 640, 256).unwrap(), (256, 341));
        assert_eq!(shorter_side_size(40, 30, 342).unwrap(), (456, 342));
    }

    #[test]
    fn a_thin_strip_is_refused_rather_than_blown_up() {
        // A 1-pixel-wide image would become 256 x 2.56e9 pixels.
        let e = shorter_side_size(1, 10_000_000, 256).unwrap_err().to_string();
        assert!(e.contains("1x10000000") && e.contains("2^28"), "{e}");
        assert_eq!(shorter_side_size(1, 4_000, 256).unwrap(), (256, 1_024_000));
    }
}
