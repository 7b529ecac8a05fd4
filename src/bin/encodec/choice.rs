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

/// Extensions that name an audio format, and what they name.
const FORMAT_NAMES: [(&str, &str); 12] = [
    ("wav", "a WAV file"),
    ("ecdc", "an EnCodec file"),
    ("lyra", "a Lyra file"),
    ("opus", "an Ogg Opus file"),
    ("ogg", "an Ogg file"),
    ("mp3", "an MP3 file"),
    ("mp3z", "a gzipped MP3 file"),
    ("m4a", "an MP4 audio file"),
    ("mp4", "an MP4 file"),
    ("aac", "an AAC file"),
    ("flac", "a FLAC file"),
    ("gz", "a gzip file"),
];

/// Refuses to write `what` (e.g. "an .ecdc file") under a name whose extension says it is
/// another format (`encode x.wav y.wav` would put EnCodec bytes in a `.wav`); `fits` are the
/// extensions that do say what is written; unknown extensions and `-` (stdout) pass, and
/// `force` lets anything pass.
pub fn check_output_name(output: &Path, what: &str, fits: &[&str], force: bool) -> encodec::Result<()> {
    let extension = output.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    let named = extension.as_deref().and_then(|e| FORMAT_NAMES.iter().find(|(x, _)| *x == e));
    match named {
        Some((extension, names)) if !force && !fits.contains(extension) => {
            Err(encodec::Error::Setting(format!(
                "{} names {names}, but this writes {what}: use a .{} name, or --force to write it anyway",
                output.display(),
                fits[0]
            )))
        }
        _ => Ok(()),
    }
}
