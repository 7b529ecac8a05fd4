//! What `encodec bench` measures: best-of-K warm encode and decode times of one model on one
//! clip, and a synthetic speech-like clip for when no recording is at hand.

use std::time::Instant;

use crate::{Bandwidth, Encodec, Result};

/// Best-of-`repeat` wall-clock times, in seconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Timings {
    /// Time to encode the clip.
    pub encode_s: f64,
    /// Time to decode the codes of the clip.
    pub decode_s: f64,
}

/// Encodes and decodes `pcm` `repeat` times (after one untimed run on its first second, which
/// pages the weights in) and keeps the best time of each.
pub fn measure(model: &Encodec, pcm: &[Vec<f32>], bandwidth: Bandwidth, repeat: usize) -> Result<Timings> {
    let warm_len = pcm[0].len().min(model.sample_rate() as usize);
    let warm: Vec<&[f32]> = pcm.iter().map(|c| &c[..warm_len]).collect();
    model.decode(&model.encode(&warm, bandwidth)?)?;
    let mut best = Timings { encode_s: f64::INFINITY, decode_s: f64::INFINITY };
    for _ in 0..repeat.max(1) {
        let start = Instant::now();
        let codes = model.encode(pcm, bandwidth)?;
        let encoded = Instant::now();
        std::hint::black_box(model.decode(&codes)?);
        best.encode_s = best.encode_s.min((encoded - start).as_secs_f64());
        best.decode_s = best.decode_s.min(encoded.elapsed().as_secs_f64());
    }
    Ok(best)
}

/// `seconds` of a deterministic speech-like signal: a voice whose pitch glides between 90 and
/// 220 Hz with a dozen harmonics, opened and closed at a syllable rate of about 4 Hz, over a
/// little noise. Channels differ slightly, as a stereo recording's would.
pub fn synthetic_speech(seconds: f64, sample_rate: u32, channels: usize) -> Vec<Vec<f32>> {
    let len = (seconds * sample_rate as f64).round() as usize;
    let rate = sample_rate as f64;
    let mut state = 0x9e37_79b9_7f4a_7c15u64; // xorshift64*: reproducible noise without a crate
    let mut noise = move || {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        ((state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 40) as f64 / (1u64 << 24) as f64) - 0.5
    };
    let mut phase = 0.0f64;
    let mono: Vec<f64> = (0..len)
        .map(|i| {
            let t = i as f64 / rate;
            let pitch = 155.0 + 65.0 * (2.0 * std::f64::consts::PI * 0.7 * t).sin();
            phase += 2.0 * std::f64::consts::PI * pitch / rate;
            let envelope = (0.5 - 0.5 * (2.0 * std::f64::consts::PI * 4.1 * t).cos()).powi(2);
            let voice: f64 = (1..=12)
                .filter(|h| (*h as f64) * pitch < rate / 2.0)
                .map(|h| (h as f64 * phase).sin() / h as f64)
                .sum();
            0.25 * envelope * voice + 0.01 * noise()
        })
        .collect();
    (0..channels).map(|c| mono.iter().map(|&s| (s * (1.0 - 0.1 * c as f64)) as f32).collect()).collect()
}
