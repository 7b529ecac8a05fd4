//! `encodec encode INPUT OUTPUT.ecdc`: read, converted and streamed through the model a chunk
//! at a time, in memory that does not grow with the input.

use std::io::{BufReader, BufWriter, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use encodec::audio::{self, StreamingConverter};
use encodec::ecdc::{self, Header, PayloadWriter};
use encodec::{atomic, hub, Bandwidth, Error};

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
    let config = model.config();
    ecdc::model_name(config)?; // before the work: the model must be one .ecdc files can name
    let mut encoder = model.stream_encoder(bandwidth)?;
    // The payload goes to a spool file beside the output while the audio streams in: the
    // header, which comes first, holds the audio length, known only at the end.
    let dir = match args.output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let io = |source| Error::Io { path: args.output.clone(), source };
    let spool = tempfile::tempfile_in(dir).map_err(io)?;
    let mut payload = PayloadWriter::bare(BufWriter::new(spool), config);
    // Any input streams: read a chunk at a time, remixed and resampled a chunk at a time.
    let mut input = audio::AudioChunks::open(&args.input)?;
    let mut converter = StreamingConverter::new(
        input.sample_rate(),
        input.channels(),
        model.sample_rate(),
        model.channels(),
    )?;
    let mut feed = |pcm: &[Vec<f32>]| -> encodec::Result<()> {
        for chunk in encoder.push(pcm)? {
            payload.push(&chunk)?;
        }
        Ok(())
    };
    let bar = ui.step(format!("encoding at {} kbps", bandwidth.kbps()));
    let frames = (CHUNK as u64 * input.sample_rate() as u64 / model.sample_rate() as u64).max(1) as usize;
    while let Some(audio) = input.next_chunk(frames)? {
        feed(&converter.push(&audio)?)?;
    }
    feed(&converter.finish()?)?;
    let (rest, audio_len) = encoder.finish()?;
    for chunk in rest {
        payload.push(&chunk)?;
    }
    bar.finish_and_clear();
    let mut spool = payload.finish().map_err(Error::Ecdc)?.into_inner().map_err(|e| io(e.into_error()))?;
    spool.seek(SeekFrom::Start(0)).map_err(io)?;
    let header = Header::for_model(config, audio_len, bandwidth.num_codebooks(config)?)?;
    atomic::write(&args.output, |file| header.write_with_payload(file, BufReader::new(spool)))
}
