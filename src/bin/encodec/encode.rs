//! `encodec encode INPUT OUTPUT.ecdc|OUTPUT.lyra|OUTPUT.opus`: read, converted and streamed through the
//! model a chunk at a time, in memory that does not grow with the input; `-` reads standard
//! input or writes standard output.

use std::io::Write;
use std::path::{Path, PathBuf};

use encodec::audio::{self, StreamingConverter};
use encodec::lyra::{Container, LyraCodec};
use encodec::{codec, ecdc, hub, Bandwidth, Codec, Encodec, OpusCodec};

use crate::choice::{self, CodecName};
use crate::output::Output;
use crate::Ui;

#[derive(clap::Args)]
pub struct Args {
    /// Audio file to encode, or `-` for standard input (a format that reads front to back:
    /// WAV, MP3, ADTS AAC, FLAC, Ogg).
    input: PathBuf,
    /// The file to write: .ecdc (EnCodec), .lyra (Lyra's raw packets), .opus (Ogg Opus), or
    /// anything with --codec; `-` for standard output.
    output: PathBuf,
    /// Write even under a name whose extension says another format (like `.wav`).
    #[arg(long)]
    force: bool,
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
    let (what, fits): (_, &[_]) = match codec {
        CodecName::Ecdc => ("an EnCodec .ecdc file", &["ecdc"]),
        CodecName::Lyra => ("a Lyra file", &["lyra"]),
        CodecName::Opus => ("an Ogg Opus file", &["opus", "ogg"]),
    };
    choice::check_output_name(&args.output, what, fits, args.force)?;
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

/// The audio to encode: a file, or standard input for `-`.
pub fn open_input(path: &Path) -> encodec::Result<audio::AudioChunks> {
    if path.as_os_str() == "-" {
        return audio::AudioChunks::from_stream(std::io::stdin(), None);
    }
    audio::AudioChunks::open(path)
}

/// Through the codec interface, streaming.
fn encode_with(codec: &dyn Codec, args: &Args, ui: &Ui) -> encodec::Result<()> {
    let mut input = open_input(&args.input)?;
    let mut out = Output::create(&args.output)?;
    let kbps = codec.bitrate_kbps().unwrap_or_default();
    let bar = ui.step(format!("encoding at {kbps} kbps with {}", codec.name()));
    let result = codec::encode_pcm(codec, &mut input, &mut out);
    bar.finish_and_clear();
    result?;
    out.commit()
}

fn encode_ecdc(args: &Args, bandwidth: Bandwidth, ui: &Ui) -> encodec::Result<()> {
    let model = ui.load_model(&args.model)?;
    // `write_ecdc`'s writer fails before any encoding if .ecdc files cannot name the model.
    let output = Output::create(&args.output)?;
    let input = open_input(&args.input)?;
    let bar = ui.step(format!("encoding at {} kbps", bandwidth.kbps()));
    let result = write_ecdc(&model, bandwidth, input, output);
    bar.finish_and_clear();
    result?.commit()
}

/// Encodes `input` (any rate and layout: remixed and resampled a chunk at a time) into an
/// `.ecdc` file written to `out`, streaming; returns `out`.
pub fn write_ecdc<W: Write>(
    model: &Encodec,
    bandwidth: Bandwidth,
    mut input: audio::AudioChunks,
    out: W,
) -> encodec::Result<W> {
    let mut writer = ecdc::Writer::new(model, bandwidth, out)?;
    let mut converter = StreamingConverter::new(
        input.sample_rate(),
        input.channels(),
        model.sample_rate(),
        model.channels(),
    )?;
    let frames = (CHUNK as u64 * input.sample_rate() as u64 / model.sample_rate() as u64).max(1) as usize;
    while let Some(audio) = input.next_chunk(frames)? {
        writer.push(&converter.push(&audio)?)?;
    }
    writer.push(&converter.finish()?)?;
    writer.finish()
}
