//! One thread or two: the same codes and the same decoded samples, bit for bit, on both
//! real-size models (the 48 kHz clip is three segments, so its LSTM steps a batch).

mod common;

use encodec::{bench, Bandwidth, Encodec};

fn model(dir: &str, threads: usize) -> Encodec {
    let (config, tensors) = common::formula_weights(&common::root().join("tests/fixtures").join(dir));
    Encodec::from_tensors(config, tensors).unwrap().with_threads(threads).unwrap()
}

#[test]
fn the_thread_count_does_not_change_a_bit() {
    for (dir, rate, channels, seconds) in [("full-24khz", 24_000, 1, 1.5), ("full-48khz", 48_000, 2, 2.5)] {
        let pcm = bench::synthetic_speech(seconds, rate, channels);
        let (one, two) = (model(dir, 1), model(dir, 2));
        assert_eq!((one.threads(), two.threads()), (1, 2));
        let codes = one.encode(&pcm, Bandwidth::Kbps6).unwrap();
        assert_eq!(codes, two.encode(&pcm, Bandwidth::Kbps6).unwrap(), "{dir}: codes");
        if channels == 2 {
            assert_eq!(codes.segments.len(), 3, "{dir}: the clip should span three segments");
        }
        let decoded = one.decode(&codes).unwrap();
        assert!(decoded.iter().flatten().any(|&s| s != 0.0), "{dir}: silent decode");
        assert_eq!(decoded, two.decode(&codes).unwrap(), "{dir}: decoded samples");
    }
}
