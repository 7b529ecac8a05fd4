//! The Lossless level: gzip (`flate2`) of the original bytes, and bounded inflation.

use std::io::{Read, Write};

use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use flate2::Compression;

use crate::{Error, Result};

/// The gzip magic bytes.
pub const MAGIC: [u8; 2] = [0x1f, 0x8b];

/// The most bytes [`inflate`] produces: a small file must not expand into gigabytes.
pub const MAX_INFLATED: u64 = 1 << 31;

/// Gzips `bytes` at the default level (6, as `gzip` does).
pub fn compress(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut encoder = GzEncoder::new(Vec::with_capacity(bytes.len() / 2), Compression::default());
    encoder.write_all(bytes).and_then(|()| encoder.finish()).map_err(|e| Error::Gzip(e.to_string()))
}

/// Inflates a gzip file (every member), checking its CRC; at most [`MAX_INFLATED`] bytes.
pub fn inflate(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(bytes.len().saturating_mul(2));
    let mut reader = MultiGzDecoder::new(bytes).take(MAX_INFLATED + 1);
    reader.read_to_end(&mut out).map_err(|e| Error::Gzip(e.to_string()))?;
    if out.len() as u64 > MAX_INFLATED {
        return Err(Error::Gzip(format!("inflates to more than {MAX_INFLATED} bytes")));
    }
    Ok(out)
}
