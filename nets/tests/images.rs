//! Decoding and preprocessing against torchvision: the fixtures in tests/fixtures/images come
//! from bench/peers/make_image_fixtures.py (Pillow decodes, torchvision's Resize + CenterCrop +
//! ToTensor + Normalize on the PIL image).

#![cfg(feature = "cli")]

use std::path::PathBuf;

use lineage_nets::image::{decode, Format};
use lineage_nets::preprocess::{self, Filter, Preset, IMAGENET_MEAN, IMAGENET_STD, INCEPTION_MEAN_STD};
use safetensors::SafeTensors;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/images").join(name)
}

fn expected(name: &str) -> Vec<f32> {
    let bytes = std::fs::read(fixture("preprocessed.safetensors")).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let t = st.tensor(name).unwrap();
    t.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

/// The configurations the script writes (its CONFIGS table).
fn config(name: &str) -> Preset {
    let small = |resize, crop, filter, (mean, std)| Preset { resize, crop, filter, mean, std };
    let imagenet = (IMAGENET_MEAN, IMAGENET_STD);
    let half = (INCEPTION_MEAN_STD, INCEPTION_MEAN_STD);
    match name {
        "resnet18" => preprocess::preset("resnet18").unwrap(),
        "up_bilinear" => small(48, 40, Filter::Bilinear, imagenet),
        "down_bilinear" => small(24, 20, Filter::Bilinear, imagenet),
        "up_bicubic" => small(48, 40, Filter::Bicubic, half),
        "down_bicubic" => small(24, 20, Filter::Bicubic, half),
        _ => unreachable!(),
    }
}

const CONFIGS: [&str; 4] = ["up_bilinear", "down_bilinear", "up_bicubic", "down_bicubic"];

/// A difference in the normalized tensor expressed in 8-bit pixel levels (x 255 x std).
fn levels(diff: f32, preset: &Preset) -> f32 {
    diff * 255.0 * preset.std.iter().cloned().fold(f32::INFINITY, f32::min)
}

#[test]
fn png_decodes_to_pillows_pixels() {
    let rgb = decode(&std::fs::read(fixture("tiny.png")).unwrap()).unwrap();
    assert_eq!((rgb.width(), rgb.height()), (40, 30));
    let ours: Vec<f32> = rgb.data().iter().map(|&v| v as f32).collect();
    assert_eq!(ours, expected("png_pixels"));
}

#[test]
fn png_preprocessing_matches_torchvision() {
    let rgb = decode(&std::fs::read(fixture("tiny.png")).unwrap()).unwrap();
    for name in CONFIGS.iter().copied().chain(["resnet18"]) {
        let ours = preprocess::preprocess(&rgb, &config(name)).unwrap();
        let diff = max_abs_diff(&ours, &expected(&format!("png_{name}")));
        println!("png {name}: max |lineage - torchvision| = {diff:e}");
        // Same pixels, Pillow's integer resampling, and ToTensor/Normalize's float32 operations
        // in the same order: the tensors are identical.
        assert_eq!(diff, 0.0, "png {name}: max difference {diff}");
    }
}

#[test]
fn jpeg_preprocessing_is_close_to_torchvision() {
    let rgb = decode(&std::fs::read(fixture("tiny.jpg")).unwrap()).unwrap();
    assert_eq!((rgb.width(), rgb.height()), (40, 30));
    let pixels: Vec<f32> = rgb.data().iter().map(|&v| v as f32).collect();
    let pixel_diff = max_abs_diff(&pixels, &expected("jpeg_pixels"));
    println!("jpeg: max |jpeg-decoder - libjpeg| over pixels = {pixel_diff} levels");
    // jpeg-decoder and Pillow's libjpeg differ in IDCT and chroma upsampling rounding.
    assert!(pixel_diff <= 3.0, "decoded pixels differ by {pixel_diff} levels");
    for name in CONFIGS {
        let preset = config(name);
        let ours = preprocess::preprocess(&rgb, &preset).unwrap();
        let diff = max_abs_diff(&ours, &expected(&format!("jpeg_{name}")));
        let lv = levels(diff, &preset);
        println!("jpeg {name}: max |lineage - torchvision| = {diff:e} ({lv:.2} pixel levels)");
        // The decoders' 2 levels, resampled: bicubic's negative lobes can add one more.
        assert!(lv <= 4.0, "jpeg {name}: max difference {diff} ({lv} levels)");
    }
}

#[test]
fn formats_are_told_apart_and_corrupt_files_refused() {
    let png = std::fs::read(fixture("tiny.png")).unwrap();
    let jpg = std::fs::read(fixture("tiny.jpg")).unwrap();
    assert_eq!(Format::sniff(&png), Some(Format::Png));
    assert_eq!(Format::sniff(&jpg), Some(Format::Jpeg));
    assert_eq!(Format::sniff(b"\x93NUMPY\x01\x00"), Some(Format::Npy));
    assert_eq!(Format::sniff(b"GIF89a"), None);
    let truncated = [&png[..png.len() / 2], &jpg[..jpg.len() / 2]];
    for bytes in truncated {
        let e = decode(bytes).unwrap_err().to_string();
        assert!(e.contains("corrupt"), "{e}");
    }
    assert!(decode(b"GIF89a....").unwrap_err().to_string().contains("not a PNG or JPEG"));
}

/// CRC-32 (ISO-HDLC), as PNG chunks carry it.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

#[test]
fn a_png_header_claiming_gigabytes_is_refused_before_allocating() {
    // tiny.png with its IHDR height raised to 83,886,080 rows (10 GB of RGB), CRC fixed up: the
    // fuzzer's `inputs` target found that this allocated the whole frame before any check.
    let mut png = std::fs::read(fixture("tiny.png")).unwrap();
    assert_eq!(&png[12..16], b"IHDR");
    png[20..24].copy_from_slice(&0x0500_0000u32.to_be_bytes());
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    let e = decode(&png).unwrap_err().to_string();
    assert!(e.contains("PNG image of 40x83886080 pixels"), "{e}");
}

#[test]
fn a_png_of_a_huge_flat_frame_is_refused_by_its_header() {
    // 18000 x 18000 compresses to under a megabyte when flat, and used to decode to 1.9 GB.
    let mut png = std::fs::read(fixture("tiny.png")).unwrap();
    png[16..24].copy_from_slice(&[18000u32.to_be_bytes(), 18000u32.to_be_bytes()].concat());
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    let e = decode(&png).unwrap_err().to_string();
    assert!(e.contains("PNG image of 18000x18000 pixels") && e.contains("256 MiB"), "{e}");
}

#[test]
fn a_jpeg_header_claiming_gigabytes_is_refused_before_decoding() {
    // tiny.jpg's frame header (SOF0) says 20000 x 20000: 1.2 GB as RGB.
    let mut jpeg = std::fs::read(fixture("tiny.jpg")).unwrap();
    let sof = jpeg.windows(2).position(|m| m == [0xFF, 0xC0]).expect("a baseline JPEG");
    jpeg[sof + 5..sof + 9].copy_from_slice(&[0x4E, 0x20, 0x4E, 0x20]);
    let e = decode(&jpeg).unwrap_err().to_string();
    assert!(e.contains("JPEG image of 20000x20000 pixels"), "{e}");
}
