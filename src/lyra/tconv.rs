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
use crate::kernels::lanes::{self, PackedInt};
use crate::Result;

use super::conv::pack_taps;
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
    F32 {
        weights: TapWeights,
        bias: Vec<f32>,
    },
    /// Per tap, `[out, in / groups]` widened to i16 and packed for `lanes::int_gemm`; per
    /// group, its requantisation and output quantisation.
    Q8 {
        taps: Vec<PackedInt>,
        bias: Vec<i32>,
        input_zero_point: i32,
        groups: Vec<(Requantizer, QParams)>,
    },
}

/// An f32 layer's weights.
enum TapWeights {
    /// Per group and tap, `[in / groups, out / groups]`: one product per tap over the block.
    PerTap(Vec<PackedRhs>),
    /// `[in, kernel * out]` (one group, few outputs): one product per input row, whose taps'
    /// output rows are consecutive. The last layer has one output channel, where a product per
    /// tap is one column wide and wastes all but one lane of every vector.
    PerRow(PackedRhs),
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
                let weights = if g == 1 && cout < 8 {
                    // Row i, column tap * out + o: w[o, tap, i].
                    let rows: Vec<f32> = (0..cin)
                        .flat_map(|i| (0..k).flat_map(move |tap| (0..cout).map(move |o| (o, tap, i))))
                        .map(|(o, tap, i)| w[(o * k + tap) * cg + i])
                        .collect();
                    TapWeights::PerRow(PackedRhs::row_major(&rows, cin, k * cout))
                } else {
                    TapWeights::PerTap(pack_taps(&w, g, k, og, cg))
                };
                Kind::F32 { weights, bias: t.f32(&format!("{prefix}.bias"), &[cout])? }
            }
            Some((q_in, q_groups)) => {
                let scales = t.f32(&format!("{prefix}.weight_scale"), &[cout])?;
                let groups = q_groups
                    .iter()
                    .enumerate()
                    .map(|(i, &q_out)| (Requantizer::new(q_in, &scales[i * og..(i + 1) * og], q_out), q_out))
                    .collect();
                let w = t.i8_as_i16(&format!("{prefix}.weight"), &w_shape)?;
                // Tap `tap` of output `o`: `w[o, tap, ..]`, `k * cg` apart from one output to the next.
                let taps =
                    (0..k).map(|tap| PackedInt::new(&w[tap * cg..], cout, og, 1, cg, k * cg)).collect();
                Kind::Q8 {
                    taps,
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
        let block_rows = self.block_rows(block);
        let y_len = block_rows * cout;
        // Every frame's block first (each stands alone until the overlap joins them; the int8
        // products of all frames in one pass, exact), then the f32 overlap frame by frame.
        let mut ys = match (&self.kind, x) {
            (Kind::F32 { weights, bias }, Act::F32(x)) => {
                let mut ys = bias.repeat(frames * block_rows);
                for (f, y) in ys.chunks_exact_mut(y_len).enumerate() {
                    self.f32_block(&x[f * block * cin..(f + 1) * block * cin], weights, y);
                }
                ys
            }
            (Kind::Q8 { taps, bias, input_zero_point, groups }, Act::Q8(x)) => {
                let zero_point = *input_zero_point as i16;
                let wide = lanes::map(&x[..frames * block * cin], |q| q as i16 - zero_point);
                self.q8_blocks(&wide, frames, taps, bias, groups)
            }
            _ => unreachable!("layer and value types are checked at load"),
        };
        let emitted = block * stride * cout;
        let mut out = Vec::with_capacity(frames * emitted);
        for y in ys.chunks_exact_mut(y_len) {
            y.iter_mut().zip(overlap.iter()).for_each(|(y, &o)| *y += o);
            for (o, y) in overlap.chunks_exact_mut(cout).zip(y[emitted..].chunks_exact(cout)) {
                o.iter_mut().zip(y).zip(&self.overlap_bias).for_each(|((o, &y), &b)| *o = y - b);
            }
            out.extend_from_slice(&y[..emitted]);
        }
        out
    }

    fn block_rows(&self, block: usize) -> usize {
        (block.max(1) - 1) * self.shape.stride + self.shape.kernel
    }

    /// Adds one frame's block of input rows `xb` onto its output rows `y` (bias already in).
    fn f32_block(&self, xb: &[f32], weights: &TapWeights, y: &mut [f32]) {
        let TconvShape { in_channels: cin, out_channels: cout, kernel: k, stride, groups: g } = self.shape;
        let (cg, og) = (cin / g, cout / g);
        let block = xb.len() / cin;
        if block == 0 {
            return;
        }
        match weights {
            TapWeights::PerTap(per) => {
                for tap in 0..k {
                    for group in 0..g {
                        // Output rows tap, tap + stride, ...: one per input row.
                        let dst = MatMut::new(&mut y[tap * cout + group * og..], block, og, stride * cout, 1);
                        let lhs = MatRef::new(&xb[group * cg..], block, cg, cin, 1);
                        matmul(dst, lhs, per[group * k + tap].view(), true);
                    }
                }
            }
            TapWeights::PerRow(w) => {
                // Input row h adds onto output rows h * stride.. (its taps, ascending). The last
                // row first: an output row then meets its taps in ascending order, as above.
                for h in (0..block).rev() {
                    let dst = MatMut::row_major(&mut y[h * stride * cout..][..k * cout], 1, k * cout);
                    matmul(dst, MatRef::row_major(&xb[h * cin..][..cin], 1, cin), w.view(), true);
                }
            }
        }
    }

    /// The rows of `frames` blocks of `wide.len() / frames / in` input rows each, block after
    /// block (each `block_rows` long, bias included), requantised and dequantised per group.
    fn q8_blocks(
        &self,
        wide: &[i16],
        frames: usize,
        taps: &[PackedInt],
        bias: &[i32],
        groups: &[(Requantizer, QParams)],
    ) -> Vec<f32> {
        let TconvShape { in_channels: cin, out_channels: cout, stride, groups: g, .. } = self.shape;
        let (cg, og) = (cin / g, cout / g);
        let block = wide.len().checked_div(frames * cin).unwrap_or(0);
        let block_rows = self.block_rows(block);
        let mut acc: Vec<i32> = bias.repeat(frames * block_rows);
        // Tap `tap` of a block's input row `h` lands on its output row `h * stride + tap`: one
        // product per (row of the block, tap) over every frame.
        for h in 0..block {
            for (tap, w) in taps.iter().enumerate() {
                let at = lanes::IntRows {
                    rows: frames,
                    acc_row: block_rows * cout,
                    x_row: block * cin,
                    run_step: 0,
                    group_step: cg,
                };
                lanes::int_gemm(&mut acc[(h * stride + tap) * cout..], &wide[h * cin..], w, at);
            }
        }
        let mut out = Vec::with_capacity(acc.len());
        for row in acc.chunks_exact(cout) {
            for (part, (requantizer, q)) in row.chunks_exact(og).zip(groups) {
                out.extend(
                    part.iter().enumerate().map(|(c, &a)| dequantize(requantizer.requantize(a, c), *q)),
                );
            }
        }
        out
    }
}
