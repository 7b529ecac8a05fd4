//! Audio in and out: decoding files (WAV with hound, MP3/AAC/M4A/FLAC/Ogg Vorbis with
//! symphonia), converting to a model's rate and channels (rubato), and writing WAV.

mod convert;
mod read;
mod write;

pub use convert::{convert, StreamingConverter};
pub use read::{read, read_bytes, AudioChunks, WavChunks, SAMPLE_RATES};
pub use write::{wav_bytes, write_wav, WavFormat, WavStream};

/// Decoded audio: `[channels][samples]` f32 at `sample_rate`.
#[derive(Clone, Debug, PartialEq)]
pub struct Audio {
    /// Samples per second.
    pub sample_rate: u32,
    /// One vector of samples per channel, all the same length.
    pub channels: Vec<Vec<f32>>,
}

impl Audio {
    /// Samples per channel.
    pub fn len(&self) -> usize {
        self.channels.first().map_or(0, Vec::len)
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Length in seconds.
    pub fn duration_s(&self) -> f64 {
        self.len() as f64 / self.sample_rate as f64
    }
}
