//! `encodec decode INPUT.ecdc|INPUT.lyra OUTPUT.wav [--from S] [--to S]`: streamed, a chunk of
//! frames at a time, in memory that does not grow with the file; a time range seeks into an
//! `.ecdc` file's codes (a Lyra file is decoded from its start: its decoder has no key frames).

use std::fs::File;
use std::io::BufReader;
use std::ops::Range;
use std::path::PathBuf;

use encodec::codec::{Codec, Decoded, PcmDecoder};
use encodec::ecdc::{EcdcDecoder, Header, DEFAULT_PREROLL_FRAMES};
use encodec::lyra::{Container, LyraCodec};
use encodec::{Error, Format, OpusCodec, OpusEnhancement};

use crate::choice::{self, CodecName};
use crate::wav_out::WavOut;
use crate::Ui;

#[derive(clap::Args)]
pub struct Args {
    /// The file to decode: .ecdc, a framed Lyra file, an Ogg Opus file (all told by their first
    /// bytes), or Google's raw .lyra packets (told by the extension or --codec lyra).
    input: PathBuf,
    #[command(flatten)]
    out: WavOut,
    /// The codec, where the file does not say (a raw .lyra stream under another name).
    #[arg(long, value_enum)]
    codec: Option<CodecName>,
    /// Lyra's raw packets: their bitrate in kbps, 3.2, 6 or 9.2 (default 6). Other files say
    /// theirs.
    #[arg(long, value_parser = choice::kbps)]
    bandwidth: Option<f32>,
    /// Opus: libopus's decoder-side speech enhancement (lace, nolace); off by default, see
    /// README for what it measured.
    #[arg(long, value_enum, default_value = "off")]
    enhance: Enhance,
    /// EnCodec: a folder or Hub repository id; by default the model named in the file.
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

/// The `--enhance` values.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Enhance {
    Off,
    Lace,
    Nolace,
}

impl From<Enhance> for OpusEnhancement {
    fn from(enhance: Enhance) -> Self {
        match enhance {
            Enhance::Off => OpusEnhancement::Off,
            Enhance::Lace => OpusEnhancement::Lace,
            Enhance::Nolace => OpusEnhancement::NoLace,
        }
    }
}

pub fn run(args: Args, ui: &Ui) -> encodec::Result<()> {
    args.out.check_name()?;
    let file = File::open(&args.input).map_err(|source| Error::Io { path: args.input.clone(), source })?;
    let mut reader = BufReader::new(file);
    let io = |source| Error::Io { path: args.input.clone(), source };
    match (Format::sniff(&mut reader).map_err(io)?, args.codec) {
        (_, Some(CodecName::Ecdc)) | (Format::Ecdc, None) => decode_ecdc(args, reader, ui),
        (Format::Lyra, _) => decode_lyra(args, reader, Container::Framed, ui),
        (Format::Opus, _) | (_, Some(CodecName::Opus)) => {
            let opus = OpusCodec::default().with_enhancement(args.enhance.into());
            let pcm = pcm_of(opus.decoder(Box::new(reader))?);
            decode_stream(args, pcm, ui)
        }
        (_, flag) if CodecName::pick(flag, &args.input) == CodecName::Lyra => {
            decode_lyra(args, reader, Container::Raw, ui)
        }
        _ => decode_ecdc(args, reader, ui),
    }
}

/// Lyra (16 kHz mono) through the codec interface.
fn decode_lyra(args: Args, reader: BufReader<File>, container: Container, ui: &Ui) -> encodec::Result<()> {
    let bitrate = encodec::lyra::Bitrate::try_from_kbps(args.bandwidth.unwrap_or(6.0))?;
    let lyra = LyraCodec::new(bitrate).container(container);
    let pcm = pcm_of(lyra.decoder(Box::new(reader))?);
    decode_stream(args, pcm, ui)
}

fn pcm_of(decoded: Decoded<'_>) -> Box<dyn PcmDecoder + '_> {
    match decoded {
        Decoded::Pcm(pcm) => pcm,
        Decoded::Bytes(_) => unreachable!("Lyra and Opus decode to PCM"),
    }
}

/// A codec's PCM stream (its length in its header) into the WAV file; a time range is decoded
/// from the start and cut.
fn decode_stream(args: Args, mut pcm: Box<dyn PcmDecoder + '_>, ui: &Ui) -> encodec::Result<()> {
    let len = pcm.len_hint().ok_or_else(|| Error::Audio {
        path: args.input.clone(),
        reason: "the file does not say its length (no end-of-stream page: truncated?)".into(),
    })?;
    let (rate, channels) = (pcm.sample_rate(), pcm.channels());
    let sample = |seconds: f64| ((seconds * rate as f64).round().min(usize::MAX as f64) as usize).min(len);
    let range = sample(args.from)..args.to.map_or(len, sample);
    let bar = ui.step(format!("decoding {:.1} s of audio", range.len() as f64 / rate as f64));
    let mut at = 0;
    let chunk_frames = rate as usize; // 1 s
    let result = args.out.write((channels, rate, range.len() as u64), || {
        while let Some(chunk) = pcm.next_chunk(chunk_frames)? {
            let n = chunk[0].len();
            let kept: Vec<Vec<f32>> = chunk.iter().map(|c| cut(c, at, &range).to_vec()).collect();
            at += n;
            if !kept[0].is_empty() {
                return Ok(Some(kept));
            }
            if at >= range.end {
                break;
            }
        }
        Ok(None)
    });
    bar.finish_and_clear();
    result
}

/// The part of `samples` (starting at sample `at` of the stream) that falls in `range`.
fn cut<'s>(samples: &'s [f32], at: usize, range: &Range<usize>) -> &'s [f32] {
    let start = range.start.clamp(at, at + samples.len()) - at;
    let end = range.end.clamp(at, at + samples.len()) - at;
    &samples[start..end.max(start)]
}

fn decode_ecdc(args: Args, mut reader: BufReader<File>, ui: &Ui) -> encodec::Result<()> {
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
