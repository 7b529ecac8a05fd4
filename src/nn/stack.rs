//! A stack of layers numbered as the Hub's `layers.N` names, and its plan: which ELUs fold
//! into the convolution after them, and each step's name in the profile. The plan is made
//! once, at load, and both the batch path (here) and the streaming one
//! ([`crate::nn::streaming`]) follow it.

use candle_core::Tensor;
use rayon::prelude::*;

use crate::kernels::{self, activation};
use crate::nn::conv::{Conv1d, ConvTranspose1d};
use crate::nn::lstm::Lstm;
use crate::nn::resnet::ResnetBlock;
use crate::{profile, Result};

/// ELU with alpha 1, as both published models use.
fn elu(x: &Tensor) -> Result<Tensor> {
    kernels::apply(x, "elu", &|input, dims| {
        let mut out = input.to_vec();
        activation::elu_in_place(&mut out);
        (out, dims.to_vec())
    })
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
            Self::Resnet(l) => format!("resnet {}", l.first().spec()),
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

/// One step of a stack's plan: a layer, whether an ELU is folded into its input, and its name.
#[derive(Clone, Debug)]
pub struct Step {
    /// Index of the layer in the stack (its `layers.N`).
    pub index: usize,
    /// Apply ELU to the input first (the ELU layer before it, folded in).
    pub input_elu: bool,
    /// The step's name in the profile: `encoder.layers.3 elu+conv 32->64 k4 s2`.
    pub name: String,
}

/// Layers and the plan that runs them.
#[derive(Clone, Debug)]
pub struct Stack {
    layers: Vec<Layer>,
    steps: Vec<Step>,
}

impl Stack {
    /// The stack `name` (`encoder`, `decoder`) of `layers`, each ELU that a convolution
    /// follows folded into it.
    pub fn new(name: &str, layers: Vec<Layer>) -> Self {
        let mut steps = Vec::with_capacity(layers.len());
        let mut input_elu = false;
        for (index, layer) in layers.iter().enumerate() {
            if matches!(layer, Layer::Elu) && layers.get(index + 1).is_some_and(Layer::absorbs_elu) {
                input_elu = true;
                continue;
            }
            let prefix = if input_elu { "elu+" } else { "" };
            let name = format!("{name}.layers.{index} {prefix}{}", layer.describe());
            steps.push(Step { index, input_elu, name });
            input_elu = false;
        }
        Self { layers, steps }
    }

    /// The plan's steps with their layers, in order.
    pub fn steps(&self) -> impl Iterator<Item = (&Layer, &Step)> {
        self.steps.iter().map(|step| (&self.layers[step.index], step))
    }

    /// Runs the whole stack on `[batch, time, channels]`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.run(&self.steps, x)
    }

    fn run(&self, steps: &[Step], x: &Tensor) -> Result<Tensor> {
        let mut x = x.clone();
        for step in steps {
            let layer = &self.layers[step.index];
            x = profile::time(|| step.name.clone(), || layer.forward(&x, step.input_elu))?;
        }
        Ok(x)
    }

    /// Runs the stack on independent items (`[1, time, channels]` each; lengths may differ):
    /// each item through the convolutions on its own, the items in parallel, but consecutive
    /// items of equal length through the LSTM together, as one batch, so that its recurrent
    /// weights are read once per step for all of them (the result is the same as one at a
    /// time).
    pub fn forward_items(&self, items: &[Tensor]) -> Result<Vec<Tensor>> {
        let lstm = self.steps.iter().position(|s| matches!(self.layers[s.index], Layer::Lstm(_)));
        let Some(at) = lstm.filter(|_| items.len() > 1) else {
            return items.par_iter().map(|x| self.forward(x)).collect();
        };
        let (before, rest) = self.steps.split_at(at);
        let (lstm, after) = rest.split_at(1);
        let items: Vec<Tensor> = items.par_iter().map(|x| self.run(before, x)).collect::<Result<_>>()?;
        let mut batched = Vec::with_capacity(items.len());
        for group in items.chunk_by(|a, b| a.dims() == b.dims()) {
            let y = self.run(lstm, &Tensor::cat(group, 0)?)?;
            for i in 0..group.len() {
                batched.push(y.narrow(0, i, 1)?);
            }
        }
        batched.par_iter().map(|x| self.run(after, x)).collect()
    }
}
