//! The public API on bad input: clear, typed errors, never a panic.

mod common;

use encodec::{Bandwidth, CodeSegment, Codes, Encodec, Error};

fn model24() -> Encodec {
    Encodec::from_dir(common::root().join("weights/test-24khz")).unwrap()
}

fn model48() -> Encodec {
    Encodec::from_dir(common::root().join("weights/test-48khz")).unwrap()
}

#[test]
fn round_trip_keeps_channels_and_length() {
    for (model, len) in [(model24(), 12_345), (model48(), 50_000)] {
        let pcm: Vec<Vec<f32>> = (0..model.channels())
            .map(|c| (0..len).map(|i| ((i * (c + 3)) as f32 * 0.01).sin() * 0.5).collect())
            .collect();
        for bandwidth in model.bandwidths() {
            let codes = model.encode(&pcm, bandwidth).unwrap();
            assert_eq!(codes.audio_len, len);
            assert_eq!(codes.num_codebooks(), bandwidth.num_codebooks(model.config()).unwrap());
            let decoded = model.decode(&codes).unwrap();
            assert_eq!(decoded.len(), model.channels());
            assert!(decoded.iter().all(|c| c.len() == len && c.iter().all(|s| s.is_finite())));
        }
    }
}

#[test]
fn empty_audio_is_rejected() {
    let err = model24().encode(&[Vec::<f32>::new()], Bandwidth::Kbps6).unwrap_err();
    assert!(matches!(err, Error::EmptyAudio), "{err:?}");
}

#[test]
fn non_finite_samples_are_located() {
    for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        let mut right = vec![0.1f32; 1000];
        right[321] = bad;
        let err = model48().encode(&[vec![0.1f32; 1000], right], Bandwidth::Kbps6).unwrap_err();
        assert!(matches!(err, Error::NonFiniteSample { channel: 1, index: 321, .. }), "{err:?}");
    }
}

#[test]
fn wrong_channel_layouts_are_rejected() {
    let stereo = vec![vec![0f32; 100], vec![0f32; 100]];
    let err = model24().encode(&stereo, Bandwidth::Kbps6).unwrap_err();
    assert!(matches!(err, Error::ChannelCount { expected: 1, actual: 2 }), "{err:?}");
    let err = model48().encode(&[vec![0f32; 100]], Bandwidth::Kbps6).unwrap_err();
    assert!(matches!(err, Error::ChannelCount { expected: 2, actual: 1 }), "{err:?}");
    let err = model48().encode(&[vec![0f32; 100], vec![0f32; 99]], Bandwidth::Kbps6).unwrap_err();
    assert!(matches!(err, Error::RaggedChannels { first: 100, other: 99 }), "{err:?}");
    let err = model24().encode(&Vec::<Vec<f32>>::new(), Bandwidth::Kbps6).unwrap_err();
    assert!(matches!(err, Error::ChannelCount { expected: 1, actual: 0 }), "{err:?}");
}

#[test]
fn unsupported_bandwidth_lists_the_supported_ones() {
    let err = model48().encode(&[vec![0f32; 100], vec![0f32; 100]], Bandwidth::Kbps1_5).unwrap_err();
    assert!(err.to_string().contains("[3.0, 6.0, 12.0, 24.0]"), "{err}");
}

#[test]
fn absurd_amplitude_is_an_error_not_garbage() {
    let err = model24().encode(&[vec![3e38f32; 2000]], Bandwidth::Kbps6).unwrap_err();
    assert!(matches!(err, Error::EncoderOverflow), "{err:?}");
}

fn valid_codes(model: &Encodec) -> Codes {
    let pcm = vec![vec![0.25f32; 60_000]; model.channels()];
    model.encode(&pcm, Bandwidth::Kbps6).unwrap()
}

fn assert_invalid(model: &Encodec, codes: &Codes, needle: &str) {
    match model.decode(codes) {
        Err(Error::InvalidCodes(message)) => assert!(message.contains(needle), "{message}"),
        other => panic!("expected InvalidCodes({needle}), got {other:?}"),
    }
}

#[test]
fn inconsistent_codes_are_rejected_before_decoding() {
    let model = model24();
    let good = valid_codes(&model);
    let mut codes = good.clone();
    codes.segments[0].codes[2][5] = 1024;
    assert_invalid(&model, &codes, "outside the codebook");
    let mut codes = good.clone();
    codes.segments[0].codes = vec![vec![0; 10]; 33];
    assert_invalid(&model, &codes, "33 codebooks");
    let mut codes = good.clone();
    codes.segments[0].codes[1].pop();
    assert_invalid(&model, &codes, "rectangle");
    let mut codes = good.clone();
    codes.audio_len = usize::MAX;
    assert_invalid(&model, &codes, "audio length");
    let mut codes = good.clone();
    codes.audio_len = 0;
    assert_invalid(&model, &codes, "audio length");
    let mut codes = good.clone();
    codes.segments.push(codes.segments[0].clone());
    assert_invalid(&model, &codes, "does not segment");
    let mut codes = good.clone();
    codes.segments[0].scale = Some(1.0);
    assert_invalid(&model, &codes, "scale");
    assert_invalid(&model, &Codes { audio_len: 10, segments: vec![] }, "no segments");
    let empty = CodeSegment { codes: vec![vec![]; 8], scale: None };
    assert_invalid(&model, &Codes { audio_len: 10, segments: vec![empty] }, "0 frames");
}

#[test]
fn inconsistent_segments_are_rejected_before_decoding() {
    let model = model48();
    let good = valid_codes(&model);
    assert_eq!(good.segments.len(), 2);
    let mut codes = good.clone();
    codes.segments[1].scale = None;
    assert_invalid(&model, &codes, "scale");
    let mut codes = good.clone();
    codes.segments[0].scale = Some(f32::NAN);
    assert_invalid(&model, &codes, "non-finite scale");
    let mut codes = good.clone();
    codes.segments[0].codes.iter_mut().for_each(|c| c.truncate(10));
    assert_invalid(&model, &codes, "shorter than the segment stride");
    let mut codes = good.clone();
    codes.segments[1].codes.iter_mut().for_each(|c| c.extend(vec![0; 200]));
    assert_invalid(&model, &codes, "frames");
    let mut codes = good;
    codes.segments[1].codes.pop();
    assert_invalid(&model, &codes, "rectangle");
}

/// A model that cannot be loaded says why, as the error's source, and says it again without
/// loading again.
#[test]
fn a_failed_model_load_keeps_its_cause() {
    let models = encodec::Models::dir("/nonexistent/encodec");
    let err = models.for_encoding().unwrap_err();
    assert!(matches!(err, Error::ModelUnavailable { .. }), "{err:?}");
    let source = std::error::Error::source(&err).expect("the cause is kept");
    let cause = source.downcast_ref::<std::sync::Arc<Error>>().expect("the crate's error");
    assert!(matches!(cause.as_ref(), Error::Io { .. }), "{cause:?}");
    assert_eq!(models.for_encoding().unwrap_err().to_string(), err.to_string());
}
