//! `encodec decode INPUT.ecdc OUTPUT.wav [--from S] [--to S]`: streamed, a chunk of frames at a
//! time, in memory that does not grow with the file; a time range seeks into the codes.

use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;

use encodec::ecdc::{EcdcDecoder, Header, DEFAULT_PREROLL_FRAMES};
use encodec::Error;

use crate::wav_out::WavOut;
use crate::Ui;

#[derive(clap::Args)]
pub struct Args {
    /// The .ecdc file to decode.
    input: PathBuf,
    #[command(flatten)]
    out: WavOut,
    /// A folder or Hub repository id; by default the model named in the file.
    #[arg(long)]
    model: Option<String>,
    /// Start at this time, in seconds: the codes before it are skipped, not decoded.
    #[arg(long, value_name = "SECONDS", default_value_t = 0.0, value_parser = seconds)]
    from: f64,
    /// Stop at this time, in seconds (default: the end).
    #[arg(long, value_name = "SECONDS", value_parser = seconds)]
    to: Option<f64>,
    /// Frames decoded before --from to warm the decoder (24 kHz model; 75 frames = 1 s).
    #[arg(long, value_name = "FRAMES", default_value_t = DEFAULT_PREROLL_FRAMES)]
    preroll: usize,
}

fn seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(s) if s.is_finite() && s >= 0.0 => Ok(s),
        _ => Err(format!("{text:?} is not a time in seconds (0 or more)")),
    }
}

/// Frames decoded first: few, so that audio starts flowing at once (~0.1 s of audio).
const FIRST_FRAMES: usize = 8;
/// Frames per chunk once under way (2 s at 75 frames/s): the layers' buffers for a chunk stay
/// small (peak RSS ~140 MB with the 24 kHz model, mostly its weights); 1 s chunks measured
/// ~5-10 % slower.
const MAX_FRAMES: usize = 150;

pub fn run(args: Args, ui: &Ui) -> encodec::Result<()> {
    let file = File::open(&args.input).map_err(|source| Error::Io { path: args.input.clone(), source })?;
    let mut reader = BufReader::new(file);
    let header = Header::read(&mut reader)?;
    let model = ui.load_model(args.model.as_deref().unwrap_or(header.hub_repo()?))?;
    let rate = model.sample_rate() as f64;
    let sample = |seconds: f64| (seconds * rate).round().min(usize::MAX as f64) as usize;
    let range = sample(args.from)..args.to.map_or(header.audio_len, sample);
    let mut decoder = EcdcDecoder::new(&model, reader, &header, range, args.preroll)?;
    let bar = ui.step(format!("decoding {:.1} s of audio", decoder.len() as f64 / rate));
    let layout = (model.channels(), model.sample_rate(), decoder.len() as u64);
    let mut frames = FIRST_FRAMES;
    let result = args.out.write(layout, || {
        let pcm = decoder.next_chunk(frames);
        frames = (frames * 2).min(MAX_FRAMES);
        pcm
    });
    bar.finish_and_clear();
    result
}
