//! The Compact level: Opus (libopus, built from bundled sources by the `opus` crate) in Ogg
//! Opus files (`.opus`, RFC 7845) that browsers, Android's MediaPlayer and ffmpeg play, with
//! pre-skip and an end granule that give back the input's exact length. The codec itself is
//! the cargo feature `opus`; without it this codec refuses and chains fall back.

#[cfg(feature = "opus")]
mod decoder;
pub(crate) mod head;
#[cfg(feature = "opus")]
pub(crate) mod live;
#[cfg(feature = "opus")]
mod stream;

use std::io::Write;

use serde::Serialize;

use crate::codec::{Codec, Decoded, Encoder, Input, PcmSpec, ReadSeek};
use crate::{Error, Format, Result};

/// An Opus bitrate the Compact level accepts: 6-64 kbps, 12 by default (speech).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct OpusSettings {
    /// Target bitrate in kbps (variable bitrate, as libopus does by default).
    pub kbps: u32,
}

impl OpusSettings {
    /// The bitrates the Compact level takes, in kbps.
    pub const RANGE: std::ops::RangeInclusive<u32> = 6..=64;

    /// Checks `kbps` against [`OpusSettings::RANGE`].
    pub fn new(kbps: u32) -> Result<Self> {
        if !Self::RANGE.contains(&kbps) {
            let (min, max) = (*Self::RANGE.start(), *Self::RANGE.end());
            return Err(Error::Bitrate { codec: "Opus".into(), kbps, min, max });
        }
        Ok(Self { kbps })
    }

    /// [`OpusSettings::new`] from a bitrate in kbps that must be whole.
    pub fn from_kbps(kbps: f32) -> Result<Self> {
        let whole = kbps.round();
        if whole != kbps || !kbps.is_finite() {
            return Err(Error::Opus(format!("a bitrate in whole kbps (6 to 64), not {kbps}")));
        }
        Self::new(whole.clamp(0.0, u32::MAX as f32) as u32)
    }
}

impl Default for OpusSettings {
    /// 12 kbps: wideband speech that is hard to tell from the source.
    fn default() -> Self {
        Self { kbps: 12 }
    }
}

/// libopus's decoder-side speech enhancement (1.5 and later): it reshapes decoded SILK
/// (speech-mode) frames with a small neural network; the file is the same either way.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OpusEnhancement {
    /// Plain libopus decoding (what any player gives).
    #[default]
    Off,
    /// LACE, the lighter model.
    Lace,
    /// NoLACE, the larger one.
    NoLace,
}

/// Opus at one bitrate: the VoIP application (tuned for speech), 20 ms frames, mono or
/// stereo at the source's rate when Opus takes it (8, 12, 16, 24 or 48 kHz), else at 48 kHz.
#[derive(Clone, Copy, Debug, Default)]
pub struct OpusCodec {
    settings: OpusSettings,
    // Read by the decoder, which exists only with libopus.
    #[cfg_attr(not(feature = "opus"), allow(dead_code))]
    enhancement: OpusEnhancement,
}

impl OpusCodec {
    /// Opus at `settings`.
    pub fn new(settings: OpusSettings) -> Self {
        Self { settings, enhancement: OpusEnhancement::Off }
    }

    /// The same codec, decoding with `enhancement` (off by default).
    pub fn with_enhancement(self, enhancement: OpusEnhancement) -> Self {
        Self { enhancement, ..self }
    }
}

impl Codec for OpusCodec {
    fn name(&self) -> &'static str {
        "opus"
    }

    fn format(&self) -> Option<Format> {
        Some(Format::Opus)
    }

    fn input(&self) -> Input {
        Input::Pcm
    }

    fn bitrates_kbps(&self) -> Vec<f32> {
        vec![*OpusSettings::RANGE.start() as f32, *OpusSettings::RANGE.end() as f32]
    }

    fn bitrate_kbps(&self) -> Option<f32> {
        Some(self.settings.kbps as f32)
    }

    /// An Opus file at or below this bitrate (with 10 % to spare for the container) is kept.
    fn keeps(&self, format: Format, kbps: f64) -> bool {
        format == Format::Opus && kbps <= self.settings.kbps as f64 * 1.1
    }

    #[cfg(feature = "opus")]
    fn encoder<'a>(&'a self, pcm: PcmSpec, out: &'a mut dyn Write) -> Result<Box<dyn Encoder + 'a>> {
        Ok(Box::new(stream::OggOpusEncoder::new(self.settings, pcm, out)?))
    }

    #[cfg(not(feature = "opus"))]
    fn encoder<'a>(&'a self, _pcm: PcmSpec, _out: &'a mut dyn Write) -> Result<Box<dyn Encoder + 'a>> {
        Err(Error::FeatureDisabled { what: "Opus encoder", feature: "opus" })
    }

    #[cfg(feature = "opus")]
    fn decoder<'a>(&'a self, input: Box<dyn ReadSeek>) -> Result<Decoded<'a>> {
        Ok(Decoded::Pcm(Box::new(stream::OggOpusDecoder::new(input, self.enhancement)?)))
    }

    #[cfg(not(feature = "opus"))]
    fn decoder<'a>(&'a self, _input: Box<dyn ReadSeek>) -> Result<Decoded<'a>> {
        Err(Error::FeatureDisabled { what: "Opus decoder", feature: "opus" })
    }
}
