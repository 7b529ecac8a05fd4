//! The readers codecs take.

use std::io::{Read, Seek};

/// A reader the decoders can seek in: files and in-memory buffers.
pub trait ReadSeek: Read + Seek + Send + Sync {}
impl<T: Read + Seek + Send + Sync> ReadSeek for T {}
