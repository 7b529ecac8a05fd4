//! Where the EnCodec codec gets its model: loaded once, on first use, and a failure
//! remembered, so that a cache migration without weights asks only once.

use std::sync::{Arc, OnceLock};

use crate::encodec::config::{PublishedModel, PUBLISHED};
use crate::encodec::ecdc::{self, Header};
use crate::encodec::model::Encodec;
#[cfg(feature = "hub")]
use crate::hub::{self, HubOptions};
use crate::{Error, Result};

/// The neural models a codec may need: one to encode with, and the one each `.ecdc` file
/// names to decode it.
pub struct Models {
    source: Source,
    /// The model `spec` names (or the one given); then one slot per published model.
    slots: [Slot; 1 + PUBLISHED.len()],
}

type Slot = OnceLock<std::result::Result<Arc<Encodec>, Arc<Error>>>;

enum Source {
    /// A folder or Hub repository id (`None`: the default repository to encode, the file's
    /// model to decode), resolved with these options.
    #[cfg(feature = "hub")]
    Spec(Option<String>, HubOptions),
    /// A folder holding `config.json` and `model.safetensors`.
    Dir(std::path::PathBuf),
    /// A model already in memory.
    Loaded,
    /// No neural model: Ultra always falls back.
    Nothing,
}

impl Models {
    /// Models from the Hub (or its cache): `facebook/encodec_24khz` to encode, and whichever
    /// model an `.ecdc` file names to decode. Options from the environment, no progress bar.
    #[cfg(feature = "hub")]
    pub fn hub() -> Self {
        Self::spec(None, HubOptions { progress: false, ..HubOptions::from_env() })
    }

    /// The model `spec` names (a folder with config.json and model.safetensors, or a Hub id);
    /// `None` as in [`Models::hub`].
    #[cfg(feature = "hub")]
    pub fn spec(spec: Option<String>, options: HubOptions) -> Self {
        Self::with(Source::Spec(spec, options))
    }

    /// The model in a folder holding `config.json` and `model.safetensors`, for everything.
    pub fn dir(dir: impl Into<std::path::PathBuf>) -> Self {
        Self::with(Source::Dir(dir.into()))
    }

    /// A model already loaded, used for everything.
    pub fn loaded(model: Encodec) -> Self {
        let models = Self::with(Source::Loaded);
        let _ = models.slots[0].set(Ok(Arc::new(model)));
        models
    }

    /// No neural model: the Ultra level falls back to Standard, and `.ecdc` files cannot be
    /// decoded.
    pub fn none() -> Self {
        Self::with(Source::Nothing)
    }

    fn with(source: Source) -> Self {
        Self { source, slots: Default::default() }
    }

    /// The model to encode with.
    pub fn for_encoding(&self) -> Result<&Encodec> {
        self.get(None)
    }

    /// The model to decode an `.ecdc` file with `header`.
    pub fn for_file(&self, header: &Header) -> Result<&Encodec> {
        let model = self.get(Some(header.published()?))?;
        let name = ecdc::model_name(model.config())?;
        if name != header.model {
            return Err(Error::WrongModel { needed: header.model.clone(), given: name.into() });
        }
        Ok(model)
    }

    /// The sample rate of the model to encode with, without loading it when the published
    /// default is meant.
    pub fn encoding_rate(&self) -> Option<u32> {
        match &self.source {
            #[cfg(feature = "hub")]
            Source::Spec(None, _) => Some(PUBLISHED[0].sample_rate),
            Source::Nothing => None,
            _ => self.for_encoding().ok().map(Encodec::sample_rate),
        }
    }

    fn get(&self, for_file: Option<&'static PublishedModel>) -> Result<&Encodec> {
        let slot = match (&self.source, for_file) {
            #[cfg(feature = "hub")]
            (Source::Spec(None, _), Some(published)) => {
                1 + PUBLISHED.iter().position(|m| m == published).expect("a published model")
            }
            #[cfg(feature = "hub")]
            (Source::Spec(None, _), None) => 1,
            _ => 0,
        };
        let spec = match (&self.source, slot) {
            (Source::Nothing, _) => return Err(Error::NoModel),
            #[cfg(feature = "hub")]
            (Source::Spec(Some(spec), _), _) => spec.clone(),
            (Source::Dir(dir), _) => dir.display().to_string(),
            (_, 0) => "the model given".into(),
            (_, slot) => PUBLISHED[slot - 1].repo.into(),
        };
        // OnceLock makes parallel callers wait for one load instead of starting their own.
        let loaded = self.slots[slot].get_or_init(|| self.load(&spec).map(Arc::new).map_err(Arc::new));
        match loaded {
            Ok(model) => Ok(model),
            Err(source) => Err(Error::ModelUnavailable { model: spec, source: source.clone() }),
        }
    }

    #[cfg_attr(not(feature = "hub"), allow(unused_variables))] // `spec` names a Hub repository
    fn load(&self, spec: &str) -> Result<Encodec> {
        match &self.source {
            #[cfg(feature = "hub")]
            Source::Spec(_, options) => Encodec::from_files(&hub::resolve(spec, options)?),
            Source::Dir(dir) => Encodec::from_dir(dir),
            // A loaded model is set at construction; Nothing returned above.
            Source::Loaded | Source::Nothing => Err(Error::NoModel),
        }
    }
}
