//! `encodec encode INPUT OUTPUT.ecdc|OUTPUT.lyra|OUTPUT.opus`: read, converted and streamed through the
//! model a chunk at a time, in memory that does not grow with the input.

use std::path::PathBuf;

use encodec::audio::{self, StreamingConverter};
use encodec::lyra::{Container, LyraCodec};
use encodec::{codec, ecdc, hub, AtomicFile, Bandwidth, Codec, OpusCodec};

use crate::choice::{self, CodecName};
use crate::Ui;

#[derive(clap::Args)]
pub struct Args {
    /// Audio file to encode.
    input: PathBuf,
    /// The file to write: .ecdc (EnCodec), .lyra (Lyra's raw packets), .opus (Ogg Opus), or
    /// anything with --codec.
    output: PathBuf,
    /// The codec (default: Lyra for a .lyra OUTPUT or with --framed, Opus for .opus, else
    /// EnCodec).
    #[arg(long, value_enum)]
    codec: Option<CodecName>,
    /// EnCodec: a folder with config.json and model.safetensors, or a Hub repository id.
    #[arg(long, default_value = hub::DEFAULT_REPO)]
    model: String,
    /// Target bitrate in kbps. EnCodec: 1.5, 3, 6 (default), 12 or 24 (the 48 kHz model: 3
    /// to 24); Lyra: 3.2, 6 (default) or 9.2; Opus: 6 to 64 (default 12).
    #[arg(long, value_parser = choice::kbps)]
    bandwidth: Option<f32>,
    /// Lyra: write a framed file (bitrate, source rate and length recorded, so that decoding
    /// needs no flags and gives back the source's length) instead of Google's raw packets.
    #[arg(long)]
    framed: bool,
}

/// Samples per channel pushed to the encoder at a time (2 s at 24 kHz): the first layers hold
/// ~130 bytes of activations per sample, so a chunk's buffers stay small (peak RSS ~140 MB with
/// the 24 kHz model, mostly its weights); 1 s chunks measured ~5-10 % slower.
const CHUNK: usize = 48_000;

impl Args {
    /// A combination of flags clap cannot refuse by itself.
    pub fn usage_error(&self) -> Option<&'static str> {
        (self.framed && self.codec == Some(CodecName::Ecdc))
            .then_some("--framed writes Lyra files, not EnCodec's")
    }
}

pub fn run(args: Args, ui: &Ui) -> encodec::Result<()> {
    let codec = match args.framed {
        true => CodecName::Lyra,
        false => CodecName::pick(args.codec, &args.output),
    };
    let kbps = args.bandwidth.unwrap_or(codec.default_kbps());
    match codec {
        CodecName::Ecdc => encode_ecdc(&args, encodec::Bandwidth::try_from_kbps(kbps)?, ui),
        CodecName::Lyra => {
            // Any input, mixed to mono and resampled to 16 kHz.
            let bitrate = encodec::lyra::Bitrate::try_from_kbps(kbps)?;
            let container = if args.framed { Container::Framed } else { Container::Raw };
            encode_with(&LyraCodec::new(bitrate).container(container), &args, ui)
        }
        CodecName::Opus => encode_with(&OpusCodec::new(encodec::OpusSettings::from_kbps(kbps)?), &args, ui),
    }
}

/// Through the codec interface, streaming.
fn encode_with(codec: &dyn Codec, args: &Args, ui: &Ui) -> encodec::Result<()> {
    let mut input = audio::AudioChunks::open(&args.input)?;
    let mut file = AtomicFile::create(&args.output)?;
    let kbps = codec.bitrate_kbps().unwrap_or_default();
    let bar = ui.step(format!("encoding at {kbps} kbps with {}", codec.name()));
    let result = codec::encode_pcm(codec, &mut input, &mut file);
    bar.finish_and_clear();
    result?;
    file.commit()
}

fn encode_ecdc(args: &Args, bandwidth: Bandwidth, ui: &Ui) -> encodec::Result<()> {
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
