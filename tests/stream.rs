//! Streaming = batch: for any way of cutting the input into chunks, the streamed codes are the
//! batch codes and the streamed samples the batch decode, on both models (real-size and small
//! weights), including the edges (reflect padding at the start, the padding that completes the
//! last frame, the decoder's trim, the 48 kHz model's segments and overlap-add).

mod common;

use encodec::{bench, Bandwidth, CodeChunk, Codes, Encodec};

fn full(dir: &str) -> Encodec {
    let (config, tensors) = common::formula_weights(&common::root().join("tests/fixtures").join(dir));
    Encodec::from_tensors(config, tensors).unwrap()
}

fn small(dir: &str) -> Encodec {
    Encodec::from_dir(common::root().join("weights").join(dir)).unwrap()
}

/// A named way of cutting a signal: the size of each next chunk.
type Schedule = (&'static str, Box<dyn FnMut() -> usize>);

/// Chunk sizes from a seeded generator: mostly small and odd, sometimes large, sometimes 0.
fn sizes(seed: u64, max: usize) -> impl FnMut() -> usize {
    let mut state = seed;
    move || {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        let r = (state >> 33) as usize;
        match r % 8 {
            0 => 0,
            1 => 1,
            2..=5 => r % 97 + 1,
            _ => r % max + 1,
        }
    }
}

/// Streams `pcm` through an encoder in chunks of `next()` samples.
fn encode_stream(
    model: &Encodec,
    pcm: &[Vec<f32>],
    mut next: impl FnMut() -> usize,
) -> (Vec<CodeChunk>, usize) {
    let mut encoder = model.stream_encoder(Bandwidth::Kbps6).unwrap();
    let (mut chunks, mut at) = (Vec::new(), 0);
    while at < pcm[0].len() {
        let n = next().min(pcm[0].len() - at);
        let part: Vec<&[f32]> = pcm.iter().map(|c| &c[at..at + n]).collect();
        chunks.extend(encoder.push(&part).unwrap());
        at += n;
    }
    let (rest, audio_len) = encoder.finish().unwrap();
    chunks.extend(rest);
    (chunks, audio_len)
}

/// The chunks gathered into segments, as batch gives them.
fn gather(chunks: &[CodeChunk], audio_len: usize) -> Codes {
    let mut segments: Vec<encodec::CodeSegment> = Vec::new();
    for chunk in chunks {
        if segments.len() == chunk.segment {
            segments.push(encodec::CodeSegment {
                codes: vec![Vec::new(); chunk.codes.len()],
                scale: chunk.scale,
            });
        }
        let segment = &mut segments[chunk.segment];
        assert_eq!(segment.scale, chunk.scale);
        segment.codes.iter_mut().zip(&chunk.codes).for_each(|(a, b)| a.extend_from_slice(b));
    }
    Codes { audio_len, segments }
}

/// Decodes `codes` streamed in chunks of `next()` frames (never across a segment).
fn decode_stream(model: &Encodec, codes: &Codes, mut next: impl FnMut() -> usize) -> Vec<Vec<f32>> {
    let mut decoder = model.stream_decoder(Some(codes.audio_len)).unwrap();
    let mut pcm = vec![Vec::new(); model.channels()];
    let mut add = |part: Vec<Vec<f32>>| pcm.iter_mut().zip(part).for_each(|(a, b)| a.extend(b));
    for (index, segment) in codes.segments.iter().enumerate() {
        let mut at = 0;
        while at < segment.num_frames() {
            let n = next().clamp(1, segment.num_frames() - at);
            let codes = segment.codes.iter().map(|c| c[at..at + n].to_vec()).collect();
            add(decoder.push(&CodeChunk { segment: index, scale: segment.scale, codes }).unwrap());
            at += n;
        }
    }
    add(decoder.finish().unwrap());
    pcm
}

fn check(model: &Encodec, name: &str, pcm: &[Vec<f32>], schedules: &mut [Schedule]) {
    let batch = model.encode(pcm, Bandwidth::Kbps6).unwrap();
    let decoded = model.decode(&batch).unwrap();
    for (label, next) in schedules.iter_mut() {
        let (chunks, audio_len) = encode_stream(model, pcm, &mut *next);
        assert_eq!(audio_len, pcm[0].len());
        assert_eq!(gather(&chunks, audio_len), batch, "{name}: codes, chunks of {label}");
        let streamed = decode_stream(model, &batch, &mut *next);
        assert_eq!(streamed.len(), decoded.len());
        for (s, d) in streamed.iter().zip(&decoded) {
            assert_eq!(s.len(), d.len(), "{name}: decoded length, chunks of {label}");
            let worst = s.iter().zip(d).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
            assert!(worst <= 1e-5, "{name}: decoded samples differ by {worst}, chunks of {label}");
            assert_eq!(s, d, "{name}: decoded samples, chunks of {label} (expected bit for bit)");
        }
    }
}

#[test]
fn the_24khz_stream_equals_batch_for_any_chunks() {
    let pcm = bench::synthetic_speech(1.3, 24_000, 1);
    for kernels in common::kernel_paths() {
        let model = full("full-24khz").with_kernels(kernels).unwrap();
        let mut schedules: Vec<Schedule> = vec![
            ("random sizes", Box::new(sizes(1, 5000))),
            ("one frame", Box::new(|| 320)),
            ("everything", Box::new(|| usize::MAX)),
        ];
        check(&model, &format!("full-24khz [{kernels}]"), &pcm, &mut schedules);
    }
    // One sample at a time, and lengths around the paddings' edges, on the small model.
    let model = small("test-24khz");
    for len in [1, 2, 5, 7, 8, 319, 320, 321, 2_000] {
        let pcm = vec![bench::synthetic_speech(1.0, 24_000, 1)[0][..len].to_vec()];
        let mut schedules: Vec<Schedule> =
            vec![("one sample", Box::new(|| 1)), ("random sizes", Box::new(sizes(len as u64, 700)))];
        check(&model, &format!("test-24khz, {len} samples"), &pcm, &mut schedules);
    }
}

#[test]
fn the_48khz_stream_equals_batch_segment_by_segment() {
    let pcm = bench::synthetic_speech(2.5, 48_000, 2);
    for kernels in common::kernel_paths() {
        let model = full("full-48khz").with_kernels(kernels).unwrap();
        let mut schedules: Vec<Schedule> =
            vec![("random sizes", Box::new(sizes(2, 30_000))), ("one frame", Box::new(|| 320))];
        check(&model, &format!("full-48khz [{kernels}]"), &pcm, &mut schedules);
    }
    let model = small("test-48khz");
    for len in [100, 47_520, 48_000, 48_001, 95_040 + 3] {
        let pcm = bench::synthetic_speech(2.0, 48_000, 2)
            .into_iter()
            .map(|c| c[..len].to_vec())
            .collect::<Vec<_>>();
        let mut schedules: Vec<Schedule> = vec![("random sizes", Box::new(sizes(len as u64, 20_000)))];
        check(&model, &format!("test-48khz, {len} samples"), &pcm, &mut schedules);
    }
}
