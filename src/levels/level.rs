//! The cache levels and their fallback chains: each level an ordered list of codecs.

use std::fmt;

use crate::aac::{AacCodec, AacSettings};
use crate::codec::Codec;
use crate::encodec::{Bandwidth, EncodecCodec, Models};
use crate::gzip::GzipCodec;
use crate::stored::StoredCodec;

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

impl Level {
    /// The levels this one falls back through, itself first: Ultra → Standard → Lossless → Off
    /// (Standard and Lossless at their defaults), each with its codec: the chain is data, and
    /// every chain ends in "stored", which keeps anything.
    pub fn chain(self, models: &Models) -> Vec<(Level, Box<dyn Codec + '_>)> {
        let standard = match self {
            Level::Standard(settings) => Some(settings),
            Level::Ultra { .. } => Some(AacSettings::default()),
            Level::Lossless | Level::Off => None,
        };
        let mut chain: Vec<(Level, Box<dyn Codec + '_>)> = Vec::new();
        if let Level::Ultra { bandwidth } = self {
            chain.push((self, Box::new(EncodecCodec::new(models, bandwidth))));
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
