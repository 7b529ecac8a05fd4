//! Compression levels for audio caches: Ultra (EnCodec `.ecdc`, or Lyra v2), Compact (Opus in
//! `.opus`), Standard (AAC in `.m4a`),
//! Lossless (gzip) and Off, each an ordered list of codecs (the fallback chain), and one entry
//! point that decodes anything they write. Input and output stream through the codecs a chunk
//! at a time: a long file never sits in memory decoded.
//!
//! ```no_run
//! use encodec::levels::{decompress, Compressor, Level};
//! use encodec::encodec::Models;
//! # fn main() -> encodec::Result<()> {
//! let compressor = Compressor::new(Level::default(), Models::hub()); // Ultra, 6 kbps
//! let original = std::fs::read("speech.mp3").unwrap();
//! let packed = compressor.compress(&original)?; // falls back to AAC, gzip, stored
//! println!("{}", serde_json::to_string(&packed.metadata).unwrap());
//! let audio = decompress(&packed.bytes, compressor.models())?.audio; // whatever it became
//! # Ok(()) }
//! ```

mod level;
mod stats;

use std::io::{Cursor, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};

pub use level::{Level, Ultra};
pub use stats::{CodecStats, Metadata, Stats};

use crate::atomic::AtomicFile;
use crate::audio::Audio;
use crate::codec::{self, Codec, Input, PcmDecoder, PcmSpec, ReadSeek, CHUNK_FRAMES};
use crate::encodec::ecdc::{self, Header};
use crate::encodec::Models;
use crate::lyra::FramedReader;
use crate::registry::builtin;
use crate::{Error, Format, Result};

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

/// Compresses audio files at one level, falling back along its chain when a codec cannot, and
/// keeps running statistics. Shareable across threads.
pub struct Compressor {
    level: Level,
    models: Models,
    min_size: u64,
    stats: Mutex<Stats>,
}

/// Files smaller than this are stored as they are by default: gzip's header alone is 18 bytes.
pub const DEFAULT_MIN_SIZE: u64 = 1024;

/// Where an input's bytes come from: opened again for each pass (probe, then encode).
enum Source<'a> {
    Bytes(Arc<[u8]>),
    File(&'a Path),
}

impl Source<'_> {
    fn open(&self) -> Result<Box<dyn ReadSeek>> {
        match self {
            Self::Bytes(bytes) => Ok(Box::new(Cursor::new(bytes.clone()))),
            Self::File(path) => {
                let file = std::fs::File::open(path)
                    .map_err(|source| Error::Io { path: path.to_path_buf(), source })?;
                Ok(Box::new(file))
            }
        }
    }

    /// Names the input file in an audio error about `<input>`.
    fn name(&self, error: Error) -> Error {
        match (self, error) {
            (Self::File(path), Error::Audio { reason, .. }) => {
                Error::Audio { path: path.to_path_buf(), reason }
            }
            (_, other) => other,
        }
    }
}

/// What a first pass over the input found: its format, size and length.
struct Probe {
    format: Format,
    size: u64,
    duration_s: f64,
}

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

    /// Whether a file of `size` bytes is compressed at all: smaller ones are stored as they
    /// are (the minimum size).
    pub fn should_compress(&self, size: u64) -> bool {
        size >= self.min_size
    }

    /// The level asked for.
    pub fn level(&self) -> Level {
        self.level
    }

    /// Where the neural model comes from.
    pub fn models(&self) -> &Models {
        &self.models
    }

    /// The levels and codecs tried, in order: the level's own, then those it falls back to.
    pub fn chain(&self) -> Vec<(Level, Box<dyn Codec + '_>)> {
        self.level.chain(&self.models)
    }

    /// Statistics of every successful call so far.
    pub fn stats(&self) -> Stats {
        self.stats.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Compresses an audio file's bytes (WAV, MP3, M4A/AAC, FLAC, Ogg, `.ecdc`, or any of them
    /// gzipped). Input that is not decodable audio is an error; any decodable input is stored,
    /// whichever codec it ends up in.
    pub fn compress(&self, original: &[u8]) -> Result<Compressed> {
        let source = Source::Bytes(Arc::from(original));
        let (bytes, metadata) = self.run(&source, |attempt| {
            let bytes = match attempt {
                Attempt::Keep => original.to_vec(),
                Attempt::Encode(encode) => {
                    let mut out = Vec::new();
                    encode(&mut out)?;
                    out
                }
            };
            let size = bytes.len() as u64;
            Ok((bytes, size))
        })?;
        Ok(Compressed { bytes, metadata })
    }

    /// Compresses the file at `input` into `output`, streaming, written atomically (`output`
    /// may be `input`: it is replaced only once the new file is whole).
    pub fn compress_file(&self, input: &Path, output: &Path) -> Result<Metadata> {
        let source = Source::File(input);
        let ((), metadata) = self.run(&source, |attempt| {
            let io = |source| Error::Io { path: output.to_owned(), source };
            let mut file = AtomicFile::create(output)?;
            match attempt {
                Attempt::Keep if input == output => {}
                Attempt::Keep => {
                    std::io::copy(&mut source.open()?, &mut file).map_err(io)?;
                    file.commit()?;
                }
                Attempt::Encode(encode) => {
                    encode(&mut file)?;
                    file.commit()?;
                }
            }
            Ok(((), std::fs::metadata(output).map_err(io)?.len()))
        })?;
        Ok(metadata)
    }

    /// Probes the input, then tries the chain's codecs in order; `emit` makes the output, the
    /// original kept or a codec's encoding (an attempt that fails leaves nothing behind).
    fn run<T>(
        &self,
        source: &Source,
        mut emit: impl FnMut(Attempt<'_>) -> Result<(T, u64)>,
    ) -> Result<(T, Metadata)> {
        let probe = probe(source, &self.models).map_err(|e| source.name(e))?;
        let mut reasons = Vec::new();
        let mut outcome = None;
        if !self.should_compress(probe.size) {
            reasons.push(format!("{} bytes is below the {}-byte minimum", probe.size, self.min_size));
            outcome = Some(("stored", emit(Attempt::Keep)?));
        } else {
            let kbps = probe.size as f64 * 8.0 / probe.duration_s.max(1e-9) / 1000.0;
            for (level, codec) in self.chain() {
                let codec = codec.as_ref();
                let attempt = match codec.keeps(probe.format, kbps) {
                    true => emit(Attempt::Keep),
                    false => emit(Attempt::Encode(&mut |out| encode(codec, source, &self.models, out))),
                };
                match attempt {
                    Ok(done) => {
                        outcome = Some((codec.name(), done));
                        break;
                    }
                    Err(e) => reasons.push(format!("{level}: {}", source.name(e))),
                }
            }
        }
        // The chain ends in "stored", which keeps anything; reaching here means the output
        // could not even be written.
        let Some((codec, (done, size))) = outcome else {
            return Err(Error::Io {
                path: "<output>".into(),
                source: std::io::Error::other(reasons.join("; ")),
            });
        };
        Ok((done, self.record(codec, &probe, size, reasons)))
    }

    fn record(
        &self,
        codec: &'static str,
        probe: &Probe,
        compressed_size: u64,
        reasons: Vec<String>,
    ) -> Metadata {
        let metadata = Metadata {
            codec,
            level: self.level.name(),
            is_compressed: codec != "stored",
            original_size: probe.size,
            compressed_size,
            ratio: probe.size as f64 / compressed_size.max(1) as f64,
            duration_s: probe.duration_s,
            fallback_reason: (!reasons.is_empty()).then(|| reasons.join("; ")),
        };
        self.stats.lock().unwrap_or_else(|e| e.into_inner()).record(&metadata);
        metadata
    }
}

/// One try of the chain: keep the original, or write a codec's encoding into a writer.
enum Attempt<'a> {
    Keep,
    Encode(&'a mut dyn FnMut(&mut dyn Write) -> Result<()>),
}

/// Streams the input through `codec` into `out`: the original bytes for a lossless codec, its
/// decoded PCM for the others.
fn encode(codec: &dyn Codec, source: &Source, models: &Models, out: &mut dyn Write) -> Result<()> {
    let mut input = source.open()?;
    match codec.input() {
        Input::Bytes => {
            let mut encoder = codec.encoder(PcmSpec { sample_rate: 0, channels: 0 }, out)?;
            let mut buffer = vec![0u8; 1 << 16];
            loop {
                let n =
                    input.read(&mut buffer).map_err(|source| Error::Io { path: "<input>".into(), source })?;
                if n == 0 {
                    break;
                }
                encoder.push_bytes(&buffer[..n])?;
            }
            encoder.finish()
        }
        Input::Pcm => {
            let decoders = builtin(models);
            let mut pcm = codec::open(&decoders, input)?;
            codec::encode_pcm(codec, pcm.as_mut(), out)
        }
    }
}

/// The input's format, size and length: an `.ecdc` file's header says (its payload checked
/// without the model); anything else is decoded, a chunk at a time.
fn probe(source: &Source, models: &Models) -> Result<Probe> {
    let mut input = source.open()?;
    let io = |source| Error::Io { path: "<input>".into(), source };
    let size = input.seek(SeekFrom::End(0)).map_err(io)?;
    input.seek(SeekFrom::Start(0)).map_err(io)?;
    let format = Format::sniff(&mut input).map_err(io)?;
    if format == Format::Ecdc {
        let mut reader = std::io::BufReader::new(input);
        let header = Header::read(&mut reader)?;
        let config = header.published_config()?;
        ecdc::read_payload(reader, &header, &config)?;
        let duration_s = header.audio_len as f64 / config.sampling_rate as f64;
        return Ok(Probe { format, size, duration_s });
    }
    if format == Format::Lyra {
        // Every packet decodes (any 4 bits are a code): the header and trailer are the check.
        let header = FramedReader::new(input)?.header();
        let duration_s = header.length as f64 / header.sample_rate as f64;
        return Ok(Probe { format, size, duration_s });
    }
    if size == 0 {
        return Err(Error::Audio { path: "<input>".into(), reason: "empty file".into() });
    }
    let decoders = builtin(models);
    let mut pcm = codec::open(&decoders, input)?;
    Ok(Probe { format, size, duration_s: count(pcm.as_mut())? as f64 / pcm.sample_rate() as f64 })
}

/// Samples per channel in a stream, decoding it all.
fn count(pcm: &mut dyn PcmDecoder) -> Result<usize> {
    let mut samples = 0;
    while let Some(chunk) = pcm.next_chunk(CHUNK_FRAMES)? {
        samples += chunk.first().map_or(0, Vec::len);
    }
    Ok(samples)
}

/// Seconds of audio in a file of any format [`decompress`] reads; an `.ecdc` file's header
/// says, without the model.
pub fn duration_s(bytes: &[u8], models: &Models) -> Result<f64> {
    Ok(probe(&Source::Bytes(Arc::from(bytes)), models)?.duration_s)
}

/// Seconds of audio in the file at `path`, as [`duration_s`] reads it, streaming.
pub fn file_duration_s(path: &Path, models: &Models) -> Result<f64> {
    let source = Source::File(path);
    Ok(probe(&source, models).map_err(|e| source.name(e))?.duration_s)
}

/// Decodes the whole of any file this crate writes or reads, told apart by its magic bytes:
/// `.ecdc` (with the model from `models`), AAC in MP4 or ADTS, gzip of any of these, WAV,
/// MP3, FLAC, Ogg. To stream instead, open it with [`codec::open`] over
/// [`crate::registry::builtin`].
pub fn decompress(bytes: &[u8], models: &Models) -> Result<Decompressed> {
    let format = Format::of(bytes);
    let codecs = builtin(models);
    let mut pcm = codec::open(&codecs, Box::new(Cursor::new(bytes.to_vec())))?;
    let sample_rate = pcm.sample_rate();
    let channels = codec::read_all(pcm.as_mut())?;
    Ok(Decompressed { audio: Audio { sample_rate, channels }, format })
}
