//! The same bytes and samples on every architecture: each codec and level codes the committed
//! clips, and the SHA-256 of its file and of its decoded samples (f32 bits) must equal what an
//! x86-64 build wrote into `tests/fixtures/cross-arch.json` (where C libraries or FFTs with
//! per-instruction-set code are in the way, see [`BIT_EXACT`], their sizes and levels must). The aarch64 script
//! (`ci/aarch64.sh`) runs this under qemu with NEON forced; on x86 it runs on every path.
//! `ENCODEC_BLESS=1` rewrites the fixture, on x86-64 only (it is x86's outputs by definition).

mod common;

use std::collections::BTreeMap;

use common::root;
use encodec::audio::{self, Audio};
use encodec::levels::{self, Compressor, Level, Ultra};
use encodec::lyra::Bitrate;
use encodec::{AacSettings, Bandwidth, Encodec, Kernels, Models, OpusSettings};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

const FIXTURE: &str = "tests/fixtures/cross-arch.json";

fn hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// The decoded samples' bits, channel after channel, with the rate and shape in front.
fn samples_digest(audio: &Audio) -> String {
    let mut bytes = Vec::new();
    bytes.extend(audio.sample_rate.to_le_bytes());
    bytes.extend((audio.channels.len() as u32).to_le_bytes());
    for channel in &audio.channels {
        bytes.extend((channel.len() as u32).to_le_bytes());
        channel.iter().for_each(|s| bytes.extend(s.to_bits().to_le_bytes()));
    }
    hex(&bytes)
}

fn file(name: &str) -> Vec<u8> {
    std::fs::read(root().join(name)).unwrap()
}

/// One case's output: the SHA-256 of its file (for a codec) and of its decoded samples, and
/// their sizes and level, which must agree even where the bits may not (see [`BIT_EXACT`]).
#[derive(Serialize, Deserialize, Clone, Debug)]
struct Output {
    file: Option<String>,
    samples: String,
    bytes: usize,
    frames: usize,
    rms: f64,
}

/// What must give x86-64's bits on every architecture: what this crate computes itself, in
/// Rust with its own kernels, from input at the codec's rate. The others go through code whose
/// SIMD paths differ per instruction set in the last bits: libopus's NEON/SSE intrinsics and
/// FDK AAC's ARM paths (C, as opusic-sys and fdk-aac-sys build them), and rustfft's
/// per-instruction-set FFTs inside rubato's resampler and symphonia's AAC and Vorbis IMDCTs.
/// On x86-64 every case must be bit-exact.
const BIT_EXACT: [&str; 10] = [
    "encodec24-1.5kbps",
    "encodec24-6kbps",
    "encodec24-24kbps",
    "lyra-3.2kbps",
    "lyra-6kbps",
    "lyra-9.2kbps",
    "lossless",
    "input-wav",
    "input-flac",
    "input-mp3",
];

fn output(file: Option<&[u8]>, decoded: &Audio) -> Output {
    let all: Vec<f32> = decoded.channels.iter().flatten().copied().collect();
    let rms = (all.iter().map(|&s| s as f64 * s as f64).sum::<f64>() / all.len().max(1) as f64).sqrt();
    Output {
        file: file.map(hex),
        samples: samples_digest(decoded),
        bytes: file.map_or(0, <[u8]>::len),
        frames: decoded.channels.first().map_or(0, Vec::len),
        rms,
    }
}

/// Every case: (name, level, models, input). Inputs at the codec's own rate test the codec
/// alone; the 22.05 and 44.1 kHz clips add the resampler in front.
fn outputs() -> BTreeMap<String, Output> {
    let model_24 = Encodec::from_dir(root().join("weights/test-24khz")).unwrap();
    let model_48 = Encodec::from_dir(root().join("weights/test-48khz")).unwrap();
    let clip_16k = file("tests/fixtures/lyra/speech-16khz.wav");
    let clip_24k = file("tests/fixtures/samples/speech-24khz.wav");
    let clip_22k = file("tests/fixtures/samples/speech-espeak-22k.wav");
    let clip_44k_stereo = file("tests/fixtures/samples/speech-44k-stereo.wav");
    let encodec_24 = || Models::loaded(model_24.clone());
    let cases: Vec<(&str, Level, Models, &[u8])> = vec![
        ("encodec24-1.5kbps", Level::Ultra(Ultra::Encodec(Bandwidth::Kbps1_5)), encodec_24(), &clip_24k),
        ("encodec24-6kbps", Level::Ultra(Ultra::Encodec(Bandwidth::Kbps6)), encodec_24(), &clip_24k),
        ("encodec24-24kbps", Level::Ultra(Ultra::Encodec(Bandwidth::Kbps24)), encodec_24(), &clip_24k),
        (
            "resampled-encodec48-6kbps-stereo",
            Level::Ultra(Ultra::Encodec(Bandwidth::Kbps6)),
            Models::loaded(model_48),
            &clip_44k_stereo,
        ),
        ("lyra-3.2kbps", Level::Ultra(Ultra::Lyra(Bitrate::Kbps3_2)), Models::none(), &clip_16k),
        ("lyra-6kbps", Level::Ultra(Ultra::Lyra(Bitrate::Kbps6)), Models::none(), &clip_16k),
        ("lyra-9.2kbps", Level::Ultra(Ultra::Lyra(Bitrate::Kbps9_2)), Models::none(), &clip_16k),
        ("opus-default-24k", Level::Compact(OpusSettings::default()), Models::none(), &clip_24k),
        ("aac-default-24k", Level::Standard(AacSettings::default()), Models::none(), &clip_24k),
        ("lossless", Level::Lossless, Models::none(), &clip_22k),
        (
            "resampled-encodec24-6kbps",
            Level::Ultra(Ultra::Encodec(Bandwidth::Kbps6)),
            encodec_24(),
            &clip_22k,
        ),
        ("resampled-lyra-6kbps", Level::Ultra(Ultra::Lyra(Bitrate::Kbps6)), Models::none(), &clip_22k),
        ("resampled-opus-default", Level::Compact(OpusSettings::default()), Models::none(), &clip_22k),
        ("resampled-aac-default", Level::Standard(AacSettings::default()), Models::none(), &clip_22k),
    ];
    let mut out = BTreeMap::new();
    for (name, level, models, input) in cases {
        let compressor = Compressor::new(level, models);
        let packed = compressor.compress(input).unwrap();
        let decoded = levels::decompress(&packed.bytes, compressor.models()).unwrap().audio;
        out.insert(format!("{name} ({})", packed.metadata.codec), output(Some(&packed.bytes), &decoded));
    }
    // The input decoders on their own (symphonia): WAV, FLAC, MP3, Ogg Vorbis, AAC in MP4.
    for ext in ["wav", "flac", "mp3", "ogg", "m4a"] {
        let decoded =
            audio::read_bytes(&file(&format!("tests/fixtures/samples/speech-44k-stereo.{ext}")), None)
                .unwrap();
        out.insert(format!("input-{ext}"), output(None, &decoded));
    }
    out
}

#[test]
fn every_codec_gives_x86s_bytes_and_samples() {
    let path = root().join(FIXTURE);
    if std::env::var_os("ENCODEC_BLESS").is_some() {
        assert_eq!(std::env::consts::ARCH, "x86_64", "the fixture holds x86-64's outputs: bless it there");
        let text = serde_json::to_string_pretty(&outputs()).unwrap() + "\n";
        std::fs::write(&path, text).unwrap();
        return;
    }
    let expected: BTreeMap<String, Output> = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    // One path per run, for every thread: the process default (`ENCODEC_KERNELS`, which the
    // aarch64 script sets to neon, then portable; the x86 paths agree by tests/threads.rs).
    let kernels = Kernels::from_env().unwrap().unwrap_or_else(Kernels::best);
    let got = outputs();
    assert_eq!(got.keys().collect::<Vec<_>>(), expected.keys().collect::<Vec<_>>(), "the cases differ");
    let (mut exact, mut problems) = (Vec::new(), Vec::new());
    for (name, want) in &expected {
        let have = &got[name];
        // The RMS is a measure, not bits (JSON may not give back its last one).
        if (&have.file, &have.samples, have.bytes, have.frames)
            == (&want.file, &want.samples, want.bytes, want.frames)
        {
            exact.push(name.as_str());
            continue;
        }
        let case = name.split(' ').next().unwrap_or(name);
        if cfg!(target_arch = "x86_64") || BIT_EXACT.contains(&case) {
            problems.push(format!("{name}: not bit-exact: {have:?}, x86-64 {want:?}"));
        } else if have.frames != want.frames
            || (have.bytes as f64 - want.bytes as f64).abs() > 0.03 * want.bytes as f64
            || (have.rms / want.rms - 1.0).abs() > 0.02
        {
            problems
                .push(format!("{name}: frames, size (3 %) or RMS (2 %) differ: {have:?}, x86-64 {want:?}"));
        }
    }
    eprintln!(
        "{} on {kernels}: {} of {} cases bit-exact with x86-64 ({}); the others within size and level bounds",
        std::env::consts::ARCH,
        exact.len(),
        expected.len(),
        exact.join(", ")
    );
    assert!(problems.is_empty(), "{kernels}: {problems:#?}");
}
