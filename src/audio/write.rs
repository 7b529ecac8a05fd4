//! Writing PCM as WAV.

use std::io::{Cursor, Seek, Write};
use std::path::Path;

use crate::{Error, Result};

/// How samples are stored in a WAV file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum WavFormat {
    /// 16-bit signed integers, clamped to full scale (never wrapped).
    #[default]
    Pcm16,
    /// 32-bit IEEE float, as decoded.
    Float32,
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
                WavFormat::Pcm16 => {
                    wav.write_sample((channel[i].clamp(-1.0, 1.0) * 32767.0).round() as i16)?
                }
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
