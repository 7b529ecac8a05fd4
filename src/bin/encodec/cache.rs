//! `encodec cache migrate DIR --level ...` and `encodec cache stats DIR`.

use std::path::PathBuf;

use encodec::cache::{self, MigrateOptions, Outcome};
use indicatif::{ProgressBar, ProgressStyle};

use crate::compress::LevelArgs;
use crate::Ui;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Convert every audio file under DIR to a level, in place, atomically (resumable).
    Migrate(MigrateArgs),
    /// Count files, bytes and MB per minute of audio under DIR, by format.
    Stats(StatsArgs),
}

#[derive(clap::Args)]
pub struct MigrateArgs {
    /// The cache folder (searched recursively for .m4a .aac .mp3 .mp3z .wav .flac .ogg .ecdc).
    dir: PathBuf,
    #[command(flatten)]
    level: LevelArgs,
    /// Files converted at a time (default: one per core).
    #[arg(long)]
    jobs: Option<usize>,
    /// Give each file the extension of what it holds (hello.wav -> hello.ecdc); a file whose
    /// new name exists is left as it was.
    #[arg(long)]
    rename: bool,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct StatsArgs {
    /// The cache folder.
    dir: PathBuf,
    /// Files read at a time (default: one per core).
    #[arg(long)]
    jobs: Option<usize>,
    /// Print as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(command: Command, ui: &Ui) -> encodec::Result<()> {
    match command {
        Command::Migrate(args) => migrate(args, ui),
        Command::Stats(args) => stats(args),
    }
}

fn jobs(jobs: Option<usize>) -> usize {
    jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

fn migrate(args: MigrateArgs, ui: &Ui) -> encodec::Result<()> {
    let compressor = args.level.compressor(ui)?;
    let bar = if ui.quiet { ProgressBar::hidden() } else { ProgressBar::new(0) };
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} files {elapsed} (eta {eta}) {msg}")
            .expect("valid template"),
    );
    let options = MigrateOptions { jobs: jobs(args.jobs), rename: args.rename };
    let summary = cache::migrate_with(&args.dir, &compressor, &options, |report, total| {
        bar.set_length(total as u64);
        bar.inc(1);
        if let Outcome::Failed { error } = &report.outcome {
            bar.println(format!("failed: {}: {error}", report.path.display()));
        }
    })?;
    bar.finish_and_clear();
    if args.json {
        println!("{}", serde_json::to_string(&summary).expect("plain fields"));
        return Ok(());
    }
    println!(
        "{} files: {} converted, {} already {}, {} kept, {} failed, {} rewritten meanwhile (left as written)",
        summary.files,
        summary.converted,
        summary.already_done,
        compressor.level().name(),
        summary.kept,
        summary.failed,
        summary.superseded
    );
    println!(
        "bytes: {} -> {} ({:.1} % of before); {:.1} min of audio: {:.4} -> {:.4} MB per minute",
        summary.bytes_before,
        summary.bytes_after,
        100.0 * summary.bytes_after as f64 / summary.bytes_before.max(1) as f64,
        summary.duration_s / 60.0,
        summary.mb_per_minute_before,
        summary.mb_per_minute_after
    );
    if args.rename {
        println!("renamed {} file(s) for what they hold", summary.renamed);
    }
    if summary.stale_temporaries_removed > 0 {
        println!("removed {} temporary file(s) an interrupted run left", summary.stale_temporaries_removed);
    }
    for (path, error) in &summary.failures {
        println!("failed: {}: {error}", path.display());
    }
    Ok(())
}

fn stats(args: StatsArgs) -> encodec::Result<()> {
    let stats = cache::stats(&args.dir, jobs(args.jobs))?;
    if args.json {
        println!("{}", serde_json::to_string(&stats).expect("plain fields"));
        return Ok(());
    }
    println!("{:<8} {:>7} {:>14} {:>12} {:>8}", "format", "files", "bytes", "minutes", "MB/min");
    let rows = stats.by_format.iter().map(|(f, s)| (format!("{f:?}").to_lowercase(), s));
    for (name, s) in rows.chain([("total".to_string(), &stats.total)]) {
        println!(
            "{name:<8} {:>7} {:>14} {:>12.2} {:>8.4}",
            s.files,
            s.bytes,
            s.duration_s / 60.0,
            s.mb_per_minute
        );
    }
    for (path, error) in &stats.unreadable {
        println!("unreadable: {}: {error}", path.display());
    }
    Ok(())
}
