//! Reading, converting and writing audio; atomic writes.

mod common;

use common::root;
use encodec::audio::{self, Audio, WavFormat};
use encodec::internals::atomic;
use encodec::Error;

fn sample(name: &str) -> std::path::PathBuf {
    root().join("tests/fixtures/samples").join(name)
}

fn rms(x: &[f32]) -> f64 {
    (x.iter().map(|&s| (s as f64).powi(2)).sum::<f64>() / x.len() as f64).sqrt()
}

#[test]
fn every_wav_sample_format_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let left: Vec<f64> = (0..1000).map(|i| (i as f64 * 0.05).sin() * 0.9).collect();
    for (bits, format) in [
        (8, hound::SampleFormat::Int),
        (16, hound::SampleFormat::Int),
        (24, hound::SampleFormat::Int),
        (32, hound::SampleFormat::Int),
        (32, hound::SampleFormat::Float),
    ] {
        for channels in [1u16, 2] {
            let path = dir.path().join(format!("{bits}-{channels}.wav"));
            let spec = hound::WavSpec {
                channels,
                sample_rate: 22_050,
                bits_per_sample: bits,
                sample_format: format,
            };
            let mut w = hound::WavWriter::create(&path, spec).unwrap();
            let scale = ((1i64 << (bits - 1)) - 1) as f64;
            for &s in &left {
                for c in 0..channels {
                    let v = if c == 0 { s } else { -s / 2.0 };
                    match format {
                        hound::SampleFormat::Float => w.write_sample(v as f32).unwrap(),
                        hound::SampleFormat::Int if bits == 8 => {
                            w.write_sample((v * scale).round() as i8).unwrap()
                        }
                        hound::SampleFormat::Int => w.write_sample((v * scale).round() as i32).unwrap(),
                    }
                }
            }
            w.finalize().unwrap();
            let audio = audio::read(&path).unwrap();
            assert_eq!(
                (audio.sample_rate, audio.channels.len(), audio.len()),
                (22_050, channels as usize, 1000)
            );
            let tolerance = 1.0 / (1u64 << (bits - 2)) as f32 + 1e-6;
            for (i, &s) in left.iter().enumerate() {
                assert!(
                    (audio.channels[0][i] - s as f32).abs() <= tolerance,
                    "{bits}-bit {format:?} sample {i}"
                );
            }
        }
    }
}

#[test]
fn compressed_formats_decode() {
    let reference = audio::read(sample("speech-44k-stereo.wav")).unwrap();
    assert_eq!((reference.sample_rate, reference.channels.len(), reference.len()), (44_100, 2, 44_100));
    // FLAC is lossless: exactly the 16-bit source.
    assert_eq!(audio::read(sample("speech-44k-stereo.flac")).unwrap(), reference);
    for lossy in ["mp3", "m4a", "ogg"] {
        let decoded = audio::read(sample(&format!("speech-44k-stereo.{lossy}"))).unwrap();
        assert_eq!((decoded.sample_rate, decoded.channels.len()), (44_100, 2), "{lossy}");
        // Encoder delay and padding add at most a few frames of codec blocks.
        assert!(decoded.len().abs_diff(44_100) < 4096, "{lossy}: {} samples", decoded.len());
        for c in 0..2 {
            let ratio = rms(&decoded.channels[c]) / rms(&reference.channels[c]);
            assert!((0.8..1.25).contains(&ratio), "{lossy} channel {c}: rms ratio {ratio:.3}");
        }
    }
}

#[test]
fn broken_files_are_errors_not_panics() {
    let wav = std::fs::read(sample("speech-44k-stereo.wav")).unwrap();
    let mp3 = std::fs::read(sample("speech-44k-stereo.mp3")).unwrap();
    for (bytes, ext) in
        [(&wav[..30], "wav"), (&wav[..0], "wav"), (&b"hello, world"[..], "mp3"), (&mp3[..200], "mp3")]
    {
        match audio::read_bytes(bytes, Some(ext)) {
            Err(Error::Audio { .. }) => {}
            Ok(a) if ext == "mp3" && !a.is_empty() => {} // a few decodable frames are a valid, short file
            other => panic!("{ext} of {} bytes: {other:?}", bytes.len()),
        }
    }
    // Absurd rates in an otherwise valid header.
    for rate in [1u32, 3_999, 1_000_000] {
        let mut cursor = std::io::Cursor::new(Vec::new());
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::new(&mut cursor, spec).unwrap();
        w.write_sample(0i16).unwrap();
        w.finalize().unwrap();
        let err = audio::read_bytes(cursor.get_ref(), None).unwrap_err();
        assert!(err.to_string().contains("sample rate"), "{rate}: {err}");
    }
    // A float WAV holding NaN.
    let mut cursor = std::io::Cursor::new(Vec::new());
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8000,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::new(&mut cursor, spec).unwrap();
    [0.0, 0.5, f32::NAN].iter().for_each(|&s| w.write_sample(s).unwrap());
    w.finalize().unwrap();
    let err = audio::read_bytes(cursor.get_ref(), None).unwrap_err();
    assert!(matches!(err, Error::NonFiniteSample { channel: 0, index: 2, .. }), "{err:?}");
}

#[test]
fn conversion_remixes_like_the_reference_and_resamples() {
    let stereo = Audio { sample_rate: 24_000, channels: vec![vec![1.0, 0.5], vec![0.0, -0.5]] };
    assert_eq!(audio::convert(&stereo, 24_000, 1).unwrap(), vec![vec![0.5, 0.0]]);
    let mono = Audio { sample_rate: 24_000, channels: vec![vec![0.25, -0.25]] };
    assert_eq!(audio::convert(&mono, 24_000, 2).unwrap(), vec![vec![0.25, -0.25]; 2]);
    let six = Audio { sample_rate: 24_000, channels: vec![vec![0.0; 4]; 6] };
    assert!(matches!(audio::convert(&six, 24_000, 2), Err(Error::ChannelCount { expected: 2, actual: 6 })));

    // A 1 kHz tone at 44.1 kHz -> 24 kHz: the length scales, the level and the pitch stay.
    let tone: Vec<f32> = (0..44_100)
        .map(|i| (2.0 * std::f64::consts::PI * 1000.0 * i as f64 / 44_100.0).sin() as f32 * 0.5)
        .collect();
    let out = audio::convert(&Audio { sample_rate: 44_100, channels: vec![tone] }, 24_000, 1).unwrap();
    assert_eq!(out[0].len(), 24_000);
    let middle = &out[0][2000..22_000];
    assert!((rms(middle) - 0.5 / 2f64.sqrt()).abs() < 0.01, "rms {}", rms(middle));
    let crossings = middle.windows(2).filter(|w| w[0] <= 0.0 && w[1] > 0.0).count();
    assert!((crossings as i64 - 833).abs() <= 2, "{crossings} rising zero crossings in 20000 samples");
}

#[test]
fn wav_output_saturates_rounds_to_even_and_keeps_floats() {
    // FFmpeg's conversion (x * 32768, half to even, saturated): tests/meta_cli.rs checks it
    // against files Meta's command wrote.
    let pcm = vec![vec![0.5, 1.5, -2.0, -1.0, 0.25, 1.5 / 32768.0, 2.5 / 32768.0, 0.99]];
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.wav");
    audio::write_wav(&path, &pcm, 24_000, WavFormat::Pcm16).unwrap();
    let ints: Vec<i16> =
        hound::WavReader::open(&path).unwrap().samples::<i16>().map(Result::unwrap).collect();
    assert_eq!(ints, vec![16384, 32767, -32768, -32768, 8192, 2, 2, 32440]);
    audio::write_wav(&path, &pcm, 24_000, WavFormat::Float32).unwrap();
    let floats: Vec<f32> =
        hound::WavReader::open(&path).unwrap().samples::<f32>().map(Result::unwrap).collect();
    assert_eq!(floats, pcm[0]);
    assert_eq!(audio::wav_bytes(&pcm, 24_000, WavFormat::Float32).unwrap(), std::fs::read(&path).unwrap());
}

#[test]
fn a_failed_write_leaves_the_old_file_and_no_debris() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keep.ecdc");
    std::fs::write(&path, b"old").unwrap();
    let result = atomic::write(&path, |w| {
        std::io::Write::write_all(w, b"half of the new").unwrap();
        Err(Error::EmptyAudio)
    });
    assert!(result.is_err());
    assert_eq!(std::fs::read(&path).unwrap(), b"old");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary file left behind");
    atomic::write(&path, |w| {
        std::io::Write::write_all(w, b"new").unwrap();
        Ok(())
    })
    .unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b"new");
}

#[cfg(unix)]
#[test]
fn atomic_writes_get_ordinary_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let plain = dir.path().join("plain");
    std::fs::File::create(&plain).unwrap();
    let ours = dir.path().join("ours");
    atomic::write(&ours, |_| Ok(())).unwrap();
    assert_eq!(mode(&ours), mode(&plain), "new files follow the umask like File::create");
    std::fs::set_permissions(&ours, std::fs::Permissions::from_mode(0o640)).unwrap();
    atomic::write(&ours, |_| Ok(())).unwrap();
    assert_eq!(mode(&ours), 0o640, "a replaced file keeps its mode");
}

#[test]
fn every_format_reads_the_same_a_chunk_at_a_time() {
    // The command line encodes any input chunk by chunk (AudioChunks, then StreamingConverter);
    // put together, the chunks are the whole file as `read` decodes it.
    for name in [
        "speech-24khz.wav",
        "speech-44k-stereo.wav",
        "speech-44k-stereo.mp3",
        "speech-44k-stereo.flac",
        "speech-44k-stereo.m4a",
        "speech-44k-stereo.ogg",
    ] {
        let path = common::root().join("tests/fixtures/samples").join(name);
        let whole = audio::read(&path).unwrap();
        let mut chunks = audio::AudioChunks::open(&path).unwrap();
        assert_eq!(
            (chunks.sample_rate(), chunks.channels()),
            (whole.sample_rate, whole.channels.len()),
            "{name}"
        );
        let mut joined = vec![Vec::new(); whole.channels.len()];
        for size in [1, 777, 5000].into_iter().cycle() {
            let Some(chunk) = chunks.next_chunk(size).unwrap() else { break };
            assert!(chunk.len() <= size, "{name}");
            joined.iter_mut().zip(chunk.channels).for_each(|(j, c)| j.extend(c));
        }
        assert_eq!(joined, whole.channels, "{name}");
    }
}
