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

/// Time-major (interleaved) samples `[samples × channels]` from `[channels][samples]`.
pub fn interleave(pcm: &[impl AsRef<[f32]>]) -> Vec<f32> {
    let len = pcm.first().map_or(0, |c| c.as_ref().len());
    (0..len).flat_map(|t| pcm.iter().map(move |c| c.as_ref()[t])).collect()
}

/// `[channels][samples]` from time-major (interleaved) samples.
pub fn deinterleave(rows: &[f32], channels: usize) -> Vec<Vec<f32>> {
    (0..channels).map(|c| rows.iter().skip(c).step_by(channels).copied().collect()).collect()
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
