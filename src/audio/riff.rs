//! WAV files as far as they go: a data chunk whose length overruns the file, is not a whole
//! number of frames, or is 0 or 0xFFFFFFFF (what streaming writers leave until they finish)
//! is read to the last whole frame there is, as sox and ffmpeg do.
//!
//! hound reads exactly the length the header states and fails at an early end, so the reader
//! it is given ([`Trimmed`]) shows it the length the file really holds. Written by hand: no
//! WAV crate reads truncated files, and hound is otherwise what reads WAV here.

use std::io::{self, Read, Seek, SeekFrom};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::io::ReadSeek;

/// Chunks looked through for `data` before giving up (hound then says what is wrong).
const MAX_CHUNKS: usize = 1024;

/// A WAV file's reader, with the data chunk's length field replaced by what the file holds
/// where the two differ; it also notes when the underlying reader reached its end, so that
/// an unseekable stream of unknown length ending inside the data is known to be cut short.
pub(super) struct Trimmed {
    inner: Box<dyn ReadSeek>,
    /// The length field's offset and the bytes it reads as instead.
    patch: Option<(u64, [u8; 4])>,
    position: u64,
    /// Whether a read has returned 0 bytes (the end of the input).
    ended: Arc<AtomicBool>,
}

/// What [`Trimmed::new`] found.
pub(super) struct Found {
    /// Whether the header's length was changed (the file is cut short, or its header was
    /// never finished).
    pub patched: bool,
    /// Set once the input's end has been reached.
    pub ended: Arc<AtomicBool>,
}

impl Trimmed {
    /// `inner` (a WAV file at `start`) with its data length made to fit the file; left at
    /// `start`.
    pub fn new(mut inner: Box<dyn ReadSeek>, start: u64) -> io::Result<(Self, Found)> {
        // The file's size, if the reader can tell (a pipe cannot).
        let size = inner.seek(SeekFrom::End(0)).ok();
        inner.seek(SeekFrom::Start(start))?;
        let patch = data_length(&mut inner, start, size)?;
        inner.seek(SeekFrom::Start(start))?;
        let ended = Arc::new(AtomicBool::new(false));
        let found = Found { patched: patch.is_some(), ended: ended.clone() };
        let patch = patch.map(|(at, length)| (at, length.to_le_bytes()));
        Ok((Self { inner, patch, position: start, ended }, found))
    }
}

/// Where the data chunk's length field is and the length it should say, if not what it says:
/// what the file holds after the chunk's start (unknown `size`: as much as a stream brings),
/// in whole frames.
fn data_length(reader: &mut dyn ReadSeek, start: u64, size: Option<u64>) -> io::Result<Option<(u64, u32)>> {
    let mut riff = [0u8; 12];
    if reader.read_exact(&mut riff).is_err() || &riff[..4] != b"RIFF" || &riff[8..] != b"WAVE" {
        return Ok(None);
    }
    let mut at = start + 12;
    let mut frame_bytes = None;
    for _ in 0..MAX_CHUNKS {
        let mut header = [0u8; 8];
        if reader.read_exact(&mut header).is_err() {
            return Ok(None);
        }
        let length = u32::from_le_bytes(header[4..].try_into().expect("4 bytes"));
        match &header[..4] {
            b"fmt " => {
                let mut fmt = [0u8; 14];
                if reader.read_exact(&mut fmt).is_err() {
                    return Ok(None);
                }
                frame_bytes = Some(u16::from_le_bytes([fmt[12], fmt[13]]).max(1) as u64);
                if reader.seek(SeekFrom::Current(-14)).is_err() {
                    return Ok(None);
                }
            }
            b"data" => {
                // Without a format first, hound refuses the file as it is.
                let Some(frame) = frame_bytes else { return Ok(None) };
                let available = match size {
                    Some(size) => size.saturating_sub(at + 8),
                    None => u64::MAX,
                };
                let whole = available.min(u32::MAX as u64) / frame * frame;
                let stated = length as u64;
                let fits =
                    stated <= available && stated.is_multiple_of(frame) && (stated > 0 || available == 0);
                return Ok((!fits).then_some((at + 4, whole as u32)));
            }
            _ => {}
        }
        // As hound walks the chunks: no pad byte after an odd length.
        at += 8 + length as u64;
        if reader.seek(SeekFrom::Start(at)).is_err() {
            return Ok(None);
        }
    }
    Ok(None)
}

impl Read for Trimmed {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && !buf.is_empty() {
            self.ended.store(true, Ordering::Relaxed);
        }
        if let Some((at, bytes)) = self.patch {
            for (i, byte) in bytes.iter().enumerate() {
                let offset = at + i as u64;
                if (self.position..self.position + n as u64).contains(&offset) {
                    buf[(offset - self.position) as usize] = *byte;
                }
            }
        }
        self.position += n as u64;
        Ok(n)
    }
}

impl Seek for Trimmed {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        self.position = self.inner.seek(to)?;
        Ok(self.position)
    }
}
