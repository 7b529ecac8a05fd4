//! Checks on PCM shared by the model and the audio reader.

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
