//! EnCodec's SEANet encoder and decoder: the stacks its config describes, layer indices as in
//! the Hub's `layers.N` names.

use crate::encodec::config::EncodecConfig;
use crate::nn::conv::{Conv1d, ConvSpec, ConvTranspose1d};
use crate::nn::lstm::Lstm;
use crate::nn::resnet::ResnetBlock;
use crate::nn::stack::{Layer, Stack};
use crate::weights::Weights;
use crate::Result;

/// Builds a stack whose entries are numbered like the Hub's `layers.N` keys.
struct StackBuilder<'a> {
    w: Weights,
    config: &'a EncodecConfig,
    layers: Vec<Layer>,
}

impl<'a> StackBuilder<'a> {
    fn new(w: &Weights, config: &'a EncodecConfig) -> Self {
        Self { w: w.pp("layers"), config, layers: Vec::new() }
    }
    fn next(&self) -> Weights {
        self.w.pp(self.layers.len())
    }
    fn conv(&mut self, spec: ConvSpec) -> Result<()> {
        let layer = Conv1d::load(&self.next(), self.config.conv_style(), spec)?;
        self.layers.push(Layer::Conv(layer));
        Ok(())
    }
    fn conv_transpose(&mut self, spec: ConvSpec) -> Result<()> {
        let layer = ConvTranspose1d::load(&self.next(), self.config.conv_style(), spec)?;
        self.layers.push(Layer::ConvTranspose(layer));
        Ok(())
    }
    fn resnet_blocks(&mut self, dim: usize) -> Result<()> {
        let config = self.config;
        for j in 0..config.num_residual_layers {
            let dilation = config.dilation_growth_rate.pow(j as u32);
            let first = ConvSpec {
                dilation,
                ..ConvSpec::new(dim, dim / config.compress, config.residual_kernel_size)
            };
            let block =
                ResnetBlock::load(&self.next(), config.conv_style(), first, config.use_conv_shortcut)?;
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

/// Audio `[batch, samples, channels]` -> embeddings `[batch, frames, hidden_size]` (time-major,
/// as every layer here).
pub(crate) fn encoder(w: &Weights, config: &EncodecConfig) -> Result<Stack> {
    let mut b = StackBuilder::new(w, config);
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
    Ok(Stack::new("encoder", b.layers))
}

/// Embeddings `[batch, frames, hidden_size]` -> audio `[batch, frames * hop, channels]`.
pub(crate) fn decoder(w: &Weights, config: &EncodecConfig) -> Result<Stack> {
    let mut b = StackBuilder::new(w, config);
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
    Ok(Stack::new("decoder", b.layers))
}
