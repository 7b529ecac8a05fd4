//! The `.ecdc` header: magic, version, and the JSON metadata; the model names files carry.

use std::io::{self, Read, Write};

use serde::Deserialize;

use super::error::{EcdcError, EcdcResult, MAX_METADATA_LEN};
use crate::encodec::config::{EncodecConfig, PublishedModel};
use crate::Result;

/// The first four bytes of every `.ecdc` file.
pub const MAGIC: &[u8; 4] = b"ECDC";

/// The metadata at the start of an `.ecdc` file.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Header {
    /// Model name: `encodec_24khz` or `encodec_48khz`.
    #[serde(rename = "m")]
    pub model: String,
    /// Samples per channel of the encoded audio.
    #[serde(rename = "al")]
    pub audio_len: usize,
    /// Codebooks per frame.
    #[serde(rename = "nc")]
    pub num_codebooks: usize,
    /// Whether the payload is entropy-coded with the language model.
    #[serde(rename = "lm")]
    pub use_lm: bool,
}

impl Header {
    /// Reads and checks the magic, version and metadata, reading nothing past them.
    pub fn read(reader: &mut impl Read) -> Result<Self> {
        Ok(Self::read_inner(reader)?)
    }

    fn read_inner(reader: &mut impl Read) -> EcdcResult<Self> {
        let mut fixed = [0u8; 9];
        read_exact_or(reader, &mut fixed, EcdcError::NotEcdc)?;
        if &fixed[..4] != MAGIC {
            return Err(EcdcError::NotEcdc);
        }
        if fixed[4] != 0 {
            return Err(EcdcError::UnsupportedVersion(fixed[4]));
        }
        let len = u32::from_be_bytes([fixed[5], fixed[6], fixed[7], fixed[8]]);
        if len > MAX_METADATA_LEN {
            return Err(EcdcError::MetadataTooLarge(len));
        }
        let mut json = vec![0u8; len as usize];
        read_exact_or(reader, &mut json, EcdcError::Metadata("the file ends inside the metadata".into()))?;
        let header: Header =
            serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_slice(&json))
                .map_err(|e| EcdcError::Metadata(format!("{}: {}", e.path(), e.inner())))?;
        if header.use_lm {
            return Err(EcdcError::LanguageModel);
        }
        header.hub_repo()?;
        Ok(header)
    }

    /// Writes the header exactly as the reference's `json.dumps` does.
    pub(crate) fn write(&self, writer: &mut impl Write) -> EcdcResult<()> {
        self.hub_repo()?;
        let json = format!(
            r#"{{"m": "{}", "al": {}, "nc": {}, "lm": {}}}"#,
            self.model, self.audio_len, self.num_codebooks, self.use_lm
        );
        writer.write_all(MAGIC)?;
        writer.write_all(&[0])?;
        writer.write_all(&(json.len() as u32).to_be_bytes())?;
        writer.write_all(json.as_bytes())?;
        Ok(())
    }

    /// The published model the file names.
    pub fn published(&self) -> std::result::Result<&'static PublishedModel, EcdcError> {
        PublishedModel::find(&self.model)
            .filter(|m| m.name == self.model)
            .ok_or_else(|| EcdcError::UnknownModel(self.model.clone()))
    }

    /// The published model's config for the file's model name: enough to read the payload
    /// (layout and codebook size) without any weights.
    pub fn published_config(&self) -> std::result::Result<EncodecConfig, EcdcError> {
        Ok(self.published()?.config())
    }

    /// The Hub repository of the file's model.
    pub fn hub_repo(&self) -> std::result::Result<&'static str, EcdcError> {
        Ok(self.published()?.repo)
    }
}

/// The `.ecdc` name of a model: its sample rate and channels pick a published model. The name
/// is all a file says about its layout, so the model must also have the named models' 320-sample
/// hop and 1024-entry (10-bit) codebooks.
pub fn model_name(config: &EncodecConfig) -> std::result::Result<&'static str, EcdcError> {
    let (rate, channels) = (config.sampling_rate, config.audio_channels);
    let published = PublishedModel::find_by_shape(rate, channels);
    let name = match published {
        Some(model) => model.name,
        None => {
            let msg = format!("no .ecdc model name for a {rate} Hz, {channels}-channel model");
            return Err(EcdcError::ModelMismatch(msg));
        }
    };
    if config.hop_length() != 320 || config.codebook_size != 1024 {
        return Err(EcdcError::ModelMismatch(format!(
            "{name} files hold 10-bit codes at a 320-sample hop; this model has {}-entry codebooks and a {}-sample hop",
            config.codebook_size,
            config.hop_length()
        )));
    }
    Ok(name)
}

pub(super) fn read_exact_or(reader: &mut impl Read, buf: &mut [u8], on_eof: EcdcError) -> EcdcResult<()> {
    reader.read_exact(buf).map_err(|e| match e.kind() {
        io::ErrorKind::UnexpectedEof => on_eof,
        _ => e.into(),
    })
}
