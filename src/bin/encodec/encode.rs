//! `encodec encode INPUT OUTPUT.ecdc`

use std::path::PathBuf;

use encodec::{atomic, audio, ecdc, hub, Bandwidth};

use crate::Ui;

#[derive(clap::Args)]
pub struct Args {
    /// Audio file to encode.
    input: PathBuf,
    /// The .ecdc file to write.
    output: PathBuf,
    /// A folder with config.json and model.safetensors, or a Hub repository id.
    #[arg(long, default_value = hub::DEFAULT_REPO)]
    model: String,
    /// Target bandwidth in kbps: 1.5, 3, 6, 12 or 24 (the 48 kHz model: 3 to 24).
    #[arg(long, default_value = "6", value_parser = parse_bandwidth)]
    bandwidth: Bandwidth,
}

pub fn parse_bandwidth(text: &str) -> Result<Bandwidth, String> {
    let kbps: f32 = text.parse().map_err(|_| format!("{text:?} is not a number"))?;
    Bandwidth::from_kbps(kbps).ok_or_else(|| "bandwidth is one of 1.5, 3, 6, 12, 24".into())
}

pub fn run(args: Args, ui: &Ui) -> encodec::Result<()> {
    let bandwidth = args.bandwidth;
    let model = ui.load_model(&args.model)?;
    ecdc::model_name(model.config())?; // before the work: the model must be one .ecdc files can name
    let input = audio::read(&args.input)?;
    let pcm = audio::convert(&input, model.sample_rate(), model.channels())?;
    let bar = ui.step(format!("encoding {:.1} s of audio at {} kbps", input.duration_s(), bandwidth.kbps()));
    let codes = model.encode(&pcm, bandwidth)?;
    bar.finish_and_clear();
    atomic::write(&args.output, |file| ecdc::write(file, &codes, model.config()))
}
