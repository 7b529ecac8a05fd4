//! The output arguments of `decode` and `decompress`: a WAV file, written atomically, or stdout.

use std::path::PathBuf;

use encodec::audio::WavFormat;

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

    /// Writes the WAV file ([`crate::output::write_wav`]): `frames` frames of `channels`
    /// channels at `rate`, the samples chunks from `next`.
    pub fn write(
        &self,
        layout: (usize, u32, u64),
        next: impl FnMut() -> encodec::Result<Option<Vec<Vec<f32>>>>,
    ) -> encodec::Result<()> {
        let format = if self.float { WavFormat::Float32 } else { WavFormat::Pcm16 };
        crate::output::write_wav(&self.output, format, layout, next)
    }
}
