//! Live streams for sockets and calls: PCM in, the codec's bytes out as soon as they exist;
//! those bytes in, in pieces of any size, PCM out as soon as it can be decoded.
//!
//! A cache file needs its whole input (an `.ecdc` header holds the length; the framed Lyra
//! file too), so the [`crate::Codec`] interface writes files. A live stream has no end to wait
//! for: [`LiveEncoder`] gives Google's raw Lyra packets (20 ms each) or Ogg Opus pages (one per
//! push), and everything it gave, concatenated, is a valid `.lyra` or `.opus` file.
//! [`LiveDecoder`] takes those bytes split anywhere (a WebSocket message, a read from a pipe)
//! and returns what they complete. Both own their state (`'static`, `Send`), so a server can
//! keep one per connection; the Lyra model is loaded once per process and shared by all.
//!
//! ```no_run
//! use encodec::live::{LiveCodec, LiveDecoder, LiveEncoder};
//! # fn main() -> encodec::Result<()> {
//! let codec = LiveCodec::from_name("lyra", Some(6.0))?;
//! let mut encoder = LiveEncoder::new(codec, 16_000, 1)?;
//! let mut decoder = LiveDecoder::new(codec)?;
//! let bytes = encoder.push(&[vec![0.0; 320]])?; // one 20 ms packet, 15 bytes
//! let pcm = decoder.push(&bytes)?;              // [channels][samples] at decoder.sample_rate()
//! # Ok(()) }
//! ```

use crate::codec::{Encoder, PcmSpec};
use crate::lyra::codec::LyraFileEncoder;
use crate::lyra::{Bitrate, Lyra, LyraDecoder, LyraError};
use crate::{Error, OpusSettings, Result};

/// What a live stream is coded with.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LiveCodec {
    /// Lyra v2 (built-in weights): 16 kHz mono, raw packets of a fixed size per bitrate.
    Lyra(Bitrate),
    /// Opus in Ogg pages, a page per push.
    Opus(OpusSettings),
}

impl LiveCodec {
    /// The codec `name` names (`lyra` or `opus`) at `kbps` (its default when `None`: Lyra 6,
    /// Opus 12). EnCodec (`ecdc`) is refused: its files state their length up front.
    pub fn from_name(name: &str, kbps: Option<f32>) -> Result<Self> {
        match name.to_ascii_lowercase().as_str() {
            "lyra" => Ok(Self::Lyra(Bitrate::try_from_kbps(kbps.unwrap_or(6.0))?)),
            "opus" => Ok(Self::Opus(match kbps {
                Some(kbps) => OpusSettings::from_kbps(kbps)?,
                None => OpusSettings::default(),
            })),
            "ecdc" | "encodec" => Err(Error::Setting(
                "EnCodec cannot stream live: an .ecdc file states its length before its codes; \
                 use lyra or opus"
                    .into(),
            )),
            other => Err(Error::Setting(format!("no live codec {other:?}: lyra or opus"))),
        }
    }

    /// The codec's short name, as cache metadata spells it.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Lyra(_) => "lyra",
            Self::Opus(_) => "opus",
        }
    }
}

/// PCM in (any rate and channels; converted to what the codec codes), bytes out.
pub struct LiveEncoder {
    inner: EncoderKind,
    channels: usize,
}

enum EncoderKind {
    Lyra(Box<LyraFileEncoder<'static, Vec<u8>>>),
    #[cfg(feature = "opus")]
    Opus(Box<crate::opus::live::LiveOpusEncoder>),
}

impl LiveEncoder {
    /// An encoder for PCM at `sample_rate` Hz with `channels` channels.
    pub fn new(codec: LiveCodec, sample_rate: u32, channels: usize) -> Result<Self> {
        if sample_rate == 0 || channels == 0 {
            return Err(Error::Setting(format!("no audio ({channels} channels at {sample_rate} Hz)")));
        }
        let inner = match codec {
            LiveCodec::Lyra(bitrate) => {
                let pcm = PcmSpec { sample_rate, channels };
                EncoderKind::Lyra(Box::new(LyraFileEncoder::raw(bitrate, pcm, Vec::new())?))
            }
            #[cfg(feature = "opus")]
            LiveCodec::Opus(settings) => EncoderKind::Opus(Box::new(
                crate::opus::live::LiveOpusEncoder::new(settings, sample_rate, channels)?,
            )),
            #[cfg(not(feature = "opus"))]
            LiveCodec::Opus(_) => {
                return Err(Error::FeatureDisabled { what: "Opus encoder", feature: "opus" })
            }
        };
        Ok(Self { inner, channels })
    }

    /// Channels of the PCM it takes.
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// Takes the next PCM (`[channels][samples]`, every channel the same length); returns the
    /// bytes it completes (possibly none: a 20 ms frame waits to be whole).
    pub fn push(&mut self, pcm: &[Vec<f32>]) -> Result<Vec<u8>> {
        let len = pcm.first().map_or(0, Vec::len);
        if pcm.len() != self.channels || pcm.iter().any(|c| c.len() != len) {
            let lengths: Vec<usize> = pcm.iter().map(Vec::len).collect();
            return Err(Error::Setting(format!(
                "a live encoder of {} channels was given channels of lengths {lengths:?}",
                self.channels
            )));
        }
        match &mut self.inner {
            EncoderKind::Lyra(encoder) => {
                encoder.push_pcm(pcm)?;
                Ok(std::mem::take(encoder.output_mut()))
            }
            #[cfg(feature = "opus")]
            EncoderKind::Opus(encoder) => encoder.push(pcm),
        }
    }

    /// Ends the stream: the last (padded) frame and, for Opus, the end-of-stream page.
    pub fn finish(self) -> Result<Vec<u8>> {
        match self.inner {
            EncoderKind::Lyra(encoder) => encoder.end(),
            #[cfg(feature = "opus")]
            EncoderKind::Opus(encoder) => encoder.finish(),
        }
    }
}

/// A live stream's bytes in, in pieces of any size; PCM out.
pub struct LiveDecoder {
    inner: DecoderKind,
}

// One per stream, moved rarely: boxing the larger variant would buy nothing.
#[allow(clippy::large_enum_variant)]
enum DecoderKind {
    Lyra {
        bitrate: Bitrate,
        decoder: LyraDecoder<'static>,
        partial: Vec<u8>,
    },
    #[cfg(feature = "opus")]
    Opus(Box<crate::opus::live::LiveOpusDecoder>),
}

impl LiveDecoder {
    /// A decoder of what a [`LiveEncoder`] with `codec` writes.
    pub fn new(codec: LiveCodec) -> Result<Self> {
        let inner = match codec {
            LiveCodec::Lyra(bitrate) => {
                DecoderKind::Lyra { bitrate, decoder: Lyra::bundled()?.decoder(), partial: Vec::new() }
            }
            #[cfg(feature = "opus")]
            LiveCodec::Opus(_) => DecoderKind::Opus(Box::default()),
            #[cfg(not(feature = "opus"))]
            LiveCodec::Opus(_) => {
                return Err(Error::FeatureDisabled { what: "Opus decoder", feature: "opus" })
            }
        };
        Ok(Self { inner })
    }

    /// Samples per second of the PCM it gives (Opus: known once its header has arrived; 0
    /// before).
    pub fn sample_rate(&self) -> u32 {
        match &self.inner {
            DecoderKind::Lyra { .. } => crate::lyra::SAMPLE_RATE,
            #[cfg(feature = "opus")]
            DecoderKind::Opus(decoder) => decoder.sample_rate(),
        }
    }

    /// Channels of the PCM it gives (Opus: known once its header has arrived; 0 before).
    pub fn channels(&self) -> usize {
        match &self.inner {
            DecoderKind::Lyra { .. } => 1,
            #[cfg(feature = "opus")]
            DecoderKind::Opus(decoder) => decoder.channels(),
        }
    }

    /// Takes the next bytes; returns the PCM they complete, `[channels][samples]`.
    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<Vec<f32>>> {
        match &mut self.inner {
            DecoderKind::Lyra { bitrate, decoder, partial } => {
                partial.extend_from_slice(bytes);
                let whole = partial.len() / bitrate.packet_bytes() * bitrate.packet_bytes();
                let pcm = decoder.push(&partial[..whole], *bitrate)?;
                partial.drain(..whole);
                Ok(vec![pcm])
            }
            #[cfg(feature = "opus")]
            DecoderKind::Opus(decoder) => decoder.push(bytes),
        }
    }

    /// Ends the stream: an error if it stopped inside a packet or page.
    pub fn finish(self) -> Result<Vec<Vec<f32>>> {
        match self.inner {
            DecoderKind::Lyra { bitrate, partial, .. } if !partial.is_empty() => Err(LyraError::RawLength {
                bytes: partial.len() as u64,
                packet_bytes: bitrate.packet_bytes(),
            }
            .into()),
            DecoderKind::Lyra { .. } => Ok(vec![Vec::new()]),
            #[cfg(feature = "opus")]
            DecoderKind::Opus(decoder) => decoder.finish(),
        }
    }
}
