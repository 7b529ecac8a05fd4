//! The native decode of the fixtures the WebAssembly tests decode, as JSON on standard output:
//! for each, the rate, shape and SHA-256 of the samples' f32 bits (little-endian, channel after
//! channel), which `tests/decode.mjs` (Node) and `tests/browser.mjs` (Chromium) must match.
//! Usage: cargo run -p encodec-wasm --example reference -- <repository root>

use std::path::Path;

use encodec_wasm::{Decoder, Pcm};
use sha2::{Digest, Sha256};

fn digest(pcm: &Pcm) -> serde_json::Value {
    let mut hash = Sha256::new();
    pcm.channels.iter().flatten().for_each(|s| hash.update(s.to_le_bytes()));
    let hex: String = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
    serde_json::json!({
        "sampleRate": pcm.sample_rate,
        "channels": pcm.channels.len(),
        "frames": pcm.channels.first().map_or(0, Vec::len),
        "sha256": hex,
    })
}

fn main() -> encodec::Result<()> {
    let root = std::env::args().nth(1).unwrap_or_else(|| ".".into());
    let root = Path::new(&root);
    let read = |p: &str| std::fs::read(root.join(p)).unwrap_or_else(|e| panic!("{p}: {e}"));
    let mut out = serde_json::Map::new();
    for (name, weights) in [("24khz", "weights/test-24khz"), ("48khz", "weights/test-48khz")] {
        let mut decoder = Decoder::default();
        let config = String::from_utf8(read(&format!("{weights}/config.json"))).expect("UTF-8");
        decoder.load_encodec(&config, &read(&format!("{weights}/model.safetensors")))?;
        let file = format!("tests/fixtures/small-{name}/ecdc/speech.6.0.ecdc");
        out.insert(file.clone(), digest(&decoder.decode(&read(&file))?));
    }
    let decoder = Decoder::default();
    let framed = "tests/fixtures/wasm/speech-6kbps-framed.lyra";
    out.insert(framed.into(), digest(&decoder.decode(&read(framed))?));
    // The raw packets through the stream decoder, in pieces of 7 bytes (packets are 8: almost
    // every piece ends inside one).
    let raw = "tests/fixtures/wasm/speech-3.2kbps.lyra";
    let mut stream = decoder.lyra_stream(3.2)?;
    let mut samples = Vec::new();
    for piece in read(raw).chunks(7) {
        samples.extend(stream.push(piece)?.channels.remove(0));
    }
    samples.extend(stream.finish()?.channels.remove(0));
    out.insert(raw.into(), digest(&Pcm { sample_rate: 16_000, channels: vec![samples] }));
    println!("{}", serde_json::to_string_pretty(&out).expect("JSON"));
    Ok(())
}
