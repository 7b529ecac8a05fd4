//! The residual vector quantizer: nearest-codebook search and its inverse.

use candle_core::Tensor;

use crate::weights::Weights;
use crate::{Error, Result};

/// One codebook: `bins` vectors of `dim` values.
#[derive(Clone, Debug)]
pub struct Codebook {
    /// `[bins, dim]`.
    embed: Tensor,
    /// `embed^T`, `[dim, bins]`, for the distance matmul.
    embed_t: Tensor,
    /// `|e|^2` per entry, `[1, bins]`.
    embed_sq: Tensor,
}

impl Codebook {
    fn load(w: &Weights, bins: usize, dim: usize) -> Result<Self> {
        let embed = w.get("embed", &[bins, dim])?;
        Ok(Self {
            embed_t: embed.t()?.contiguous()?,
            embed_sq: embed.sqr()?.sum_keepdim(1)?.t()?.contiguous()?,
            embed,
        })
    }

    /// The nearest entry to each row of `x` (`[frames, dim]`), with the reference's formula
    /// `|x|^2 - 2 x.e + |e|^2` in f32 and its tie-break (the lowest index). A distance that
    /// overflows is an error, where the reference would silently pick entry 0.
    pub fn nearest(&self, x: &Tensor) -> Result<Vec<u32>> {
        let x_sq = x.sqr()?.sum_keepdim(1)?;
        let cross = (x.matmul(&self.embed_t)? * 2.0)?;
        let dist = x_sq.broadcast_sub(&cross)?.broadcast_add(&self.embed_sq)?;
        let rows = dist.to_vec2::<f32>()?;
        rows.iter()
            .map(|row| {
                let mut best = 0;
                for (i, &d) in row.iter().enumerate() {
                    if !d.is_finite() {
                        return Err(Error::EncoderOverflow);
                    }
                    if d < row[best] {
                        best = i;
                    }
                }
                Ok(best as u32)
            })
            .collect()
    }

    /// The entries for `codes`: `[frames, dim]`.
    pub fn lookup(&self, codes: &[u32]) -> Result<Tensor> {
        let index = Tensor::from_slice(codes, codes.len(), self.embed.device())?;
        Ok(self.embed.index_select(&index, 0)?)
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

    /// Whether there are no codebooks.
    pub fn is_empty(&self) -> bool {
        self.codebooks.is_empty()
    }

    /// Embeddings `[dim, frames]` -> `codes[k][frame]` for the first `n` codebooks.
    pub fn encode(&self, embeddings: &Tensor, n: usize) -> Result<Vec<Vec<u32>>> {
        let mut residual = embeddings.t()?.contiguous()?;
        let mut codes = Vec::with_capacity(n);
        for codebook in &self.codebooks[..n.min(self.len())] {
            let indices = codebook.nearest(&residual)?;
            residual = (residual - codebook.lookup(&indices)?)?;
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

    /// `codes[k][frame]` -> embeddings `[dim, frames]`: the sum of the entries, in order.
    pub fn decode(&self, codes: &[Vec<u32>]) -> Result<Tensor> {
        self.check(codes)?;
        let mut sum = self.codebooks[0].lookup(&codes[0])?;
        for (codebook, indices) in self.codebooks.iter().zip(codes).skip(1) {
            sum = (sum + codebook.lookup(indices)?)?;
        }
        Ok(sum.t()?.contiguous()?)
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
        let x = Tensor::from_vec(vec![0.0f32, 0.0, 1.0, 0.0], (2, 2), &Device::Cpu).unwrap();
        assert_eq!(cb.nearest(&x).unwrap(), vec![1, 1]);
    }

    #[test]
    fn overflowing_distances_are_an_error() {
        let cb = codebook(&[[0.0, 0.0], [1.0, 1.0]]);
        let x = Tensor::from_vec(vec![1e30f32, 1e30], (1, 2), &Device::Cpu).unwrap();
        assert!(matches!(cb.nearest(&x), Err(Error::EncoderOverflow)));
    }
}
