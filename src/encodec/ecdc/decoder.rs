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
    payload: Option<PayloadReader<R>>,
    decoder: Option<StreamingDecoder<'m>>,
    range: Range<usize>,
    /// The sample the next decoded output starts at.
    position: usize,
    /// Samples per frame.
    hop: usize,
    /// The range runs to the end of the audio: the file's end is checked (trailing bytes,
    /// length), as a full decode checks it.
    to_end: bool,
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
        let mut payload = PayloadReader::seekable(reader, header, model.config())?;
        let range = range.start..range.end.min(header.audio_len);
        if range.start >= range.end {
            return Err(EcdcError::Seek(format!(
                "samples {}..{} are not inside the audio's {} samples",
                range.start, range.end, header.audio_len
            ))
            .into());
        }
        let point = model.seek_point(range.start, preroll_frames);
        if point.sample > 0 {
            payload.seek(&point)?;
        }
        let decoder = model.stream_decoder_at(Some(header.audio_len), point)?;
        let to_end = range.end == header.audio_len;
        Ok(Self {
            payload: Some(payload),
            decoder: Some(decoder),
            position: point.sample,
            hop: model.config().hop_length(),
            range,
            to_end,
        })
    }
}

impl<R: Read> EcdcDecoder<'_, R> {
    /// Samples per channel the decoder gives in all.
    pub fn len(&self) -> usize {
        self.range.len()
    }

    /// Whether the range is empty (never: [`EcdcDecoder::new`] refuses empty ranges).
    pub fn is_empty(&self) -> bool {
        self.range.is_empty()
    }

    /// The next PCM (`[channels][samples]`) of the range, decoded from at most `max_frames`
    /// frames of codes; `None` after the last.
    pub fn next_chunk(&mut self, max_frames: usize) -> Result<Option<Vec<Vec<f32>>>> {
        loop {
            let (Some(payload), Some(decoder)) = (self.payload.as_mut(), self.decoder.as_mut()) else {
                return Ok(None);
            };
            // No more frames than the range still needs (the output keeps up with the frames
            // on a model that streams frame by frame; a segmenting one reads on).
            let needed = (self.range.end.saturating_sub(self.position)).div_ceil(self.hop).max(1);
            let pcm = match payload.next_chunk(max_frames.min(needed))? {
                Some(chunk) => decoder.push(&chunk)?,
                None => {
                    let payload = self.payload.take().expect("checked above");
                    if self.to_end {
                        payload.finish()?;
                    }
                    self.decoder.take().expect("checked above").finish()?
                }
            };
            let first = self.position;
            self.position += pcm.first().map_or(0, Vec::len);
            // Past the range's end, which is not the file's: stop here.
            if !self.to_end && self.position >= self.range.end {
                self.payload = None;
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
