//! Any bytes in, at every level: a table of inputs (empty, tiny, around the threshold, random,
//! text, every audio format whole and cut at ten points, streaming WAV headers, MP3 chunks at
//! random offsets) × every level, and what must hold for each: no error, never larger than
//! the input, the metadata whole and consistent, the original bytes back where it was stored
//! or gzipped, cut audio read as far as it goes and said to be cut.

mod common;

use std::collections::BTreeMap;

use common::{root, METADATA_KEYS};
use encodec::encodec::Models;
use encodec::internals::gzip;
use encodec::levels::{self, Compressor, Level, Ultra};
use encodec::lyra::Bitrate;
use encodec::{Bandwidth, Encodec, Format};

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(root().join("tests/fixtures/samples").join(name)).unwrap()
}

/// A small deterministic generator (no dependency needed for test noise).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// One input of the table: its name, its bytes, and whether it is audio cut short.
struct Input {
    name: String,
    bytes: Vec<u8>,
    /// A WAV or Ogg Opus cut inside its audio, or a streaming WAV header: coded audio must say
    /// `truncated` (MP3 cuts may land on a frame boundary, so they are not asserted).
    cut: bool,
}

fn input(name: impl Into<String>, bytes: Vec<u8>, cut: bool) -> Input {
    Input { name: name.into(), bytes, cut }
}

fn wav_with_data_length(wav: &[u8], length: u32) -> Vec<u8> {
    let mut wav = wav.to_vec();
    let at = wav.windows(4).position(|w| w == b"data").unwrap();
    wav[at + 4..at + 8].copy_from_slice(&length.to_le_bytes());
    wav
}

fn inputs(model: &Encodec) -> Vec<Input> {
    let mut rng = Lcg(30);
    let text =
        b"{\"text\": \"The quick brown fox jumps over the lazy dog.\", \"voice\": \"en-us\"}\n".repeat(40);
    let mut table = vec![
        input("empty", Vec::new(), false),
        input("1 byte", vec![0xFF], false),
        input("1023 bytes of text", text[..1023].to_vec(), false),
        input("1024 bytes of text", text[..1024].to_vec(), false),
        input("1025 random bytes", rng.bytes(1025), false),
        input("5000 random bytes", rng.bytes(5000), false),
        input("JSON text", text.clone(), false),
        input("zeros", vec![0; 20_000], false),
        input(
            "an ID3 tag and nothing",
            [&b"ID3\x04\x00\x00\x00\x00\x10\x00"[..], &[0; 3000]].concat(),
            false,
        ),
        input("RIFF header only", b"RIFF\x24\x00\x00\x00WAVEfmt ".repeat(100), false),
    ];
    let wav = sample("speech-44k-stereo.wav");
    let ogg_opus =
        Compressor::new(Level::Compact(Default::default()), Models::none()).compress(&wav).unwrap().bytes;
    let ecdc = Compressor::new(Level::default(), Models::loaded(model.clone())).compress(&wav).unwrap().bytes;
    let lyra = Compressor::new(Level::Ultra(Ultra::Lyra(Bitrate::Kbps6)), Models::none())
        .compress(&wav)
        .unwrap()
        .bytes;
    assert_eq!(
        (Format::of(&ogg_opus), Format::of(&ecdc), Format::of(&lyra)),
        (Format::Opus, Format::Ecdc, Format::Lyra)
    );
    let formats: Vec<(&str, Vec<u8>, bool)> = vec![
        ("wav", wav.clone(), true),
        ("mp3", sample("speech-44k-stereo.mp3"), false),
        ("flac", sample("speech-44k-stereo.flac"), false),
        ("ogg vorbis", sample("speech-44k-stereo.ogg"), false),
        ("m4a", sample("speech-44k-stereo.m4a"), false),
        ("ogg opus", ogg_opus, true),
        ("ecdc", ecdc, false),
        ("lyra", lyra, false),
        ("mp3 gzipped", gzip::compress(&sample("speech-44k-stereo.mp3")).unwrap(), false),
    ];
    for (name, bytes, cut_is_known) in formats {
        for tenth in 1..=10 {
            // Whole at 10/10; cut at 10 %, 20 %, ... 90 % of its length, plus a few bytes so
            // that a cut rarely lands on a boundary.
            let end = match tenth {
                10 => bytes.len(),
                t => bytes.len() * t / 10 + 3,
            };
            let label =
                if tenth == 10 { format!("{name} whole") } else { format!("{name} cut at {}0 %", tenth) };
            table.push(input(label, bytes[..end].to_vec(), cut_is_known && tenth < 10 && end > 2048));
        }
    }
    // What streaming writers leave in the header until they finish, and a header that promises
    // more than the file holds.
    table.push(input("wav data length 0", wav_with_data_length(&wav, 0), true));
    table.push(input("wav data length 0xFFFFFFFF", wav_with_data_length(&wav, u32::MAX), true));
    table.push(input("wav data length 0, cut", wav_with_data_length(&wav[..50_001], 0), true));
    table.push(input("wav data length overruns", wav_with_data_length(&wav[..90_000], 10_000_000), true));
    table.push(input("wav odd data length", wav_with_data_length(&wav, (wav.len() - 44 - 1) as u32), true));
    // A longer MP3 stream (the fixture's frames over and over, as a radio stream is), sliced
    // as a WebSocket sends it: 1 to 64 KiB at random offsets.
    let stream = sample("speech-44k-stereo.mp3").repeat(9);
    for size in [1024, 2000, 4096, 8192, 16_384, 30_000, 50_000, 65_536] {
        let at = rng.next() as usize % (stream.len() - size);
        table.push(input(format!("mp3 chunk of {size} at {at}"), stream[at..at + size].to_vec(), false));
    }
    table
}

fn levels() -> Vec<Level> {
    vec![
        Level::Ultra(Ultra::Encodec(Bandwidth::Kbps6)),
        Level::Ultra(Ultra::Lyra(Bitrate::Kbps6)),
        Level::Compact(Default::default()),
        Level::Standard(Default::default()),
        Level::Lossless,
        Level::Off,
    ]
}

#[test]
fn any_bytes_at_every_level_are_stored_never_refused_never_bigger() {
    let model = Encodec::from_dir(root().join("weights/test-24khz")).unwrap();
    let table = inputs(&model);
    assert!(table.len() >= 30, "{} inputs", table.len());
    let outcomes: Vec<BTreeMap<String, usize>> = std::thread::scope(|scope| {
        let workers: Vec<_> = levels()
            .into_iter()
            .map(|level| {
                let (table, models) = (&table, Models::loaded(model.clone()));
                scope.spawn(move || check_level(level, table, models))
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let mut totals = BTreeMap::new();
    for (level, counts) in levels().iter().zip(&outcomes) {
        println!("{level}: {counts:?}");
        for (key, n) in counts {
            *totals.entry(key.clone()).or_insert(0) += n;
        }
    }
    let total = cases(&totals);
    println!("{} inputs x {} levels = {total} cases, 0 errors; {totals:?}", table.len(), levels().len());
    assert_eq!(total, table.len() * levels().len());
}

/// Every input at one level: the counts of codecs used and of truncated inputs coded.
fn check_level(level: Level, table: &[Input], models: Models) -> BTreeMap<String, usize> {
    let compressor = Compressor::new(level, models).with_min_size(1024);
    let chain: Vec<&str> = compressor.chain().iter().map(|(_, codec)| codec.name()).collect();
    let lossless = matches!(level, Level::Lossless | Level::Off);
    let mut counts = BTreeMap::new();
    for Input { name, bytes, cut } in table {
        let at = format!("{name} at {level}");
        let packed = compressor.compress(bytes).unwrap_or_else(|e| panic!("{at}: {e}"));
        let m = &packed.metadata;
        let json = serde_json::to_value(m).unwrap();
        for key in METADATA_KEYS {
            assert!(json.get(key).is_some(), "{at}: no {key}");
        }
        assert!(
            packed.bytes.len() <= bytes.len(),
            "{at}: {} > {} bytes ({m:?})",
            packed.bytes.len(),
            bytes.len()
        );
        assert_eq!(
            (m.original_size, m.compressed_size),
            (bytes.len() as u64, packed.bytes.len() as u64),
            "{at}"
        );
        assert_eq!(m.is_compressed, m.codec != "stored", "{at}");
        assert!(chain.contains(&m.codec), "{at}: {} is not in {chain:?}", m.codec);
        assert_eq!(m.level, level.name(), "{at}");
        if m.codec != chain[0] {
            assert!(m.fallback_reason.is_some(), "{at}: fell back without a reason");
        }
        if bytes.len() < 1024 {
            assert_eq!((m.codec, &packed.bytes), ("stored", bytes), "{at}: below the threshold");
            assert!(m.fallback_reason.as_deref().unwrap().contains("minimum"), "{at}");
        }
        if matches!(level, Level::Off) {
            assert_eq!(
                (m.codec, &packed.bytes, m.duration_s),
                ("stored", bytes, None),
                "{at}: off never parses"
            );
        }
        if lossless || matches!(m.codec, "gzip" | "stored") {
            let restored = levels::restore(&packed.bytes, Some(m.is_compressed)).unwrap();
            assert!(restored == *bytes, "{at}: not restored exactly");
            if m.codec == "gzip" {
                // Below gzip of it, at the levels that promise lossless.
                assert!(packed.bytes.len() < bytes.len(), "{at}");
            }
        } else {
            // Coded: decodes, about as long as what was read.
            let decoded = levels::decompress(&packed.bytes, compressor.models())
                .unwrap_or_else(|e| panic!("{at}: {e}"));
            let seconds = m.duration_s.unwrap_or_else(|| panic!("{at}: coded without a duration"));
            let length = decoded.audio.duration_s();
            assert!((length - seconds).abs() < 0.1, "{at}: decodes to {length} s, read {seconds} s");
            if *cut {
                assert!(m.truncated, "{at}: cut short, not said ({m:?})");
            }
            *counts.entry(TRUNCATED.to_string()).or_insert(0) += usize::from(m.truncated);
        }
        *counts.entry(m.codec.to_string()).or_insert(0) += 1;
    }
    counts
}

/// Cases counted in `counts` (each once, by its codec).
fn cases(counts: &BTreeMap<String, usize>) -> usize {
    counts.iter().filter(|(key, _)| *key != TRUNCATED).map(|(_, n)| n).sum()
}

const TRUNCATED: &str = "truncated, coded";

#[test]
fn chunks_are_gzip_or_stored_each_and_come_back_exactly() {
    let stream = sample("speech-44k-stereo.mp3").repeat(9);
    let mut rng = Lcg(64);
    for level in levels() {
        let compressor = Compressor::new(level, Models::none());
        let mut at = 0;
        let mut restored = Vec::new();
        while at < stream.len() {
            let size = (1 + rng.next() as usize % 64) * 1024;
            let chunk = &stream[at..(at + size).min(stream.len())];
            let packed = compressor.compress_chunk(chunk).unwrap();
            let m = &packed.metadata;
            assert!(
                matches!(m.codec, "gzip" | "stored") && packed.bytes.len() <= chunk.len(),
                "{level}: {m:?}"
            );
            assert_eq!(m.duration_s, None, "a chunk is never parsed");
            if matches!(level, Level::Off) {
                assert_eq!(m.codec, "stored");
            }
            if !matches!(level, Level::Lossless | Level::Off) {
                assert!(m.fallback_reason.as_deref().unwrap().contains("stream encoder"), "{m:?}");
            }
            restored.extend(levels::restore(&packed.bytes, Some(m.is_compressed)).unwrap());
            at += size;
        }
        assert!(restored == stream, "{level}: the stream back, byte for byte");
    }
    // The flag not kept: gzip is inflated, anything else given back as it is.
    let compressor = Compressor::new(Level::Lossless, Models::none());
    let text = b"hello, world; ".repeat(200);
    let packed = compressor.compress_chunk(&text).unwrap();
    assert_eq!(
        (packed.metadata.codec, levels::restore(&packed.bytes, None).unwrap()),
        ("gzip", text.clone())
    );
    assert_eq!(levels::restore(&stream[..100], None).unwrap(), &stream[..100]);
    // A codec's file is not the original's bytes.
    let coded = Compressor::new(Level::Compact(Default::default()), Models::none())
        .compress(&sample("speech-44k-stereo.wav"))
        .unwrap();
    assert!(levels::restore(&coded.bytes, Some(true)).unwrap_err().to_string().contains("coded audio"));
    match levels::unpack(&coded.bytes, Some(true), &Models::none()).unwrap() {
        levels::Unpacked::Audio(decoded) => assert_eq!(decoded.audio.sample_rate, 48_000),
        levels::Unpacked::Original(_) => panic!("a codec's file unpacks to audio"),
    }
}

#[test]
fn a_file_compresses_as_its_bytes_do() {
    let dir = tempfile::tempdir().unwrap();
    let wav = sample("speech-44k-stereo.wav");
    let cases = [
        ("cut.wav", wav[..40_000].to_vec()),
        ("text.json", b"{\"a\": 1} ".repeat(300)),
        ("noise.bin", Lcg(9).bytes(3000)),
    ];
    for level in [Level::Ultra(Ultra::Lyra(Bitrate::Kbps6)), Level::Lossless, Level::Off] {
        for (name, bytes) in &cases {
            let (input, output) = (dir.path().join(name), dir.path().join(format!("{name}.out")));
            std::fs::write(&input, bytes).unwrap();
            let from_file = Compressor::new(level, Models::none()).compress_file(&input, &output).unwrap();
            let in_memory = Compressor::new(level, Models::none()).compress(bytes).unwrap();
            // The same, but that a file's name is in the reasons.
            let unnamed = |m: &levels::Metadata| levels::Metadata {
                fallback_reason: m
                    .fallback_reason
                    .as_ref()
                    .map(|r| r.replace(&input.display().to_string(), "<input>")),
                ..m.clone()
            };
            assert_eq!(unnamed(&from_file), in_memory.metadata, "{name} at {level}");
            assert!(std::fs::read(&output).unwrap() == in_memory.bytes, "{name} at {level}");
        }
    }
}
