//! The layers run on a stream, a chunk at a time, in the spirit of moshi's `StreamingModule`:
//! each layer keeps only the state it needs between chunks (a convolution the input rows its
//! next windows reach back to, a transposed convolution its last input frames, the LSTM its
//! hidden and cell vectors) and computes with the very layers the batch path uses. Every
//! output is final when returned, and bit for bit what the whole signal gives: the kernels'
//! results do not depend on how the rows are cut (see [`crate::kernels::gemm::matmul_serial`]).
//!
//! Only models whose layers look back and not ahead can stream: causal convolutions, no
//! time-group norm (which needs the whole signal's statistics). The 48 kHz model streams a
//! segment at a time instead (see `crate::encodec::stream`).

use crate::kernels::activation;
use crate::nn::conv::{Conv1d, ConvTranspose1d, Padded};
use crate::nn::lstm::{Lstm, LstmState};
use crate::nn::resnet::ResnetBlock;
use crate::nn::stack::{Layer, Stack};
use crate::{profile, Error, Result};

/// A layer (or stack) that takes its input a chunk at a time.
pub trait StreamingModule {
    /// Takes the next input rows (time-major, `[time, channels]`) and returns every output row
    /// that is now final. `last`: the input ends here; the end is padded as in batch and
    /// everything left is returned.
    fn step(&mut self, x: &[f32], last: bool) -> Vec<f32>;
}

/// A convolution's stream: the input rows its next output frames still need.
#[derive(Clone, Debug)]
pub struct ConvStream<'a> {
    conv: &'a Conv1d,
    /// Apply ELU to the input first (an ELU layer folded in, as in batch).
    elu: bool,
    /// Input rows `offset..seen`.
    window: Vec<f32>,
    offset: usize,
    seen: usize,
    /// The next output frame.
    next: usize,
}

impl<'a> ConvStream<'a> {
    fn new(conv: &'a Conv1d, elu: bool) -> Result<Self> {
        if !conv.is_causal() || conv.has_norm() {
            return Err(Error::Config(
                "only causal models without time-group norm stream frame by frame".into(),
            ));
        }
        Ok(Self { conv, elu, window: Vec::new(), offset: 0, seen: 0, next: 0 })
    }

    /// Appends `x` and returns the padded signal so far with the output frames it now
    /// completes. Frames whose windows reach into the right padding wait for `last`; so do
    /// the first frames until more rows have come than any padding (reflect padding of a
    /// shorter signal works differently, and only the end can tell).
    fn advance(&mut self, x: &[f32], last: bool) -> (Padded<'_>, std::ops::Range<usize>) {
        let spec = self.conv.spec();
        let (ci, s) = (spec.in_channels, spec.stride);
        let span = (spec.kernel_size - 1) * spec.dilation + 1;
        self.window.extend_from_slice(x);
        self.seen += x.len() / ci;
        let (left, right) = self.conv.padding_for(self.seen);
        let right = if last { right } else { 0 };
        let padded =
            Padded::window(&self.window, self.offset, self.seen, ci, (left, right), self.conv.pad_mode());
        let end = match last {
            _ if self.seen == 0 => 0,
            true => self.conv.frames(&padded),
            false if self.seen <= left.max(s - 1) || left + self.seen < span => 0,
            false => (left + self.seen - span) / s + 1,
        };
        let range = self.next..end.max(self.next);
        self.next = range.end;
        (padded, range)
    }

    /// Drops the rows no later frame reads.
    fn forget_used(&mut self) {
        let spec = self.conv.spec();
        let (left, _) = self.conv.padding_for(self.seen);
        let keep_from = (self.next * spec.stride).saturating_sub(left).min(self.seen);
        if keep_from > self.offset {
            self.window = keep_rest(&self.window, (keep_from - self.offset) * spec.in_channels);
            self.offset = keep_from;
        }
    }
}

impl StreamingModule for ConvStream<'_> {
    fn step(&mut self, x: &[f32], last: bool) -> Vec<f32> {
        let (conv, elu) = (self.conv, self.elu);
        let (padded, range) = self.advance(x, last);
        let (out, _) = conv.frames_range(&padded, range, elu);
        self.forget_used();
        out
    }
}

/// `buffer[from..]` in a buffer of its own size. Draining in place would keep the capacity of
/// the largest chunk ever pushed, in every layer, for the rest of the stream.
fn keep_rest(buffer: &[f32], from: usize) -> Vec<f32> {
    buffer[from..].to_vec()
}

/// A transposed convolution's stream: the last input frames, which overlap the next ones'
/// output rows.
#[derive(Clone, Debug)]
pub struct ConvTransposeStream<'a> {
    conv: &'a ConvTranspose1d,
    elu: bool,
    /// Input frames `tail_first..seen`, ELU applied.
    tail: Vec<f32>,
    tail_first: usize,
    seen: usize,
    /// The next group of `stride` untrimmed output rows.
    next: usize,
}

impl<'a> ConvTransposeStream<'a> {
    fn new(conv: &'a ConvTranspose1d, elu: bool) -> Result<Self> {
        if conv.has_norm() {
            return Err(Error::Config("transposed convolutions with time-group norm do not stream".into()));
        }
        Ok(Self { conv, elu, tail: Vec::new(), tail_first: 0, seen: 0, next: 0 })
    }
}

impl StreamingModule for ConvTransposeStream<'_> {
    fn step(&mut self, x: &[f32], last: bool) -> Vec<f32> {
        let spec = self.conv.spec();
        let (ci, co, k, s) = (spec.in_channels, spec.out_channels, spec.kernel_size, spec.stride);
        let start = self.tail.len();
        self.tail.resize(start + x.len(), 0.0);
        match self.elu {
            true => activation::elu_copy(x, &mut self.tail[start..]),
            false => self.tail[start..].copy_from_slice(x),
        }
        self.seen += x.len() / ci;
        if self.seen == 0 {
            return Vec::new();
        }
        // Untrimmed rows `left..full - right` are kept. Group g is complete once frame g is in;
        // the groups past the last frame only at the end.
        let (left, right) = self.conv.trim();
        let full = (self.seen - 1) * s + k;
        let end_row = if last { full - right } else { usize::MAX };
        let groups = if last { (full - right).div_ceil(s) } else { self.seen }.max(self.next);
        let mut rows = self.conv.groups(&self.tail, self.tail_first, self.next, groups - self.next);
        let first_row = self.next * s;
        let (from, to) = (left.max(first_row), end_row.min(groups * s).max(left.max(first_row)));
        self.next = groups;
        // Keep the frames the next groups still reach back to: one per later phase.
        let keep = (k.div_ceil(s) - 1).min(self.seen - self.tail_first);
        let drop = self.seen - self.tail_first - keep;
        self.tail = keep_rest(&self.tail, drop * ci);
        self.tail_first += drop;
        rows.drain((to - first_row) * co..);
        rows.drain(..(from - first_row) * co);
        rows
    }
}

/// A residual block's stream: its first convolution's window, and the input rows waiting for
/// that convolution's output (for the shortcut).
#[derive(Clone, Debug)]
pub struct ResnetStream<'a> {
    block: &'a ResnetBlock,
    first: ConvStream<'a>,
    pending: Vec<f32>,
}

impl StreamingModule for ResnetStream<'_> {
    fn step(&mut self, x: &[f32], last: bool) -> Vec<f32> {
        self.pending.extend_from_slice(x);
        let dim = self.first.conv.spec().in_channels;
        let (padded, range) = self.first.advance(x, last);
        let done = range.len() * dim;
        let out = self.block.fused_range(&padded, &self.pending[..done], range);
        self.first.forget_used();
        self.pending = keep_rest(&self.pending, done);
        out
    }
}

/// The LSTM's stream: its state.
#[derive(Clone, Debug)]
pub struct LstmStream<'a> {
    lstm: &'a Lstm,
    state: LstmState,
    dim: usize,
}

impl StreamingModule for LstmStream<'_> {
    fn step(&mut self, x: &[f32], _last: bool) -> Vec<f32> {
        let time = x.len() / self.dim.max(1);
        if time == 0 {
            return Vec::new();
        }
        self.lstm.run(x, 1, time, &mut self.state)
    }
}

/// A stack of layers on a stream, following the stack's plan (the ELUs it folds, its names).
pub struct StackStream<'a> {
    layers: Vec<Box<dyn StreamingModule + Send + 'a>>,
    /// Each stream's name in the profile.
    names: Vec<String>,
}

impl<'a> StackStream<'a> {
    /// Streams for the layers of `stack`; an error if one cannot stream.
    pub fn new(stack: &'a Stack) -> Result<Self> {
        let mut streams: Vec<Box<dyn StreamingModule + Send + 'a>> = Vec::new();
        let mut names = Vec::new();
        for (layer, step) in stack.steps() {
            let elu = step.input_elu;
            match layer {
                Layer::Elu => streams.push(Box::new(EluStream)),
                Layer::Conv(conv) => streams.push(Box::new(ConvStream::new(conv, elu)?)),
                Layer::ConvTranspose(conv) => streams.push(Box::new(ConvTransposeStream::new(conv, elu)?)),
                Layer::Resnet(block) => {
                    if !block.streams() {
                        return Err(Error::Config("residual blocks with norms do not stream".into()));
                    }
                    let first = ConvStream::new(block.first(), true)?;
                    streams.push(Box::new(ResnetStream { block, first, pending: Vec::new() }));
                }
                Layer::Lstm(lstm) => {
                    let state = lstm.state(1);
                    streams.push(Box::new(LstmStream { lstm, state, dim: lstm.dim() }));
                }
            }
            names.push(format!("{} (stream)", step.name));
        }
        Ok(Self { layers: streams, names })
    }
}

impl StreamingModule for StackStream<'_> {
    fn step(&mut self, x: &[f32], last: bool) -> Vec<f32> {
        let mut x = x.to_vec();
        for (layer, name) in self.layers.iter_mut().zip(&self.names) {
            x = profile::time(|| name.clone(), || layer.step(&x, last));
        }
        x
    }
}

/// An ELU no convolution absorbed: no state.
struct EluStream;

impl StreamingModule for EluStream {
    fn step(&mut self, x: &[f32], _last: bool) -> Vec<f32> {
        let mut y = x.to_vec();
        activation::elu_in_place(&mut y);
        y
    }
}
