//! Matching a model's channel count and sample rate, as the reference's `convert_audio` does:
//! channels first (mono: the mean; stereo from mono: a copy), then resampling.

use audioadapter_buffers::direct::SequentialSliceOfVecs;
use rubato::{Fft, FixedSync, Resampler};

use super::Audio;
use crate::{Error, Result};

/// `audio` as `[channels][samples]` at `sample_rate`.
pub fn convert(audio: &Audio, sample_rate: u32, channels: usize) -> Result<Vec<Vec<f32>>> {
    let remixed = remix(&audio.channels, channels)?;
    if audio.sample_rate == sample_rate || audio.is_empty() {
        return Ok(remixed);
    }
    resample(&remixed, audio.sample_rate, sample_rate)
}

fn remix(input: &[Vec<f32>], channels: usize) -> Result<Vec<Vec<f32>>> {
    let len = input.first().map_or(0, Vec::len);
    match (input.len(), channels) {
        (n, m) if n == m => Ok(input.to_vec()),
        (n, 1) => Ok(vec![(0..len).map(|i| input.iter().map(|c| c[i]).sum::<f32>() / n as f32).collect()]),
        (1, m) => Ok(vec![input[0].clone(); m]),
        (n, m) => Err(Error::ChannelCount { expected: m, actual: n }),
    }
}

fn resample(input: &[Vec<f32>], from: u32, to: u32) -> Result<Vec<Vec<f32>>> {
    let fail = |e: &dyn std::fmt::Display| Error::Audio {
        path: "<input>".into(),
        reason: format!("resampling: {e}"),
    };
    let (channels, len) = (input.len(), input[0].len());
    let mut resampler = Fft::<f32>::new(from as usize, to as usize, 1024, channels, FixedSync::Input)
        .map_err(|e| fail(&e))?;
    let adapter = SequentialSliceOfVecs::new(input, channels, len).map_err(|e| fail(&e))?;
    let output = resampler.process_all(&adapter, len, None).map_err(|e| fail(&e))?;
    let frames = output.take_data();
    // torchaudio's exact length, ceil(len * to / from); rubato's float ratio can overshoot by one.
    let out_len = (len as u64 * to as u64).div_ceil(from as u64) as usize;
    let available = frames.len() / channels;
    Ok((0..channels)
        .map(|c| (0..out_len).map(|i| if i < available { frames[i * channels + c] } else { 0.0 }).collect())
        .collect())
}
