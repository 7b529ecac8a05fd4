//! The residual vector quantizer: nearest-codebook search and its inverse.

use candle_core::Tensor;
use rayon::prelude::*;

use crate::kernels::gemm::{matmul, MatMut, MatRef, PackedRhs};
use crate::weights::Weights;
use crate::{Error, Result};

/// One codebook: `bins` vectors of `dim` values.
#[derive(Clone, Debug)]
pub struct Codebook {
    /// `[dim, bins]`, packed for the distance GEMM; entry `i` is column `i` (the only copy
    /// kept: a row-major one would add 16 MB to the 24 kHz model).
    embed_t: PackedRhs,
    /// `|e|^2` per entry, `[bins]`.
    embed_sq: Vec<f32>,
    dim: usize,
}

impl Codebook {
    fn load(w: &Weights, bins: usize, dim: usize) -> Result<Self> {
        let embed: Vec<f32> = w.get("embed", &[bins, dim])?.flatten_all()?.to_vec1()?;
        let embed_t = PackedRhs::new(MatRef::row_major(&embed, bins, dim).t());
        let embed_sq = embed.chunks_exact(dim).map(|e| e.iter().map(|v| v * v).sum()).collect();
        Ok(Self { embed_t, embed_sq, dim })
    }

    /// The nearest entry to each row of `x` (`[frames, dim]`), with the reference's formula
    /// `|x|^2 - 2 x.e + |e|^2` in f32 and its tie-break (the lowest index): the products as
    /// one GEMM, the norms precomputed. A distance that overflows is an error, where the
    /// reference would silently pick entry 0.
    pub fn nearest(&self, x: &[f32]) -> Result<Vec<u32>> {
        let frames = x.len() / self.dim;
        let bins = self.embed_sq.len();
        let mut cross = vec![0f32; frames * bins];
        matmul(
            MatMut::row_major(&mut cross, frames, bins),
            MatRef::row_major(x, frames, self.dim),
            self.embed_t.view(),
            false,
        );
        x.par_chunks_exact(self.dim)
            .zip(cross.par_chunks_exact(bins))
            .map(|(row, cross)| {
                let x_sq: f32 = row.iter().map(|v| v * v).sum();
                let mut best = (0, f32::INFINITY);
                for (i, (&c, &e_sq)) in cross.iter().zip(&self.embed_sq).enumerate() {
                    let d = x_sq - 2.0 * c + e_sq;
                    if !d.is_finite() {
                        return Err(Error::EncoderOverflow);
                    }
                    if d < best.1 {
                        best = (i, d);
                    }
                }
                Ok(best.0 as u32)
            })
            .collect()
    }

    /// Entry `code`.
    fn entry(&self, code: u32) -> impl Iterator<Item = f32> + '_ {
        self.embed_t.column(code as usize)
    }
}

/// `num_quantizers` codebooks applied one after another to what the previous ones left.
#[derive(Clone, Debug)]
pub struct ResidualVectorQuantizer {
    codebooks: Vec<Codebook>,
    bins: usize,
}

impl ResidualVectorQuantizer {
    /// Loads `quantizer.layers.{k}.codebook.embed` (pass the `quantizer` prefix).
    pub fn load(w: &Weights, num_quantizers: usize, bins: usize, dim: usize) -> Result<Self> {
        let w = w.pp("layers");
        let codebooks = (0..num_quantizers)
            .map(|k| Codebook::load(&w.pp(k).pp("codebook"), bins, dim))
            .collect::<Result<_>>()?;
        Ok(Self { codebooks, bins })
    }

    /// Number of codebooks.
    pub fn len(&self) -> usize {
        self.codebooks.len()
    }

    /// Embeddings `[frames, dim]` -> `codes[k][frame]` for the first `n` codebooks.
    pub fn encode(&self, embeddings: &Tensor, n: usize) -> Result<Vec<Vec<u32>>> {
        let mut residual: Vec<f32> = embeddings.flatten_all()?.to_vec1()?;
        let mut codes = Vec::with_capacity(n);
        for codebook in &self.codebooks[..n.min(self.len())] {
            let indices = codebook.nearest(&residual)?;
            for (row, &code) in residual.chunks_exact_mut(codebook.dim).zip(&indices) {
                row.iter_mut().zip(codebook.entry(code)).for_each(|(r, e)| *r -= e);
            }
            codes.push(indices);
        }
        Ok(codes)
    }

    /// Checks that `codes[k][frame]` fit this quantizer: 1 to `len()` codebooks, every code
    /// below the codebook size.
    pub fn check(&self, codes: &[Vec<u32>]) -> Result<()> {
        if codes.is_empty() || codes.len() > self.len() {
            return Err(Error::InvalidCodes(format!(
                "{} codebooks given, the model has 1 to {}",
                codes.len(),
                self.len()
            )));
        }
        if let Some(&bad) = codes.iter().flatten().find(|&&c| c as usize >= self.bins) {
            return Err(Error::InvalidCodes(format!("code {bad} is outside the codebook of {}", self.bins)));
        }
        Ok(())
    }

    /// `codes[k][frame]` -> embeddings `[frames, dim]`: the sum of the entries, in order.
    pub fn decode(&self, codes: &[Vec<u32>]) -> Result<Tensor> {
        self.check(codes)?;
        let (frames, dim) = (codes[0].len(), self.codebooks[0].dim);
        let mut sum = vec![0f32; dim * frames];
        for (t, frame) in sum.chunks_exact_mut(dim).enumerate() {
            frame.iter_mut().zip(self.codebooks[0].entry(codes[0][t])).for_each(|(s, e)| *s = e);
            for (codebook, indices) in self.codebooks.iter().zip(codes).skip(1) {
                frame.iter_mut().zip(codebook.entry(indices[t])).for_each(|(s, e)| *s += e);
            }
        }
        Ok(Tensor::from_vec(sum, (frames, dim), &candle_core::Device::Cpu)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;
    use std::collections::HashMap;

    fn codebook(entries: &[[f32; 2]]) -> Codebook {
        let flat: Vec<f32> = entries.iter().flatten().copied().collect();
        let embed = Tensor::from_vec(flat, (entries.len(), 2), &Device::Cpu).unwrap();
        let weights = Weights::from_tensors(HashMap::from([("embed".to_string(), embed)]), &Device::Cpu);
        Codebook::load(&weights, entries.len(), 2).unwrap()
    }

    #[test]
    fn exact_ties_go_to_the_lowest_index() {
        // torch.max(dim) returns the first maximal index; duplicated and mirrored entries tie
        // exactly in any arithmetic.
        let cb = codebook(&[[5.0, 5.0], [1.0, 0.0], [-1.0, 0.0], [1.0, 0.0]]);
        assert_eq!(cb.nearest(&[0.0, 0.0, 1.0, 0.0]).unwrap(), vec![1, 1]);
    }

    #[test]
    fn overflowing_distances_are_an_error() {
        let cb = codebook(&[[0.0, 0.0], [1.0, 1.0]]);
        assert!(matches!(cb.nearest(&[1e30, 1e30]), Err(Error::EncoderOverflow)));
    }
}
