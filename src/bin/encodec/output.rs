//! Where the commands put what they write: a file that appears whole or not at all, or stdout
//! for `-`.

use std::io::Write;
use std::path::Path;

use encodec::audio::{WavFormat, WavStream};
use encodec::{AtomicFile, Error};

/// An output being written: a temporary file renamed into place by [`Output::commit`], or
/// standard output.
pub enum Output {
    File(AtomicFile),
    Stdout(std::io::Stdout),
}

impl Output {
    /// Starts writing `path`, or stdout for `-`.
    pub fn create(path: &Path) -> encodec::Result<Self> {
        match path.as_os_str() == "-" {
            true => Ok(Output::Stdout(std::io::stdout())),
            false => AtomicFile::create(path).map(Output::File),
        }
    }

    /// Puts the file in place, or flushes stdout.
    pub fn commit(self) -> encodec::Result<()> {
        match self {
            Output::File(file) => file.commit(),
            Output::Stdout(mut out) => {
                out.flush().map_err(|source| Error::Io { path: "<stdout>".into(), source })
            }
        }
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Output::File(file) => file.write(buf),
            Output::Stdout(out) => out.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Output::File(file) => file.flush(),
            Output::Stdout(out) => out.flush(),
        }
    }
}

/// Writes a WAV file of `frames` frames of `channels` channels at `rate` to `path` (`-`:
/// stdout), the samples `[channels][samples]` chunks from `next`, each flushed, so that the
/// first audio leaves at once. A file appears whole or not at all; a reader of stdout that
/// goes away (`| head`) is no error.
pub fn write_wav(
    path: &Path,
    format: WavFormat,
    (channels, rate, frames): (usize, u32, u64),
    mut next: impl FnMut() -> encodec::Result<Option<Vec<Vec<f32>>>>,
) -> encodec::Result<()> {
    let output = Output::create(path)?;
    let to_stdout = matches!(output, Output::Stdout(_));
    let io = |source| Error::Io { path: if to_stdout { "<stdout>".into() } else { path.to_owned() }, source };
    let mut out = WavStream::new(output, channels, rate, format, frames)?;
    let filled = (|| {
        while let Some(pcm) = next()? {
            out.write(&pcm).and_then(|()| out.flush()).map_err(io)?;
        }
        Ok(())
    })();
    match filled.and_then(|()| out.finish().map_err(io)) {
        Ok(output) => output.commit(),
        Err(Error::Io { source, .. }) if to_stdout && source.kind() == std::io::ErrorKind::BrokenPipe => {
            Ok(())
        }
        Err(e) => Err(e),
    }
}
