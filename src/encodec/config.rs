//! The model configuration as `config.json` on the Hugging Face Hub describes it.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use crate::nn::conv::{ConvStyle, NormType, PadMode};
use crate::{Error, Result};

/// A model Meta published: its name in `.ecdc` files, its Hub repository, and its config.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PublishedModel {
    /// The name `.ecdc` files carry (`encodec_24khz`).
    pub name: &'static str,
    /// The Hugging Face Hub repository (`facebook/encodec_24khz`).
    pub repo: &'static str,
    /// Samples per second.
    pub sample_rate: u32,
    /// Audio channels.
    pub channels: usize,
}

/// The published models, the only ones `.ecdc` files can name.
pub const PUBLISHED: [PublishedModel; 2] = [
    PublishedModel {
        name: "encodec_24khz",
        repo: "facebook/encodec_24khz",
        sample_rate: 24_000,
        channels: 1,
    },
    PublishedModel {
        name: "encodec_48khz",
        repo: "facebook/encodec_48khz",
        sample_rate: 48_000,
        channels: 2,
    },
];

/// The Hub repository used when none is given.
pub const DEFAULT_REPO: &str = PUBLISHED[0].repo;

impl PublishedModel {
    /// The published model named `name` (`encodec_48khz`) or held in repository `name`.
    pub fn find(name: &str) -> Option<&'static PublishedModel> {
        PUBLISHED.iter().find(|m| m.name == name || m.repo == name)
    }

    /// The published model of `sample_rate` Hz and `channels` channels.
    pub fn find_by_shape(sample_rate: u32, channels: usize) -> Option<&'static PublishedModel> {
        PUBLISHED.iter().find(|m| m.sample_rate == sample_rate && m.channels == channels)
    }

    /// Its config, as `config.json` on the Hub has it: enough to read its `.ecdc` files
    /// without the weights.
    pub fn config(&self) -> EncodecConfig {
        match self.sample_rate {
            48_000 => EncodecConfig::encodec_48khz(),
            _ => EncodecConfig::encodec_24khz(),
        }
    }
}

/// The files that make a model, as the Hub lays them out.
pub const MODEL_FILES: [&str; 2] = ["config.json", "model.safetensors"];

/// A model's `config.json` and `model.safetensors`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelFiles {
    /// Path of `config.json`.
    pub config: PathBuf,
    /// Path of `model.safetensors`.
    pub weights: PathBuf,
}

impl ModelFiles {
    /// The files inside a local folder.
    pub fn in_dir(dir: &Path) -> Self {
        Self { config: dir.join(MODEL_FILES[0]), weights: dir.join(MODEL_FILES[1]) }
    }
}

/// The fields of transformers' `EncodecConfig` this crate uses; unknown fields are ignored and
/// missing ones take transformers' defaults (which describe the 24 kHz model).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EncodecConfig {
    /// Bandwidths in kbps the model was trained for; the last decides the quantizer count.
    pub target_bandwidths: Vec<f32>,
    /// Sample rate of the PCM the model takes and gives.
    pub sampling_rate: u32,
    /// Audio channels: 1 (24 kHz model) or 2 (48 kHz model).
    pub audio_channels: usize,
    /// Whether each segment is divided by its RMS before encoding (the `scale`).
    pub normalize: bool,
    /// Segment length in seconds, for models that encode in segments.
    pub chunk_length_s: Option<f64>,
    /// Overlap between segments, as a fraction of the segment length.
    pub overlap: Option<f64>,
    /// Width of the embeddings the quantizer sees (the codebook dimension).
    pub hidden_size: usize,
    /// Channels of the first convolution; doubled at each downsampling.
    pub num_filters: usize,
    /// Residual blocks per resolution.
    pub num_residual_layers: usize,
    /// Decoder strides; the encoder uses them reversed.
    pub upsampling_ratios: Vec<usize>,
    /// How the convolutions are normalised.
    pub norm_type: NormType,
    /// Kernel size of the first convolution.
    pub kernel_size: usize,
    /// Kernel size of the last convolution.
    pub last_kernel_size: usize,
    /// Kernel size of the first convolution in each residual block.
    pub residual_kernel_size: usize,
    /// Dilation base of the residual blocks (dilation = rate^j).
    pub dilation_growth_rate: usize,
    /// Whether convolutions pad only on the left (the 24 kHz model).
    pub use_causal_conv: bool,
    /// How convolution inputs are padded.
    pub pad_mode: PadMode,
    /// Channel reduction inside residual blocks.
    pub compress: usize,
    /// LSTM layers at the bottleneck of each stack (0: none).
    pub num_lstm_layers: usize,
    /// Share of a causal transposed convolution's padding trimmed on the right.
    pub trim_right_ratio: f64,
    /// Entries per codebook (a power of two: bits per code = log2).
    pub codebook_size: usize,
    /// Codebook dimension; must equal `hidden_size` when given.
    pub codebook_dim: Option<usize>,
    /// Whether residual blocks use a 1x1 convolution as their skip path.
    pub use_conv_shortcut: bool,
}

impl Default for EncodecConfig {
    fn default() -> Self {
        Self::encodec_24khz()
    }
}

impl EncodecConfig {
    /// `facebook/encodec_24khz`: mono, causal, weight norm, 1.5–24 kbps.
    pub fn encodec_24khz() -> Self {
        Self {
            target_bandwidths: vec![1.5, 3.0, 6.0, 12.0, 24.0],
            sampling_rate: 24_000,
            audio_channels: 1,
            normalize: false,
            chunk_length_s: None,
            overlap: None,
            hidden_size: 128,
            num_filters: 32,
            num_residual_layers: 1,
            upsampling_ratios: vec![8, 5, 4, 2],
            norm_type: NormType::WeightNorm,
            kernel_size: 7,
            last_kernel_size: 7,
            residual_kernel_size: 3,
            dilation_growth_rate: 2,
            use_causal_conv: true,
            pad_mode: PadMode::Reflect,
            compress: 2,
            num_lstm_layers: 2,
            trim_right_ratio: 1.0,
            codebook_size: 1024,
            codebook_dim: None,
            use_conv_shortcut: true,
        }
    }

    /// `facebook/encodec_48khz`: stereo, non-causal, time group norm, 1 s segments, 3–24 kbps.
    pub fn encodec_48khz() -> Self {
        Self {
            target_bandwidths: vec![3.0, 6.0, 12.0, 24.0],
            sampling_rate: 48_000,
            audio_channels: 2,
            normalize: true,
            chunk_length_s: Some(1.0),
            overlap: Some(0.01),
            norm_type: NormType::TimeGroupNorm,
            use_causal_conv: false,
            ..Self::encodec_24khz()
        }
    }

    /// Reads and validates a `config.json`.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).map_err(|source| Error::Io { path: path.to_owned(), source })?;
        Self::from_json(&text).map_err(|e| match e {
            Error::Config(message) => Error::Config(format!("{}: {message}", path.display())),
            e => e,
        })
    }

    /// Parses and validates the text of a `config.json` (where there is no file: a browser).
    pub fn from_json(text: &str) -> Result<Self> {
        // serde_path_to_error names the field at fault ("target_bandwidths: invalid type").
        let config: Self = serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_str(text))
            .map_err(|e| Error::Config(format!("{}: {}", e.path(), e.inner())))?;
        config.validate()?;
        Ok(config)
    }

    /// How this model's convolutions normalise, pad and trim.
    pub(crate) fn conv_style(&self) -> ConvStyle {
        ConvStyle {
            norm: self.norm_type,
            causal: self.use_causal_conv,
            pad_mode: self.pad_mode,
            trim_right_ratio: self.trim_right_ratio,
        }
    }

    /// Checks that the config describes a model this crate can run.
    pub fn validate(&self) -> Result<()> {
        let fail = |msg: String| Err(Error::Config(msg));
        if !(1..=2).contains(&self.audio_channels) {
            return fail(format!("audio_channels is {}, expected 1 or 2", self.audio_channels));
        }
        if self.sampling_rate == 0 || self.upsampling_ratios.is_empty() {
            return fail("sampling_rate and upsampling_ratios must be non-zero".into());
        }
        if self.upsampling_ratios.len() > 8 || self.upsampling_ratios.iter().any(|&r| r == 0 || r > 64) {
            return fail(format!("unusable upsampling_ratios {:?}", self.upsampling_ratios));
        }
        let widths = [self.num_filters, self.hidden_size, self.compress, self.kernel_size];
        let more = [self.last_kernel_size, self.residual_kernel_size, self.dilation_growth_rate];
        if widths.iter().chain(&more).any(|&v| v == 0 || v > 8192) {
            return fail("filter counts, kernel sizes and dilations must be in 1..=8192".into());
        }
        if self.num_filters << self.upsampling_ratios.len() > 1 << 16 {
            return fail("num_filters is too large for the number of ratios".into());
        }
        if self.codebook_size < 2 || !self.codebook_size.is_power_of_two() || self.codebook_size > 1 << 16 {
            return fail(format!("codebook_size {} is not a power of two in 2..=65536", self.codebook_size));
        }
        if self.codebook_dim.is_some_and(|d| d != self.hidden_size) {
            return fail(
                "codebook_dim differs from hidden_size (codebook projections are not supported)".into(),
            );
        }
        if self.target_bandwidths.is_empty()
            || self.target_bandwidths.iter().any(|b| !(b.is_finite() && *b > 0.0))
        {
            return fail(format!("target_bandwidths {:?} must be positive", self.target_bandwidths));
        }
        if self.num_quantizers() == 0 || self.num_quantizers() > 1024 {
            return fail(format!("{} quantizers implied by the bandwidths", self.num_quantizers()));
        }
        if !(0.0..=1.0).contains(&self.trim_right_ratio)
            || (!self.use_causal_conv && self.trim_right_ratio != 1.0)
        {
            return fail("trim_right_ratio must be in [0, 1], and 1 for a non-causal model".into());
        }
        if self.use_causal_conv && self.norm_type == NormType::TimeGroupNorm {
            return fail("time_group_norm cannot be causal".into());
        }
        if let Some(seconds) = self.chunk_length_s {
            if !(seconds.is_finite() && seconds > 0.0 && seconds <= 3600.0) {
                return fail(format!("chunk_length_s {seconds} out of range"));
            }
            match self.overlap {
                Some(o) if (0.0..1.0).contains(&o) => {}
                other => return fail(format!("overlap {other:?} must be in [0, 1) with chunk_length_s")),
            }
            if self.segment_length().unwrap_or(0) == 0 {
                return fail("chunk_length_s is shorter than a sample".into());
            }
        }
        Ok(())
    }

    /// Samples per code frame (the product of the ratios: 320 for both published models).
    pub fn hop_length(&self) -> usize {
        self.upsampling_ratios.iter().product()
    }

    /// Code frames per second, rounded up as the reference does (75 and 150).
    pub fn frame_rate(&self) -> usize {
        (self.sampling_rate as usize).div_ceil(self.hop_length())
    }

    /// Bits per code: log2 of the codebook size.
    pub fn bits_per_codebook(&self) -> u32 {
        self.codebook_size.trailing_zeros()
    }

    /// Number of residual quantizer stages, as transformers derives it from the top bandwidth.
    pub fn num_quantizers(&self) -> usize {
        // Python: int(1000 * target_bandwidths[-1] // (frame_rate * nbits)), a float floor division.
        let top = self.target_bandwidths.last().copied().unwrap_or(0.0) as f64;
        (1000.0 * top / (self.frame_rate() as f64 * self.bits_per_codebook() as f64)).floor() as usize
    }

    /// Samples per segment for segmented (48 kHz) models.
    pub fn segment_length(&self) -> Option<usize> {
        self.chunk_length_s.map(|s| (s * self.sampling_rate as f64) as usize)
    }

    /// Distance between segment starts: `max(1, int((1 - overlap) * segment_length))`.
    pub fn segment_stride(&self) -> Option<usize> {
        let length = self.segment_length()? as f64;
        Some((((1.0 - self.overlap.unwrap_or(0.0)) * length) as usize).max(1))
    }

    /// Where each segment of `length` samples starts and ends: the reference's
    /// `range(0, length, stride)`, the last segment as long as what is left. One segment for
    /// models that do not segment.
    pub fn segments(&self, length: usize) -> impl Iterator<Item = std::ops::Range<usize>> {
        let (segment, stride) = match (self.segment_length(), self.segment_stride()) {
            (Some(segment), Some(stride)) => (segment, stride),
            _ => (length, length.max(1)),
        };
        (0..length).step_by(stride).map(move |start| start..(start + segment).min(length))
    }
}
