//! Cache tools: migrate a folder of audio files to a compression level in place, safely beside
//! the application that writes it, and count what a folder holds.

mod guard;

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;

use crate::atomic;
use crate::encodec::Models;
use crate::levels::{self, Compressor};
use crate::Format;
use crate::{Error, Result};

/// The file extensions the cache tools look at (case-insensitive).
pub const AUDIO_EXTENSIONS: [&str; 10] =
    ["m4a", "aac", "mp3", "mp3z", "wav", "flac", "ogg", "opus", "ecdc", "lyra"];

/// Durations may differ by this much after a round trip: resampling rounds to a sample.
const DURATION_TOLERANCE_S: f64 = 0.001;

/// What happened to one file.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// Replaced by its compressed form.
    Converted {
        /// The codec of the new file ([`crate::Codec::name`]).
        codec: &'static str,
    },
    /// Already at the level (a re-run, or an AAC file no larger than Standard asks): untouched.
    AlreadyDone,
    /// Left as it was, because the level could not do better than the file already is.
    Kept {
        /// Why.
        reason: String,
    },
    /// Left as another process rewrote it while it was converted: the conversion was dropped
    /// (a next run converts the new content).
    Superseded,
    /// Left as it was, because it could not be read or converted.
    Failed {
        /// Why.
        error: String,
    },
}

/// One file's migration.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FileReport {
    /// The file.
    pub path: PathBuf,
    /// What happened to it.
    pub outcome: Outcome,
    /// Its size before.
    pub bytes_before: u64,
    /// Its size after (the same unless converted).
    pub bytes_after: u64,
    /// Seconds of audio (0 if it could not be read).
    pub duration_s: f64,
    /// Its new name, when [`MigrateOptions::rename`] gave it the extension of what it holds.
    pub renamed_to: Option<PathBuf>,
}

/// How [`migrate_with`] works.
#[derive(Clone, Debug)]
pub struct MigrateOptions {
    /// Files converted at a time.
    pub jobs: usize,
    /// Give each file the extension of what it holds once migrated (`hello.wav` holding
    /// EnCodec becomes `hello.ecdc`), also files already at the level. A file whose new name
    /// is taken is left as it was ([`Outcome::Kept`]). While a file is renamed, its old name is
    /// absent for an instant.
    pub rename: bool,
}

/// A whole migration.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct MigrationSummary {
    /// Audio files found.
    pub files: usize,
    /// Files replaced.
    pub converted: usize,
    /// Files already at the level.
    pub already_done: usize,
    /// Files left as they were by choice.
    pub kept: usize,
    /// Files left as they were because they failed.
    pub failed: usize,
    /// Files another process rewrote while they were converted, left as it wrote them.
    pub superseded: usize,
    /// Files given the extension of what they hold ([`MigrateOptions::rename`]).
    pub renamed: usize,
    /// Bytes of all files before.
    pub bytes_before: u64,
    /// Bytes of all files after.
    pub bytes_after: u64,
    /// Seconds of audio in the files that could be read.
    pub duration_s: f64,
    /// MB (10^6 bytes) per minute of audio before, over the files that could be read.
    pub mb_per_minute_before: f64,
    /// The same after.
    pub mb_per_minute_after: f64,
    /// Temporary files that processes now gone left (a killed run), removed first; those of
    /// running processes are left alone.
    pub stale_temporaries_removed: usize,
    /// Each file that failed, and why.
    pub failures: Vec<(PathBuf, String)>,
}

/// Converts every audio file under `dir` ([`AUDIO_EXTENSIONS`]) to the compressor's level, in
/// place and under its own name (every output names its codec in its magic bytes): decode,
/// re-encode, check that the new file decodes to the same duration, then atomically replace.
///
/// A process killed at any instant leaves each file either old or new, and a re-run picks up
/// where it stopped (files already at the level are left alone). An application may go on
/// writing the folder meanwhile: a file is replaced only if it is still the file that was
/// converted ([`Outcome::Superseded`] otherwise), so no write of the application is lost; a
/// second migration of the same folder fails at once with [`Error::Busy`]. A file is only replaced by the
/// level asked for, and only if smaller: when the level falls back (no model weights, say), the
/// file is kept, so that a lossy file is not re-encoded into another lossy one for nothing.
/// Runs `jobs` files at a time; `on_file` hears of each as it is done, with the number of files.
pub fn migrate(
    dir: &Path,
    compressor: &Compressor,
    jobs: usize,
    on_file: impl Fn(&FileReport, usize) + Sync,
) -> Result<MigrationSummary> {
    migrate_with(dir, compressor, &MigrateOptions { jobs, rename: false }, on_file)
}

/// [`migrate`], with options: files renamed for what they hold.
pub fn migrate_with(
    dir: &Path,
    compressor: &Compressor,
    options: &MigrateOptions,
    on_file: impl Fn(&FileReport, usize) + Sync,
) -> Result<MigrationSummary> {
    let _lock = guard::FolderLock::acquire(dir)?;
    let (files, temporaries) = audio_files(dir)?;
    let stale = guard::sweep(temporaries)?;
    let mut summary = MigrationSummary { stale_temporaries_removed: stale, ..Default::default() };
    let pool = pool(options.jobs)?;
    let reports: Vec<FileReport> = pool.install(|| {
        files
            .par_iter()
            .map(|path| {
                let report = migrate_file(path, compressor, options.rename);
                on_file(&report, files.len());
                report
            })
            .collect()
    });
    summary.files = reports.len();
    // Files that could not be read have no duration: the per-minute figures leave them out.
    let (mut readable_before, mut readable_after) = (0, 0);
    for report in reports {
        if report.duration_s > 0.0 {
            readable_before += report.bytes_before;
            readable_after += report.bytes_after;
        }
        summary.bytes_before += report.bytes_before;
        summary.bytes_after += report.bytes_after;
        summary.duration_s += report.duration_s;
        summary.renamed += usize::from(report.renamed_to.is_some());
        match report.outcome {
            Outcome::Converted { .. } => summary.converted += 1,
            Outcome::AlreadyDone => summary.already_done += 1,
            Outcome::Kept { .. } => summary.kept += 1,
            Outcome::Superseded => summary.superseded += 1,
            Outcome::Failed { error } => {
                summary.failed += 1;
                summary.failures.push((report.path, error));
            }
        }
    }
    summary.mb_per_minute_before = per_minute(readable_before, summary.duration_s);
    summary.mb_per_minute_after = per_minute(readable_after, summary.duration_s);
    Ok(summary)
}

fn migrate_file(path: &Path, compressor: &Compressor, rename: bool) -> FileReport {
    let mut report = FileReport {
        path: path.to_owned(),
        outcome: Outcome::AlreadyDone,
        bytes_before: 0,
        bytes_after: 0,
        duration_s: 0.0,
        renamed_to: None,
    };
    match convert_file(path, compressor, rename, &mut report) {
        Ok(outcome) => report.outcome = outcome,
        // Being written as it was read.
        Err(Error::Changed(_)) => {
            report.outcome = Outcome::Superseded;
            report.bytes_after = report.bytes_before;
        }
        Err(e) => {
            report.outcome = Outcome::Failed { error: e.to_string() };
            report.bytes_after = report.bytes_before;
        }
    }
    report
}

fn convert_file(
    path: &Path,
    compressor: &Compressor,
    rename: bool,
    report: &mut FileReport,
) -> Result<Outcome> {
    let io = |source| Error::Io { path: path.to_owned(), source };
    let metadata = std::fs::metadata(path).map_err(io)?;
    report.bytes_before = metadata.len();
    report.bytes_after = report.bytes_before;
    // What was converted, to replace it only if it is still there at the end.
    let read = guard::Identity::of(path)?;
    // The new file is made beside the old one (a temporary a killed run leaves is removed by
    // the next), streamed: neither file is ever held in memory. It keeps the old one's mode.
    let temp = atomic::temp_beside(path, Some(metadata.permissions())).map_err(io)?;
    let metadata = compressor.compress_file(path, temp.path())?;
    // Lossless levels do not read the audio: its length is still the cache's figure.
    report.duration_s = match metadata.duration_s {
        Some(seconds) => seconds,
        None => levels::file_duration_s(path, compressor.models()).unwrap_or(0.0),
    };
    let chain = compressor.chain();
    let own = chain.first().map(|(_, codec)| codec.name());
    if same_contents(path, temp.path())? {
        // Already in the format the level writes (its first codec would keep it at any
        // bitrate), or left as it was for another reason.
        let format = Format::sniff(&mut std::fs::File::open(path).map_err(io)?).map_err(io)?;
        let done = chain.first().is_some_and(|(_, codec)| codec.keeps(format, 0.0));
        if !done {
            return Ok(Outcome::Kept {
                reason: metadata.fallback_reason.unwrap_or_else(|| "unchanged".into()),
            });
        }
        drop(temp);
        return match new_name(path, format).filter(|_| rename) {
            None => Ok(Outcome::AlreadyDone),
            Some(target) => match guard::move_if_unchanged(None, path, &target, &read)? {
                guard::Moved::Yes => {
                    sync_dir(path);
                    report.renamed_to = Some(target);
                    Ok(Outcome::AlreadyDone)
                }
                guard::Moved::Superseded => Ok(Outcome::Superseded),
                guard::Moved::NameTaken => Ok(name_taken(&target)),
            },
        };
    }
    if own != Some(metadata.codec) {
        let reason = metadata.fallback_reason.unwrap_or_default();
        return Ok(Outcome::Kept { reason: format!("{} not produced: {reason}", compressor.level()) });
    }
    if metadata.compressed_size >= report.bytes_before {
        let reason = format!("{} bytes would become {}", report.bytes_before, metadata.compressed_size);
        return Ok(Outcome::Kept { reason });
    }
    // The new file must play back as long as the old one before it replaces it, or (gzip)
    // give back its very bytes.
    match metadata.duration_s {
        Some(expected_s) => {
            let decoded = levels::file_duration_s(temp.path(), compressor.models())?;
            if (decoded - expected_s).abs() > DURATION_TOLERANCE_S {
                return Err(Error::DurationMismatch { expected_s, actual_s: decoded });
            }
        }
        None => {
            let open = |path: &Path| {
                std::fs::File::open(path).map_err(|source| Error::Io { path: path.to_owned(), source })
            };
            let inflated = std::io::BufReader::new(flate2::read::MultiGzDecoder::new(open(temp.path())?));
            if !same_stream(inflated, std::io::BufReader::new(open(path)?))? {
                return Err(Error::Gzip(format!(
                    "{} does not inflate to what it was made from",
                    temp.path().display()
                )));
            }
        }
    }
    temp.as_file().sync_all().map_err(io)?;
    // With --rename, the name that says what the new file holds (sniffed only then).
    let target = match rename {
        true => {
            new_name(path, Format::sniff(&mut std::fs::File::open(temp.path()).map_err(io)?).map_err(io)?)
        }
        false => None,
    };
    let superseded = match target {
        None => guard::replace_if_unchanged(temp, path, &read)? == guard::Replaced::Superseded,
        Some(target) => match guard::move_if_unchanged(Some(temp), path, &target, &read)? {
            guard::Moved::Yes => {
                report.renamed_to = Some(target);
                false
            }
            guard::Moved::Superseded => true,
            guard::Moved::NameTaken => return Ok(name_taken(&target)),
        },
    };
    if superseded {
        report.bytes_after = std::fs::metadata(path).map_or(0, |m| m.len());
        return Ok(Outcome::Superseded);
    }
    sync_dir(path);
    report.bytes_after = metadata.compressed_size;
    Ok(Outcome::Converted { codec: metadata.codec })
}

/// `path` with the extension that says `format`, if that is another name.
fn new_name(path: &Path, format: Format) -> Option<PathBuf> {
    let extension = format.extension()?;
    let now = path.extension().and_then(|e| e.to_str()).unwrap_or_default();
    (!now.eq_ignore_ascii_case(extension)).then(|| path.with_extension(extension))
}

fn name_taken(target: &Path) -> Outcome {
    Outcome::Kept { reason: format!("not renamed: {} exists", target.display()) }
}

/// Whether two files hold the same bytes, read a block at a time.
fn same_contents(a: &Path, b: &Path) -> Result<bool> {
    let open = |path: &Path| {
        std::fs::File::open(path)
            .map(std::io::BufReader::new)
            .map_err(|source| Error::Io { path: path.to_owned(), source })
    };
    same_stream(open(a)?, open(b)?)
}

/// Whether two streams hold the same bytes.
fn same_stream(mut a: impl BufRead, mut b: impl BufRead) -> Result<bool> {
    loop {
        let (x, y) = (
            a.fill_buf().map_err(|source| Error::Io { path: "<file>".into(), source })?,
            b.fill_buf().map_err(|source| Error::Io { path: "<file>".into(), source })?,
        );
        if x.is_empty() || y.is_empty() {
            return Ok(x.is_empty() && y.is_empty());
        }
        let n = x.len().min(y.len());
        if x[..n] != y[..n] {
            return Ok(false);
        }
        a.consume(n);
        b.consume(n);
    }
}

/// A pool of `jobs` threads to work on files in parallel.
fn pool(jobs: usize) -> Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.max(1))
        .thread_name(|i| format!("encodec-files-{i}"))
        .build()
        .map_err(|e| Error::Threads(e.to_string()))
}

/// Makes a rename durable across a power cut, not only a killed process (best effort).
fn sync_dir(path: &Path) {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if let Ok(dir) = std::fs::File::open(dir) {
            let _ = dir.sync_all();
        }
    }
}

/// The audio files under `dir`, sorted, not following symbolic links, and this crate's
/// temporary files (`.encodec-*.part`).
fn audio_files(dir: &Path) -> Result<(Vec<PathBuf>, Vec<PathBuf>)> {
    let mut files = Vec::new();
    let mut temporaries = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).map_err(io(&dir))? {
            let entry = entry.map_err(io(&dir))?;
            let path = entry.path();
            let kind = entry.file_type().map_err(io(&path))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if kind.is_dir() {
                pending.push(path);
            } else if kind.is_file() && atomic::is_temp_name(&name) {
                temporaries.push(path);
            } else if kind.is_file() && is_audio_name(&path) {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok((files, temporaries))
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::Io { path: path.to_owned(), source }
}

fn is_audio_name(path: &Path) -> bool {
    let extension = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    extension.is_some_and(|e| AUDIO_EXTENSIONS.contains(&e.as_str()))
}

/// Totals for one format in a folder.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct FormatStats {
    /// Files.
    pub files: u64,
    /// Bytes.
    pub bytes: u64,
    /// Seconds of audio.
    pub duration_s: f64,
    /// MB (10^6 bytes) per minute of audio.
    pub mb_per_minute: f64,
}

/// What a folder holds, by format (told by magic bytes, not by extension).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CacheStats {
    /// Totals over every readable file.
    pub total: FormatStats,
    /// Totals per format.
    pub by_format: BTreeMap<Format, FormatStats>,
    /// Files that could not be read as audio, and why.
    pub unreadable: Vec<(PathBuf, String)>,
}

/// A file's format, bytes and seconds of audio.
type Measured = (Format, u64, f64);

/// Counts the audio files under `dir`: files, bytes and MB per minute by format. Durations come
/// from the headers of `.ecdc` files (no model needed) and by decoding the others.
pub fn stats(dir: &Path, jobs: usize) -> Result<CacheStats> {
    let (files, _) = audio_files(dir)?;
    let pool = pool(jobs)?;
    let models = Models::none();
    let measured: Vec<(PathBuf, Result<Measured>)> = pool.install(|| {
        files
            .into_par_iter()
            .map(|path| {
                let io = |source| Error::Io { path: path.clone(), source };
                let result = std::fs::File::open(&path).map_err(io).and_then(|mut file| {
                    let format = Format::sniff(&mut file).map_err(io)?;
                    let size = file.metadata().map_err(io)?.len();
                    Ok((format, size, levels::file_duration_s(&path, &models)?))
                });
                (path, result)
            })
            .collect()
    });
    let mut stats = CacheStats::default();
    for (path, result) in measured {
        match result {
            Ok((format, bytes, duration)) => {
                for totals in [stats.by_format.entry(format).or_default(), &mut stats.total] {
                    totals.files += 1;
                    totals.bytes += bytes;
                    totals.duration_s += duration;
                }
            }
            Err(e) => stats.unreadable.push((path, e.to_string())),
        }
    }
    for totals in stats.by_format.values_mut().chain([&mut stats.total]) {
        totals.mb_per_minute = per_minute(totals.bytes, totals.duration_s);
    }
    Ok(stats)
}

/// MB (10^6 bytes) per minute of audio.
pub fn per_minute(bytes: u64, duration_s: f64) -> f64 {
    if duration_s > 0.0 {
        bytes as f64 / 1e6 / (duration_s / 60.0)
    } else {
        0.0
    }
}
