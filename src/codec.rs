//! The one interface every codec implements ([`Codec`]), what a file is ([`Format`], told by
//! its magic bytes), and opening any file this crate reads as a stream of PCM.
//!
//! A codec is a streaming encoder (PCM, or for the lossless ones the original file's bytes,
//! in; its file out) and a streaming decoder (its file in; PCM, or the bytes it wraps, out).
//! EnCodec, AAC, gzip and "stored" implement it; the cache levels are lists of codecs
//! ([`crate::levels`]). A new codec is one module implementing [`Codec`] and one line where
//! the levels name their chains.

use std::io::{Read, Seek, Write};

use serde::Serialize;

use crate::audio::{self, AudioChunks};
use crate::{Error, Result};

pub use crate::io::ReadSeek;

/// What a codec's encoder takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input {
    /// Decoded PCM, `[channels][samples]` at the source's own rate and channels (the codec
    /// converts to what it codes).
    Pcm,
    /// The original file's bytes, as they are (lossless codecs).
    Bytes,
}

/// The PCM a source gives: what an encoder is told when it opens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PcmSpec {
    /// Samples per second.
    pub sample_rate: u32,
    /// Channels.
    pub channels: usize,
}

/// An audio codec (or a lossless wrapper) as the cache levels and the command line use it:
/// what it is (name, format, rates), and a streaming encoder and decoder.
pub trait Codec: Send + Sync {
    /// The short name cache metadata and statistics use: `ecdc` (EnCodec), `aac`, `gzip`,
    /// `stored`.
    fn name(&self) -> &'static str;

    /// The format of the files it writes, told by their magic bytes (`None`: the original
    /// file's own format, for "stored").
    fn format(&self) -> Option<Format>;

    /// Whether its decoder reads files in `format` (by default, the format it writes).
    fn decodes(&self, format: Format) -> bool {
        self.format() == Some(format)
    }

    /// What its encoder takes.
    fn input(&self) -> Input;

    /// The sample rate it codes at, if fixed (EnCodec 24 or 48 kHz; AAC follows the source;
    /// a lossless codec keeps the file's).
    fn sample_rate(&self) -> Option<u32> {
        None
    }

    /// The bitrates it can code at, in kbps, lowest first (empty for a lossless codec).
    fn bitrates_kbps(&self) -> Vec<f32> {
        Vec::new()
    }

    /// The bitrate this instance codes at, in kbps (`None` for a lossless codec).
    fn bitrate_kbps(&self) -> Option<f32> {
        None
    }

    /// Whether a file already in `format`, at `kbps` on average, is kept as it is rather than
    /// coded again: another generation of lossy coding would only lose quality.
    fn keeps(&self, format: Format, _kbps: f64) -> bool {
        self.format() == Some(format)
    }

    /// A streaming encoder writing this codec's file to `out`, for a source of PCM `pcm`.
    fn encoder<'a>(&'a self, pcm: PcmSpec, out: &'a mut dyn Write) -> Result<Box<dyn Encoder + 'a>>;

    /// A streaming decoder of one of this codec's files.
    fn decoder<'a>(&'a self, input: Box<dyn ReadSeek>) -> Result<Decoded<'a>>;
}

/// A codec's encoder: push what [`Codec::input`] says, then finish.
pub trait Encoder {
    /// Takes the next PCM (`[channels][samples]`, the source's rate and channels).
    fn push_pcm(&mut self, _pcm: &[Vec<f32>]) -> Result<()> {
        Err(Error::WrongInput { expected: "the original file's bytes" })
    }

    /// Takes the next bytes of the original file.
    fn push_bytes(&mut self, _bytes: &[u8]) -> Result<()> {
        Err(Error::WrongInput { expected: "PCM" })
    }

    /// Ends the input and completes the file.
    fn finish(self: Box<Self>) -> Result<()>;
}

/// What a codec's decoder gives.
pub enum Decoded<'a> {
    /// PCM, a chunk at a time.
    Pcm(Box<dyn PcmDecoder + 'a>),
    /// The file it wrapped (gzip's original), to be opened in turn.
    Bytes(Vec<u8>),
}

/// A stream of decoded PCM.
pub trait PcmDecoder: Send {
    /// Samples per second.
    fn sample_rate(&self) -> u32;
    /// Channels.
    fn channels(&self) -> usize;
    /// Samples per channel in all, if the file says.
    fn len_hint(&self) -> Option<usize>;
    /// The next PCM (`[channels][samples]`, about `frames` samples per channel), or `None`
    /// after the last.
    fn next_chunk(&mut self, frames: usize) -> Result<Option<Vec<Vec<f32>>>>;
    /// Whether the stream ended before its header said, or inside a frame: known once
    /// [`PcmDecoder::next_chunk`] has returned `None`.
    fn truncated(&self) -> bool {
        false
    }
    /// Moves to sample `frame` (per channel; at or past the end: nothing more to read), when
    /// the decoder can get there faster than by decoding what comes before: `Ok(false)` when
    /// it cannot, and the caller reopens the file and skips.
    fn seek(&mut self, _frame: usize) -> Result<bool> {
        Ok(false)
    }
}

impl PcmDecoder for AudioChunks {
    fn sample_rate(&self) -> u32 {
        AudioChunks::sample_rate(self)
    }
    fn channels(&self) -> usize {
        AudioChunks::channels(self)
    }
    fn len_hint(&self) -> Option<usize> {
        AudioChunks::len_hint(self)
    }
    fn next_chunk(&mut self, frames: usize) -> Result<Option<Vec<Vec<f32>>>> {
        Ok(AudioChunks::next_chunk(self, frames)?.map(|audio| audio.channels))
    }
    fn truncated(&self) -> bool {
        AudioChunks::truncated(self)
    }
}

/// What a file is, told by its first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// `ECDC`.
    Ecdc,
    /// A framed Lyra file (`LYRA`).
    Lyra,
    /// Google's raw `.lyra` packet stream: no magic bytes, so never the result of
    /// [`Format::of`]; known by the `.lyra` extension or the caller.
    LyraRaw,
    /// An MP4 / M4A file (`ftyp` at byte 4).
    Mp4,
    /// An ADTS AAC stream (`.aac`).
    Adts,
    /// gzip (`1f 8b`), such as `.mp3z`.
    Gzip,
    /// RIFF WAVE.
    Wav,
    /// FLAC (`fLaC`).
    Flac,
    /// Ogg Opus (`OggS`, the first packet `OpusHead`).
    Opus,
    /// Other Ogg (`OggS`): Vorbis, FLAC.
    Ogg,
    /// MPEG audio (an ID3 tag or a frame sync).
    Mp3,
    /// None of these.
    Unknown,
}

impl Format {
    /// How many first bytes [`Format::of`] needs: Ogg Opus is told from other Ogg by its
    /// first packet, after a page header of up to 282 bytes.
    pub const SNIFF_BYTES: usize = 300;

    /// Identifies `bytes` (a file's first [`Format::SNIFF_BYTES`] bytes, or all of a shorter
    /// file) by their magic bytes.
    pub fn of(bytes: &[u8]) -> Self {
        match bytes {
            [b'E', b'C', b'D', b'C', ..] => Self::Ecdc,
            [b'L', b'Y', b'R', b'A', ..] => Self::Lyra,
            [_, _, _, _, b'f', b't', b'y', b'p', ..] => Self::Mp4,
            [0x1f, 0x8b, ..] => Self::Gzip,
            [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'A', b'V', b'E', ..] => Self::Wav,
            [b'f', b'L', b'a', b'C', ..] => Self::Flac,
            _ if crate::opus::head::is_ogg_opus(bytes) => Self::Opus,
            [b'O', b'g', b'g', b'S', ..] => Self::Ogg,
            _ if is_adts(bytes) => Self::Adts,
            [b'I', b'D', b'3', ..] => Self::Mp3,
            [0xFF, b, ..] if b & 0xE0 == 0xE0 => Self::Mp3,
            _ => Self::Unknown,
        }
    }

    /// The file extension that says this format (`cache migrate --rename`), if one does:
    /// gzip says nothing of what it wraps (a cache's `.mp3z` keeps its name).
    pub fn extension(self) -> Option<&'static str> {
        match self {
            Self::Ecdc => Some("ecdc"),
            Self::Lyra | Self::LyraRaw => Some("lyra"),
            Self::Mp4 => Some("m4a"),
            Self::Adts => Some("aac"),
            Self::Wav => Some("wav"),
            Self::Flac => Some("flac"),
            Self::Opus => Some("opus"),
            Self::Ogg => Some("ogg"),
            Self::Mp3 => Some("mp3"),
            Self::Gzip | Self::Unknown => None,
        }
    }

    /// The format of what `reader` holds, read from its first bytes; the reader is left at
    /// its start.
    pub fn sniff(reader: &mut (impl Read + Seek + ?Sized)) -> std::io::Result<Self> {
        let start = reader.stream_position()?;
        let mut head = Vec::with_capacity(Self::SNIFF_BYTES);
        reader.take(Self::SNIFF_BYTES as u64).read_to_end(&mut head)?;
        reader.seek(std::io::SeekFrom::Start(start))?;
        Ok(Self::of(&head))
    }
}

/// Whether `bytes` start with an ADTS frame header (the sync word and layer 0).
pub(crate) fn is_adts(bytes: &[u8]) -> bool {
    bytes.len() >= 7 && bytes[0] == 0xFF && bytes[1] & 0xF6 == 0xF0
}

/// How many wrappers (gzip) [`open`] looks through: a gzip inside a gzip is refused.
const MAX_DEPTH: usize = 1;

/// Opens any file this crate reads as a stream of PCM: the first of `codecs` whose format
/// the magic bytes name decodes it (through a wrapper such as gzip once), and a file no codec
/// claims is read as ordinary audio (WAV, MP3, FLAC, Ogg, M4A).
pub fn open<'a>(
    codecs: &'a [Box<dyn Codec + 'a>],
    input: Box<dyn ReadSeek>,
) -> Result<Box<dyn PcmDecoder + 'a>> {
    open_as(codecs, input, None)
}

/// As [`open`], reading a file whose first bytes name no format as `unknown_as` when given
/// (Google's raw `.lyra` packets have no magic bytes: [`Format::LyraRaw`]).
pub fn open_as<'a>(
    codecs: &'a [Box<dyn Codec + 'a>],
    input: Box<dyn ReadSeek>,
    unknown_as: Option<Format>,
) -> Result<Box<dyn PcmDecoder + 'a>> {
    open_at(codecs, input, unknown_as, 0)
}

fn open_at<'a>(
    codecs: &'a [Box<dyn Codec + 'a>],
    mut input: Box<dyn ReadSeek>,
    unknown_as: Option<Format>,
    depth: usize,
) -> Result<Box<dyn PcmDecoder + 'a>> {
    let io = |source| Error::Io { path: "<input>".into(), source };
    let format = match Format::sniff(&mut input).map_err(io)? {
        Format::Unknown => unknown_as.unwrap_or(Format::Unknown),
        format => format,
    };
    match codecs.iter().find(|c| c.decodes(format)) {
        Some(codec) => match codec.decoder(input)? {
            Decoded::Pcm(decoder) => Ok(decoder),
            Decoded::Bytes(_) if depth >= MAX_DEPTH => {
                Err(Error::Nested { outer: codec.name(), limit: MAX_DEPTH })
            }
            Decoded::Bytes(inner) => open_at(codecs, Box::new(std::io::Cursor::new(inner)), None, depth + 1),
        },
        None => Ok(Box::new(audio::AudioChunks::from_reader(input, None)?)),
    }
}

/// Decodes the whole of a stream into `[channels][samples]`.
pub fn read_all(decoder: &mut dyn PcmDecoder) -> Result<Vec<Vec<f32>>> {
    let mut pcm = vec![Vec::new(); decoder.channels()];
    while let Some(chunk) = decoder.next_chunk(CHUNK_FRAMES)? {
        pcm.iter_mut().zip(chunk).for_each(|(a, b)| a.extend(b));
    }
    Ok(pcm)
}

/// Streams `pcm` through `codec`'s encoder into `out`, a chunk at a time: any length in
/// flat memory. The codec must take PCM ([`Input::Pcm`]).
pub fn encode_pcm(codec: &dyn Codec, pcm: &mut dyn PcmDecoder, out: &mut dyn Write) -> Result<()> {
    let spec = PcmSpec { sample_rate: pcm.sample_rate(), channels: pcm.channels() };
    let mut encoder = codec.encoder(spec, out)?;
    while let Some(chunk) = pcm.next_chunk(CHUNK_FRAMES)? {
        encoder.push_pcm(&chunk)?;
    }
    encoder.finish()
}

/// Samples per channel a pipeline moves at a time: about 2 s of speech, small buffers.
pub(crate) const CHUNK_FRAMES: usize = 48_000;
