//! EnCodec behind the [`Codec`] interface: `.ecdc` files, streamed both ways.

use std::io::Write;
use std::ops::Deref;
use std::sync::Arc;

use crate::audio::{Audio, StreamingConverter};
use crate::codec::{Codec, Decoded, Encoder, Input, PcmDecoder, PcmSpec, ReadSeek};
use crate::encodec::codes::Bandwidth;
use crate::encodec::ecdc::{EcdcDecoder, Header, Writer, DEFAULT_PREROLL_FRAMES};
use crate::encodec::models::Models;
use crate::{Format, Result};

/// EnCodec at one bandwidth, with its model from `models` (loaded on first use).
pub struct EncodecCodec<'m> {
    models: ModelsRef<'m>,
    bandwidth: Bandwidth,
    preroll_frames: usize,
}

/// Borrowed models, or shared ones: a player that outlives its caller's stack owns its codecs.
enum ModelsRef<'m> {
    Borrowed(&'m Models),
    Shared(Arc<Models>),
}

impl Deref for ModelsRef<'_> {
    type Target = Models;
    fn deref(&self) -> &Models {
        match self {
            Self::Borrowed(models) => models,
            Self::Shared(models) => models,
        }
    }
}

impl<'m> EncodecCodec<'m> {
    /// EnCodec at `bandwidth`, with the model to encode with (and those `.ecdc` files name)
    /// from `models`.
    pub fn new(models: &'m Models, bandwidth: Bandwidth) -> Self {
        Self { models: ModelsRef::Borrowed(models), bandwidth, preroll_frames: DEFAULT_PREROLL_FRAMES }
    }

    /// The same codec decoding `preroll_frames` frames before a seek's target to warm the
    /// decoder (default [`DEFAULT_PREROLL_FRAMES`]).
    pub fn preroll(self, preroll_frames: usize) -> Self {
        Self { preroll_frames, ..self }
    }
}

impl EncodecCodec<'static> {
    /// As [`EncodecCodec::new`], owning a share of `models`.
    pub fn shared(models: Arc<Models>, bandwidth: Bandwidth) -> Self {
        Self { models: ModelsRef::Shared(models), bandwidth, preroll_frames: DEFAULT_PREROLL_FRAMES }
    }
}

impl Codec for EncodecCodec<'_> {
    fn name(&self) -> &'static str {
        "ecdc"
    }

    fn format(&self) -> Option<Format> {
        Some(Format::Ecdc)
    }

    fn input(&self) -> Input {
        Input::Pcm
    }

    /// The model's rate: loads it, unless it is the published default.
    fn sample_rate(&self) -> Option<u32> {
        self.models.encoding_rate()
    }

    fn bitrates_kbps(&self) -> Vec<f32> {
        Bandwidth::ALL.iter().map(|b| b.kbps()).collect()
    }

    fn bitrate_kbps(&self) -> Option<f32> {
        Some(self.bandwidth.kbps())
    }

    fn encoder<'a>(&'a self, pcm: PcmSpec, out: &'a mut dyn Write) -> Result<Box<dyn Encoder + 'a>> {
        let model = self.models.for_encoding()?;
        let converter =
            StreamingConverter::new(pcm.sample_rate, pcm.channels, model.sample_rate(), model.channels())?;
        let writer = Writer::new(model, self.bandwidth, out)?;
        Ok(Box::new(EcdcEncoder { sample_rate: pcm.sample_rate, converter, writer }))
    }

    fn decoder<'a>(&'a self, mut input: Box<dyn ReadSeek>) -> Result<Decoded<'a>> {
        let header = Header::read(&mut input)?;
        let model = self.models.for_file(&header)?;
        let decoder = EcdcDecoder::new(model, input, &header, 0..header.audio_len, self.preroll_frames)?;
        let (sample_rate, channels, hop) =
            (model.sample_rate(), model.channels(), model.config().hop_length());
        Ok(Decoded::Pcm(Box::new(EcdcPcm { decoder, sample_rate, channels, hop })))
    }
}

/// Source PCM, converted to the model's rate and channels, into an `.ecdc` writer.
struct EcdcEncoder<'a> {
    sample_rate: u32,
    converter: StreamingConverter,
    writer: Writer<'a, &'a mut dyn Write>,
}

impl Encoder for EcdcEncoder<'_> {
    fn push_pcm(&mut self, pcm: &[Vec<f32>]) -> Result<()> {
        let audio = Audio { sample_rate: self.sample_rate, channels: pcm.to_vec() };
        self.writer.push(&self.converter.push(&audio)?)
    }

    fn finish(mut self: Box<Self>) -> Result<()> {
        self.writer.push(&self.converter.finish()?)?;
        self.writer.finish()?;
        Ok(())
    }
}

/// An `.ecdc` file's PCM, a chunk of frames at a time.
struct EcdcPcm<'a> {
    decoder: EcdcDecoder<'a, Box<dyn ReadSeek>>,
    sample_rate: u32,
    channels: usize,
    /// Samples per code frame.
    hop: usize,
}

impl PcmDecoder for EcdcPcm<'_> {
    fn sample_rate(&self) -> u32 {
        self.sample_rate
    }
    fn channels(&self) -> usize {
        self.channels
    }
    fn len_hint(&self) -> Option<usize> {
        Some(self.decoder.len())
    }
    fn next_chunk(&mut self, frames: usize) -> Result<Option<Vec<Vec<f32>>>> {
        // About `frames` samples: whole code frames.
        self.decoder.next_chunk(frames.div_ceil(self.hop).max(1))
    }
    /// Through the codes: those before the pre-roll are skipped, not decoded.
    fn seek(&mut self, frame: usize) -> Result<bool> {
        self.decoder.seek(frame)?;
        Ok(true)
    }
}
