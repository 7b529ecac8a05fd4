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

fn test_model() -> Encodec {
    Encodec::from_dir(root().join("weights/test-24khz")).unwrap()
}

/// A cache tree in every format the migration takes, one corrupt file and one that is no
/// audio file; returns the folder and each file's original bytes.
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
        ("broken.wav", sample("speech-espeak-22k.wav")[..3000].to_vec()),
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
fn migration_converts_in_place_leaves_failures_and_resumes() {
    let (dir, originals) = cache_tree();
    let compressor = Compressor::new(Level::default(), Models::loaded(test_model()));
    let heard = std::sync::Mutex::new(Vec::new());
    let summary = cache::migrate(dir.path(), &compressor, 2, |report, total| {
        heard.lock().unwrap().push((report.path.clone(), total));
    })
    .unwrap();
    assert_eq!(heard.lock().unwrap().len(), 8, "every audio file reported once, notes.txt not");
    assert_eq!((summary.files, summary.converted, summary.failed, summary.kept), (8, 7, 1, 0));
    assert_eq!(summary.failures.len(), 1);
    let (failed, why) = &summary.failures[0];
    assert!(failed.ends_with("broken.wav") && why.contains("WAV"), "{why}");
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
    assert_eq!((again.converted, again.already_done, again.failed), (0, 7, 1), "{again:?}");
    assert_eq!(again.bytes_after, summary.bytes_after);
}

/// Without the model, Ultra would fall back to AAC: a migration keeps the files as they are
/// instead of re-encoding lossy files into other lossy files.
#[test]
fn migration_keeps_files_when_the_level_falls_back() {
    let (dir, originals) = cache_tree();
    let compressor = Compressor::new(Level::default(), Models::none());
    let summary = cache::migrate(dir.path(), &compressor, 2, |_, _| {}).unwrap();
    assert_eq!((summary.converted, summary.kept, summary.failed), (0, 7, 1));
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
    assert_eq!((summary.converted + summary.kept, summary.failed), (7, 1), "{summary:?}");
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
    assert_eq!(summary.failed, 1);
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
        Command::new(env!("CARGO_BIN_EXE_encodec"))
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
        delay += Duration::from_millis(150);
        assert!(kills < 200, "the migration never finished");
    }
    assert!(kills >= 1, "the run was never interrupted; the test proved nothing");
    let (old, new) = check_old_or_new(&originals, &models);
    assert_eq!((old, new), (0, originals.len()), "the last run finished the job");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with("clip-"))
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
