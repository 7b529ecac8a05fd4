//! Meta's `.th` checkpoints to the Hugging Face layout, without Python: the same tensors and
//! config as `conversion/convert_checkpoint.py` writes.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Tensor};
use sha2::{Digest, Sha256};

use crate::encodec::config::EncodecConfig;
use crate::encodec::model::Encodec;
use crate::{Error, Result};

/// The precision to store converted weights in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum WeightDtype {
    /// 32-bit floats, as trained.
    #[default]
    F32,
    /// 16-bit floats: half the file; loaded back as f32.
    F16,
}

/// What a checkpoint held.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckpointKind {
    /// An EnCodec model (24 or 48 kHz).
    Model,
    /// EnCodec's entropy-coding language model (`encodec_lm_*.th`); keys are kept as they are.
    LanguageModel,
}

fn bad(msg: impl Into<String>) -> Error {
    Error::Checkpoint(msg.into())
}

/// Converts the checkpoint at `input` into `out_dir` (`config.json` + `model.safetensors`,
/// each written atomically). A model is loaded back before anything is written, so a checkpoint
/// with missing or misshapen tensors fails with the tensor's name.
pub fn convert_checkpoint(input: &Path, out_dir: &Path, dtype: WeightDtype) -> Result<CheckpointKind> {
    check_checksum(input)?;
    let tensors = read_checkpoint(input)?;
    let (kind, config, tensors) = if is_language_model(&tensors) {
        (CheckpointKind::LanguageModel, language_model_config(&tensors)?, tensors)
    } else {
        let (config, tensors) = model_tensors(tensors)?;
        Encodec::from_tensors(config.clone(), tensors.clone())?;
        let mut json = serde_json::to_value(&config).map_err(|e| bad(e.to_string()))?;
        json["architectures"] = serde_json::json!(["EncodecModel"]);
        json["model_type"] = "encodec".into();
        json["torch_dtype"] = if dtype == WeightDtype::F16 { "float16" } else { "float32" }.into();
        (CheckpointKind::Model, json, tensors)
    };
    let target = if dtype == WeightDtype::F16 { DType::F16 } else { DType::F32 };
    let tensors = tensors
        .into_iter()
        .map(|(k, v)| Ok((k, if v.dtype().is_float() { v.to_dtype(target)? } else { v })))
        .collect::<Result<HashMap<_, _>>>()?;
    std::fs::create_dir_all(out_dir).map_err(|source| Error::Io { path: out_dir.to_owned(), source })?;
    let config_text = serde_json::to_string_pretty(&config).map_err(|e| bad(e.to_string()))? + "\n";
    crate::atomic::write_bytes(&out_dir.join("config.json"), config_text.as_bytes())?;
    let bytes = safetensors::serialize(&tensors, None).map_err(|e| bad(e.to_string()))?;
    crate::atomic::write_bytes(&out_dir.join("model.safetensors"), &bytes)?;
    Ok(kind)
}

/// Meta names files `name-<first hex digits of the SHA-256>.th`; such a prefix must match.
pub fn check_checksum(path: &Path) -> Result<()> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    let Some(stem) = name.strip_suffix(".th") else { return Ok(()) };
    let Some((_, prefix)) = stem.rsplit_once('-') else { return Ok(()) };
    if prefix.len() < 8 || !prefix.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()) {
        return Ok(());
    }
    let mut file = std::fs::File::open(path).map_err(|source| Error::Io { path: path.to_owned(), source })?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).map_err(|source| Error::Io { path: path.to_owned(), source })?;
    let digest: String = hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
    if !digest.starts_with(prefix) {
        return Err(bad(format!(
            "{name}: checksum mismatch, the name says {prefix} but the file's SHA-256 starts {}",
            &digest[..prefix.len()]
        )));
    }
    Ok(())
}

fn read_checkpoint(path: &Path) -> Result<HashMap<String, Tensor>> {
    let tensors = candle_core::pickle::read_all(path)
        .map_err(|e| bad(format!("{}: not a PyTorch checkpoint ({e})", path.display())))?;
    if tensors.is_empty() {
        return Err(bad(format!("{}: no tensors in the checkpoint", path.display())));
    }
    Ok(tensors.into_iter().collect())
}

fn is_language_model(tensors: &HashMap<String, Tensor>) -> bool {
    tensors.contains_key("emb.0.weight") && tensors.keys().any(|k| k.starts_with("transformer."))
}

fn language_model_config(tensors: &HashMap<String, Tensor>) -> Result<serde_json::Value> {
    let n_q = (0..).take_while(|k| tensors.contains_key(&format!("emb.{k}.weight"))).count();
    let layers: std::collections::BTreeSet<&str> =
        tensors.keys().filter_map(|k| k.strip_prefix("transformer.layers.")?.split('.').next()).collect();
    let (card, dim) = tensors["emb.0.weight"].dims2()?;
    Ok(serde_json::json!({
        "model_type": "encodec_lm", "n_q": n_q, "card": card - 1, "dim": dim, "num_layers": layers.len()
    }))
}

/// The transformers name of a Meta state-dict key (the same rules as conversion/hub_layout.py).
pub fn meta_to_hub_key(key: &str) -> String {
    let mut k = key.to_string();
    for stack in ["encoder", "decoder"] {
        if let Some(rest) = k.strip_prefix(&format!("{stack}.model.")) {
            k = format!("{stack}.layers.{rest}");
        }
    }
    k = k.replace(".conv.conv.", ".conv.").replace(".convtr.convtr.", ".conv.");
    k = k.replace(".conv.norm.", ".norm.").replace(".convtr.norm.", ".norm.");
    if let Some(rest) = k.strip_prefix("quantizer.vq.layers.") {
        if let Some((index, tail)) = rest.split_once("._codebook.") {
            k = format!("quantizer.layers.{index}.codebook.{tail}");
        }
    }
    k
}

/// The config a Meta model state dict implies, and its tensors under Hub names.
fn model_tensors(tensors: HashMap<String, Tensor>) -> Result<(EncodecConfig, HashMap<String, Tensor>)> {
    let first =
        ["weight_v", "weight"].iter().find_map(|w| tensors.get(&format!("encoder.model.0.conv.conv.{w}")));
    let embed = tensors.get("quantizer.vq.layers.0._codebook.embed");
    let (Some(first), Some(embed)) = (first, embed) else {
        return Err(bad("not an EnCodec checkpoint: no encoder.model.0.conv or quantizer codebook"));
    };
    let (n_filters, channels, _) = first.dims3()?;
    let (bins, dimension) = embed.dims2()?;
    let base = match tensors.keys().any(|k| k.contains(".norm.")) {
        true => EncodecConfig::encodec_48khz(),
        false => EncodecConfig::encodec_24khz(),
    };
    if channels != base.audio_channels {
        return Err(bad(format!(
            "the first convolution takes {channels} channels; expected {}",
            base.audio_channels
        )));
    }
    let config = EncodecConfig {
        num_filters: n_filters,
        hidden_size: dimension,
        codebook_dim: Some(dimension),
        codebook_size: bins,
        ..base
    };
    config.validate()?;
    let mapped: HashMap<String, Tensor> =
        tensors.into_iter().map(|(k, v)| (meta_to_hub_key(&k), v)).collect();
    if let Some(stray) = mapped.keys().find(|k| {
        !["encoder.layers.", "decoder.layers.", "quantizer.layers."].iter().any(|p| k.starts_with(p))
    }) {
        return Err(bad(format!("not an EnCodec checkpoint: unexpected tensor `{stray}`")));
    }
    Ok((config, mapped))
}
