//! Where `decode` and `decompress` put audio: a WAV file, written atomically, or stdout.

use std::io::Write;
use std::path::PathBuf;

use encodec::audio::{WavFormat, WavStream};
use encodec::{AtomicFile, Error};

/// The output arguments `decode` and `decompress` share.
#[derive(clap::Args)]
pub struct WavOut {
    /// The WAV file to write, or `-` for stdout.
    output: PathBuf,
    /// Write 32-bit float samples instead of 16-bit integers.
    #[arg(long)]
    float: bool,
    /// Write even under a name whose extension says another format (like `.ecdc`).
    #[arg(long)]
    force: bool,
}

impl WavOut {
    /// Refuses an output named for another format (`out.mp3`) unless `--force`: call it before
    /// any work.
    pub fn check_name(&self) -> encodec::Result<()> {
        crate::choice::check_output_name(&self.output, "a WAV file", &["wav"], self.force)
    }

    /// Writes a WAV file of `frames` frames of `channels` channels at `rate`, the samples
    /// `[channels][samples]` chunks from `next`, each flushed, so that the first audio leaves
    /// at once. A file appears whole or not at all; a reader of stdout that goes away (`| head`)
    /// is no error.
    pub fn write(
        &self,
        (channels, rate, frames): (usize, u32, u64),
        next: impl FnMut() -> encodec::Result<Option<Vec<Vec<f32>>>>,
    ) -> encodec::Result<()> {
        let format = if self.float { WavFormat::Float32 } else { WavFormat::Pcm16 };
        if self.output.as_os_str() == "-" {
            let io = |source| Error::Io { path: "<stdout>".into(), source };
            let out = WavStream::new(std::io::stdout().lock(), channels, rate, format, frames)?;
            match fill(out, next, io) {
                Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                other => other.map(drop),
            }
        } else {
            let io = |source| Error::Io { path: self.output.clone(), source };
            let out = WavStream::new(AtomicFile::create(&self.output)?, channels, rate, format, frames)?;
            fill(out, next, io)?.commit()
        }
    }
}

fn fill<W: Write>(
    mut out: WavStream<W>,
    mut next: impl FnMut() -> encodec::Result<Option<Vec<Vec<f32>>>>,
    io: impl Fn(std::io::Error) -> Error,
) -> encodec::Result<W> {
    while let Some(pcm) = next()? {
        out.write(&pcm).and_then(|()| out.flush()).map_err(&io)?;
    }
    out.finish().map_err(io)
}
