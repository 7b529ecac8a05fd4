//! SEANet's LSTM block: a stack of unidirectional LSTMs over time with a skip connection.

use candle_core::{Tensor, D};

use crate::weights::Weights;
use crate::Result;

/// One `torch.nn.LSTM` layer, gates in torch's order (input, forget, cell, output).
#[derive(Clone, Debug)]
struct LstmLayer {
    /// `W_ih^T`: `[input, 4 * hidden]`.
    w_ih_t: Tensor,
    /// `W_hh^T`: `[hidden, 4 * hidden]`.
    w_hh_t: Tensor,
    /// `b_ih + b_hh`: `[4 * hidden]`.
    bias: Tensor,
    hidden: usize,
}

impl LstmLayer {
    fn load(w: &Weights, layer: usize, dim: usize) -> Result<Self> {
        let get = |name: &str, shape: &[usize]| w.get(&format!("{name}_l{layer}"), shape);
        Ok(Self {
            w_ih_t: get("weight_ih", &[4 * dim, dim])?.t()?.contiguous()?,
            w_hh_t: get("weight_hh", &[4 * dim, dim])?.t()?.contiguous()?,
            bias: (get("bias_ih", &[4 * dim])? + get("bias_hh", &[4 * dim])?)?,
            hidden: dim,
        })
    }

    /// `[time, batch, input]` -> `[time, batch, hidden]`, from a zero state.
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let (time, batch, input) = xs.dims3()?;
        // The input projection for all steps at once; only the recurrence is sequential.
        let projected = xs
            .reshape((time * batch, input))?
            .matmul(&self.w_ih_t)?
            .broadcast_add(&self.bias)?
            .reshape((time, batch, 4 * self.hidden))?;
        let mut h = Tensor::zeros((batch, self.hidden), xs.dtype(), xs.device())?;
        let mut c = h.clone();
        let mut outputs = Vec::with_capacity(time);
        for t in 0..time {
            let gates = (projected.get(t)? + h.matmul(&self.w_hh_t)?)?;
            let gates = gates.chunk(4, D::Minus1)?;
            let input_gate = candle_nn::ops::sigmoid(&gates[0])?;
            let forget_gate = candle_nn::ops::sigmoid(&gates[1])?;
            let cell_gate = gates[2].tanh()?;
            let output_gate = candle_nn::ops::sigmoid(&gates[3])?;
            c = ((forget_gate * &c)? + (input_gate * cell_gate)?)?;
            h = (output_gate * c.tanh()?)?;
            outputs.push(h.clone());
        }
        Ok(Tensor::stack(&outputs, 0)?)
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

    /// `[batch, dim, time]` -> `[batch, dim, time]`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let xs = x.permute((2, 0, 1))?.contiguous()?;
        let mut ys = xs.clone();
        for layer in &self.layers {
            ys = layer.forward(&ys)?;
        }
        Ok((ys + xs)?.permute((1, 2, 0))?.contiguous()?)
    }
}
