//! `encodec bench`: times encode and decode and prints one JSON line.

use std::io::Cursor;
use std::path::PathBuf;
use std::time::Instant;

use encodec::codec::{self, Codec, PcmDecoder};
use encodec::hub;
use encodec::lyra::{Bitrate, Container, Lyra, LyraCodec, FRAME_SAMPLES, SAMPLE_RATE};
use encodec::{audio, bench, profile, AacCodec, Bandwidth, Encodec, EncodecCodec, Kernels, OpusCodec};
use encodec::{PlayerOptions, Precision};

use crate::choice::{self, CodecName};
use crate::Ui;

#[derive(clap::Args)]
pub struct Args {
    /// The codec to time: EnCodec (the model from --model) or Lyra (built-in weights; one
    /// thread unless --threads).
    #[arg(long, value_enum, default_value = "ecdc")]
    codec: CodecName,
    /// EnCodec: a folder with config.json and model.safetensors (e.g. weights/test-24khz), or a Hub id.
    #[arg(long, default_value = hub::DEFAULT_REPO)]
    model: String,
    /// Audio file to time (default: synthetic speech-like audio, see --seconds).
    #[arg(long, conflicts_with = "seconds")]
    input: Option<PathBuf>,
    /// Length of the synthetic clip, in seconds.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Target bitrate in kbps (EnCodec 1.5-24, Lyra 3.2, 6 or 9.2).
    #[arg(long, default_value = "6", value_parser = choice::kbps)]
    bandwidth: f32,
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
    /// Instead, time to first audio through the player, per codec: a file of each made from
    /// the clip, then opening it and reading its first 20 ms, cold (a fresh EnCodec model
    /// store: weights read from --model; Lyra's built-in model parsed the first time in the
    /// process) and warm (models loaded; best of --repeat). One thread unless --threads; one
    /// JSON line per codec.
    #[arg(long, conflicts_with_all = ["stream_chunk", "preroll_study", "profile"])]
    first_audio: bool,
}

pub fn run(args: Args, ui: &Ui) -> encodec::Result<()> {
    if args.first_audio {
        return run_first_audio(args, ui);
    }
    if args.codec == CodecName::Lyra {
        return run_lyra(args, ui);
    }
    let bandwidth = encodec::Bandwidth::try_from_kbps(args.bandwidth)?;
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
        for q in bench::preroll_study(&model, &pcm, bandwidth, &args.preroll_study, 10, window)? {
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
        None => bench::measure(&model, &pcm, bandwidth, args.repeat).map(|t| (t, None)),
        Some(chunk) => bench::measure_stream(&model, &pcm, bandwidth, chunk, args.repeat)
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
        "bandwidth": bandwidth.kbps(),
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
    print_profile(args.profile);
    Ok(())
}

/// With `--profile`, each layer's total time to stderr.
fn print_profile(enabled: bool) {
    if enabled {
        for (layer, seconds, calls) in profile::totals() {
            eprintln!("{seconds:>9.4} s {calls:>5}x  {layer}");
        }
    }
}

/// Lyra: the batch encode (encoder and quantizer) and decode (quantizer and LyraGAN), best of
/// `--repeat`, as time per 20 ms frame and times real time.
fn run_lyra(args: Args, ui: &Ui) -> encodec::Result<()> {
    let bitrate = encodec::lyra::Bitrate::try_from_kbps(args.bandwidth)?;
    let start = Instant::now();
    let lyra = Lyra::bundled()?;
    let load_s = start.elapsed().as_secs_f64();
    let pcm = match &args.input {
        Some(path) => audio::convert(&audio::read(path)?, SAMPLE_RATE, 1)?.swap_remove(0),
        None => bench::synthetic_speech(args.seconds, SAMPLE_RATE, 1).swap_remove(0),
    };
    let frames = pcm.len().div_ceil(FRAME_SAMPLES).max(1) as f64;
    let audio_s = pcm.len() as f64 / SAMPLE_RATE as f64;
    let bar = ui.step(format!("timing {audio_s:.1} s of audio, best of {}", args.repeat));
    // The larger convolutions share their rows among the pool's threads: one by default, as
    // a per-stream decoder in a server runs.
    let threads = args.threads.unwrap_or(1).max(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| encodec::Error::Threads(e.to_string()))?;
    let (mut encode_s, mut decode_s) = (f64::INFINITY, f64::INFINITY);
    let (mut encoder_s, mut decoder_s) = (f64::INFINITY, f64::INFINITY);
    profile::enable(args.profile);
    pool.install(|| -> encodec::Result<()> {
        for _ in 0..args.repeat.max(1) {
            let start = Instant::now();
            let packets = lyra.encode(&pcm, bitrate);
            encode_s = encode_s.min(start.elapsed().as_secs_f64());
            let start = Instant::now();
            std::hint::black_box(lyra.decode(&packets, bitrate)?);
            decode_s = decode_s.min(start.elapsed().as_secs_f64());
            // The encoder network alone (its features, no quantizer), to set beside others'.
            let start = Instant::now();
            let features = std::hint::black_box(lyra.features(&pcm));
            encoder_s = encoder_s.min(start.elapsed().as_secs_f64());
            // LyraGAN alone (features in, samples out, no quantizer).
            let start = Instant::now();
            std::hint::black_box(lyra.synthesize_features(&features));
            decoder_s = decoder_s.min(start.elapsed().as_secs_f64());
        }
        Ok(())
    })?;
    bar.finish_and_clear();
    let report = serde_json::json!({
        "codec": "lyra",
        "audio_s": round(audio_s),
        "load_s": round(load_s),
        "encode_s": round(encode_s),
        "decode_s": round(decode_s),
        "encode_rtf": round(audio_s / encode_s),
        "decode_rtf": round(audio_s / decode_s),
        "encode_us_per_frame": round(1e6 * encode_s / frames),
        "decode_us_per_frame": round(1e6 * decode_s / frames),
        "encoder_network_us_per_frame": round(1e6 * encoder_s / frames),
        "decoder_network_us_per_frame": round(1e6 * decoder_s / frames),
        "threads": threads,
        "kernels": env_kernels()?,
        "bandwidth": bitrate.kbps(),
    });
    profile::enable(false);
    println!("{report}");
    print_profile(args.profile);
    Ok(())
}

/// `encodec bench --first-audio`: see the flag.
fn run_first_audio(args: Args, ui: &Ui) -> encodec::Result<()> {
    let threads = args.threads.unwrap_or(1).max(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| encodec::Error::Threads(e.to_string()))?;
    // Lyra's built-in model is parsed once per process: timed here, first, and counted in
    // its files' cold figure.
    let start = Instant::now();
    Lyra::bundled()?;
    let lyra_load_ms = start.elapsed().as_secs_f64() * 1e3;
    let spec = Some(args.model.clone());
    let models = || crate::compress::models(spec.clone(), ui);
    let pcm = match &args.input {
        Some(path) => audio::read(path)?,
        None => {
            audio::Audio { sample_rate: 24_000, channels: bench::synthetic_speech(args.seconds, 24_000, 1) }
        }
    };
    let wav = audio::wav_bytes(&pcm.channels, pcm.sample_rate, audio::WavFormat::Pcm16)?;
    let clip = || -> encodec::Result<Box<dyn PcmDecoder>> {
        Ok(Box::new(audio::AudioChunks::from_reader(Box::new(Cursor::new(wav.clone())), None)?))
    };
    let encoding_models = models();
    let codecs: Vec<(&str, Box<dyn Codec + '_>)> = vec![
        ("lyra 3.2 kbps (framed)", Box::new(LyraCodec::new(Bitrate::Kbps3_2))),
        ("lyra 6 kbps (raw)", Box::new(LyraCodec::new(Bitrate::Kbps6).container(Container::Raw))),
        ("ecdc 6 kbps", Box::new(EncodecCodec::new(&encoding_models, Bandwidth::Kbps6))),
        ("opus 12 kbps", Box::new(OpusCodec::default())),
        ("aac", Box::new(AacCodec::default())),
    ];
    let mut files: Vec<(&str, Vec<u8>)> = Vec::new();
    let bar = ui.step("writing a file per codec");
    for (name, codec) in &codecs {
        let mut out = Vec::new();
        codec::encode_pcm(codec.as_ref(), clip()?.as_mut(), &mut out)?;
        files.push((name, out));
    }
    files.push(("gzip (wav)", encodec::internals::gzip::compress(&wav)?));
    files.push(("wav", wav.clone()));
    bar.finish_and_clear();
    drop(codecs);
    let kernels = env_kernels()?;
    pool.install(|| -> encodec::Result<()> {
        let first_audio = |options: PlayerOptions, bytes: &[u8]| -> encodec::Result<f64> {
            let start = Instant::now();
            let mut player = options.open(bytes.to_vec())?;
            let mut block = vec![0.0; player.sample_rate() as usize / 50 * player.channels()];
            player.read(&mut block)?;
            Ok(start.elapsed().as_secs_f64() * 1e3)
        };
        let warm = std::sync::Arc::new(models());
        for (name, bytes) in &files {
            let raw = name.contains("raw");
            let options = |models: std::sync::Arc<encodec::encodec::Models>| {
                let options = PlayerOptions::with_shared_models(models);
                if raw {
                    options.raw_lyra(Bitrate::Kbps6)
                } else {
                    options
                }
            };
            let load_ms = if name.starts_with("lyra") { lyra_load_ms } else { 0.0 };
            let cold_ms = load_ms + first_audio(options(std::sync::Arc::new(models())), bytes)?;
            let mut warm_ms = f64::INFINITY;
            for _ in 0..args.repeat.max(1) {
                warm_ms = warm_ms.min(first_audio(options(warm.clone()), bytes)?);
            }
            let line = serde_json::json!({
                "first_audio": name,
                "cold_ms": round(cold_ms),
                "warm_ms": round(warm_ms),
                "file_bytes": bytes.len(),
                "audio_s": round(pcm.channels[0].len() as f64 / pcm.sample_rate as f64),
                "threads": threads,
                "kernels": kernels,
            });
            println!("{line}");
        }
        Ok(())
    })
}

/// The kernel path the library's layers take: `ENCODEC_KERNELS`, else the best the CPU has.
fn env_kernels() -> encodec::Result<&'static str> {
    Ok(Kernels::from_env()?.unwrap_or_else(Kernels::best).as_str())
}

/// Four significant decimals are plenty for timings and keep the line readable.
fn round(x: f64) -> f64 {
    (x * 1e4).round() / 1e4
}
