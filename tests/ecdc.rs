//! The `.ecdc` container: files the reference wrote decode here, files written here are the
//! reference's bytes exactly, and broken files are typed errors, never panics.

mod common;

use common::{audio_error, load_model, model_entry, within_tolerance, Golden};
use encodec::ecdc::{self, EcdcError, Header};
use encodec::{Bandwidth, Encodec, EncodecConfig, Error};

fn fixture_bytes(model: &str, file_suffix: &str) -> Vec<u8> {
    let entry = model_entry(model);
    let fixture = entry.ecdc.iter().find(|f| f.file.ends_with(file_suffix)).unwrap();
    std::fs::read(common::root().join(&fixture.file)).unwrap()
}

fn config(model: &str) -> EncodecConfig {
    let dir = model_entry(model).weights.unwrap();
    EncodecConfig::from_file(&common::root().join(dir).join("config.json")).unwrap()
}

#[test]
fn both_directions_match_the_reference() {
    for name in ["small-24khz", "small-48khz"] {
        let entry = model_entry(name);
        assert!(entry.ecdc.len() >= 8, "{name}: too few .ecdc fixtures");
        let model = load_model(&entry);
        for fixture in &entry.ecdc {
            let case = entry.cases.iter().find(|c| c.name == fixture.case).unwrap();
            let golden = Golden::load(case);
            let bandwidth = Bandwidth::from_kbps(fixture.bandwidth).unwrap();
            let reference_bytes = std::fs::read(common::root().join(&fixture.file)).unwrap();

            // Reference file -> our reader: the reference's codes and scales.
            let codes = ecdc::read(reference_bytes.as_slice(), model.config()).unwrap();
            assert_eq!(codes, golden.codes(bandwidth, case.segments, case.samples), "{}", fixture.file);
            if let Some(reference) = golden.decoded(bandwidth) {
                let (max_abs, snr) = audio_error(&model.decode(&codes).unwrap(), &reference);
                assert!(within_tolerance(max_abs, snr), "{}: {max_abs:e}, {snr:.1} dB", fixture.file);
            }

            // The reference's codes through our writer -> the reference's bytes exactly.
            let mut written = Vec::new();
            ecdc::write(&mut written, &codes, model.config()).unwrap();
            assert_eq!(written, reference_bytes, "{} differs from what the reference wrote", fixture.file);

            // Our encoder -> the same codes, and scales within one f32 ulp (torch's own last bit
            // of a segment's RMS depends on the SIMD width of the CPU it runs on).
            let ours = model.encode(&golden.input(), bandwidth).unwrap();
            for (a, b) in ours.segments.iter().zip(&codes.segments) {
                assert_eq!(a.codes, b.codes, "{}", fixture.file);
                if let (Some(x), Some(y)) = (a.scale, b.scale) {
                    assert!(x.to_bits().abs_diff(y.to_bits()) <= 1, "{}: scale {x} vs {y}", fixture.file);
                }
            }
            if ours.segments.iter().zip(&codes.segments).all(|(a, b)| a.scale == b.scale) {
                let mut ours_written = Vec::new();
                ecdc::write(&mut ours_written, &ours, model.config()).unwrap();
                assert_eq!(ours_written, reference_bytes, "{}", fixture.file);
            }
        }
    }
}

#[test]
fn header_is_readable_on_its_own() {
    let bytes = fixture_bytes("small-48khz", "speech.6.0.ecdc");
    let header = Header::read(&mut bytes.as_slice()).unwrap();
    assert_eq!(header.model, "encodec_48khz");
    assert_eq!(header.hub_repo().unwrap(), "facebook/encodec_48khz");
    assert_eq!((header.audio_len, header.num_codebooks, header.use_lm), (50_400, 4, false));
}

/// A file with the given metadata JSON and payload.
fn with_metadata(json: &str, payload: &[u8]) -> Vec<u8> {
    let mut bytes = b"ECDC\0".to_vec();
    bytes.extend((json.len() as u32).to_be_bytes());
    bytes.extend(json.as_bytes());
    bytes.extend(payload);
    bytes
}

fn read_err(bytes: &[u8], model: &str) -> EcdcError {
    match ecdc::read(bytes, &config(model)) {
        Err(Error::Ecdc(e)) => e,
        other => panic!("expected an .ecdc error, got {other:?}"),
    }
}

#[test]
fn broken_headers_are_typed_errors() {
    let good = fixture_bytes("small-24khz", "speech.6.0.ecdc");
    let mut bad_magic = good.clone();
    bad_magic[..4].copy_from_slice(b"RIFF");
    assert!(matches!(read_err(&bad_magic, "small-24khz"), EcdcError::NotEcdc));
    assert!(matches!(read_err(b"EC", "small-24khz"), EcdcError::NotEcdc));
    let mut version = good.clone();
    version[4] = 1;
    assert!(matches!(read_err(&version, "small-24khz"), EcdcError::UnsupportedVersion(1)));
    let mut huge = good.clone();
    huge[5..9].copy_from_slice(&u32::MAX.to_be_bytes()); // "4 GB of metadata"
    assert!(matches!(read_err(&huge, "small-24khz"), EcdcError::MetadataTooLarge(u32::MAX)));

    let payload = &good[good.len() - 10..];
    for (json, needle) in [
        (r#"{"m": "encodec_24khz", "al": 36000, "nc": 8"#, "EOF"),
        ("[1, 2, 3]", "invalid type"),
        (r#"{"al": 36000, "nc": 8, "lm": false}"#, "missing field `m`"),
        (r#"{"m": "encodec_24khz", "al": "long", "nc": 8, "lm": false}"#, "al: invalid type"),
        (r#"{"m": "encodec_24khz", "al": -5, "nc": 8, "lm": false}"#, "al: invalid value"),
        (r#"{"m": "encodec_24khz", "al": 1.5, "nc": 8, "lm": false}"#, "al: invalid type"),
        (r#"{"m": "encodec_24khz", "al": 36000, "nc": 8, "lm": 0}"#, "lm: invalid type"),
    ] {
        match read_err(&with_metadata(json, payload), "small-24khz") {
            EcdcError::Metadata(message) => assert!(message.contains(needle), "{json}: {message}"),
            other => panic!("{json}: expected a metadata error, got {other:?}"),
        }
    }
    let unknown = with_metadata(r#"{"m": "encodec_96khz", "al": 10, "nc": 8, "lm": false}"#, payload);
    assert!(matches!(read_err(&unknown, "small-24khz"), EcdcError::UnknownModel(m) if m == "encodec_96khz"));
    let lm = with_metadata(r#"{"m": "encodec_24khz", "al": 36000, "nc": 8, "lm": true}"#, payload);
    let err = read_err(&lm, "small-24khz");
    assert!(matches!(err, EcdcError::LanguageModel) && err.to_string().contains("not supported yet"));
    let other_model = with_metadata(r#"{"m": "encodec_48khz", "al": 10, "nc": 8, "lm": false}"#, payload);
    assert!(matches!(read_err(&other_model, "small-24khz"), EcdcError::ModelMismatch(_)));
    for nc in [0, 33] {
        let json = format!(r#"{{"m": "encodec_24khz", "al": 36000, "nc": {nc}, "lm": false}}"#);
        assert!(matches!(
            read_err(&with_metadata(&json, payload), "small-24khz"),
            EcdcError::ModelMismatch(_)
        ));
    }
}

#[test]
fn broken_payloads_are_typed_errors() {
    for (model, file) in [("small-24khz", "speech.6.0.ecdc"), ("small-48khz", "speech.6.0.ecdc")] {
        let good = fixture_bytes(model, file);
        let header_len = 9 + u32::from_be_bytes(good[5..9].try_into().unwrap()) as usize;
        // Every truncation is an error, never a panic or a short decode.
        for cut in 0..good.len() {
            assert!(ecdc::read(&good[..cut], &config(model)).is_err(), "{model}: cut at {cut} read fine");
        }
        assert!(matches!(read_err(&good[..header_len + 3], model), EcdcError::Truncated { segment: 0 }));
        let mut trailing = good.clone();
        trailing.push(0);
        assert!(matches!(read_err(&trailing, model), EcdcError::TrailingBytes));
        // An audio length the payload cannot hold, up to the largest there is.
        for al in [36_000 * 2, 1 << 40, usize::MAX] {
            let nc = if model == "small-24khz" { 8 } else { 4 };
            let m = if model == "small-24khz" { "encodec_24khz" } else { "encodec_48khz" };
            let json = format!(r#"{{"m": "{m}", "al": {al}, "nc": {nc}, "lm": false}}"#);
            let bytes = with_metadata(&json, &good[header_len..]);
            assert!(matches!(read_err(&bytes, model), EcdcError::Truncated { .. }), "{model} al={al}");
        }
    }
    let good = fixture_bytes("small-48khz", "speech.6.0.ecdc");
    let header_len = 9 + u32::from_be_bytes(good[5..9].try_into().unwrap()) as usize;
    for scale in [f32::NAN, f32::INFINITY, -1.0, 0.0] {
        let mut bad = good.clone();
        bad[header_len..header_len + 4].copy_from_slice(&scale.to_be_bytes());
        assert!(matches!(read_err(&bad, "small-48khz"), EcdcError::BadScale { segment: 0, .. }), "{scale}");
    }
}

#[test]
fn writer_refuses_codes_it_cannot_represent() {
    let model = Encodec::from_dir(common::root().join("weights/test-24khz")).unwrap();
    let codes = model.encode(&[vec![0.1f32; 1000]], Bandwidth::Kbps3).unwrap();
    let mut short = codes.clone();
    short.audio_len = 5000;
    assert!(matches!(ecdc::write(Vec::new(), &short, model.config()), Err(Error::InvalidCodes(_))));
    let mut big = codes.clone();
    big.segments[0].codes[0][0] = 1024;
    assert!(matches!(ecdc::write(Vec::new(), &big, model.config()), Err(Error::InvalidCodes(_))));
    let mut scaled = codes;
    scaled.segments[0].scale = Some(1.0);
    assert!(matches!(ecdc::write(Vec::new(), &scaled, model.config()), Err(Error::InvalidCodes(_))));
}

#[test]
fn only_models_with_the_named_layout_read_or_write_ecdc() {
    // A file's model name is all it says about its layout: 10-bit codes at a 320-sample hop.
    let model = Encodec::from_dir(common::root().join("weights/test-24khz")).unwrap();
    let codes = model.encode(&[vec![0.1f32; 1000]], Bandwidth::Kbps3).unwrap();
    let file = fixture_bytes("small-24khz", "speech.6.0.ecdc");
    let header = Header::read(&mut file.as_slice()).unwrap();
    for config in [
        EncodecConfig { codebook_size: 64, ..model.config().clone() },
        EncodecConfig { upsampling_ratios: vec![8, 5, 4], ..model.config().clone() },
        EncodecConfig { sampling_rate: 16_000, ..model.config().clone() },
    ] {
        let err = ecdc::write(Vec::new(), &codes, &config).unwrap_err();
        assert!(matches!(err, Error::Ecdc(EcdcError::ModelMismatch(_))), "{err:?}");
        let err = ecdc::read_payload(&file[file.len() - 1..], &header, &config).unwrap_err();
        assert!(matches!(err, Error::Ecdc(EcdcError::ModelMismatch(_))), "{err:?}");
    }
}

/// Files this crate writes, decoded by the reference's own `decompress`
/// (conversion/decode_ours.py). `ENCODEC_WRITE_FIXTURES=1` rewrites the files instead.
#[test]
fn files_written_here_decode_in_the_reference() {
    let write = std::env::var_os("ENCODEC_WRITE_FIXTURES").is_some();
    let mut checked = 0;
    for name in ["small-24khz", "small-48khz"] {
        let entry = model_entry(name);
        let model = load_model(&entry);
        let bandwidth = *model.bandwidths().last().unwrap();
        for case_name in ["speech", "one_sample"] {
            let case = entry.cases.iter().find(|c| c.name == case_name).unwrap();
            let codes = model.encode(&Golden::load(case).input(), bandwidth).unwrap();
            let mut bytes = Vec::new();
            ecdc::write(&mut bytes, &codes, model.config()).unwrap();
            let path = common::root()
                .join(format!("tests/fixtures/{name}/ours/{case_name}.{}.ecdc", common::bw_key(bandwidth)));
            if write {
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(&path, &bytes).unwrap();
                continue;
            }
            assert_eq!(
                std::fs::read(&path).unwrap(),
                bytes,
                "{}: our writer's output changed",
                path.display()
            );
            let decoded_by_reference = path.with_extension("reference.safetensors");
            let tensors =
                candle_core::safetensors::load(&decoded_by_reference, &candle_core::Device::Cpu).unwrap();
            let reference: Vec<Vec<f32>> = tensors["decoded"].to_vec2().unwrap();
            let (max_abs, snr) = audio_error(&model.decode(&codes).unwrap(), &reference);
            assert!(within_tolerance(max_abs, snr), "{}: {max_abs:e}, {snr:.1} dB", path.display());
            checked += 1;
        }
    }
    assert!(write || checked == 4);
}

/// The streaming writer, fed the audio in uneven chunks, writes the reference's file byte for
/// byte (where our scales equal the reference's), and into an `AtomicFile` that is dropped
/// unfinished it leaves nothing.
#[test]
fn the_streaming_writer_writes_the_reference_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut compared = 0;
    for name in ["small-24khz", "small-48khz"] {
        let entry = model_entry(name);
        let model = load_model(&entry);
        for fixture in &entry.ecdc {
            let case = entry.cases.iter().find(|c| c.name == fixture.case).unwrap();
            let input = Golden::load(case).input();
            let bandwidth = Bandwidth::from_kbps(fixture.bandwidth).unwrap();
            let reference_bytes = std::fs::read(common::root().join(&fixture.file)).unwrap();
            let mut batch = Vec::new();
            ecdc::write(&mut batch, &model.encode(&input, bandwidth).unwrap(), model.config()).unwrap();

            let path = dir.path().join("out.ecdc");
            let mut writer =
                ecdc::Writer::new(&model, bandwidth, encodec::AtomicFile::create(&path).unwrap()).unwrap();
            let mut at = 0;
            for size in [1, 4_799, 333, 12_000].into_iter().cycle() {
                let end = (at + size).min(input[0].len());
                let chunk: Vec<&[f32]> = input.iter().map(|c| &c[at..end]).collect();
                writer.push(&chunk).unwrap();
                at = end;
                if at == input[0].len() {
                    break;
                }
            }
            assert_eq!(writer.audio_len(), input[0].len());
            writer.finish().unwrap().commit().unwrap();
            let streamed = std::fs::read(&path).unwrap();
            assert_eq!(streamed, batch, "{}: streamed = batch", fixture.file);
            if batch == reference_bytes {
                compared += 1;
            }
        }
    }
    assert!(compared >= 8, "only {compared} files equal the reference's");

    let model = load_model(&model_entry("small-24khz"));
    let path = dir.path().join("abandoned.ecdc");
    let mut writer =
        ecdc::Writer::new(&model, Bandwidth::Kbps6, encodec::AtomicFile::create(&path).unwrap()).unwrap();
    writer.push(&[vec![0.1f32; 24_000]]).unwrap();
    drop(writer.finish().unwrap()); // finished but never committed
    assert!(!path.exists(), "an uncommitted file does not appear");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary left behind");
}
