//! Lyra's residual vector quantizer: 46 codebooks of 16 entries (4-bit codes), the first
//! `n` of them for a packet of `4 n` bits. Float op for float op as the quantizer's TFLite
//! graph (its `encode` and `decode` signatures), which runs without a delegate: distances are
//! f32 sums of squared differences in channel order, the first nearest entry wins, and the
//! residual is updated through the graph's straight-through form `r - (r + (e - r))`.

use crate::Result;

use super::tensors::Tensors;

/// The codebooks.
pub(crate) struct Rvq {
    /// `[quantizers, entries, dims]`.
    books: Vec<f32>,
    quantizers: usize,
    entries: usize,
    dims: usize,
}

impl Rvq {
    pub fn load(t: &Tensors<'_>, quantizers: usize, entries: usize, dims: usize) -> Result<Self> {
        let books = t.f32("quantizer.codebooks", &[quantizers, entries, dims])?;
        Ok(Self { books, quantizers, entries, dims })
    }

    fn entry(&self, quantizer: usize, code: usize) -> &[f32] {
        let at = (quantizer * self.entries + code) * self.dims;
        &self.books[at..at + self.dims]
    }

    /// The codes of one frame's features with the first `n` codebooks.
    pub fn encode(&self, features: &[f32], n: usize, codes: &mut Vec<u8>) {
        let mut residual = features.to_vec();
        for q in 0..n.min(self.quantizers) {
            let mut best = (f32::INFINITY, 0);
            for code in 0..self.entries {
                let mut distance = 0.0f32;
                for (r, e) in residual.iter().zip(self.entry(q, code)) {
                    let d = r - e;
                    distance += d * d;
                }
                // Strictly smaller: the first of equal distances wins, as ARG_MIN picks it.
                // (A NaN distance never wins; the encoder's int8 output cannot make one.)
                if distance < best.0 {
                    best = (distance, code);
                }
            }
            codes.push(best.1 as u8);
            let e = self.entry(q, best.1);
            for (r, &e) in residual.iter_mut().zip(e) {
                let straight_through = *r + (e - *r);
                *r -= straight_through;
            }
        }
    }

    /// One frame's features from its codes (the codebooks past `codes.len()` unused): the
    /// graph's sum over all codebooks, each term an entry times 1 (used) or 0 (unused).
    pub fn decode(&self, codes: &[u8], features: &mut [f32]) {
        for q in 0..self.quantizers {
            let (code, weight) = match codes.get(q) {
                Some(&c) => (c as usize, 1.0f32),
                None => (0, 0.0),
            };
            let e = self.entry(q, code.min(self.entries - 1));
            for (f, &e) in features.iter_mut().zip(e) {
                let term = e * weight;
                *f = if q == 0 { term } else { *f + term };
            }
        }
    }
}
