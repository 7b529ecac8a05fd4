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
    /// Also time the streaming encoder and decoder, pushing this many samples (and as many
    /// frames of codes) at a time, each timed run next to a batch run.
    #[arg(long, value_name = "SAMPLES")]
    stream_chunk: Option<usize>,
    /// Instead of timing, measure seeking: for each of these pre-roll lengths (frames), the
    /// SNR of 0.5 s decoded after 10 seek points against the full decode (one JSON line each).
    #[arg(long, value_name = "FRAMES,...", value_delimiter = ',')]
    preroll_study: Vec<usize>,
    /// Also print the time spent in each layer (summed over the timed runs) to stderr.
    #[arg(long)]
    profile: bool,
}

pub fn run(args: Args, ui: &Ui) -> encodec::Result<()> {
    let files = ui.resolve_model(&args.model)?;
    let start = Instant::now();
    let mut model = Encodec::from_files_with(&files, args.dtype)?;
    let load_s = start.elapsed().as_secs_f64();
    ui.warn_if_slow(&model);
    if let Some(threads) = args.threads {
        model = model.with_threads(threads)?;
    }
    let pcm = match &args.input {
        Some(path) => audio::convert(&audio::read(path)?, model.sample_rate(), model.channels())?,
        None => bench::synthetic_speech(args.seconds, model.sample_rate(), model.channels()),
    };
    let audio_s = pcm[0].len() as f64 / model.sample_rate() as f64;
    if !args.preroll_study.is_empty() {
        let window = model.sample_rate() as usize / 2;
        for q in bench::preroll_study(&model, &pcm, args.bandwidth, &args.preroll_study, 10, window)? {
            let snr =
                |db: f64| if db.is_finite() { round(db).into() } else { serde_json::Value::from("inf") };
            let line = serde_json::json!({
                "model": args.model,
                "preroll_frames": q.preroll_frames,
                "preroll_s": round(q.preroll_frames as f64 * model.config().hop_length() as f64 / model.sample_rate() as f64),
                "worst_snr_db": snr(q.worst_snr_db),
                "mean_snr_db": snr(q.mean_snr_db),
                "max_abs": q.max_abs,
            });
            println!("{line}");
        }
        return Ok(());
    }
    let bar = ui.step(format!("timing {audio_s:.1} s of audio, best of {}", args.repeat));
    profile::enable(args.profile);
    let timings = match args.stream_chunk {
        None => bench::measure(&model, &pcm, args.bandwidth, args.repeat).map(|t| (t, None)),
        Some(chunk) => bench::measure_stream(&model, &pcm, args.bandwidth, chunk, args.repeat)
            .map(|(batch, stream)| (batch, Some(stream))),
    };
    profile::enable(false);
    bar.finish_and_clear();
    let (timings, stream) = timings?;
    let mut report = serde_json::json!({
        "model": args.model,
        "audio_s": round(audio_s),
        "load_s": round(load_s),
        "encode_s": round(timings.encode_s),
        "decode_s": round(timings.decode_s),
        "encode_rtf": round(audio_s / timings.encode_s),
        "decode_rtf": round(audio_s / timings.decode_s),
        "threads": model.threads(),
        "kernels": model.kernels().as_str(),
        "dtype": model.precision().as_str(),
        "bandwidth": args.bandwidth.kbps(),
    });
    if let (Some(stream), Some(chunk)) = (stream, args.stream_chunk) {
        let frames = (pcm[0].len() as f64 / model.config().hop_length() as f64).ceil().max(1.0);
        report["stream_chunk"] = chunk.into();
        report["stream_encode_s"] = round(stream.encode_s).into();
        report["stream_decode_s"] = round(stream.decode_s).into();
        report["stream_encode_vs_batch"] = round(stream.encode_s / timings.encode_s).into();
        report["stream_decode_vs_batch"] = round(stream.decode_s / timings.decode_s).into();
        report["stream_encode_ms_per_frame"] = round(1e3 * stream.encode_s / frames).into();
    }
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
