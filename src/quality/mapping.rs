//! From similarity to MOS-LQO: speech mode's exponential fit, and audio mode's support-vector
//! regression (ViSQOL's libsvm ν-SVR model with an RBF kernel, read from its text file).

use crate::{Error, Result};

/// Speech mode's exponential fit of mean NSIM to MOS (TCD-VOIP), scaled so NSIM 1 maps to 5.
pub(crate) fn exponential(nsim: f64) -> f64 {
    const A: f64 = -262.847869;
    const B: f64 = 0.0154302525;
    const X0: f64 = -361.063949;
    const SCALE: f64 = 1.245063;
    ((A + (B * (nsim - X0)).exp()) * SCALE).clamp(1.0, 5.0)
}

/// A libsvm regression model with an RBF kernel: Σ coefᵢ·exp(−γ‖x − svᵢ‖²) − ρ.
#[derive(Debug)]
pub(crate) struct Svr {
    gamma: f64,
    rho: f64,
    /// (coefficient, dense support vector).
    vectors: Vec<(f64, Vec<f64>)>,
}

impl Svr {
    /// Reads libsvm's text format (the header, then `SV`, then `coef index:value ...` lines).
    pub fn parse(text: &str) -> Result<Self> {
        let bad = |what: &str| Error::Quality(format!("the SVR model is not a libsvm model: {what}"));
        let mut lines = text.lines();
        let (mut gamma, mut rho) = (None, None);
        for line in lines.by_ref() {
            let mut words = line.split_whitespace();
            match (words.next(), words.next()) {
                (Some("kernel_type"), Some(kind)) if kind != "rbf" => {
                    return Err(bad("the kernel is not rbf"))
                }
                (Some("gamma"), Some(v)) => gamma = v.parse().ok(),
                (Some("rho"), Some(v)) => rho = v.parse().ok(),
                (Some("SV"), None) => break,
                _ => {}
            }
        }
        let mut vectors = Vec::new();
        for line in lines.filter(|l| !l.trim().is_empty()) {
            let mut words = line.split_whitespace();
            let coef: f64 = words.next().and_then(|w| w.parse().ok()).ok_or_else(|| bad("a coefficient"))?;
            let mut vector = Vec::new();
            for word in words {
                let (index, value) = word.split_once(':').ok_or_else(|| bad("an index:value pair"))?;
                let index: usize = index.parse().map_err(|_| bad("an index"))?;
                let value: f64 = value.parse().map_err(|_| bad("a value"))?;
                if index == 0 || index > 1024 {
                    return Err(bad("an index out of range"));
                }
                vector.resize(vector.len().max(index), 0.0);
                vector[index - 1] = value;
            }
            vectors.push((coef, vector));
        }
        Ok(Self {
            gamma: gamma.ok_or_else(|| bad("no gamma"))?,
            rho: rho.ok_or_else(|| bad("no rho"))?,
            vectors,
        })
    }

    /// The model's MOS for these features, within 1 to 5.
    pub fn predict(&self, features: &[f64]) -> f64 {
        let sum: f64 = self
            .vectors
            .iter()
            .map(|(coef, sv)| {
                let n = sv.len().max(features.len());
                let distance: f64 = (0..n)
                    .map(|i| {
                        let d = features.get(i).copied().unwrap_or(0.0) - sv.get(i).copied().unwrap_or(0.0);
                        d * d
                    })
                    .sum();
                coef * (-self.gamma * distance).exp()
            })
            .sum();
        (sum - self.rho).clamp(1.0, 5.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_speech_fit_is_visqols() {
        // Values of the Python port's exponential mapper (use_lattice_model=False).
        assert!((exponential(0.76539) - 3.7994).abs() < 1e-3);
        assert!((exponential(0.95437) - 4.7662).abs() < 1e-3);
        assert_eq!(exponential(0.0), 1.0);
        assert_eq!(exponential(1.0), 5.0);
    }

    #[test]
    fn a_model_that_is_not_libsvm_is_an_error() {
        assert!(Svr::parse("kernel_type linear\nSV\n").is_err());
        assert!(Svr::parse("gamma 1\nrho 0\nSV\n1 x\n").is_err());
        let svr = Svr::parse("svm_type nu_svr\nkernel_type rbf\ngamma 1\nrho -2\nSV\n1 1:0 2:0\n").unwrap();
        assert_eq!(svr.predict(&[0.0, 0.0]), 3.0);
    }
}
