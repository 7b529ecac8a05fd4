//! Writing PCM as WAV.

use std::io::{Cursor, Seek, Write};
use std::path::Path;

use crate::{Error, Result};

/// How samples are stored in a WAV file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum WavFormat {
    /// 16-bit signed integers: [`sample_to_i16`].
    #[default]
    Pcm16,
    /// 32-bit IEEE float, as decoded.
    Float32,
}

/// A float sample as a 16-bit integer the way FFmpeg converts (and so torchaudio >= 2.9, which
/// Meta's `encodec` command saves with): times 32768, rounded half to even, saturated. The
/// inverse of reading (`i / 32768`), so that 16-bit audio read and written again is unchanged.
pub fn sample_to_i16(x: f32) -> i16 {
    // `as` saturates (and takes NaN to 0).
    (x * 32768.0).round_ties_even() as i16
}

/// A WAV file written as its samples come, its length known from the start (as an `.ecdc`
/// header gives it), so that it can go to a pipe, which cannot seek back to patch sizes.
/// Written by hand on top of hound's header: hound's writer needs `Seek`. The bytes are the
/// ones hound writes for the whole file.
pub struct WavStream<W: Write> {
    writer: W,
    format: WavFormat,
    channels: usize,
    /// Frames still to come.
    remaining: u64,
}

impl<W: Write> WavStream<W> {
    /// Writes the header of a WAV file of `frames` frames of `channels` channels.
    pub fn new(
        mut writer: W,
        channels: usize,
        sample_rate: u32,
        format: WavFormat,
        frames: u64,
    ) -> Result<Self> {
        let bad = |reason: String| Error::Audio { path: "<output>".into(), reason };
        let (bits, sample_format) = match format {
            WavFormat::Pcm16 => (16, hound::SampleFormat::Int),
            WavFormat::Float32 => (32, hound::SampleFormat::Float),
        };
        let spec =
            hound::WavSpec { channels: channels as u16, sample_rate, bits_per_sample: bits, sample_format };
        // hound's header for an empty file, then its two sizes set for the real length.
        let mut header = Cursor::new(Vec::new());
        hound::WavWriter::new(&mut header, spec)
            .and_then(|w| w.finalize())
            .map_err(|e| bad(e.to_string()))?;
        let mut header = header.into_inner();
        let data_bytes = frames * channels as u64 * (bits / 8) as u64;
        let riff = u32::try_from(header.len() as u64 - 8 + data_bytes)
            .map_err(|_| bad(format!("{frames} frames are too long for a WAV file (4 GB)")))?;
        let data_at = header.len() - 4;
        header[4..8].copy_from_slice(&riff.to_le_bytes());
        header[data_at..].copy_from_slice(&(data_bytes as u32).to_le_bytes());
        writer.write_all(&header).map_err(|e| bad(e.to_string()))?;
        Ok(Self { writer, format, channels, remaining: frames })
    }

    /// Appends `[channels][samples]`.
    ///
    /// # Errors
    /// Writing fails, or more frames come than the header announced.
    pub fn write(&mut self, pcm: &[Vec<f32>]) -> std::io::Result<()> {
        let frames = pcm.first().map_or(0, Vec::len);
        if frames as u64 > self.remaining || pcm.len() != self.channels {
            return Err(std::io::Error::other("more samples than the WAV header announced"));
        }
        self.remaining -= frames as u64;
        let mut bytes = Vec::with_capacity(frames * self.channels * 4);
        for i in 0..frames {
            for channel in pcm {
                match self.format {
                    WavFormat::Pcm16 => {
                        bytes.extend_from_slice(&sample_to_i16(channel[i]).to_le_bytes());
                    }
                    WavFormat::Float32 => bytes.extend_from_slice(&channel[i].to_le_bytes()),
                }
            }
        }
        self.writer.write_all(&bytes)
    }

    /// Flushes what was written so far (so a reader at the other end of a pipe gets it now).
    pub fn flush(&mut self) -> std::io::Result<()> {
        self.writer.flush()
    }

    /// Checks that every announced frame came; flushes; returns the writer.
    pub fn finish(mut self) -> std::io::Result<W> {
        if self.remaining != 0 {
            return Err(std::io::Error::other(format!("{} frames short of the WAV header", self.remaining)));
        }
        self.writer.flush()?;
        Ok(self.writer)
    }
}

/// Encodes `[channels][samples]` as WAV into `writer`.
fn encode<W: Write + Seek>(
    writer: W,
    pcm: &[Vec<f32>],
    sample_rate: u32,
    format: WavFormat,
) -> hound::Result<()> {
    let (bits, sample_format) = match format {
        WavFormat::Pcm16 => (16, hound::SampleFormat::Int),
        WavFormat::Float32 => (32, hound::SampleFormat::Float),
    };
    let spec =
        hound::WavSpec { channels: pcm.len() as u16, sample_rate, bits_per_sample: bits, sample_format };
    let mut wav = hound::WavWriter::new(writer, spec)?;
    for i in 0..pcm.first().map_or(0, Vec::len) {
        for channel in pcm {
            match format {
                WavFormat::Pcm16 => wav.write_sample(sample_to_i16(channel[i]))?,
                WavFormat::Float32 => wav.write_sample(channel[i])?,
            }
        }
    }
    wav.finalize()
}

/// The bytes of a WAV file holding `pcm`.
pub fn wav_bytes(pcm: &[Vec<f32>], sample_rate: u32, format: WavFormat) -> Result<Vec<u8>> {
    let mut cursor = Cursor::new(Vec::new());
    encode(&mut cursor, pcm, sample_rate, format)
        .map_err(|e| Error::Audio { path: "<output>".into(), reason: e.to_string() })?;
    Ok(cursor.into_inner())
}

/// Writes `pcm` as a WAV file at `path`, atomically.
pub fn write_wav(path: &Path, pcm: &[Vec<f32>], sample_rate: u32, format: WavFormat) -> Result<()> {
    crate::atomic::write(path, |file| {
        encode(file, pcm, sample_rate, format)
            .map_err(|e| Error::Audio { path: path.to_owned(), reason: e.to_string() })
    })
}
