//! Time-domain steps of ViSQOL: level matching, the Hilbert envelope, the lag that best aligns
//! two signals (global alignment and each patch's fine alignment), and slicing by time.

use std::sync::Arc;

use realfft::num_complex::Complex64;
use realfft::RealFftPlanner;
use rustfft::FftPlanner;

/// ViSQOL's sound-pressure reference point (20 µPa); only ratios of levels matter.
const SPL_REFERENCE: f64 = 2e-5;

/// Mono samples at one rate, as ViSQOL holds them (f64, nominally within ±1).
#[derive(Clone, Debug)]
pub(crate) struct Signal {
    pub samples: Vec<f64>,
    pub rate: u32,
}

impl Signal {
    pub fn duration(&self) -> f64 {
        self.samples.len() as f64 / self.rate as f64
    }

    /// Sound pressure level in dB (−∞ for silence).
    pub fn spl(&self) -> f64 {
        let power = self.samples.iter().map(|v| v * v).sum::<f64>() / self.samples.len().max(1) as f64;
        let rms = power.sqrt();
        if rms == 0.0 {
            return f64::NEG_INFINITY;
        }
        20.0 * (rms / SPL_REFERENCE).log10()
    }

    /// This signal scaled to the level of `reference` (a silent signal is left silent).
    pub fn scaled_to_level_of(&self, reference: &Signal) -> Signal {
        let own = self.spl();
        if own == f64::NEG_INFINITY {
            return self.clone();
        }
        let gain = 10f64.powf((reference.spl() - own) / 20.0);
        Signal { samples: self.samples.iter().map(|v| v * gain).collect(), rate: self.rate }
    }

    /// The samples from `start_s` to `end_s`, the way ViSQOL slices a patch: the last sample of
    /// the signal is never included, and time past the end or before the start becomes leading
    /// silence (the reference's quirks, kept so that scores agree).
    pub fn slice(&self, start_s: f64, end_s: f64) -> Signal {
        let rate = self.rate as f64;
        let len = self.samples.len() as i64;
        let start = ((start_s * rate) as i64).max(0);
        let end = ((end_s * rate) as i64).min(len - 1);
        let mut sliced: Vec<f64> = match start < end {
            true => self.samples[start as usize..end as usize].to_vec(),
            false => Vec::new(),
        };
        let past_end = end_s * rate - len as f64;
        if past_end > 0.0 {
            sliced.splice(0..0, std::iter::repeat_n(0.0, past_end as usize));
        }
        if start_s < 0.0 {
            sliced.splice(0..0, std::iter::repeat_n(0.0, (-start_s * rate) as usize));
        }
        Signal { samples: sliced, rate: self.rate }
    }
}

/// The upper envelope: the magnitude of the analytic signal of the mean-removed samples, plus
/// the mean.
fn upper_envelope(samples: &[f64]) -> Vec<f64> {
    let n = samples.len();
    let mean = samples.iter().sum::<f64>() / n as f64;
    let mut input: Vec<f64> = samples.iter().map(|v| v - mean).collect();
    let forward = RealFftPlanner::<f64>::new().plan_fft_forward(n);
    let mut half = forward.make_output_vec();
    forward.process(&mut input, &mut half).expect("lengths from the plan");
    // The analytic signal's spectrum: DC, twice the positive frequencies, Nyquist, no negatives.
    let mut spectrum = vec![Complex64::new(0.0, 0.0); n];
    spectrum[0] = half[0];
    let positive_end = n.div_ceil(2);
    for k in 1..positive_end {
        spectrum[k] = half[k] * 2.0;
    }
    if n & 1 == 0 && n > 0 {
        spectrum[n / 2] = half[n / 2];
    }
    let inverse: Arc<dyn rustfft::Fft<f64>> = FftPlanner::new().plan_fft_inverse(n);
    inverse.process(&mut spectrum);
    spectrum.iter().map(|c| c.norm() / n as f64 + mean).collect()
}

/// The lag (in samples) that maximises the cross-correlation of `reference` and `degraded`;
/// positive when the degraded signal is late.
fn best_lag(reference: &[f64], degraded: &[f64]) -> i64 {
    let n = reference.len().max(degraded.len());
    let max_lag = n as i64 - 1;
    let points = (2 * n - 1).next_power_of_two();
    let mut planner = RealFftPlanner::<f64>::new();
    let forward = planner.plan_fft_forward(points);
    let spectrum = |signal: &[f64]| {
        let mut padded = vec![0.0; points];
        padded[..signal.len()].copy_from_slice(signal);
        let mut out = forward.make_output_vec();
        forward.process(&mut padded, &mut out).expect("lengths from the plan");
        out
    };
    let (r, d) = (spectrum(reference), spectrum(degraded));
    let mut product: Vec<Complex64> = r.iter().zip(&d).map(|(r, d)| r * d.conj()).collect();
    // A real inverse needs real DC and Nyquist bins; they are, up to rounding.
    product[0].im = 0.0;
    if let Some(last) = product.last_mut() {
        last.im = 0.0;
    }
    let inverse = planner.plan_fft_inverse(points);
    let mut correlation = inverse.make_output_vec();
    inverse.process(&mut product, &mut correlation).expect("lengths from the plan");
    let mut best = (f64::NEG_INFINITY, -max_lag);
    for lag in -max_lag..=max_lag {
        let value = correlation[lag.rem_euclid(points as i64) as usize];
        if value > best.0 {
            best = (value, lag);
        }
    }
    best.1
}

/// `degraded` shifted to line up with `reference` by their envelopes, and the lag in seconds
/// (no shift when the best lag is more than half the reference).
pub(crate) fn globally_align(reference: &Signal, degraded: &Signal) -> (Signal, f64) {
    let lag = best_lag(&upper_envelope(&reference.samples), &upper_envelope(&degraded.samples));
    if lag == 0 || lag.unsigned_abs() as f64 > reference.samples.len() as f64 / 2.0 {
        return (degraded.clone(), 0.0);
    }
    let samples = match lag < 0 {
        true => degraded.samples.get(lag.unsigned_abs() as usize..).unwrap_or(&[]).to_vec(),
        false => std::iter::repeat_n(0.0, lag as usize).chain(degraded.samples.iter().copied()).collect(),
    };
    (Signal { samples, rate: degraded.rate }, lag as f64 / degraded.rate as f64)
}

/// Both signals aligned and cut to a common length, and the lag in seconds.
pub(crate) fn align_and_truncate(reference: &Signal, degraded: &Signal) -> (Signal, Signal, f64) {
    let (aligned, lag_s) = globally_align(reference, degraded);
    let mut reference = reference.samples.as_slice();
    let mut degraded = aligned.samples.as_slice();
    if reference.len() > degraded.len() {
        reference = &reference[..degraded.len()];
    } else if reference.len() < degraded.len() {
        // Through seconds and back, as the reference computes it (it can lose a sample).
        let lag = (lag_s * aligned.rate as f64) as i64;
        if lag > 0 {
            let lag = (lag as usize).min(reference.len());
            reference = &reference[lag..];
            degraded = &degraded[lag.min(degraded.len())..];
            degraded = &degraded[..reference.len().min(degraded.len())];
        } else {
            degraded = &degraded[..reference.len()];
        }
    }
    let len = reference.len().min(degraded.len());
    let rate = aligned.rate;
    (
        Signal { samples: reference[..len].to_vec(), rate },
        Signal { samples: degraded[..len].to_vec(), rate },
        lag_s,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delay_is_found_and_undone() {
        let reference: Vec<f64> =
            (0..4000).map(|i| ((i as f64) * 0.05).sin() * ((i / 500) % 2) as f64).collect();
        let mut delayed = vec![0.0; 300];
        delayed.extend_from_slice(&reference);
        let (aligned, lag) = globally_align(
            &Signal { samples: reference.clone(), rate: 16_000 },
            &Signal { samples: delayed, rate: 16_000 },
        );
        assert_eq!(lag, -300.0 / 16_000.0);
        assert_eq!(&aligned.samples[..4000], &reference[..]);
    }
}
