//! SEANet's convolutions: the reference's padding (causal or centred, reflect with its zero
//! fallback, extra right padding for a whole last frame), weight or time-group norm, and
//! transposed convolutions with the reference's trimming. Both run as GEMMs straight on the
//! (padded) signal: one per kernel tap over a strided view, so no im2col copy is made.

use candle_core::Tensor;

use crate::config::{EncodecConfig, NormType, PadMode};
use rayon::prelude::*;

use crate::kernels::gemm::{matmul_serial, MatMut, MatRef};
use crate::kernels::{self, activation};
use crate::weights::Weights;
use crate::Result;

/// `GroupNorm(1, channels)`: normalise over channels and time together, then a per-channel
/// affine map (eps 1e-5, as torch's default).
#[derive(Clone, Debug)]
pub struct GroupNorm {
    weight: Vec<f32>,
    bias: Vec<f32>,
}

impl GroupNorm {
    fn load(w: &Weights, channels: usize) -> Result<Self> {
        Ok(Self {
            weight: w.get("weight", &[channels])?.to_vec1()?,
            bias: w.get("bias", &[channels])?.to_vec1()?,
        })
    }

    /// Normalises one `[channels, time]` item in place.
    pub fn apply(&self, data: &mut [f32], time: usize) {
        // Statistics in f64: sums over a second of 48 kHz activations lose digits in f32.
        let n = data.len() as f64;
        let mean = data.iter().map(|&x| x as f64).sum::<f64>() / n;
        let var = data.iter().map(|&x| (x as f64 - mean) * (x as f64 - mean)).sum::<f64>() / n;
        let std = (var + 1e-5).sqrt();
        for ((row, &w), &b) in data.chunks_exact_mut(time.max(1)).zip(&self.weight).zip(&self.bias) {
            for x in row {
                let normed = ((*x as f64 - mean) / std) as f32;
                *x = normed * w + b;
            }
        }
    }
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

impl std::fmt::Display for ConvSpec {
    /// `32->64 k4 s2`: stride and dilation only where above 1.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Self { in_channels, out_channels, kernel_size, stride, dilation } = self;
        write!(f, "{in_channels}->{out_channels} k{kernel_size}")?;
        if *stride > 1 {
            write!(f, " s{stride}")?;
        }
        if *dilation > 1 {
            write!(f, " d{dilation}")?;
        }
        Ok(())
    }
}

impl ConvSpec {
    /// A stride-1, undilated convolution.
    pub fn new(in_channels: usize, out_channels: usize, kernel_size: usize) -> Self {
        Self { in_channels, out_channels, kernel_size, stride: 1, dilation: 1 }
    }
}

/// What the reference's `NormConv1d` / `NormConvTranspose1d` hold: the weight (weight norm
/// folded) packed as one `[out, in]` matrix per kernel tap, the bias, and for time-group norm
/// the `GroupNorm` applied after the convolution.
#[derive(Clone, Debug)]
struct NormConv {
    /// `[kernel][out][in]`.
    taps: Vec<f32>,
    bias: Vec<f32>,
    norm: Option<GroupNorm>,
    spec: ConvSpec,
}

impl NormConv {
    /// `transposed`: the weight is stored `[in, out, kernel]` rather than `[out, in, kernel]`.
    fn load(w: &Weights, config: &EncodecConfig, spec: ConvSpec, transposed: bool) -> Result<Self> {
        let ConvSpec { in_channels: ci, out_channels: co, kernel_size: k, .. } = spec;
        let conv = w.pp("conv");
        let norm = match config.norm_type {
            NormType::WeightNorm => None,
            NormType::TimeGroupNorm => Some(GroupNorm::load(&w.pp("norm"), co)?),
        };
        let shape = if transposed { [ci, co, k] } else { [co, ci, k] };
        let weight: Vec<f32> = conv.conv_weight(&shape)?.flatten_all()?.to_vec1()?;
        let mut taps = vec![0f32; k * co * ci];
        for (j, tap) in taps.chunks_exact_mut(co * ci).enumerate() {
            for o in 0..co {
                for i in 0..ci {
                    let at = if transposed { (i * co + o) * k + j } else { (o * ci + i) * k + j };
                    tap[o * ci + i] = weight[at];
                }
            }
        }
        Ok(Self { taps: w.precision().round(taps), bias: conv.get("bias", &[co])?.to_vec1()?, norm, spec })
    }

    /// `[out, time]` filled with the bias, ready for the taps to accumulate onto.
    fn bias_rows(&self, time: usize) -> Vec<f32> {
        let mut rows = vec![0f32; self.bias.len() * time];
        // In parallel: this is where a large output's pages are first touched.
        rows.par_chunks_exact_mut(time.max(1)).zip(&self.bias).for_each(|(row, &b)| row.fill(b));
        rows
    }

    /// The `[out, in]` matrix of tap `j`.
    fn tap(&self, j: usize) -> MatRef<'_> {
        let ConvSpec { in_channels: ci, out_channels: co, .. } = self.spec;
        MatRef::row_major(&self.taps[j * co * ci..(j + 1) * co * ci], co, ci)
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

/// Pads each `length`-sample row of `x` as the reference's `pad1d` does, applying ELU on the way
/// when `elu` is set. Reflect padding needs more samples than the pad, so a short row is first
/// extended with zeros, reflected, and the extension dropped again from the end.
pub fn pad1d(x: &[f32], length: usize, left: usize, right: usize, mode: PadMode, elu: bool) -> Vec<f32> {
    let padded_len = left + length + right;
    let rows = x.len() / length.max(1);
    let mut out = vec![0f32; rows * padded_len];
    let max_pad = left.max(right);
    let extra = if length <= max_pad { max_pad - length + 1 } else { 0 };
    let n = (length + extra) as i64;
    let source = |j: usize| -> Option<usize> {
        let i = j as i64 - left as i64;
        let i = match mode {
            PadMode::Constant => i,
            PadMode::Replicate => i.clamp(0, length as i64 - 1),
            PadMode::Reflect if i < 0 => -i,
            PadMode::Reflect if i >= n => 2 * (n - 1) - i,
            PadMode::Reflect => i,
        };
        (0..length as i64).contains(&i).then_some(i as usize) // beyond: a zero
    };
    let edges: Vec<(usize, Option<usize>)> =
        (0..left).chain(left + length..padded_len).map(|j| (j, source(j))).collect();
    let act = |v: f32| if elu { activation::elu(v) } else { v };
    out.par_chunks_exact_mut(padded_len).zip(x.par_chunks_exact(length.max(1))).for_each(|(dst, row)| {
        match elu {
            true => activation::elu_copy(row, &mut dst[left..left + length]),
            false => dst[left..left + length].copy_from_slice(row),
        }
        for &(j, i) in &edges {
            dst[j] = i.map_or(0.0, |i| act(row[i]));
        }
    });
    out
}

/// `SConv1d`: a padded, normalised 1-d convolution whose output has `ceil(length / stride)`
/// frames.
#[derive(Clone, Debug)]
pub struct Conv1d {
    conv: NormConv,
    causal: bool,
    pad_mode: PadMode,
}

impl Conv1d {
    /// Loads `conv.*` (and `norm.*` for time-group norm) under `w`.
    pub fn load(w: &Weights, config: &EncodecConfig, spec: ConvSpec) -> Result<Self> {
        Ok(Self {
            conv: NormConv::load(w, config, spec, false)?,
            causal: config.use_causal_conv,
            pad_mode: config.pad_mode,
        })
    }

    /// The convolution's shape.
    pub fn spec(&self) -> ConvSpec {
        self.conv.spec
    }

    /// `[batch, in_channels, time]` -> `[batch, out_channels, ceil(time / stride)]`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.forward_with(x, false)
    }

    /// As [`Conv1d::forward`], applying ELU to the input first when `input_elu` is set (fused
    /// into the padding copy).
    pub fn forward_with(&self, x: &Tensor, input_elu: bool) -> Result<Tensor> {
        let (batch, channels, length) = x.dims3()?;
        let out_channels = self.spec().out_channels;
        kernels::apply(x, "conv1d", &|input, _| {
            let mut out = Vec::new();
            let mut frames = 0;
            for item in input.chunks_exact(channels * length) {
                let (y, t) = self.run(item, length, input_elu);
                out.extend_from_slice(&y);
                frames = t;
            }
            (out, vec![batch, out_channels, frames])
        })
    }

    /// `(left, right)` padding for an input of `length` samples.
    fn padding(&self, length: usize) -> (usize, usize) {
        let ConvSpec { kernel_size, stride, dilation, .. } = self.spec();
        let padding_total = (kernel_size - 1) * dilation + 1 - stride;
        // The reference passes the undilated kernel size here; with dilation the stride is 1
        // and the result is 0 either way.
        let extra = extra_padding_for_conv1d(length, kernel_size, stride, padding_total);
        if self.causal {
            (padding_total, extra)
        } else {
            (padding_total - padding_total / 2, padding_total / 2 + extra)
        }
    }

    /// One item `[in, length]` -> (`[out, frames]`, `frames`).
    pub(crate) fn run(&self, x: &[f32], length: usize, input_elu: bool) -> (Vec<f32>, usize) {
        let (left, right) = self.padding(length);
        let padded;
        let (x, length) = if left + right == 0 && !input_elu {
            (x, length)
        } else {
            padded = pad1d(x, length, left, right, self.pad_mode, input_elu);
            (&padded[..], left + length + right)
        };
        let ConvSpec { kernel_size, stride, dilation, .. } = self.spec();
        let frames = (length - (kernel_size - 1) * dilation - 1) / stride + 1;
        let mut out = self.conv.bias_rows(frames);
        self.accumulate(x, length, &mut out, frames);
        if let Some(norm) = &self.conv.norm {
            norm.apply(&mut out, frames);
        }
        (out, frames)
    }

    /// `out += conv(x)` for a 1x1, stride-1 convolution without norm or padding (a residual
    /// block's last convolution onto its shortcut), bias included.
    pub(crate) fn run_onto(&self, x: &[f32], length: usize, out: &mut [f32]) {
        debug_assert!(self.adds_onto());
        for (row, &b) in out.chunks_exact_mut(length.max(1)).zip(&self.conv.bias) {
            row.iter_mut().for_each(|v| *v += b);
        }
        self.accumulate(x, length, out, length);
    }

    /// Whether [`Conv1d::run_onto`] can add this convolution onto another's output.
    pub(crate) fn adds_onto(&self) -> bool {
        let spec = self.spec();
        spec.kernel_size == 1 && spec.stride == 1 && self.conv.norm.is_none()
    }

    /// `out[o, t] += sum_{i, j} w[o, i, j] x[i, t * stride + j * dilation]` on the padded input,
    /// in blocks of frames spread over the threads.
    fn accumulate(&self, x: &[f32], length: usize, out: &mut [f32], frames: usize) {
        let ConvSpec { in_channels: ci, out_channels: co, kernel_size: k, stride: s, dilation: d } =
            self.spec();
        let blocks = MatMut::row_major(out, co, frames).column_blocks(block_frames(frames, co + ci * s));
        blocks.into_par_iter().for_each(|(first, mut dst)| {
            let n = dst.num_cols();
            let x = &x[first * s..];
            if ci < k {
                // Few input channels (the first layer): contract over the taps instead, with
                // the overlapping windows of each channel as one strided matrix.
                for i in 0..ci {
                    let taps = MatRef::new(&self.conv.taps[i..], co, k, ci, co * ci);
                    let windows = MatRef::new(&x[i * length..], k, n, d, s);
                    matmul_serial(dst.cols(0, n, 1), taps, windows, true);
                }
            } else {
                for j in 0..k {
                    let windows = MatRef::new(&x[j * d..], ci, n, length, s);
                    matmul_serial(dst.cols(0, n, 1), self.conv.tap(j), windows, true);
                }
            }
        });
    }
}

/// Frames per block of a convolution's work: few enough that a block's input and output
/// (`floats_per_frame` each) stay in the L2 cache while every tap adds onto it, and enough
/// blocks to keep every thread busy.
fn block_frames(frames: usize, floats_per_frame: usize) -> usize {
    let cached = (1 << 18) / floats_per_frame.max(1);
    let balanced = frames.div_ceil(4 * rayon::current_num_threads());
    (cached.min(balanced).max(256) / 64 * 64).max(64)
}

/// `SConvTranspose1d`: a normalised transposed convolution with the fixed padding trimmed
/// (causal: `trim_right_ratio` of it on the right; otherwise split as in `Conv1d`).
#[derive(Clone, Debug)]
pub struct ConvTranspose1d {
    conv: NormConv,
    causal: bool,
    trim_right_ratio: f64,
}

impl ConvTranspose1d {
    /// Loads `conv.*` (and `norm.*` for time-group norm) under `w`.
    pub fn load(w: &Weights, config: &EncodecConfig, spec: ConvSpec) -> Result<Self> {
        Ok(Self {
            conv: NormConv::load(w, config, spec, true)?,
            causal: config.use_causal_conv,
            trim_right_ratio: config.trim_right_ratio,
        })
    }

    /// The convolution's shape.
    pub fn spec(&self) -> ConvSpec {
        self.conv.spec
    }

    /// `[batch, in_channels, time]` -> `[batch, out_channels, time * stride]`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.forward_with(x, false)
    }

    /// As [`ConvTranspose1d::forward`], applying ELU to the input first when `input_elu` is set.
    pub fn forward_with(&self, x: &Tensor, input_elu: bool) -> Result<Tensor> {
        let (batch, channels, length) = x.dims3()?;
        let ConvSpec { out_channels, stride, .. } = self.spec();
        kernels::apply(x, "conv_transpose1d", &|input, _| {
            let mut out = Vec::with_capacity(batch * out_channels * length * stride);
            for item in input.chunks_exact(channels * length) {
                out.extend_from_slice(&self.run(item, length, input_elu));
            }
            (out, vec![batch, out_channels, length * stride])
        })
    }

    /// One item `[in, length]` -> `[out, length * stride]`.
    pub(crate) fn run(&self, x: &[f32], length: usize, input_elu: bool) -> Vec<f32> {
        let ConvSpec { in_channels: ci, out_channels: co, kernel_size: k, stride: s, .. } = self.spec();
        let mut activated = Vec::new();
        let x = if input_elu {
            activated.resize(x.len(), 0.0);
            activation::elu_copy(x, &mut activated);
            &activated[..]
        } else {
            x
        };
        // Tap j of input frame t lands on output sample t * stride + j: one GEMM per tap onto a
        // strided view of the output. Taps `p * s .. (p + 1) * s` of the frames `a..b` land on
        // columns `(a + p) * s .. (b + p) * s` (plus the kernel's overhang for the last block):
        // one phase at a time, blocks of frames write disjoint columns and run in parallel.
        let full_len = (length - 1) * s + k;
        let mut full = self.conv.bias_rows(full_len);
        let block = block_frames(length, ci + co * s);
        for p in 0..k.div_ceil(s) {
            let mut rest = MatMut::new(&mut full[p * s..], co, full_len - p * s, full_len, 1);
            let mut blocks = Vec::new();
            for first in (0..length).step_by(block) {
                let n = block.min(length - first);
                let last = first + n == length;
                let at = if last { rest.num_cols() } else { n * s };
                let (dst, tail) = rest.split_cols(at);
                blocks.push((first, n, dst));
                rest = tail;
            }
            blocks.into_par_iter().for_each(|(first, n, mut dst)| {
                let frames = MatRef::new(&x[first..], ci, n, length, 1);
                for j in p * s..((p + 1) * s).min(k) {
                    matmul_serial(dst.cols(j - p * s, n, s), self.conv.tap(j), frames, true);
                }
            });
        }
        // The reference normalises before trimming, so the statistics include the edges.
        if let Some(norm) = &self.conv.norm {
            norm.apply(&mut full, full_len);
        }
        let padding_total = k - s;
        let right = if self.causal {
            (padding_total as f64 * self.trim_right_ratio).ceil() as usize
        } else {
            padding_total / 2
        };
        let left = padding_total - right;
        let kept = full_len - left - right;
        let mut out = vec![0f32; co * kept];
        for (dst, row) in out.chunks_exact_mut(kept).zip(full.chunks_exact(full_len)) {
            dst.copy_from_slice(&row[left..left + kept]);
        }
        out
    }
}
