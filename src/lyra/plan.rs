//! What `config.json` says (made by `conversion/lyra_convert.py`): the codec's constants and
//! its two networks as layer plans, in the order they run.

use std::collections::BTreeMap;

use serde::Deserialize;

/// `config.json` of a converted Lyra v2 model.
#[derive(Clone, Debug, Deserialize)]
pub(crate) struct LyraConfig {
    /// `lyra-v2`.
    pub model: String,
    /// 16000.
    pub sample_rate: u32,
    /// Samples per packet (320: 20 ms).
    pub frame_samples: usize,
    /// Encoder features per frame (64).
    pub features: usize,
    /// Codebooks of the residual vector quantizer (46).
    pub quantizers: usize,
    /// Entries per codebook (16).
    pub codebook_size: usize,
    /// Bits of one code (4).
    pub bits_per_quantizer: u32,
    /// Bits per packet for each bitrate in bits per second (`"6000": 120`, ...).
    pub bitrates_bps: BTreeMap<String, u32>,
    /// The SoundStream encoder: 320 samples in, 64 features out per frame.
    pub encoder: Plan,
    /// LyraGAN: 64 features in, 320 samples out per frame.
    pub decoder: Plan,
}

/// A network: the value its input becomes, its layers in order, the value it returns.
#[derive(Clone, Debug, Deserialize)]
pub(crate) struct Plan {
    /// The input's value name.
    pub input: String,
    /// The output's value name.
    pub output: String,
    /// The layers, each reading values made before it.
    pub layers: Vec<LayerSpec>,
}

/// An int8 value's quantisation, as TFLite writes it: `real = scale * (q - zero_point)`.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
pub(crate) struct QParams(pub f32, pub i32);

impl QParams {
    /// The scale.
    pub fn scale(self) -> f32 {
        self.0
    }

    /// The zero point.
    pub fn zero_point(self) -> i32 {
        self.1
    }
}

/// One layer of a plan. Values are `[time, channels]`; a layer with a quantised output
/// (`q_out`) runs in int8 on an int8 input.
#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum LayerSpec {
    /// A causal, streaming convolution: `state_frames` past input frames stored in front of
    /// the new ones (zeros at first), valid padding.
    Conv {
        name: String,
        input: String,
        output: String,
        in_channels: usize,
        out_channels: usize,
        kernel: usize,
        stride: usize,
        dilation: usize,
        groups: usize,
        state_frames: usize,
        #[serde(default)]
        q_out: Option<QParams>,
    },
    /// A streaming transposed convolution: each frame's output overlaps the next frame's by
    /// `state_frames` rows, kept (less the bias) and added to the next frame's first rows.
    Tconv {
        name: String,
        input: String,
        output: String,
        in_channels: usize,
        out_channels: usize,
        kernel: usize,
        stride: usize,
        groups: usize,
        state_frames: usize,
        /// Per group: the int8 output's quantisation (int8 layers; dequantised before the
        /// overlap is added).
        #[serde(default)]
        q_out_groups: Option<Vec<QParams>>,
    },
    /// `x` for `x >= 0`, `alpha x` below.
    LeakyRelu {
        name: String,
        input: String,
        output: String,
        alpha: f32,
        #[serde(default)]
        q_out: Option<QParams>,
    },
    /// The sum of two values.
    Add {
        inputs: [String; 2],
        output: String,
        #[serde(default)]
        q_out: Option<QParams>,
    },
    /// f32 to int8.
    Quantize { input: String, output: String, q: QParams },
    /// int8 to f32.
    Dequantize { input: String, output: String },
}
