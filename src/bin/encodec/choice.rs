//! Which codec `encode`, `decode` and `compress` use, and at what bitrate: `--codec`, else the
//! file's extension (`.lyra` is Lyra, anything else EnCodec); `--bandwidth` in kbps, read by
//! the codec chosen.

use std::path::Path;

use encodec::lyra::{Bitrate, LyraError};
use encodec::{Bandwidth, Error};

/// A neural codec the command line writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum CodecName {
    /// Meta's EnCodec, `.ecdc` files.
    #[value(alias = "encodec")]
    Ecdc,
    /// Google's Lyra v2 (built-in weights): `.lyra` packet streams, or framed files.
    Lyra,
}

impl CodecName {
    /// `flag` if given, else Lyra for a `.lyra` file, else EnCodec.
    pub fn pick(flag: Option<CodecName>, path: &Path) -> CodecName {
        flag.unwrap_or_else(|| match path.extension().and_then(|e| e.to_str()) {
            Some(ext) if ext.eq_ignore_ascii_case("lyra") => CodecName::Lyra,
            _ => CodecName::Ecdc,
        })
    }
}

/// `--bandwidth`: a bitrate in kbps, checked against the codec once it is known.
pub fn kbps(text: &str) -> Result<f32, String> {
    match text.trim().parse::<f32>() {
        Ok(kbps) if kbps.is_finite() && kbps > 0.0 => Ok(kbps),
        _ => Err(format!("{text:?} is not a bitrate in kbps")),
    }
}

/// EnCodec's bandwidth of `kbps` (1.5, 3, 6, 12 or 24).
pub fn encodec_bandwidth(kbps: f32) -> encodec::Result<Bandwidth> {
    Bandwidth::from_kbps(kbps).ok_or_else(|| Error::UnsupportedBandwidth {
        requested: kbps,
        supported: Bandwidth::ALL.iter().map(|b| b.kbps()).collect(),
    })
}

/// Lyra's bitrate of `kbps` (3.2, 6 or 9.2).
pub fn lyra_bitrate(kbps: f32) -> encodec::Result<Bitrate> {
    Bitrate::from_kbps(kbps).ok_or_else(|| LyraError::Bitrate(kbps).into())
}
