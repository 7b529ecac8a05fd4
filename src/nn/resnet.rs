//! The SEANet residual block, run a cache-sized block of frames at a time where it can be.

use candle_core::Tensor;

use crate::kernels::{self, activation, Start};
use crate::nn::conv::{Conv1d, ConvSpec, ConvStyle, Padded};
use crate::weights::Weights;
use crate::Result;

/// A residual block: `shortcut(x) + conv(elu(conv(elu(x))))`, the first conv dilated and
/// narrowing to `dim / compress` channels.
#[derive(Clone, Debug)]
pub struct ResnetBlock {
    first: Conv1d,
    second: Conv1d,
    shortcut: Option<Conv1d>,
}

impl ResnetBlock {
    /// Loads `block.1`, `block.3` and `shortcut` under `w`: `first` is the dilated
    /// convolution narrowing `dim` channels; `shortcut` whether the skip path is a 1x1
    /// convolution (else the identity).
    pub fn load(w: &Weights, style: ConvStyle, first: ConvSpec, shortcut: bool) -> Result<Self> {
        let (dim, hidden) = (first.in_channels, first.out_channels);
        // `block` is [ELU, conv, ELU, conv] in the reference, hence indices 1 and 3.
        let block = w.pp("block");
        let shortcut = match shortcut {
            true => Some(Conv1d::load(&w.pp("shortcut"), style, ConvSpec::new(dim, dim, 1))?),
            false => None,
        };
        Ok(Self {
            first: Conv1d::load(&block.pp(1), style, first)?,
            second: Conv1d::load(&block.pp(3), style, ConvSpec::new(hidden, dim, 1))?,
            shortcut,
        })
    }

    pub(crate) fn forward(&self, x: &Tensor) -> Result<Tensor> {
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
