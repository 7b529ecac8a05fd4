//! Compression levels for audio caches: Ultra (EnCodec `.ecdc`), Standard (AAC in `.m4a`),
//! Lossless (gzip) and Off, with a fallback chain, and one entry point that decodes any of them.
//!
//! ```no_run
//! use encodec::codecs::{decompress, Compressor, Level, Models};
//! # fn main() -> encodec::Result<()> {
//! let compressor = Compressor::new(Level::default(), Models::hub()); // Ultra, 6 kbps
//! let original = std::fs::read("speech.mp3").unwrap();
//! let packed = compressor.compress(&original)?; // falls back to AAC, gzip, stored
//! println!("{}", serde_json::to_string(&packed.metadata).unwrap());
//! let audio = decompress(&packed.bytes, compressor.models())?.audio; // whatever it became
//! # Ok(()) }
//! ```

pub mod aac;
pub mod gzip;
mod models;
mod stats;

use std::fmt;
use std::sync::Mutex;

use serde::Serialize;

pub use aac::{AacProfile, AacSettings};
pub use models::Models;
pub use stats::{CodecStats, Stats};

use crate::audio::{self, Audio};
use crate::ecdc::{self, Header};
use crate::{Bandwidth, Error, Result};

/// How hard to compress.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Level {
    /// EnCodec `.ecdc` at `bandwidth` (6 kbps by default; 1.5 and 3 for the most extreme).
    Ultra {
        /// The target bandwidth.
        bandwidth: Bandwidth,
    },
    /// AAC in an `.m4a` file (AAC-LC 64 kbps by default).
    Standard(AacSettings),
    /// gzip of the original bytes.
    Lossless,
    /// Stored as it is.
    Off,
}

impl Default for Level {
    /// Ultra at 6 kbps.
    fn default() -> Self {
        Self::Ultra { bandwidth: Bandwidth::Kbps6 }
    }
}

impl Level {
    /// The level's name: `ultra`, `standard`, `lossless` or `off`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Ultra { .. } => "ultra",
            Self::Standard(_) => "standard",
            Self::Lossless => "lossless",
            Self::Off => "off",
        }
    }

    /// What this level's own output holds.
    pub fn codec(self) -> Codec {
        match self {
            Self::Ultra { .. } => Codec::Ecdc,
            Self::Standard(_) => Codec::Aac,
            Self::Lossless => Codec::Gzip,
            Self::Off => Codec::Stored,
        }
    }

    /// Whether a file in `format` is already what this level writes.
    pub fn writes(self, format: Format) -> bool {
        match self {
            Self::Ultra { .. } => format == Format::Ecdc,
            Self::Standard(_) => matches!(format, Format::Mp4 | Format::Adts),
            Self::Lossless => format == Format::Gzip,
            Self::Off => true,
        }
    }

    /// This level, then the ones it falls back to: Ultra → Standard → Lossless → Off.
    fn chain(self) -> Vec<Level> {
        let mut chain = vec![self];
        if let Self::Ultra { .. } = self {
            chain.push(Self::Standard(AacSettings::default()));
        }
        if !matches!(self, Self::Lossless | Self::Off) {
            chain.push(Self::Lossless);
        }
        if self != Self::Off {
            chain.push(Self::Off);
        }
        chain
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ultra { bandwidth } => write!(f, "ultra ({} kbps EnCodec)", bandwidth.kbps()),
            Self::Standard(s) => write!(f, "standard ({:?} AAC {} kbps)", s.profile, s.kbps),
            Self::Lossless => f.write_str("lossless (gzip)"),
            Self::Off => f.write_str("off"),
        }
    }
}

/// What a compressed file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Codec {
    /// An EnCodec `.ecdc` file.
    Ecdc,
    /// AAC in MP4 (or an ADTS stream kept as it was).
    Aac,
    /// gzip.
    Gzip,
    /// The original bytes.
    Stored,
}

/// What a file is, told by its first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// `ECDC`.
    Ecdc,
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
    /// Ogg (`OggS`).
    Ogg,
    /// MPEG audio (an ID3 tag or a frame sync).
    Mp3,
    /// None of these.
    Unknown,
}

impl Format {
    /// Identifies `bytes` by their magic bytes.
    pub fn of(bytes: &[u8]) -> Self {
        match bytes {
            [b'E', b'C', b'D', b'C', ..] => Self::Ecdc,
            [_, _, _, _, b'f', b't', b'y', b'p', ..] => Self::Mp4,
            [0x1f, 0x8b, ..] => Self::Gzip,
            [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'A', b'V', b'E', ..] => Self::Wav,
            [b'f', b'L', b'a', b'C', ..] => Self::Flac,
            [b'O', b'g', b'g', b'S', ..] => Self::Ogg,
            _ if aac::is_adts(bytes) => Self::Adts,
            [b'I', b'D', b'3', ..] => Self::Mp3,
            [0xFF, b, ..] if b & 0xE0 == 0xE0 => Self::Mp3,
            _ => Self::Unknown,
        }
    }
}

/// What one [`Compressor::compress`] call did.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Metadata {
    /// What the output holds.
    pub codec: Codec,
    /// The level asked for (`ultra`, `standard`, `lossless`, `off`).
    pub level: &'static str,
    /// Whether the output is anything but the original bytes.
    pub is_compressed: bool,
    /// Bytes in.
    pub original_size: u64,
    /// Bytes out.
    pub compressed_size: u64,
    /// `original_size / compressed_size`: 10 means ten times smaller.
    pub ratio: f64,
    /// Length of the audio in seconds.
    pub duration_s: f64,
    /// Why the output is not what the level asked for (each level tried, and what stopped it).
    pub fallback_reason: Option<String>,
}

/// A compressed file and what was done to make it.
#[derive(Clone, Debug)]
pub struct Compressed {
    /// The output file's bytes.
    pub bytes: Vec<u8>,
    /// What happened.
    pub metadata: Metadata,
}

/// Decoded audio and what it was decoded from.
#[derive(Clone, Debug)]
pub struct Decompressed {
    /// The audio.
    pub audio: Audio,
    /// The outer format of the file (`Gzip` for a gzipped MP3).
    pub format: Format,
}

/// Compresses audio files at one level, falling back when the level cannot, and keeps running
/// statistics. Shareable across threads.
pub struct Compressor {
    level: Level,
    models: Models,
    min_size: u64,
    stats: Mutex<Stats>,
}

/// Files smaller than this are stored as they are by default: gzip's header alone is 18 bytes.
pub const DEFAULT_MIN_SIZE: u64 = 1024;

impl Compressor {
    /// A compressor at `level`, with the neural model (for Ultra and `.ecdc` inputs) from `models`.
    pub fn new(level: Level, models: Models) -> Self {
        let stats = Stats::new(DEFAULT_MIN_SIZE);
        Self { level, models, min_size: DEFAULT_MIN_SIZE, stats: Mutex::new(stats) }
    }

    /// Stores files below `bytes` as they are (default [`DEFAULT_MIN_SIZE`]).
    pub fn with_min_size(mut self, bytes: u64) -> Self {
        self.min_size = bytes;
        self.stats.get_mut().unwrap_or_else(|e| e.into_inner()).threshold_bytes = bytes;
        self
    }

    /// The level asked for.
    pub fn level(&self) -> Level {
        self.level
    }

    /// Where the neural model comes from.
    pub fn models(&self) -> &Models {
        &self.models
    }

    /// Statistics of every successful call so far.
    pub fn stats(&self) -> Stats {
        self.stats.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Compresses an audio file's bytes (WAV, MP3, M4A/AAC, FLAC, Ogg, `.ecdc`, or any of them
    /// gzipped). Input that is not decodable audio is an error; any decodable input is stored,
    /// whichever level it ends up at.
    pub fn compress(&self, original: &[u8]) -> Result<Compressed> {
        let input = Input::read(original, &self.models)?;
        let mut reasons = Vec::new();
        let (codec, bytes) = if (original.len() as u64) < self.min_size {
            reasons.push(format!("{} bytes is below the {}-byte minimum", original.len(), self.min_size));
            (Codec::Stored, original.to_vec())
        } else {
            self.level
                .chain()
                .into_iter()
                .find_map(|level| match self.attempt(level, &input) {
                    Ok(done) => Some(done),
                    Err(e) => {
                        reasons.push(format!("{level}: {e}"));
                        None
                    }
                })
                .unwrap_or_else(|| (Codec::Stored, original.to_vec()))
        };
        let metadata = Metadata {
            codec,
            level: self.level.name(),
            is_compressed: codec != Codec::Stored,
            original_size: original.len() as u64,
            compressed_size: bytes.len() as u64,
            ratio: original.len() as f64 / bytes.len().max(1) as f64,
            duration_s: input.duration_s,
            fallback_reason: (!reasons.is_empty()).then(|| reasons.join("; ")),
        };
        self.stats.lock().unwrap_or_else(|e| e.into_inner()).record(&metadata);
        Ok(Compressed { bytes, metadata })
    }

    /// Compresses the file at `input` into `output` (written atomically; may be the same path).
    pub fn compress_file(&self, input: &std::path::Path, output: &std::path::Path) -> Result<Metadata> {
        let original = std::fs::read(input).map_err(|source| Error::Io { path: input.to_owned(), source })?;
        let packed = self.compress(&original).map_err(|e| name_input(e, input))?;
        crate::atomic::write_bytes(output, &packed.bytes)?;
        Ok(packed.metadata)
    }

    /// One level's try: its codec and bytes, or why it cannot.
    fn attempt(&self, level: Level, input: &Input) -> Result<(Codec, Vec<u8>)> {
        let original = input.bytes;
        match level {
            Level::Ultra { .. } if input.format == Format::Ecdc => Ok((Codec::Ecdc, original.to_vec())),
            Level::Ultra { bandwidth } => {
                let model = self.models.for_encoding()?;
                let audio = input.audio()?;
                let pcm = audio::convert(audio, model.sample_rate(), model.channels())?;
                let codes = model.encode(&pcm, bandwidth)?;
                let mut bytes = Vec::new();
                ecdc::write(&mut bytes, &codes, model.config())?;
                Ok((Codec::Ecdc, bytes))
            }
            Level::Standard(settings) => {
                // An AAC file at or below the asked bitrate is kept: another generation of
                // lossy coding would only lose quality.
                let kbps = original.len() as f64 * 8.0 / input.duration_s.max(1e-9) / 1000.0;
                if matches!(input.format, Format::Mp4 | Format::Adts) && kbps <= settings.kbps as f64 * 1.1 {
                    return Ok((Codec::Aac, original.to_vec()));
                }
                Ok((Codec::Aac, aac::encode(input.audio()?, settings)?))
            }
            Level::Lossless if input.format == Format::Gzip => Ok((Codec::Gzip, original.to_vec())),
            Level::Lossless => {
                let packed = gzip::compress(original)?;
                if packed.len() >= original.len() {
                    return Err(Error::Gzip(format!(
                        "would not shrink it ({} → {} bytes)",
                        original.len(),
                        packed.len()
                    )));
                }
                Ok((Codec::Gzip, packed))
            }
            Level::Off => Ok((Codec::Stored, original.to_vec())),
        }
    }
}

/// Names the input file in an audio error about `<input>`.
pub(crate) fn name_input(error: Error, path: &std::path::Path) -> Error {
    match error {
        Error::Audio { reason, .. } => Error::Audio { path: path.to_owned(), reason },
        other => other,
    }
}

/// A checked input: its bytes and format, and its audio (decoded unless the input is an
/// `.ecdc` file, whose header gives the duration without the model).
struct Input<'a> {
    bytes: &'a [u8],
    format: Format,
    audio: Option<Audio>,
    duration_s: f64,
}

impl<'a> Input<'a> {
    fn read(bytes: &'a [u8], models: &Models) -> Result<Self> {
        let format = Format::of(bytes);
        if format == Format::Ecdc {
            let mut payload = bytes;
            let header = Header::read(&mut payload)?;
            let config = header.published_config()?;
            // The payload is checked without the model: its layout is in the header.
            ecdc::read_payload(payload, &header, &config)?;
            let rate = config.sampling_rate as f64;
            return Ok(Self { bytes, format, audio: None, duration_s: header.audio_len as f64 / rate });
        }
        let audio = decode_as(bytes, format, models, 0)?;
        Ok(Self { bytes, format, duration_s: audio.duration_s(), audio: Some(audio) })
    }

    fn audio(&self) -> Result<&Audio> {
        self.audio.as_ref().ok_or_else(|| Error::InvalidSetting("an .ecdc input is not decoded again".into()))
    }
}

/// Seconds of audio in a file of any format [`decompress`] reads; an `.ecdc` file's header
/// says, without the model.
pub fn duration_s(bytes: &[u8], models: &Models) -> Result<f64> {
    Ok(Input::read(bytes, models)?.duration_s)
}

/// Decodes any file this crate writes or reads, told apart by its magic bytes: `.ecdc` (with
/// the model from `models`), AAC in MP4 or ADTS, gzip of any of these, WAV, MP3, FLAC, Ogg.
pub fn decompress(bytes: &[u8], models: &Models) -> Result<Decompressed> {
    let format = Format::of(bytes);
    Ok(Decompressed { audio: decode_as(bytes, format, models, 0)?, format })
}

fn decode_as(bytes: &[u8], format: Format, models: &Models, depth: usize) -> Result<Audio> {
    match format {
        Format::Ecdc => {
            let mut payload = bytes;
            let header = Header::read(&mut payload)?;
            let model = models.for_file(&header)?;
            let codes = ecdc::read_payload(payload, &header, model.config())?;
            let channels = model.decode(&codes)?;
            Ok(Audio { sample_rate: model.sample_rate(), channels })
        }
        // An MP4 that holds no AAC (ALAC, say) may still be one symphonia reads.
        Format::Mp4 => aac::decode(bytes).or_else(|e| audio::read_bytes(bytes, Some("m4a")).map_err(|_| e)),
        Format::Adts => aac::decode(bytes),
        Format::Gzip if depth == 0 => {
            let inner = gzip::inflate(bytes)?;
            decode_as(&inner, Format::of(&inner), models, 1)
        }
        Format::Gzip => Err(Error::Gzip("gzip inside gzip".into())),
        Format::Unknown if bytes.is_empty() => {
            Err(Error::Audio { path: "<input>".into(), reason: "empty file".into() })
        }
        _ => audio::read_bytes(bytes, None),
    }
}
