//! SEANet's LSTM block: a stack of unidirectional LSTMs over time with a skip connection.
//! The input projection runs as one GEMM over all steps; only the recurrent product and the
//! gates are sequential, and independent sequences (the 48 kHz model's segments) share them.

use candle_core::Tensor;

use std::ops::Range;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use crate::kernels::gemm::{matmul, MatMut, MatRef, PackedRhs};
use half::slice::HalfFloatSliceExt;
use half::{bf16, f16};

use crate::kernels::matvec::{self, Weight};
use crate::kernels::{self, activation};
use crate::weights::{Precision, Weights};
use crate::Result;

/// Below this many recurrent weights a step is not worth splitting across two threads.
const PARALLEL_MIN_WEIGHTS: usize = 1 << 16;

/// One `torch.nn.LSTM` layer, gates in torch's order (input, forget, cell, output).
#[derive(Clone, Debug)]
struct LstmLayer {
    /// `W_ih` transposed, `[input, 4 * hidden]`, packed for the input projection's GEMM.
    w_ih_t: PackedRhs,
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
            w_ih_t: PackedRhs::row_major(
                &precision.round(flat(get("weight_ih", &[4 * dim, dim])?.t()?)?),
                dim,
                4 * dim,
            ),
            w_hh: match precision {
                Precision::Bf16 => RecurrentWeights::Bf16(w_hh.iter().map(|&v| bf16::from_f32(v)).collect()),
                // Rounding to f16 is what this precision does to every weight; kept as f16, the
                // values are the same and take half the bytes to read each step.
                Precision::F16 => {
                    let mut halves = vec![f16::ZERO; w_hh.len()];
                    halves.convert_from_f32_slice(&w_hh);
                    RecurrentWeights::F16(halves)
                }
                Precision::F32 => RecurrentWeights::F32(w_hh),
            },
            bias: flat((get("bias_ih", &[4 * dim])? + get("bias_hh", &[4 * dim])?)?)?,
            hidden: dim,
        })
    }

    /// `xs` (`[batch * time, input]`: `batch` independent sequences one after the other) ->
    /// `[batch * time, hidden]`, each sequence from a zero state. The sequences step together,
    /// so the recurrent weights are read from memory once per step for all of them; each
    /// sequence's arithmetic is the same as if it ran alone, and the same on one thread or two.
    fn forward(&self, xs: MatRef<'_>, batch: usize, time: usize, state: &mut LayerState) -> Vec<f32> {
        let h = self.hidden;
        let rows = batch * time;
        let mut gates: Vec<f32> = (0..rows).flat_map(|_| self.bias.iter().copied()).collect();
        matmul(MatMut::row_major(&mut gates, rows, 4 * h), xs, self.w_ih_t.view(), true);
        let split = rayon::current_num_threads() > 1 && 4 * h * h >= PARALLEL_MIN_WEIGHTS;
        let recurrence = Recurrence {
            layer: self,
            gates: &gates,
            batch,
            time,
            state: SharedState::new(&state.hidden),
            cell: &state.cell,
        };
        // The other half of the hidden units on a thread of its own for the whole sequence (not
        // a task per step), so that each core always reads the same half of the recurrent
        // weights, which then stays in its L2 cache. Where no thread can be started, one part.
        let parts = std::thread::scope(|scope| {
            let (first, second) = (0..h / 2, h / 2..h);
            let recurrence = &recurrence;
            let theirs = second.clone();
            // The helper is no pool thread: it takes this thread's kernel path along.
            let kernels = kernels::active();
            let helper = split
                .then(|| {
                    let thread = std::thread::Builder::new().name("encodec-lstm".into());
                    let run = move || kernels::with_kernels(kernels, || recurrence.run(1, theirs, true));
                    thread.spawn_scoped(scope, run).ok()
                })
                .flatten();
            match helper {
                Some(helper) => {
                    let mine = recurrence.run(0, first.clone(), true);
                    let theirs = helper.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                    vec![(first, mine), (second, theirs)]
                }
                None => vec![(0..h, recurrence.run(0, 0..h, false))],
            }
        });
        let mut out = vec![0f32; rows * h];
        let mut cell = vec![0f32; batch * h];
        for (units, (part, part_cell)) in parts {
            for (row, part_row) in out.chunks_exact_mut(h).zip(part.chunks_exact(units.len())) {
                row[units.clone()].copy_from_slice(part_row);
            }
            for (row, part_row) in cell.chunks_exact_mut(h).zip(part_cell.chunks_exact(units.len())) {
                row[units.clone()].copy_from_slice(part_row);
            }
        }
        // The state after the last step: each sequence's last output and cell.
        if time > 0 {
            for b in 0..batch {
                let last = (b * time + time - 1) * h;
                state.hidden[b * h..(b + 1) * h].copy_from_slice(&out[last..last + h]);
            }
            state.cell = cell;
        }
        out
    }

    /// `gates[b] += W_hh[units of each gate] hidden[b]` for each sequence `b`; `gates[b]` holds
    /// the four gates' values for `units` one after the other.
    fn recurrent_product(&self, hidden: &[f32], gates: &mut [f32], units: &Range<usize>, backwards: bool) {
        let (h, u) = (self.hidden, units.len());
        let mut gate_blocks: Vec<usize> = (0..4).collect();
        if backwards {
            gate_blocks.reverse();
        }
        for g in gate_blocks {
            let mut ys: Vec<&mut [f32]> =
                gates.chunks_exact_mut(4 * u).map(|b| &mut b[g * u..(g + 1) * u]).collect();
            let rows = (g * h + units.start) * h..(g * h + units.end) * h;
            match &self.w_hh {
                RecurrentWeights::F32(w) => zigzag_matvec(&w[rows], hidden, &mut ys, backwards),
                RecurrentWeights::Bf16(w) => zigzag_matvec(&w[rows], hidden, &mut ys, backwards),
                RecurrentWeights::F16(w) => zigzag_matvec(&w[rows], hidden, &mut ys, backwards),
            }
        }
    }
}

/// The recurrent matrix, in f32 or (for [`Precision::Bf16`] and [`Precision::F16`]) in half
/// the bytes.
#[derive(Clone, Debug)]
enum RecurrentWeights {
    F32(Vec<f32>),
    Bf16(Vec<bf16>),
    F16(Vec<f16>),
}

/// What the parts of a split recurrence share: every sequence's hidden vector, twice (the
/// step's input, and the next one being written), as atomics so that two threads can share
/// them without locks; and how many steps each part has finished.
struct SharedState {
    hidden: [Vec<AtomicU32>; 2],
    done: [AtomicUsize; 2],
}

impl SharedState {
    /// Starting from `hidden`.
    fn new(hidden: &[f32]) -> Self {
        let copy = || hidden.iter().map(|v| AtomicU32::new(v.to_bits())).collect();
        Self { hidden: [copy(), copy()], done: [AtomicUsize::new(0), AtomicUsize::new(0)] }
    }
}

/// One layer's state between calls: every sequence's hidden and cell vectors,
/// `[batch * hidden]` each (zeros at the start of a sequence).
#[derive(Clone, Debug)]
struct LayerState {
    hidden: Vec<f32>,
    cell: Vec<f32>,
}

impl LayerState {
    fn zeros(len: usize) -> Self {
        Self { hidden: vec![0.0; len], cell: vec![0.0; len] }
    }
}

/// One layer's recurrence over precomputed input gates, run as one part or two.
struct Recurrence<'a> {
    layer: &'a LstmLayer,
    /// Input projection plus bias, `[batch * time, 4 * hidden]`.
    gates: &'a [f32],
    batch: usize,
    time: usize,
    state: SharedState,
    /// The cells at the start, `[batch * hidden]`.
    cell: &'a [f32],
}

impl Recurrence<'_> {
    /// Steps the hidden units `units` of every sequence through time, as part `part`; with
    /// `paired`, waits after each step until the other part has finished it too. Returns the
    /// units' outputs, `[batch * time, units.len()]`, and their cells after the last step.
    fn run(&self, part: usize, units: Range<usize>, paired: bool) -> (Vec<f32>, Vec<f32>) {
        // Whatever happens here, never leave the other part waiting.
        struct Finish<'s>(&'s AtomicUsize);
        impl Drop for Finish<'_> {
            fn drop(&mut self) {
                self.0.store(usize::MAX, Ordering::Release);
            }
        }
        let _finish = Finish(&self.state.done[part]);
        let (h, u, batch, time) = (self.layer.hidden, units.len(), self.batch, self.time);
        let mut previous = vec![0f32; batch * h];
        let mut gates = vec![0f32; batch * 4 * u];
        let mut cell: Vec<f32> =
            self.cell.chunks_exact(h).flat_map(|c| c[units.clone()].iter().copied()).collect();
        let mut hidden = vec![0f32; batch * u];
        let mut out = vec![0f32; batch * time * u];
        for step in 0..time {
            let shared = &self.state.hidden[step % 2];
            previous.iter_mut().zip(shared).for_each(|(v, a)| *v = f32::from_bits(a.load(Ordering::Relaxed)));
            for (b, gates) in gates.chunks_exact_mut(4 * u).enumerate() {
                let row = &self.gates[(b * time + step) * 4 * h..][..4 * h];
                for (g, gate) in gates.chunks_exact_mut(u).enumerate() {
                    gate.copy_from_slice(&row[g * h + units.start..g * h + units.end]);
                }
            }
            self.layer.recurrent_product(&previous, &mut gates, &units, step % 2 == 1);
            let next = &self.state.hidden[(step + 1) % 2];
            for b in 0..batch {
                let (hidden, cell) = (&mut hidden[b * u..(b + 1) * u], &mut cell[b * u..(b + 1) * u]);
                activation::lstm_cell(&gates[b * 4 * u..(b + 1) * 4 * u], cell, hidden);
                out[(b * time + step) * u..][..u].copy_from_slice(hidden);
                for (a, v) in next[b * h + units.start..b * h + units.end].iter().zip(hidden.iter()) {
                    a.store(v.to_bits(), Ordering::Relaxed);
                }
            }
            // Publish this step, then wait for the other part's half of the next input. The
            // buffer written next step is the one read this step, which the other part is done
            // reading once it has finished this step.
            self.state.done[part].store(step + 1, Ordering::Release);
            if paired {
                wait_until(&self.state.done[1 - part], step + 1);
            }
        }
        (out, cell)
    }
}

/// Spins until `counter >= value` (the other part of a step is a few microseconds away),
/// yielding the core if it takes long.
fn wait_until(counter: &AtomicUsize, value: usize) {
    let mut spins = 0u32;
    while counter.load(Ordering::Acquire) < value {
        if spins < 1 << 16 {
            std::hint::spin_loop();
            spins += 1;
        } else {
            std::thread::yield_now();
        }
    }
}

/// `ys[b] += W xs[b]` in blocks of rows, every item's product of a block while the block is in
/// cache, last block first when `backwards` (same result either way, and the same as one
/// product at a time). Alternating the direction every step starts each product on the rows
/// the previous one touched last, which are still in the L2 cache, where always walking
/// forwards would evict them just before they are needed.
fn zigzag_matvec<W: Weight>(w: &[W], xs: &[f32], ys: &mut [&mut [f32]], backwards: bool) {
    let Some(rows) = ys.first().map(|y| y.len()) else { return };
    let cols = xs.len() / ys.len();
    // One item: blocks as large as keeps the loop cheap. Several: a block small enough to
    // stay in the L1 cache while every item's product reads it.
    let block_rows = if ys.len() == 1 { 64 } else { (L1_FLOATS / cols.max(1)).clamp(4, 64) };
    let mut block = |first: usize| {
        let end = (first + block_rows).min(rows);
        let w = &w[first * cols..end * cols];
        let mut block: Vec<&mut [f32]> = ys.iter_mut().map(|y| &mut y[first..end]).collect();
        matvec::matvec_add_batch(w, xs, &mut block);
    };
    match backwards {
        false => (0..rows).step_by(block_rows).for_each(&mut block),
        true => (0..rows).step_by(block_rows).rev().for_each(&mut block),
    }
}

/// f32 values that fit in half a typical 32-48 KB L1 data cache.
const L1_FLOATS: usize = 4096;

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

    /// `[batch, time, dim]` -> `[batch, time, dim]`; the items of the batch step together.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let (batch, time, _) = x.dims3()?;
        kernels::apply(x, "lstm", &|input, dims| {
            let mut state = self.state(batch);
            (self.run(input, batch, time, &mut state), dims.to_vec())
        })
    }

    /// Width of the input and output.
    pub fn dim(&self) -> usize {
        self.layers.first().map_or(0, |l| l.hidden)
    }

    /// A state for `batch` sequences at their start.
    pub fn state(&self, batch: usize) -> LstmState {
        LstmState(self.layers.iter().map(|l| LayerState::zeros(batch * l.hidden)).collect())
    }

    /// `batch` sequences' next `time` steps (`[batch * time, dim]`) from `state`, which is
    /// left after the last step: a sequence run a few steps at a time gives what it gives whole.
    pub fn run(&self, input: &[f32], batch: usize, time: usize, state: &mut LstmState) -> Vec<f32> {
        let dim = self.layers.first().map_or(0, |l| l.hidden);
        let mut ys = Vec::new();
        for (k, (layer, state)) in self.layers.iter().zip(&mut state.0).enumerate() {
            let xs = MatRef::row_major(if k == 0 { input } else { &ys }, batch * time, dim);
            ys = layer.forward(xs, batch, time, state);
        }
        // The skip connection (with no layers, the output is the input).
        let mut out = input.to_vec();
        out.iter_mut().zip(&ys).for_each(|(o, y)| *o += y);
        out
    }
}

/// The LSTM's state between chunks of a stream: each layer's hidden and cell vectors.
#[derive(Clone, Debug)]
pub struct LstmState(Vec<LayerState>);

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;
    use std::collections::HashMap;

    fn values(n: usize, salt: usize) -> Vec<f32> {
        (0..n).map(|i| ((i * 7919 + salt * 104729) % 2001) as f32 / 1000.0 - 1.0).collect()
    }

    #[test]
    fn sequences_stepped_together_equal_each_alone() {
        // Wide enough (4 * 128 * 128 recurrent weights) that the step is split over threads.
        let (dim, time, batch) = (128, 9, 3);
        let mut tensors = HashMap::new();
        for layer in 0..2 {
            for (k, (name, n)) in [
                ("weight_ih", 4 * dim * dim),
                ("weight_hh", 4 * dim * dim),
                ("bias_ih", 4 * dim),
                ("bias_hh", 4 * dim),
            ]
            .into_iter()
            .enumerate()
            {
                let shape: Vec<usize> = if n == 4 * dim { vec![4 * dim] } else { vec![4 * dim, dim] };
                let t = Tensor::from_vec(values(n, 4 * layer + k), shape, &Device::Cpu).unwrap();
                tensors.insert(format!("lstm.{name}_l{layer}"), (t * 0.1).unwrap());
            }
        }
        let lstm = Lstm::load(&Weights::from_tensors(tensors, &Device::Cpu), dim, 2).unwrap();
        let x = Tensor::from_vec(values(batch * time * dim, 9), (batch, time, dim), &Device::Cpu).unwrap();
        let together = lstm.forward(&x).unwrap();
        for b in 0..batch {
            let alone = lstm.forward(&x.narrow(0, b, 1).unwrap()).unwrap();
            let together = together.narrow(0, b, 1).unwrap();
            assert_eq!(
                alone.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
                together.flatten_all().unwrap().to_vec1::<f32>().unwrap()
            );
        }
        // The state carries over time: later steps differ from a fresh start on the same input.
        let later = lstm.forward(&x.narrow(1, 1, 1).unwrap()).unwrap();
        assert_ne!(later.to_vec3::<f32>().unwrap()[0][0], together.to_vec3::<f32>().unwrap()[0][1]);
    }
}
