//! Checkpoint conversion: the Rust converter writes what conversion/convert_checkpoint.py
//! writes, tensor for tensor; converted weights give the reference's codes; broken
//! checkpoints are clear errors.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use common::{audio_error, root};
use encodec::convert::{convert_checkpoint, CheckpointKind, WeightDtype};
use encodec::{CodeSegment, Encodec, EncodecConfig, Error};

fn fixtures() -> PathBuf {
    root().join("tests/fixtures/convert")
}

fn manifest_names() -> (String, String) {
    let text = std::fs::read_to_string(root().join("tests/fixtures/manifest.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let name = |k: &str| json["convert"][k].as_str().unwrap().to_string();
    (name("checkpoint"), name("lm_checkpoint"))
}

fn load(dir: &Path) -> HashMap<String, Tensor> {
    candle_core::safetensors::load(dir.join("model.safetensors"), &Device::Cpu).unwrap()
}

#[test]
fn rust_and_python_converters_agree_tensor_for_tensor() {
    let (model, lm) = manifest_names();
    for (input, python, dtype, kind) in [
        (&model, "python-f32", WeightDtype::F32, CheckpointKind::Model),
        (&model, "python-f16", WeightDtype::F16, CheckpointKind::Model),
        (&lm, "python-lm", WeightDtype::F32, CheckpointKind::LanguageModel),
    ] {
        let out = tempfile::tempdir().unwrap();
        assert_eq!(convert_checkpoint(&fixtures().join(input), out.path(), dtype).unwrap(), kind);
        let (ours, theirs) = (load(out.path()), load(&fixtures().join(python)));
        let mut names: Vec<_> = ours.keys().collect();
        names.sort();
        let mut expected: Vec<_> = theirs.keys().collect();
        expected.sort();
        assert_eq!(names, expected, "{python}: key sets");
        for (name, a) in &ours {
            let b = &theirs[name];
            assert_eq!((a.dtype(), a.dims()), (b.dtype(), b.dims()), "{python}: {name}");
            let (a, b) = (a.to_dtype(DType::F32).unwrap(), b.to_dtype(DType::F32).unwrap());
            let diff = (a - b)
                .unwrap()
                .abs()
                .unwrap()
                .flatten_all()
                .unwrap()
                .max(0)
                .unwrap()
                .to_scalar::<f32>()
                .unwrap();
            assert_eq!(diff, 0.0, "{python}: {name} differs");
        }
        let read = |dir: &Path| -> serde_json::Value {
            serde_json::from_str(&std::fs::read_to_string(dir.join("config.json")).unwrap()).unwrap()
        };
        if kind == CheckpointKind::Model {
            let parse = |dir: &Path| EncodecConfig::from_file(&dir.join("config.json")).unwrap();
            assert_eq!(parse(out.path()), parse(&fixtures().join(python)), "{python}: config");
            assert_eq!(read(out.path())["torch_dtype"], read(&fixtures().join(python))["torch_dtype"]);
        } else {
            assert_eq!(read(out.path()), read(&fixtures().join(python)), "{python}: config");
        }
    }
}

#[test]
fn converted_weights_give_the_golden_codes_and_f16_halves_the_file() {
    let (model, _) = manifest_names();
    let golden = candle_core::safetensors::load(fixtures().join("golden.safetensors"), &Device::Cpu).unwrap();
    let input: Vec<Vec<f32>> = golden["input"].to_vec2().unwrap();
    let (f32_dir, f16_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    convert_checkpoint(&fixtures().join(&model), f32_dir.path(), WeightDtype::F32).unwrap();
    convert_checkpoint(&fixtures().join(&model), f16_dir.path(), WeightDtype::F16).unwrap();
    let full = Encodec::from_dir(f32_dir.path()).unwrap();
    let half = Encodec::from_dir(f16_dir.path()).unwrap();
    let (mut same, mut total, mut worst_snr) = (0usize, 0usize, f64::INFINITY);
    for bandwidth in full.bandwidths() {
        let expected: Vec<Vec<i64>> = golden[&format!("codes.{:.1}.0", bandwidth.kbps())].to_vec2().unwrap();
        let codes = full.encode(&input, bandwidth).unwrap();
        let as_u32: Vec<Vec<u32>> = expected.iter().map(|r| r.iter().map(|&c| c as u32).collect()).collect();
        assert_eq!(
            codes.segments,
            vec![CodeSegment { codes: as_u32, scale: None }],
            "{} kbps",
            bandwidth.kbps()
        );
        let half_codes = half.encode(&input, bandwidth).unwrap();
        for (a, b) in
            half_codes.segments[0].codes.iter().flatten().zip(codes.segments[0].codes.iter().flatten())
        {
            same += (a == b) as usize;
            total += 1;
        }
        let (_, snr) = audio_error(&half.decode(&codes).unwrap(), &full.decode(&codes).unwrap());
        worst_snr = worst_snr.min(snr);
    }
    let size = |d: &Path| std::fs::metadata(d.join("model.safetensors")).unwrap().len();
    let (f32_size, f16_size) = (size(f32_dir.path()), size(f16_dir.path()));
    let agreement = same as f64 / total as f64;
    println!(
        "tiny model: f32 {f32_size} bytes, f16 {f16_size} bytes ({:.1} %); f16 codes equal to f32: {:.2} % of {total}; \
         f16 decode of the same codes vs f32: {worst_snr:.1} dB SNR (worst bandwidth)",
        100.0 * f16_size as f64 / f32_size as f64,
        100.0 * agreement
    );
    assert!((f16_size as f64) < 0.55 * f32_size as f64);
    assert!(agreement > 0.5 && worst_snr > 20.0, "f16 weights are far from f32: {agreement}, {worst_snr} dB");
}

#[test]
fn checksum_mismatch_is_an_error_and_writes_nothing() {
    let (model, _) = manifest_names();
    let dir = tempfile::tempdir().unwrap();
    let renamed = dir.path().join("encodec_tiny-deadbeef.th");
    std::fs::copy(fixtures().join(&model), &renamed).unwrap();
    let out = dir.path().join("out");
    match convert_checkpoint(&renamed, &out, WeightDtype::F32) {
        Err(Error::Checkpoint(message)) => assert!(message.contains("checksum mismatch"), "{message}"),
        other => panic!("expected a checksum error, got {other:?}"),
    }
    assert!(!out.exists());
}

#[test]
fn broken_checkpoints_are_clear_errors() {
    let out = tempfile::tempdir().unwrap();
    for (file, needle) in
        [("not_a_zip.th", "not a PyTorch checkpoint"), ("not_encodec.th", "not an EnCodec checkpoint")]
    {
        match convert_checkpoint(&fixtures().join(file), out.path(), WeightDtype::F32) {
            Err(Error::Checkpoint(message)) => assert!(message.contains(needle), "{file}: {message}"),
            other => panic!("{file}: expected a checkpoint error, got {other:?}"),
        }
    }
    match convert_checkpoint(&fixtures().join("wrong_shape.th"), out.path(), WeightDtype::F32) {
        Err(Error::TensorShape { name, actual, .. }) => {
            assert_eq!((name.as_str(), actual), ("decoder.layers.0.conv.bias", vec![5]));
        }
        other => panic!("wrong_shape.th: expected a shape error, got {other:?}"),
    }
    assert!(convert_checkpoint(&fixtures().join("missing.th"), out.path(), WeightDtype::F32).is_err());
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 0, "nothing written");
}
