//! The neurogram similarity index measure (NSIM): SSIM's intensity and structure terms over a
//! 3×3 Gaussian window, between a reference patch and a degraded patch of the spectrogram.

use super::matrix::Matrix;

/// ViSQOL's 3×3 Gaussian window (σ = 0.5).
const WINDOW: [[f64; 3]; 3] = [
    [0.0113033910173052, 0.0838251475442633, 0.0113033910173052],
    [0.0838251475442633, 0.619485845753726, 0.0838251475442633],
    [0.0113033910173052, 0.0838251475442633, 0.0113033910173052],
];
/// SSIM's stabilisers for an intensity range of 1: (0.01)² and (0.03)²/2.
const C1: f64 = 0.01 * 0.01;
const C3: f64 = 0.03 * 0.03 / 2.0;

/// How one reference patch compares with its degraded match.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct PatchSimilarity {
    /// Mean NSIM over the patch.
    pub similarity: f64,
    /// Per band: mean and standard deviation of NSIM over the patch's frames, and the
    /// degraded patch's mean level.
    pub band_means: Vec<f64>,
    pub band_stddevs: Vec<f64>,
    pub band_degraded_energy: Vec<f64>,
    /// Where the patches are, in seconds.
    pub reference_start: f64,
    pub reference_end: f64,
    pub degraded_start: f64,
    pub degraded_end: f64,
}

/// The window applied at every cell of `m`, its edges repeated beyond the border.
fn smooth(m: &Matrix) -> Matrix {
    let mut out = Matrix::zeros(m.rows, m.cols);
    let clamp = |i: isize, n: usize| i.clamp(0, n as isize - 1) as usize;
    for r in 0..m.rows {
        for c in 0..m.cols {
            let mut sum = 0.0;
            for (dr, row) in WINDOW.iter().enumerate() {
                for (dc, w) in row.iter().enumerate() {
                    let rr = clamp(r as isize + dr as isize - 1, m.rows);
                    let cc = clamp(c as isize + dc as isize - 1, m.cols);
                    sum += w * m.get(rr, cc);
                }
            }
            out.set(r, c, sum);
        }
    }
    out
}

/// NSIM of two patches of the same shape.
pub(crate) fn patch_similarity(reference: &Matrix, degraded: &Matrix) -> PatchSimilarity {
    let product = |a: &Matrix, b: &Matrix| Matrix {
        rows: a.rows,
        cols: a.cols,
        data: a.data.iter().zip(&b.data).map(|(x, y)| x * y).collect(),
    };
    let mu_r = smooth(reference);
    let mu_d = smooth(degraded);
    let rr = smooth(&product(reference, reference));
    let dd = smooth(&product(degraded, degraded));
    let rd = smooth(&product(reference, degraded));
    let (rows, cols) = (reference.rows, reference.cols);
    let mut band_means = Vec::with_capacity(rows);
    let mut band_stddevs = Vec::with_capacity(rows);
    let mut map = vec![0.0; cols];
    for r in 0..rows {
        for (c, cell) in map.iter_mut().enumerate() {
            let (mr, md) = (mu_r.get(r, c), mu_d.get(r, c));
            let var_r = rr.get(r, c) - mr * mr;
            let var_d = dd.get(r, c) - md * md;
            let cov = rd.get(r, c) - mr * md;
            let intensity = (2.0 * mr * md + C1) / (mr * mr + md * md + C1);
            let var_product = var_r * var_d;
            let structure_denominator = match var_product < 0.0 {
                true => C3,
                false => var_product.sqrt() + C3,
            };
            *cell = intensity * (cov + C3) / structure_denominator;
        }
        let mean = map.iter().sum::<f64>() / cols as f64;
        let variance = map.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (cols as f64 - 1.0);
        band_means.push(mean);
        band_stddevs.push(variance.sqrt());
    }
    let band_degraded_energy = (0..rows).map(|r| degraded.row(r).iter().sum::<f64>() / cols as f64).collect();
    PatchSimilarity {
        similarity: band_means.iter().sum::<f64>() / rows as f64,
        band_means,
        band_stddevs,
        band_degraded_energy,
        ..Default::default()
    }
}
