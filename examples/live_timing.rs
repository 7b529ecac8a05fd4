//! Times the library's calls that the Python package wraps, for the binding-overhead figure
//! (`bindings/python/bench_overhead.py` runs this and the same calls through Python, in one
//! run): a 20 ms push through the live Lyra and Opus encoders and decoders, and one file
//! through `Compressor::compress` / `decompress`. Prints JSON: microseconds per call.
//!
//! cargo run --release --example live_timing -- CLIP.wav [ROUNDS]

use std::time::Instant;

use encodec::encodec::Models;
use encodec::levels::{decompress, Compressor, Level};
use encodec::live::{LiveCodec, LiveDecoder, LiveEncoder};

fn main() -> encodec::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let clip = std::fs::read(args.get(1).expect("usage: live_timing CLIP.wav [ROUNDS]")).expect("read clip");
    let rounds: usize = args.get(2).map_or(5, |r| r.parse().expect("ROUNDS"));
    let source = decompress(&clip, &Models::none())?.audio;
    let step = source.sample_rate as usize / 50;
    let mut report = serde_json::Map::new();
    for name in ["lyra", "opus"] {
        let codec = LiveCodec::from_name(name, None)?;
        let (mut encode_us, mut decode_us, mut pushes) = (f64::MAX, f64::MAX, 0);
        for _ in 0..rounds {
            let mut encoder = LiveEncoder::new(codec, source.sample_rate, source.channels.len())?;
            let mut messages = Vec::new();
            let start = Instant::now();
            for at in (0..source.len()).step_by(step) {
                let end = (at + step).min(source.len());
                let chunk: Vec<Vec<f32>> = source.channels.iter().map(|c| c[at..end].to_vec()).collect();
                messages.push(encoder.push(&chunk)?);
            }
            messages.push(encoder.finish()?);
            pushes = messages.len();
            encode_us = encode_us.min(start.elapsed().as_secs_f64() * 1e6 / pushes as f64);
            let mut decoder = LiveDecoder::new(codec)?;
            let start = Instant::now();
            for message in &messages {
                decoder.push(message)?;
            }
            decoder.finish()?;
            decode_us = decode_us.min(start.elapsed().as_secs_f64() * 1e6 / pushes as f64);
        }
        report.insert(format!("{name}_push_encode_us"), encode_us.into());
        report.insert(format!("{name}_push_decode_us"), decode_us.into());
        report.insert(format!("{name}_pushes"), pushes.into());
    }
    for (level, codec) in [("ultra", "lyra"), ("compact", "opus")] {
        let compressor = Compressor::new(Level::from_names(level, Some(codec), None)?, Models::none());
        let (mut compress_us, mut decompress_us) = (f64::MAX, f64::MAX);
        for _ in 0..rounds {
            let start = Instant::now();
            let packed = compressor.compress(&clip)?;
            compress_us = compress_us.min(start.elapsed().as_secs_f64() * 1e6);
            let start = Instant::now();
            decompress(&packed.bytes, compressor.models())?;
            decompress_us = decompress_us.min(start.elapsed().as_secs_f64() * 1e6);
        }
        report.insert(format!("{level}_{codec}_compress_us"), compress_us.into());
        report.insert(format!("{level}_{codec}_decompress_us"), decompress_us.into());
    }
    println!("{}", serde_json::Value::Object(report));
    Ok(())
}
