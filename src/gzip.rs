//! The Lossless level: gzip (`flate2`) of the original file's bytes, and bounded inflation.

use std::io::{Read, Write};

use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use flate2::Compression;

use crate::codec::{Codec, Decoded, Encoder, Input, PcmSpec, ReadSeek};
use crate::io::Counted;
use crate::{Error, Format, Result};

/// The most bytes a gzip file inflates to here: a small file must not expand into gigabytes.
pub const MAX_INFLATED: u64 = 1 << 31;

/// gzip at the default level (6, as `gzip` does): a standard single-member gzip stream (RFC
/// 1952), what Python's `gzip`, a browser's `DecompressionStream("gzip")` and pako inflate.
/// Its encoder fails when the result would not be smaller than the original, so that a chain
/// falls back to storing it.
#[derive(Clone, Copy, Debug, Default)]
pub struct GzipCodec;

impl Codec for GzipCodec {
    fn name(&self) -> &'static str {
        "gzip"
    }
    fn format(&self) -> Option<Format> {
        Some(Format::Gzip)
    }
    fn input(&self) -> Input {
        Input::Bytes
    }
    /// A gzip file is gzipped again (and so, not shrinking, stored as it is) rather than kept:
    /// what the Lossless level stores must restore to the very bytes it was given, and a kept
    /// gzip would be inflated on the way back.
    fn keeps(&self, _format: Format, _kbps: f64) -> bool {
        false
    }

    fn encoder<'a>(&'a self, _pcm: PcmSpec, out: &'a mut dyn Write) -> Result<Box<dyn Encoder + 'a>> {
        let counted = Counted::new(out);
        Ok(Box::new(GzipEncoder { gzip: GzEncoder::new(counted, Compression::default()), bytes_in: 0 }))
    }

    fn decoder<'a>(&'a self, input: Box<dyn ReadSeek>) -> Result<Decoded<'a>> {
        Ok(Decoded::Bytes(inflate_from(input)?))
    }
}

struct GzipEncoder<'a> {
    gzip: GzEncoder<Counted<&'a mut dyn Write>>,
    bytes_in: u64,
}

impl Encoder for GzipEncoder<'_> {
    fn push_bytes(&mut self, bytes: &[u8]) -> Result<()> {
        self.bytes_in += bytes.len() as u64;
        self.gzip.write_all(bytes).map_err(|e| Error::Gzip(e.to_string()))
    }

    fn finish(self: Box<Self>) -> Result<()> {
        let mut out = self.gzip.finish().map_err(|e| Error::Gzip(e.to_string()))?;
        out.flush().map_err(|e| Error::Gzip(e.to_string()))?;
        if out.bytes >= self.bytes_in {
            return Err(Error::Gzip(format!(
                "would not shrink it ({} → {} bytes)",
                self.bytes_in, out.bytes
            )));
        }
        Ok(())
    }
}

/// Gzips `bytes` at the default level.
pub fn compress(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut encoder = GzEncoder::new(Vec::with_capacity(bytes.len() / 2), Compression::default());
    encoder.write_all(bytes).and_then(|()| encoder.finish()).map_err(|e| Error::Gzip(e.to_string()))
}

/// Inflates a gzip file (every member), checking its CRC; at most 2 GiB.
pub fn inflate(bytes: &[u8]) -> Result<Vec<u8>> {
    inflate_from(bytes)
}

fn inflate_from(reader: impl Read) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut reader = MultiGzDecoder::new(reader).take(MAX_INFLATED + 1);
    reader.read_to_end(&mut out).map_err(|e| Error::Gzip(e.to_string()))?;
    if out.len() as u64 > MAX_INFLATED {
        return Err(Error::Gzip(format!("inflates to more than {MAX_INFLATED} bytes")));
    }
    Ok(out)
}
