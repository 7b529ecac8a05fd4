//! What `encodec bench` measures: best-of-K warm encode and decode times of one model on one
//! clip, and a synthetic speech-like clip for when no recording is at hand.

use std::time::Instant;

use crate::ecdc::EcdcDecoder;
use crate::{Bandwidth, CodeChunk, Encodec, Result};

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

/// Best-of-`repeat` times of the streaming encoder and decoder on `pcm` pushed `chunk`
/// samples at a time (the codes decoded `chunk / hop` frames at a time), warmed as
/// [`measure`] is. Each timed run alternates with a batch run, so that the two are compared
/// under the same conditions: returns (batch, stream).
pub fn measure_stream(
    model: &Encodec,
    pcm: &[Vec<f32>],
    bandwidth: Bandwidth,
    chunk: usize,
    repeat: usize,
) -> Result<(Timings, Timings)> {
    let chunk = chunk.max(1);
    let frames_per_chunk = chunk.div_ceil(model.config().hop_length()).max(1);
    let warm_len = pcm[0].len().min(model.sample_rate() as usize);
    let warm: Vec<Vec<f32>> = pcm.iter().map(|c| c[..warm_len].to_vec()).collect();
    stream_once(model, &warm, bandwidth, chunk, frames_per_chunk)?;
    let mut stream = Timings { encode_s: f64::INFINITY, decode_s: f64::INFINITY };
    let mut batch = stream;
    for _ in 0..repeat.max(1) {
        let once = measure(model, pcm, bandwidth, 1)?;
        batch.encode_s = batch.encode_s.min(once.encode_s);
        batch.decode_s = batch.decode_s.min(once.decode_s);
        let once = stream_once(model, pcm, bandwidth, chunk, frames_per_chunk)?;
        stream.encode_s = stream.encode_s.min(once.encode_s);
        stream.decode_s = stream.decode_s.min(once.decode_s);
    }
    Ok((batch, stream))
}

fn stream_once(
    model: &Encodec,
    pcm: &[Vec<f32>],
    bandwidth: Bandwidth,
    chunk: usize,
    frames_per_chunk: usize,
) -> Result<Timings> {
    let start = Instant::now();
    let mut encoder = model.stream_encoder(bandwidth)?;
    let mut chunks = Vec::new();
    for at in (0..pcm[0].len()).step_by(chunk) {
        let piece: Vec<&[f32]> = pcm.iter().map(|c| &c[at..(at + chunk).min(c.len())]).collect();
        chunks.extend(encoder.push(&piece)?);
    }
    let (last, audio_len) = encoder.finish()?;
    chunks.extend(last);
    let encoded = Instant::now();
    let mut decoder = model.stream_decoder(Some(audio_len))?;
    for chunk in &chunks {
        for from in (0..chunk.num_frames()).step_by(frames_per_chunk) {
            let to = (from + frames_per_chunk).min(chunk.num_frames());
            let codes = chunk.codes.iter().map(|c| c[from..to].to_vec()).collect();
            std::hint::black_box(decoder.push(&CodeChunk {
                segment: chunk.segment,
                scale: chunk.scale,
                codes,
            })?);
        }
    }
    std::hint::black_box(decoder.finish()?);
    Ok(Timings { encode_s: (encoded - start).as_secs_f64(), decode_s: encoded.elapsed().as_secs_f64() })
}

/// How close a seeked decode is to the full one for one pre-roll length.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PrerollQuality {
    /// Frames decoded before the seek point.
    pub preroll_frames: usize,
    /// The worst SNR (dB) over the seek points, of the `window` samples after each.
    pub worst_snr_db: f64,
    /// The mean of the seek points' SNRs (dB).
    pub mean_snr_db: f64,
    /// The largest absolute difference from the full decode.
    pub max_abs: f32,
}

/// Seeks into the `.ecdc` encoding of `pcm` at `seeks` points spread over it (not on frame
/// boundaries), for each of `prerolls`, and compares the `window` samples decoded after each
/// point with the same samples of the full decode.
pub fn preroll_study(
    model: &Encodec,
    pcm: &[Vec<f32>],
    bandwidth: Bandwidth,
    prerolls: &[usize],
    seeks: usize,
    window: usize,
) -> Result<Vec<PrerollQuality>> {
    let codes = model.encode(pcm, bandwidth)?;
    let full = model.decode(&codes)?;
    let mut file = Vec::new();
    crate::ecdc::write(&mut file, &codes, model.config())?;
    let len = pcm[0].len();
    let points: Vec<usize> =
        (1..=seeks).map(|i| (i * len / (seeks + 1)) / 7 * 7 + 123).filter(|&p| p + window <= len).collect();
    prerolls
        .iter()
        .map(|&preroll_frames| {
            let mut quality = PrerollQuality {
                preroll_frames,
                worst_snr_db: f64::INFINITY,
                mean_snr_db: 0.0,
                max_abs: 0.0,
            };
            for &at in &points {
                let mut reader = std::io::Cursor::new(&file);
                let header = crate::ecdc::Header::read(&mut reader)?;
                let mut decoder = EcdcDecoder::new(model, reader, &header, at..at + window, preroll_frames)?;
                let mut seeked = vec![Vec::new(); full.len()];
                while let Some(pcm) = decoder.next_chunk(usize::MAX)? {
                    seeked.iter_mut().zip(pcm).for_each(|(s, c)| s.extend(c));
                }
                let (mut signal, mut noise) = (0f64, 0f64);
                for (ours, reference) in seeked.iter().zip(&full) {
                    for (&x, &y) in ours.iter().zip(&reference[at..at + window]) {
                        quality.max_abs = quality.max_abs.max((x - y).abs());
                        signal += (y as f64).powi(2);
                        noise += ((x - y) as f64).powi(2);
                    }
                }
                let snr = if noise == 0.0 { f64::INFINITY } else { 10.0 * (signal / noise).log10() };
                quality.worst_snr_db = quality.worst_snr_db.min(snr);
                quality.mean_snr_db += snr / points.len() as f64;
            }
            Ok(quality)
        })
        .collect()
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
