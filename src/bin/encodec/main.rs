//! `encodec`: compress audio to `.ecdc` files with EnCodec, `.lyra` with Lyra v2 or `.opus`
//! with Opus, and back; measure the quality. Without a subcommand, Meta's `encodec` command.

mod bench;
mod cache;
mod choice;
mod compress;
mod convert;
mod decode;
mod encode;
mod info;
mod meta;
mod output;
mod quality;
mod wav_out;

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};
use encodec::hub::{self, HubOptions};
use encodec::Encodec;
use indicatif::{ProgressBar, ProgressStyle};

#[derive(Parser)]
#[command(
    name = "encodec",
    version,
    about = "Neural audio codecs: audio <-> .ecdc (EnCodec), .lyra (Lyra v2) and .opus files, cache compression levels, measured quality",
    after_help = "Without a subcommand, encodec is Meta's `encodec` command:\n  \
                  encodec [-b BANDWIDTH] [-q] [-f] [-r] [-s SUFFIX] INPUT [OUTPUT]\n\
                  An .ecdc INPUT is decompressed to WAV; other audio is compressed to .ecdc, or \
                  compressed and decompressed with a .wav OUTPUT. There -q means --hq (the 48 kHz \
                  model), as Meta spells it; --quiet silences progress. `encodec INPUT --help` \
                  tells more."
)]
struct Cli {
    /// No progress bars.
    #[arg(short, long, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Encode an audio file (WAV, MP3, AAC/M4A, FLAC, Ogg Vorbis) into an .ecdc, .lyra or .opus
    /// file.
    Encode(encode::Args),
    /// Decode an .ecdc, .lyra or .opus file into WAV (`-` as OUTPUT writes to stdout).
    Decode(decode::Args),
    /// Describe an .ecdc file: model, bandwidth, duration, size, bitrate.
    Info(info::Args),
    /// Convert a Meta checkpoint (.th) into a Hub-layout folder (config.json + model.safetensors).
    Convert(convert::Args),
    /// Compress an audio file at a cache level (ultra/compact/standard/lossless/off), with
    /// fallbacks.
    Compress(compress::CompressArgs),
    /// Decode any file `compress` writes (or any audio file) into WAV.
    Decompress(compress::DecompressArgs),
    /// Cache folders: migrate to a level, or statistics.
    #[command(subcommand)]
    Cache(cache::Command),
    /// Measure quality: ViSQOL v3 MOS-LQO of decoded audio against its source.
    Quality(quality::Args),
    /// Time encoding and decoding (best of several warm runs); prints one JSON line.
    Bench(bench::Args),
}

fn main() -> ExitCode {
    // An internal error is reported like any other: one line, no backtrace.
    std::panic::set_hook(Box::new(|info| eprintln!("encodec: internal error: {info}")));
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if is_meta_style(&argv) {
        return match meta::Args::try_parse_from(&argv) {
            Ok(args) => report(meta::run(args)),
            Err(e) => usage_error(e),
        };
    }
    let cli = match Cli::try_parse_from(&argv) {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    if let Command::Encode(args) = &cli.command {
        if let Some(problem) = args.usage_error() {
            eprintln!("encodec: {problem}");
            return ExitCode::from(2);
        }
    }
    let ui = Ui { quiet: cli.quiet };
    let result = match cli.command {
        Command::Encode(args) => encode::run(args, &ui),
        Command::Decode(args) => decode::run(args, &ui),
        Command::Info(args) => info::run(args),
        Command::Convert(args) => convert::run(args, &ui),
        Command::Quality(args) => quality::run(args, &ui),
        Command::Bench(args) => bench::run(args, &ui),
        Command::Compress(args) => compress::compress(args, &ui),
        Command::Decompress(args) => compress::decompress(args, &ui),
        Command::Cache(command) => cache::run(command, &ui),
    };
    report(result)
}

/// Exit status 0, or 1 with the error on one line.
fn report(result: encodec::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("encodec: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `--help` and `--version` print and exit 0; a usage error is clap's first line, e.g.
/// "invalid value '7' for '--bandwidth <BANDWIDTH>': ...", with status 2.
fn usage_error(e: clap::Error) -> ExitCode {
    if !e.use_stderr() {
        e.exit()
    }
    let text = e.to_string();
    let line = text.lines().next().unwrap_or_default();
    eprintln!("encodec: {}", line.strip_prefix("error: ").unwrap_or(line));
    ExitCode::from(2)
}

/// Whether the arguments are Meta's command line: the first argument that is neither an
/// option nor an option's value is there and names no subcommand (`encodec in.wav out.ecdc`).
fn is_meta_style(argv: &[std::ffi::OsString]) -> bool {
    let command = Cli::command();
    let mut args = argv.iter().skip(1).map(|a| a.to_string_lossy());
    while let Some(arg) = args.next() {
        if meta::VALUE_OPTIONS.contains(&arg.as_ref()) {
            args.next();
        } else if arg == "--" {
            return args.next().is_some();
        } else if !arg.starts_with('-') || arg == "-" {
            return arg != "help" && command.find_subcommand(arg.as_ref()).is_none();
        }
    }
    false
}

/// Progress reporting on stderr, silenced by `-q` (and by indicatif when stderr is no terminal).
pub struct Ui {
    /// No progress bars or chatter.
    pub quiet: bool,
}

impl Ui {
    /// A spinner for a step of unknown length; finish it with `finish_and_clear`.
    pub fn step(&self, message: impl Into<String>) -> ProgressBar {
        if self.quiet {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::new_spinner().with_message(message.into());
        bar.set_style(ProgressStyle::with_template("{spinner} {msg} {elapsed}").expect("valid template"));
        bar.enable_steady_tick(std::time::Duration::from_millis(100));
        bar
    }

    /// Finds the files of the model `spec` names (a folder or a Hub repository), downloading
    /// them if needed.
    pub fn resolve_model(&self, spec: &str) -> encodec::Result<hub::ModelFiles> {
        hub::resolve(spec, &HubOptions { progress: !self.quiet, ..HubOptions::from_env() })
    }

    /// Loads the model `spec` names (a folder or a Hub repository), downloading it if needed.
    pub fn load_model(&self, spec: &str) -> encodec::Result<Encodec> {
        let files = self.resolve_model(spec)?;
        let bar = self.step(format!("loading {spec}"));
        let model = Encodec::from_files(&files);
        bar.finish_and_clear();
        model.inspect(|model| self.warn_if_slow(model))
    }

    /// Says so when the model will run on software fused multiply-adds (a CPU without FMA).
    pub fn warn_if_slow(&self, model: &Encodec) {
        if !self.quiet && model.kernels().uses_software_fma() {
            eprintln!(
                "encodec: warning: this CPU has no FMA instructions, so the portable kernels use a \
                 software fused multiply-add: the same results, about 50x slower"
            );
        }
    }
}
