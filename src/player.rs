//! Playback from the cache: a pull decoder that gives the next samples of any file this crate
//! reads, seeks to an exact sample, and plays a queue of files back to back without a gap.
//!
//! An audio callback asks for "the next N frames"; [`Player::read`] fills its buffer
//! (interleaved `f32`), decoding as little ahead as the codec allows (EnCodec a few code
//! frames, Lyra a packet, Opus a page), so memory stays bounded whatever the file's length.
//!
//! ```no_run
//! use encodec::player::Player;
//! # fn main() -> encodec::Result<()> {
//! let mut player = Player::open("cache/greeting.lyra")?;
//! player.queue("cache/next-sentence.ecdc"); // joined sample for sample
//! player.seek(1.5)?;                         // from sample 24 000 of a 16 kHz file
//! let mut block = vec![0.0f32; 320 * player.channels()];
//! while player.read(&mut block)? > 0 { /* to the sound card */ }
//! # Ok(()) }
//! ```

use std::collections::VecDeque;
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::audio::{Audio, StreamingConverter};
use crate::codec::{self, Codec, PcmDecoder, ReadSeek};
use crate::encodec::Models;
use crate::lyra::Bitrate;
use crate::registry::{self, DecodeOptions};
use crate::{Error, Format, OpusEnhancement, Result};

/// Where a file's bytes come from: opened again on a seek that decodes from the start.
#[derive(Clone, Debug)]
pub enum Source {
    /// A file on disk.
    Path(PathBuf),
    /// Bytes in memory, shared.
    Bytes(Arc<[u8]>),
}

impl Source {
    fn open(&self) -> Result<Box<dyn ReadSeek>> {
        Ok(match self {
            Self::Path(path) => {
                let file =
                    std::fs::File::open(path).map_err(|source| Error::Io { path: path.clone(), source })?;
                Box::new(std::io::BufReader::new(file))
            }
            Self::Bytes(bytes) => Box::new(Cursor::new(Arc::clone(bytes))),
        })
    }

    /// What to read a file as when its first bytes say nothing: raw Lyra by its extension.
    fn unknown_as(&self, raw_lyra: bool) -> Option<Format> {
        let named_lyra = matches!(self, Self::Path(path)
            if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("lyra")));
        (raw_lyra || named_lyra).then_some(Format::LyraRaw)
    }
}

impl From<&Path> for Source {
    fn from(path: &Path) -> Self {
        Self::Path(path.to_path_buf())
    }
}

impl From<PathBuf> for Source {
    fn from(path: PathBuf) -> Self {
        Self::Path(path)
    }
}

impl From<&str> for Source {
    fn from(path: &str) -> Self {
        Self::Path(path.into())
    }
}

impl From<Vec<u8>> for Source {
    fn from(bytes: Vec<u8>) -> Self {
        Self::Bytes(bytes.into())
    }
}

/// The decoders a player reads with, shared by every file it opens.
struct Codecs(Vec<Box<dyn Codec>>);

type Stream<'a> = Box<dyn PcmDecoder + 'a>;

self_cell::self_cell!(
    /// A file's decoder, which borrows the codec that opened it: both kept together.
    struct OpenStream {
        owner: Arc<Codecs>,
        #[covariant]
        dependent: Stream,
    }
);

/// How a [`Player`] decodes: the EnCodec models, and what raw files do not say.
#[derive(Clone)]
pub struct PlayerOptions {
    models: Arc<Models>,
    decode: DecodeOptions,
    raw_lyra: bool,
}

impl Default for PlayerOptions {
    /// EnCodec models from the Hub (or its cache) as each `.ecdc` file names them (feature
    /// `hub`; without it, none), Lyra's built-in weights, default [`DecodeOptions`].
    fn default() -> Self {
        #[cfg(feature = "hub")]
        let models = Models::hub();
        #[cfg(not(feature = "hub"))]
        let models = Models::none();
        Self::with_models(models)
    }
}

impl PlayerOptions {
    /// Options decoding `.ecdc` files with `models`.
    pub fn with_models(models: Models) -> Self {
        Self::with_shared_models(Arc::new(models))
    }

    /// As [`PlayerOptions::with_models`], sharing models (loaded once) with other players.
    pub fn with_shared_models(models: Arc<Models>) -> Self {
        Self { models, decode: DecodeOptions::default(), raw_lyra: false }
    }

    /// Files whose bytes name no format are Google's raw Lyra packets at `bitrate` (a file
    /// named `*.lyra` is read so without this; this sets their bitrate, default 6 kbps).
    pub fn raw_lyra(mut self, bitrate: Bitrate) -> Self {
        self.decode.raw_lyra_bitrate = bitrate;
        self.raw_lyra = true;
        self
    }

    /// The bitrate of raw `*.lyra` files (default 6 kbps), without reading other unnamed
    /// files as Lyra.
    pub fn raw_lyra_bitrate(mut self, bitrate: Bitrate) -> Self {
        self.decode.raw_lyra_bitrate = bitrate;
        self
    }

    /// libopus's speech enhancement when decoding Opus (default off).
    pub fn opus_enhancement(mut self, enhancement: OpusEnhancement) -> Self {
        self.decode.opus_enhancement = enhancement;
        self
    }

    /// EnCodec frames decoded before a seek's target (default
    /// [`crate::ecdc::DEFAULT_PREROLL_FRAMES`]; the 48 kHz model's segments need none).
    pub fn ecdc_preroll(mut self, frames: usize) -> Self {
        self.decode.ecdc_preroll_frames = frames;
        self
    }

    /// A player of `source` (a path or bytes).
    pub fn open(self, source: impl Into<Source>) -> Result<Player> {
        let codecs = Arc::new(Codecs(registry::decoders(Arc::clone(&self.models), &self.decode)));
        let current = Current::open(&codecs, source.into(), self.raw_lyra)?;
        let format = (current.sample_rate, current.channels);
        Ok(Player {
            codecs,
            raw_lyra: self.raw_lyra,
            format,
            current: Some(current),
            queue: VecDeque::new(),
            deferred: None,
        })
    }
}

/// Samples per channel asked of a decoder at first (about 20 ms at 16 kHz, 10 ms at 48 kHz:
/// the first audio comes soon), doubling to [`MAX_CHUNK_FRAMES`].
const FIRST_CHUNK_FRAMES: usize = 480;
/// At most about a second at 48 kHz: decoded ahead of the reader, per channel.
const MAX_CHUNK_FRAMES: usize = 48_000;

/// A pull decoder of one file, or of a queue of files played back to back: see the module.
///
/// Its sample rate and channels are the first file's; a later file with others is converted
/// to them. Every file's samples are given whole and in order, nothing between them: the
/// output is the files' decodes concatenated.
pub struct Player {
    codecs: Arc<Codecs>,
    raw_lyra: bool,
    /// The output's rate and channels.
    format: (u32, usize),
    current: Option<Current>,
    queue: VecDeque<Source>,
    /// A queued file's error met after some frames were read: the next read returns it.
    deferred: Option<Error>,
}

/// The file being played.
struct Current {
    source: Source,
    stream: OpenStream,
    sample_rate: u32,
    channels: usize,
    len: Option<usize>,
    /// The file's sample the next decoded chunk starts at.
    decoded_to: usize,
    /// Decoded and not yet read, `[channels][samples]` in the output's format, from
    /// `pending_at` on.
    pending: Vec<Vec<f32>>,
    pending_at: usize,
    chunk_frames: usize,
    /// From the file's rate and channels to the output's, when they differ.
    converter: Option<StreamingConverter>,
    ended: bool,
}

impl Current {
    fn open(codecs: &Arc<Codecs>, source: Source, raw_lyra: bool) -> Result<Self> {
        let stream = open_stream(codecs, &source, raw_lyra)?;
        let decoder = stream.borrow_dependent();
        let (sample_rate, channels, len) = (decoder.sample_rate(), decoder.channels(), decoder.len_hint());
        if sample_rate == 0 || channels == 0 {
            return Err(Error::Audio {
                path: source_name(&source),
                reason: format!("no audio ({channels} channels at {sample_rate} Hz)"),
            });
        }
        Ok(Self {
            source,
            stream,
            sample_rate,
            channels,
            len,
            decoded_to: 0,
            pending: Vec::new(),
            pending_at: 0,
            chunk_frames: FIRST_CHUNK_FRAMES,
            converter: None,
            ended: false,
        })
    }

    /// Decodes the next chunk into `pending`, converted to `format`; false at the end.
    fn refill(&mut self, format: (u32, usize)) -> Result<bool> {
        while !self.ended {
            let frames = self.chunk_frames;
            self.chunk_frames = (frames * 2).min(MAX_CHUNK_FRAMES);
            let chunk = self.stream.with_dependent_mut(|_, decoder| decoder.next_chunk(frames))?;
            let pcm = match chunk {
                Some(pcm) => {
                    self.decoded_to += pcm.first().map_or(0, Vec::len);
                    self.convert(format, Some(pcm))?
                }
                None => {
                    self.ended = true;
                    self.convert(format, None)?
                }
            };
            if pcm.first().is_some_and(|c| !c.is_empty()) {
                self.pending = pcm;
                self.pending_at = 0;
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// `pcm` (`None`: the end) in the output's format.
    fn convert(&mut self, format: (u32, usize), pcm: Option<Vec<Vec<f32>>>) -> Result<Vec<Vec<f32>>> {
        if (self.sample_rate, self.channels) == format {
            return Ok(pcm.unwrap_or_default());
        }
        if self.converter.is_none() {
            self.converter =
                Some(StreamingConverter::new(self.sample_rate, self.channels, format.0, format.1)?);
        }
        match pcm {
            Some(channels) => {
                let audio = Audio { sample_rate: self.sample_rate, channels };
                self.converter.as_mut().expect("made above").push(&audio)
            }
            None => self.converter.take().expect("made above").finish(),
        }
    }

    fn pending_frames(&self) -> usize {
        self.pending.first().map_or(0, |c| c.len() - self.pending_at)
    }

    /// Moves to the file's sample `frame`.
    fn seek(&mut self, codecs: &Arc<Codecs>, frame: usize, raw_lyra: bool) -> Result<()> {
        let frame = self.len.map_or(frame, |len| frame.min(len));
        let native = self.stream.with_dependent_mut(|_, decoder| decoder.seek(frame))?;
        if !native {
            // Decoded from the start, what comes before `frame` dropped: exact on every codec.
            self.stream = open_stream(codecs, &self.source, raw_lyra)?;
            let mut skipped = 0;
            while skipped < frame {
                let want = (frame - skipped).min(MAX_CHUNK_FRAMES);
                match self.stream.with_dependent_mut(|_, decoder| decoder.next_chunk(want))? {
                    Some(pcm) => {
                        let n = pcm.first().map_or(0, Vec::len);
                        if skipped + n > frame {
                            // The chunk crosses the target: keep its tail as the next output.
                            let tail: Vec<Vec<f32>> =
                                pcm.into_iter().map(|c| c[frame - skipped..].to_vec()).collect();
                            self.restart(skipped + n);
                            self.pending = tail;
                            return Ok(());
                        }
                        skipped += n;
                    }
                    None => break,
                }
            }
            self.restart(skipped.min(frame));
            return Ok(());
        }
        self.restart(frame);
        Ok(())
    }

    fn restart(&mut self, frame: usize) {
        self.decoded_to = frame;
        self.pending = Vec::new();
        self.pending_at = 0;
        self.chunk_frames = FIRST_CHUNK_FRAMES;
        self.converter = None;
        self.ended = false;
    }
}

fn open_stream(codecs: &Arc<Codecs>, source: &Source, raw_lyra: bool) -> Result<OpenStream> {
    let unknown_as = source.unknown_as(raw_lyra);
    let input = source.open()?;
    OpenStream::try_new(Arc::clone(codecs), |codecs| codec::open_as(&codecs.0, input, unknown_as)).map_err(
        |e| match (e, source) {
            (Error::Audio { reason, .. }, Source::Path(path)) => Error::Audio { path: path.clone(), reason },
            (e, _) => e,
        },
    )
}

fn source_name(source: &Source) -> PathBuf {
    match source {
        Source::Path(path) => path.clone(),
        Source::Bytes(_) => "<bytes>".into(),
    }
}

impl Player {
    /// A player of the file at `path` (or of bytes, `Vec<u8>`), with [`PlayerOptions::default`].
    pub fn open(source: impl Into<Source>) -> Result<Self> {
        PlayerOptions::default().open(source)
    }

    /// Samples per second of what [`Player::read`] gives (the first file's).
    pub fn sample_rate(&self) -> u32 {
        self.format.0
    }

    /// Channels of what [`Player::read`] gives, interleaved (the first file's).
    pub fn channels(&self) -> usize {
        self.format.1
    }

    /// The length of the file playing (or, after the end, the last one played), in seconds,
    /// if it says: an Ogg Opus file without its last page, MP3 or FLAC do not.
    pub fn duration(&self) -> Option<f64> {
        let current = self.current.as_ref()?;
        current.len.map(|len| len as f64 / current.sample_rate as f64)
    }

    /// Whether the file playing ended before its header said, or inside a frame or page (it
    /// is played as far as it goes): known once its last sample has been read.
    pub fn truncated(&self) -> bool {
        self.current.as_ref().is_some_and(|c| c.stream.borrow_dependent().truncated())
    }

    /// Where in the file playing the next sample read comes from, in seconds.
    pub fn position(&self) -> f64 {
        self.current.as_ref().map_or(0.0, |c| {
            let pending_in_file = c.pending_frames() as f64 * c.sample_rate as f64 / self.format.0 as f64;
            (c.decoded_to as f64 - pending_in_file).max(0.0) / c.sample_rate as f64
        })
    }

    /// Files waiting after the one playing.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// Plays `source` after what is queued: its first sample follows the last one's last.
    /// It is opened when its turn comes (an error then comes from [`Player::read`]).
    pub fn queue(&mut self, source: impl Into<Source>) {
        self.queue.push_back(source.into());
    }

    /// Fills `out` with the next frames, interleaved (`channels()` samples each), and returns
    /// how many it wrote: fewer than fit only at the end of the last file (0 after it) or
    /// before an error.
    ///
    /// A file that cannot be opened or decoded is an error (after the frames read before it,
    /// on the next call), and is dropped: the call after goes on with the file queued next.
    pub fn read(&mut self, out: &mut [f32]) -> Result<usize> {
        let channels = self.format.1;
        self.fill(out.len() / channels, |pending, from, n, written| {
            for (c, channel) in pending.iter().enumerate() {
                for (i, &sample) in channel[from..from + n].iter().enumerate() {
                    out[(written + i) * channels + c] = sample;
                }
            }
        })
    }

    /// Gives the next `frames` frames (fewer only at the end or before an error) to `copy`,
    /// a run at a time: `copy(pending, from, n, written)` takes frames `from..from + n` of the
    /// planar `pending` as output frames `written..written + n`.
    fn fill(
        &mut self,
        frames: usize,
        mut copy: impl FnMut(&[Vec<f32>], usize, usize, usize),
    ) -> Result<usize> {
        if let Some(error) = self.deferred.take() {
            return Err(error);
        }
        let mut written = 0;
        while written < frames {
            if self.current.is_none() {
                let Some(source) = self.queue.pop_front() else { break };
                match Current::open(&self.codecs, source, self.raw_lyra) {
                    Ok(next) => self.current = Some(next),
                    Err(error) => return self.fail(error, written),
                }
            }
            let current = self.current.as_mut().expect("opened above");
            if current.pending_frames() == 0 {
                match current.refill(self.format) {
                    Ok(true) => {}
                    // The last file stays, ended: it can still seek, and what is queued later
                    // follows it.
                    Ok(false) if self.queue.is_empty() => break,
                    Ok(false) => {
                        self.current = None;
                        continue;
                    }
                    Err(error) => {
                        self.current = None;
                        return self.fail(error, written);
                    }
                }
            }
            let n = current.pending_frames().min(frames - written);
            copy(&current.pending, current.pending_at, n, written);
            current.pending_at += n;
            written += n;
        }
        Ok(written)
    }

    /// `error`, now if nothing was read, else after what was.
    fn fail(&mut self, error: Error, written: usize) -> Result<usize> {
        if written == 0 {
            return Err(error);
        }
        self.deferred = Some(error);
        Ok(written)
    }

    /// The next block of at most `max_frames` frames, `[channels][samples]`, or `None` after
    /// the last file: [`Player::read`] for callers that want planar audio.
    pub fn read_planar(&mut self, max_frames: usize) -> Result<Option<Vec<Vec<f32>>>> {
        let mut block = vec![Vec::new(); self.format.1];
        let frames = self.fill(max_frames.max(1), |pending, from, n, _| {
            for (out, channel) in block.iter_mut().zip(pending) {
                out.extend_from_slice(&channel[from..from + n]);
            }
        })?;
        Ok((frames > 0).then_some(block))
    }

    /// Moves to `seconds` into the file playing, at its exact sample (`seconds` × its rate,
    /// rounded; past its end, to its end). EnCodec gets there through its codes (those before
    /// the pre-roll are not decoded), Lyra by packet (a 640 ms warm-up, then the full decode's
    /// samples bit for bit), Opus by page (an 80 ms pre-roll); the other codecs decode from the
    /// start and drop what comes before.
    pub fn seek(&mut self, seconds: f64) -> Result<()> {
        if !(seconds.is_finite() && seconds >= 0.0) {
            return Err(Error::Setting(format!("cannot seek to {seconds} s: a time of 0 or more is needed")));
        }
        let Some(current) = self.current.as_mut() else { return Ok(()) };
        let frame = (seconds * current.sample_rate as f64).round().min(usize::MAX as f64) as usize;
        current.seek(&self.codecs, frame, self.raw_lyra)
    }
}
