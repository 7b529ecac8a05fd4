//! Streaming encode and decode: audio in, codes out (and back) a chunk at a time, in memory
//! that does not grow with the signal, each output final when returned and identical to the
//! batch [`Encodec::encode`] / [`Encodec::decode`] of the whole signal.
//!
//! The 24 kHz (causal) model streams frame by frame: every layer keeps its state between
//! chunks ([`crate::nn::streaming`]). The 48 kHz model normalises and decodes whole segments
//! (1 s, overlapping by 1 %), so it streams a segment at a time, overlap-adding as batch does.

use crate::encodec::codes::{Bandwidth, CodeChunk, CodeSegment, SeekPoint};
use crate::encodec::model::Encodec;
use crate::encodec::overlap::OverlapAdd;
use crate::nn::streaming::{StackStream, StreamingModule};
use crate::pcm::{deinterleave, interleave};
use crate::{Error, Result};

/// Encodes audio pushed a chunk at a time. Made by [`Encodec::stream_encoder`].
pub struct StreamingEncoder<'m> {
    model: &'m Encodec,
    bandwidth: Bandwidth,
    num_codebooks: usize,
    audio_len: usize,
    mode: EncoderMode<'m>,
}

enum EncoderMode<'m> {
    /// Frame by frame through the encoder's layers.
    Frames(StackStream<'m>),
    /// Whole segments: the samples from `offset` on, per channel, and the next segment.
    Segments { pending: Vec<Vec<f32>>, offset: usize, next: usize },
}

impl<'m> StreamingEncoder<'m> {
    fn new(model: &'m Encodec, bandwidth: Bandwidth) -> Result<Self> {
        let num_codebooks = bandwidth.num_codebooks(model.config())?;
        let mode = match model.config().segment_length() {
            Some(_) => {
                EncoderMode::Segments { pending: vec![Vec::new(); model.channels()], offset: 0, next: 0 }
            }
            None if model.config().normalize => {
                return Err(Error::Config("a model that normalises the whole signal cannot stream".into()))
            }
            None => EncoderMode::Frames(StackStream::new(model.parts().0)?),
        };
        Ok(Self { model, bandwidth, num_codebooks, audio_len: 0, mode })
    }

    /// Takes the next samples (`[channels][samples]`, any length, even 0) and returns the codes
    /// of every frame (for the 48 kHz model, every segment) they complete.
    pub fn push(&mut self, pcm: &[impl AsRef<[f32]> + Sync]) -> Result<Vec<CodeChunk>> {
        let len = self.model.check_pcm_chunk(pcm)?;
        self.audio_len += len;
        match &mut self.mode {
            EncoderMode::Frames(_) => self.frames(&interleave(pcm), false),
            EncoderMode::Segments { pending, .. } => {
                pending.iter_mut().zip(pcm).for_each(|(p, c)| p.extend_from_slice(c.as_ref()));
                self.segments(false)
            }
        }
    }

    /// Ends the audio: the codes of the frames (segments) left. Returns them and the number of
    /// samples per channel pushed in all (what `.ecdc` files call the audio length).
    pub fn finish(mut self) -> Result<(Vec<CodeChunk>, usize)> {
        if self.audio_len == 0 {
            return Err(Error::EmptyAudio);
        }
        let chunks = match self.mode {
            EncoderMode::Frames(_) => self.frames(&[], true)?,
            EncoderMode::Segments { .. } => self.segments(true)?,
        };
        Ok((chunks, self.audio_len))
    }

    /// Samples pushed so far, per channel.
    pub fn audio_len(&self) -> usize {
        self.audio_len
    }

    fn frames(&mut self, rows: &[f32], last: bool) -> Result<Vec<CodeChunk>> {
        let EncoderMode::Frames(stack) = &mut self.mode else { unreachable!("frame mode") };
        let model = self.model;
        let embeddings = model.install(|| stack.step(rows, last));
        let hidden = model.config().hidden_size;
        let frames = embeddings.len() / hidden;
        if frames == 0 {
            return Ok(Vec::new());
        }
        let embeddings =
            candle_core::Tensor::from_vec(embeddings, (frames, hidden), &candle_core::Device::Cpu)?;
        let codes = model.install(|| model.parts().1.encode(&embeddings, self.num_codebooks))?;
        Ok(vec![CodeChunk { segment: 0, scale: None, codes }])
    }

    fn segments(&mut self, last: bool) -> Result<Vec<CodeChunk>> {
        let EncoderMode::Segments { pending, offset, next } = &mut self.mode else {
            unreachable!("segment mode")
        };
        let config = self.model.config();
        let (length, stride) = (config.segment_length().unwrap_or(1), config.segment_stride().unwrap_or(1));
        let mut chunks = Vec::new();
        // A segment is encoded (by the batch path, alone) once it is whole, or at the end if
        // it starts before the end.
        while pending[0].len() >= length || last && *offset < self.audio_len {
            let take = pending[0].len().min(length);
            let segment: Vec<&[f32]> = pending.iter().map(|c| &c[..take]).collect();
            let mut encoded = self.model.encode(&segment, self.bandwidth)?;
            let CodeSegment { codes, scale } = encoded.segments.remove(0);
            chunks.push(CodeChunk { segment: *next, scale, codes });
            *next += 1;
            *offset += stride;
            let used = stride.min(pending[0].len());
            pending.iter_mut().for_each(|c| {
                c.drain(..used);
            });
        }
        Ok(chunks)
    }
}

/// Decodes codes pushed a chunk at a time. Made by [`Encodec::stream_decoder`].
pub struct StreamingDecoder<'m> {
    model: &'m Encodec,
    /// Samples per channel to give in all (the rest of the last frame is trimmed), if known.
    audio_len: Option<usize>,
    emitted: usize,
    num_codebooks: Option<usize>,
    mode: DecoderMode<'m>,
}

enum DecoderMode<'m> {
    /// Frame by frame through the decoder's layers.
    Frames(StackStream<'m>),
    /// Whole segments, overlap-added.
    Segments(SegmentStream),
}

/// The 48 kHz model's segments, decoded as they complete and overlap-added as the reference
/// does: the segment being gathered, and the weighted sums later segments still add to.
struct SegmentStream {
    /// The segment whose frames are arriving, and its index.
    current: Option<(usize, CodeSegment)>,
    /// Decoded segments so far.
    done: usize,
    overlap: OverlapAdd,
}

impl<'m> StreamingDecoder<'m> {
    fn new(model: &'m Encodec, audio_len: Option<usize>, start: SeekPoint) -> Result<Self> {
        let config = model.config();
        let mode = match config.segment_length() {
            Some(length) => DecoderMode::Segments(SegmentStream {
                current: None,
                done: start.segment,
                // Every segment is weighted by the first one's triangle; a later start knows
                // that the first segment was whole.
                overlap: OverlapAdd::new(
                    config.segment_stride().unwrap_or(1),
                    model.channels(),
                    start.sample,
                    (start.segment > 0).then(|| length.div_ceil(config.hop_length()) * config.hop_length()),
                ),
            }),
            None => DecoderMode::Frames(StackStream::new(model.parts().2)?),
        };
        Ok(Self { model, audio_len, emitted: start.sample, num_codebooks: None, mode })
    }

    /// Takes the next codes and returns the PCM (`[channels][samples]`) that is now final.
    /// Chunks come in order; a segment's frames may be split over several chunks.
    pub fn push(&mut self, chunk: &CodeChunk) -> Result<Vec<Vec<f32>>> {
        self.check(chunk)?;
        let model = self.model;
        let pcm = match &mut self.mode {
            DecoderMode::Frames(stack) => {
                let embeddings = model.parts().1.decode(&chunk.codes)?.flatten_all()?.to_vec1::<f32>()?;
                let rows = model.install(|| stack.step(&embeddings, false));
                deinterleave(&rows, model.channels())
            }
            DecoderMode::Segments(overlap) => {
                let mut pcm = vec![Vec::new(); model.channels()];
                match &mut overlap.current {
                    Some((index, segment)) if *index == chunk.segment => {
                        segment.codes.iter_mut().zip(&chunk.codes).for_each(|(a, b)| a.extend_from_slice(b));
                    }
                    _ => {
                        if let Some(done) = overlap.flush(model)? {
                            pcm = done;
                        }
                        overlap.current = Some((
                            chunk.segment,
                            CodeSegment { codes: chunk.codes.clone(), scale: chunk.scale },
                        ));
                    }
                }
                let config = model.config();
                let full = config.segment_length().unwrap_or(0).div_ceil(config.hop_length());
                if overlap.current.as_ref().is_some_and(|(_, s)| s.num_frames() >= full) {
                    let more = overlap.flush(model)?.unwrap_or_default();
                    pcm.iter_mut().zip(more).for_each(|(a, b)| a.extend(b));
                }
                pcm
            }
        };
        Ok(self.trim(pcm))
    }

    /// Ends the codes: the PCM left, up to the audio length.
    pub fn finish(mut self) -> Result<Vec<Vec<f32>>> {
        let model = self.model;
        let pcm = match &mut self.mode {
            DecoderMode::Frames(stack) => {
                deinterleave(&model.install(|| stack.step(&[], true)), model.channels())
            }
            DecoderMode::Segments(overlap) => {
                let mut pcm = overlap.flush(model)?.unwrap_or_else(|| vec![Vec::new(); model.channels()]);
                let rest = overlap.overlap.finish();
                pcm.iter_mut().zip(rest).for_each(|(a, b)| a.extend(b));
                pcm
            }
        };
        let pcm = self.trim(pcm);
        if let Some(len) = self.audio_len.filter(|&len| self.emitted < len) {
            return Err(Error::InvalidCodes(format!(
                "audio length {len} but the codes decode to {} samples",
                self.emitted
            )));
        }
        Ok(pcm)
    }

    /// Samples per channel given so far, counted from the start of the audio (so a decoder
    /// made at a [`SeekPoint`] starts at its `sample`).
    pub fn emitted(&self) -> usize {
        self.emitted
    }

    fn check(&mut self, chunk: &CodeChunk) -> Result<()> {
        let invalid = |msg: String| Err(Error::InvalidCodes(msg));
        let k = *self.num_codebooks.get_or_insert(chunk.codes.len());
        chunk.check(self.model.config(), k)?;
        match &self.mode {
            DecoderMode::Frames(_) if chunk.segment != 0 => invalid("this model has a single segment".into()),
            DecoderMode::Segments(o) => {
                // The segment being gathered (with its scale), or the next one.
                let in_order = match &o.current {
                    Some((i, s)) => *i == chunk.segment && s.scale == chunk.scale || *i + 1 == chunk.segment,
                    None => chunk.segment == o.done,
                };
                if !in_order {
                    return invalid(format!("segment {} out of order", chunk.segment));
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// `pcm` cut at the audio length.
    fn trim(&mut self, mut pcm: Vec<Vec<f32>>) -> Vec<Vec<f32>> {
        let len = pcm.first().map_or(0, Vec::len);
        let keep = self.audio_len.map_or(len, |total| len.min(total.saturating_sub(self.emitted)));
        pcm.iter_mut().for_each(|c| c.truncate(keep));
        self.emitted += keep;
        pcm
    }
}

impl SegmentStream {
    /// Decodes the current segment and adds it in; returns the samples no later segment
    /// reaches.
    fn flush(&mut self, model: &Encodec) -> Result<Option<Vec<Vec<f32>>>> {
        let Some((index, segment)) = self.current.take() else { return Ok(None) };
        let decoded = model.install(|| model.decode_segments(std::slice::from_ref(&segment)))?.remove(0);
        self.done = index + 1;
        Ok(Some(self.overlap.add(index, &decoded)))
    }
}

impl Encodec {
    /// A streaming encoder at `bandwidth`: push PCM, get codes for every completed frame.
    pub fn stream_encoder(&self, bandwidth: Bandwidth) -> Result<StreamingEncoder<'_>> {
        StreamingEncoder::new(self, bandwidth)
    }

    /// A streaming decoder; `audio_len` (samples per channel, as `.ecdc` files record it):
    /// the output is trimmed to it, as batch decoding trims.
    pub fn stream_decoder(&self, audio_len: Option<usize>) -> Result<StreamingDecoder<'_>> {
        StreamingDecoder::new(self, audio_len, SeekPoint { segment: 0, frame: 0, sample: 0 })
    }

    /// Where to start decoding so that the output is right from sample `from` on (per
    /// channel) without decoding from the start. A segmenting model (48 kHz) starts at the
    /// segment holding `from`, or the one before when `from` is in their overlap: its output
    /// from `from` on equals the full decode exactly. A model that streams frame by frame
    /// (24 kHz) starts `preroll_frames` frames before `from`'s frame, from a fresh state: the
    /// pre-roll brings the layers' state close to the full decode's, not exactly to it
    /// (`preroll_frames` large enough to reach the start is exact).
    pub fn seek_point(&self, from: usize, preroll_frames: usize) -> SeekPoint {
        let config = self.config();
        let hop = config.hop_length();
        match (config.segment_length(), config.segment_stride()) {
            (Some(length), Some(stride)) => {
                let segment = from / stride;
                // Sample `from` is also in the previous segment while within its overlap.
                let segment = if segment > 0 && from - segment * stride < length.saturating_sub(stride) {
                    segment - 1
                } else {
                    segment
                };
                SeekPoint { segment, frame: 0, sample: segment * stride }
            }
            _ => {
                let frame = (from / hop).saturating_sub(preroll_frames);
                SeekPoint { segment: 0, frame, sample: frame * hop }
            }
        }
    }

    /// A streaming decoder that starts at `start` (see [`Encodec::seek_point`]): push the
    /// codes from `start`'s frame on; the output starts at sample `start.sample`.
    pub fn stream_decoder_at(
        &self,
        audio_len: Option<usize>,
        start: SeekPoint,
    ) -> Result<StreamingDecoder<'_>> {
        if start.frame > 0 && self.config().segment_length().is_some() {
            return Err(Error::InvalidCodes(
                "a segmenting model starts decoding at a segment's start".into(),
            ));
        }
        StreamingDecoder::new(self, audio_len, start)
    }
}
