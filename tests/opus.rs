//! Opus (the Compact level) in Ogg Opus files: exact lengths, streaming equal to whole-file
//! coding, the fallback chain, and bad files refused with an error.
#![cfg(feature = "opus")]

mod common;

use std::io::Cursor;

use common::{aligned_snr, root};
use encodec::audio::{self, Audio, WavFormat};
use encodec::codec::{self, Codec, PcmSpec};
use encodec::encodec::Models;
use encodec::levels::{self, Compressor, Level};
use encodec::{Error, Format, OpusCodec, OpusEnhancement, OpusSettings};

/// espeak-ng speech, 22.05 kHz mono, 5.6 s.
fn speech() -> Audio {
    audio::read(root().join("tests/fixtures/samples/speech-espeak-22k.wav")).unwrap()
}

/// `audio` at `rate` (Opus codes 8, 12, 16, 24 and 48 kHz as they are).
fn resampled(audio: &Audio, rate: u32, channels: usize) -> Audio {
    Audio { sample_rate: rate, channels: audio::convert(audio, rate, channels).unwrap() }
}

/// Encodes `pcm` with `codec`, pushing `chunk` samples at a time.
fn encode(codec: &OpusCodec, pcm: &Audio, chunk: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let spec = PcmSpec { sample_rate: pcm.sample_rate, channels: pcm.channels.len() };
    let mut encoder = codec.encoder(spec, &mut out).unwrap();
    for start in (0..pcm.len()).step_by(chunk) {
        let end = (start + chunk).min(pcm.len());
        let part: Vec<Vec<f32>> = pcm.channels.iter().map(|c| c[start..end].to_vec()).collect();
        encoder.push_pcm(&part).unwrap();
    }
    encoder.finish().unwrap();
    out
}

/// Decodes an Ogg Opus file, taking `chunk` samples at a time.
fn decode(bytes: &[u8], chunk: usize) -> encodec::Result<Audio> {
    decode_with(OpusCodec::default(), bytes, chunk)
}

fn decode_with(codec: OpusCodec, bytes: &[u8], chunk: usize) -> encodec::Result<Audio> {
    let codecs: Vec<Box<dyn Codec>> = vec![Box::new(codec)];
    let mut pcm = codec::open(&codecs, Box::new(Cursor::new(bytes.to_vec())))?;
    let sample_rate = pcm.sample_rate();
    let mut channels = vec![Vec::new(); pcm.channels()];
    while let Some(part) = pcm.next_chunk(chunk)? {
        channels.iter_mut().zip(part).for_each(|(a, b)| a.extend(b));
    }
    Ok(Audio { sample_rate, channels })
}

/// The length comes back exact (pre-skip and end granule), at the source's rate when Opus
/// codes at it, for mono and stereo, and the file is the bitrate asked for.
#[test]
fn decoding_gives_back_the_exact_length_at_every_opus_rate() {
    let speech = speech();
    for (rate, channels, kbps) in [(16_000, 1, 12), (8_000, 1, 6), (24_000, 1, 16), (48_000, 2, 64)] {
        let input = resampled(&speech, rate, channels);
        let codec = OpusCodec::new(OpusSettings::new(kbps).unwrap());
        let bytes = encode(&codec, &input, 4000);
        assert_eq!(Format::of(&bytes), Format::Opus);
        let decoded = decode(&bytes, 1000).unwrap();
        assert_eq!(
            (decoded.sample_rate, decoded.channels.len(), decoded.len()),
            (rate, channels, input.len()),
            "{rate} Hz x{channels}"
        );
        let actual_kbps = bytes.len() as f64 * 8.0 / input.duration_s() / 1000.0;
        assert!(actual_kbps < kbps as f64 * 1.25, "{rate} Hz: {actual_kbps:.1} kbps for {kbps}");
        // A speech codec, not a waveform coder at 6-16 kbps: the SNR only says it is the same
        // signal, in place (no shift). Measured: 16k/12 kbps 8.5 dB, 8k/6 kbps 4.2 dB, 24k/16
        // kbps 6.2 dB, 48k stereo/64 kbps 10.3 dB; the floors leave ~2-3 dB.
        let (shift, snr) = aligned_snr(&input, &decoded, 32);
        eprintln!("{rate} Hz x{channels} {kbps} kbps: {actual_kbps:.1} kbps, shift {shift}, SNR {snr:.1} dB");
        assert_eq!(shift, 0, "{rate} Hz: pre-skip trims the encoder's delay");
        assert!(snr > if kbps >= 64 { 7.0 } else { 2.0 }, "{rate} Hz: {snr:.1} dB");
    }
}

/// Pushing PCM in any chunks makes the same file, and reading it in any chunks the same PCM.
#[test]
fn streaming_equals_whole_file_coding() {
    let input = resampled(&speech(), 16_000, 1);
    let codec = OpusCodec::default();
    let whole = encode(&codec, &input, input.len());
    for chunk in [1, 7, 320, 4001] {
        assert!(encode(&codec, &input, chunk) == whole, "pushing {chunk} samples at a time");
    }
    let reference = decode(&whole, usize::MAX / 4).unwrap();
    for chunk in [1, 333, 48_000] {
        assert!(decode(&whole, chunk).unwrap().channels == reference.channels, "reading {chunk} at a time");
    }
}

/// A source at a rate Opus does not code (22.05 kHz) is coded at 48 kHz and decodes there,
/// to the same duration.
#[test]
fn the_compact_level_round_trips_any_rate_and_is_read_by_magic_bytes() {
    let original = std::fs::read(root().join("tests/fixtures/samples/speech-espeak-22k.wav")).unwrap();
    let packed =
        Compressor::new(Level::Compact(OpusSettings::default()), Models::none()).compress(&original).unwrap();
    assert_eq!((packed.metadata.codec, packed.metadata.fallback_reason.as_deref()), ("opus", None));
    assert_eq!(packed.metadata.level, "compact");
    let decoded = levels::decompress(&packed.bytes, &Models::none()).unwrap();
    assert_eq!((decoded.format, decoded.audio.sample_rate), (Format::Opus, 48_000));
    let input = speech();
    assert!((decoded.audio.duration_s() - input.duration_s()).abs() < 1.0 / 48_000.0 + 1e-9);
    // Already Opus at this bitrate: kept as it is, not coded again.
    let again = Compressor::new(Level::Compact(OpusSettings::default()), Models::none())
        .compress(&packed.bytes)
        .unwrap();
    assert!(again.bytes == packed.bytes);
    assert_eq!(again.metadata.codec, "opus");
}

#[test]
fn bitrates_outside_6_to_64_kbps_are_refused() {
    for kbps in [0, 5, 65, 510] {
        assert!(matches!(OpusSettings::new(kbps), Err(Error::Bitrate { min: 6, max: 64, .. })), "{kbps}");
    }
    assert!(OpusSettings::new(6).is_ok() && OpusSettings::new(64).is_ok());
}

/// The Ogg pages are well formed for other readers: the header pages, granule positions
/// rising, the last page marked end-of-stream with the trimmed length, every CRC right (the
/// `ogg` crate's reader checks them).
#[test]
fn the_ogg_stream_follows_rfc_7845() {
    let input = resampled(&speech(), 16_000, 1);
    let bytes = encode(&OpusCodec::default(), &input, 4000);
    // OpusHead: version 1, one channel, the input rate.
    let head = &bytes[28..47];
    assert_eq!(&head[..10], b"OpusHead\x01\x01");
    assert_eq!(u32::from_le_bytes(head[12..16].try_into().unwrap()), 16_000);
    let pre_skip = u16::from_le_bytes(head[10..12].try_into().unwrap()) as u64;
    assert!(pre_skip > 0 && pre_skip < 48_000 / 50, "pre-skip {pre_skip}");
    // Walk the pages by hand.
    let (mut at, mut pages, mut last_granule, mut eos) = (0usize, 0, 0u64, false);
    while at < bytes.len() {
        assert_eq!(&bytes[at..at + 4], b"OggS");
        assert!(!eos, "a page after the end of stream");
        let granule = u64::from_le_bytes(bytes[at + 6..at + 14].try_into().unwrap());
        eos = bytes[at + 5] & 4 != 0;
        if pages >= 2 {
            assert!(granule >= last_granule);
        }
        last_granule = granule;
        let segments = bytes[at + 26] as usize;
        let body: usize = bytes[at + 27..at + 27 + segments].iter().map(|&b| b as usize).sum();
        at += 27 + segments + body;
        pages += 1;
    }
    assert!(eos);
    assert_eq!(last_granule, pre_skip + input.len() as u64 * 3);
    assert!(pages > 2 + 5, "a page a second");
}

#[test]
fn truncated_and_corrupt_files_are_errors_not_panics() {
    let input = resampled(&speech(), 16_000, 1);
    let bytes = encode(&OpusCodec::default(), &input, 4000);
    // Cut anywhere: an error or a shorter stream, never a panic or more audio.
    for cut in [0, 10, 30, 47, 60, 200, bytes.len() / 2, bytes.len() - 1] {
        if let Ok(audio) = decode(&bytes[..cut], 4000) {
            assert!(audio.len() < input.len(), "cut at {cut}");
        }
    }
    // A flipped byte in a page: the CRC catches it.
    let mut flipped = bytes.clone();
    let n = flipped.len();
    flipped[n / 2] ^= 0x55;
    let error = decode(&flipped, 4000).unwrap_err().to_string();
    assert!(error.starts_with("Opus: Ogg"), "{error}");
    // Surround (mapping family 1) is refused by name. Rewrite the field and the page CRC.
    let mut surround = bytes.clone();
    surround[28 + 18] = 1;
    fix_crc(&mut surround[..47]);
    let error = decode(&surround, 4000).unwrap_err().to_string();
    assert!(error.contains("multichannel"), "{error}");
}

/// Recomputes the CRC of the Ogg page that is all of `page` (Ogg's CRC-32: polynomial
/// 0x04c11db7, not reflected, initial 0).
fn fix_crc(page: &mut [u8]) {
    page[22..26].fill(0);
    let mut crc = 0u32;
    for &byte in page.iter() {
        crc ^= (byte as u32) << 24;
        for _ in 0..8 {
            crc = if crc & 0x8000_0000 != 0 { (crc << 1) ^ 0x04c1_1db7 } else { crc << 1 };
        }
    }
    page[22..26].copy_from_slice(&crc.to_le_bytes());
}

/// Silence and a single sample still make a valid file of the right length.
#[test]
fn tiny_inputs_round_trip() {
    for len in [0, 1, 319, 320, 321] {
        let input = Audio { sample_rate: 16_000, channels: vec![vec![0.1; len]] };
        let bytes = encode(&OpusCodec::default(), &input, 4000);
        assert_eq!(decode(&bytes, 4000).unwrap().len(), len, "{len} samples");
    }
}

/// Other Ogg (Vorbis) is still read by symphonia, not taken for Opus.
#[test]
fn ogg_vorbis_is_not_opus() {
    let vorbis = std::fs::read(root().join("tests/fixtures/samples/speech-44k-stereo.ogg")).unwrap();
    assert_eq!(Format::of(&vorbis), Format::Ogg);
    let wav = audio::wav_bytes(&[vec![0.0; 100]], 16_000, WavFormat::Pcm16).unwrap();
    assert_eq!(Format::of(&wav), Format::Wav);
}

/// LACE/NoLACE reshape decoded speech frames (same length, other samples) when built in
/// (feature `opus-enhance`), and are refused by name when not.
#[test]
fn speech_enhancement_is_an_option() {
    let input = resampled(&speech(), 16_000, 1);
    let bytes = encode(&OpusCodec::default(), &input, 4000);
    let plain = decode(&bytes, 4000).unwrap();
    for enhancement in [OpusEnhancement::Lace, OpusEnhancement::NoLace] {
        let result = decode_with(OpusCodec::default().with_enhancement(enhancement), &bytes, 4000);
        if cfg!(feature = "opus-enhance") {
            let enhanced = result.unwrap();
            assert_eq!(enhanced.len(), plain.len());
            assert!(enhanced.channels != plain.channels, "{enhancement:?} changed nothing");
        } else {
            let Err(error) = result else { panic!("{enhancement:?} accepted without the feature") };
            let error = error.to_string();
            assert!(error.contains("opus-enhance"), "{error}");
        }
    }
    let off = decode_with(OpusCodec::default().with_enhancement(OpusEnhancement::Off), &bytes, 4000).unwrap();
    assert!(off.channels == plain.channels);
}
