//! Cache tools: migration in place (resumable, crash-safe, failures left as they were) and
//! folder statistics.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::root;
use encodec::audio::{self, WavFormat};
use encodec::cache;
use encodec::encodec::Models;
use encodec::internals::gzip;
use encodec::levels::{self, Compressor, Level};
use encodec::Encodec;
use encodec::{AacSettings, Format};

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(root().join("tests/fixtures/samples").join(name)).unwrap()
}

/// A WAV header followed by 3000 bytes of noise instead of its chunks.
fn broken_wav() -> Vec<u8> {
    let mut state = 37u64;
    let noise = (0..3000).map(|_| {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (state >> 33) as u8
    });
    sample("speech-espeak-22k.wav")[..12].iter().copied().chain(noise).collect()
}

fn test_model() -> Encodec {
    Encodec::from_dir(root().join("weights/test-24khz")).unwrap()
}

/// A cache tree in every format the migration takes, one corrupt file (a RIFF/WAVE header
/// over noise: nothing to code, nothing gzip shrinks) and one that is no audio file; returns
/// the folder and each file's original bytes.
fn cache_tree() -> (tempfile::TempDir, BTreeMap<PathBuf, Vec<u8>>) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("voices/a")).unwrap();
    let files = [
        ("voices/a/hello.wav", sample("speech-espeak-22k.wav")),
        ("voices/a/stereo.WAV", sample("speech-44k-stereo.wav")),
        ("voices/b.mp3", sample("speech-44k-stereo.mp3")),
        ("voices/b.mp3z", gzip::compress(&sample("speech-44k-stereo.mp3")).unwrap()),
        ("c.m4a", sample("speech-44k-stereo.m4a")),
        ("c.flac", sample("speech-44k-stereo.flac")),
        ("c.ogg", sample("speech-44k-stereo.ogg")),
        ("broken.wav", broken_wav()),
        ("notes.txt", b"not audio".to_vec()),
    ];
    let mut originals = BTreeMap::new();
    for (name, bytes) in files {
        let path = dir.path().join(name);
        std::fs::write(&path, &bytes).unwrap();
        originals.insert(path, bytes);
    }
    (dir, originals)
}

#[test]
fn migration_converts_in_place_keeps_what_it_cannot_code_and_resumes() {
    let (dir, originals) = cache_tree();
    let compressor = Compressor::new(Level::default(), Models::loaded(test_model()));
    let heard = std::sync::Mutex::new(Vec::new());
    let summary = cache::migrate(dir.path(), &compressor, 2, |report, total| {
        heard.lock().unwrap().push((report.path.clone(), report.outcome.clone(), total));
    })
    .unwrap();
    let heard = heard.into_inner().unwrap();
    assert_eq!(heard.len(), 8, "every audio file reported once, notes.txt not");
    assert_eq!((summary.files, summary.converted, summary.failed, summary.kept), (8, 7, 0, 1));
    // Content is never a failure: what the level cannot code is kept, and the report says why.
    assert!(summary.failures.is_empty(), "{:?}", summary.failures);
    let (_, outcome, _) = heard.iter().find(|(path, _, _)| path.ends_with("broken.wav")).unwrap();
    assert!(
        matches!(outcome, cache::Outcome::Kept { reason } if reason.contains("not audio")),
        "{outcome:?}"
    );
    for (path, original) in &originals {
        let now = std::fs::read(path).unwrap();
        if path.ends_with("broken.wav") || path.ends_with("notes.txt") {
            assert_eq!(&now, original, "{}: left as it was", path.display());
            continue;
        }
        assert_eq!(Format::of(&now), Format::Ecdc, "{}", path.display());
        let before = levels::duration_s(original, &Models::none()).unwrap();
        let after = levels::decompress(&now, compressor.models()).unwrap().audio.duration_s();
        assert!((before - after).abs() < 0.001, "{}: {before} s, then {after} s", path.display());
    }
    let total_before: u64 =
        originals.iter().filter(|(p, _)| !p.ends_with("notes.txt")).map(|(_, b)| b.len() as u64).sum();
    assert_eq!(summary.bytes_before, total_before);
    assert!(summary.mb_per_minute_after < summary.mb_per_minute_before / 5.0, "{summary:?}");

    // A second run finds the work done.
    let again = cache::migrate(dir.path(), &compressor, 1, |_, _| {}).unwrap();
    assert_eq!((again.converted, again.already_done, again.kept), (0, 7, 1), "{again:?}");
    assert_eq!(again.bytes_after, summary.bytes_after);
}

/// Without the model, Ultra would fall back to AAC: a migration keeps the files as they are
/// instead of re-encoding lossy files into other lossy files.
#[test]
fn migration_keeps_files_when_the_level_falls_back() {
    let (dir, originals) = cache_tree();
    let compressor = Compressor::new(Level::default(), Models::none());
    let summary = cache::migrate(dir.path(), &compressor, 2, |_, _| {}).unwrap();
    assert_eq!((summary.converted, summary.kept, summary.failed), (0, 8, 0));
    for (path, original) in &originals {
        assert_eq!(&std::fs::read(path).unwrap(), original, "{}", path.display());
    }
}

#[test]
fn migration_to_standard_and_lossless() {
    let (dir, originals) = cache_tree();
    let standard = Compressor::new(Level::Standard(AacSettings::default()), Models::none());
    let summary = cache::migrate(dir.path(), &standard, 2, |_, _| {}).unwrap();
    // The 1-second fixtures at 64-100 kbps come out of AAC-LC 64 about as large as they went
    // in (priming and padding): those that would not shrink are kept; the rest are AAC in MP4.
    assert_eq!((summary.converted + summary.kept, summary.failed), (8, 0), "{summary:?}");
    assert!(summary.converted >= 3, "{summary:?}");
    let mut converted = 0;
    for (path, original) in
        originals.iter().filter(|(p, _)| !p.ends_with("broken.wav") && !p.ends_with("notes.txt"))
    {
        let now = std::fs::read(path).unwrap();
        if &now != original {
            assert_eq!(Format::of(&now), Format::Mp4, "{}", path.display());
            assert!(now.len() < original.len());
            converted += 1;
        }
    }
    assert_eq!(converted, summary.converted);
    let again = cache::migrate(dir.path(), &standard, 2, |_, _| {}).unwrap();
    assert_eq!(again.converted, 0, "AAC at 64 kbps is kept on a re-run: {again:?}");

    let (dir, originals) = cache_tree();
    let lossless = Compressor::new(Level::Lossless, Models::none());
    let summary = cache::migrate(dir.path(), &lossless, 2, |_, _| {}).unwrap();
    // broken.wav, and the formats gzip does not shrink, are kept.
    assert!(summary.failed == 0 && summary.kept >= 1, "{summary:?}");
    for (path, original) in
        originals.iter().filter(|(p, _)| !p.ends_with("broken.wav") && !p.ends_with("notes.txt"))
    {
        let now = std::fs::read(path).unwrap();
        match gzip::inflate(&now) {
            Ok(inner) => assert!(&inner == original || &now == original, "{}", path.display()),
            Err(_) => assert_eq!(&now, original, "{}: kept (gzip would not shrink it)", path.display()),
        }
    }
}

/// What a migrated file may be after any instant of a run: the original, or a complete `.ecdc`
/// file of the same duration.
fn check_old_or_new(originals: &BTreeMap<PathBuf, Vec<u8>>, model: &Models) -> (usize, usize) {
    let (mut old, mut new) = (0, 0);
    for (path, original) in originals {
        let now = std::fs::read(path).unwrap_or_else(|e| panic!("{} lost: {e}", path.display()));
        if &now == original {
            old += 1;
            continue;
        }
        assert_eq!(Format::of(&now), Format::Ecdc, "{}: neither old nor new", path.display());
        let before = levels::duration_s(original, &Models::none()).unwrap();
        let after = levels::decompress(&now, model).unwrap().audio.duration_s();
        assert!((before - after).abs() < 0.001, "{}: half-written?", path.display());
        new += 1;
    }
    (old, new)
}

/// `encodec cache migrate` killed with SIGKILL at several instants of a run: every file is
/// always the old one or the new one; the temporaries a kill leaves are removed by the next
/// run, which finishes the job.
#[test]
fn a_killed_migration_loses_nothing_and_a_rerun_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let speech = audio::read(root().join("tests/fixtures/samples/speech-espeak-22k.wav")).unwrap();
    let mut originals = BTreeMap::new();
    for i in 0..24 {
        let gain = 0.3 + 0.02 * i as f32;
        let channels: Vec<Vec<f32>> =
            speech.channels.iter().map(|c| c.iter().map(|s| s * gain).collect()).collect();
        let bytes = audio::wav_bytes(&channels, speech.sample_rate, WavFormat::Pcm16).unwrap();
        let path = dir.path().join(format!("clip-{i:02}.wav"));
        std::fs::write(&path, &bytes).unwrap();
        originals.insert(path, bytes);
    }
    let model_dir = root().join("weights/test-24khz");
    let run = || {
        common::cli()
            .args(["-q", "cache", "migrate"])
            .arg(dir.path())
            .args(["--level", "ultra", "--jobs", "2", "--model"])
            .arg(&model_dir)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let models = Models::loaded(test_model());
    let mut kills = 0;
    let mut delay = Duration::from_millis(150);
    loop {
        let mut child = run();
        let started = Instant::now();
        let finished = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break Some(status);
            }
            if started.elapsed() >= delay {
                break None;
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        if let Some(status) = finished {
            assert!(status.success());
            break;
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        kills += 1;
        let (old, new) = check_old_or_new(&originals, &models);
        eprintln!("killed after {delay:?}: {old} old, {new} new");
        // Geometric: a few kills at any speed (under qemu a run takes 20x as long).
        delay = delay * 3 / 2;
        assert!(kills < 40, "the migration never finished");
    }
    assert!(kills >= 1, "the run was never interrupted; the test proved nothing");
    let (old, new) = check_old_or_new(&originals, &models);
    assert_eq!((old, new), (0, originals.len()), "the last run finished the job");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with("clip-") && n != ".encodec-migrate.lock")
        .collect();
    assert!(leftovers.is_empty(), "temporaries left: {leftovers:?}");
}

#[test]
fn stats_count_bytes_and_minutes_by_format() {
    let (dir, originals) = cache_tree();
    let stats = cache::stats(dir.path(), 2).unwrap();
    assert_eq!(stats.unreadable.len(), 1, "broken.wav");
    assert_eq!(stats.total.files, 7);
    let wav = &stats.by_format[&Format::Wav];
    let wav_bytes: u64 = originals
        .iter()
        .filter(|(p, _)| {
            p.extension().is_some_and(|e| e.eq_ignore_ascii_case("wav")) && !p.ends_with("broken.wav")
        })
        .map(|(_, b)| b.len() as u64)
        .sum();
    assert_eq!((wav.files, wav.bytes), (2, wav_bytes));
    assert!((wav.duration_s - (122_440.0 / 22_050.0 + 1.0)).abs() < 0.01, "{}", wav.duration_s);
    assert!((wav.mb_per_minute - cache::per_minute(wav.bytes, wav.duration_s)).abs() < 1e-12);
    for format in [Format::Mp3, Format::Gzip, Format::Mp4, Format::Flac, Format::Ogg] {
        assert_eq!(stats.by_format[&format].files, 1, "{format:?}");
    }
    // After a migration to Ultra, the .ecdc files are counted from their headers alone.
    let compressor = Compressor::new(Level::default(), Models::loaded(test_model()));
    cache::migrate(dir.path(), &compressor, 2, |_, _| {}).unwrap();
    let after = cache::stats(dir.path(), 2).unwrap();
    assert_eq!(after.by_format[&Format::Ecdc].files, 7);
    assert!(after.total.mb_per_minute < stats.total.mb_per_minute / 5.0);
    assert!((after.total.duration_s - stats.total.duration_s).abs() < 0.01);
}

// --- an application writing the folder during a migration ------------------------------------

/// Files the writer keeps rewriting, and the test's model rate (no resampling on the way).
const WRITTEN_FILES: usize = 12;
const WRITER_RATE: u32 = 24_000;

/// Version `version` of written file `file`: a tone whose length tells the version (3 s +
/// 10 ms per version), so that a migrated file's duration says which content it came from.
fn written_version(file: usize, version: usize) -> Vec<u8> {
    let len = written_len(version);
    let freq = 150.0 + 25.0 * file as f32;
    let tone = (0..len)
        .map(|i| 0.4 * (std::f32::consts::TAU * freq * i as f32 / WRITER_RATE as f32).sin())
        .collect();
    audio::wav_bytes(&[tone], WRITER_RATE, WavFormat::Pcm16).unwrap()
}

fn written_len(version: usize) -> usize {
    72_000 + 240 * version
}

fn written_path(dir: &std::path::Path, file: usize) -> PathBuf {
    dir.join(format!("tts-{file:02}.wav"))
}

/// The application: like a cache, it replaces files whole (a temporary renamed over the file),
/// one after another 4 ms apart, until told to stop; returns its last version of each file.
/// It runs in the test's process, the migration in another.
fn write_until(dir: &std::path::Path, stop: &std::sync::atomic::AtomicBool) -> Vec<usize> {
    let mut versions = vec![0usize; WRITTEN_FILES];
    let mut step = 0usize;
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        let file = (step * 5) % WRITTEN_FILES; // not in the migration's order
        versions[file] += 1;
        let temp = dir.join(format!(".writer-{file}.tmp"));
        std::fs::write(&temp, written_version(file, versions[file])).unwrap();
        std::fs::rename(&temp, written_path(dir, file)).unwrap();
        step += 1;
        // Each file every ~60 ms: about as long as converting one takes here, so that some
        // conversions finish unhindered and some meet a rewrite.
        std::thread::sleep(Duration::from_millis(4));
    }
    versions
}

struct StopOnDrop<'a>(&'a std::sync::atomic::AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// The test: an application rewrites files in a loop while `encodec cache migrate`
/// runs (another process), three times to the end; killed at several instants then run
/// three times to the end; and once with `--rename`. Afterwards every
/// file holds the writer's last content, or the migration of exactly that content (its
/// duration says which version it came from), never the migration of an older one.
#[test]
fn writes_during_a_migration_lose_nothing() {
    let model_dir = root().join("weights/test-24khz");
    let models = Models::loaded(test_model());
    for (kill, rename) in [(false, false), (true, false), (false, true)] {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("cache");
        std::fs::create_dir(&cache).unwrap();
        for file in 0..WRITTEN_FILES {
            std::fs::write(written_path(&cache, file), written_version(file, 0)).unwrap();
        }
        let stop = std::sync::atomic::AtomicBool::new(false);
        let writer = std::thread::scope(|scope| {
            let writer = scope.spawn(|| write_until(&cache, &stop));
            // The writer stops even if an assertion below fails (else the scope waits forever).
            let _stop_writer = StopOnDrop(&stop);
            let migrate = || {
                common::cli()
                    .args(["-q", "cache", "migrate"])
                    .arg(&cache)
                    .args(["--level", "ultra", "--jobs", "2", "--json", "--model"])
                    .arg(&model_dir)
                    .args(rename.then_some("--rename"))
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            };
            let (mut superseded, mut kills) = (0, 0);
            if kill {
                for delay in [30, 60, 90, 120] {
                    let mut child = migrate();
                    std::thread::sleep(Duration::from_millis(delay));
                    if child.try_wait().unwrap().is_none() {
                        child.kill().unwrap(); // SIGKILL, mid-file
                        kills += 1;
                    }
                    child.wait().unwrap();
                }
            }
            // Runs to the end, each finding the files rewritten since the one before (with
            // --rename one: a second finds the new names taken and leaves the files alone).
            let mut converted = 0;
            for _ in 0..if rename { 1 } else { 3 } {
                let finished = migrate().wait_with_output().unwrap();
                assert!(finished.status.success(), "{}", String::from_utf8_lossy(&finished.stderr));
                let summary: serde_json::Value = serde_json::from_slice(&finished.stdout).unwrap();
                superseded += summary["superseded"].as_u64().unwrap();
                converted += summary["converted"].as_u64().unwrap();
            }
            drop(_stop_writer);
            (writer.join().unwrap(), superseded, converted, kills)
        });
        let (writer_versions, superseded, converted, kills) = writer;

        let (mut as_written, mut migrated, mut lost) = (0, 0, Vec::new());
        for (file, &version) in writer_versions.iter().enumerate() {
            let mut path = written_path(&cache, file);
            // With --rename the last version is the .wav the writer left, or else the .ecdc
            // (a .ecdc beside a newer .wav is an older migration, superseded, not a loss).
            if rename && !path.exists() {
                path = path.with_extension("ecdc");
            }
            let now = std::fs::read(&path).unwrap_or_else(|e| panic!("{} lost: {e}", path.display()));
            if now == written_version(file, version) {
                as_written += 1;
            } else if Format::of(&now) == Format::Ecdc {
                let samples = levels::decompress(&now, &models).unwrap().audio.channels[0].len();
                if samples == written_len(version) {
                    migrated += 1;
                } else {
                    lost.push(format!(
                        "{}: the migration of an older version ({samples} samples)",
                        path.display()
                    ));
                }
            } else {
                lost.push(format!("{}: neither version {version} nor its migration", path.display()));
            }
        }
        let rewrites: usize = writer_versions.iter().sum();
        eprintln!(
            "writer vs migration (killed {kills} times, --rename {rename}): {rewrites} rewrites of {WRITTEN_FILES} files; \
             the runs to the end converted {converted} and found {superseded} rewritten while converted; \
             at the end {as_written} as written, \
             {migrated} migrations of the last version, {} lost",
            lost.len()
        );
        assert!(lost.is_empty(), "{lost:#?}");
        assert!(
            rewrites >= 2 * WRITTEN_FILES,
            "the writer hardly wrote ({rewrites}): the test proved nothing"
        );
        let leftovers: Vec<_> = std::fs::read_dir(&cache)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".part"))
            .collect();
        // A killed run's temporaries are swept by the next run (their owner is gone).
        assert!(leftovers.is_empty(), "temporaries left: {leftovers:?}");
    }
}

/// One migration per folder: a second one started while the first runs says so and stops,
/// touching nothing; once the first is done, the folder can be migrated again.
#[test]
fn a_second_migration_of_a_folder_stops_at_once() {
    let (dir, _) = cache_tree();
    let compressor = Compressor::new(Level::default(), Models::loaded(test_model()));
    let (started, wait) = (std::sync::Barrier::new(2), std::sync::Barrier::new(2));
    std::thread::scope(|scope| {
        let first = scope.spawn(|| {
            let once = std::sync::Once::new();
            cache::migrate(dir.path(), &compressor, 1, |_, _| {
                once.call_once(|| {
                    started.wait(); // the first file is done: the lock is held
                    wait.wait();
                })
            })
        });
        started.wait();
        let second = common::cli()
            .args(["-q", "cache", "migrate"])
            .arg(dir.path())
            .args(["--level", "lossless"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&second.stderr);
        assert_eq!(second.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains("another migration of")
                && stderr.contains(&format!("(pid {})", std::process::id())),
            "{stderr}"
        );
        wait.wait();
        assert_eq!(first.join().unwrap().unwrap().converted, 7);
    });
    let again = cache::migrate(dir.path(), &compressor, 1, |_, _| {}).unwrap();
    assert_eq!(again.already_done, 7);
}

/// The sweep removes a temporary whose process is gone, and leaves one a live process holds
/// (locked, its pid in the name) and one just created by a live process not yet locked.
#[test]
fn the_sweep_spares_temporaries_of_live_processes() {
    let (dir, _) = cache_tree();
    let compressor = Compressor::new(Level::Lossless, Models::none());
    // A process that has exited: its pid names no running process.
    let gone = Command::new("true").spawn().unwrap();
    let gone_pid = gone.id();
    let mut gone = gone;
    gone.wait().unwrap();
    let dead = dir.path().join(format!(".encodec-{gone_pid}-abc.part"));
    std::fs::write(&dead, b"left by a killed run").unwrap();
    let old_style = dir.path().join(".encodec-xyz.part");
    std::fs::write(&old_style, b"left by an older version").unwrap();
    // A live writer (this process): locked, and unlocked with its pid (the instant between).
    let held = dir.path().join(format!(".encodec-{}-held.part", std::process::id()));
    std::fs::write(&held, b"being written").unwrap();
    let holder = std::fs::File::open(&held).unwrap();
    holder.lock().unwrap();
    let fresh = dir.path().join(format!(".encodec-{}-fresh.part", std::process::id()));
    std::fs::write(&fresh, b"just created").unwrap();
    let summary = cache::migrate(dir.path(), &compressor, 1, |_, _| {}).unwrap();
    assert_eq!(summary.stale_temporaries_removed, 2);
    assert!(!dead.exists() && !old_style.exists());
    assert!(held.exists() && fresh.exists(), "a live process's temporaries were removed");
    drop(holder);
}

/// `--rename`: files get the extension of what they hold, files already at the level too; a
/// name already taken (two sources for one `.ecdc` name) leaves the file as it was, and a
/// re-run changes nothing.
#[test]
fn migration_renames_files_for_what_they_hold() {
    let (dir, originals) = cache_tree();
    let compressor = Compressor::new(Level::default(), Models::loaded(test_model()));
    let options = cache::MigrateOptions { jobs: 2, rename: true };
    let summary = cache::migrate_with(dir.path(), &compressor, &options, |_, _| {}).unwrap();
    // voices/a/hello.wav, voices/a/stereo.WAV, one of voices/b.{mp3,mp3z}, one of c.{m4a,flac,ogg}.
    assert_eq!(
        (summary.converted, summary.renamed, summary.kept, summary.failed),
        (4, 4, 4, 0),
        "{summary:?}"
    );
    for name in ["voices/a/hello.ecdc", "voices/a/stereo.ecdc", "voices/b.ecdc", "c.ecdc"] {
        let bytes = std::fs::read(dir.path().join(name)).unwrap();
        assert_eq!(Format::of(&bytes), Format::Ecdc, "{name}");
    }
    // The losers of a name kept their name and bytes; nothing vanished.
    let mut left = 0;
    for (path, original) in &originals {
        if let Ok(now) = std::fs::read(path) {
            assert_eq!(&now, original, "{}: changed but not renamed", path.display());
            left += 1;
        }
    }
    assert_eq!(left, originals.len() - 4);
    let again = cache::migrate_with(dir.path(), &compressor, &options, |_, _| {}).unwrap();
    assert_eq!((again.converted, again.renamed, again.already_done), (0, 0, 4), "{again:?}");

    // Converted without --rename before: renamed now, its bytes untouched.
    let other = tempfile::tempdir().unwrap();
    let path = other.path().join("hello.wav");
    std::fs::write(&path, sample("speech-espeak-22k.wav")).unwrap();
    cache::migrate(other.path(), &compressor, 1, |_, _| {}).unwrap();
    let converted = std::fs::read(&path).unwrap();
    let renaming = cache::migrate_with(other.path(), &compressor, &options, |_, _| {}).unwrap();
    assert_eq!((renaming.already_done, renaming.renamed), (1, 1));
    assert!(!path.exists());
    assert_eq!(std::fs::read(other.path().join("hello.ecdc")).unwrap(), converted);
}
