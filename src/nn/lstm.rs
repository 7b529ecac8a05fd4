//! SEANet's LSTM block: a stack of unidirectional LSTMs over time with a skip connection.
//! The input projection runs as one GEMM over all steps; only the recurrent matrix-vector
//! product and the gates are sequential.

use candle_core::Tensor;

use crate::kernels::gemm::{matmul, MatMut, MatRef};
use half::bf16;

use crate::kernels::matvec::{self, Weight};
use crate::kernels::{self, activation};
use crate::weights::{Precision, Weights};
use crate::Result;

/// Below this many recurrent weights a step's product is not worth splitting across threads.
const PARALLEL_MIN_WEIGHTS: usize = 1 << 16;

/// One `torch.nn.LSTM` layer, gates in torch's order (input, forget, cell, output).
#[derive(Clone, Debug)]
struct LstmLayer {
    /// `W_ih`: `[4 * hidden, input]`.
    w_ih: Vec<f32>,
    /// `W_hh`: `[4 * hidden, hidden]`.
    w_hh: RecurrentWeights,
    /// `b_ih + b_hh`: `[4 * hidden]`.
    bias: Vec<f32>,
    hidden: usize,
}

impl LstmLayer {
    fn load(w: &Weights, layer: usize, dim: usize) -> Result<Self> {
        let get = |name: &str, shape: &[usize]| w.get(&format!("{name}_l{layer}"), shape);
        let flat = |t: Tensor| -> Result<Vec<f32>> { Ok(t.flatten_all()?.to_vec1()?) };
        let precision = w.precision();
        let w_hh = flat(get("weight_hh", &[4 * dim, dim])?)?;
        Ok(Self {
            w_ih: precision.round(flat(get("weight_ih", &[4 * dim, dim])?)?),
            w_hh: match precision {
                Precision::Bf16 => RecurrentWeights::Bf16(w_hh.iter().map(|&v| bf16::from_f32(v)).collect()),
                _ => RecurrentWeights::F32(precision.round(w_hh)),
            },
            bias: flat((get("bias_ih", &[4 * dim])? + get("bias_hh", &[4 * dim])?)?)?,
            hidden: dim,
        })
    }

    /// `xs` (`[time, input]`) -> `[time, hidden]`, from a zero state.
    fn forward(&self, xs: MatRef<'_>, time: usize) -> Vec<f32> {
        let h = self.hidden;
        let mut gates: Vec<f32> = (0..time).flat_map(|_| self.bias.iter().copied()).collect();
        let w_ih_t = MatRef::row_major(&self.w_ih, 4 * h, self.w_ih.len() / (4 * h)).t();
        matmul(MatMut::row_major(&mut gates, time, 4 * h), xs, w_ih_t, true);
        let mut state = vec![0f32; 2 * h];
        let mut out = vec![0f32; time * h];
        for (step, (step_gates, step_out)) in
            gates.chunks_exact_mut(4 * h).zip(out.chunks_exact_mut(h)).enumerate()
        {
            let (hidden, cell) = state.split_at_mut(h);
            self.recurrent_product(hidden, step_gates, step % 2 == 1);
            activation::lstm_cell(step_gates, cell, hidden);
            step_out.copy_from_slice(hidden);
        }
        out
    }

    /// `gates += W_hh h`.
    fn recurrent_product(&self, hidden: &[f32], gates: &mut [f32], backwards: bool) {
        match &self.w_hh {
            RecurrentWeights::F32(w) => split_matvec(w, hidden, gates, backwards),
            RecurrentWeights::Bf16(w) => split_matvec(w, hidden, gates, backwards),
        }
    }
}

/// The recurrent matrix, in f32 or (for [`Precision::Bf16`]) in half the bytes.
#[derive(Clone, Debug)]
enum RecurrentWeights {
    F32(Vec<f32>),
    Bf16(Vec<bf16>),
}

/// `y += W x`, the two halves of the rows on two threads when there are two.
fn split_matvec<W: Weight>(w: &[W], x: &[f32], y: &mut [f32], backwards: bool) {
    if rayon::current_num_threads() > 1 && w.len() >= PARALLEL_MIN_WEIGHTS {
        let half = y.len() / 2;
        let (w_top, w_bottom) = w.split_at(half * x.len());
        let (y_top, y_bottom) = y.split_at_mut(half);
        rayon::join(
            || zigzag_matvec(w_top, x, y_top, backwards),
            || zigzag_matvec(w_bottom, x, y_bottom, backwards),
        );
    } else {
        zigzag_matvec(w, x, y, backwards);
    }
}

/// `y += W x` in blocks of rows, last block first when `backwards` (same result either way).
/// Alternating the direction every step starts each product on the rows the previous one
/// touched last, which are still in the L2 cache, where always walking forwards would evict
/// them just before they are needed.
fn zigzag_matvec<W: Weight>(w: &[W], x: &[f32], y: &mut [f32], backwards: bool) {
    const ROWS: usize = 64;
    let blocks = w.chunks(ROWS * x.len()).zip(y.chunks_mut(ROWS));
    match backwards {
        false => blocks.for_each(|(w, y)| matvec::matvec_add(w, x, y)),
        true => blocks.rev().for_each(|(w, y)| matvec::matvec_add(w, x, y)),
    }
}

/// `SLSTM`: `num_layers` LSTMs of width `dim`, output plus input.
#[derive(Clone, Debug)]
pub struct Lstm {
    layers: Vec<LstmLayer>,
}

impl Lstm {
    /// Loads `lstm.weight_ih_l{k}` etc. under `w`.
    pub fn load(w: &Weights, dim: usize, num_layers: usize) -> Result<Self> {
        let w = w.pp("lstm");
        let layers = (0..num_layers).map(|k| LstmLayer::load(&w, k, dim)).collect::<Result<_>>()?;
        Ok(Self { layers })
    }

    /// `dim x layers`, for the profile.
    pub fn describe(&self) -> String {
        format!("{}x{}", self.layers.first().map_or(0, |l| l.hidden), self.layers.len())
    }

    /// `[batch, time, dim]` -> `[batch, time, dim]`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let (_, time, dim) = x.dims3()?;
        kernels::apply(x, "lstm", &|input, dims| {
            let mut out = input.to_vec();
            for (item, out) in input.chunks_exact(time * dim).zip(out.chunks_exact_mut(time * dim)) {
                let mut ys = Vec::new();
                for (k, layer) in self.layers.iter().enumerate() {
                    let xs = MatRef::row_major(if k == 0 { item } else { &ys }, time, dim);
                    ys = layer.forward(xs, time);
                }
                // The skip connection (with no layers, the output is the input).
                out.iter_mut().zip(&ys).for_each(|(o, y)| *o += y);
            }
            (out, dims.to_vec())
        })
    }
}
