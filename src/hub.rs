//! Where model weights come from: a local folder, the Hugging Face cache, or a download from
//! the Hub (through `hf-hub`), in that order.

use std::path::{Path, PathBuf};

use hf_hub::api::sync::ApiBuilder;
use hf_hub::{Cache, Repo, RepoType};

pub use crate::encodec::{ModelFiles, DEFAULT_REPO};
use crate::encodec::{PublishedModel, MODEL_FILES};
use crate::{Error, Result};

/// How to reach the Hub: the environment's settings by default (`HF_HOME`, `HF_ENDPOINT`,
/// `HF_HUB_OFFLINE`), or explicit ones.
#[derive(Clone, Debug)]
pub struct HubOptions {
    /// The cache folder (`$HF_HOME/hub`, by default `~/.cache/huggingface/hub`).
    pub cache_dir: PathBuf,
    /// The Hub's base URL (`$HF_ENDPOINT`, by default `https://huggingface.co`).
    pub endpoint: String,
    /// Never download: use the cache only (`HF_HUB_OFFLINE=1`).
    pub offline: bool,
    /// Show a progress bar while downloading.
    pub progress: bool,
}

impl HubOptions {
    /// Options from the environment, as `huggingface_hub` reads it.
    pub fn from_env() -> Self {
        let offline = std::env::var("HF_HUB_OFFLINE")
            .is_ok_and(|v| matches!(v.as_str(), "1" | "true" | "TRUE" | "yes"));
        Self {
            cache_dir: Cache::from_env().path().clone(),
            endpoint: std::env::var("HF_ENDPOINT").unwrap_or_else(|_| "https://huggingface.co".into()),
            offline,
            progress: true,
        }
    }
}

/// Resolves `spec` to model files: an existing folder is used as it is; anything else is a
/// Hub repository id (`facebook/encodec_24khz`, or an `.ecdc` model name such as
/// `encodec_48khz`), looked up in the cache first and downloaded if missing.
pub fn resolve(spec: &str, options: &HubOptions) -> Result<ModelFiles> {
    let dir = Path::new(spec);
    if dir.is_dir() {
        return Ok(ModelFiles::in_dir(dir));
    }
    let repo_id = PublishedModel::find(spec).map_or(spec, |m| m.repo);
    if !repo_id.contains('/') {
        return Err(Error::Hub {
            spec: spec.into(),
            reason: format!("{spec:?} is neither a folder nor a Hub repository id like {DEFAULT_REPO}"),
        });
    }
    let repo = Repo::new(repo_id.to_string(), RepoType::Model);
    let cached = Cache::new(options.cache_dir.clone()).repo(repo.clone());
    if let (Some(config), Some(weights)) = (cached.get(MODEL_FILES[0]), cached.get(MODEL_FILES[1])) {
        return Ok(ModelFiles { config, weights });
    }
    let unavailable = |reason: String| Error::Hub {
        spec: spec.into(),
        reason: format!(
            "cannot get {repo_id} ({reason}), and it is not in the cache at {}. Download it once with \
             `huggingface-cli download {repo_id} config.json model.safetensors`, or pass `--model DIR` \
             with a folder holding config.json and model.safetensors",
            options.cache_dir.display()
        ),
    };
    if options.offline {
        return Err(unavailable("HF_HUB_OFFLINE is set".into()));
    }
    let api = ApiBuilder::new()
        .with_cache_dir(options.cache_dir.clone())
        .with_endpoint(options.endpoint.clone())
        .with_progress(options.progress)
        .with_retries(1)
        .build()
        .map_err(|e| unavailable(e.to_string()))?;
    let remote = api.repo(repo);
    let get = |file: &str| {
        remote.get(file).map_err(|e| unavailable(format!("{} from {}: {e}", file, options.endpoint)))
    };
    Ok(ModelFiles { config: get(MODEL_FILES[0])?, weights: get(MODEL_FILES[1])? })
}
