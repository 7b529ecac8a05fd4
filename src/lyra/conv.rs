//! Lyra's causal, streaming convolutions, in f32 or int8: each call convolves the new frames
//! behind the `state_frames` frames kept from the last call (zeros at first), with valid
//! padding, so a signal gives the same output in one call or frame by frame.
//!
//! The f32 arithmetic is XNNPACK's: every output starts from its bias and takes one fused
//! multiply-add per tap and input channel, taps outer, channels inner (our GEMM's element
//! chain). The int8 arithmetic is exact: i32 sums of `(x - zero_point) * w`, requantised
//! per output channel ([`Requantizer`]).

use crate::kernels::gemm::{matmul, MatMut, MatRef, PackedRhs};
use crate::kernels::lanes;
use crate::Result;

use super::plan::QParams;
use super::quant::Requantizer;
use super::tensors::Tensors;
use super::value::Act;

/// A convolution's shape.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ConvShape {
    pub in_channels: usize,
    pub out_channels: usize,
    pub kernel: usize,
    pub stride: usize,
    pub dilation: usize,
    pub groups: usize,
    pub state_frames: usize,
}

impl ConvShape {
    fn span(&self) -> usize {
        (self.kernel - 1) * self.dilation + 1
    }

    fn is_depthwise(&self) -> bool {
        self.groups == self.in_channels && self.groups == self.out_channels
    }
}

enum Weights {
    /// `[kernel * in, out]`: one GEMM over the window's rows (groups 1, dilation 1).
    Dense(PackedRhs),
    /// Per group and tap, `[in / groups, out / groups]`: a GEMM per tap and group.
    Grouped(Vec<PackedRhs>),
    /// `[kernel, channels]`.
    Depthwise(Vec<f32>),
}

enum Kind {
    F32 { weights: Weights, bias: Vec<f32> },
    Q8 { weights: IntWeights, bias: Vec<i32>, input_zero_point: i32, requantizer: Requantizer },
}

/// An int8 layer's weights, widened to i16.
enum IntWeights {
    /// `[kernel, channels]`.
    Depthwise(Vec<i16>),
    /// `[out, kernel, in / groups]`, packed for `lanes::int_gemm`.
    Packed(lanes::PackedInt),
}

/// One convolution layer.
pub(crate) struct Conv {
    shape: ConvShape,
    kind: Kind,
}

impl Conv {
    /// Loads `<prefix>.weight` `[out, kernel, in / groups]` and `<prefix>.bias`; int8 when
    /// `q` gives the input's and output's quantisation (then also `.weight_scale`).
    pub fn load(
        t: &Tensors<'_>,
        prefix: &str,
        shape: ConvShape,
        q: Option<(QParams, QParams)>,
    ) -> Result<Self> {
        let ConvShape { in_channels: cin, out_channels: cout, kernel: k, groups: g, .. } = shape;
        let (cg, og) = (cin / g, cout / g);
        let w_shape = [cout, k, cg];
        let kind = match q {
            None => {
                let w = t.f32(&format!("{prefix}.weight"), &w_shape)?;
                let bias = t.f32(&format!("{prefix}.bias"), &[cout])?;
                let weights = if shape.is_depthwise() {
                    Weights::Depthwise(transpose(&w, cout, k))
                } else if g == 1 && shape.dilation == 1 {
                    // [out, kernel * in] seen transposed: [kernel * in, out].
                    Weights::Dense(PackedRhs::new(MatRef::row_major(&w, cout, k * cin).t()))
                } else {
                    Weights::Grouped(pack_taps(&w, g, k, og, cg))
                };
                Kind::F32 { weights, bias }
            }
            Some((q_in, q_out)) => {
                let w = t.i8_as_i16(&format!("{prefix}.weight"), &w_shape)?;
                let scales = t.f32(&format!("{prefix}.weight_scale"), &[cout])?;
                let bias = t.i32(&format!("{prefix}.bias"), &[cout])?;
                let (runs, len, _, _) = int_runs(&shape);
                let weights = match shape.is_depthwise() {
                    true => IntWeights::Depthwise(transpose(&w, cout, k)),
                    false => IntWeights::Packed(lanes::PackedInt::new(&w, cout, og, runs, len, runs * len)),
                };
                Kind::Q8 {
                    weights,
                    bias,
                    input_zero_point: q_in.zero_point(),
                    requantizer: Requantizer::new(q_in, &scales, q_out),
                }
            }
        };
        Ok(Self { shape, kind })
    }

    /// The state before the first frame: zeros (in int8, zero's code).
    pub fn new_state(&self) -> Act {
        let n = self.shape.state_frames * self.shape.in_channels;
        match &self.kind {
            Kind::F32 { .. } => Act::F32(vec![0.0; n]),
            Kind::Q8 { input_zero_point, .. } => Act::Q8(vec![*input_zero_point as i8; n]),
        }
    }

    /// Convolves `x` (whole frames: rows a multiple of the stride) behind `state`, which
    /// becomes the window's last `state_frames` rows.
    pub fn forward(&self, state: &mut Act, x: &Act) -> Act {
        match (&self.kind, state, x) {
            (Kind::F32 { weights, bias }, Act::F32(past), Act::F32(x)) => {
                let window = window(past, x);
                Act::F32(self.f32(&window, weights, bias))
            }
            (Kind::Q8 { weights, bias, input_zero_point, requantizer }, Act::Q8(past), Act::Q8(x)) => {
                let window = window(past, x);
                let zero_point = *input_zero_point as i16;
                let wide = lanes::map(&window, |q| q as i16 - zero_point);
                Act::Q8(requantizer.requantize_rows(&self.q8(&wide, weights, bias)))
            }
            _ => unreachable!("layer and value types are checked at load"),
        }
    }

    fn rows_out(&self, window_len: usize) -> usize {
        let s = &self.shape;
        let rows_in = window_len / s.in_channels;
        if rows_in < s.span() {
            0
        } else {
            (rows_in - s.span()) / s.stride + 1
        }
    }

    fn f32(&self, window: &[f32], weights: &Weights, bias: &[f32]) -> Vec<f32> {
        let s = &self.shape;
        let (cin, cout) = (s.in_channels, s.out_channels);
        let rows = self.rows_out(window.len());
        let mut out: Vec<f32> = bias.repeat(rows);
        if rows == 0 {
            return out;
        }
        match weights {
            Weights::Dense(w) => {
                let lhs = MatRef::new(window, rows, s.kernel * cin, s.stride * cin, 1);
                matmul(MatMut::row_major(&mut out, rows, cout), lhs, w.view(), true);
            }
            Weights::Grouped(per) => {
                let (cg, og) = (cin / s.groups, cout / s.groups);
                for tap in 0..s.kernel {
                    for group in 0..s.groups {
                        let start = tap * s.dilation * cin + group * cg;
                        let lhs = MatRef::new(&window[start..], rows, cg, s.stride * cin, 1);
                        let dst = MatMut::new(&mut out[group * og..], rows, og, cout, 1);
                        matmul(dst, lhs, per[group * s.kernel + tap].view(), true);
                    }
                }
            }
            Weights::Depthwise(w) => {
                for (r, row) in out.chunks_exact_mut(cout).enumerate() {
                    for tap in 0..s.kernel {
                        let at = (r * s.stride + tap * s.dilation) * cin;
                        lanes::fma_into(row, &window[at..at + cin], &w[tap * cin..(tap + 1) * cin]);
                    }
                }
            }
        }
        out
    }

    fn q8(&self, wide: &[i16], weights: &IntWeights, bias: &[i32]) -> Vec<i32> {
        let s = &self.shape;
        let (cin, cout, k) = (s.in_channels, s.out_channels, s.kernel);
        let rows = self.rows_out(wide.len());
        let mut acc: Vec<i32> = bias.repeat(rows);
        match weights {
            IntWeights::Depthwise(w) => {
                for (r, row) in acc.chunks_exact_mut(cout).enumerate() {
                    for tap in 0..k {
                        let at = r * s.stride * cin + tap * s.dilation * cin;
                        lanes::mul_acc_i16(row, &wide[at..at + cin], &w[tap * cin..(tap + 1) * cin]);
                    }
                }
            }
            IntWeights::Packed(w) => {
                let (_, _, run_step, group_step) = int_runs(s);
                let at = lanes::IntRows { rows, acc_row: cout, x_row: s.stride * cin, run_step, group_step };
                lanes::int_gemm(&mut acc, wide, w, at);
            }
        }
        acc
    }
}

/// Weights `[out, kernel, in / groups]` as one GEMM right-hand side `[in / groups, out /
/// groups]` per group and tap (group-major), for layers that multiply tap by tap.
pub(super) fn pack_taps(w: &[f32], groups: usize, kernel: usize, og: usize, cg: usize) -> Vec<PackedRhs> {
    let mut per = Vec::with_capacity(groups * kernel);
    for group in 0..groups {
        for tap in 0..kernel {
            // Rows (group's outputs) of [out, kernel * in/g], tap's columns.
            let view = MatRef::new(&w[(group * og * kernel + tap) * cg..], og, cg, kernel * cg, 1);
            per.push(PackedRhs::new(view.t()));
        }
    }
    per
}

/// How an int8 layer's sums read the window: `(runs, len, run_step, group_step)`. Each
/// output is a sum over taps of one contiguous run of `len` values (a tap's channels of the
/// output's group) times as many weights; with groups == 1 and no dilation the taps' runs join
/// into one.
fn int_runs(s: &ConvShape) -> (usize, usize, usize, usize) {
    let cg = s.in_channels / s.groups;
    match s.groups == 1 && s.dilation == 1 {
        true => (1, s.kernel * s.in_channels, 0, 0),
        false => (s.kernel, cg, s.dilation * s.in_channels, cg),
    }
}

/// `past` followed by `x`; `past` becomes the last `past.len()` values of that.
fn window<T: Copy>(past: &mut [T], x: &[T]) -> Vec<T> {
    let mut window = Vec::with_capacity(past.len() + x.len());
    window.extend_from_slice(past);
    window.extend_from_slice(x);
    let n = past.len();
    past.copy_from_slice(&window[window.len() - n..]);
    window
}

/// `[rows, cols]` to `[cols, rows]`: depthwise weights `[channels, kernel]` to `[kernel,
/// channels]`, so a tap's weights line up with a frame's channels.
fn transpose<T: Copy>(w: &[T], rows: usize, cols: usize) -> Vec<T> {
    (0..cols).flat_map(|c| (0..rows).map(move |r| w[r * cols + c])).collect()
}
