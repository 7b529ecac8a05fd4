//! Seeking: a time range of an `.ecdc` payload decoded without decoding what comes before. The
//! 48 kHz model's segments make it exact; the 24 kHz model's pre-roll brings it within float
//! noise of the full decode, and exactly to it when the pre-roll reaches the start.

mod common;

use std::io::Cursor;
use std::ops::Range;

use encodec::ecdc::{self, EcdcDecoder, Header, PayloadReader};
use encodec::{bench, Bandwidth, Encodec, SeekPoint};

fn full(dir: &str) -> Encodec {
    let (config, tensors) = common::formula_weights(&common::root().join("tests/fixtures").join(dir));
    Encodec::from_tensors(config, tensors).unwrap()
}

fn small(dir: &str) -> Encodec {
    Encodec::from_dir(common::root().join("weights").join(dir)).unwrap()
}

/// The `.ecdc` bytes of `pcm` and the full decode of its codes.
fn encoded(model: &Encodec, pcm: &[Vec<f32>], bandwidth: Bandwidth) -> (Vec<u8>, Vec<Vec<f32>>) {
    let codes = model.encode(pcm, bandwidth).unwrap();
    let mut bytes = Vec::new();
    ecdc::write(&mut bytes, &codes, model.config()).unwrap();
    (bytes, model.decode(&codes).unwrap())
}

/// Samples `range` decoded through an [`EcdcDecoder`], `chunk` frames at a time.
fn decode_range(
    model: &Encodec,
    bytes: &[u8],
    range: Range<usize>,
    preroll: usize,
    chunk: usize,
) -> Vec<Vec<f32>> {
    let mut reader = Cursor::new(bytes);
    let header = Header::read(&mut reader).unwrap();
    let mut decoder = EcdcDecoder::new(model, reader, &header, range.clone(), preroll).unwrap();
    assert_eq!(decoder.len(), range.end.min(header.audio_len) - range.start);
    let mut pcm = vec![Vec::new(); model.channels()];
    while let Some(part) = decoder.next_chunk(chunk).unwrap() {
        pcm.iter_mut().zip(part).for_each(|(a, b)| a.extend(b));
    }
    pcm
}

/// A seekable reader of the payload in `bytes`.
fn payload<'a>(model: &Encodec, bytes: &'a [u8]) -> PayloadReader<Cursor<&'a [u8]>> {
    let mut reader = Cursor::new(bytes);
    let header = Header::read(&mut reader).unwrap();
    PayloadReader::seekable(reader, &header, model.config()).unwrap()
}

fn slice(pcm: &[Vec<f32>], range: Range<usize>) -> Vec<Vec<f32>> {
    pcm.iter().map(|c| c[range.clone()].to_vec()).collect()
}

#[test]
fn a_48khz_range_equals_the_full_decode_exactly() {
    let model = full("full-48khz");
    let pcm = bench::synthetic_speech(2.5, 48_000, 2);
    let (bytes, decoded) = encoded(&model, &pcm, Bandwidth::Kbps6);
    let len = pcm[0].len();
    // Segments start every 47 520 samples and overlap the next by 480.
    for range in
        [0..len, 100..47_000, 47_000..48_480, 47_520..48_000, 47_999..95_041, 48_100..len, len - 10..len]
    {
        for chunk in [7, 1000] {
            let seeked = decode_range(&model, &bytes, range.clone(), 0, chunk);
            assert_eq!(seeked, slice(&decoded, range.clone()), "samples {range:?}, chunks of {chunk} frames");
        }
    }
}

#[test]
fn a_24khz_range_converges_to_the_full_decode_after_the_preroll() {
    let model = full("full-24khz");
    let pcm = bench::synthetic_speech(3.0, 24_000, 1);
    let (bytes, decoded) = encoded(&model, &pcm, Bandwidth::Kbps6);
    let len = pcm[0].len();
    for from in [0, 1, 319, 320, 24_123, 50_000] {
        let range = from..(from + 12_000).min(len);
        let wanted = slice(&decoded, range.clone());
        // A pre-roll back to the start is the full decode.
        assert_eq!(decode_range(&model, &bytes, range.clone(), from / 320 + 1, 5), wanted, "from {from}");
        let (max_abs, snr) = common::audio_error(
            &decode_range(&model, &bytes, range.clone(), ecdc::DEFAULT_PREROLL_FRAMES, 75),
            &wanted,
        );
        assert!(snr >= 100.0, "from {from}, default pre-roll: {snr:.1} dB, max error {max_abs:e}");
        if from / 320 > 8 {
            // Without pre-roll the start is audibly off: the pre-roll is what brings it back.
            let (_, snr) = common::audio_error(&decode_range(&model, &bytes, range.clone(), 0, 75), &wanted);
            assert!(snr < 60.0, "from {from}, no pre-roll: {snr:.1} dB");
        }
    }
}

#[test]
fn the_payload_reader_seeks_to_any_frame() {
    // 1.5 kbps on the 24 kHz model: 2 codes of 10 bits, so every other frame starts mid-byte.
    let model = small("test-24khz");
    let pcm = bench::synthetic_speech(0.5, 24_000, 1);
    let codes = model.encode(&pcm, Bandwidth::Kbps1_5).unwrap();
    let mut bytes = Vec::new();
    ecdc::write(&mut bytes, &codes, model.config()).unwrap();
    let segment = &codes.segments[0];
    for frame in 0..segment.num_frames() {
        let mut payload = payload(&model, &bytes);
        payload.seek(&SeekPoint { segment: 0, frame, sample: frame * 320 }).unwrap();
        let chunk = payload.next_chunk(3).unwrap().unwrap();
        let end = (frame + 3).min(segment.num_frames());
        let wanted: Vec<Vec<u32>> = segment.codes.iter().map(|c| c[frame..end].to_vec()).collect();
        assert_eq!(chunk.codes, wanted, "frame {frame}");
    }
    // The 48 kHz model: a segment's scale, then its codes.
    let model = small("test-48khz");
    let pcm = bench::synthetic_speech(3.2, 48_000, 2);
    let codes = model.encode(&pcm, Bandwidth::Kbps3).unwrap();
    let mut bytes = Vec::new();
    ecdc::write(&mut bytes, &codes, model.config()).unwrap();
    for (index, segment) in codes.segments.iter().enumerate().rev() {
        let mut payload = payload(&model, &bytes);
        payload.seek(&SeekPoint { segment: index, frame: 0, sample: index * 47_520 }).unwrap();
        let chunk = payload.next_chunk(usize::MAX).unwrap().unwrap();
        assert_eq!((chunk.segment, chunk.scale, &chunk.codes), (index, segment.scale, &segment.codes));
    }
}

#[test]
fn ranges_outside_the_audio_are_errors() {
    let model = small("test-24khz");
    let pcm = bench::synthetic_speech(0.2, 24_000, 1);
    let (bytes, _) = encoded(&model, &pcm, Bandwidth::Kbps6);
    let len = pcm[0].len();
    #[allow(clippy::reversed_empty_ranges)] // a reversed range is one of the bad inputs
    for range in [len..len + 10, 100..100, 200..100] {
        let mut reader = Cursor::new(&bytes);
        let header = Header::read(&mut reader).unwrap();
        let error = EcdcDecoder::new(&model, reader, &header, range.clone(), 75).err();
        assert!(error.is_some_and(|e| e.to_string().contains("not inside")), "{range:?}");
    }
    // A range reaching past the end is cut at the end.
    assert_eq!(decode_range(&model, &bytes, 100..len * 2, 75, 8)[0].len(), len - 100);
    // A frame past the end, and a reader that cannot seek.
    assert!(payload(&model, &bytes).seek(&SeekPoint { segment: 0, frame: 1000, sample: 320_000 }).is_err());
    let mut reader = Cursor::new(&bytes);
    let header = Header::read(&mut reader).unwrap();
    let mut payload = PayloadReader::new(reader, &header, model.config()).unwrap();
    assert!(payload.seek(&SeekPoint { segment: 0, frame: 1, sample: 320 }).is_err());
}
