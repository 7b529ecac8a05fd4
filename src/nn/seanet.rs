//! The SEANet encoder and decoder stacks, layer indices as in the Hub's `layers.N` names.

use candle_core::Tensor;

use crate::config::EncodecConfig;
use crate::nn::conv::{Conv1d, ConvSpec, ConvTranspose1d};
use crate::nn::lstm::Lstm;
use crate::weights::Weights;
use crate::Result;

/// ELU with alpha 1, as both published models use.
fn elu(x: &Tensor) -> Result<Tensor> {
    Ok(x.elu(1.0)?)
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
        let y = self.second.forward(&elu(&self.first.forward(&elu(x)?)?)?)?;
        let skip = match &self.shortcut {
            Some(conv) => conv.forward(x)?,
            None => x.clone(),
        };
        Ok((skip + y)?)
    }
}

/// One entry of a SEANet stack.
#[derive(Clone, Debug)]
pub enum Layer {
    /// A padded convolution.
    Conv(Conv1d),
    /// A trimmed transposed convolution (decoder upsampling).
    ConvTranspose(ConvTranspose1d),
    /// A residual block.
    Resnet(ResnetBlock),
    /// The LSTM block.
    Lstm(Lstm),
    /// ELU activation (no weights, but a `layers.N` index of its own).
    Elu,
}

impl Layer {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        match self {
            Self::Conv(l) => l.forward(x),
            Self::ConvTranspose(l) => l.forward(x),
            Self::Resnet(l) => l.forward(x),
            Self::Lstm(l) => l.forward(x),
            Self::Elu => elu(x),
        }
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
            self.layers.push(Layer::Resnet(block));
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

fn run(layers: &[Layer], x: &Tensor) -> Result<Tensor> {
    layers.iter().try_fold(x.clone(), |x, layer| layer.forward(&x))
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
        run(&self.layers, x)
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
        run(&self.layers, x)
    }
}
