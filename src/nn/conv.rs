//! SEANet's convolutions: the reference's padding (causal or centred, reflect with its zero
//! fallback, extra right padding for a whole last frame), weight or time-group norm, and
//! transposed convolutions with the reference's trimming.
//!
//! Signals are time-major, `[time, channels]` (each frame's channels contiguous), so that the
//! window a convolution reads for one output frame is one contiguous run of `kernel * in`
//! values: the whole convolution is then a single GEMM over a view of the padded signal whose
//! rows overlap, with no im2col copy, and the long time axis is the GEMM's long side.

use candle_core::Tensor;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::kernels::gemm::{matmul_serial, MatMut, MatRef, PackedRhs};
use crate::kernels::{self, activation, stats, Start};
use crate::weights::Weights;
use crate::Result;

/// How the convolutions are normalised.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NormType {
    /// Weight normalisation, folded into the weights at load (the 24 kHz model).
    WeightNorm,
    /// `GroupNorm(1, channels)` after each convolution (the 48 kHz model).
    TimeGroupNorm,
}

/// How convolution inputs are padded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PadMode {
    /// Mirror the signal around its edges (both published models).
    Reflect,
    /// Pad with zeros.
    #[serde(alias = "zero", alias = "zeros")]
    Constant,
    /// Repeat the edge sample.
    Replicate,
}

/// What every convolution of a network shares: its norm, causality, padding and trimming.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ConvStyle {
    /// How the convolutions are normalised.
    pub norm: NormType,
    /// Whether they pad only on the left.
    pub causal: bool,
    /// How inputs are padded.
    pub pad_mode: PadMode,
    /// Share of a causal transposed convolution's padding trimmed on the right.
    pub trim_right_ratio: f64,
}

/// Values per piece of element-wise work handed to a thread.
const CHUNK: usize = 1 << 14;

/// A piece of element-wise work of whole `width`-value rows, about [`CHUNK`] values.
fn rows_of(width: usize) -> usize {
    (CHUNK / width.max(1)).max(1) * width.max(1)
}

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

    /// Normalises one `[time, channels]` item in place, as torch does.
    pub fn apply(&self, data: &mut [f32]) {
        let sums = data.par_chunks(CHUNK).map(stats::sums_f64).collect();
        self.apply_with_sums(data, sums);
    }

    /// [`GroupNorm::apply`] with the data's sums and sums of squares already taken, piece by
    /// piece (added here in order, so the result does not depend on the threads): the
    /// statistics in f64 (sums over a second of 48 kHz activations lose digits in f32), then
    /// `x * scale[c] + shift[c]` with `scale = gamma * rstd` and `shift = beta - mean * scale`
    /// in f32, as torch.
    fn apply_with_sums(&self, data: &mut [f32], sums: Vec<(f64, f64)>) {
        let n = data.len() as f64;
        let (sum, sum_sq) = sums.into_iter().fold((0.0, 0.0), |(s, q), (a, b)| (s + a, q + b));
        let mean = sum / n;
        let var = (sum_sq / n - mean * mean).max(0.0);
        let rstd = (1.0 / (var + 1e-5).sqrt()) as f32;
        let scale: Vec<f32> = self.weight.iter().map(|w| w * rstd).collect();
        let shift: Vec<f32> = self.bias.iter().zip(&scale).map(|(b, s)| b - mean as f32 * s).collect();
        data.par_chunks_mut(rows_of(scale.len()))
            .for_each(|rows| stats::scale_shift_rows(rows, &scale, &shift));
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
/// folded) packed for time-major GEMMs, the bias, and for time-group norm the `GroupNorm`
/// applied after the convolution.
#[derive(Clone, Debug)]
struct NormConv {
    /// Convolution: `[kernel * in, out]` (row `j * in + i` is tap `j` of input channel `i`).
    /// Transposed convolution: one matrix per stride-phase `p` (see [`ConvTranspose1d::run`]),
    /// `[in, taps * out]` (column `t * out + o` is tap `p * stride + t`).
    weights: Vec<PackedRhs>,
    bias: Vec<f32>,
    norm: Option<GroupNorm>,
    spec: ConvSpec,
}

impl NormConv {
    /// `transposed`: the weight is stored `[in, out, kernel]` rather than `[out, in, kernel]`.
    fn load(w: &Weights, style: ConvStyle, spec: ConvSpec, transposed: bool) -> Result<Self> {
        let ConvSpec { in_channels: ci, out_channels: co, kernel_size: k, .. } = spec;
        let conv = w.pp("conv");
        let norm = match style.norm {
            NormType::WeightNorm => None,
            NormType::TimeGroupNorm => Some(GroupNorm::load(&w.pp("norm"), co)?),
        };
        let shape = if transposed { [ci, co, k] } else { [co, ci, k] };
        let stored = conv.conv_weight(&shape)?;
        // Row `r` of the packed matrix gathers `co` values of the stored one: row `j * ci + i`
        // of a convolution, `i * k + j` of a transposed one.
        let mut weight = vec![0f32; k * co * ci];
        weight.par_chunks_mut(co).enumerate().for_each(|(r, row)| {
            let (i, j) = if transposed { (r / k, r % k) } else { (r % ci, r / ci) };
            for (o, w) in row.iter_mut().enumerate() {
                *w = stored[if transposed { (i * co + o) * k + j } else { (o * ci + i) * k + j }];
            }
        });
        let bias = conv.get("bias", &[co])?.to_vec1()?;
        let weight = w.precision().round(weight);
        let weights = match transposed {
            false => vec![PackedRhs::row_major(&weight, k * ci, co)],
            true => {
                let s = spec.stride;
                let phase = |p: usize| {
                    let taps = s.min(k - p * s);
                    PackedRhs::new(MatRef::new(&weight[p * s * co..], ci, taps * co, k * co, 1))
                };
                (0..k.div_ceil(s)).map(phase).collect()
            }
        };
        Ok(Self { weights, bias, norm, spec })
    }

    /// Adds the bias to each `out`-wide row of `rows`.
    fn add_bias(&self, rows: &mut [f32]) {
        rows.chunks_exact_mut(self.bias.len())
            .for_each(|row| row.iter_mut().zip(&self.bias).for_each(|(v, b)| *v += b));
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

/// A `[length, channels]` signal seen as the reference's `pad1d` pads it in time, without
/// making the padded copy: [`Padded::rows`] gives any range of padded rows, so a layer can pad
/// (and apply ELU to) one cache-sized block at a time. Reflect padding needs more samples than
/// the pad, so a short signal is first extended with zeros, reflected, and the extension dropped
/// again from the end.
#[derive(Clone, Copy, Debug)]
pub struct Padded<'a> {
    /// Rows `offset..` of the signal (all of it, or the part a stream still holds).
    x: &'a [f32],
    offset: usize,
    channels: usize,
    length: usize,
    left: usize,
    right: usize,
    mode: PadMode,
}

impl<'a> Padded<'a> {
    /// `x` (`[length, channels]`) with `left` and `right` rows of padding.
    pub fn new(x: &'a [f32], channels: usize, left: usize, right: usize, mode: PadMode) -> Self {
        Self { x, offset: 0, channels, length: x.len() / channels.max(1), left, right, mode }
    }

    /// A signal of `length` rows of which `x` holds rows `offset..` (a stream's window): only
    /// padded rows whose sources are in the window may be asked for.
    pub fn window(
        x: &'a [f32],
        offset: usize,
        length: usize,
        channels: usize,
        pad: (usize, usize),
        mode: PadMode,
    ) -> Self {
        Self { x, offset, channels, length, left: pad.0, right: pad.1, mode }
    }

    /// Rows of the padded signal.
    pub fn len(&self) -> usize {
        self.left + self.length + self.right
    }

    /// Whether the padded signal has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The row of `x` padded row `j` copies, or `None` for a zero.
    fn source(&self, j: usize) -> Option<usize> {
        let (length, max_pad) = (self.length as i64, self.left.max(self.right) as i64);
        let n = length + if length <= max_pad { max_pad - length + 1 } else { 0 };
        let i = j as i64 - self.left as i64;
        let i = match self.mode {
            PadMode::Constant => i,
            PadMode::Replicate => i.clamp(0, length - 1),
            PadMode::Reflect if i < 0 => -i,
            PadMode::Reflect if i >= n => 2 * (n - 1) - i,
            PadMode::Reflect => i,
        };
        (0..length).contains(&i).then_some(i as usize)
    }

    /// Padded rows `start..start + count`, with ELU applied when `elu` is set: borrowed from `x`
    /// when they are its own rows unchanged, else written to `scratch`.
    pub fn rows<'s>(&self, start: usize, count: usize, elu: bool, scratch: &'s mut Vec<f32>) -> &'s [f32]
    where
        'a: 's,
    {
        let c = self.channels;
        let inner = start >= self.left && start + count <= self.left + self.length;
        let base = self.left + self.offset; // padded row of x's first row
        if inner && !elu {
            return &self.x[(start - base) * c..(start - base + count) * c];
        }
        let copy = |src: &[f32], dst: &mut [f32]| match elu {
            true => activation::elu_copy(src, dst),
            false => dst.copy_from_slice(src),
        };
        scratch.clear();
        scratch.resize(count * c, 0.0);
        // The unpadded middle in one go, the edges row by row.
        let (a, b) = (start.max(self.left), (start + count).min(self.left + self.length));
        if a < b {
            copy(&self.x[(a - base) * c..(b - base) * c], &mut scratch[(a - start) * c..(b - start) * c]);
        }
        for j in (start..a.min(start + count)).chain(b.max(start)..start + count) {
            if let Some(i) = self.source(j) {
                let i = i - self.offset;
                copy(&self.x[i * c..(i + 1) * c], &mut scratch[(j - start) * c..(j - start + 1) * c]);
            }
        }
        scratch
    }
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
    pub fn load(w: &Weights, style: ConvStyle, spec: ConvSpec) -> Result<Self> {
        Ok(Self {
            conv: NormConv::load(w, style, spec, false)?,
            causal: style.causal,
            pad_mode: style.pad_mode,
        })
    }

    /// The convolution's shape.
    pub fn spec(&self) -> ConvSpec {
        self.conv.spec
    }

    /// `[batch, time, in_channels]` -> `[batch, ceil(time / stride), out_channels]`, applying
    /// ELU to the input first when `input_elu` is set (fused into the padding copy).
    pub fn forward_with(&self, x: &Tensor, input_elu: bool) -> Result<Tensor> {
        let (batch, length, channels) = x.dims3()?;
        let out_channels = self.spec().out_channels;
        kernels::apply(x, "conv1d", &|input, _| {
            let items = input.chunks_exact(channels * length);
            let out = kernels::concat(items.map(|item| self.run(item, input_elu).0));
            let frames = out.len() / (batch * out_channels).max(1);
            (out, vec![batch, frames, out_channels])
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

    /// The input padded as this convolution pads it.
    pub(crate) fn pad<'a>(&self, x: &'a [f32]) -> Padded<'a> {
        let ci = self.spec().in_channels;
        let (left, right) = self.padding(x.len() / ci);
        Padded::new(x, ci, left, right, self.pad_mode)
    }

    /// Output frames of a padded input.
    pub(crate) fn frames(&self, padded: &Padded) -> usize {
        let ConvSpec { kernel_size: k, stride: s, dilation: d, .. } = self.spec();
        (padded.len() - (k - 1) * d - 1) / s + 1
    }

    /// Whether the layer normalises over the whole signal after the convolution (so its output
    /// cannot be made a block at a time).
    pub(crate) fn has_norm(&self) -> bool {
        self.conv.norm.is_some()
    }

    /// One item `[length, in]` -> (`[frames, out]`, `frames`).
    pub(crate) fn run(&self, x: &[f32], input_elu: bool) -> (Vec<f32>, usize) {
        let padded = self.pad(x);
        let frames = self.frames(&padded);
        let (mut out, sums) = self.frames_range(&padded, 0..frames, input_elu);
        if let Some(norm) = &self.conv.norm {
            norm.apply_with_sums(&mut out, sums.into_iter().flatten().collect());
        }
        (out, frames)
    }

    /// Output frames `range` of a padded input, bias included but no norm, in parallel blocks;
    /// for a layer with a norm, also each block's sums, taken while the block is in cache.
    pub(crate) fn frames_range(
        &self,
        padded: &Padded,
        range: std::ops::Range<usize>,
        input_elu: bool,
    ) -> (Vec<f32>, Vec<Option<(f64, f64)>>) {
        let co = self.spec().out_channels;
        let block = block_frames(range.len());
        kernels::par_blocks(range.len() * co, block * co, Start::Rows(self.bias()), |b, dst| {
            self.frames_into(padded, range.start + b * block, dst, input_elu);
            self.conv.norm.as_ref().map(|_| stats::sums_f64(dst))
        })
    }

    /// `(left, right)` padding for an input of `length` samples.
    pub(crate) fn padding_for(&self, length: usize) -> (usize, usize) {
        self.padding(length)
    }

    /// The padding mode.
    pub(crate) fn pad_mode(&self) -> PadMode {
        self.pad_mode
    }

    /// Whether the padding is all on the left (apart from the extra that completes the last
    /// frame), so that every output frame depends only on input up to its window's end.
    pub(crate) fn is_causal(&self) -> bool {
        self.causal
    }

    /// The bias, one value per output channel.
    pub(crate) fn bias(&self) -> &[f32] {
        &self.conv.bias
    }

    /// `rows += bias`, for each `out`-wide row.
    pub(crate) fn add_bias(&self, rows: &mut [f32]) {
        self.conv.add_bias(rows);
    }

    /// Whether this convolution can be added onto another's output a block of frames at a time
    /// (1x1, stride 1, no norm): a residual block's last convolution onto its shortcut.
    pub(crate) fn adds_onto(&self) -> bool {
        let spec = self.spec();
        spec.kernel_size == 1 && spec.stride == 1 && self.conv.norm.is_none()
    }

    /// Adds output frames `first..` (as many as `dst`, `[frames, out]`, holds), without bias or
    /// norm, onto `dst`: `dst[t, o] += sum_{j, i} x[(first + t) * stride + j * dilation, i]
    /// w[j, i, o]` on the padded input. The block's input rows are padded (and ELU applied) into
    /// a scratch buffer that stays in cache. Undilated, frame `t`'s window is the contiguous run
    /// of `kernel * in` values at row `t * stride`, so the block is one GEMM over overlapping
    /// rows.
    pub(crate) fn frames_into(&self, padded: &Padded, first: usize, dst: &mut [f32], elu: bool) {
        let ConvSpec { in_channels: ci, out_channels: co, kernel_size: k, stride: s, dilation: d } =
            self.spec();
        let n = dst.len() / co;
        if n == 0 {
            return;
        }
        let mut scratch = Vec::new();
        let x = padded.rows(first * s, (n - 1) * s + (k - 1) * d + 1, elu, &mut scratch);
        let mut dst = MatMut::row_major(dst, n, co);
        let weight = &self.conv.weights[0];
        if d == 1 {
            let windows = MatRef::new(x, n, k * ci, s * ci, 1);
            matmul_serial(dst, windows, weight.view(), true);
        } else {
            for j in 0..k {
                let windows = MatRef::new(&x[j * d * ci..], n, ci, s * ci, 1);
                matmul_serial(dst.reborrow(), windows, weight.rows(j * ci..(j + 1) * ci), true);
            }
        }
    }
}

/// Frames per block of a layer's work, the blocks as even as can be: at most 512 (rows that
/// stay in the L2 cache while the GEMM works on them; 512 measured better than 4096), at least
/// 32 where there are enough (the weights are packed once at load, so a block costs little
/// more than its rows: a streamed chunk's 75 frames still split over two threads), and eight
/// blocks where that allows, to keep the threads busy and balanced. Not a function of the
/// thread count, so that the blocks (and a norm's sums over them) are the same on any number
/// of threads.
fn block_frames(frames: usize) -> usize {
    let blocks = frames.div_ceil(512).max((frames / 32).min(8)).max(1);
    frames.div_ceil(blocks).max(1)
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
    pub fn load(w: &Weights, style: ConvStyle, spec: ConvSpec) -> Result<Self> {
        Ok(Self {
            conv: NormConv::load(w, style, spec, true)?,
            causal: style.causal,
            trim_right_ratio: style.trim_right_ratio,
        })
    }

    /// The convolution's shape.
    pub fn spec(&self) -> ConvSpec {
        self.conv.spec
    }

    /// `[batch, time, in_channels]` -> `[batch, time * stride, out_channels]`, applying ELU to
    /// the input first when `input_elu` is set.
    pub fn forward_with(&self, x: &Tensor, input_elu: bool) -> Result<Tensor> {
        let (batch, length, channels) = x.dims3()?;
        let ConvSpec { out_channels, stride, .. } = self.spec();
        kernels::apply(x, "conv_transpose1d", &|input, _| {
            let items = input.chunks_exact(channels * length);
            let out = kernels::concat(items.map(|item| self.run(item, length, input_elu)));
            (out, vec![batch, length * stride, out_channels])
        })
    }

    /// One item `[length, in]` -> `[length * stride, out]`.
    pub(crate) fn run(&self, x: &[f32], length: usize, input_elu: bool) -> Vec<f32> {
        let ConvSpec { out_channels: co, kernel_size: k, stride: s, .. } = self.spec();
        let mut activated = Vec::new();
        let x = if input_elu {
            activated.resize(x.len(), 0.0);
            activated
                .par_chunks_mut(CHUNK)
                .zip(x.par_chunks(CHUNK))
                .for_each(|(d, s)| activation::elu_copy(s, d));
            &activated[..]
        } else {
            x
        };
        let full_len = (length - 1) * s + k;
        let groups = full_len.div_ceil(s);
        let mut full = self.groups(x, 0, 0, groups);
        full.truncate(full_len * co);
        // The reference normalises before trimming, so the statistics include the edges.
        if let Some(norm) = &self.conv.norm {
            norm.apply(&mut full);
        }
        let (left, right) = self.trim();
        let kept = full_len - left - right;
        if left > 0 {
            full.copy_within(left * co..(left + kept) * co, 0);
        }
        full.truncate(kept * co);
        full
    }

    /// Output rows trimmed `(left, right)`, as the reference trims its fixed padding.
    pub(crate) fn trim(&self) -> (usize, usize) {
        let ConvSpec { kernel_size: k, stride: s, .. } = self.spec();
        let padding_total = k - s;
        let right = if self.causal {
            (padding_total as f64 * self.trim_right_ratio).ceil() as usize
        } else {
            padding_total / 2
        };
        (padding_total - right, right)
    }

    /// Whether the layer normalises over the whole signal.
    pub(crate) fn has_norm(&self) -> bool {
        self.conv.norm.is_some()
    }

    /// Groups `first..first + count` of untrimmed output rows, bias included, in blocks over
    /// the threads (see [`ConvTranspose1d::groups_into`]).
    pub(crate) fn groups(&self, x: &[f32], x_first: usize, first: usize, count: usize) -> Vec<f32> {
        let ConvSpec { out_channels: co, stride: s, .. } = self.spec();
        let block = block_frames(count);
        let (rows, _) =
            kernels::par_blocks(count * s * co, block * s * co, Start::Rows(&self.conv.bias), |b, dst| {
                self.groups_into(x, x_first, first + b * block, dst)
            });
        rows
    }

    /// Adds groups `first..` of untrimmed output rows (a group is `stride` rows; as many
    /// groups as `dst` holds) onto `dst`, from the input frames `x` holds (`[frames, in]`, ELU
    /// already applied), which are frames `x_first..` of the signal.
    ///
    /// Tap `j` of input frame `t` lands on output row `t * stride + j`, so group `g` gathers
    /// tap phase `p` (taps `p * stride..`) of frame `g - p`: one GEMM per phase,
    /// `[frames, in] x [in, taps * out]`, onto the groups seen as rows of `stride * out`
    /// values. The phases are added in order, whichever frames `x` holds, so a stream that
    /// keeps the last frames of the previous chunk gives exactly the whole signal's rows.
    fn groups_into(&self, x: &[f32], x_first: usize, first: usize, dst: &mut [f32]) {
        let ConvSpec { in_channels: ci, out_channels: co, stride: s, .. } = self.spec();
        let x_end = x_first + x.len() / ci;
        let end = first + dst.len() / (s * co);
        for (p, weight) in self.conv.weights.iter().enumerate() {
            let taps = weight.cols() / co;
            let (a, b) = (first.max(x_first + p), end.min(x_end + p));
            if a >= b {
                continue;
            }
            let n = b - a;
            let dst = MatMut::new(&mut dst[(a - first) * s * co..], n, taps * co, s * co, 1);
            let frames = MatRef::row_major(&x[(a - p - x_first) * ci..], n, ci);
            matmul_serial(dst, frames, weight.view(), true);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padded_blocks_equal_the_whole_padded_signal() {
        // Any block of padded rows is the same rows of the signal padded as a whole, including
        // signals shorter than the pad (the reflect fallback) and blocks reaching over both ends.
        let channels = 3;
        for length in 1..7 {
            let x: Vec<f32> = (0..length * channels).map(|v| v as f32 - 4.5).collect();
            for (left, right) in [(0, 0), (2, 0), (0, 3), (3, 1), (6, 6)] {
                for mode in [PadMode::Reflect, PadMode::Constant, PadMode::Replicate] {
                    for elu in [false, true] {
                        let padded = Padded::new(&x, channels, left, right, mode);
                        let mut scratch = Vec::new();
                        let whole = padded.rows(0, padded.len(), elu, &mut scratch).to_vec();
                        assert_eq!(whole.len(), (left + length + right) * channels);
                        let middle = &whole[left * channels..(left + length) * channels];
                        let expected: Vec<f32> =
                            x.iter().map(|&v| if elu { activation::elu(v) } else { v }).collect();
                        assert_eq!(middle, expected);
                        for start in 0..padded.len() {
                            for count in 0..=padded.len() - start {
                                let block = padded.rows(start, count, elu, &mut scratch);
                                assert_eq!(block, &whole[start * channels..(start + count) * channels]);
                            }
                        }
                    }
                }
            }
        }
    }
}
