//! `encodec quality REF TEST [--mode speech|audio] [--json]`: ViSQOL MOS-LQO of a decoded file
//! against its source; both may be any file this crate reads (WAV, MP3, .opus, .ecdc, ...).

use std::path::{Path, PathBuf};

use encodec::audio::Audio;
use encodec::encodec::Models;
use encodec::levels;
use encodec::quality::{self, Mapping, QualityMode};
use encodec::Error;

use crate::compress::name_input;
use crate::Ui;

#[derive(clap::Args)]
pub struct Args {
    /// The reference (the source).
    reference: PathBuf,
    /// The audio to score (a decode of the reference, or a coded file itself).
    test: PathBuf,
    /// speech: ViSQOL's speech mode at 16 kHz; audio: audio mode at 48 kHz.
    #[arg(long, value_enum, default_value = "speech")]
    mode: Mode,
    /// How similarity becomes MOS: by default the mode's own (speech: lattice, audio: svr);
    /// `exponential` is speech mode's older fit.
    #[arg(long, value_enum)]
    mapping: Option<MappingArg>,
    /// Print JSON (mode, mapping, mos_lqo, nsim, band_nsim).
    #[arg(long)]
    json: bool,
    /// With --json: add each reference patch, where it matched and its NSIM.
    #[arg(long, requires = "json")]
    patches: bool,
    /// For .ecdc files: a folder or Hub repository id; by default the model named in the file.
    #[arg(long)]
    model: Option<String>,
}

/// The `--mode` values.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Mode {
    Speech,
    Audio,
}

/// The `--mapping` values.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum MappingArg {
    Lattice,
    Exponential,
    Svr,
}

impl From<MappingArg> for Mapping {
    fn from(mapping: MappingArg) -> Self {
        match mapping {
            MappingArg::Lattice => Mapping::Lattice,
            MappingArg::Exponential => Mapping::Exponential,
            MappingArg::Svr => Mapping::Svr,
        }
    }
}

impl From<Mode> for QualityMode {
    fn from(mode: Mode) -> Self {
        match mode {
            Mode::Speech => QualityMode::Speech,
            Mode::Audio => QualityMode::Audio,
        }
    }
}

pub fn run(args: Args, ui: &Ui) -> encodec::Result<()> {
    let models = crate::compress::models(args.model.clone(), ui);
    let bar = ui.step("measuring (ViSQOL)");
    let mode = QualityMode::from(args.mode);
    let mapping = args.mapping.map_or(mode.default_mapping(), Mapping::from);
    let quality = read(&args.reference, &models)
        .and_then(|reference| quality::measure(&reference, &read(&args.test, &models)?, mode, mapping));
    bar.finish_and_clear();
    let mut quality = quality?;
    if !args.patches {
        quality.patches.clear();
    }
    match args.json {
        true => println!("{}", serde_json::to_string(&quality).expect("plain fields")),
        false => println!(
            "MOS-LQO {:.3} ({:?} mode, {:?} mapping, NSIM {:.4})",
            quality.mos_lqo, quality.mode, quality.mapping, quality.nsim
        ),
    }
    Ok(())
}

/// The whole of the audio in the file at `path`, whatever it is.
pub fn read(path: &Path, models: &Models) -> encodec::Result<Audio> {
    let bytes = std::fs::read(path).map_err(|source| Error::Io { path: path.to_owned(), source })?;
    Ok(levels::decompress(&bytes, models).map_err(|e| name_input(e, path))?.audio)
}
