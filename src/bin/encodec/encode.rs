//! `encodec encode INPUT OUTPUT.ecdc`: read, converted and streamed through the model a chunk
//! at a time, in memory that does not grow with the input.

use std::path::PathBuf;

use encodec::audio::{self, StreamingConverter};
use encodec::{ecdc, hub, AtomicFile, Bandwidth};

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

/// Samples per channel pushed to the encoder at a time (2 s at 24 kHz): the first layers hold
/// ~130 bytes of activations per sample, so a chunk's buffers stay small (peak RSS ~140 MB with
/// the 24 kHz model, mostly its weights); 1 s chunks measured ~5-10 % slower.
const CHUNK: usize = 48_000;

pub fn run(args: Args, ui: &Ui) -> encodec::Result<()> {
    let bandwidth = args.bandwidth;
    let model = ui.load_model(&args.model)?;
    // The output appears whole or not at all; the writer fails before any work if .ecdc files
    // cannot name the model.
    let mut writer = ecdc::Writer::new(&model, bandwidth, AtomicFile::create(&args.output)?)?;
    // Any input streams: read a chunk at a time, remixed and resampled a chunk at a time.
    let mut input = audio::AudioChunks::open(&args.input)?;
    let mut converter = StreamingConverter::new(
        input.sample_rate(),
        input.channels(),
        model.sample_rate(),
        model.channels(),
    )?;
    let bar = ui.step(format!("encoding at {} kbps", bandwidth.kbps()));
    let frames = (CHUNK as u64 * input.sample_rate() as u64 / model.sample_rate() as u64).max(1) as usize;
    while let Some(audio) = input.next_chunk(frames)? {
        writer.push(&converter.push(&audio)?)?;
    }
    writer.push(&converter.finish()?)?;
    let file = writer.finish()?;
    bar.finish_and_clear();
    file.commit()
}
