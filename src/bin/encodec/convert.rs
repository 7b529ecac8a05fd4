//! `encodec convert IN.th OUT_DIR`

use std::path::PathBuf;

use encodec::convert::{convert_checkpoint, CheckpointKind, WeightDtype};

use crate::Ui;

#[derive(clap::Args)]
pub struct Args {
    /// A Meta checkpoint, e.g. encodec_24khz-d7cc33bc.th (the hash in the name is checked).
    input: PathBuf,
    /// Folder to write config.json and model.safetensors into.
    output: PathBuf,
    /// Precision of the written weights.
    #[arg(long, value_enum, default_value = "f32")]
    dtype: Dtype,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Dtype {
    F32,
    F16,
}

pub fn run(args: Args, ui: &Ui) -> encodec::Result<()> {
    let dtype = match args.dtype {
        Dtype::F32 => WeightDtype::F32,
        Dtype::F16 => WeightDtype::F16,
    };
    let bar = ui.step(format!("converting {}", args.input.display()));
    let kind = convert_checkpoint(&args.input, &args.output, dtype)?;
    bar.finish_and_clear();
    let what = match kind {
        CheckpointKind::Model => "EnCodec model",
        CheckpointKind::LanguageModel => "EnCodec language model",
    };
    if !ui.quiet {
        eprintln!("{} -> {} ({what})", args.input.display(), args.output.display());
    }
    Ok(())
}
