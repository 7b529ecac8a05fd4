//! `encodec [-b 6] [-q] [-f] [-r] [-s SUFFIX] INPUT [OUTPUT]`, no subcommand: a drop-in for Meta's
//! `encodec` command (0.1.1): its arguments, output names, checks and WAV samples (clamped at
//! 0.99 with its warning, or rescaled with `-r`). tests/meta_cli.rs compares the files with
//! what Meta's command wrote.

use std::io::{Cursor, Read, Seek};
use std::path::{Path, PathBuf};

use encodec::audio::WavFormat;
use encodec::ecdc::{EcdcDecoder, Header, DEFAULT_PREROLL_FRAMES};
use encodec::encodec::PublishedModel;
use encodec::{AtomicFile, Bandwidth, Encodec, Error};

use crate::Ui;

/// Meta's ceiling on decoded samples: louder ones are clamped to it (or, with `-r`, the whole
/// file scaled under it).
const LIMIT: f32 = 0.99;

#[derive(clap::Parser)]
#[command(
    name = "encodec",
    version,
    about = "Meta's `encodec` command line: an .ecdc INPUT is decompressed to WAV; other audio is \
             compressed to .ecdc, or with a .wav OUTPUT compressed and decompressed again.",
    override_usage = "encodec [-b BANDWIDTH] [-q] [-f] [-r] [-s SUFFIX] INPUT [OUTPUT]\n       \
                      encodec <COMMAND> ... (see encodec --help)"
)]
pub struct Args {
    /// Input file: an .ecdc file, or audio (WAV, MP3, AAC/M4A, FLAC, Ogg Vorbis).
    input: PathBuf,
    /// Output file (.ecdc or .wav); by default INPUT.ecdc, or INPUT<SUFFIX>.wav for an .ecdc
    /// INPUT.
    output: Option<PathBuf>,
    /// Target bandwidth in kbps: 1.5, 3, 6, 12 or 24 (1.5 not with --hq).
    #[arg(short, long, default_value = "6", value_parser = bandwidth)]
    bandwidth: f32,
    /// Use the 48 kHz stereo model (`-q` means this here, as in Meta's command; --quiet
    /// silences progress).
    #[arg(short = 'q', long)]
    hq: bool,
    /// Meta's language model (smaller files): not supported yet.
    #[arg(short, long)]
    lm: bool,
    /// Overwrite OUTPUT if it exists.
    #[arg(short, long)]
    force: bool,
    /// Suffix of the decompressed file's name when OUTPUT is not given.
    #[arg(short = 's', long = "decompress_suffix", default_value = "_decompressed")]
    decompress_suffix: String,
    /// Scale the whole output under 0.99 instead of clamping the samples above it.
    #[arg(short, long)]
    rescale: bool,
    /// Not in Meta's command: a model folder or Hub repository id instead of the published
    /// model (by default the one an .ecdc file names, or --hq's).
    #[arg(long)]
    model: Option<String>,
    /// Not in Meta's command: no progress bars.
    #[arg(long)]
    quiet: bool,
}

/// Options of this mode that take a value (to find the first positional argument).
pub const VALUE_OPTIONS: [&str; 5] = ["-b", "--bandwidth", "-s", "--decompress_suffix", "--model"];

/// Meta's `-b` choices.
fn bandwidth(text: &str) -> Result<f32, String> {
    const CHOICES: [f32; 5] = [1.5, 3.0, 6.0, 12.0, 24.0];
    match text.trim().parse::<f32>() {
        Ok(kbps) if CHOICES.contains(&kbps) => Ok(kbps),
        _ => Err(format!("invalid choice: {text:?} (choose from 1.5, 3, 6, 12, 24)")),
    }
}

/// Runs Meta's command; an `Err` is the message Meta's command prints (exit status 1).
pub fn run(args: Args) -> encodec::Result<()> {
    let fatal = |message: String| Err(Error::Setting(message));
    let ui = Ui { quiet: args.quiet };
    if !args.input.exists() {
        return fatal(format!("Input file {} does not exist.", args.input.display()));
    }
    if args.lm {
        return fatal("-l/--lm (Meta's language model over the codes) is not supported yet".into());
    }
    if has_extension(&args.input, "ecdc") {
        let output = match &args.output {
            None => with_suffix(&args.input, &args.decompress_suffix),
            Some(output) if !has_extension(output, "wav") => {
                return fatal("Output extension must be .wav".into())
            }
            Some(output) => output.clone(),
        };
        check_output(&output, args.force)?;
        let open = || {
            std::fs::File::open(&args.input).map_err(|source| Error::Io { path: args.input.clone(), source })
        };
        let header = Header::read(&mut open()?)?;
        let model = ui.load_model(args.model.as_deref().unwrap_or(header.hub_repo()?))?;
        return decode_to_wav(&model, || open().map(std::io::BufReader::new), &output, args.rescale, &ui);
    }
    let output = match &args.output {
        None => args.input.with_extension("ecdc"),
        Some(output) if !has_extension(output, "ecdc") && !has_extension(output, "wav") => {
            return fatal("Output extension must be .wav or .ecdc".into())
        }
        Some(output) => output.clone(),
    };
    check_output(&output, args.force)?;
    let published = PUBLISHED_BY_HQ[usize::from(args.hq)];
    let model_name = PublishedModel::find(published).map_or(published, |m| m.name);
    let unsupported = || format!("Bandwidth {} is not supported by the model {model_name}", args.bandwidth);
    if args.hq && args.bandwidth == 1.5 {
        return fatal(unsupported());
    }
    let model = ui.load_model(args.model.as_deref().unwrap_or(published))?;
    let bandwidth = Bandwidth::try_from_kbps(args.bandwidth).map_err(|_| Error::Setting(unsupported()))?;
    if !model.bandwidths().contains(&bandwidth) {
        return fatal(unsupported());
    }
    let input = crate::encode::open_input(&args.input)?;
    let bar = ui.step(format!("encoding at {} kbps", bandwidth.kbps()));
    if has_extension(&output, "ecdc") {
        let file = crate::encode::write_ecdc(&model, bandwidth, input, AtomicFile::create(&output)?);
        bar.finish_and_clear();
        return file?.commit();
    }
    // A compression/decompression cycle, as Meta's does it: the .ecdc bytes in memory.
    let bytes = crate::encode::write_ecdc(&model, bandwidth, input, Vec::new());
    bar.finish_and_clear();
    let bytes = bytes?;
    decode_to_wav(&model, || Ok(Cursor::new(&bytes)), &output, args.rescale, &ui)
}

/// The model Meta's command uses, without and with `--hq`.
const PUBLISHED_BY_HQ: [&str; 2] = ["facebook/encodec_24khz", "facebook/encodec_48khz"];

fn has_extension(path: &Path, extension: &str) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case(extension))
}

/// Meta's default decompressed name: the stem with the suffix, then `.wav` for the last
/// extension (so `a.b.ecdc` gives `a.wav`, as Python's `with_suffix` does).
fn with_suffix(input: &Path, suffix: &str) -> PathBuf {
    let stem = input.file_stem().unwrap_or_default().to_string_lossy();
    input.with_file_name(format!("{stem}{suffix}")).with_extension("wav")
}

/// Meta's checks: the output's folder exists, and the output does not unless forced.
fn check_output(output: &Path, force: bool) -> encodec::Result<()> {
    let folder = output.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if !folder.exists() {
        return Err(Error::Setting(format!("Output folder for {} does not exist.", output.display())));
    }
    if output.exists() && !force {
        return Err(Error::Setting(format!(
            "Output file {} exist. Use -f / --force to overwrite.",
            output.display()
        )));
    }
    Ok(())
}

/// Decodes an `.ecdc` file (`open` gives it from its start, once per pass) into a 16-bit WAV
/// file as Meta's `save_audio` writes it: samples clamped to +-0.99 (warning when any was
/// louder) or, with `rescale`, all scaled by `min(0.99 / peak, 1)`, which needs the peak first:
/// a first pass decodes to find it (twice the decoding, memory still flat).
fn decode_to_wav<R: Read + Seek>(
    model: &Encodec,
    open: impl Fn() -> encodec::Result<R>,
    output: &Path,
    rescale: bool,
    ui: &Ui,
) -> encodec::Result<()> {
    let decoder = || -> encodec::Result<EcdcDecoder<'_, R>> {
        let mut reader = open()?;
        let header = Header::read(&mut reader)?;
        EcdcDecoder::new(model, reader, &header, 0..header.audio_len, DEFAULT_PREROLL_FRAMES)
    };
    let peak_of = |pcm: &[Vec<f32>]| pcm.iter().flatten().fold(0f32, |peak, x| peak.max(x.abs()));
    let bar = ui.step("decoding");
    let gain = if rescale {
        let (mut first_pass, mut peak) = (decoder()?, 0f32);
        while let Some(pcm) = first_pass.next_chunk(CHUNK_FRAMES)? {
            peak = peak.max(peak_of(&pcm));
        }
        // As torch computes `min(0.99 / peak, 1)` in f32: the reciprocal, times 0.99.
        let gain = peak.recip() * LIMIT;
        Some(if 1.0 < gain { 1.0 } else { gain })
    } else {
        None
    };
    let mut decoder = decoder()?;
    let layout = (model.channels(), model.sample_rate(), decoder.len() as u64);
    let mut peak = 0f32;
    let written = crate::output::write_wav(output, WavFormat::Pcm16, layout, || {
        let Some(mut pcm) = decoder.next_chunk(CHUNK_FRAMES)? else { return Ok(None) };
        peak = peak.max(peak_of(&pcm));
        for x in pcm.iter_mut().flatten() {
            *x = match gain {
                Some(gain) => *x * gain,
                None => x.clamp(-LIMIT, LIMIT),
            };
        }
        Ok(Some(pcm))
    });
    bar.finish_and_clear();
    written?;
    if gain.is_none() && peak > LIMIT {
        eprintln!(
            "Clipping!! max scale {}, limit is {LIMIT}. To avoid clipping, use the `-r` option to rescale the output.",
            f64::from(peak)
        );
    }
    Ok(())
}

/// Frames decoded at a time (2 s at 75 frames/s).
const CHUNK_FRAMES: usize = 150;
