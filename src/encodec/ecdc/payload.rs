//! The `.ecdc` payload: per segment an optional scale and the codes, bit-packed; written and
//! read a chunk at a time.

use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};

use super::bitpack::{BitPacker, BitUnpacker};
use super::error::{EcdcError, EcdcResult};
use super::header::{model_name, read_exact_or, Header};
use crate::encodec::codes::{CodeChunk, CodeSegment, Codes, SeekPoint};
use crate::encodec::config::EncodecConfig;
use crate::{Error, Result};

/// Frames of each segment for `audio_len` samples: `ceil(segment / hop)`. (The reference's
/// decoder computes `ceil(segment / rate * frame_rate)` in floats, which for some lengths,
/// such as 6720, asks for one frame more than its encoder wrote; this reads those files too.)
fn segment_frames(config: &EncodecConfig, audio_len: usize) -> impl Iterator<Item = usize> {
    let hop = config.hop_length();
    config.segments(audio_len).map(move |range| range.len().div_ceil(hop))
}

/// Writes `codes` as an `.ecdc` file for the model `config` describes.
pub fn write(writer: impl Write, codes: &Codes, config: &EncodecConfig) -> Result<()> {
    let model = model_name(config)?;
    let expected: Vec<usize> = segment_frames(config, codes.audio_len).collect();
    let actual: Vec<usize> = codes.segments.iter().map(CodeSegment::num_frames).collect();
    // The file says only the audio length: each segment must have exactly its frames.
    if expected != actual {
        return Err(Error::InvalidCodes(format!(
            "segments of {actual:?} frames do not fit {} samples ({expected:?} expected)",
            codes.audio_len
        )));
    }
    codes.check(config)?;
    let k = codes.num_codebooks();
    let header =
        Header { model: model.to_string(), audio_len: codes.audio_len, num_codebooks: k, use_lm: false };
    Ok(write_payload(BufWriter::new(writer), &header, codes, config.bits_per_codebook())?)
}

fn write_payload(writer: impl Write, header: &Header, codes: &Codes, bits: u32) -> EcdcResult<()> {
    let mut payload = PayloadWriter::new(writer, header, bits)?;
    for (index, segment) in codes.segments.iter().enumerate() {
        payload.push_codes(index, segment.scale, &segment.codes)?;
    }
    payload.finish()?;
    Ok(())
}

/// Writes a payload a chunk of codes at a time (frames interleaved by codebook, each segment
/// after its scale and padded to a whole byte).
pub(crate) struct PayloadWriter<W: Write> {
    packer: Option<BitPacker<W>>,
    bits: u32,
    segment: Option<usize>,
}

impl<W: Write> PayloadWriter<W> {
    /// Writes `header` to `writer`, then takes the payload's codes with [`PayloadWriter::push`].
    fn new(mut writer: W, header: &Header, bits: u32) -> EcdcResult<Self> {
        header.write(&mut writer)?;
        Ok(Self { packer: Some(BitPacker::new(writer, bits)), bits, segment: None })
    }

    /// A writer of bare payload bytes (no header), for a payload written before its length is
    /// known (see [`Writer`]).
    pub(crate) fn bare(writer: W, config: &EncodecConfig) -> Self {
        Self {
            packer: Some(BitPacker::new(writer, config.bits_per_codebook())),
            bits: config.bits_per_codebook(),
            segment: None,
        }
    }

    /// Appends the chunk's frames (a new segment starts with its scale).
    pub fn push(&mut self, chunk: &CodeChunk) -> EcdcResult<()> {
        self.push_codes(chunk.segment, chunk.scale, &chunk.codes)
    }

    /// [`PayloadWriter::push`] on borrowed codes (`codes[k][t]`) of segment `segment`.
    fn push_codes(&mut self, segment: usize, scale: Option<f32>, codes: &[Vec<u32>]) -> EcdcResult<()> {
        let mut packer = self.packer.take().expect("a writer until finished");
        if self.segment != Some(segment) {
            // Before the first segment there are no bits to pad: finishing writes nothing.
            let mut writer = packer.finish()?;
            if let Some(scale) = scale {
                writer.write_all(&scale.to_be_bytes())?;
            }
            packer = BitPacker::new(writer, self.bits);
            self.segment = Some(segment);
        }
        for t in 0..codes.first().map_or(0, Vec::len) {
            for codebook in codes {
                packer.push(codebook[t])?;
            }
        }
        self.packer = Some(packer);
        Ok(())
    }

    /// Pads the last segment and flushes; returns the writer.
    pub fn finish(mut self) -> EcdcResult<W> {
        let mut writer = self.packer.take().expect("a writer until finished").finish()?;
        writer.flush()?;
        Ok(writer)
    }
}

/// Reads the payload that follows `header` (from [`Header::read`]) for the model `config`
/// describes. Memory grows only with the bytes actually read, whatever the header claims.
pub fn read_payload(reader: impl Read, header: &Header, config: &EncodecConfig) -> Result<Codes> {
    let mut payload = PayloadReader::new(reader, header, config)?;
    let mut segments: Vec<CodeSegment> = Vec::new();
    while let Some(chunk) = payload.next_chunk(usize::MAX)? {
        if segments.len() == chunk.segment {
            segments.push(CodeSegment { codes: vec![Vec::new(); chunk.codes.len()], scale: chunk.scale });
        }
        let segment = &mut segments[chunk.segment];
        segment.codes.iter_mut().zip(chunk.codes).for_each(|(a, b)| a.extend(b));
    }
    payload.finish()?;
    Ok(Codes { audio_len: header.audio_len, segments })
}

/// Reads a payload from any `Read` a chunk of frames at a time, never holding more than the
/// chunk: the codes as a [`crate::StreamingDecoder`] takes them.
pub struct PayloadReader<R: Read> {
    reader: Option<BitUnpacker<BufReader<R>>>,
    bits: u32,
    normalize: bool,
    num_codebooks: usize,
    /// Samples of audio, the segments' length and stride (the whole audio for a model that
    /// does not segment), the hop; the segment being read.
    audio_len: usize,
    segment_len: usize,
    stride: usize,
    hop: usize,
    segment: usize,
    read_in_segment: usize,
    scale: Option<f32>,
    /// Where the payload starts in the reader, if it can seek.
    start: Option<u64>,
}

impl<R: Read + Seek> PayloadReader<R> {
    /// As [`PayloadReader::new`], for a reader that can also [`PayloadReader::seek`].
    pub fn seekable(mut reader: R, header: &Header, config: &EncodecConfig) -> Result<Self> {
        let start = reader.stream_position().map_err(EcdcError::Io)?;
        Ok(Self { start: Some(start), ..Self::new(reader, header, config)? })
    }

    /// Moves to frame `point.frame` of segment `point.segment` (see
    /// [`crate::Encodec::seek_point`]) without reading what comes before: frames are a fixed
    /// number of bits, so the offset is known.
    pub fn seek(&mut self, point: &SeekPoint) -> Result<()> {
        let Some(start) = self.start else {
            return Err(EcdcError::Seek("a reader made with PayloadReader::new cannot seek".into()).into());
        };
        let frame_bits = self.num_codebooks as u64 * self.bits as u64;
        let scale_bytes = if self.normalize { 4 } else { 0 };
        if self.segment_frames(point.segment).is_none_or(|frames| point.frame >= frames) {
            return Err(EcdcError::Seek(format!(
                "frame {} of segment {} is past the end of the audio",
                point.frame, point.segment
            ))
            .into());
        }
        // The segments before, each whole bytes.
        let mut offset = start;
        for segment in 0..point.segment {
            let frames = self.segment_frames(segment).unwrap_or(0) as u64;
            offset += scale_bytes + (frames * frame_bits).div_ceil(8);
        }
        let mut reader = self.reader.take().expect("a reader until the end").into_inner();
        reader.seek(SeekFrom::Start(offset)).map_err(EcdcError::Io)?;
        self.segment = point.segment;
        self.read_in_segment = 0;
        self.reader = Some(BitUnpacker::new(reader, self.bits));
        if point.frame > 0 {
            // Read the scale here, then jump within the segment.
            self.scale = self.read_scale(point.segment)?;
            let bits = point.frame as u64 * frame_bits;
            let mut reader = self.reader.take().expect("a reader").into_inner();
            reader.seek(SeekFrom::Start(offset + scale_bytes + bits / 8)).map_err(EcdcError::Io)?;
            let mut unpacker = BitUnpacker::new(reader, self.bits);
            unpacker
                .skip_bits((bits % 8) as u32)
                .map_err(|_| EcdcError::Truncated { segment: point.segment })?;
            self.reader = Some(unpacker);
            self.read_in_segment = point.frame;
        }
        Ok(())
    }
}

impl<R: Read> PayloadReader<R> {
    /// A reader of the payload following `header`, for the model `config` describes.
    pub fn new(reader: R, header: &Header, config: &EncodecConfig) -> Result<Self> {
        if model_name(config)? != header.model {
            return Err(EcdcError::ModelMismatch(format!(
                "the file is for {}, not this model",
                header.model
            ))
            .into());
        }
        let k = header.num_codebooks;
        if k == 0 || k > config.num_quantizers() {
            let max = config.num_quantizers();
            return Err(EcdcError::ModelMismatch(format!(
                "the file has {k} codebooks; the model has 1 to {max}"
            ))
            .into());
        }
        let bits = config.bits_per_codebook();
        Ok(Self {
            reader: Some(BitUnpacker::new(BufReader::new(reader), bits)),
            bits,
            normalize: config.normalize,
            num_codebooks: k,
            audio_len: header.audio_len,
            segment_len: config.segment_length().unwrap_or(header.audio_len.max(1)),
            stride: config.segment_stride().unwrap_or(header.audio_len.max(1)),
            hop: config.hop_length(),
            segment: 0,
            read_in_segment: 0,
            scale: None,
            start: None,
        })
    }

    /// Frames in segment `segment`, `None` past the last: ceil(its samples / hop).
    fn segment_frames(&self, segment: usize) -> Option<usize> {
        let start = segment.checked_mul(self.stride)?;
        (start < self.audio_len).then(|| (self.audio_len - start).min(self.segment_len).div_ceil(self.hop))
    }

    /// Reads segment `segment`'s scale (normalising models) from the current position.
    fn read_scale(&mut self, segment: usize) -> EcdcResult<Option<f32>> {
        if !self.normalize {
            return Ok(None);
        }
        let mut reader = self.reader.take().expect("a reader until the end").into_inner();
        let mut bytes = [0u8; 4];
        let read = read_exact_or(&mut reader, &mut bytes, EcdcError::Truncated { segment });
        self.reader = Some(BitUnpacker::new(reader, self.bits));
        read?;
        let value = f32::from_be_bytes(bytes);
        if !(value.is_finite() && value > 0.0) {
            return Err(EcdcError::BadScale { segment, value });
        }
        Ok(Some(value))
    }

    /// The next chunk of at most `max_frames` frames (never across segments), or `None` after
    /// the last.
    pub fn next_chunk(&mut self, max_frames: usize) -> Result<Option<CodeChunk>> {
        Ok(self.next_inner(max_frames)?)
    }

    fn next_inner(&mut self, max_frames: usize) -> EcdcResult<Option<CodeChunk>> {
        // Segment sizes are computed as the segments come, so an absurd audio length costs
        // nothing until bytes back it.
        let Some(total) = self.segment_frames(self.segment) else { return Ok(None) };
        let index = self.segment;
        if self.read_in_segment == 0 {
            self.scale = self.read_scale(index)?;
        }
        let mut unpacker = self.reader.take().expect("a reader until the end");
        let n = (total - self.read_in_segment).min(max_frames.max(1));
        // Capacity from what is plausible, not from what the header claims.
        let mut codes = vec![Vec::with_capacity(n.min(1 << 16)); self.num_codebooks];
        for _ in 0..n {
            for codebook in codes.iter_mut() {
                codebook.push(unpacker.pull()?.ok_or(EcdcError::Truncated { segment: index })?);
            }
        }
        self.read_in_segment += n;
        if self.read_in_segment == total {
            // The segment's last byte is padding: the next one starts on a fresh byte.
            unpacker = BitUnpacker::new(unpacker.into_inner(), self.bits);
            self.segment += 1;
            self.read_in_segment = 0;
        }
        self.reader = Some(unpacker);
        Ok(Some(CodeChunk { segment: index, scale: self.scale, codes }))
    }

    /// Checks that nothing follows the last segment.
    pub fn finish(&mut self) -> Result<()> {
        while self.next_inner(usize::MAX)?.is_some() {}
        let mut reader = self.reader.take().expect("a reader until the end").into_inner();
        let read = reader.read(&mut [0u8]).map_err(EcdcError::Io);
        // Kept: a seekable reader can still seek back.
        self.reader = Some(BitUnpacker::new(reader, self.bits));
        if read? != 0 {
            return Err(EcdcError::TrailingBytes.into());
        }
        Ok(())
    }
}

/// Reads a whole `.ecdc` file for the model `config` describes.
pub fn read(mut reader: impl Read, config: &EncodecConfig) -> Result<Codes> {
    let header = Header::read(&mut reader)?;
    read_payload(reader, &header, config)
}
