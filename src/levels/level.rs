//! The cache levels and their fallback chains: each level an ordered list of codecs.

use std::fmt;

use crate::aac::{AacCodec, AacProfile, AacSettings};
use crate::codec::Codec;
use crate::encodec::{Bandwidth, EncodecCodec, Models};
use crate::gzip::GzipCodec;
use crate::lyra::{Bitrate, LyraCodec};
use crate::opus::{OpusCodec, OpusSettings};
use crate::stored::StoredCodec;
use crate::{Error, Result};

/// How hard to compress.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Level {
    /// A neural codec: EnCodec `.ecdc` (6 kbps by default), or Lyra v2 (its weights are built
    /// in, so it never lacks a model).
    Ultra(Ultra),
    /// Opus in an Ogg Opus (`.opus`) file (12 kbps by default).
    Compact(OpusSettings),
    /// AAC in an `.m4a` file (AAC-LC 64 kbps by default).
    Standard(AacSettings),
    /// gzip of the original bytes.
    Lossless,
    /// Stored as it is.
    Off,
}

/// The neural codec of [`Level::Ultra`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Ultra {
    /// EnCodec `.ecdc` at a bandwidth (1.5 to 24 kbps): needs EnCodec's weights; without
    /// them Ultra falls back to Lyra at 6 kbps.
    Encodec(Bandwidth),
    /// Lyra v2 in a framed file at a bitrate (3.2, 6 or 9.2 kbps), 16 kHz mono speech.
    Lyra(Bitrate),
}

impl Default for Level {
    /// Ultra with EnCodec at 6 kbps.
    fn default() -> Self {
        Self::Ultra(Ultra::Encodec(Bandwidth::Kbps6))
    }
}

impl Level {
    /// The level named `level` (`ultra`, `compact`, `standard`, `lossless`, `off`) with `codec`
    /// (Ultra: `ecdc` (default) or `lyra`, and `opus` means Compact; Standard: `aac` (default),
    /// `he-aac` or `he-aac-v2`) at `kbps` (the codec's default when `None`): what the command
    /// line's flags and the bindings' arguments name.
    pub fn from_names(level: &str, codec: Option<&str>, kbps: Option<f32>) -> Result<Level> {
        let codec = codec.map(str::to_ascii_lowercase);
        let unknown = |what: &str| Error::Setting(format!("no {what} for level {level:?}: {codec:?}"));
        let level = match (level.to_ascii_lowercase().as_str(), codec.as_deref()) {
            ("ultra" | "compact", Some("opus")) | ("compact", None) => Level::Compact(match kbps {
                Some(kbps) => OpusSettings::from_kbps(kbps)?,
                None => OpusSettings::default(),
            }),
            ("ultra", None | Some("ecdc" | "encodec")) => {
                Level::Ultra(Ultra::Encodec(Bandwidth::try_from_kbps(kbps.unwrap_or(6.0))?))
            }
            ("ultra", Some("lyra")) => {
                Level::Ultra(Ultra::Lyra(Bitrate::try_from_kbps(kbps.unwrap_or(6.0))?))
            }
            ("ultra" | "compact", Some(_)) => return Err(unknown("codec (ecdc, lyra or opus)")),
            ("standard", codec) => {
                let (profile, default_kbps) = match codec {
                    None | Some("aac" | "lc" | "aac-lc") => (AacProfile::Lc, 64),
                    Some("he-aac" | "he-aac-v1" | "he-v1") => (AacProfile::HeV1, 32),
                    Some("he-aac-v2" | "he-v2") => (AacProfile::HeV2, 24),
                    Some(_) => return Err(unknown("AAC flavour (aac, he-aac or he-aac-v2)")),
                };
                let kbps = kbps.unwrap_or(default_kbps as f32);
                if kbps.fract() != 0.0 || !(0.0..=u32::MAX as f32).contains(&kbps) {
                    return Err(Error::Setting(format!("an AAC bitrate in whole kbps, not {kbps}")));
                }
                Level::Standard(AacSettings::new(profile, kbps as u32)?)
            }
            ("lossless", None | Some("gzip")) => Level::Lossless,
            ("off", None | Some("stored")) => Level::Off,
            ("lossless" | "off", Some(_)) => return Err(unknown("codec")),
            (other, _) => {
                return Err(Error::Setting(format!(
                    "no level {other:?}: ultra, compact, standard, lossless or off"
                )))
            }
        };
        Ok(level)
    }

    /// The level's name: `ultra`, `compact`, `standard`, `lossless` or `off`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Ultra(_) => "ultra",
            Self::Compact(_) => "compact",
            Self::Standard(_) => "standard",
            Self::Lossless => "lossless",
            Self::Off => "off",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ultra(Ultra::Encodec(bandwidth)) => write!(f, "ultra ({} kbps EnCodec)", bandwidth.kbps()),
            Self::Ultra(Ultra::Lyra(bitrate)) => write!(f, "ultra ({bitrate} Lyra)"),
            Self::Compact(s) => write!(f, "compact (Opus {} kbps)", s.kbps),
            Self::Standard(s) => write!(f, "standard ({:?} AAC {} kbps)", s.profile, s.kbps),
            Self::Lossless => f.write_str("lossless (gzip)"),
            Self::Off => f.write_str("off"),
        }
    }
}

impl Level {
    /// The levels this one falls back through, itself first: Ultra (EnCodec → Lyra 6 kbps)
    /// → Compact → Standard → Lossless → Off (the fallbacks at their defaults), each with its codec: the
    /// chain is data, and every chain ends in "stored", which keeps anything.
    pub fn chain(self, models: &Models) -> Vec<(Level, Box<dyn Codec + '_>)> {
        let compact = match self {
            Level::Compact(settings) => Some(settings),
            Level::Ultra(_) => Some(OpusSettings::default()),
            _ => None,
        };
        let standard = match self {
            Level::Standard(settings) => Some(settings),
            Level::Ultra(_) | Level::Compact(_) => Some(AacSettings::default()),
            Level::Lossless | Level::Off => None,
        };
        let mut chain: Vec<(Level, Box<dyn Codec + '_>)> = Vec::new();
        match self {
            Level::Ultra(Ultra::Encodec(bandwidth)) => {
                chain.push((self, Box::new(EncodecCodec::new(models, bandwidth))));
                let lyra = Bitrate::Kbps6;
                chain.push((Level::Ultra(Ultra::Lyra(lyra)), Box::new(LyraCodec::new(lyra))));
            }
            Level::Ultra(Ultra::Lyra(bitrate)) => chain.push((self, Box::new(LyraCodec::new(bitrate)))),
            _ => {}
        }
        if let Some(settings) = compact {
            chain.push((Level::Compact(settings), Box::new(OpusCodec::new(settings))));
        }
        if let Some(settings) = standard {
            chain.push((Level::Standard(settings), Box::new(AacCodec::new(settings))));
        }
        if self != Level::Off {
            chain.push((Level::Lossless, Box::new(GzipCodec)));
        }
        chain.push((Level::Off, Box::new(StoredCodec)));
        chain
    }
}
