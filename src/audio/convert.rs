//! Matching a model's channel count and sample rate, as the reference's `convert_audio` does:
//! channels first (mono: the mean; stereo from mono: a copy), then resampling.

use audioadapter_buffers::direct::SequentialSliceOfVecs;
use rubato::{Fft, FixedSync, Indexing, Resampler};

use crate::pcm::Audio;
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
    let fail = |e: &dyn std::fmt::Display| resampling(e);
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

/// [`convert`] a chunk at a time: the chunks' outputs, put together, are what [`convert`] gives
/// for the whole signal, bit for bit. Resampling runs the same FFT resampler on the same
/// blocks of input as its whole-clip call (`process_all`), holding back the input that does not
/// yet fill a block, so that memory stays flat for any length.
pub struct StreamingConverter {
    channels: usize,
    from: u32,
    resampler: Option<ChunkResampler>,
}

struct ChunkResampler {
    fft: Fft<f32>,
    to: u32,
    /// Remixed input not yet resampled, per channel.
    pending: Vec<Vec<f32>>,
    /// Input frames seen, and output frames produced (before the delay is dropped) and given.
    input_len: usize,
    produced: usize,
    given: usize,
}

impl StreamingConverter {
    /// A converter from `from` Hz to `channels` channels at `to` Hz (of input with
    /// `in_channels` channels).
    pub fn new(from: u32, in_channels: usize, to: u32, channels: usize) -> Result<Self> {
        remix(&vec![Vec::new(); in_channels], channels)?; // the channel counts must fit
        let resampler = match from == to {
            true => None,
            false => Some(ChunkResampler {
                fft: Fft::<f32>::new(from as usize, to as usize, 1024, channels, FixedSync::Input)
                    .map_err(|e| resampling(&e))?,
                to,
                pending: vec![Vec::new(); channels],
                input_len: 0,
                produced: 0,
                given: 0,
            }),
        };
        Ok(Self { channels, from, resampler })
    }

    /// The next chunk of input (at the rate given to [`StreamingConverter::new`]); returns the
    /// output that is now final.
    pub fn push(&mut self, audio: &Audio) -> Result<Vec<Vec<f32>>> {
        if audio.sample_rate != self.from {
            return Err(Error::Audio {
                path: "<input>".into(),
                reason: "the sample rate changes mid-stream".into(),
            });
        }
        let remixed = remix(&audio.channels, self.channels)?;
        let Some(r) = self.resampler.as_mut() else { return Ok(remixed) };
        r.input_len += remixed[0].len();
        r.pending.iter_mut().zip(remixed).for_each(|(p, c)| p.extend(c));
        let mut out = vec![Vec::new(); self.channels];
        // As `process_all`: whole blocks while more input than a block is left.
        while r.pending[0].len() > r.fft.input_frames_next() {
            let used = r.process(None, &mut out)?;
            r.pending.iter_mut().for_each(|p| {
                p.drain(..used);
            });
        }
        Ok(out)
    }

    /// Ends the input: the rest of the output.
    pub fn finish(mut self) -> Result<Vec<Vec<f32>>> {
        let Some(mut r) = self.resampler.take() else { return Ok(vec![Vec::new(); self.channels]) };
        let mut out = vec![Vec::new(); self.channels];
        let earlier = r.given; // frames returned by `push`
        if !r.pending[0].is_empty() {
            let partial = r.pending[0].len();
            r.process(Some(partial), &mut out)?;
            r.pending.iter_mut().for_each(Vec::clear);
        }
        // Then zeros, until the delay is dropped and the expected length is out.
        let expected = (r.fft.resample_ratio() * r.input_len as f64).ceil() as usize;
        while r.produced < expected + r.fft.output_delay() {
            r.process(Some(0), &mut out)?;
        }
        // torchaudio's exact length, ceil(len * to / from) (see `resample`), zeros after the
        // expected output if that is shorter.
        let out_len = (r.input_len as u64 * r.to as u64).div_ceil(self.from as u64) as usize;
        let keep = out_len.min(expected).saturating_sub(earlier);
        let total = out_len.saturating_sub(earlier);
        for channel in &mut out {
            channel.truncate(keep);
            channel.resize(total, 0.0);
        }
        Ok(out)
    }
}

impl ChunkResampler {
    /// Resamples one block of `pending` (only its first `partial` frames, zeros after, when
    /// given) and appends the output past the resampler's delay to `out`. Returns the input
    /// frames used.
    fn process(&mut self, partial: Option<usize>, out: &mut [Vec<f32>]) -> Result<usize> {
        let channels = self.pending.len();
        let input = SequentialSliceOfVecs::new(&self.pending, channels, self.pending[0].len())
            .map_err(|e| resampling(&e))?;
        let frames = self.fft.output_frames_max();
        let mut buffer = vec![vec![0f32; frames]; channels];
        let mut output =
            SequentialSliceOfVecs::new_mut(&mut buffer, channels, frames).map_err(|e| resampling(&e))?;
        let indexing =
            Indexing { input_offset: 0, output_offset: 0, active_channels_mask: None, partial_len: partial };
        let (used, made) =
            self.fft.process_into_buffer(&input, &mut output, Some(&indexing)).map_err(|e| resampling(&e))?;
        // Output frame i (counted over the whole stream) is given once i >= the delay.
        let skip = self.fft.output_delay().saturating_sub(self.produced).min(made);
        for (o, b) in out.iter_mut().zip(&buffer) {
            o.extend_from_slice(&b[skip..made]);
        }
        self.produced += made;
        self.given += made - skip;
        Ok(used)
    }
}

fn resampling(e: &dyn std::fmt::Display) -> Error {
    Error::Audio { path: "<input>".into(), reason: format!("resampling: {e}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converting_in_chunks_equals_converting_whole() {
        let signal = |len: usize, channels: usize| -> Vec<Vec<f32>> {
            (0..channels)
                .map(|c| (0..len).map(|i| ((i * 7 + c * 13) % 101) as f32 / 50.0 - 1.0).collect())
                .collect()
        };
        let mut state = 17u64;
        let mut next = |max: usize| {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) as usize % max
        };
        for (from, in_channels, to, channels) in
            [(44_100, 2, 24_000, 1), (16_000, 1, 24_000, 1), (22_050, 1, 48_000, 2), (24_000, 2, 24_000, 1)]
        {
            for len in [0, 1, 1023, 1024, 1025, 5_000, 30_001] {
                let whole = Audio { sample_rate: from, channels: signal(len, in_channels) };
                let expected = convert(&whole, to, channels).unwrap();
                let mut converter = StreamingConverter::new(from, in_channels, to, channels).unwrap();
                let mut got = vec![Vec::new(); channels];
                let mut at = 0;
                while at < len {
                    let n = (next(3_000) + if next(4) == 0 { 0 } else { 1 }).min(len - at);
                    let chunk = Audio {
                        sample_rate: from,
                        channels: whole.channels.iter().map(|c| c[at..at + n].to_vec()).collect(),
                    };
                    got.iter_mut().zip(converter.push(&chunk).unwrap()).for_each(|(g, c)| g.extend(c));
                    at += n;
                }
                got.iter_mut().zip(converter.finish().unwrap()).for_each(|(g, c)| g.extend(c));
                assert_eq!(got, expected, "{from} Hz x{in_channels} -> {to} Hz x{channels}, {len} samples");
            }
        }
    }
}
