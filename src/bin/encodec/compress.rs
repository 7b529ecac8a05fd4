//! `encodec compress IN OUT --level ...` and `encodec decompress ANY OUT.wav`: one file through
//! the library's compression levels and back.

use std::path::PathBuf;

use clap::ValueEnum;
use encodec::encodec::Models;
use encodec::hub::HubOptions;
use encodec::levels::{Compressor, Level, DEFAULT_MIN_SIZE};
use encodec::{Error, PlayerOptions};

use crate::choice::{self, CodecName};
use crate::quality;
use crate::wav_out::WavOut;
use crate::Ui;
use encodec::quality::{mos_lqo, QualityMode};

/// The level and its settings, shared by `compress` and `cache migrate`.
#[derive(clap::Args)]
pub struct LevelArgs {
    /// ultra: EnCodec .ecdc (falling back to Lyra), or Lyra; compact: Opus in .opus;
    /// standard: AAC in .m4a; lossless: gzip; off: stored as it is.
    #[arg(long, value_enum, default_value = "ultra")]
    level: LevelName,
    /// Ultra: the neural codec, EnCodec (ecdc) or Lyra v2 (framed files, built-in weights);
    /// opus means the compact level.
    #[arg(long, value_enum, default_value = "ecdc")]
    codec: CodecName,
    /// Ultra and compact: bitrate in kbps (EnCodec 1.5, 3, 6, 12, 24; Lyra 3.2, 6, 9.2;
    /// default 6; Opus 6-64, default 12).
    #[arg(long, value_parser = choice::kbps)]
    bandwidth: Option<f32>,
    /// Standard: the AAC flavour.
    #[arg(long, value_enum, default_value = "lc")]
    aac: AacName,
    /// Standard: AAC bitrate in kbps (LC 16-320, default 64; HE-AAC 16-48, default 32 for
    /// v1 and 24 for v2).
    #[arg(long)]
    kbps: Option<u32>,
    /// Files smaller than this many bytes are stored as they are.
    #[arg(long, default_value_t = DEFAULT_MIN_SIZE)]
    min_size: u64,
    /// Ultra: a folder or Hub repository id for the EnCodec model (default
    /// facebook/encodec_24khz; .ecdc inputs use the model they name).
    #[arg(long)]
    model: Option<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum LevelName {
    Ultra,
    Compact,
    Standard,
    Lossless,
    Off,
}

#[derive(Clone, Copy, ValueEnum)]
enum AacName {
    Lc,
    HeV1,
    HeV2,
}

impl LevelArgs {
    /// The compressor these settings describe.
    pub fn compressor(&self, ui: &Ui) -> encodec::Result<Compressor> {
        let level = match self.level {
            LevelName::Standard => {
                let aac = self.aac.to_possible_value().expect("a named value");
                Level::from_names("standard", Some(aac.get_name()), self.kbps.map(|k| k as f32))?
            }
            LevelName::Ultra => {
                let codec = self.codec.to_possible_value().expect("a named value");
                Level::from_names("ultra", Some(codec.get_name()), self.bandwidth)?
            }
            level => {
                let name = level.to_possible_value().expect("a named value");
                Level::from_names(name.get_name(), None, self.bandwidth)?
            }
        };
        Ok(Compressor::new(level, models(self.model.clone(), ui)).with_min_size(self.min_size))
    }
}

pub fn models(spec: Option<String>, ui: &Ui) -> Models {
    Models::spec(spec, HubOptions { progress: !ui.quiet, ..HubOptions::from_env() })
}

#[derive(clap::Args)]
pub struct CompressArgs {
    /// The audio file (WAV, MP3, M4A/AAC, FLAC, Ogg, .ecdc, or any of them gzipped).
    input: PathBuf,
    /// The file to write (may be the input itself: replaced atomically).
    output: PathBuf,
    #[command(flatten)]
    level: LevelArgs,
    /// Print what was done as JSON (codec, level, sizes, ratio, duration, fallback reason).
    #[arg(long)]
    json: bool,
    /// Also measure the round trip's quality (ViSQOL speech mode MOS-LQO of the output against
    /// the input; `mos_lqo` in the JSON).
    #[arg(long)]
    quality: bool,
}

pub fn compress(args: CompressArgs, ui: &Ui) -> encodec::Result<()> {
    let compressor = args.level.compressor(ui)?;
    // Read before compressing: the output may replace the input.
    let reference = match args.quality {
        true => Some(quality::read(&args.input, compressor.models())?),
        false => None,
    };
    let bar = ui.step(format!("compressing at level {}", compressor.level()));
    let metadata = compressor.compress_file(&args.input, &args.output);
    bar.finish_and_clear();
    let metadata = metadata?;
    let quality = match reference {
        Some(reference) => {
            let bar = ui.step("measuring the round trip (ViSQOL)");
            let decoded = quality::read(&args.output, compressor.models());
            let quality = decoded.and_then(|d| mos_lqo(&reference, &d, QualityMode::Speech));
            bar.finish_and_clear();
            Some(quality?)
        }
        None => None,
    };
    if args.json {
        let mut json = serde_json::to_value(&metadata).expect("plain fields");
        if let Some(quality) = quality {
            json["mos_lqo"] = quality.mos_lqo.into();
            json["quality_mode"] = serde_json::to_value(quality.mode).expect("a name");
        }
        println!("{json}");
    } else if !ui.quiet {
        eprintln!(
            "{}: {:?}, {} -> {} bytes ({:.1}x){}{}{}",
            args.output.display(),
            metadata.codec,
            metadata.original_size,
            metadata.compressed_size,
            metadata.ratio,
            metadata.duration_s.map(|s| format!(", {s:.2} s")).unwrap_or_default(),
            if metadata.truncated { " (cut short: read as far as it goes)" } else { "" },
            metadata.fallback_reason.map(|r| format!("; fell back: {r}")).unwrap_or_default()
        );
        if let Some(quality) = quality {
            eprintln!("MOS-LQO {:.3} (ViSQOL {:?} mode)", quality.mos_lqo, quality.mode);
        }
    }
    Ok(())
}

#[derive(clap::Args)]
pub struct DecompressArgs {
    /// Any file `compress` writes (.ecdc, framed Lyra, .m4a, gzip, WAV) or any audio file it
    /// reads.
    input: PathBuf,
    #[command(flatten)]
    out: WavOut,
    /// For .ecdc files: a folder or Hub repository id; by default the model named in the file.
    #[arg(long)]
    model: Option<String>,
}

pub fn decompress(args: DecompressArgs, ui: &Ui) -> encodec::Result<()> {
    args.out.check_name()?;
    let options = PlayerOptions::with_models(models(args.model, ui));
    crate::decode::write(options, &args.input, &args.out, (0.0, None), crate::decode::Cut::Accept, ui)
}

/// Names the input file in an audio error about `<input>`.
pub fn name_input(error: Error, path: &std::path::Path) -> Error {
    match error {
        Error::Audio { reason, .. } => Error::Audio { path: path.to_owned(), reason },
        other => other,
    }
}
