//! The readers codecs take.

use std::io::{Read, Seek};

/// A reader the decoders can seek in: files and in-memory buffers.
pub trait ReadSeek: Read + Seek + Send + Sync {}
impl<T: Read + Seek + Send + Sync> ReadSeek for T {}

/// A reader that cannot seek (standard input, a pipe) made to look seekable as far as format
/// detection needs: its first [`Unseekable::REPLAY`] bytes are kept so that it can go back to
/// its start (hound and symphonia peek at the header, then rewind); any other seek fails with
/// `Unsupported`. Written by hand: `BufReader` cannot rewind past its buffer.
pub struct Unseekable<R> {
    inner: R,
    /// Every byte read from `inner` so far, while they fit in `REPLAY`; `None` once more was
    /// read.
    head: Option<Vec<u8>>,
    /// Where the next read is, from the start.
    position: u64,
}

impl<R: Read> Unseekable<R> {
    /// Bytes kept for a rewind to the start.
    pub const REPLAY: usize = 64 * 1024;

    /// Wraps `inner`, at its start.
    pub fn new(inner: R) -> Self {
        Self { inner, head: Some(Vec::new()), position: 0 }
    }
}

impl<R: Read> Read for Unseekable<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if let Some(head) = self.head.as_deref().filter(|h| self.position < h.len() as u64) {
            // Replaying the kept start after a rewind.
            let at = self.position as usize;
            let n = buf.len().min(head.len() - at);
            buf[..n].copy_from_slice(&head[at..at + n]);
            self.position += n as u64;
            return Ok(n);
        }
        let n = self.inner.read(buf)?;
        if let Some(head) = &mut self.head {
            if head.len() + n <= Self::REPLAY {
                head.extend_from_slice(&buf[..n]);
            } else {
                self.head = None;
            }
        }
        self.position += n as u64;
        Ok(n)
    }
}

impl<R: Read> Seek for Unseekable<R> {
    fn seek(&mut self, to: std::io::SeekFrom) -> std::io::Result<u64> {
        let target = match to {
            std::io::SeekFrom::Start(n) => Some(n),
            std::io::SeekFrom::Current(d) => self.position.checked_add_signed(d),
            std::io::SeekFrom::End(_) => None,
        };
        match target {
            Some(n) if n == self.position => Ok(n),
            Some(n) if self.head.as_ref().is_some_and(|head| n <= head.len() as u64) => {
                self.position = n;
                Ok(n)
            }
            _ => Err(std::io::Error::new(std::io::ErrorKind::Unsupported, "the input cannot seek (a pipe)")),
        }
    }
}

/// A writer that counts the bytes that go through it.
pub(crate) struct Counted<W> {
    pub inner: W,
    pub bytes: u64,
}

impl<W> Counted<W> {
    pub fn new(inner: W) -> Self {
        Self { inner, bytes: 0 }
    }
}

impl<W: std::io::Write> std::io::Write for Counted<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}
