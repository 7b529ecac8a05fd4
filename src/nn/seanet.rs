//! The SEANet encoder and decoder stacks, layer indices as in the Hub's `layers.N` names.

use candle_core::Tensor;

use crate::config::EncodecConfig;
use crate::nn::conv::{Conv1d, ConvSpec, ConvTranspose1d};
use rayon::prelude::*;

use crate::kernels::{self, activation};
use crate::nn::lstm::Lstm;
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
        let (_, dim, length) = x.dims3()?;
        kernels::apply(x, "resnet_block", &|input, dims| {
            let mut out = Vec::with_capacity(input.len());
            for item in input.chunks_exact(dim * length) {
                let (mut hidden, _) = self.first.run(item, length, true);
                hidden.par_chunks_mut(1 << 14).for_each(activation::elu_in_place);
                let mut y = match &self.shortcut {
                    Some(conv) => conv.run(item, length, false).0,
                    None => item.to_vec(),
                };
                if self.second.adds_onto() {
                    // The last 1x1 convolution accumulates straight onto the shortcut.
                    self.second.run_onto(&hidden, length, &mut y);
                } else {
                    let (block, _) = self.second.run(&hidden, length, false);
                    y.iter_mut().zip(&block).for_each(|(a, b)| *a += b);
                }
                out.extend_from_slice(&y);
            }
            (out, dims.to_vec())
        })
    }
}

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
    fn absorbs_elu(&self) -> bool {
        matches!(self, Self::Conv(_) | Self::ConvTranspose(_))
    }
}

/// Builds a stack whose entries are numbered like the Hub's `layers.N` keys.
struct StackBuilder<'a, 'w> {
    w: &'a Weights<'w>,
    config: &'a EncodecConfig,
    layers: Vec<Layer>,
}

impl StackBuilder<'_, '_> {
    fn next(&self) -> Weights<'_> {
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

/// Runs `layers` in order, folding each ELU into the convolution after it; `stack` names the
/// layers for the profile.
fn run(stack: &str, layers: &[Layer], x: &Tensor) -> Result<Tensor> {
    let mut x = x.clone();
    let mut pending_elu = false;
    for (i, layer) in layers.iter().enumerate() {
        if matches!(layer, Layer::Elu) && layers.get(i + 1).is_some_and(Layer::absorbs_elu) {
            pending_elu = true;
            continue;
        }
        let name = || {
            let elu = if pending_elu { "elu+" } else { "" };
            format!("{stack}.layers.{i} {elu}{}", layer.describe())
        };
        x = profile::time(name, || layer.forward(&x, pending_elu))?;
        pending_elu = false;
    }
    Ok(x)
}

/// Audio `[batch, channels, samples]` -> embeddings `[batch, hidden_size, frames]`.
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
        run("encoder", &self.layers, x)
    }
}

/// Embeddings `[batch, hidden_size, frames]` -> audio `[batch, channels, frames * hop]`.
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
        run("decoder", &self.layers, x)
    }
}
