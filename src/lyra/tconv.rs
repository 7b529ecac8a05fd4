//! Lyra's streaming transposed convolutions (upsampling), in f32 or int8.
//!
//! The graph runs them one 20 ms frame at a time: each frame's input rows (a "block") give
//! `(block - 1) * stride + kernel` output rows, of which the first `block * stride` are final
//! once the last frame's overlap (`kernel - stride` rows) is added, and the rest, less the
//! bias, is kept for the next frame. Within a block the taps meet in the accumulator (f32:
//! bias, then one fused multiply-add per tap, ascending, and input channel, as XNNPACK's
//! deconvolution; int8: an exact i32 sum, requantised per group and dequantised); across
//! blocks in the f32 overlap. Several frames in one call are processed block by block, so the
//! bits never depend on how a signal is cut into calls.

use crate::kernels::gemm::{matmul, MatMut, MatRef, PackedRhs};
use crate::kernels::lanes;
use crate::Result;

use super::plan::QParams;
use super::quant::{dequantize, Requantizer};
use super::tensors::Tensors;
use super::value::Act;

/// A transposed convolution's shape.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TconvShape {
    pub in_channels: usize,
    pub out_channels: usize,
    pub kernel: usize,
    pub stride: usize,
    pub groups: usize,
}

enum Kind {
    /// Per group and tap, `[in / groups, out / groups]`.
    F32 { weights: Vec<PackedRhs>, bias: Vec<f32> },
    /// `[out, kernel, in / groups]` widened to i16; per group, its requantisation and output
    /// quantisation.
    Q8 { weights: Vec<i16>, bias: Vec<i32>, input_zero_point: i32, groups: Vec<(Requantizer, QParams)> },
}

/// One transposed convolution layer.
pub(crate) struct Tconv {
    shape: TconvShape,
    kind: Kind,
    /// Subtracted from the kept overlap (the next frame's rows bring their own bias).
    overlap_bias: Vec<f32>,
}

impl Tconv {
    /// Loads `<prefix>.weight` `[out, kernel, in / groups]`, `.bias` and `.overlap_bias`; int8
    /// when `q` gives the input's quantisation and each group's output quantisation.
    pub fn load(
        t: &Tensors<'_>,
        prefix: &str,
        shape: TconvShape,
        q: Option<(QParams, &[QParams])>,
    ) -> Result<Self> {
        let TconvShape { in_channels: cin, out_channels: cout, kernel: k, groups: g, .. } = shape;
        let (cg, og) = (cin / g, cout / g);
        let w_shape = [cout, k, cg];
        let overlap_bias = t.f32(&format!("{prefix}.overlap_bias"), &[cout])?;
        let kind = match q {
            None => {
                let w = t.f32(&format!("{prefix}.weight"), &w_shape)?;
                let mut weights = Vec::with_capacity(g * k);
                for group in 0..g {
                    for tap in 0..k {
                        let view = MatRef::new(&w[(group * og * k + tap) * cg..], og, cg, k * cg, 1);
                        weights.push(PackedRhs::new(view.t()));
                    }
                }
                Kind::F32 { weights, bias: t.f32(&format!("{prefix}.bias"), &[cout])? }
            }
            Some((q_in, q_groups)) => {
                let scales = t.f32(&format!("{prefix}.weight_scale"), &[cout])?;
                let groups = q_groups
                    .iter()
                    .enumerate()
                    .map(|(i, &q_out)| (Requantizer::new(q_in, &scales[i * og..(i + 1) * og], q_out), q_out))
                    .collect();
                Kind::Q8 {
                    weights: t.i8_as_i16(&format!("{prefix}.weight"), &w_shape)?,
                    bias: t.i32(&format!("{prefix}.bias"), &[cout])?,
                    input_zero_point: q_in.zero_point(),
                    groups,
                }
            }
        };
        Ok(Self { shape, kind, overlap_bias })
    }

    /// The overlap before the first frame: zeros.
    pub fn new_state(&self) -> Vec<f32> {
        vec![0.0; (self.shape.kernel - self.shape.stride) * self.shape.out_channels]
    }

    /// `x` holds `frames` frames' blocks of input rows; returns their final output rows (f32).
    pub fn forward(&self, overlap: &mut [f32], x: &Act, frames: usize) -> Vec<f32> {
        let TconvShape { in_channels: cin, out_channels: cout, stride, .. } = self.shape;
        let rows = x.len() / cin;
        let block = rows.checked_div(frames).unwrap_or(0);
        let mut out = Vec::with_capacity(rows * stride * cout);
        for f in 0..frames {
            let mut y = match (&self.kind, x) {
                (Kind::F32 { weights, bias }, Act::F32(x)) => {
                    self.f32_block(&x[f * block * cin..(f + 1) * block * cin], weights, bias)
                }
                (Kind::Q8 { weights, bias, input_zero_point, groups }, Act::Q8(x)) => {
                    let xb = &x[f * block * cin..(f + 1) * block * cin];
                    let wide: Vec<i16> = xb.iter().map(|&q| q as i16 - *input_zero_point as i16).collect();
                    self.q8_block(&wide, weights, bias, groups)
                }
                _ => unreachable!("layer and value types are checked at load"),
            };
            y.iter_mut().zip(overlap.iter()).for_each(|(y, &o)| *y += o);
            let emitted = block * stride * cout;
            overlap
                .iter_mut()
                .zip(&y[emitted..])
                .zip(self.overlap_bias.iter().cycle())
                .for_each(|((o, &y), &b)| *o = y - b);
            out.extend_from_slice(&y[..emitted]);
        }
        out
    }

    fn block_rows(&self, block: usize) -> usize {
        (block.max(1) - 1) * self.shape.stride + self.shape.kernel
    }

    fn f32_block(&self, xb: &[f32], weights: &[PackedRhs], bias: &[f32]) -> Vec<f32> {
        let TconvShape { in_channels: cin, out_channels: cout, kernel: k, stride, groups: g } = self.shape;
        let (cg, og) = (cin / g, cout / g);
        let block = xb.len() / cin;
        let mut y: Vec<f32> = bias.iter().copied().cycle().take(self.block_rows(block) * cout).collect();
        if block == 0 {
            return y;
        }
        for tap in 0..k {
            for group in 0..g {
                // Output rows tap, tap + stride, ...: one per input row.
                let dst = MatMut::new(&mut y[tap * cout + group * og..], block, og, stride * cout, 1);
                let lhs = MatRef::new(&xb[group * cg..], block, cg, cin, 1);
                matmul(dst, lhs, weights[group * k + tap].view(), true);
            }
        }
        y
    }

    fn q8_block(
        &self,
        wide: &[i16],
        weights: &[i16],
        bias: &[i32],
        groups: &[(Requantizer, QParams)],
    ) -> Vec<f32> {
        let TconvShape { in_channels: cin, out_channels: cout, kernel: k, stride, groups: g } = self.shape;
        let (cg, og) = (cin / g, cout / g);
        let block = wide.len() / cin;
        let rows = self.block_rows(block);
        let mut acc: Vec<i32> = bias.iter().copied().cycle().take(rows * cout).collect();
        for h in 0..block {
            for tap in 0..k {
                let row = &mut acc[(h * stride + tap) * cout..(h * stride + tap + 1) * cout];
                for (o, a) in row.iter_mut().enumerate() {
                    let group = o / og;
                    let x = &wide[h * cin + group * cg..h * cin + (group + 1) * cg];
                    *a += lanes::dot_i16(x, &weights[(o * k + tap) * cg..(o * k + tap + 1) * cg]);
                }
            }
        }
        acc.iter()
            .enumerate()
            .map(|(i, &a)| {
                let o = i % cout;
                let (requantizer, q) = &groups[o / og];
                dequantize(requantizer.requantize(a, o % og), *q)
            })
            .collect()
    }
}
