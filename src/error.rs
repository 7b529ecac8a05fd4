//! The crate's one error type.

use std::path::PathBuf;

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// `config.json` is malformed or describes a model this crate cannot run.
    #[error("model config: {0}")]
    Config(String),
    /// The weights file could not be parsed.
    #[error("weights {path}: {reason}")]
    WeightsFile { path: PathBuf, reason: String },
    /// A tensor the model needs is not in the weights.
    #[error("weights: tensor `{name}` is missing")]
    MissingTensor { name: String },
    /// A tensor in the weights does not have the shape the config implies.
    #[error("weights: tensor `{name}` has shape {actual:?}, expected {expected:?}")]
    TensorShape {
        name: String,
        expected: Vec<usize>,
        actual: Vec<usize>,
    },
    /// The model was not trained for the requested bandwidth.
    #[error("bandwidth {requested} kbps is not supported by this model (it supports {supported:?} kbps)")]
    UnsupportedBandwidth { requested: f32, supported: Vec<f32> },
    /// The audio has a channel count the model does not take.
    #[error("audio has {actual} channel(s), the model takes {expected}")]
    ChannelCount { expected: usize, actual: usize },
    /// The channels of the audio have different lengths.
    #[error("audio channels have different lengths ({first} and {other} samples)")]
    RaggedChannels { first: usize, other: usize },
    /// There is no audio to encode.
    #[error("audio is empty")]
    EmptyAudio,
    /// A sample is NaN or infinite.
    #[error("sample {index} of channel {channel} is not finite ({value})")]
    NonFiniteSample {
        channel: usize,
        index: usize,
        value: f32,
    },
    /// The encoder produced NaN or infinity (the input is far outside [-1, 1]).
    #[error("the encoder produced non-finite values; is the input far outside [-1, 1]?")]
    NonFiniteEmbedding,
    /// Codes given to the decoder are inconsistent with the model.
    #[error("invalid codes: {0}")]
    InvalidCodes(String),
    /// A tensor operation failed (a bug, or an unsupported device).
    #[error("tensor operation: {0}")]
    Candle(#[from] candle_core::Error),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
