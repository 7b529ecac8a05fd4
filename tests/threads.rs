//! One thread or two, and every kernel path this CPU runs: the same codes and the same decoded
//! samples, bit for bit, on both real-size models (the 48 kHz clip is three segments, so its
//! LSTM steps a batch).

mod common;

use encodec::{bench, Bandwidth, Encodec, Kernels};

fn model(dir: &str, threads: usize, kernels: Kernels) -> Encodec {
    let (config, tensors) = common::formula_weights(&common::root().join("tests/fixtures").join(dir));
    Encodec::from_tensors(config, tensors)
        .unwrap()
        .with_threads(threads)
        .unwrap()
        .with_kernels(kernels)
        .unwrap()
}

#[test]
fn neither_the_thread_count_nor_the_kernel_path_changes_a_bit() {
    for (dir, rate, channels, seconds) in [("full-24khz", 24_000, 1, 1.5), ("full-48khz", 48_000, 2, 2.5)] {
        let pcm = bench::synthetic_speech(seconds, rate, channels);
        let mut first = None;
        for kernels in common::kernel_paths() {
            let (one, two) = (model(dir, 1, kernels), model(dir, 2, kernels));
            assert_eq!((one.threads(), two.threads()), (1, 2));
            assert_eq!((one.kernels(), two.kernels()), (kernels, kernels));
            let codes = one.encode(&pcm, Bandwidth::Kbps6).unwrap();
            assert_eq!(codes, two.encode(&pcm, Bandwidth::Kbps6).unwrap(), "{dir} [{kernels}]: codes");
            if channels == 2 {
                assert_eq!(codes.segments.len(), 3, "{dir}: the clip should span three segments");
            }
            let decoded = one.decode(&codes).unwrap();
            assert!(decoded.iter().flatten().any(|&s| s != 0.0), "{dir}: silent decode");
            assert_eq!(decoded, two.decode(&codes).unwrap(), "{dir} [{kernels}]: decoded samples");
            match &first {
                None => first = Some((kernels, codes, decoded)),
                Some((path, first_codes, first_decoded)) => {
                    assert!(codes == *first_codes, "{dir}: codes on {kernels} differ from {path}");
                    assert!(decoded == *first_decoded, "{dir}: samples on {kernels} differ from {path}");
                }
            }
        }
    }
}

#[test]
fn a_path_the_cpu_cannot_run_is_a_clear_error() {
    let (config, tensors) = common::small_tensors("weights/test-24khz");
    let model = Encodec::from_tensors(config, tensors).unwrap();
    for kernels in Kernels::ALL {
        match model.clone().with_kernels(kernels) {
            Ok(forced) => assert!(kernels.is_supported() && forced.kernels() == kernels),
            Err(e) => {
                assert!(!kernels.is_supported(), "{kernels}: {e}");
                assert!(e.to_string().contains("cannot run"), "{e}");
            }
        }
    }
    assert!("sse9".parse::<Kernels>().unwrap_err().to_string().contains("unknown kernel path"));
    assert_eq!(" AVX2 ".parse::<Kernels>().unwrap(), Kernels::Avx2);
    assert_eq!(Kernels::available().last(), Some(&Kernels::Portable));
}
