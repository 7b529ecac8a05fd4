//! SEANet's convolutions: the reference's padding (causal or centred, reflect with its zero
//! fallback, extra right padding for a whole last frame), weight or time-group norm, and
//! transposed convolutions with the reference's trimming.

use candle_core::{DType, Tensor, D};

use crate::config::{EncodecConfig, NormType, PadMode};
use crate::weights::Weights;
use crate::Result;

/// `GroupNorm(1, channels)`: normalise over channels and time together, then a per-channel
/// affine map (eps 1e-5, as torch's default).
#[derive(Clone, Debug)]
pub struct GroupNorm {
    weight: Tensor,
    bias: Tensor,
}

impl GroupNorm {
    fn load(w: &Weights, channels: usize) -> Result<Self> {
        let weight = w.get("weight", &[channels])?.reshape((1, channels, 1))?;
        let bias = w.get("bias", &[channels])?.reshape((1, channels, 1))?;
        Ok(Self { weight, bias })
    }

    /// Normalises `x` of shape `[batch, channels, time]`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let (b, c, t) = x.dims3()?;
        // Statistics in f64: sums over a second of 48 kHz activations lose digits in f32.
        let flat = x.to_dtype(DType::F64)?.reshape((b, c * t))?;
        let centred = flat.broadcast_sub(&flat.mean_keepdim(1)?)?;
        let std = (centred.sqr()?.mean_keepdim(1)? + 1e-5)?.sqrt()?;
        let normed = centred.broadcast_div(&std)?.to_dtype(DType::F32)?.reshape((b, c, t))?;
        Ok(normed.broadcast_mul(&self.weight)?.broadcast_add(&self.bias)?)
    }
}

/// What the reference's `NormConv1d` / `NormConvTranspose1d` hold: the weight (weight norm
/// folded), the bias, and for time-group norm the `GroupNorm` applied after the convolution.
#[derive(Clone, Debug)]
struct NormConv {
    weight: Tensor,
    bias: Tensor,
    norm: Option<GroupNorm>,
}

impl NormConv {
    fn load(
        w: &Weights,
        config: &EncodecConfig,
        weight_shape: [usize; 3],
        out_channels: usize,
    ) -> Result<Self> {
        let conv = w.pp("conv");
        let norm = match config.norm_type {
            NormType::WeightNorm => None,
            NormType::TimeGroupNorm => Some(GroupNorm::load(&w.pp("norm"), out_channels)?),
        };
        Ok(Self {
            weight: conv.conv_weight(&weight_shape)?,
            bias: conv.get("bias", &[out_channels])?.reshape((1, out_channels, 1))?,
            norm,
        })
    }

    /// Adds the bias to a convolution's output and normalises it.
    fn bias_and_norm(&self, y: &Tensor) -> Result<Tensor> {
        let y = y.broadcast_add(&self.bias)?;
        match &self.norm {
            Some(norm) => norm.forward(&y),
            None => Ok(y),
        }
    }
}

/// Right padding that makes the last window of a strided convolution whole, computed with
/// the same float arithmetic as the reference's `get_extra_padding_for_conv1d`.
pub fn extra_padding_for_conv1d(
    length: usize,
    kernel_size: usize,
    stride: usize,
    padding_total: usize,
) -> usize {
    let n_frames = (length as f64 - kernel_size as f64 + padding_total as f64) / stride as f64 + 1.0;
    let ideal = (n_frames.ceil() as i64 - 1) * stride as i64 + (kernel_size as i64 - padding_total as i64);
    (ideal - length as i64).max(0) as usize
}

/// Pads the last dimension as the reference's `pad1d` does. Reflect padding needs more samples
/// than the pad, so a short input is first extended with zeros, reflected, and the extension
/// dropped again from the end.
pub fn pad1d(x: &Tensor, left: usize, right: usize, mode: PadMode) -> Result<Tensor> {
    if left == 0 && right == 0 {
        return Ok(x.clone());
    }
    match mode {
        PadMode::Constant => Ok(x.pad_with_zeros(D::Minus1, left, right)?),
        PadMode::Replicate => Ok(x.pad_with_same(D::Minus1, left, right)?),
        PadMode::Reflect => {
            let length = x.dim(D::Minus1)?;
            let max_pad = left.max(right);
            let extra = if length <= max_pad { max_pad - length + 1 } else { 0 };
            let x = if extra > 0 { x.pad_with_zeros(D::Minus1, 0, extra)? } else { x.clone() };
            let n = (length + extra) as i64;
            let index: Vec<u32> = (0..(left + length + right) as i64)
                .map(|j| {
                    let i = j - left as i64;
                    let mirrored = if i < 0 {
                        -i
                    } else if i >= n {
                        2 * (n - 1) - i
                    } else {
                        i
                    };
                    mirrored as u32
                })
                .collect();
            let index = Tensor::from_vec(index, left + length + right, x.device())?;
            Ok(x.index_select(&index, x.rank() - 1)?)
        }
    }
}

/// `SConv1d`: a padded, normalised 1-d convolution whose output has `ceil(length / stride)`
/// frames.
#[derive(Clone, Debug)]
pub struct Conv1d {
    conv: NormConv,
    kernel_size: usize,
    stride: usize,
    dilation: usize,
    causal: bool,
    pad_mode: PadMode,
}

/// Shape of a convolution: channels in and out, kernel size, stride, dilation.
#[derive(Clone, Copy, Debug)]
pub struct ConvSpec {
    /// Input channels.
    pub in_channels: usize,
    /// Output channels.
    pub out_channels: usize,
    /// Kernel size (undilated).
    pub kernel_size: usize,
    /// Stride.
    pub stride: usize,
    /// Dilation.
    pub dilation: usize,
}

impl ConvSpec {
    /// A stride-1, undilated convolution.
    pub fn new(in_channels: usize, out_channels: usize, kernel_size: usize) -> Self {
        Self { in_channels, out_channels, kernel_size, stride: 1, dilation: 1 }
    }
}

impl Conv1d {
    /// Loads `conv.*` (and `norm.*` for time-group norm) under `w`.
    pub fn load(w: &Weights, config: &EncodecConfig, spec: ConvSpec) -> Result<Self> {
        let ConvSpec { in_channels, out_channels, kernel_size, stride, dilation } = spec;
        Ok(Self {
            conv: NormConv::load(w, config, [out_channels, in_channels, kernel_size], out_channels)?,
            kernel_size,
            stride,
            dilation,
            causal: config.use_causal_conv,
            pad_mode: config.pad_mode,
        })
    }

    /// `[batch, in_channels, time]` -> `[batch, out_channels, ceil(time / stride)]`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let padding_total = (self.kernel_size - 1) * self.dilation + 1 - self.stride;
        let length = x.dim(D::Minus1)?;
        // The reference passes the undilated kernel size here; with dilation the stride is 1
        // and the result is 0 either way.
        let extra = extra_padding_for_conv1d(length, self.kernel_size, self.stride, padding_total);
        let (left, right) = if self.causal {
            (padding_total, extra)
        } else {
            (padding_total - padding_total / 2, padding_total / 2 + extra)
        };
        let x = pad1d(x, left, right, self.pad_mode)?;
        self.conv.bias_and_norm(&x.conv1d(&self.conv.weight, 0, self.stride, self.dilation, 1)?)
    }
}

/// `SConvTranspose1d`: a normalised transposed convolution with the fixed padding trimmed
/// (causal: `trim_right_ratio` of it on the right; otherwise split as in `Conv1d`).
#[derive(Clone, Debug)]
pub struct ConvTranspose1d {
    conv: NormConv,
    kernel_size: usize,
    stride: usize,
    causal: bool,
    trim_right_ratio: f64,
}

impl ConvTranspose1d {
    /// Loads `conv.*` (and `norm.*` for time-group norm) under `w`.
    pub fn load(w: &Weights, config: &EncodecConfig, spec: ConvSpec) -> Result<Self> {
        let ConvSpec { in_channels, out_channels, kernel_size, stride, .. } = spec;
        Ok(Self {
            conv: NormConv::load(w, config, [in_channels, out_channels, kernel_size], out_channels)?,
            kernel_size,
            stride,
            causal: config.use_causal_conv,
            trim_right_ratio: config.trim_right_ratio,
        })
    }

    /// `[batch, in_channels, time]` -> `[batch, out_channels, time * stride]`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        // The reference normalises before trimming, so the statistics include the edges.
        let y =
            self.conv.bias_and_norm(&x.conv_transpose1d(&self.conv.weight, 0, 0, self.stride, 1, 1)?)?;
        let padding_total = self.kernel_size - self.stride;
        let right = if self.causal {
            (padding_total as f64 * self.trim_right_ratio).ceil() as usize
        } else {
            padding_total / 2
        };
        let left = padding_total - right;
        let length = y.dim(D::Minus1)?;
        Ok(y.narrow(D::Minus1, left, length - left - right)?)
    }
}
