//! Reduced precision against f32 on the real-size model: the share of equal codes and the
//! decoded SNR, with the floors issue 4 sets (99 % and 40 dB).

mod common;

use encodec::{bench, Bandwidth, Encodec, Precision};

fn model(precision: Precision) -> Encodec {
    let dir = common::root().join("tests/fixtures/full-24khz");
    let (config, tensors) = common::formula_weights(&dir);
    Encodec::from_tensors_with(config, tensors, precision).unwrap()
}

#[test]
fn half_precision_stays_close_to_f32() {
    let exact = model(Precision::F32);
    let pcm = bench::synthetic_speech(2.0, 24_000, 1);
    let codes = exact.encode(&pcm, Bandwidth::Kbps6).unwrap();
    let decoded = exact.decode(&codes).unwrap();
    for precision in [Precision::F16, Precision::Bf16] {
        let reduced = model(precision);
        let ours = reduced.encode(&pcm, Bandwidth::Kbps6).unwrap();
        let pairs: Vec<(u32, u32)> = codes.segments[0]
            .codes
            .iter()
            .flatten()
            .copied()
            .zip(ours.segments[0].codes.iter().flatten().copied())
            .collect();
        let equal = pairs.iter().filter(|(a, b)| a == b).count() as f64 / pairs.len() as f64;
        // The decoder alone, on the same codes.
        let (max_abs, snr_db) = common::audio_error(&reduced.decode(&codes).unwrap(), &decoded);
        println!(
            "{}: {:.2} % of {} codes equal, decode {snr_db:.1} dB SNR (max abs {max_abs:.2e})",
            precision.as_str(),
            100.0 * equal,
            pairs.len()
        );
        assert!(equal >= 0.99, "{}: only {:.2} % of codes equal", precision.as_str(), 100.0 * equal);
        assert!(snr_db >= 40.0, "{}: decode SNR {snr_db:.1} dB", precision.as_str());
    }
}
