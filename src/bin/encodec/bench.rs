//! `encodec bench`: times encode and decode and prints one JSON line.

use std::path::PathBuf;
use std::time::Instant;

use encodec::hub;
use encodec::{audio, bench, profile, Bandwidth, Encodec, Precision};

use crate::Ui;

#[derive(clap::Args)]
pub struct Args {
    /// A folder with config.json and model.safetensors (e.g. weights/test-24khz), or a Hub id.
    #[arg(long, default_value = hub::DEFAULT_REPO)]
    model: String,
    /// Audio file to time (default: synthetic speech-like audio, see --seconds).
    #[arg(long, conflicts_with = "seconds")]
    input: Option<PathBuf>,
    /// Length of the synthetic clip, in seconds.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Target bandwidth in kbps.
    #[arg(long, default_value = "6", value_parser = crate::encode::parse_bandwidth)]
    bandwidth: Bandwidth,
    /// Worker threads (default: one per core).
    #[arg(long)]
    threads: Option<usize>,
    /// Precision of the layer weights: f32 (exact codes), f16 or bf16.
    #[arg(long, default_value = "f32")]
    dtype: Precision,
    /// Timed runs; the best is reported.
    #[arg(long, default_value_t = 3)]
    repeat: usize,
    /// Also print the time spent in each layer (summed over the timed runs) to stderr.
    #[arg(long)]
    profile: bool,
}

pub fn run(args: Args, ui: &Ui) -> encodec::Result<()> {
    let files = ui.resolve_model(&args.model)?;
    let start = Instant::now();
    let mut model = Encodec::from_files_with(&files, args.dtype)?;
    let load_s = start.elapsed().as_secs_f64();
    if let Some(threads) = args.threads {
        model = model.with_threads(threads)?;
    }
    let pcm = match &args.input {
        Some(path) => audio::convert(&audio::read(path)?, model.sample_rate(), model.channels())?,
        None => bench::synthetic_speech(args.seconds, model.sample_rate(), model.channels()),
    };
    let audio_s = pcm[0].len() as f64 / model.sample_rate() as f64;
    let bar = ui.step(format!("timing {audio_s:.1} s of audio, best of {}", args.repeat));
    profile::enable(args.profile);
    let timings = bench::measure(&model, &pcm, args.bandwidth, args.repeat);
    profile::enable(false);
    bar.finish_and_clear();
    let timings = timings?;
    let report = serde_json::json!({
        "model": args.model,
        "audio_s": round(audio_s),
        "load_s": round(load_s),
        "encode_s": round(timings.encode_s),
        "decode_s": round(timings.decode_s),
        "encode_rtf": round(audio_s / timings.encode_s),
        "decode_rtf": round(audio_s / timings.decode_s),
        "threads": model.threads(),
        "dtype": model.precision().as_str(),
        "bandwidth": args.bandwidth.kbps(),
    });
    println!("{report}");
    if args.profile {
        for (layer, seconds, calls) in profile::totals() {
            eprintln!("{seconds:>9.4} s {calls:>5}x  {layer}");
        }
    }
    Ok(())
}

/// Four significant decimals are plenty for timings and keep the line readable.
fn round(x: f64) -> f64 {
    (x * 1e4).round() / 1e4
}
