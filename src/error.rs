//! The library's error type. The `.ecdc` container has its own ([`crate::ecdc::EcdcError`]),
//! carried inside this one; the command line reports these as they are.

use std::path::PathBuf;
use std::sync::Arc;

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// An audio file could not be decoded or written.
    #[error("{path}: {reason}")]
    Audio {
        /// The file (`<input>` or `<output>` for in-memory data).
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// A checkpoint could not be converted.
    #[error("checkpoint: {0}")]
    Checkpoint(String),
    /// Model weights could not be found locally or fetched from the Hub.
    #[error("{reason}")]
    Hub {
        /// The folder or repository asked for.
        spec: String,
        /// What went wrong, and how to get the weights.
        reason: String,
    },
    /// Another process holds what this one needs (a migration of the same folder).
    #[error("{0}")]
    Busy(String),
    /// A file changed while it was being read.
    #[error("{}: changed while it was read", .0.display())]
    Changed(std::path::PathBuf),
    /// A setting names no level, codec or bitrate there is, or does not fit the others.
    #[error("{0}")]
    Setting(String),
    /// `config.json` is malformed or describes a model this crate cannot run.
    #[error("model config: {0}")]
    Config(String),
    /// The weights file could not be parsed.
    #[error("weights {path}: {reason}")]
    WeightsFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A tensor the model needs is not in the weights.
    #[error("weights: tensor `{name}` is missing")]
    MissingTensor {
        /// The full Hub name of the tensor.
        name: String,
    },
    /// A tensor in the weights does not have the shape the config implies.
    #[error("weights: tensor `{name}` has shape {actual:?}, expected {expected:?}")]
    TensorShape {
        /// The full Hub name of the tensor.
        name: String,
        /// The shape the config implies.
        expected: Vec<usize>,
        /// The shape in the file.
        actual: Vec<usize>,
    },
    /// The model was not trained for the requested bandwidth.
    #[error("bandwidth {requested} kbps is not supported by this model (it supports {supported:?} kbps)")]
    UnsupportedBandwidth {
        /// The bandwidth asked for, in kbps.
        requested: f32,
        /// The model's `target_bandwidths`.
        supported: Vec<f32>,
    },
    /// The audio has a channel count the model does not take.
    #[error("audio has {actual} channel(s), the model takes {expected}")]
    ChannelCount {
        /// The model's channel count.
        expected: usize,
        /// The audio's channel count.
        actual: usize,
    },
    /// The channels of the audio have different lengths.
    #[error("audio channels have different lengths ({first} and {other} samples)")]
    RaggedChannels {
        /// Samples in the first channel.
        first: usize,
        /// Samples in a channel that differs.
        other: usize,
    },
    /// There is no audio to encode.
    #[error("audio is empty")]
    EmptyAudio,
    /// A sample is NaN or infinite.
    #[error("sample {index} of channel {channel} is not finite ({value})")]
    NonFiniteSample {
        /// The channel of the first bad sample.
        channel: usize,
        /// Its index in the channel.
        index: usize,
        /// Its value.
        value: f32,
    },
    /// The encoder's output, or its distance to the codebooks, overflowed f32 (the input is
    /// far outside [-1, 1]); the reference would silently emit code 0 here.
    #[error("the encoder's output overflowed; is the input far outside [-1, 1]?")]
    EncoderOverflow,
    /// A kernel path (`ENCODEC_KERNELS`, `Encodec::with_kernels`) that is unknown or that this
    /// CPU cannot run.
    #[error("kernel path `{requested}`: {reason}")]
    Kernels {
        /// The path asked for.
        requested: String,
        /// Why it cannot be used.
        reason: String,
    },
    /// The worker threads could not be started.
    #[error("could not start worker threads: {0}")]
    Threads(String),
    /// Codes given to the decoder are inconsistent with the model.
    #[error("invalid codes: {0}")]
    InvalidCodes(String),
    /// Bytes that are not a readable `.ecdc` file.
    #[error(".ecdc: {0}")]
    Ecdc(#[from] crate::ecdc::EcdcError),
    /// The AAC encoder or decoder failed, or the settings are ones it cannot code.
    #[error("AAC: {0}")]
    Aac(String),
    /// An MP4 (`.m4a`) file could not be written or read.
    #[error("MP4: {0}")]
    Mp4(String),
    /// An Opus stream or its Ogg container could not be written or read.
    #[error("Opus: {0}")]
    Opus(String),
    /// Quality could not be measured.
    #[error("quality: {0}")]
    Quality(String),
    /// gzip data could not be written or inflated.
    #[error("gzip: {0}")]
    Gzip(String),
    /// The neural model could not be loaded.
    #[error("neural model unavailable ({model}): {source}")]
    ModelUnavailable {
        /// The folder or repository.
        model: String,
        /// Why it could not be loaded (shared: a failed load is remembered and reported to
        /// every later caller).
        #[source]
        source: Arc<Error>,
    },
    /// No neural model was configured ([`crate::encodec::Models::none`]).
    #[error("neural model unavailable: no neural model configured")]
    NoModel,
    /// A file needs a model other than the one given.
    #[error("the file needs {needed}, the model given is {given}")]
    WrongModel {
        /// The model the file names.
        needed: String,
        /// The model given.
        given: String,
    },
    /// A bitrate the codec does not code at.
    #[error("{codec} takes {min}-{max} kbps, not {kbps}")]
    Bitrate {
        /// The codec (and profile).
        codec: String,
        /// The bitrate asked for.
        kbps: u32,
        /// The lowest it takes.
        min: u32,
        /// The highest it takes.
        max: u32,
    },
    /// A new file does not play back as long as the one it was to replace.
    #[error("the new file decodes to {actual_s:.4} s, the original is {expected_s:.4} s")]
    DurationMismatch {
        /// Seconds of the original.
        expected_s: f64,
        /// Seconds of the new file.
        actual_s: f64,
    },
    /// A codec's encoder was given PCM where it takes bytes, or the other way round.
    #[error("this encoder takes {expected}")]
    WrongInput {
        /// What it takes: `PCM` or `the original file's bytes`.
        expected: &'static str,
    },
    /// A wrapper (gzip) inside another, more deeply than is read.
    #[error("{outer} inside {outer}: files are unwrapped at most {limit} time(s)")]
    Nested {
        /// The wrapper.
        outer: &'static str,
        /// How many wrappers are looked through.
        limit: usize,
    },
    /// This build left out the feature a codec needs.
    #[error("this build has no {what} (cargo feature `{feature}`)")]
    FeatureDisabled {
        /// What is missing.
        what: &'static str,
        /// The cargo feature that adds it.
        feature: &'static str,
    },
    /// A Lyra file is malformed, or a Lyra bitrate unsupported.
    #[error("lyra: {0}")]
    Lyra(#[from] crate::lyra::LyraError),
    /// A tensor operation failed (a bug, or an unsupported device).
    #[error("tensor operation: {0}")]
    Candle(#[from] candle_core::Error),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The message a panic carried (its `&str` or `String` payload; empty for any other), for the
/// boundaries that turn a caught panic into an error.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}
