//! PCM in memory ([`Audio`]), and the checks on it the model and the audio reader share.

use crate::{Error, Result};

/// The first NaN or infinite sample, as an error naming its channel and index.
pub(crate) fn check_finite(channels: &[impl AsRef<[f32]>]) -> Result<()> {
    for (channel, samples) in channels.iter().enumerate() {
        let samples = samples.as_ref();
        if let Some(index) = samples.iter().position(|s| !s.is_finite()) {
            return Err(Error::NonFiniteSample { channel, index, value: samples[index] });
        }
    }
    Ok(())
}

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
