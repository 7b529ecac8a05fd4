//! `encodec decode INPUT OUTPUT.wav [--from S] [--to S]`: any file the player reads, through
//! [`encodec::Player`], in memory that does not grow with the file; a time range seeks into an
//! `.ecdc` file's codes (the other codecs decode from the start and drop what comes before).

use std::path::{Path, PathBuf};

use encodec::ecdc::DEFAULT_PREROLL_FRAMES;
use encodec::lyra::Bitrate;
use encodec::{Error, OpusEnhancement, PlayerOptions};

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
    let mut options = PlayerOptions::with_models(crate::compress::models(args.model.clone(), ui))
        .opus_enhancement(args.enhance.into())
        .ecdc_preroll(args.preroll);
    if let Some(kbps) = args.bandwidth {
        options = options.raw_lyra_bitrate(Bitrate::try_from_kbps(kbps)?);
    }
    if args.codec == Some(CodecName::Lyra) {
        options = options.raw_lyra(Bitrate::try_from_kbps(args.bandwidth.unwrap_or(6.0))?);
    }
    write(options, &args.input, &args.out, (args.from, args.to), Cut::Refuse, ui)
}

/// What [`write`] does with a file cut short.
#[derive(Clone, Copy, PartialEq)]
pub enum Cut {
    /// An error (`decode`: a codec's file should be whole).
    Refuse,
    /// Decoded as far as it goes (`decompress`, as the cache reads it).
    Accept,
}

/// Decodes `input` from `from` seconds to `to` (default: the end) into the WAV file `out`,
/// through the player. The WAV header holds the length: the file says it, or a first pass
/// counts (MP3, FLAC, an Ogg Opus file without its last page).
pub fn write(
    options: PlayerOptions,
    input: &Path,
    out: &WavOut,
    (from, to): (f64, Option<f64>),
    cut: Cut,
    ui: &Ui,
) -> encodec::Result<()> {
    let mut player = options.clone().open(input)?;
    let rate = player.sample_rate() as f64;
    let sample = |seconds: f64| (seconds * rate).round().min(u64::MAX as f64) as u64;
    let len = match player.duration() {
        Some(duration) => sample(duration),
        None => {
            let bar = ui.step("counting the samples");
            let mut counter = options.open(input)?;
            let mut len = 0;
            while let Some(block) = counter.read_planar(MAX_FRAMES)? {
                len += block[0].len() as u64;
            }
            bar.finish_and_clear();
            if cut == Cut::Refuse && counter.truncated() {
                return Err(Error::Audio {
                    path: input.to_owned(),
                    reason: "the file is truncated (it ends inside a page, or before its last)".into(),
                });
            }
            len
        }
    };
    let (start, end) = (sample(from).min(len), to.map_or(len, sample).min(len));
    if start >= end && (from > 0.0 || to.is_some()) {
        return Err(Error::Setting(format!(
            "--from {from} s --to {} s is not inside the audio's {:.3} s",
            to.unwrap_or(len as f64 / rate),
            len as f64 / rate
        )));
    }
    player.seek(from)?;
    let bar = ui.step(format!("decoding {:.1} s of audio", end.saturating_sub(start) as f64 / rate));
    let mut left = end.saturating_sub(start);
    let mut frames = FIRST_FRAMES;
    let result = out.write((player.channels(), player.sample_rate(), left), || {
        if left == 0 {
            return Ok(None);
        }
        let pcm = player.read_planar(frames.min(left as usize))?;
        frames = (frames * 2).min(MAX_FRAMES);
        left -= pcm.as_ref().map_or(left, |pcm| pcm[0].len() as u64);
        Ok(pcm)
    });
    bar.finish_and_clear();
    result
}

/// Samples read first: a few, so that audio starts flowing at once.
const FIRST_FRAMES: usize = 2_400;
/// Samples per read once under way: small buffers whatever the file's length.
const MAX_FRAMES: usize = 96_000;
