//! Which codec `encode`, `decode` and `compress` use, and at what bitrate: `--codec`, else the
//! file's extension (`.lyra` is Lyra, `.opus` Opus, anything else EnCodec); `--bandwidth` in
//! kbps, read by the codec chosen.

use std::path::Path;

use encodec::OpusSettings;

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
