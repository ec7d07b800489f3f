//! Reading and writing NumPy `.npy` files of little-endian float32 (C order): the command
//! line's input and output format.

use crate::error::{NetError, Result};

const MAGIC: &[u8] = b"\x93NUMPY";
/// Larger headers are refused before any parsing (NumPy writes ~128 bytes).
const MAX_HEADER: usize = 1 << 16;

/// A float32 array: its shape and its elements in C order.
#[derive(Clone, Debug, PartialEq)]
pub struct Array {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

/// Parses a `.npy` buffer holding a C-order `<f4` array.
pub fn parse(bytes: &[u8]) -> Result<Array> {
    let bad = |m: &str| NetError::Input(format!("not a float32 .npy file: {m}"));
    if bytes.len() < 10 || &bytes[..6] != MAGIC {
        return Err(bad("missing the \\x93NUMPY magic"));
    }
    let (header_len, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => {
            (u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize, 12)
        }
        v => return Err(bad(&format!("unsupported version {v}"))),
    };
    if header_len > MAX_HEADER || start + header_len > bytes.len() {
        return Err(bad(&format!("header of {header_len} bytes in a file of {}", bytes.len())));
    }
    let header =
        std::str::from_utf8(&bytes[start..start + header_len]).map_err(|_| bad("header is not UTF-8"))?;
    let field = |key: &str| -> Result<&str> {
        let at = header.find(&format!("'{key}'")).ok_or_else(|| bad(&format!("no '{key}' in the header")))?;
        let rest = &header[at + key.len() + 2..];
        Ok(rest.trim_start().trim_start_matches(':').trim_start())
    };
    let descr = field("descr")?;
    if !(descr.starts_with("'<f4'") || descr.starts_with("'float32'")) {
        return Err(bad(&format!("dtype {} (expected '<f4')", descr.split(',').next().unwrap_or(""))));
    }
    if field("fortran_order")?.starts_with("True") {
        return Err(bad("Fortran order is not supported"));
    }
    let shape_text = field("shape")?;
    let inner = shape_text
        .strip_prefix('(')
        .and_then(|s| s.split(')').next())
        .ok_or_else(|| bad("malformed shape"))?;
    let shape = inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<usize>().map_err(|_| bad(&format!("shape entry {s:?}"))))
        .collect::<Result<Vec<usize>>>()?;
    let count = shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| bad(&format!("shape {shape:?} overflows")))?;
    let body = &bytes[start + header_len..];
    if Some(body.len()) != count.checked_mul(4) {
        return Err(bad(&format!(
            "shape {shape:?} needs {count} floats, the file holds {} bytes of data",
            body.len()
        )));
    }
    let data = body.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
    Ok(Array { shape, data })
}

/// Encodes `data` of `shape` as a version 1.0 `.npy` buffer.
pub fn encode(shape: &[usize], data: &[f32]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    let shape_text =
        if dims.len() == 1 { format!("({},)", dims[0]) } else { format!("({})", dims.join(", ")) };
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {shape_text}, }}");
    // Pad with spaces so that the data starts at a multiple of 64 bytes; end with a newline.
    let total = (10 + header.len() + 1).next_multiple_of(64);
    header.push_str(&" ".repeat(total - 10 - header.len() - 1));
    header.push('\n');
    let mut out = Vec::with_capacity(total + data.len() * 4);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for v in data {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let data: Vec<f32> = (0..24).map(|i| i as f32 * 0.25 - 2.0).collect();
        let bytes = encode(&[1, 2, 3, 4], &data);
        assert_eq!((10 + u16::from_le_bytes([bytes[8], bytes[9]]) as usize) % 64, 0);
        assert_eq!(parse(&bytes).unwrap(), Array { shape: vec![1, 2, 3, 4], data: data.clone() });
        assert_eq!(parse(&encode(&[24], &data)).unwrap().shape, vec![24]);
    }

    #[test]
    fn reads_what_numpy_writes() {
        // np.save of np.arange(3, dtype=np.float32).reshape(1, 3), byte for byte.
        let mut bytes =
            b"\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3), }".to_vec();
        bytes.resize(10 + 0x76 - 1, b' ');
        bytes.push(b'\n');
        for v in [0.0f32, 1.0, 2.0] {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        assert_eq!(parse(&bytes).unwrap(), Array { shape: vec![1, 3], data: vec![0.0, 1.0, 2.0] });
    }

    #[test]
    fn bad_files_are_errors() {
        let good = encode(&[2, 2], &[1.0; 4]);
        assert!(parse(&good[..good.len() - 1]).unwrap_err().to_string().contains("needs 4 floats"));
        assert!(parse(b"PK\x03\x04 not npy").is_err());
        let mut f8 = good.clone();
        let at = f8.windows(3).position(|w| w == b"<f4").unwrap();
        f8[at + 2] = b'8';
        assert!(parse(&f8).unwrap_err().to_string().contains("<f8"));
        let mut huge = good.clone();
        huge[8] = 0xff;
        huge[9] = 0xff;
        assert!(parse(&huge).is_err());
    }
}
