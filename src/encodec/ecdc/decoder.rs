//! Decodes an `.ecdc` payload, or a time range of it, a chunk at a time: the seekable
//! payload reader and the streaming decoder put together.

use std::io::{Read, Seek};
use std::ops::Range;

use super::error::EcdcError;
use super::header::Header;
use super::payload::PayloadReader;
use crate::encodec::model::Encodec;
use crate::encodec::stream::StreamingDecoder;
use crate::Result;

/// Frames decoded before the first wanted sample when a seek lands mid-stream on a model that
/// streams frame by frame (24 kHz): 1 s. Measured against a full decode (`encodec bench
/// --preroll-study`, README "Seeking"), the seeked audio's worst SNR is 49 dB after 8 frames
/// of pre-roll, 77 dB after 16, and 120 dB (float rounding) from 38 frames on.
pub const DEFAULT_PREROLL_FRAMES: usize = 75;

/// Decodes the samples `range` of an `.ecdc` payload, chunk by chunk, reading only the codes
/// it needs: it seeks to the first, less a short pre-roll that warms the decoder (see
/// [`Encodec::seek_point`]), and stops after the last.
pub struct EcdcDecoder<'m, R: Read> {
    model: &'m Encodec,
    payload: PayloadReader<R>,
    /// `None` once the range is decoded.
    decoder: Option<StreamingDecoder<'m>>,
    range: Range<usize>,
    audio_len: usize,
    preroll_frames: usize,
    /// The sample the next decoded output starts at.
    position: usize,
    /// Samples per frame.
    hop: usize,
}

impl<'m, R: Read + Seek> EcdcDecoder<'m, R> {
    /// A decoder of samples `range` (per channel, clamped to the audio length) of the payload
    /// that follows `header` in `reader`; `preroll_frames` as [`Encodec::seek_point`] takes.
    pub fn new(
        model: &'m Encodec,
        reader: R,
        header: &Header,
        range: Range<usize>,
        preroll_frames: usize,
    ) -> Result<Self> {
        let payload = PayloadReader::seekable(reader, header, model.config())?;
        let range = range.start..range.end.min(header.audio_len);
        if range.start >= range.end {
            return Err(EcdcError::Seek(format!(
                "samples {}..{} are not inside the audio's {} samples",
                range.start, range.end, header.audio_len
            ))
            .into());
        }
        let mut decoder = Self {
            model,
            payload,
            decoder: None,
            range: 0..0,
            audio_len: header.audio_len,
            preroll_frames,
            position: 0,
            hop: model.config().hop_length(),
        };
        decoder.start_at(range)?;
        Ok(decoder)
    }

    /// Moves to sample `sample` (clamped to the range's end), keeping the range's end: the
    /// codes are read from the seek point of [`Encodec::seek_point`] on, and samples from
    /// `sample` on are given.
    pub fn seek(&mut self, sample: usize) -> Result<()> {
        let end = self.range.end;
        if sample >= end {
            self.range = end..end;
            self.decoder = None;
            return Ok(());
        }
        self.start_at(sample..end)
    }

    fn start_at(&mut self, range: Range<usize>) -> Result<()> {
        let point = self.model.seek_point(range.start, self.preroll_frames);
        self.payload.seek(&point)?;
        self.decoder = Some(self.model.stream_decoder_at(Some(self.audio_len), point)?);
        self.position = point.sample;
        self.range = range;
        Ok(())
    }
}

impl<R: Read> EcdcDecoder<'_, R> {
    /// Samples per channel the decoder gives in all (from the start of its range, or of the
    /// last seek, to the range's end).
    pub fn len(&self) -> usize {
        self.range.len()
    }

    /// Whether there is nothing to give (after a seek to the range's end).
    pub fn is_empty(&self) -> bool {
        self.range.is_empty()
    }

    /// The next PCM (`[channels][samples]`) of the range, decoded from at most `max_frames`
    /// frames of codes; `None` after the last.
    pub fn next_chunk(&mut self, max_frames: usize) -> Result<Option<Vec<Vec<f32>>>> {
        // The range runs to the end of the audio: the file's end is checked (trailing bytes,
        // length), as a full decode checks it.
        let to_end = self.range.end == self.audio_len;
        loop {
            let Some(decoder) = self.decoder.as_mut() else { return Ok(None) };
            // No more frames than the range still needs (the output keeps up with the frames
            // on a model that streams frame by frame; a segmenting one reads on).
            let needed = (self.range.end.saturating_sub(self.position)).div_ceil(self.hop).max(1);
            let pcm = match self.payload.next_chunk(max_frames.min(needed))? {
                Some(chunk) => decoder.push(&chunk)?,
                None => {
                    if to_end {
                        self.payload.finish()?;
                    }
                    self.decoder.take().expect("checked above").finish()?
                }
            };
            let first = self.position;
            self.position += pcm.first().map_or(0, Vec::len);
            // Past the range's end, which is not the file's: stop here.
            if !to_end && self.position >= self.range.end {
                self.decoder = None;
            }
            let (from, to) = (first.max(self.range.start), self.position.min(self.range.end));
            if from < to {
                let wanted = pcm.into_iter().map(|c| c[from - first..to - first].to_vec()).collect();
                return Ok(Some(wanted));
            }
        }
    }
}
