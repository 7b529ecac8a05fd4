//! Why bytes are not a readable `.ecdc` file.

use std::io;

/// Real metadata is ~60 bytes; anything past this is not an `.ecdc` file.
pub(super) const MAX_METADATA_LEN: u32 = 64 * 1024;

/// Why bytes are not a readable `.ecdc` file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EcdcError {
    /// The file does not start with `ECDC`.
    #[error("not an .ecdc file (no ECDC magic)")]
    NotEcdc,
    /// A container version other than 0.
    #[error("unsupported .ecdc version {0} (only version 0 exists)")]
    UnsupportedVersion(u8),
    /// The metadata length field is absurd.
    #[error("metadata length {0} bytes is over the {MAX_METADATA_LEN}-byte limit: corrupt file")]
    MetadataTooLarge(u32),
    /// The metadata is not the expected JSON object.
    #[error("bad metadata: {0}")]
    Metadata(String),
    /// The model name is not one of the published models.
    #[error("unknown model {0:?} (known: encodec_24khz, encodec_48khz)")]
    UnknownModel(String),
    /// The file is entropy-coded with the reference's language model.
    #[error(
        "this file is entropy-coded with EnCodec's language model (\"lm\": true), which is not supported yet"
    )]
    LanguageModel,
    /// The metadata does not fit the model that is to decode it.
    #[error("{0}")]
    ModelMismatch(String),
    /// The payload ends early.
    #[error("truncated: the payload ends inside segment {segment}")]
    Truncated {
        /// The segment being read.
        segment: usize,
    },
    /// A seek or range that the file cannot serve.
    #[error("cannot seek: {0}")]
    Seek(String),
    /// Bytes follow the last segment.
    #[error("trailing bytes after the last segment")]
    TrailingBytes,
    /// A segment's scale is not a positive finite number.
    #[error("segment {segment} has an invalid scale {value}")]
    BadScale {
        /// The segment.
        segment: usize,
        /// The scale read.
        value: f32,
    },
    /// Reading or writing the stream failed.
    #[error("{0}")]
    Io(#[from] io::Error),
}

pub(super) type EcdcResult<T> = std::result::Result<T, EcdcError>;
