//! A layer plan made runnable: the layers built from `config.json` and the weights, checked
//! (every value made before it is read, of the type and width its reader takes), and run on
//! any number of whole frames with a [`NetworkState`] that carries the streaming state, so
//! one loaded network serves any number of streams.

use std::collections::HashMap;

use crate::kernels::lanes;
use crate::{Error, Result};

use super::conv::{Conv, ConvShape};
use super::plan::{LayerSpec, Plan, QParams};
use super::quant::{dequantize, AddQ8, LeakyReluQ8, Quantizer};
use super::tconv::{Tconv, TconvShape};
use super::tensors::Tensors;
use super::value::Act;

/// A value's element type: f32, or int8 with its quantisation.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Ty {
    F32,
    Q8(QParams),
}

enum Op {
    Conv(Conv),
    Tconv(Tconv),
    LeakyRelu { alpha: f32 },
    LeakyReluQ8(LeakyReluQ8),
    Add,
    AddQ8(AddQ8),
    Quantize(Quantizer),
    Dequantize(QParams),
}

struct Layer {
    /// `<network>.<index> <kind and shape>`, for `encodec bench --profile`.
    label: String,
    op: Op,
    inputs: Vec<usize>,
    output: usize,
}

/// One network (encoder or decoder), ready to run.
pub(crate) struct Network {
    layers: Vec<Layer>,
    input: usize,
    output: usize,
    /// Each value's channels.
    channels: Vec<usize>,
    /// For each layer, the values no later layer reads (freed after it runs).
    last_uses: Vec<Vec<usize>>,
}

/// A stream's state in a [`Network`]: per layer, the frames it keeps.
pub(crate) struct NetworkState {
    layers: Vec<Option<LayerState>>,
}

enum LayerState {
    Conv(Act),
    Tconv(Vec<f32>),
}

impl Network {
    /// Builds the network `plan` describes from the tensors `<prefix>.<layer>.*`;
    /// `in_channels` is the input's width. Errors name what does not fit.
    pub fn build(plan: &Plan, tensors: &Tensors<'_>, prefix: &str, in_channels: usize) -> Result<Self> {
        let bad = |msg: String| Error::Config(format!("{prefix}: {msg}"));
        let mut ids: HashMap<&str, usize> = HashMap::new();
        let mut types: Vec<Ty> = Vec::new();
        let mut channels: Vec<usize> = Vec::new();
        ids.insert(&plan.input, 0);
        types.push(Ty::F32);
        channels.push(in_channels);
        let mut layers = Vec::with_capacity(plan.layers.len());
        for spec in &plan.layers {
            let lookup = |name: &str| -> Result<usize> {
                ids.get(name).copied().ok_or_else(|| bad(format!("value `{name}` is read before it is made")))
            };
            let (op, inputs, output, ty, width) = match spec {
                LayerSpec::Conv {
                    name,
                    input,
                    output,
                    in_channels,
                    out_channels,
                    kernel,
                    stride,
                    dilation,
                    groups,
                    state_frames,
                    q_out,
                } => {
                    let i = lookup(input)?;
                    let shape = ConvShape {
                        in_channels: *in_channels,
                        out_channels: *out_channels,
                        kernel: *kernel,
                        stride: *stride,
                        dilation: *dilation,
                        groups: *groups,
                        state_frames: *state_frames,
                    };
                    check_conv(&shape, channels[i]).map_err(|m| bad(format!("{name}: {m}")))?;
                    let q = match (types[i], q_out) {
                        (Ty::F32, None) => None,
                        (Ty::Q8(q_in), Some(q_out)) => Some((q_in, *q_out)),
                        _ => return Err(bad(format!("{name}: int8 output needs an int8 input and back"))),
                    };
                    let conv = Conv::load(tensors, &format!("{prefix}.{name}"), shape, q)?;
                    let ty = q_out.map_or(Ty::F32, Ty::Q8);
                    (Op::Conv(conv), vec![i], output, ty, *out_channels)
                }
                LayerSpec::Tconv {
                    name,
                    input,
                    output,
                    in_channels,
                    out_channels,
                    kernel,
                    stride,
                    groups,
                    state_frames,
                    q_out_groups,
                } => {
                    let i = lookup(input)?;
                    let shape = TconvShape {
                        in_channels: *in_channels,
                        out_channels: *out_channels,
                        kernel: *kernel,
                        stride: *stride,
                        groups: *groups,
                    };
                    let fits = *in_channels == channels[i]
                        && *groups > 0
                        && in_channels % groups == 0
                        && out_channels % groups == 0
                        && *stride > 0
                        && *kernel >= *stride
                        && *state_frames == kernel - stride
                        && kernel * out_channels * in_channels < 1 << 26;
                    if !fits {
                        return Err(bad(format!("{name}: inconsistent shape")));
                    }
                    let q = match (types[i], q_out_groups) {
                        (Ty::F32, None) => None,
                        (Ty::Q8(q_in), Some(qs)) if qs.len() == *groups => Some((q_in, qs.as_slice())),
                        _ => {
                            return Err(bad(format!(
                                "{name}: int8 needs an int8 input and a scale per group"
                            )))
                        }
                    };
                    let tconv = Tconv::load(tensors, &format!("{prefix}.{name}"), shape, q)?;
                    (Op::Tconv(tconv), vec![i], output, Ty::F32, *out_channels)
                }
                LayerSpec::LeakyRelu { name, input, output, alpha, q_out } => {
                    let i = lookup(input)?;
                    let op = match (types[i], q_out) {
                        (Ty::F32, None) => Op::LeakyRelu { alpha: *alpha },
                        (Ty::Q8(q_in), Some(q_out)) => {
                            Op::LeakyReluQ8(LeakyReluQ8::new(*alpha, q_in, *q_out))
                        }
                        _ => return Err(bad(format!("{name}: int8 output needs an int8 input and back"))),
                    };
                    (op, vec![i], output, q_out.map_or(Ty::F32, Ty::Q8), channels[i])
                }
                LayerSpec::Add { inputs, output, q_out } => {
                    let (a, b) = (lookup(&inputs[0])?, lookup(&inputs[1])?);
                    if channels[a] != channels[b] {
                        return Err(bad(format!("adding {} channels to {}", channels[a], channels[b])));
                    }
                    let op = match (types[a], types[b], q_out) {
                        (Ty::F32, Ty::F32, None) => Op::Add,
                        (Ty::Q8(qa), Ty::Q8(qb), Some(q_out)) => Op::AddQ8(AddQ8::new(qa, qb, *q_out)),
                        _ => return Err(bad(format!("`{output}`: an add of mixed types"))),
                    };
                    (op, vec![a, b], output, q_out.map_or(Ty::F32, Ty::Q8), channels[a])
                }
                LayerSpec::Quantize { input, output, q } => {
                    let i = lookup(input)?;
                    if types[i] != Ty::F32 || !(q.scale() > 0.0 && q.scale().is_finite()) {
                        return Err(bad(format!("`{output}`: quantising a non-f32 value or to a bad scale")));
                    }
                    (Op::Quantize(Quantizer::new(*q)), vec![i], output, Ty::Q8(*q), channels[i])
                }
                LayerSpec::Dequantize { input, output } => {
                    let i = lookup(input)?;
                    let Ty::Q8(q) = types[i] else {
                        return Err(bad(format!("`{output}`: dequantising an f32 value")));
                    };
                    (Op::Dequantize(q), vec![i], output, Ty::F32, channels[i])
                }
            };
            if ids.contains_key(output.as_str()) {
                return Err(bad(format!("value `{output}` is made twice")));
            }
            ids.insert(output, types.len());
            types.push(ty);
            channels.push(width);
            let label = format!("{prefix}.{} {}", layers.len(), describe(spec));
            layers.push(Layer { label, op, inputs, output: types.len() - 1 });
        }
        let output =
            *ids.get(plan.output.as_str()).ok_or_else(|| bad(format!("no value `{}`", plan.output)))?;
        if types[output] != Ty::F32 {
            return Err(bad("the output is not f32".into()));
        }
        // Free each value after its last reader.
        let mut last_reader = vec![None; types.len()];
        for (l, layer) in layers.iter().enumerate() {
            layer.inputs.iter().for_each(|&v| last_reader[v] = Some(l));
        }
        let mut last_uses = vec![Vec::new(); layers.len()];
        for (v, reader) in last_reader.iter().enumerate() {
            if let Some(l) = reader {
                if v != output {
                    last_uses[*l].push(v);
                }
            }
        }
        Ok(Self { layers, input: 0, output, channels, last_uses })
    }

    /// Each value's width: the output's.
    pub fn out_channels(&self) -> usize {
        self.channels[self.output]
    }

    /// The state of a new stream.
    pub fn new_state(&self) -> NetworkState {
        let layers = self
            .layers
            .iter()
            .map(|l| match &l.op {
                Op::Conv(c) => Some(LayerState::Conv(c.new_state())),
                Op::Tconv(t) => Some(LayerState::Tconv(t.new_state())),
                _ => None,
            })
            .collect();
        NetworkState { layers }
    }

    /// Runs `frames` whole frames (`input`: their rows, f32) through the network.
    pub fn run(&self, state: &mut NetworkState, input: Vec<f32>, frames: usize) -> Vec<f32> {
        let mut values: Vec<Option<Act>> = (0..self.channels.len()).map(|_| None).collect();
        values[self.input] = Some(Act::F32(input));
        for (l, layer) in self.layers.iter().enumerate() {
            let arg = |k: usize| {
                values[layer.inputs[k]].as_ref().expect("made before it is read (checked at load)")
            };
            let out = crate::profile::time(
                || layer.label.clone(),
                || match (&layer.op, &mut state.layers[l]) {
                    (Op::Conv(conv), Some(LayerState::Conv(s))) => conv.forward(s, arg(0)),
                    (Op::Tconv(tconv), Some(LayerState::Tconv(s))) => {
                        Act::F32(tconv.forward(s, arg(0), frames))
                    }
                    (Op::LeakyRelu { alpha }, _) => {
                        Act::F32(lanes::map(arg(0).f32(), |x| leaky_relu(x, *alpha)))
                    }
                    (Op::LeakyReluQ8(l), _) => Act::Q8(lanes::map(arg(0).q8(), |q| l.apply(q))),
                    (Op::Add, _) => Act::F32(lanes::zip_map(arg(0).f32(), arg(1).f32(), |a, b| a + b)),
                    (Op::AddQ8(add), _) => {
                        Act::Q8(lanes::zip_map(arg(0).q8(), arg(1).q8(), |a, b| add.add(a, b)))
                    }
                    (Op::Quantize(q), _) => Act::Q8(lanes::map(arg(0).f32(), |x| q.quantize(x))),
                    (Op::Dequantize(q), _) => Act::F32(lanes::map(arg(0).q8(), |x| dequantize(x, *q))),
                    _ => unreachable!("a stateful layer always has its state"),
                },
            );
            values[layer.output] = Some(out);
            for &v in &self.last_uses[l] {
                values[v] = None;
            }
        }
        match values[self.output].take() {
            Some(Act::F32(v)) => v,
            _ => unreachable!("the output is f32 (checked at load)"),
        }
    }
}

/// A layer's kind and shape, as `encodec bench --profile` names it.
fn describe(spec: &LayerSpec) -> String {
    let int8 = |q: bool| if q { " int8" } else { "" };
    match spec {
        LayerSpec::Conv { in_channels, out_channels, kernel, stride, dilation, groups, q_out, .. } => {
            format!(
                "conv{} {in_channels}->{out_channels} k{kernel} s{stride} d{dilation} g{groups}",
                int8(q_out.is_some())
            )
        }
        LayerSpec::Tconv { in_channels, out_channels, kernel, stride, groups, q_out_groups, .. } => format!(
            "tconv{} {in_channels}->{out_channels} k{kernel} s{stride} g{groups}",
            int8(q_out_groups.is_some())
        ),
        LayerSpec::LeakyRelu { q_out, .. } => format!("leaky_relu{}", int8(q_out.is_some())),
        LayerSpec::Add { q_out, .. } => format!("add{}", int8(q_out.is_some())),
        LayerSpec::Quantize { .. } => "quantize".into(),
        LayerSpec::Dequantize { .. } => "dequantize".into(),
    }
}

/// `alpha x` where `x`'s sign bit is set, else `x` (XNNPACK's `f32_vlrelu`: a select on the
/// sign bit, so -0 gives `alpha * -0`). Written as a bit mask rather than a branch so that it
/// vectorises: the branch on each sign took a fifth of Lyra's time.
#[inline(always)]
fn leaky_relu(x: f32, alpha: f32) -> f32 {
    let negative = ((x.to_bits() as i32) >> 31) as u32;
    f32::from_bits(((x * alpha).to_bits() & negative) | (x.to_bits() & !negative))
}

/// Whether a convolution's shape is one this code runs, reading `in_width` channels.
fn check_conv(s: &ConvShape, in_width: usize) -> std::result::Result<(), String> {
    if s.in_channels != in_width {
        return Err(format!("reads {} channels from a value of {in_width}", s.in_channels));
    }
    let ok = s.groups > 0
        && s.in_channels.is_multiple_of(s.groups)
        && s.out_channels.is_multiple_of(s.groups)
        && s.kernel > 0
        && s.stride > 0
        && s.dilation > 0
        && s.kernel * s.out_channels * s.in_channels / s.groups < 1 << 26;
    let span = s.kernel.saturating_sub(1).saturating_mul(s.dilation) + 1;
    if !ok || s.state_frames + s.stride != span {
        return Err("inconsistent shape".into());
    }
    Ok(())
}
