//! The Off level, and the end of every fallback chain: the original file's bytes, as they are.

use std::io::{Read, Write};

use crate::codec::{Codec, Decoded, Encoder, Input, PcmSpec, ReadSeek};
use crate::{Error, Format, Result};

/// The original bytes, unchanged. It keeps any file, so a chain ending in it never fails on
/// readable audio.
#[derive(Clone, Copy, Debug, Default)]
pub struct StoredCodec;

impl Codec for StoredCodec {
    fn name(&self) -> &'static str {
        "stored"
    }
    fn format(&self) -> Option<Format> {
        None
    }
    fn input(&self) -> Input {
        Input::Bytes
    }
    fn keeps(&self, _format: Format, _kbps: f64) -> bool {
        true
    }

    fn encoder<'a>(&'a self, _pcm: PcmSpec, out: &'a mut dyn Write) -> Result<Box<dyn Encoder + 'a>> {
        Ok(Box::new(Copy { out }))
    }

    /// A stored file is the original audio file: never claimed by magic bytes, so this is not
    /// reached through [`crate::codec::open`]; it hands the bytes on as they are.
    fn decoder<'a>(&'a self, mut input: Box<dyn ReadSeek>) -> Result<Decoded<'a>> {
        let mut bytes = Vec::new();
        input.read_to_end(&mut bytes).map_err(|source| Error::Io { path: "<input>".into(), source })?;
        Ok(Decoded::Bytes(bytes))
    }
}

struct Copy<'a> {
    out: &'a mut dyn Write,
}

impl Encoder for Copy<'_> {
    fn push_bytes(&mut self, bytes: &[u8]) -> Result<()> {
        self.out.write_all(bytes).map_err(|source| Error::Io { path: "<output>".into(), source })
    }
    fn finish(self: Box<Self>) -> Result<()> {
        self.out.flush().map_err(|source| Error::Io { path: "<output>".into(), source })
    }
}
