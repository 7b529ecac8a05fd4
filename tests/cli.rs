//! The `encodec` command line, run as a user would.

mod common;

use std::path::Path;
use std::process::Output;

use common::{root, serve_hub, small_model_files};
use encodec::{audio, ecdc, Bandwidth, Encodec};

fn encodec(args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut command = common::cli();
    command.args(args).env("HF_HUB_OFFLINE", "1").env("HF_HOME", root().join("target/no-hf-home"));
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().unwrap()
}

fn ok(output: &Output) -> String {
    assert!(output.status.success(), "failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A failure is one line on stderr and a non-zero status; never a panic.
fn fails(output: &Output) -> String {
    let stderr = String::from_utf8(output.stderr.clone()).unwrap();
    assert!(!output.status.success());
    assert!(stderr.starts_with("encodec: ") && stderr.lines().count() == 1, "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn encode_info_decode_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let (ecdc_path, wav_path) = (dir.path().join("speech.ecdc"), dir.path().join("speech.wav"));
    let model_dir = root().join("weights/test-24khz");
    let input = root().join("tests/fixtures/samples/speech-24khz.wav");
    let out = encodec(
        &["-q", "encode", s(&input), s(&ecdc_path), "--model", s(&model_dir), "--bandwidth", "3"],
        &[],
    );
    ok(&out);
    assert!(out.stderr.is_empty(), "-q prints nothing");

    // The file is exactly what the library writes.
    let model = Encodec::from_dir(&model_dir).unwrap();
    let pcm = audio::read(&input).unwrap().channels;
    let mut expected = Vec::new();
    ecdc::write(&mut expected, &model.encode(&pcm, Bandwidth::Kbps3).unwrap(), model.config()).unwrap();
    assert_eq!(std::fs::read(&ecdc_path).unwrap(), expected);

    let info = ok(&encodec(&["info", s(&ecdc_path)], &[]));
    for needle in ["encodec_24khz", "3 kbps", "4.000 s", &format!("{} bytes", expected.len())] {
        assert!(info.contains(needle), "{needle:?} not in:\n{info}");
    }

    ok(&encodec(&["-q", "decode", s(&ecdc_path), s(&wav_path), "--model", s(&model_dir)], &[]));
    let decoded = audio::read(&wav_path).unwrap();
    assert_eq!((decoded.sample_rate, decoded.channels.len(), decoded.len()), (24_000, 1, 96_000));

    // `-` streams the same WAV to stdout.
    let stdout = encodec(&["-q", "decode", s(&ecdc_path), "-", "--model", s(&model_dir)], &[]);
    ok(&stdout);
    assert_eq!(stdout.stdout, std::fs::read(&wav_path).unwrap());
}

#[test]
fn streamed_files_equal_the_batch_library_output() {
    // The command line streams every file (encode and decode, to a file and to stdout); the
    // bytes are those of the batch library calls on the whole signal.
    let dir = tempfile::tempdir().unwrap();
    for (model_dir, input) in [
        ("weights/test-24khz", "tests/fixtures/samples/speech-24khz.wav"),
        ("weights/test-48khz", "tests/fixtures/samples/speech-44k-stereo.wav"),
    ] {
        let (model_dir, input) = (root().join(model_dir), root().join(input));
        let model = Encodec::from_dir(&model_dir).unwrap();
        let pcm =
            audio::convert(&audio::read(&input).unwrap(), model.sample_rate(), model.channels()).unwrap();
        let codes = model.encode(&pcm, Bandwidth::Kbps6).unwrap();
        let mut expected = Vec::new();
        ecdc::write(&mut expected, &codes, model.config()).unwrap();
        let e = dir.path().join("x.ecdc");
        ok(&encodec(&["-q", "encode", s(&input), s(&e), "--model", s(&model_dir)], &[]));
        assert_eq!(std::fs::read(&e).unwrap(), expected, "{}: .ecdc", model_dir.display());
        let decoded = model.decode(&codes).unwrap();
        for (flag, format) in [(None, audio::WavFormat::Pcm16), (Some("--float"), audio::WavFormat::Float32)]
        {
            let expected = audio::wav_bytes(&decoded, model.sample_rate(), format).unwrap();
            let w = dir.path().join("x.wav");
            let mut args = vec!["-q", "decode", s(&e), s(&w), "--model", s(&model_dir)];
            args.extend(flag);
            ok(&encodec(&args, &[]));
            assert_eq!(std::fs::read(&w).unwrap(), expected, "{}: {format:?} WAV file", model_dir.display());
            args[3] = "-";
            let out = encodec(&args, &[]);
            ok(&out);
            assert_eq!(out.stdout, expected, "{}: {format:?} WAV on stdout", model_dir.display());
        }
    }
}

#[test]
fn a_time_range_decodes_what_the_library_seek_gives() {
    let dir = tempfile::tempdir().unwrap();
    // 4 s at 24 kHz: a seek past the pre-roll's reach; 1 s at 48 kHz: into the second segment.
    for (model_dir, input, (from, to)) in [
        ("weights/test-24khz", "tests/fixtures/samples/speech-24khz.wav", ("2.25", "3.5")),
        ("weights/test-48khz", "tests/fixtures/samples/speech-44k-stereo.wav", ("0.5", "0.995")),
    ] {
        let (model_dir, input) = (root().join(model_dir), root().join(input));
        let model = Encodec::from_dir(&model_dir).unwrap();
        let e = dir.path().join("x.ecdc");
        ok(&encodec(&["-q", "encode", s(&input), s(&e), "--model", s(&model_dir)], &[]));
        let rate = model.sample_rate() as f64;
        let sample = |t: &str| (t.parse::<f64>().unwrap() * rate).round() as usize;
        let range = sample(from)..sample(to);
        let bytes = std::fs::read(&e).unwrap();
        let mut reader = std::io::Cursor::new(&bytes);
        let header = ecdc::Header::read(&mut reader).unwrap();
        let mut decoder =
            ecdc::EcdcDecoder::new(&model, reader, &header, range.clone(), ecdc::DEFAULT_PREROLL_FRAMES)
                .unwrap();
        let mut pcm = vec![Vec::new(); model.channels()];
        while let Some(part) = decoder.next_chunk(10).unwrap() {
            pcm.iter_mut().zip(part).for_each(|(a, b): (&mut Vec<f32>, _)| a.extend(b));
        }
        if model.config().segment_length().is_some() {
            // Segments make the seek exact.
            let full = model.decode(&ecdc::read(&mut bytes.as_slice(), model.config()).unwrap()).unwrap();
            assert_eq!(pcm, full.iter().map(|c| c[range.clone()].to_vec()).collect::<Vec<_>>());
        }
        let expected = audio::wav_bytes(&pcm, model.sample_rate(), audio::WavFormat::Float32).unwrap();
        let w = dir.path().join("x.wav");
        let args =
            ["-q", "decode", s(&e), s(&w), "--model", s(&model_dir), "--float", "--from", from, "--to", to];
        ok(&encodec(&args, &[]));
        assert_eq!(std::fs::read(&w).unwrap(), expected, "{}", model_dir.display());
        let message =
            fails(&encodec(&["-q", "decode", s(&e), s(&w), "--model", s(&model_dir), "--from", "3600"], &[]));
        assert!(message.contains("not inside the audio"), "{message}");
    }
}

#[test]
fn compressed_stereo_input_is_converted_for_each_model() {
    let dir = tempfile::tempdir().unwrap();
    let mp3 = root().join("tests/fixtures/samples/speech-44k-stereo.mp3");
    for (model, rate, channels) in [("weights/test-24khz", 24_000, 1), ("weights/test-48khz", 48_000, 2)] {
        let (e, w) = (dir.path().join("x.ecdc"), dir.path().join("x.wav"));
        ok(&encodec(&["-q", "encode", s(&mp3), s(&e), "--model", s(&root().join(model))], &[]));
        ok(&encodec(&["-q", "decode", s(&e), s(&w), "--model", s(&root().join(model)), "--float"], &[]));
        let decoded = audio::read(&w).unwrap();
        assert_eq!((decoded.sample_rate, decoded.channels.len()), (rate, channels));
        let expected = audio::read(&mp3).unwrap().len() as u64 * rate as u64 / 44_100;
        assert!(decoded.len().abs_diff(expected as usize) <= 1, "{} vs {expected}", decoded.len());
    }
}

#[test]
fn decode_finds_the_model_named_in_the_file_on_the_hub() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ecdc_path = root().join("tests/fixtures/small-24khz/ecdc/speech.6.0.ecdc");
    let wav = dir.path().join("out.wav");
    let (endpoint, _) = serve_hub(small_model_files("weights/test-24khz"));
    let mut command = common::cli();
    let out = command
        .args(["-q", "decode", s(&ecdc_path), s(&wav)])
        .env("HF_HOME", home.path())
        .env("HF_ENDPOINT", &endpoint)
        .env_remove("HF_HUB_OFFLINE")
        .output()
        .unwrap();
    ok(&out);
    assert!(home.path().join("hub/models--facebook--encodec_24khz").is_dir(), "downloaded into HF_HOME");
    assert_eq!(audio::read(&wav).unwrap().len(), 36_000);
    // Offline now works from that cache.
    ok(&encodec(&["-q", "decode", s(&ecdc_path), s(&wav)], &[("HF_HOME", home.path())]));
}

#[test]
fn failures_are_one_line_and_leave_outputs_alone() {
    let dir = tempfile::tempdir().unwrap();
    let model_dir = root().join("weights/test-24khz");
    let out_wav = dir.path().join("out.wav");
    std::fs::write(&out_wav, b"precious").unwrap();
    let garbage = dir.path().join("garbage.ecdc");
    std::fs::write(&garbage, b"ECDC\x00\xff\xff\xff\xffgarbage").unwrap();
    let e = fails(&encodec(&["decode", s(&garbage), s(&out_wav), "--model", s(&model_dir)], &[]));
    assert!(e.contains("metadata length"), "{e}");
    assert_eq!(std::fs::read(&out_wav).unwrap(), b"precious");

    let truncated = dir.path().join("truncated.ecdc");
    let good = std::fs::read(root().join("tests/fixtures/small-24khz/ecdc/speech.6.0.ecdc")).unwrap();
    std::fs::write(&truncated, &good[..good.len() - 5]).unwrap();
    assert!(fails(&encodec(&["decode", s(&truncated), s(&out_wav), "--model", s(&model_dir)], &[]))
        .contains("truncated"));
    assert!(fails(&encodec(&["info", s(&truncated)], &[])).contains("truncated"));
    assert_eq!(std::fs::read(&out_wav).unwrap(), b"precious");

    let missing = dir.path().join("missing.wav");
    let out_ecdc = dir.path().join("out.ecdc");
    fails(&encodec(&["encode", s(&missing), s(&out_ecdc), "--model", s(&model_dir)], &[]));
    assert!(!out_ecdc.exists());
    let e = fails(&encodec(
        &["decode", s(&root().join("tests/fixtures/small-24khz/ecdc/speech.6.0.ecdc")), s(&out_wav)],
        &[],
    ));
    assert!(
        e.contains("huggingface-cli download facebook/encodec_24khz") && e.contains("--model DIR"),
        "{e}"
    );
    let e = fails(&encodec(
        &["encode", s(&missing), s(&out_ecdc), "--model", s(&model_dir), "--bandwidth", "7"],
        &[],
    ));
    assert!(e.contains("bandwidth"), "{e}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 3, "no temporary files left behind");
}

#[test]
fn convert_writes_a_loadable_model_folder() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(root().join("tests/fixtures/manifest.json")).unwrap();
    let manifest: serde_json::Value = serde_json::from_str(&text).unwrap();
    let checkpoint =
        root().join("tests/fixtures/convert").join(manifest["convert"]["checkpoint"].as_str().unwrap());
    let out = dir.path().join("model");
    ok(&encodec(&["-q", "convert", s(&checkpoint), s(&out), "--dtype", "f16"], &[]));
    let model = Encodec::from_dir(&out).unwrap();
    assert_eq!(model.sample_rate(), 24_000);
    let e =
        fails(&encodec(&["convert", s(&root().join("tests/fixtures/convert/not_a_zip.th")), s(&out)], &[]));
    assert!(e.contains("not a PyTorch checkpoint"), "{e}");
}

#[test]
fn compress_prints_metadata_and_decompress_reads_every_level() {
    let dir = tempfile::tempdir().unwrap();
    let input = root().join("tests/fixtures/samples/speech-espeak-22k.wav");
    let model = root().join("weights/test-24khz");
    let original = audio::read(&input).unwrap();
    for (level, codec) in [("ultra", "ecdc"), ("standard", "aac"), ("lossless", "gzip"), ("off", "stored")] {
        let out = dir.path().join(format!("out-{level}"));
        let args = [
            "compress",
            input.to_str().unwrap(),
            out.to_str().unwrap(),
            "--level",
            level,
            "--model",
            model.to_str().unwrap(),
            "--json",
        ];
        let json: serde_json::Value = serde_json::from_str(&ok(&encodec(&args, &[]))).unwrap();
        assert_eq!((json["codec"].as_str(), json["level"].as_str()), (Some(codec), Some(level)));
        assert_eq!(json["compressed_size"].as_u64(), Some(std::fs::metadata(&out).unwrap().len()));
        let wav = dir.path().join(format!("back-{level}.wav"));
        ok(&encodec(
            &["decompress", out.to_str().unwrap(), wav.to_str().unwrap(), "--model", model.to_str().unwrap()],
            &[],
        ));
        let back = audio::read(&wav).unwrap();
        assert!((back.duration_s() - original.duration_s()).abs() < 0.001, "{level}");
    }
    // Without the model (offline, nothing cached), Ultra falls back and says why.
    let out = dir.path().join("fallback");
    let json: serde_json::Value = serde_json::from_str(&ok(&encodec(
        &["compress", input.to_str().unwrap(), out.to_str().unwrap(), "--json"],
        &[],
    )))
    .unwrap();
    assert_eq!(json["codec"], "lyra");
    assert!(json["fallback_reason"].as_str().unwrap().contains("HF_HUB_OFFLINE"));
    // Content is never refused: a broken file is stored as it is, and the metadata says why.
    let garbage = dir.path().join("garbage.wav");
    std::fs::write(&garbage, b"RIFF\x10\x00\x00\x00WAVEjunk").unwrap();
    let stored = dir.path().join("stored");
    let json: serde_json::Value = serde_json::from_str(&ok(&encodec(
        &["compress", s(&garbage), s(&stored), "--level", "ultra", "--json"],
        &[],
    )))
    .unwrap();
    assert_eq!((json["codec"].as_str(), json["is_compressed"].as_bool()), (Some("stored"), Some(false)));
    assert!(json["fallback_reason"].as_str().unwrap().contains("minimum"), "{json}");
    assert_eq!(std::fs::read(&stored).unwrap(), std::fs::read(&garbage).unwrap());
    // I/O and bad arguments fail: one line, nothing written.
    let out = dir.path().join("never");
    fails(&encodec(&["compress", s(&dir.path().join("missing.wav")), s(&out)], &[]));
    assert!(!out.exists());
    fails(&encodec(
        &[
            "compress",
            input.to_str().unwrap(),
            out.to_str().unwrap(),
            "--level",
            "standard",
            "--aac",
            "he-v2",
            "--kbps",
            "64",
        ],
        &[],
    ));
}

#[test]
fn cache_migrate_and_stats_report_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let speech = std::fs::read(root().join("tests/fixtures/samples/speech-espeak-22k.wav")).unwrap();
    std::fs::write(dir.path().join("a.wav"), &speech).unwrap();
    // A WAV header over noise: not audio, and gzip does not shrink it.
    let mut state = 11u64;
    let noise = (0..2000).map(|_| {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (state >> 33) as u8
    });
    std::fs::write(dir.path().join("b.wav"), speech[..12].iter().copied().chain(noise).collect::<Vec<_>>())
        .unwrap();
    let d = dir.path().to_str().unwrap();
    let stats: serde_json::Value =
        serde_json::from_str(&ok(&encodec(&["cache", "stats", d, "--json"], &[]))).unwrap();
    assert_eq!(
        (stats["total"]["files"].as_u64(), stats["by_format"]["wav"]["bytes"].as_u64()),
        (Some(1), Some(speech.len() as u64))
    );
    assert_eq!(stats["unreadable"].as_array().unwrap().len(), 1);
    let args = ["-q", "cache", "migrate", d, "--level", "lossless", "--jobs", "2", "--json"];
    let summary: serde_json::Value = serde_json::from_str(&ok(&encodec(&args, &[]))).unwrap();
    assert_eq!(
        (summary["converted"].as_u64(), summary["kept"].as_u64(), summary["failed"].as_u64()),
        (Some(1), Some(1), Some(0))
    );
    let text = ok(&encodec(&["cache", "stats", d], &[]));
    assert!(text.contains("gzip") && text.contains("MB/min"), "{text}");
}

#[test]
fn the_kernel_switch_forces_a_path_and_every_path_writes_the_same_file() {
    let dir = tempfile::tempdir().unwrap();
    let model_dir = root().join("weights/test-24khz");
    let input = root().join("tests/fixtures/samples/speech-24khz.wav");
    let mut files = Vec::new();
    for kernels in encodec::Kernels::available() {
        let path = dir.path().join(format!("{kernels}.ecdc"));
        let env = [("ENCODEC_KERNELS", Path::new(kernels.as_str()))];
        ok(&encodec(&["-q", "encode", s(&input), s(&path), "--model", s(&model_dir)], &env));
        files.push((kernels, std::fs::read(&path).unwrap()));
        let bench = ok(&encodec(
            &["bench", "--model", s(&model_dir), "--seconds", "0.3", "--repeat", "1", "--threads", "1"],
            &env,
        ));
        assert!(bench.contains(&format!("\"kernels\":\"{kernels}\"")), "{bench}");
    }
    for (kernels, bytes) in &files[1..] {
        assert!(*bytes == files[0].1, "{kernels} wrote other bytes than {}", files[0].0);
    }
    let refused = dir.path().join("refused.ecdc");
    let env = [("ENCODEC_KERNELS", Path::new("sse9"))];
    let stderr = fails(&encodec(&["encode", s(&input), s(&refused), "--model", s(&model_dir)], &env));
    assert!(stderr.contains("unknown kernel path"), "{stderr}");
    assert!(!refused.exists());
}

/// Lyra from the command line: `.lyra` picks it (Google's raw packets, bitrate given to
/// decode), `--framed` writes the framed file that decode and decompress read with no flags,
/// `compress --codec lyra`; wrong bitrates and files are one-line errors.
#[test]
fn lyra_encode_decode_and_compress() {
    let dir = tempfile::tempdir().unwrap();
    let input = root().join("tests/fixtures/samples/speech-espeak-22k.wav");
    let source = audio::read(&input).unwrap();
    let len_16k = (source.len() as u64 * 16_000).div_ceil(22_050) as usize;
    let frames = len_16k.div_ceil(320);
    let p = |name: &str| dir.path().join(name);
    for (kbps, packet) in [("3.2", 8), ("6", 15), ("9.2", 23)] {
        let raw = p(&format!("speech-{kbps}.lyra"));
        ok(&encodec(&["encode", s(&input), s(&raw), "--bandwidth", kbps], &[]));
        assert_eq!(std::fs::metadata(&raw).unwrap().len() as usize, frames * packet, "{kbps}");
        let wav = p(&format!("raw-{kbps}.wav"));
        ok(&encodec(&["decode", s(&raw), s(&wav), "--bandwidth", kbps], &[]));
        let back = audio::read(&wav).unwrap();
        assert_eq!((back.sample_rate, back.channels.len(), back.len()), (16_000, 1, frames * 320));

        let framed = p(&format!("speech-{kbps}.bin"));
        ok(&encodec(&["encode", s(&input), s(&framed), "--framed", "--bandwidth", kbps], &[]));
        let wav = p(&format!("framed-{kbps}.wav"));
        ok(&encodec(&["decode", s(&framed), s(&wav)], &[]));
        assert_eq!(audio::read(&wav).unwrap().len(), len_16k, "{kbps}: the framed file keeps the length");
        let wav2 = p(&format!("framed2-{kbps}.wav"));
        ok(&encodec(&["decompress", s(&framed), s(&wav2)], &[]));
        assert_eq!(std::fs::read(&wav).unwrap(), std::fs::read(&wav2).unwrap());
    }
    // A time range of a Lyra file: the same samples as the whole decode's.
    let whole = audio::read(p("framed-6.wav")).unwrap();
    ok(&encodec(&["decode", s(&p("speech-6.bin")), s(&p("part.wav")), "--from", "1", "--to", "1.5"], &[]));
    assert_eq!(audio::read(p("part.wav")).unwrap().channels[0], whole.channels[0][16_000..24_000]);
    // compress at Ultra with Lyra.
    let out = p("compressed");
    let json: serde_json::Value = serde_json::from_str(&ok(&encodec(
        &[
            "compress",
            s(&input),
            s(&out),
            "--level",
            "ultra",
            "--codec",
            "lyra",
            "--bandwidth",
            "3.2",
            "--json",
        ],
        &[],
    )))
    .unwrap();
    assert_eq!((json["codec"].as_str(), json["fallback_reason"].is_null()), (Some("lyra"), true));
    assert_eq!(json["compressed_size"].as_u64(), Some(32 + frames as u64 * 8));
    // Errors.
    let e = fails(&encodec(&["encode", s(&input), s(&p("x.lyra")), "--bandwidth", "7"], &[]));
    assert!(e.contains("3.2, 6 or 9.2"), "{e}");
    let e = fails(&encodec(&["decode", s(&p("speech-6.lyra")), s(&p("x.wav")), "--bandwidth", "9.2"], &[]));
    assert!(e.contains("not whole 23-byte packets"), "{e}");
    let cut = p("cut.bin");
    let bytes = std::fs::read(p("speech-6.bin")).unwrap();
    std::fs::write(&cut, &bytes[..bytes.len() - 5]).unwrap();
    let e = fails(&encodec(&["decode", s(&cut), s(&p("y.wav"))], &[]));
    assert!(e.contains("truncated"), "{e}");
    assert!(!p("y.wav").exists());
    fails(&encodec(&["encode", s(&input), s(&p("z.ecdc")), "--codec", "ecdc", "--framed"], &[]));
}

#[test]
fn opus_encode_decode_and_compress() {
    let dir = tempfile::tempdir().unwrap();
    let input = root().join("tests/fixtures/samples/speech-espeak-22k.wav");
    let source = audio::read(&input).unwrap();
    let len_48k = (source.len() as u64 * 48_000).div_ceil(22_050) as usize;
    let p = |name: &str| dir.path().join(name);
    // The extension picks Opus; 12 kbps by default; the decode is at 48 kHz (22.05 kHz is not
    // an Opus rate), the source's duration.
    ok(&encodec(&["encode", s(&input), s(&p("speech.opus"))], &[]));
    let bytes = std::fs::read(p("speech.opus")).unwrap();
    let kbps = bytes.len() as f64 * 8.0 / source.duration_s() / 1000.0;
    assert!((9.0..14.0).contains(&kbps), "{kbps} kbps");
    ok(&encodec(&["decode", s(&p("speech.opus")), s(&p("speech.wav"))], &[]));
    let back = audio::read(p("speech.wav")).unwrap();
    assert_eq!((back.sample_rate, back.channels.len()), (48_000, 1));
    assert!(back.len().abs_diff(len_48k) <= 1, "{} vs {len_48k}", back.len());
    // --codec and --bandwidth; decompress reads it by its magic bytes, whatever its name.
    ok(&encodec(&["encode", s(&input), s(&p("speech.bin")), "--codec", "opus", "--bandwidth", "24"], &[]));
    assert!(std::fs::metadata(p("speech.bin")).unwrap().len() > bytes.len() as u64 * 3 / 2);
    ok(&encodec(&["decompress", s(&p("speech.bin")), s(&p("bin.wav"))], &[]));
    assert_eq!(audio::read(p("bin.wav")).unwrap().len(), back.len());
    // A time range.
    ok(&encodec(&["decode", s(&p("speech.opus")), s(&p("part.wav")), "--from", "1", "--to", "1.5"], &[]));
    assert_eq!(audio::read(p("part.wav")).unwrap().channels[0], back.channels[0][48_000..72_000]);
    // The compact level.
    let json: serde_json::Value = serde_json::from_str(&ok(&encodec(
        &["compress", s(&input), s(&p("compact")), "--level", "compact", "--bandwidth", "6", "--json"],
        &[],
    )))
    .unwrap();
    assert_eq!((json["codec"].as_str(), json["level"].as_str()), (Some("opus"), Some("compact")));
    assert!(json["compressed_size"].as_u64().unwrap() < bytes.len() as u64);
    // A cache folder migrated to the compact level, and its statistics.
    let cache = p("cache");
    std::fs::create_dir(&cache).unwrap();
    std::fs::copy(&input, cache.join("a.wav")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&ok(&encodec(
        &["cache", "migrate", s(&cache), "--level", "compact", "--json"],
        &[],
    )))
    .unwrap();
    assert_eq!((json["converted"].as_u64(), json["failed"].as_u64()), (Some(1), Some(0)));
    assert_eq!(&std::fs::read(cache.join("a.wav")).unwrap()[..4], b"OggS");
    let stats = ok(&encodec(&["cache", "stats", s(&cache), "--json"], &[]));
    assert!(stats.contains("\"opus\""), "{stats}");
    // Errors: a bitrate out of range, a truncated file.
    let e = fails(&encodec(&["encode", s(&input), s(&p("x.opus")), "--bandwidth", "65"], &[]));
    assert!(e.contains("6-64 kbps"), "{e}");
    std::fs::write(p("cut.opus"), &bytes[..bytes.len() / 2]).unwrap();
    let e = fails(&encodec(&["decode", s(&p("cut.opus")), s(&p("y.wav"))], &[]));
    assert!(e.contains("truncated"), "{e}");
    assert!(!p("y.wav").exists());
}

#[test]
fn decode_reads_any_file_the_player_reads_and_decompress_is_the_same_path() {
    let dir = tempfile::tempdir().unwrap();
    for input in ["speech-44k-stereo.mp3", "speech-44k-stereo.flac", "speech-44k-stereo.m4a"] {
        let input = root().join("tests/fixtures/samples").join(input);
        let (a, b) = (dir.path().join("a.wav"), dir.path().join("b.wav"));
        ok(&encodec(&["-q", "decode", s(&input), s(&a), "--float", "--force"], &[]));
        ok(&encodec(&["-q", "decompress", s(&input), s(&b), "--float", "--force"], &[]));
        let expected = audio::read(&input).unwrap();
        let decoded = audio::read(&a).unwrap();
        assert_eq!(decoded.channels, expected.channels, "{}", input.display());
        assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    }
}
