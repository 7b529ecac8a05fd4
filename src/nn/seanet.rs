//! The SEANet encoder and decoder stacks, layer indices as in the Hub's `layers.N` names.

use candle_core::Tensor;

use crate::config::EncodecConfig;
use crate::nn::conv::{Conv1d, ConvSpec, ConvTranspose1d, Padded};
use rayon::prelude::*;

use crate::kernels::{self, activation, Start};
use crate::nn::lstm::Lstm;
use crate::nn::streaming::StackStream;
use crate::weights::Weights;
use crate::{profile, Result};

/// ELU with alpha 1, as both published models use.
fn elu(x: &Tensor) -> Result<Tensor> {
    kernels::apply(x, "elu", &|input, dims| {
        let mut out = input.to_vec();
        activation::elu_in_place(&mut out);
        (out, dims.to_vec())
    })
}

/// A residual block: `shortcut(x) + conv(elu(conv(elu(x))))`, the first conv dilated and
/// narrowing to `dim / compress` channels.
#[derive(Clone, Debug)]
pub struct ResnetBlock {
    first: Conv1d,
    second: Conv1d,
    shortcut: Option<Conv1d>,
}

impl ResnetBlock {
    fn load(w: &Weights, config: &EncodecConfig, dim: usize, dilation: usize) -> Result<Self> {
        let hidden = dim / config.compress;
        let first = ConvSpec { dilation, ..ConvSpec::new(dim, hidden, config.residual_kernel_size) };
        // `block` is [ELU, conv, ELU, conv] in the reference, hence indices 1 and 3.
        let block = w.pp("block");
        let shortcut = match config.use_conv_shortcut {
            true => Some(Conv1d::load(&w.pp("shortcut"), config, ConvSpec::new(dim, dim, 1))?),
            false => None,
        };
        Ok(Self {
            first: Conv1d::load(&block.pp(1), config, first)?,
            second: Conv1d::load(&block.pp(3), config, ConvSpec::new(hidden, dim, 1))?,
            shortcut,
        })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let (_, length, dim) = x.dims3()?;
        kernels::apply(x, "resnet_block", &|input, dims| {
            let items = input.chunks_exact(length * dim);
            let out = kernels::concat(items.map(|item| match self.is_fusable() {
                true => self.run_fused(item),
                false => self.run_layered(item),
            }));
            (out, dims.to_vec())
        })
    }

    /// Whether the block can run a block of frames at a time from input to output: without
    /// norms (which need the whole signal), with a 1x1 last convolution, and a shortcut, if
    /// any, that is 1x1 too.
    fn is_fusable(&self) -> bool {
        self.second.adds_onto()
            && self.shortcut.as_ref().is_none_or(Conv1d::adds_onto)
            && !self.first.has_norm()
    }

    /// One item `[length, dim]`, each cache-sized block of frames going through the whole
    /// block (pad and ELU, first convolution, ELU, last convolution onto the shortcut) before
    /// the next, so the intermediate signal never leaves the cache.
    fn run_fused(&self, item: &[f32]) -> Vec<f32> {
        let frames = item.len() / self.second.spec().out_channels;
        self.fused_range(&self.first.pad(item), item, 0..frames)
    }

    /// Output frames `range` of a fused block: `padded` is the first convolution's padded
    /// input (the whole signal, or the window a stream holds) and `x` the block's input rows
    /// for `range` (for the shortcut).
    pub(crate) fn fused_range(&self, padded: &Padded, x: &[f32], range: std::ops::Range<usize>) -> Vec<f32> {
        let dim = self.second.spec().out_channels;
        let block = FUSED_BLOCK_FRAMES;
        // Each block of the output starts as the shortcut's bias, or the input itself.
        let start = match &self.shortcut {
            Some(conv) => Start::Rows(conv.bias()),
            None => Start::Copy(x),
        };
        let (out, _) = kernels::par_blocks(range.len() * dim, block * dim, start, |b, dst| {
            let n = dst.len() / dim;
            let mut hidden = self.first.bias().repeat(n);
            self.first.frames_into(padded, range.start + b * block, &mut hidden, true);
            activation::elu_in_place(&mut hidden);
            if let Some(conv) = &self.shortcut {
                conv.frames_into(&conv.pad(&x[b * block * dim..(b * block + n) * dim]), 0, dst, false);
            }
            self.second.add_bias(dst);
            self.second.frames_into(&self.second.pad(&hidden), 0, dst, false);
        });
        out
    }

    /// The first convolution (dilated, padded), the one with a state when streaming.
    pub(crate) fn first(&self) -> &Conv1d {
        &self.first
    }

    /// Whether the block can run a block of frames at a time (see [`ResnetBlock::run_fused`]).
    pub(crate) fn streams(&self) -> bool {
        self.is_fusable()
    }

    /// One item, a layer at a time over the whole signal (for normalised convolutions, whose
    /// norms need all of it; blocks without norms take [`ResnetBlock::run_fused`]).
    fn run_layered(&self, item: &[f32]) -> Vec<f32> {
        let (hidden, _) = self.first.run(item, true);
        let mut y = match &self.shortcut {
            Some(conv) => conv.run(item, false).0,
            None => item.to_vec(),
        };
        // ELU on the way into the second convolution, a cache-sized block at a time (a pass of
        // its own over the hidden signal cost a trip through memory).
        let (block, _) = self.second.run(&hidden, true);
        y.iter_mut().zip(&block).for_each(|(a, b)| *a += b);
        y
    }
}

/// Frames per block of a fused residual block: its input, hidden and output rows (at most
/// 512 + 256 + 512 values each) stay within the L2 cache.
const FUSED_BLOCK_FRAMES: usize = 256;

/// One entry of a SEANet stack.
#[derive(Clone, Debug)]
pub enum Layer {
    /// A padded convolution.
    Conv(Conv1d),
    /// A trimmed transposed convolution (decoder upsampling).
    ConvTranspose(ConvTranspose1d),
    /// A residual block (boxed: three convolutions, where the others hold one).
    Resnet(Box<ResnetBlock>),
    /// The LSTM block.
    Lstm(Lstm),
    /// ELU activation (no weights, but a `layers.N` index of its own).
    Elu,
}

impl Layer {
    /// What the layer is, for the profile: e.g. `conv 32->64 k4 s2`.
    pub fn describe(&self) -> String {
        match self {
            Self::Conv(l) => format!("conv {}", l.spec()),
            Self::ConvTranspose(l) => format!("convtr {}", l.spec()),
            Self::Resnet(l) => format!("resnet {}", l.first.spec()),
            Self::Lstm(l) => format!("lstm {}", l.describe()),
            Self::Elu => "elu".into(),
        }
    }

    /// Runs the layer; `input_elu` (only for layers that [`Layer::absorbs_elu`]): apply ELU to
    /// the input first, fused into the layer.
    fn forward(&self, x: &Tensor, input_elu: bool) -> Result<Tensor> {
        debug_assert!(!input_elu || self.absorbs_elu(), "only convolutions absorb an ELU");
        match self {
            Self::Conv(l) => l.forward_with(x, input_elu),
            Self::ConvTranspose(l) => l.forward_with(x, input_elu),
            Self::Resnet(l) => l.forward(x),
            Self::Lstm(l) => l.forward(x),
            Self::Elu => elu(x),
        }
    }

    /// Whether an ELU just before this layer can be folded into it.
    pub(crate) fn absorbs_elu(&self) -> bool {
        matches!(self, Self::Conv(_) | Self::ConvTranspose(_))
    }
}

/// Builds a stack whose entries are numbered like the Hub's `layers.N` keys.
struct StackBuilder<'a> {
    w: &'a Weights,
    config: &'a EncodecConfig,
    layers: Vec<Layer>,
}

impl StackBuilder<'_> {
    fn next(&self) -> Weights {
        self.w.pp(self.layers.len())
    }
    fn conv(&mut self, spec: ConvSpec) -> Result<()> {
        let layer = Conv1d::load(&self.next(), self.config, spec)?;
        self.layers.push(Layer::Conv(layer));
        Ok(())
    }
    fn conv_transpose(&mut self, spec: ConvSpec) -> Result<()> {
        let layer = ConvTranspose1d::load(&self.next(), self.config, spec)?;
        self.layers.push(Layer::ConvTranspose(layer));
        Ok(())
    }
    fn resnet_blocks(&mut self, dim: usize) -> Result<()> {
        for j in 0..self.config.num_residual_layers {
            let dilation = self.config.dilation_growth_rate.pow(j as u32);
            let block = ResnetBlock::load(&self.next(), self.config, dim, dilation)?;
            self.layers.push(Layer::Resnet(Box::new(block)));
        }
        Ok(())
    }
    fn lstm(&mut self, dim: usize) -> Result<()> {
        if self.config.num_lstm_layers > 0 {
            let lstm = Lstm::load(&self.next(), dim, self.config.num_lstm_layers)?;
            self.layers.push(Layer::Lstm(lstm));
        }
        Ok(())
    }
    fn elu(&mut self) {
        self.layers.push(Layer::Elu);
    }
}

/// Runs `layers` in order, folding each ELU into the convolution after it; `stack` and the
/// index of the first layer, `first`, name the layers for the profile.
fn run(stack: &str, layers: &[Layer], first: usize, x: &Tensor) -> Result<Tensor> {
    let mut x = x.clone();
    let mut pending_elu = false;
    for (i, layer) in layers.iter().enumerate() {
        if matches!(layer, Layer::Elu) && layers.get(i + 1).is_some_and(Layer::absorbs_elu) {
            pending_elu = true;
            continue;
        }
        let name = || {
            let elu = if pending_elu { "elu+" } else { "" };
            format!("{stack}.layers.{} {elu}{}", first + i, layer.describe())
        };
        x = profile::time(name, || layer.forward(&x, pending_elu))?;
        pending_elu = false;
    }
    Ok(x)
}

/// Runs `layers` on independent items (`[1, time, channels]` each; lengths may differ): each
/// item through the convolutions on its own, the items in parallel, but consecutive items of
/// equal length through the LSTM together, as one batch, so that its recurrent weights are
/// read once per step for all of them (the result is the same as one at a time).
fn run_items(stack: &str, layers: &[Layer], items: &[Tensor]) -> Result<Vec<Tensor>> {
    let Some(at) = layers.iter().position(|l| matches!(l, Layer::Lstm(_))).filter(|_| items.len() > 1) else {
        return items.par_iter().map(|x| run(stack, layers, 0, x)).collect();
    };
    let items: Vec<Tensor> =
        items.par_iter().map(|x| run(stack, &layers[..at], 0, x)).collect::<Result<_>>()?;
    let mut batched = Vec::with_capacity(items.len());
    for group in items.chunk_by(|a, b| a.dims() == b.dims()) {
        let y = run(stack, &layers[at..=at], at, &Tensor::cat(group, 0)?)?;
        for i in 0..group.len() {
            batched.push(y.narrow(0, i, 1)?);
        }
    }
    batched.par_iter().map(|x| run(stack, &layers[at + 1..], at + 1, x)).collect()
}

/// Audio `[batch, samples, channels]` -> embeddings `[batch, frames, hidden_size]` (time-major,
/// as every layer here: see [`crate::nn::conv`]).
#[derive(Clone, Debug)]
pub struct Encoder {
    layers: Vec<Layer>,
}

impl Encoder {
    /// Loads `encoder.layers.*` (pass the `encoder` prefix).
    pub fn load(w: &Weights, config: &EncodecConfig) -> Result<Self> {
        let w = w.pp("layers");
        let mut b = StackBuilder { w: &w, config, layers: Vec::new() };
        let filters = config.num_filters;
        b.conv(ConvSpec::new(config.audio_channels, filters, config.kernel_size))?;
        let mut dim = filters;
        for &ratio in config.upsampling_ratios.iter().rev() {
            b.resnet_blocks(dim)?;
            b.elu();
            b.conv(ConvSpec { stride: ratio, ..ConvSpec::new(dim, dim * 2, ratio * 2) })?;
            dim *= 2;
        }
        b.lstm(dim)?;
        b.elu();
        b.conv(ConvSpec::new(dim, config.hidden_size, config.last_kernel_size))?;
        Ok(Self { layers: b.layers })
    }

    /// Runs the whole stack.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        run("encoder", &self.layers, 0, x)
    }

    /// The stack on a stream (causal models without norms only).
    pub fn stream(&self) -> Result<StackStream<'_>> {
        StackStream::new("encoder", &self.layers)
    }

    /// Runs the whole stack on independent items (`[1, samples, channels]` each, such as the
    /// 48 kHz model's segments), as [`Encoder::forward`] on each would.
    pub fn forward_items(&self, items: &[Tensor]) -> Result<Vec<Tensor>> {
        run_items("encoder", &self.layers, items)
    }
}

/// Embeddings `[batch, frames, hidden_size]` -> audio `[batch, frames * hop, channels]`.
#[derive(Clone, Debug)]
pub struct Decoder {
    layers: Vec<Layer>,
}

impl Decoder {
    /// Loads `decoder.layers.*` (pass the `decoder` prefix).
    pub fn load(w: &Weights, config: &EncodecConfig) -> Result<Self> {
        let w = w.pp("layers");
        let mut b = StackBuilder { w: &w, config, layers: Vec::new() };
        let mut dim = config.num_filters << config.upsampling_ratios.len();
        b.conv(ConvSpec::new(config.hidden_size, dim, config.kernel_size))?;
        b.lstm(dim)?;
        for &ratio in &config.upsampling_ratios {
            b.elu();
            b.conv_transpose(ConvSpec { stride: ratio, ..ConvSpec::new(dim, dim / 2, ratio * 2) })?;
            b.resnet_blocks(dim / 2)?;
            dim /= 2;
        }
        b.elu();
        b.conv(ConvSpec::new(dim, config.audio_channels, config.last_kernel_size))?;
        Ok(Self { layers: b.layers })
    }

    /// Runs the whole stack.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        run("decoder", &self.layers, 0, x)
    }

    /// The stack on a stream (causal models without norms only).
    pub fn stream(&self) -> Result<StackStream<'_>> {
        StackStream::new("decoder", &self.layers)
    }

    /// Runs the whole stack on independent items (`[1, frames, hidden_size]` each), as
    /// [`Decoder::forward`] on each would.
    pub fn forward_items(&self, items: &[Tensor]) -> Result<Vec<Tensor>> {
        run_items("decoder", &self.layers, items)
    }
}
