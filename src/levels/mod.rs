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

use std::io::{Cursor, Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};

pub use level::{Level, Ultra};
pub use stats::{CodecStats, Metadata, Stats};

use crate::atomic::AtomicFile;
use crate::audio::Audio;
use crate::codec::{self, Codec, Input, PcmDecoder, PcmSpec, ReadSeek, CHUNK_FRAMES};
use crate::encodec::ecdc::{self, Header};
use crate::encodec::Models;
use crate::io::Counted;
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

/// What [`unpack`] gives back: the original bytes, or audio decoded from a codec's file.
#[derive(Clone, Debug)]
pub enum Unpacked {
    /// The bytes [`Compressor::compress`] was given, exactly (stored or gzip).
    Original(Vec<u8>),
    /// A codec's file, decoded (the original was lossy-coded: its bytes are gone).
    Audio(Decompressed),
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

    /// Its size in bytes, known without reading it.
    fn len(&self) -> Result<u64> {
        match self {
            Self::Bytes(bytes) => Ok(bytes.len() as u64),
            Self::File(path) => std::fs::metadata(path)
                .map(|m| m.len())
                .map_err(|source| Error::Io { path: path.to_path_buf(), source }),
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

/// What a first pass over the input found: its format and length, and whether it ended
/// before its header said.
struct Probe {
    format: Format,
    duration_s: f64,
    truncated: bool,
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

    /// Compresses any bytes: an audio file (WAV, MP3, M4A/AAC, FLAC, Ogg, `.ecdc`, `.lyra`, or
    /// any of them gzipped, whole or cut short) is coded at the level; anything the level
    /// cannot code (not audio, an unknown format, a slice of a stream) goes down the chain to
    /// gzip of the original bytes, or the bytes stored as they are, with the reason in the
    /// metadata. Below the minimum size nothing is parsed. The result is never larger than
    /// the input. Only a bad argument or I/O is an error, never the content.
    pub fn compress(&self, original: &[u8]) -> Result<Compressed> {
        self.compress_with(original, self.chain(), Vec::new())
    }

    /// Compresses one slice of a stream being sent (a WebSocket's chunk of an MP3, WAV or
    /// PCM stream, cut anywhere) as the gzip layer it replaces did: never parsed, gzip of the
    /// bytes if it is at least the minimum size and gzip makes it smaller, else the bytes as
    /// they are; [`restore`] gives them back exactly. At the Off level it is always stored.
    /// At a lossy level the chunk is still coded losslessly (and the metadata says why): a
    /// codec needs a whole file, or a live stream of PCM ([`crate::live::LiveEncoder`]).
    pub fn compress_chunk(&self, chunk: &[u8]) -> Result<Compressed> {
        let (chain, reasons) = match self.level {
            Level::Off | Level::Lossless => (self.chain(), Vec::new()),
            lossy => (
                Level::Lossless.chain(&self.models),
                vec![format!(
                    "{lossy}: a chunk is coded losslessly (a codec needs a whole file, or a live stream of PCM through a stream encoder)"
                )],
            ),
        };
        self.compress_with(chunk, chain, reasons)
    }

    fn compress_with(&self, original: &[u8], chain: Chain<'_>, reasons: Vec<String>) -> Result<Compressed> {
        let source = Source::Bytes(Arc::from(original));
        let (bytes, metadata) = self.run(&source, chain, reasons, |attempt| {
            let bytes = match attempt {
                Attempt::Keep => original.to_vec(),
                Attempt::Encode(encode, limit) => {
                    let mut out = Vec::new();
                    encode(&mut out)?;
                    if out.len() as u64 >= limit {
                        return Ok(Emitted::TooBig(out.len() as u64));
                    }
                    out
                }
            };
            let size = bytes.len() as u64;
            Ok(Emitted::Done(bytes, size))
        })?;
        Ok(Compressed { bytes, metadata })
    }

    /// Compresses the file at `input` into `output`, as [`Compressor::compress`] does,
    /// streaming, written atomically (`output` may be `input`: it is replaced only once the
    /// new file is whole).
    pub fn compress_file(&self, input: &Path, output: &Path) -> Result<Metadata> {
        let source = Source::File(input);
        let ((), metadata) = self.run(&source, self.chain(), Vec::new(), |attempt| {
            let io = |source| Error::Io { path: output.to_owned(), source };
            match attempt {
                Attempt::Keep if input == output => {}
                Attempt::Keep => {
                    let mut file = AtomicFile::create(output)?;
                    std::io::copy(&mut source.open()?, &mut file).map_err(io)?;
                    file.commit()?;
                }
                Attempt::Encode(encode, limit) => {
                    let mut file = Counted::new(AtomicFile::create(output)?);
                    encode(&mut file)?;
                    if file.bytes >= limit {
                        // Dropped uncommitted: `output` is untouched.
                        return Ok(Emitted::TooBig(file.bytes));
                    }
                    file.inner.commit()?;
                }
            }
            Ok(Emitted::Done((), std::fs::metadata(output).map_err(io)?.len()))
        })?;
        Ok(metadata)
    }

    /// Tries the chain's codecs in order; `emit` makes the output, the original kept or a
    /// codec's encoding (an attempt that fails, or comes out no smaller than the input, leaves
    /// nothing behind). The input is parsed only when a codec needs its audio, and then once.
    /// `reasons`: why the chain is not the level's own, if it is not.
    fn run<T>(
        &self,
        source: &Source,
        chain: Chain<'_>,
        mut reasons: Vec<String>,
        mut emit: impl FnMut(Attempt<'_>) -> Result<Emitted<T>>,
    ) -> Result<(T, Metadata)> {
        let size = source.len()?;
        // What the input holds as audio (`None` inside: not audio), probed when a codec first
        // needs it.
        let mut audio: Option<Option<Probe>> = None;
        let mut outcome = None;
        let chain = match self.should_compress(size) {
            true => chain,
            false => {
                reasons.push(format!("{size} bytes is below the {}-byte minimum", self.min_size));
                Level::Off.chain(&self.models)
            }
        };
        for (level, codec) in chain {
            let codec = codec.as_ref();
            let keep = match codec.input() {
                // Codecs of bytes never look inside them: asked about content of no known
                // format, only "stored" keeps it.
                Input::Bytes => codec.keeps(Format::Unknown, 0.0),
                Input::Pcm => {
                    let probed = match &audio {
                        Some(probed) => probed,
                        None => {
                            let probed = contained("reading the input", || probe(source, &self.models))
                                .map_err(|e| source.name(e));
                            // Said once: every codec of audio after it would say the same.
                            if let Err(why) = &probed {
                                reasons.push(format!("{level}: not audio it can code ({why})"));
                            }
                            audio.insert(probed.ok())
                        }
                    };
                    let Some(probe) = probed else { continue };
                    let kbps = size as f64 * 8.0 / probe.duration_s.max(1e-9) / 1000.0;
                    codec.keeps(probe.format, kbps)
                }
            };
            let attempt = match keep {
                true => emit(Attempt::Keep),
                false => emit(Attempt::Encode(
                    &mut |out| contained(codec.name(), || encode(codec, source, &self.models, out)),
                    size,
                )),
            };
            match attempt {
                Ok(Emitted::Done(done, written)) => {
                    outcome = Some((codec.name(), done, written));
                    break;
                }
                Ok(Emitted::TooBig(written)) => reasons.push(format!(
                    "{level}: {written} bytes would not be smaller than the {size}-byte input"
                )),
                Err(e) => reasons.push(format!("{level}: {}", source.name(e))),
            }
        }
        // The chain ends in "stored", which keeps anything; reaching here means the output
        // could not even be written.
        let Some((codec, done, written)) = outcome else {
            return Err(Error::Io {
                path: "<output>".into(),
                source: std::io::Error::other(reasons.join("; ")),
            });
        };
        let probe = audio.flatten();
        Ok((done, self.record(codec, size, probe.as_ref(), written, reasons)))
    }

    fn record(
        &self,
        codec: &'static str,
        original_size: u64,
        probe: Option<&Probe>,
        compressed_size: u64,
        reasons: Vec<String>,
    ) -> Metadata {
        let metadata = Metadata {
            codec,
            level: self.level.name(),
            is_compressed: codec != "stored",
            original_size,
            compressed_size,
            ratio: original_size as f64 / compressed_size.max(1) as f64,
            duration_s: probe.map(|p| p.duration_s),
            truncated: probe.is_some_and(|p| p.truncated),
            fallback_reason: (!reasons.is_empty()).then(|| reasons.join("; ")),
        };
        self.stats.lock().unwrap_or_else(|e| e.into_inner()).record(&metadata);
        metadata
    }
}

/// A level's codecs, in the order they are tried.
type Chain<'a> = Vec<(Level, Box<dyn Codec + 'a>)>;

/// One try of the chain: keep the original, or write a codec's encoding into a writer (kept
/// only if it comes out smaller than the limit, the input's size).
enum Attempt<'a> {
    Keep,
    Encode(&'a mut dyn FnMut(&mut dyn Write) -> Result<()>, u64),
}

/// What an attempt made: the output and its size, or an encoding too big to keep.
enum Emitted<T> {
    Done(T, u64),
    TooBig(u64),
}

/// Runs third-party decoders and encoders (symphonia, libopus, FDK AAC) so that a panic
/// inside one on hostile input becomes an error, and the input goes down the chain to a
/// codec that does not parse it, instead of the caller losing the bytes it wanted stored.
fn contained<T>(what: &str, run: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)).unwrap_or_else(|panic| {
        let message = crate::error::panic_message(panic.as_ref());
        Err(Error::Audio { path: "<input>".into(), reason: format!("{what} failed inside: {message}") })
    })
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

/// The input's format, size, length and whether it was cut short: an `.ecdc` file's header
/// says (its payload checked without the model); anything else is decoded, a chunk at a time,
/// as far as it is valid. Audio without a single sample is no audio.
fn probe(source: &Source, models: &Models) -> Result<Probe> {
    let mut input = source.open()?;
    let io = |source| Error::Io { path: "<input>".into(), source };
    let size = source.len()?;
    let format = Format::sniff(&mut input).map_err(io)?;
    let no_audio = || Error::Audio { path: "<input>".into(), reason: "no audio samples".into() };
    if format == Format::Ecdc {
        let mut reader = std::io::BufReader::new(input);
        let header = Header::read(&mut reader)?;
        let config = header.published_config()?;
        ecdc::read_payload(reader, &header, &config)?;
        let duration_s = header.audio_len as f64 / config.sampling_rate as f64;
        return Ok(Probe { format, duration_s, truncated: false });
    }
    if format == Format::Lyra {
        // Every packet decodes (any 4 bits are a code): the header and trailer are the check.
        let header = FramedReader::new(input)?.header();
        let duration_s = header.length as f64 / header.sample_rate as f64;
        return Ok(Probe { format, duration_s, truncated: false });
    }
    if size == 0 {
        return Err(Error::Audio { path: "<input>".into(), reason: "empty file".into() });
    }
    let decoders = builtin(models);
    let mut pcm = codec::open(&decoders, input)?;
    let samples = count(pcm.as_mut())?;
    if samples == 0 {
        return Err(no_audio());
    }
    let duration_s = samples as f64 / pcm.sample_rate() as f64;
    // MPEG audio and ADTS end the same way cut or whole: their frames say.
    let framed = matches!(format, Format::Mp3 | Format::Adts | Format::Unknown);
    let truncated =
        pcm.truncated() || (framed && crate::audio::ends_inside_a_frame(&mut source.open()?).map_err(io)?);
    Ok(Probe { format, duration_s, truncated })
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

/// What `packed` ([`Compressed::bytes`]) holds, in the form it was stored in: the original
/// bytes for "stored" and gzip ([`restore`]), decoded audio for the codecs. `is_compressed` is
/// the metadata's flag: `false` gives the bytes back as they are, `true` inflates gzip and
/// decodes anything else; `None` (the flag not kept) inflates gzip and gives anything else
/// back as it is, so an original that was itself gzip is told apart only by its flag.
pub fn unpack(packed: &[u8], is_compressed: Option<bool>, models: &Models) -> Result<Unpacked> {
    match (is_compressed, Format::of(packed)) {
        (Some(true), format) if format != Format::Gzip => Ok(Unpacked::Audio(decompress(packed, models)?)),
        _ => Ok(Unpacked::Original(restore(packed, is_compressed)?)),
    }
}

/// The exact bytes [`Compressor::compress`] or [`Compressor::compress_chunk`] was given, from
/// what it stored (gzip, or the bytes themselves), reading `is_compressed` as [`unpack`] does.
/// A codec's file is an error: its audio is decoded with [`decompress`], the original's bytes
/// are gone.
pub fn restore(packed: &[u8], is_compressed: Option<bool>) -> Result<Vec<u8>> {
    match (is_compressed, Format::of(packed)) {
        (Some(false), _) => Ok(packed.to_vec()),
        (_, Format::Gzip) => crate::gzip::inflate(packed),
        (None, _) => Ok(packed.to_vec()),
        (Some(true), format) => Err(Error::Setting(format!(
            "this {format:?} file holds coded audio, not the original bytes: decompress it instead"
        ))),
    }
}
