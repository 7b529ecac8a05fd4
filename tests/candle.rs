//! The candle surface (`encodec::candle::Model`, candle-transformers' `encode`/`decode` on
//! tensors) gives the reference's codes and decodes, through tensors of any float dtype, in
//! batches.

mod common;

use candle_core::{DType, Device, Tensor};
use common::{audio_error, model_entry, within_tolerance, Golden};
use encodec::{candle, Bandwidth, Encodec};

#[test]
fn tensors_in_and_out_give_the_reference_codes_and_audio() {
    let entry = model_entry("small-24khz");
    let model = Encodec::from_dir(common::root().join(entry.weights.as_ref().unwrap())).unwrap();
    let mut checked = 0;
    for case in &entry.cases {
        let golden = Golden::load(case);
        let input = golden.input();
        // A batch of two: the clip, and the clip at half amplitude (its own codes).
        let clip = Tensor::new(input.clone(), &Device::Cpu).unwrap();
        let batch = Tensor::stack(&[&clip, &(&clip * 0.5).unwrap()], 0).unwrap();
        let half: Vec<Vec<f32>> = input.iter().map(|c| c.iter().map(|s| s * 0.5).collect()).collect();
        for kbps in [1.5, 24.0] {
            let bandwidth = Bandwidth::from_kbps(kbps).unwrap();
            let tensors = candle::Model::with_bandwidth(model.clone(), bandwidth).unwrap();
            // f64 in: converted on the way to the kernels.
            let codes = tensors.encode(&batch.to_dtype(DType::F64).unwrap()).unwrap();
            assert_eq!(codes.dtype(), DType::U32);
            let expected = golden.codes(bandwidth, case.segments, case.samples);
            let first: Vec<Vec<u32>> = codes.get(0).unwrap().to_vec2().unwrap();
            assert_eq!(
                first, expected.segments[0].codes,
                "{} at {kbps} kbps: the reference's codes",
                case.name
            );
            let second: Vec<Vec<u32>> = codes.get(1).unwrap().to_vec2().unwrap();
            let direct = model.encode(&half, bandwidth).unwrap();
            assert_eq!(second, direct.segments[0].codes, "{}: batch items are independent", case.name);

            let audio = tensors.decode(&codes.to_dtype(DType::I64).unwrap()).unwrap();
            let frames = first[0].len();
            assert_eq!(audio.dims3().unwrap(), (2, 1, frames * model.config().hop_length()));
            if let Some(reference) = golden.decoded(bandwidth) {
                let ours: Vec<Vec<f32>> =
                    audio.get(0).unwrap().narrow(1, 0, case.samples).unwrap().to_vec2().unwrap();
                let (max_abs, snr) = audio_error(&ours, &reference);
                assert!(within_tolerance(max_abs, snr), "{}: {max_abs:e}, {snr:.1} dB", case.name);
                checked += 1;
            }
        }
    }
    assert!(checked >= entry.cases.len(), "too few reference decodes compared ({checked})");
}

#[test]
fn the_default_is_every_codebook_and_segmenting_models_are_refused() {
    let model = Encodec::from_dir(common::root().join("weights/test-24khz")).unwrap();
    let tensors = candle::Model::new(model.clone()).unwrap();
    let codes = tensors.encode(&Tensor::zeros((1, 2400), DType::F32, &Device::Cpu).unwrap()).unwrap();
    let frames = 2400usize.div_ceil(model.config().hop_length());
    assert_eq!(
        codes.dims3().unwrap(),
        (1, model.config().num_quantizers(), frames),
        "unbatched, every codebook"
    );
    let stereo = Encodec::from_dir(common::root().join("weights/test-48khz")).unwrap();
    let err = candle::Model::new(stereo).unwrap_err();
    assert!(err.to_string().contains("per-segment scales"), "{err}");
}
