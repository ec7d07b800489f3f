//! Decoding the command line's inputs: PNG and JPEG images to 8-bit RGB (as Pillow's
//! `Image.open(path).convert("RGB")` gives them to torchvision), told apart from `.npy` tensors
//! by their leading bytes. Only with the `cli` feature (it pulls in the `png` and
//! `jpeg-decoder` crates).

use crate::error::{NetError, Result};
use crate::preprocess::Rgb8;

/// Most bytes a decoded image may take as RGB, 256 MiB (an 89-megapixel photo fits; the
/// models see 299x299 at most): a corrupt or hostile header, or a small file of a huge flat
/// image (945 KB of PNG for 18000x18000), cannot make the decoders, or the RGB expansion after
/// them, reserve more.
const MAX_DECODED_BYTES: usize = 1 << 28;

/// An error unless a `width x height` image fits [`MAX_DECODED_BYTES`] as RGB: checked on the
/// header, before any pixel buffer is allocated.
fn check_size(kind: &str, width: usize, height: usize) -> Result<()> {
    match width.checked_mul(height).and_then(|p| p.checked_mul(3)) {
        Some(bytes) if bytes <= MAX_DECODED_BYTES => Ok(()),
        _ => Err(NetError::Input(format!(
            "{kind} image of {width}x{height} pixels is larger than {} MiB as RGB",
            MAX_DECODED_BYTES >> 20
        ))),
    }
}

/// What an input file holds, from its first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Png,
    Jpeg,
    Npy,
}

impl Format {
    /// The format whose signature `bytes` start with, if any.
    pub fn sniff(bytes: &[u8]) -> Option<Format> {
        if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(Format::Png)
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Format::Jpeg)
        } else if bytes.starts_with(b"\x93NUMPY") {
            Some(Format::Npy)
        } else {
            None
        }
    }
}

/// Decodes a PNG or JPEG file's bytes to RGB: grey is replicated to three channels and alpha
/// dropped (as `convert("RGB")` does), 16-bit samples keep their high byte.
pub fn decode(bytes: &[u8]) -> Result<Rgb8> {
    match Format::sniff(bytes) {
        Some(Format::Png) => decode_png(bytes),
        Some(Format::Jpeg) => decode_jpeg(bytes),
        _ => Err(NetError::Input(format!(
            "not a PNG or JPEG image (it starts with bytes {:02x?})",
            &bytes[..bytes.len().min(8)]
        ))),
    }
}

fn decode_png(bytes: &[u8]) -> Result<Rgb8> {
    let bad = |e: png::DecodingError| NetError::Input(format!("corrupt PNG image: {e}"));
    let limits = png::Limits { bytes: MAX_DECODED_BYTES };
    let mut decoder = png::Decoder::new_with_limits(std::io::Cursor::new(bytes), limits);
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().map_err(bad)?;
    check_size("PNG", reader.info().width as usize, reader.info().height as usize)?;
    let size = reader.output_buffer_size().ok_or_else(|| NetError::Input("PNG image too large".into()))?;
    let mut buf = vec![0u8; size];
    let frame = reader.next_frame(&mut buf).map_err(bad)?;
    let (w, h) = (frame.width as usize, frame.height as usize);
    let channels = match frame.color_type {
        png::ColorType::Grayscale => 1,
        png::ColorType::GrayscaleAlpha => 2,
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        other => return Err(NetError::Input(format!("PNG colour type {other:?} after expansion"))),
    };
    let rows = buf[..frame.buffer_size()].chunks_exact(frame.line_size);
    let pixels = rows.flat_map(|row| row[..w * channels].chunks_exact(channels));
    to_rgb(w, h, pixels)
}

fn decode_jpeg(bytes: &[u8]) -> Result<Rgb8> {
    let mut decoder = jpeg_decoder::Decoder::new(bytes);
    decoder.set_max_decoding_buffer_size(MAX_DECODED_BYTES);
    let corrupt = |e: jpeg_decoder::Error| NetError::Input(format!("corrupt JPEG image: {e}"));
    decoder.read_info().map_err(corrupt)?;
    if let Some(info) = decoder.info() {
        check_size("JPEG", info.width as usize, info.height as usize)?;
    }
    let pixels = decoder.decode().map_err(corrupt)?;
    let info = decoder.info().ok_or_else(|| NetError::Input("JPEG image without a frame header".into()))?;
    let (w, h) = (info.width as usize, info.height as usize);
    match info.pixel_format {
        jpeg_decoder::PixelFormat::RGB24 => Rgb8::new(w, h, pixels),
        jpeg_decoder::PixelFormat::L8 => to_rgb(w, h, pixels.chunks_exact(1)),
        // Big-endian 16-bit grey: keep the high byte.
        jpeg_decoder::PixelFormat::L16 => to_rgb(w, h, pixels.chunks_exact(2)),
        jpeg_decoder::PixelFormat::CMYK32 => {
            Err(NetError::Input(format!("CMYK JPEG image ({w}x{h}) is not supported; convert it to RGB")))
        }
    }
}

/// Gathers pixels of 1 (grey), 2 (grey, alpha), 3 (RGB) or 4 (RGBA) bytes as RGB.
fn to_rgb<'a>(w: usize, h: usize, pixels: impl Iterator<Item = &'a [u8]>) -> Result<Rgb8> {
    let mut data = Vec::with_capacity(w.saturating_mul(h).saturating_mul(3));
    for p in pixels {
        match p.len() {
            1 | 2 => data.extend_from_slice(&[p[0]; 3]),
            _ => data.extend_from_slice(&p[..3]),
        }
    }
    Rgb8::new(w, h, data)
}
