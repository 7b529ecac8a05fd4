//! Loading weights: every weight-norm key style gives the reference's codes, and broken
//! weights or configs give errors that name the problem.

mod common;

use std::collections::HashMap;

use candle_core::{DType, Tensor};
use common::{model_entry, small_tensors, Golden};
use encodec::{Bandwidth, Encodec, EncodecConfig, Error};

const SMALL_24K: &str = "weights/test-24khz";

/// Encodes the small 24 kHz speech fixture at 6 kbps and checks the reference's codes.
fn assert_golden_codes(model: &Encodec) {
    let entry = model_entry("small-24khz");
    let case = entry.cases.iter().find(|c| c.name == "speech").unwrap();
    let golden = Golden::load(case);
    let codes = model.encode(&golden.input(), Bandwidth::Kbps6).unwrap();
    assert_eq!(codes, golden.codes(Bandwidth::Kbps6, 1, case.samples));
}

fn rename(tensors: HashMap<String, Tensor>, from: &str, to: &str) -> HashMap<String, Tensor> {
    tensors.into_iter().map(|(k, v)| (k.replace(from, to), v)).collect()
}

#[test]
fn hub_weight_g_weight_v_style_loads() {
    let (config, tensors) = small_tensors(SMALL_24K);
    assert!(tensors.keys().any(|k| k.ends_with("weight_g")), "the fixture uses the Hub's style");
    assert_golden_codes(&Encodec::from_tensors(config, tensors).unwrap());
}

#[test]
fn parametrizations_style_loads() {
    let (config, tensors) = small_tensors(SMALL_24K);
    let tensors = rename(tensors, "weight_g", "parametrizations.weight.original0");
    let tensors = rename(tensors, "weight_v", "parametrizations.weight.original1");
    assert_golden_codes(&Encodec::from_tensors(config, tensors).unwrap());
}

#[test]
fn plain_weight_style_loads() {
    let (config, mut tensors) = small_tensors(SMALL_24K);
    let prefixes: Vec<String> =
        tensors.keys().filter_map(|k| k.strip_suffix(".weight_g")).map(str::to_string).collect();
    assert!(!prefixes.is_empty());
    for prefix in prefixes {
        // Fold independently of the loader: w = g * v / ||v||, in f64.
        let g = tensors.remove(&format!("{prefix}.weight_g")).unwrap().to_dtype(DType::F64).unwrap();
        let v = tensors.remove(&format!("{prefix}.weight_v")).unwrap().to_dtype(DType::F64).unwrap();
        let norm = v.sqr().unwrap().sum_keepdim((1, 2)).unwrap().sqrt().unwrap();
        let w = v.broadcast_mul(&g.broadcast_div(&norm).unwrap()).unwrap();
        tensors.insert(format!("{prefix}.weight"), w.to_dtype(DType::F32).unwrap());
    }
    assert_golden_codes(&Encodec::from_tensors(config, tensors).unwrap());
}

#[test]
fn half_precision_weights_load_as_f32() {
    let (config, tensors) = small_tensors(SMALL_24K);
    let halved: HashMap<_, _> =
        tensors.into_iter().map(|(k, v)| (k, v.to_dtype(DType::F16).unwrap())).collect();
    let model = Encodec::from_tensors(config, halved).unwrap();
    let codes = model.encode(&[vec![0.1f32; 4000]], Bandwidth::Kbps6).unwrap();
    assert_eq!(model.decode(&codes).unwrap()[0].len(), 4000);
}

#[test]
fn missing_tensor_is_named() {
    let (config, mut tensors) = small_tensors(SMALL_24K);
    tensors.remove("encoder.layers.13.lstm.weight_hh_l1").unwrap();
    match Encodec::from_tensors(config, tensors) {
        Err(Error::MissingTensor { name }) => assert_eq!(name, "encoder.layers.13.lstm.weight_hh_l1"),
        other => panic!("expected MissingTensor, got {other:?}"),
    }
}

#[test]
fn missing_conv_weight_names_every_accepted_style() {
    let (config, mut tensors) = small_tensors(SMALL_24K);
    tensors.remove("decoder.layers.15.conv.weight_g").unwrap();
    tensors.remove("decoder.layers.15.conv.weight_v").unwrap();
    let err = Encodec::from_tensors(config, tensors).unwrap_err();
    let message = err.to_string();
    assert!(message.contains("decoder.layers.15.conv.weight"), "{message}");
    assert!(message.contains("parametrizations"), "{message}");
}

#[test]
fn misshapen_tensor_reports_both_shapes() {
    let (config, mut tensors) = small_tensors(SMALL_24K);
    let name = "quantizer.layers.3.codebook.embed";
    let bad = Tensor::zeros((1024, 5), DType::F32, &candle_core::Device::Cpu).unwrap();
    tensors.insert(name.to_string(), bad);
    match Encodec::from_tensors(config, tensors) {
        Err(Error::TensorShape { name: n, expected, actual }) => {
            assert_eq!(n, name);
            assert_eq!(expected, vec![1024, 8]);
            assert_eq!(actual, vec![1024, 5]);
        }
        other => panic!("expected TensorShape, got {other:?}"),
    }
}

#[test]
fn config_presets_match_the_published_models() {
    let c24 = EncodecConfig::encodec_24khz();
    let c48 = EncodecConfig::encodec_48khz();
    assert_eq!((c24.frame_rate(), c24.num_quantizers(), c24.bits_per_codebook()), (75, 32, 10));
    assert_eq!((c48.frame_rate(), c48.num_quantizers()), (150, 16));
    assert_eq!((c48.segment_length(), c48.segment_stride()), (Some(48_000), Some(47_520)));
    let counts24: Vec<usize> = Bandwidth::ALL.iter().map(|b| b.num_codebooks(&c24).unwrap()).collect();
    assert_eq!(counts24, [2, 4, 8, 16, 32]);
    let counts48: Vec<usize> = Bandwidth::ALL[1..].iter().map(|b| b.num_codebooks(&c48).unwrap()).collect();
    assert_eq!(counts48, [2, 4, 8, 16]);
    assert!(matches!(Bandwidth::Kbps1_5.num_codebooks(&c48), Err(Error::UnsupportedBandwidth { .. })));
    // The committed test models keep the real models' knobs apart from their widths.
    let small = EncodecConfig::from_file(&common::root().join(SMALL_24K).join("config.json")).unwrap();
    assert_eq!(
        EncodecConfig { num_filters: 32, hidden_size: 128, codebook_dim: Some(128), ..small },
        EncodecConfig { codebook_dim: Some(128), ..c24 }
    );
}

#[test]
fn bad_config_is_a_config_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.json");
    for (text, needle) in [
        ("{not json", "config"),
        (r#"{"audio_channels": 3}"#, "audio_channels"),
        (r#"{"codebook_size": 1000}"#, "codebook_size"),
        (r#"{"norm_type": "batch_norm"}"#, "norm_type: unknown variant `batch_norm`"),
        (r#"{"upsampling_ratios": []}"#, "upsampling_ratios"),
        (r#"{"target_bandwidths": "fast"}"#, "target_bandwidths"),
        (r#"{"use_causal_conv": false, "trim_right_ratio": 0.5}"#, "trim_right_ratio"),
        (r#"{"chunk_length_s": 1.0, "overlap": 1.5}"#, "overlap"),
    ] {
        std::fs::write(&path, text).unwrap();
        match EncodecConfig::from_file(&path) {
            Err(Error::Config(message)) => assert!(message.contains(needle), "{text}: {message}"),
            other => panic!("{text}: expected a config error, got {other:?}"),
        }
    }
}

#[test]
fn missing_or_corrupt_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    match Encodec::from_dir(dir.path()) {
        Err(Error::Io { path, .. }) => assert!(path.ends_with("config.json")),
        other => panic!("expected an Io error, got {other:?}"),
    }
    std::fs::copy(common::root().join(SMALL_24K).join("config.json"), dir.path().join("config.json"))
        .unwrap();
    assert!(matches!(Encodec::from_dir(dir.path()), Err(Error::WeightsFile { .. })));
    let weights = std::fs::read(common::root().join(SMALL_24K).join("model.safetensors")).unwrap();
    for cut in [0, 7, 100, weights.len() / 2, weights.len() - 1] {
        std::fs::write(dir.path().join("model.safetensors"), &weights[..cut]).unwrap();
        match Encodec::from_dir(dir.path()) {
            Err(Error::WeightsFile { .. }) => {}
            other => panic!("truncated at {cut}: expected WeightsFile, got {other:?}"),
        }
    }
    let mut absurd = weights.clone();
    absurd[..8].copy_from_slice(&u64::MAX.to_le_bytes()); // a header "length" of 16 EiB
    std::fs::write(dir.path().join("model.safetensors"), &absurd).unwrap();
    assert!(matches!(Encodec::from_dir(dir.path()), Err(Error::WeightsFile { .. })));
}
