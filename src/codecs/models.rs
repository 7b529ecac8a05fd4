//! Where the Ultra level and `.ecdc` decoding get the neural model: loaded once, on first use,
//! and a failure remembered, so that a cache migration without weights asks only once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::ecdc::{self, Header};
use crate::hub::{self, HubOptions};
use crate::{Encodec, Error, Result};

/// The neural model source of a [`super::Compressor`] and of [`super::decompress`].
pub struct Models {
    source: Source,
    loaded: Mutex<HashMap<String, std::result::Result<Arc<Encodec>, String>>>,
}

enum Source {
    /// A folder or Hub repository id (`None`: the default repository to encode, the file's
    /// model to decode), resolved with these options.
    Spec(Option<String>, HubOptions),
    /// A model already in memory.
    Loaded(Arc<Encodec>),
    /// No neural model: Ultra always falls back.
    Nothing,
}

impl Models {
    /// Models from the Hub (or its cache): `facebook/encodec_24khz` to encode, and whichever
    /// model an `.ecdc` file names to decode. Options from the environment, no progress bar.
    pub fn hub() -> Self {
        Self::spec(None, HubOptions { progress: false, ..HubOptions::from_env() })
    }

    /// The model `spec` names (a folder with config.json and model.safetensors, or a Hub id);
    /// `None` as in [`Models::hub`].
    pub fn spec(spec: Option<String>, options: HubOptions) -> Self {
        Self::with(Source::Spec(spec, options))
    }

    /// A model already loaded, used for everything.
    pub fn loaded(model: Encodec) -> Self {
        Self::with(Source::Loaded(Arc::new(model)))
    }

    /// No neural model: the Ultra level falls back to Standard, and `.ecdc` files cannot be
    /// decoded.
    pub fn none() -> Self {
        Self::with(Source::Nothing)
    }

    fn with(source: Source) -> Self {
        Self { source, loaded: Mutex::new(HashMap::new()) }
    }

    /// The model to encode with.
    pub fn for_encoding(&self) -> Result<Arc<Encodec>> {
        self.get(None)
    }

    /// The model to decode an `.ecdc` file with `header`.
    pub fn for_file(&self, header: &Header) -> Result<Arc<Encodec>> {
        let model = self.get(Some(header.hub_repo()?))?;
        let name = ecdc::model_name(model.config())?;
        if name != header.model {
            return Err(Error::ModelUnavailable(format!(
                "the file needs {}, the model given is {name}",
                header.model
            )));
        }
        Ok(model)
    }

    fn get(&self, repo_for_file: Option<&str>) -> Result<Arc<Encodec>> {
        let (spec, options) = match &self.source {
            Source::Loaded(model) => return Ok(model.clone()),
            Source::Nothing => return Err(Error::ModelUnavailable("no neural model configured".into())),
            Source::Spec(spec, options) => {
                (spec.as_deref().or(repo_for_file).unwrap_or(hub::DEFAULT_REPO), options)
            }
        };
        // Held while loading: parallel callers wait for one load instead of starting their own.
        let mut loaded = self.loaded.lock().unwrap_or_else(|e| e.into_inner());
        let entry = loaded.entry(spec.to_string()).or_insert_with(|| {
            hub::resolve(spec, options)
                .and_then(|files| Encodec::from_files(&files))
                .map(Arc::new)
                .map_err(|e| e.to_string())
        });
        entry.clone().map_err(Error::ModelUnavailable)
    }
}
