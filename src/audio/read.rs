//! Decoding audio files into f32 PCM.

use std::fs::File;
use std::io::{BufReader, Cursor, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use symphonia::core::codecs::audio::{AudioDecoder, AudioDecoderOptions};
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, TrackType};
use symphonia::core::io::{MediaSource, MediaSourceStream};
use symphonia::core::meta::MetadataOptions;

use super::riff;
use crate::io::ReadSeek;
use crate::pcm::Audio;
use crate::{Error, Result};

/// The sample rates accepted, in Hz: telephone speech to studio masters.
pub const SAMPLE_RATES: std::ops::RangeInclusive<u32> = 4_000..=384_000;

/// Reads and decodes an audio file: WAV (8/16/24/32-bit integer, 32-bit float) with hound,
/// anything else symphonia recognises (MP3, AAC/M4A, FLAC, Ogg Vorbis) with symphonia.
pub fn read(path: impl AsRef<Path>) -> Result<Audio> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|source| Error::Io { path: path.to_owned(), source })?;
    let hint = path.extension().and_then(|e| e.to_str());
    read_bytes(&bytes, hint).map_err(at(path))
}

/// Names `path` in an audio error raised where the path was not known.
fn at(path: &Path) -> impl Fn(Error) -> Error + '_ {
    move |e| match e {
        Error::Audio { reason, .. } => Error::Audio { path: path.to_owned(), reason },
        other => other,
    }
}

/// Decodes an audio file held in memory, as far as it is valid (see [`AudioChunks`]);
/// `extension` (like `"mp3"`) helps format detection.
pub fn read_bytes(bytes: &[u8], extension: Option<&str>) -> Result<Audio> {
    let mut chunks = AudioChunks::from_reader(Box::new(Cursor::new(bytes.to_vec())), extension)?;
    let mut channels = vec![Vec::new(); chunks.channels()];
    while let Some(chunk) = chunks.next_chunk(1 << 20)? {
        channels.iter_mut().zip(chunk.channels).for_each(|(all, more)| all.extend(more));
    }
    Ok(Audio { sample_rate: chunks.sample_rate(), channels })
}

fn bad(reason: String) -> Error {
    Error::Audio { path: "<input>".into(), reason }
}

fn deinterleave(interleaved: &[f32], channels: usize, sample_rate: u32) -> Audio {
    Audio { sample_rate, channels: crate::pcm::deinterleave(interleaved, channels.max(1)) }
}

/// The default audio track of a file symphonia reads, decoded a packet at a time.
struct Track {
    format: Box<dyn FormatReader>,
    decoder: Box<dyn AudioDecoder>,
    track_id: u32,
    /// Sample rate and channels, from the first decoded packet.
    spec: Option<(u32, usize)>,
    buffer: Vec<f32>,
    /// Whether the stream ended inside a packet (a file cut short).
    truncated: bool,
}

impl Track {
    fn open(source: Box<dyn MediaSource>, extension: Option<&str>) -> Result<Self> {
        let source = MediaSourceStream::new(source, Default::default());
        let mut hint = Hint::new();
        if let Some(extension) = extension {
            hint.with_extension(extension);
        }
        let format = symphonia::default::get_probe()
            .probe(&hint, source, FormatOptions::default(), MetadataOptions::default())
            .map_err(symphonia_error)?;
        let track = format.default_track(TrackType::Audio).ok_or_else(|| bad("no audio track".into()))?;
        let params = track
            .codec_params
            .as_ref()
            .and_then(|p| p.audio())
            .ok_or_else(|| bad("no audio codec".into()))?;
        let decoder = symphonia::default::get_codecs()
            .make_audio_decoder(params, &AudioDecoderOptions::default())
            .map_err(symphonia_error)?;
        let track_id = track.id;
        Ok(Self { format, decoder, track_id, spec: None, buffer: Vec::new(), truncated: false })
    }

    /// The next packet's samples, interleaved; `None` at the end of the track.
    fn next_packet(&mut self) -> Result<Option<&[f32]>> {
        loop {
            let packet = match self.format.next_packet() {
                Ok(Some(packet)) => packet,
                Ok(None) => return Ok(None),
                // Cut short: what came before the cut is the audio, as players and ffmpeg read it.
                Err(SymphoniaError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    self.truncated = true;
                    return Ok(None);
                }
                Err(e) => return Err(symphonia_error(e)),
            };
            if packet.track_id != self.track_id {
                continue;
            }
            match self.decoder.decode(&packet) {
                Ok(decoded) => {
                    let this = (decoded.spec().rate(), decoded.spec().channels().count());
                    if *self.spec.get_or_insert(this) != this {
                        return Err(bad("the stream changes sample rate or channel count".into()));
                    }
                    self.buffer.resize(decoded.samples_interleaved(), 0f32);
                    decoded.copy_to_slice_interleaved(&mut self.buffer);
                    return Ok(Some(&self.buffer));
                }
                // A corrupt packet is skipped, as players do; the rest of the stream still decodes.
                Err(SymphoniaError::DecodeError(_)) => {}
                Err(e) => return Err(symphonia_error(e)),
            }
        }
    }
}

fn symphonia_error(e: SymphoniaError) -> Error {
    bad(format!("cannot decode: {e}"))
}

/// A source symphonia can read: a seekable reader, or a stream told to be one (`false`).
struct Source(BufReader<Box<dyn ReadSeek>>, bool);

impl Read for Source {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf)
    }
}

impl Seek for Source {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        self.0.seek(pos)
    }
}

impl MediaSource for Source {
    fn is_seekable(&self) -> bool {
        self.1
    }
    fn byte_len(&self) -> Option<u64> {
        None
    }
}

/// An audio file of any format [`read`] takes, read a chunk at a time so that a long input
/// never sits in memory whole: WAV through hound, the rest through symphonia a packet at a time.
pub struct AudioChunks {
    source: ChunkSource,
    path: PathBuf,
}

enum ChunkSource {
    Wav(WavChunks),
    /// A decoded track, and the decoded samples (interleaved) not yet given.
    Track {
        track: Track,
        pending: Vec<f32>,
        ended: bool,
    },
}

impl AudioChunks {
    /// Opens `path` and reads as far as its sample rate and channel count.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|source| Error::Io { path: path.to_owned(), source })?;
        let extension = path.extension().and_then(|e| e.to_str());
        let mut chunks = Self::from_reader(Box::new(file), extension).map_err(at(path))?;
        chunks.path = path.to_owned();
        if let ChunkSource::Wav(wav) = &mut chunks.source {
            wav.path = path.to_owned();
        }
        Ok(chunks)
    }

    /// Reads audio from `reader` (a file or a buffer), as far as its sample rate and channel
    /// count; `extension` (like `"mp3"`) helps format detection.
    pub fn from_reader(reader: Box<dyn ReadSeek>, extension: Option<&str>) -> Result<Self> {
        Self::from_source(reader, extension, true)
    }

    /// Reads audio from a stream that cannot seek (standard input, a pipe), in any format that
    /// can be read front to back (WAV, MP3, ADTS AAC, FLAC, Ogg; not an MP4 whose index comes
    /// last); `extension` helps format detection.
    pub fn from_stream(reader: impl Read + Send + Sync + 'static, extension: Option<&str>) -> Result<Self> {
        Self::from_source(Box::new(crate::io::Unseekable::new(reader)), extension, false)
    }

    fn from_source(mut reader: Box<dyn ReadSeek>, extension: Option<&str>, seekable: bool) -> Result<Self> {
        let path = PathBuf::from("<input>");
        let io = |source| Error::Io { path: PathBuf::from("<input>"), source };
        let start = reader.stream_position().map_err(io)?;
        let mut head = [0u8; 12];
        let n = reader.read(&mut head).map_err(io)?;
        reader.seek(SeekFrom::Start(start)).map_err(io)?;
        let reader = match n == 12 && &head[..4] == b"RIFF" && &head[8..] == b"WAVE" {
            true => {
                let (trimmed, found) = riff::Trimmed::new(reader, start).map_err(io)?;
                match WavChunks::from_reader(BufReader::new(Box::new(trimmed)), start, found, &path)? {
                    Ok(wav) => return Ok(Self { source: ChunkSource::Wav(wav), path }),
                    Err(reader) => reader,
                }
            }
            false => BufReader::new(reader),
        };
        let mut track = Track::open(Box::new(Source(reader, seekable)), extension)?;
        let pending = track.next_packet()?.unwrap_or_default().to_vec();
        let Some((rate, channels)) = track.spec else {
            return Err(bad("no audio could be decoded".into()));
        };
        if channels == 0 || !SAMPLE_RATES.contains(&rate) {
            return Err(bad(format!(
                "{channels} channels at {rate} Hz: needs a channel and a sample rate of {}-{} Hz",
                SAMPLE_RATES.start(),
                SAMPLE_RATES.end()
            )));
        }
        Ok(Self { source: ChunkSource::Track { track, pending, ended: false }, path })
    }

    /// Whether the input ended before its header said, or inside a frame or packet: it is
    /// read as far as it is valid. Known once [`AudioChunks::next_chunk`] has returned `None`.
    pub fn truncated(&self) -> bool {
        match &self.source {
            ChunkSource::Wav(wav) => wav.found.patched || wav.cut,
            ChunkSource::Track { track, .. } => track.truncated,
        }
    }

    /// Samples per channel in all, where the file says so exactly: a whole WAV file's data
    /// length; `None` for the compressed formats, whose headers count
    /// frames before the decoder's delay and padding are trimmed, if they count them at all.
    pub fn len_hint(&self) -> Option<usize> {
        match &self.source {
            // A header whose lengths had to be mended (a file cut short) says nothing sure.
            ChunkSource::Wav(wav) if wav.found.patched => None,
            ChunkSource::Wav(wav) => Some(wav.reader.duration() as usize),
            ChunkSource::Track { .. } => None,
        }
    }

    /// Samples per second.
    pub fn sample_rate(&self) -> u32 {
        match &self.source {
            ChunkSource::Wav(wav) => wav.sample_rate(),
            ChunkSource::Track { track, .. } => track.spec.map_or(0, |s| s.0),
        }
    }

    /// Channels.
    pub fn channels(&self) -> usize {
        match &self.source {
            ChunkSource::Wav(wav) => wav.channels(),
            ChunkSource::Track { track, .. } => track.spec.map_or(0, |s| s.1),
        }
    }

    /// The next `frames` frames (fewer at the end) as [`Audio`], or `None` at the end.
    pub fn next_chunk(&mut self, frames: usize) -> Result<Option<Audio>> {
        let (rate, channels) = (self.sample_rate(), self.channels());
        let (track, pending, ended) = match &mut self.source {
            ChunkSource::Wav(wav) => return wav.next_chunk(frames),
            ChunkSource::Track { track, pending, ended } => (track, pending, ended),
        };
        let wanted = frames.max(1) * channels;
        while pending.len() < wanted && !*ended {
            match track.next_packet().map_err(at(&self.path))? {
                Some(samples) => pending.extend_from_slice(samples),
                None => *ended = true,
            }
        }
        if pending.is_empty() {
            return Ok(None);
        }
        let take = wanted.min(pending.len());
        let audio = deinterleave(&pending[..take], channels, rate);
        pending.drain(..take);
        crate::pcm::check_finite(&audio.channels)?;
        Ok(Some(audio))
    }
}

/// A WAV file read a chunk of frames at a time (hound over a buffered reader), so that a long
/// input never sits in memory whole.
struct WavChunks {
    reader: hound::WavReader<BufReader<Box<dyn ReadSeek>>>,
    path: PathBuf,
    /// What was found of the data chunk's length.
    found: riff::Found,
    /// Whether the input ended inside the data (a stream of unknown length).
    cut: bool,
}

impl WavChunks {
    /// `reader` (at `start`) as a WAV file hound reads (integer or 32-bit float samples at
    /// an accepted rate); else the reader back at `start`, for symphonia to try.
    #[allow(clippy::type_complexity)]
    fn from_reader(
        mut reader: BufReader<Box<dyn ReadSeek>>,
        start: u64,
        found: riff::Found,
        path: &Path,
    ) -> Result<std::result::Result<Self, BufReader<Box<dyn ReadSeek>>>> {
        let io = |source| Error::Io { path: path.to_owned(), source };
        // Read the header through a borrow first: hound keeps the reader it fails on.
        let readable = hound::WavReader::new(&mut reader).ok().is_some_and(|wav| {
            let spec = wav.spec();
            let format = matches!(
                (spec.sample_format, spec.bits_per_sample),
                (hound::SampleFormat::Float, 32) | (hound::SampleFormat::Int, 1..=32)
            );
            format && spec.channels > 0 && SAMPLE_RATES.contains(&spec.sample_rate)
        });
        reader.seek(SeekFrom::Start(start)).map_err(io)?;
        if !readable {
            return Ok(Err(reader));
        }
        let wav = hound::WavReader::new(reader).map_err(|e| bad(format!("WAV: {e}")))?;
        Ok(Ok(Self { reader: wav, path: path.to_owned(), found, cut: false }))
    }

    /// Samples per second.
    pub fn sample_rate(&self) -> u32 {
        self.reader.spec().sample_rate
    }

    /// Channels.
    pub fn channels(&self) -> usize {
        self.reader.spec().channels as usize
    }

    /// The next `frames` frames (fewer at the end) as [`Audio`], or `None` at the end. A
    /// stream that ends inside the data ends at its last whole frame.
    pub fn next_chunk(&mut self, frames: usize) -> Result<Option<Audio>> {
        let spec = self.reader.spec();
        let count = frames * spec.channels as usize;
        let mut interleaved = Vec::with_capacity(count.min(1 << 20));
        let read = match spec.sample_format {
            hound::SampleFormat::Float => self.reader.samples::<f32>().take(count).try_for_each(|s| {
                interleaved.push(s?);
                Ok(())
            }),
            hound::SampleFormat::Int => {
                let full_scale = (1u64 << (spec.bits_per_sample - 1)) as f32;
                self.reader.samples::<i32>().take(count).try_for_each(|s| {
                    interleaved.push(s? as f32 / full_scale);
                    Ok(())
                })
            }
        };
        match read {
            Ok(()) => {}
            // hound says only "Failed to read enough bytes": the input's own end tells a cut
            // stream from a failing read.
            Err(hound::Error::IoError(_)) if self.found.ended.load(std::sync::atomic::Ordering::Relaxed) => {
                self.cut = true;
                interleaved.truncate(interleaved.len() / spec.channels as usize * spec.channels as usize);
            }
            Err(e) => return Err(Error::Audio { path: self.path.clone(), reason: format!("WAV: {e}") }),
        }
        if interleaved.is_empty() {
            return Ok(None);
        }
        let audio = deinterleave(&interleaved, spec.channels as usize, spec.sample_rate);
        crate::pcm::check_finite(&audio.channels)?;
        Ok(Some(audio))
    }
}
