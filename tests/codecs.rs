//! Cache compression levels: round trips, the fallback chain, magic-byte decoding, statistics.

mod common;

use common::{aligned_snr, audio_error, root, METADATA_KEYS};
use encodec::audio::{self, WavFormat};
use encodec::encodec::Models;
use encodec::hub::HubOptions;
use encodec::internals::gzip;
use encodec::levels::{self, Compressor, Level, Ultra};
use encodec::lyra::Bitrate;
use encodec::{AacProfile, AacSettings, Format, OpusSettings};
use encodec::{Bandwidth, Encodec, Error};

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(root().join("tests/fixtures/samples").join(name)).unwrap()
}

/// espeak-ng speech, 22.05 kHz mono, 5.6 s.
fn speech() -> Vec<u8> {
    sample("speech-espeak-22k.wav")
}

/// Music-like: a chord progression of decaying harmonic notes over a bass line and noise-burst
/// drums, 44.1 kHz stereo, 3 s, as a 16-bit WAV.
fn music() -> Vec<u8> {
    let rate = 44_100usize;
    let mut seed = 7u64;
    let mut noise = move || {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (seed >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0
    };
    let chords = [[261.6, 329.6, 392.0], [220.0, 261.6, 329.6], [174.6, 220.0, 261.6], [196.0, 246.9, 293.7]];
    let mut left = Vec::with_capacity(3 * rate);
    let mut right = Vec::with_capacity(3 * rate);
    for i in 0..3 * rate {
        let t = i as f32 / rate as f32;
        let beat = (t * 4.0) as usize; // eighth notes at 120 bpm
        let since = t - beat as f32 / 4.0;
        let chord = chords[(t / 0.75) as usize % 4];
        let mut tone = 0.0;
        for (k, &f) in chord.iter().enumerate() {
            for h in 1..5 {
                let phase = 2.0 * std::f32::consts::PI * f * h as f32 * t;
                tone += phase.sin() * 0.08 / h as f32 * (1.0 + 0.1 * k as f32);
            }
        }
        let bass = (2.0 * std::f32::consts::PI * chord[0] / 2.0 * t).sin() * 0.2;
        let drum = if beat.is_multiple_of(2) { noise() * 0.3 * (-since * 30.0).exp() } else { 0.0 };
        let envelope = 0.6 + 0.4 * (-since * 3.0).exp();
        left.push((tone * envelope + bass + drum).clamp(-1.0, 1.0));
        right.push((tone * envelope * 0.8 + bass + drum * 0.6).clamp(-1.0, 1.0));
    }
    audio::wav_bytes(&[left, right], rate as u32, WavFormat::Pcm16).unwrap()
}

fn test_model() -> Encodec {
    Encodec::from_dir(root().join("weights/test-24khz")).unwrap()
}

fn offline_hub() -> HubOptions {
    HubOptions {
        cache_dir: root().join("target/no-hf-home/hub"),
        endpoint: common::closed_endpoint(),
        offline: true,
        progress: false,
    }
}

#[test]
fn lossless_is_bit_exact_and_off_stores() {
    for original in [speech(), music(), sample("speech-44k-stereo.mp3")] {
        let packed = Compressor::new(Level::Lossless, Models::none()).compress(&original).unwrap();
        assert_eq!(packed.metadata.codec, "gzip");
        assert_eq!(Format::of(&packed.bytes), Format::Gzip);
        assert!(packed.bytes.len() < original.len());
        assert_eq!(gzip::inflate(&packed.bytes).unwrap(), original, "the original bytes, exactly");
        let decoded = levels::decompress(&packed.bytes, &Models::none()).unwrap().audio;
        assert_eq!(decoded, audio::read_bytes(&original, None).unwrap());

        let stored = Compressor::new(Level::Off, Models::none()).compress(&original).unwrap();
        assert_eq!((stored.metadata.codec, stored.bytes == original), ("stored", true));
        assert!(!stored.metadata.is_compressed);
    }
}

#[test]
fn an_already_gzipped_file_stays_as_it_is_and_decodes() {
    let mp3z = gzip::compress(&sample("speech-44k-stereo.mp3")).unwrap();
    let packed = Compressor::new(Level::Lossless, Models::none()).compress(&mp3z).unwrap();
    // Gzip again would not shrink it (and would hide the original from restore): stored.
    assert_eq!((packed.metadata.codec, packed.bytes == mp3z), ("stored", true));
    assert_eq!(levels::restore(&packed.bytes, Some(packed.metadata.is_compressed)).unwrap(), mp3z);
    let decoded = levels::decompress(&mp3z, &Models::none()).unwrap();
    assert_eq!(decoded.format, Format::Gzip);
    assert_eq!(decoded.audio, audio::read_bytes(&sample("speech-44k-stereo.mp3"), None).unwrap());
}

/// AAC-LC at 64 kbps: read back by symphonia (which ignores the edit list, so the priming is
/// found by alignment and must be the 2048 samples the edit list names) and by our decoder
/// (trimmed by the edit list: aligned and exactly as long). Measured: speech 24.9 dB (both
/// decoders), music 18.4 dB (symphonia) / 18.6 dB (ours; stereo at 64 kbps is 32 per channel);
/// the floors leave ~3 dB.
#[test]
fn standard_aac_lc_round_trips_with_a_measured_snr_floor() {
    for (name, original, floor) in [("speech", speech(), 22.0), ("music", music(), 15.0)] {
        let input = audio::read_bytes(&original, None).unwrap();
        let packed = Compressor::new(Level::Standard(AacSettings::default()), Models::none())
            .compress(&original)
            .unwrap();
        assert_eq!((packed.metadata.codec, packed.metadata.fallback_reason.as_deref()), ("aac", None));
        assert_eq!(Format::of(&packed.bytes), Format::Mp4);
        let kbps = packed.bytes.len() as f64 * 8.0 / input.duration_s() / 1000.0;
        assert!((60.0..80.0).contains(&kbps), "{name}: {kbps} kbps");

        // symphonia decodes at the AAC rate the input was resampled to (22.05 and 44.1 kHz
        // are AAC rates), with the 2048-sample priming in front.
        let theirs = audio::read_bytes(&packed.bytes, Some("m4a")).unwrap();
        let (shift, snr) = aligned_snr(&input, &theirs, 4096);
        eprintln!("{name}: symphonia shift {shift}, SNR {snr:.1} dB");
        assert_eq!(shift, 2048, "{name}: priming");
        assert!(snr >= floor, "{name}: {snr:.1} dB");

        let ours = levels::decompress(&packed.bytes, &Models::none()).unwrap().audio;
        assert_eq!((ours.len(), ours.channels.len()), (input.len(), input.channels.len()), "{name}: gapless");
        let (shift, snr) = aligned_snr(&input, &ours, 64);
        eprintln!("{name}: ours shift {shift}, SNR {snr:.1} dB");
        assert_eq!(shift, 0, "{name}: the edit list trims the priming");
        assert!(snr >= floor, "{name}: {snr:.1} dB");
    }
}

/// HE-AAC v1/v2 at low bitrates: our decoder (symphonia's is LC only) gives back the exact
/// length, aligned. SBR re-synthesises the top band, so the waveform SNR is low by design;
/// measured on speech: v1 32 kbps 9.7 dB, v2 24 kbps 12.1 dB, v1 16 kbps 8.7 dB; the floor
/// leaves ~3 dB.
#[test]
fn standard_he_aac_round_trips() {
    let original = speech();
    let input = audio::read_bytes(&original, None).unwrap();
    for (profile, kbps, channels) in
        [(AacProfile::HeV1, 32, 1), (AacProfile::HeV2, 24, 2), (AacProfile::HeV1, 16, 1)]
    {
        let level = Level::Standard(AacSettings::new(profile, kbps).unwrap());
        let packed = Compressor::new(level, Models::none()).compress(&original).unwrap();
        assert_eq!(packed.metadata.codec, "aac", "{profile:?}");
        let measured = packed.bytes.len() as f64 * 8.0 / input.duration_s() / 1000.0;
        assert!(measured < kbps as f64 * 1.25, "{profile:?}: {measured} kbps");
        let ours = levels::decompress(&packed.bytes, &Models::none()).unwrap().audio;
        assert_eq!((ours.len(), ours.channels.len()), (input.len(), channels), "{profile:?}");
        let (shift, snr) = aligned_snr(&input, &ours, 64);
        eprintln!("{profile:?} {kbps}: shift {shift}, SNR {snr:.1} dB");
        assert!(shift <= 2, "{profile:?}: shift {shift}");
        assert!(snr >= 5.5, "{profile:?}: {snr:.1} dB");
    }
}

#[test]
fn aac_settings_outside_their_ranges_are_refused() {
    assert!(AacSettings::new(AacProfile::Lc, 16).is_ok() && AacSettings::new(AacProfile::Lc, 320).is_ok());
    assert!(AacSettings::new(AacProfile::HeV2, 48).is_ok());
    for (profile, kbps) in
        [(AacProfile::Lc, 15), (AacProfile::Lc, 321), (AacProfile::HeV1, 64), (AacProfile::HeV2, 8)]
    {
        assert!(matches!(AacSettings::new(profile, kbps), Err(Error::Bitrate { .. })), "{profile:?} {kbps}");
    }
}

/// Ultra writes an `.ecdc` file that decodes, through the one entry point, to exactly what the
/// model's own encode + decode give.
#[test]
fn ultra_round_trips_through_the_projects_decoder() {
    let model = test_model();
    let original = speech();
    let input = audio::read_bytes(&original, None).unwrap();
    for bandwidth in [Bandwidth::Kbps1_5, Bandwidth::Kbps6, Bandwidth::Kbps12] {
        let compressor =
            Compressor::new(Level::Ultra(Ultra::Encodec(bandwidth)), Models::loaded(model.clone()));
        let packed = compressor.compress(&original).unwrap();
        assert_eq!((packed.metadata.codec, packed.metadata.fallback_reason.as_deref()), ("ecdc", None));
        assert_eq!(Format::of(&packed.bytes), Format::Ecdc);
        let pcm = audio::convert(&input, 24_000, 1).unwrap();
        let expected = model.decode(&model.encode(&pcm, bandwidth).unwrap()).unwrap();
        let decoded = levels::decompress(&packed.bytes, compressor.models()).unwrap().audio;
        assert_eq!((decoded.sample_rate, &decoded.channels), (24_000, &expected));
        assert!((packed.metadata.duration_s.unwrap() - input.duration_s()).abs() < 1e-9);
        // An .ecdc input at Ultra is kept as it is.
        let again = compressor.compress(&packed.bytes).unwrap();
        assert_eq!((again.metadata.codec, again.bytes == packed.bytes), ("ecdc", true));
    }
}

#[test]
fn missing_encodec_weights_fall_back_to_lyra_with_the_reason() {
    let original = speech();
    for models in [
        Models::none(),
        Models::spec(Some("/nonexistent/encodec".into()), offline_hub()),
        Models::spec(None, offline_hub()),
    ] {
        let packed = Compressor::new(Level::default(), models).compress(&original).unwrap();
        assert_eq!(packed.metadata.codec, "lyra");
        assert_eq!(packed.metadata.level, "ultra");
        let reason = packed.metadata.fallback_reason.unwrap();
        assert!(reason.starts_with("ultra (6 kbps EnCodec): neural model unavailable"), "{reason}");
        assert_eq!(Format::of(&packed.bytes), Format::Lyra);
    }
    let chain: Vec<String> =
        Level::default().chain(&Models::none()).iter().map(|(l, _)| l.to_string()).collect();
    assert_eq!(
        chain,
        [
            "ultra (6 kbps EnCodec)",
            "ultra (6 kbps Lyra)",
            "compact (Opus 12 kbps)",
            "standard (Lc AAC 64 kbps)",
            "lossless (gzip)",
            "off"
        ]
    );
}

/// Ultra with Lyra: a framed file at each bitrate, decoded by its magic bytes to 16 kHz mono of
/// the source's duration; the header gives the duration without decoding; a Lyra file at Ultra
/// is kept as it is.
#[test]
fn ultra_with_lyra_round_trips_at_every_bitrate() {
    let original = speech();
    let source = audio::read_bytes(&original, Some("wav")).unwrap();
    let mut sizes = Vec::new();
    for bitrate in Bitrate::ALL {
        let compressor = Compressor::new(Level::Ultra(Ultra::Lyra(bitrate)), Models::none());
        let packed = compressor.compress(&original).unwrap();
        assert_eq!((packed.metadata.codec, packed.metadata.fallback_reason.as_deref()), ("lyra", None));
        assert_eq!(Format::of(&packed.bytes), Format::Lyra);
        let frames = (source.duration_s() * 50.0).ceil() as usize;
        assert_eq!(packed.bytes.len(), 32 + frames * bitrate.packet_bytes(), "{bitrate}");
        sizes.push(packed.bytes.len());
        let back = levels::decompress(&packed.bytes, &Models::none()).unwrap();
        assert_eq!(
            (back.format, back.audio.sample_rate, back.audio.channels.len()),
            (Format::Lyra, 16_000, 1)
        );
        let expected_len = (source.len() as u64 * 16_000).div_ceil(source.sample_rate as u64) as usize;
        assert_eq!(back.audio.len(), expected_len, "{bitrate}");
        assert!(
            (levels::duration_s(&packed.bytes, &Models::none()).unwrap() - source.duration_s()).abs() < 1e-9
        );
        let again = compressor.compress(&packed.bytes).unwrap();
        assert_eq!((again.metadata.codec, again.bytes == packed.bytes), ("lyra", true));
    }
    assert!(sizes.windows(2).all(|w| w[0] < w[1]), "{sizes:?}");
}

/// Standard cannot code a 4 kHz input at HE-AAC (no SBR at that rate): Lossless takes it; a
/// file gzip cannot shrink is stored.
#[test]
fn the_chain_goes_on_to_lossless_and_stored() {
    let tone: Vec<f32> = (0..4000).map(|i| (i as f32 * 0.3).sin() * 0.5).collect();
    let wav = audio::wav_bytes(&[tone], 4000, WavFormat::Pcm16).unwrap();
    let level = Level::Standard(AacSettings::new(AacProfile::HeV2, 48).unwrap());
    let packed = Compressor::new(level, Models::none()).compress(&wav).unwrap();
    assert_eq!(packed.metadata.codec, "gzip", "{:?}", packed.metadata.fallback_reason);
    assert!(packed.metadata.fallback_reason.unwrap().starts_with("standard (HeV2 AAC 48 kbps): AAC:"));

    let mp3 = sample("speech-44k-stereo.mp3"); // gzip gains little on MP3, but something
    let mut noise_wav = audio::wav_bytes(&[vec![0.0; 10]], 24_000, WavFormat::Pcm16).unwrap();
    let mut seed = 1u32;
    noise_wav.truncate(44);
    let samples: Vec<u8> = (0..20_000)
        .map(|_| {
            seed = seed.wrapping_mul(1664525).wrapping_add(1013904223);
            (seed >> 24) as u8
        })
        .collect();
    noise_wav.extend_from_slice(&samples);
    noise_wav[40..44].copy_from_slice(&20_000u32.to_le_bytes());
    noise_wav[4..8].copy_from_slice(&(36 + 20_000u32).to_le_bytes());
    let packed = Compressor::new(Level::Lossless, Models::none()).compress(&noise_wav).unwrap();
    assert_eq!(packed.metadata.codec, "stored", "white noise does not gzip");
    assert!(packed.metadata.fallback_reason.unwrap().contains("would not shrink"));
    assert!(Compressor::new(Level::Lossless, Models::none()).compress(&mp3).is_ok());
}

#[test]
fn a_file_under_the_threshold_is_stored() {
    let tiny = audio::wav_bytes(&[vec![0.25; 300]], 24_000, WavFormat::Pcm16).unwrap();
    assert!(tiny.len() < 1024);
    for level in [Level::default(), Level::Standard(AacSettings::default()), Level::Lossless] {
        let packed = Compressor::new(level, Models::none()).compress(&tiny).unwrap();
        assert_eq!((packed.metadata.codec, packed.bytes == tiny), ("stored", true), "{level}");
        assert!(packed.metadata.fallback_reason.unwrap().contains("below the 1024-byte minimum"));
    }
    let packed = Compressor::new(Level::Lossless, Models::none()).with_min_size(100).compress(&tiny).unwrap();
    assert_eq!(packed.metadata.codec, "gzip", "a lower threshold");
}

#[test]
fn corrupt_input_is_stored_not_refused_and_failures_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let speech = speech();
    let garbage: Vec<u8> = (0..5000u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
    let m4a = Compressor::new(Level::Standard(AacSettings::default()), Models::none())
        .compress(&speech)
        .unwrap()
        .bytes;
    let cases: [(&str, Vec<u8>); 4] = [
        ("garbage.bin", garbage),
        ("empty.wav", Vec::new()),
        ("truncated.m4a", m4a[..m4a.len() / 2].to_vec()),
        ("bad.mp3z", {
            let mut z = gzip::compress(&speech).unwrap();
            let n = z.len();
            z[n - 6] ^= 0xff;
            z
        }),
    ];
    for (name, bytes) in cases {
        let input = dir.path().join(name);
        std::fs::write(&input, &bytes).unwrap();
        let output = dir.path().join(format!("{name}.out"));
        for level in [Level::default(), Level::Lossless, Level::Off] {
            let metadata =
                Compressor::new(level, Models::loaded(test_model())).compress_file(&input, &output);
            let metadata = metadata.unwrap_or_else(|e| panic!("{name} at {level}: {e}"));
            let written = std::fs::read(&output).unwrap();
            assert!(written.len() <= bytes.len(), "{name} at {level}: {metadata:?}");
            assert_eq!(
                levels::restore(&written, Some(metadata.is_compressed)).unwrap(),
                bytes,
                "{name} at {level}"
            );
        }
        assert!(levels::decompress(&bytes, &Models::none()).is_err(), "{name}");
    }
    // I/O is still an error, and leaves nothing behind.
    let output = dir.path().join("missing.out");
    let missing =
        Compressor::new(Level::Lossless, Models::none()).compress_file(&dir.path().join("missing"), &output);
    assert!(matches!(missing, Err(Error::Io { .. })), "{missing:?}");
    assert!(!output.exists());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(leftovers.len(), 8, "{leftovers:?}");
}

#[test]
fn every_output_is_told_apart_by_its_magic_bytes() {
    let model = test_model();
    let original = speech();
    let models = Models::loaded(model);
    let levels = [
        Level::default(),
        Level::Compact(OpusSettings::default()),
        Level::Standard(AacSettings::default()),
        Level::Lossless,
        Level::Off,
    ];
    let formats = [Format::Ecdc, Format::Opus, Format::Mp4, Format::Gzip, Format::Wav];
    for (level, format) in levels.into_iter().zip(formats) {
        let packed = Compressor::new(level, Models::none()).compress(&original);
        let packed = if level == Level::default() {
            Compressor::new(level, Models::loaded(test_model())).compress(&original)
        } else {
            packed
        };
        let bytes = packed.unwrap().bytes;
        assert_eq!(Format::of(&bytes), format);
        let decoded = levels::decompress(&bytes, &models).unwrap();
        assert_eq!(decoded.format, format);
        assert!(
            (decoded.audio.duration_s() - 5.552).abs() < 0.001,
            "{format:?}: {}",
            decoded.audio.duration_s()
        );
    }
    for (bytes, format) in [
        (sample("speech-44k-stereo.flac"), Format::Flac),
        (sample("speech-44k-stereo.ogg"), Format::Ogg),
        (sample("speech-44k-stereo.mp3"), Format::Mp3),
        (sample("speech-44k-stereo.m4a"), Format::Mp4),
    ] {
        assert_eq!(Format::of(&bytes), format);
        assert!(levels::decompress(&bytes, &Models::none()).is_ok(), "{format:?}");
    }
}

#[test]
fn statistics_add_up_and_serialise() {
    let compressor = Compressor::new(Level::Lossless, Models::none()).with_min_size(2048);
    let tiny = audio::wav_bytes(&[vec![0.25; 300]], 24_000, WavFormat::Pcm16).unwrap();
    let mut sizes = Vec::new();
    for original in [speech(), music(), tiny.clone()] {
        let packed = compressor.compress(&original).unwrap();
        sizes.push((original.len() as u64, packed.bytes.len() as u64, packed.metadata.ratio));
    }
    let stats = compressor.stats();
    assert_eq!((stats.files, stats.fallbacks, stats.threshold_bytes), (3, 1, 2048));
    assert_eq!(stats.original_bytes, sizes.iter().map(|s| s.0).sum::<u64>());
    assert_eq!(stats.compressed_bytes, sizes.iter().map(|s| s.1).sum::<u64>());
    assert!((stats.average_ratio - sizes.iter().map(|s| s.2).sum::<f64>() / 3.0).abs() < 1e-12);
    assert_eq!((stats.by_codec[&"gzip"].files, stats.by_codec[&"stored"].files), (2, 1));
    assert_eq!(stats.by_codec[&"stored"].compressed_bytes, tiny.len() as u64);
    let json: serde_json::Value = serde_json::from_str(&stats.to_json()).unwrap();
    assert_eq!(json["by_codec"]["gzip"]["files"], 2);
    assert_eq!(json["threshold_bytes"], 2048);
}

#[test]
fn metadata_reports_sizes_ratio_and_duration() {
    let original = speech();
    let packed = Compressor::new(Level::Lossless, Models::none()).compress(&original).unwrap();
    let m = &packed.metadata;
    assert_eq!((m.original_size, m.compressed_size), (original.len() as u64, packed.bytes.len() as u64));
    assert!((m.ratio - original.len() as f64 / packed.bytes.len() as f64).abs() < 1e-12);
    assert_eq!((m.duration_s, m.truncated), (None, false), "lossless never reads the audio");
    let json: serde_json::Value = serde_json::to_value(m).unwrap();
    for key in METADATA_KEYS {
        assert!(json.get(key).is_some(), "{key}");
    }
    assert_eq!((json["codec"].as_str(), json["level"].as_str()), (Some("gzip"), Some("lossless")));
}

#[test]
fn stereo_music_keeps_its_length_and_channels() {
    let original = music();
    let input = audio::read_bytes(&original, None).unwrap();
    let model = test_model();
    let packed =
        Compressor::new(Level::default(), Models::loaded(model.clone())).compress(&original).unwrap();
    let decoded = levels::decompress(&packed.bytes, &Models::loaded(model)).unwrap().audio;
    assert_eq!(decoded.len(), audio::convert(&input, 24_000, 1).unwrap()[0].len());
    let aac =
        Compressor::new(Level::Standard(AacSettings::default()), Models::none()).compress(&original).unwrap();
    let decoded = levels::decompress(&aac.bytes, &Models::none()).unwrap().audio;
    assert_eq!((decoded.len(), decoded.sample_rate, decoded.channels.len()), (input.len(), 44_100, 2));
    let (max_abs, snr) = audio_error(&decoded.channels, &input.channels);
    assert!(snr > 15.0 && max_abs < 0.5, "stereo, both channels: {snr:.1} dB, {max_abs}");
}

/// The names the command line and the bindings give map to the levels, defaults filled in;
/// a name or bitrate that fits nothing is an error naming what there is.
#[test]
fn levels_from_names() {
    let named = |level, codec, kbps| Level::from_names(level, codec, kbps);
    assert_eq!(named("ultra", None, None).unwrap(), Level::Ultra(Ultra::Encodec(Bandwidth::Kbps6)));
    assert_eq!(named("Ultra", Some("lyra"), Some(3.2)).unwrap(), Level::Ultra(Ultra::Lyra(Bitrate::Kbps3_2)));
    assert_eq!(
        named("ultra", Some("opus"), Some(16.0)).unwrap(),
        Level::Compact(OpusSettings::new(16).unwrap())
    );
    assert_eq!(named("compact", None, None).unwrap(), Level::Compact(OpusSettings::default()));
    assert_eq!(named("standard", None, None).unwrap(), Level::Standard(AacSettings::default()));
    assert_eq!(
        named("standard", Some("he-aac-v2"), None).unwrap(),
        Level::Standard(AacSettings::new(AacProfile::HeV2, 24).unwrap())
    );
    assert_eq!(named("lossless", None, None).unwrap(), Level::Lossless);
    assert_eq!(named("off", Some("stored"), None).unwrap(), Level::Off);
    for (level, codec, kbps, says) in [
        ("extreme", None, None, "no level"),
        ("ultra", Some("mp3"), None, "ecdc, lyra or opus"),
        ("ultra", None, Some(7.0), "7"),
        ("ultra", Some("lyra"), Some(12.0), "12"),
        ("compact", None, Some(6.5), "whole kbps"),
        ("standard", Some("vorbis"), None, "AAC flavour"),
        ("standard", None, Some(8.0), "16"),
        ("lossless", Some("ecdc"), None, "codec"),
    ] {
        let error = named(level, codec, kbps).unwrap_err().to_string();
        assert!(error.contains(says), "{level} {codec:?} {kbps:?}: {error}");
    }
}
