//! Which codec `encode`, `decode` and `compress` use, and at what bitrate: `--codec`, else the
//! file's extension (`.lyra` is Lyra, `.opus` Opus, anything else EnCodec); `--bandwidth` in
//! kbps, read by the codec chosen.

use std::path::Path;

use encodec::lyra::{Bitrate, LyraError};
use encodec::{Bandwidth, Error, OpusSettings};

/// A neural codec the command line writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum CodecName {
    /// Meta's EnCodec, `.ecdc` files.
    #[value(alias = "encodec")]
    Ecdc,
    /// Google's Lyra v2 (built-in weights): `.lyra` packet streams, or framed files.
    Lyra,
    /// Opus (libopus) in Ogg Opus `.opus` files.
    Opus,
}

impl CodecName {
    /// `flag` if given, else Lyra for a `.lyra` file, Opus for `.opus`, else EnCodec.
    pub fn pick(flag: Option<CodecName>, path: &Path) -> CodecName {
        let extension = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
        flag.unwrap_or(match extension.as_deref() {
            Some("lyra") => CodecName::Lyra,
            Some("opus") => CodecName::Opus,
            _ => CodecName::Ecdc,
        })
    }

    /// The bitrate used when `--bandwidth` is not given, in kbps.
    pub fn default_kbps(self) -> f32 {
        match self {
            CodecName::Ecdc | CodecName::Lyra => 6.0,
            CodecName::Opus => OpusSettings::default().kbps as f32,
        }
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

/// Opus settings at `kbps` (a whole number, 6 to 64).
pub fn opus_settings(kbps: f32) -> encodec::Result<OpusSettings> {
    let whole = kbps.round();
    if whole != kbps {
        return Err(Error::Opus(format!("a bitrate in whole kbps (6 to 64), not {kbps}")));
    }
    OpusSettings::new(whole as u32)
}

/// Lyra's bitrate of `kbps` (3.2, 6 or 9.2).
pub fn lyra_bitrate(kbps: f32) -> encodec::Result<Bitrate> {
    Bitrate::from_kbps(kbps).ok_or_else(|| LyraError::Bitrate(kbps).into())
}
