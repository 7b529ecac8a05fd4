//! The gammatone spectrogram ViSQOL compares: an ERB-spaced bank of fourth-order gammatone
//! filters (Slaney's four cascaded biquads) run over Hann-windowed 80 ms frames, RMS per band,
//! then both spectrograms put on one dB scale with ViSQOL's noise floors.

use super::matrix::Matrix;
use super::signal::Signal;

/// Glasberg and Moore's ERB parameters.
const EAR_Q: f64 = 9.26449;
const MIN_BW: f64 = 24.7;
/// The lowest centre frequency (Hz), both modes.
const MIN_FREQ: f64 = 50.0;
/// Speech mode's highest centre frequency (Hz); audio mode goes to Nyquist.
const SPEECH_MAX_FREQ: f64 = 8000.0;
/// The analysis window and its hop (a quarter of it).
const WINDOW_S: f64 = 0.08;
const HOP_FRACTION: f64 = 0.25;

/// The frame grid: window length and hop in samples at one rate.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Frames {
    pub size: usize,
    pub hop: usize,
}

impl Frames {
    pub fn at(rate: u32) -> Self {
        let size = (rate as f64 * WINDOW_S).round() as usize;
        Self { size, hop: (size as f64 * HOP_FRACTION) as usize }
    }

    /// Seconds per hop (a spectrogram column).
    pub fn duration(&self, rate: u32) -> f64 {
        self.hop as f64 / rate as f64
    }
}

/// One band's filter: four biquads sharing a denominator (1, a1, a2); stage k's numerator is
/// (b0_k, b1_k, 0), the first stage's divided by the filter's gain.
#[derive(Clone, Copy, Debug)]
struct Band {
    b0: [f64; 4],
    b1: [f64; 4],
    a1: f64,
    a2: f64,
}

/// The filter bank for one rate and band count, lowest band first.
#[derive(Clone, Debug)]
pub(crate) struct FilterBank {
    bands: Vec<Band>,
    frames: Frames,
    hann: Vec<f64>,
}

impl FilterBank {
    pub fn new(rate: u32, bands: usize, speech: bool) -> Self {
        let nyquist = rate as f64 / 2.0;
        let high = match speech {
            true => SPEECH_MAX_FREQ.min(nyquist),
            false => nyquist,
        };
        // Centre frequencies evenly spaced on the ERB scale, from `high` down (Slaney's ERBSpace).
        let step = (-(high + EAR_Q * MIN_BW).ln() + (MIN_FREQ + EAR_Q * MIN_BW).ln()) / bands as f64;
        let t = 1.0 / rate as f64;
        let mut filters: Vec<Band> = (1..=bands)
            .map(|k| {
                let cf = -(EAR_Q * MIN_BW) + (k as f64 * step).exp() * (high + EAR_Q * MIN_BW);
                let erb = cf / EAR_Q + MIN_BW;
                let b = 1.019 * 2.0 * std::f64::consts::PI * erb;
                let exp_bt = (b * t).exp();
                let (sin, cos) = (2.0 * cf * std::f64::consts::PI * t).sin_cos();
                let b1 = sin * t;
                let b_pos = b1 * 2.0 * (3.0 + 2f64.powf(1.5)).sqrt();
                let b_neg = b1 * 2.0 * (3.0 - 2f64.powf(1.5)).sqrt();
                let a = cos * 2.0 * t;
                let b1 = [
                    -(a / exp_bt + b_pos / exp_bt) / 2.0,
                    -(a / exp_bt - b_pos / exp_bt) / 2.0,
                    -(a / exp_bt + b_neg / exp_bt) / 2.0,
                    -(a / exp_bt - b_neg / exp_bt) / 2.0,
                ];
                let g = gain(cf, b, t);
                Band {
                    b0: [t / g, t, t, t],
                    b1: [b1[0] / g, b1[1], b1[2], b1[3]],
                    a1: -2.0 * cos / exp_bt,
                    a2: (-2.0 * b * t).exp(),
                }
            })
            .collect();
        filters.reverse();
        let frames = Frames::at(rate);
        let n = frames.size;
        let hann = (0..n)
            .map(|i| 0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / (n - 1) as f64).cos())
            .collect();
        Self { bands: filters, frames, hann }
    }

    pub fn frames(&self) -> Frames {
        self.frames
    }

    /// The spectrogram (bands × frames) of `signal`; `None` when it is not longer than a window.
    pub fn spectrogram(&self, signal: &Signal) -> Option<Matrix> {
        let Frames { size, hop } = self.frames;
        let samples = &signal.samples;
        if samples.len() <= size {
            return None;
        }
        let columns = 1 + (samples.len() - size) / hop;
        let mut out = Matrix::zeros(self.bands.len(), columns);
        let mut windowed = vec![0.0; size];
        for column in 0..columns {
            let frame = &samples[column * hop..column * hop + size];
            for ((w, s), h) in windowed.iter_mut().zip(frame).zip(&self.hann) {
                *w = s * h;
            }
            for (row, band) in self.bands.iter().enumerate() {
                out.set(row, column, band.rms_of(&windowed));
            }
        }
        Some(out)
    }
}

impl Band {
    /// RMS of the frame through the four biquads, each starting from rest (direct form II
    /// transposed, as scipy's `lfilter`).
    fn rms_of(&self, frame: &[f64]) -> f64 {
        let mut state = [[0.0f64; 2]; 4];
        let mut sum = 0.0;
        for &x in frame {
            let mut y = x;
            for ((z, &b0), &b1) in state.iter_mut().zip(&self.b0).zip(&self.b1) {
                let input = y;
                y = b0 * input + z[0];
                z[0] = b1 * input - self.a1 * y + z[1];
                z[1] = -self.a2 * y;
            }
            sum += y * y;
        }
        (sum / frame.len() as f64).sqrt()
    }
}

/// The gain that normalises a gammatone filter at its centre frequency (Slaney's closed form).
fn gain(cf: f64, b: f64, t: f64) -> f64 {
    use realfft::num_complex::Complex64 as C;
    let p1 = 2f64.powf(1.5);
    let (s1, s2) = ((3.0 - p1).sqrt(), (3.0 + p1).sqrt());
    let w = 2.0 * cf * std::f64::consts::PI * t;
    let x_exp = C::new(0.0, 2.0 * w).exp();
    let x01 = x_exp * (-2.0 * t);
    let x02 = C::new(-b * t, w).exp() * (2.0 * t);
    let (cos, sin) = (w.cos(), w.sin());
    let x1 = x01 + x02 * (cos - s1 * sin);
    let x2 = x01 + x02 * (cos + s1 * sin);
    let x3 = x01 + x02 * (cos - s2 * sin);
    let x4 = x01 + x02 * (cos + s2 * sin);
    let x5 = C::new(-2.0 / (2.0 * b * t).exp(), 0.0) - x_exp * 2.0 + (x_exp + 1.0) * 2.0 / (b * t).exp();
    (x1 * x2 * x3 * x4 / x5.powi(4)).norm()
}

/// Both spectrograms in dB on one scale: an absolute floor of −45 dB, then per column a floor 45
/// dB under the louder of the two, then shifted so the lowest value of either is 0.
pub(crate) fn to_comparable_db(reference: &mut Matrix, degraded: &mut Matrix) {
    const ABSOLUTE_FLOOR_DB: f64 = -45.0;
    const RELATIVE_FLOOR_DB: f64 = 45.0;
    for m in [&mut *reference, &mut *degraded] {
        for v in m.data.iter_mut() {
            let magnitude = match v.abs() {
                0.0 => f64::EPSILON,
                a => a,
            };
            *v = (10.0 * magnitude.log10()).max(ABSOLUTE_FLOOR_DB);
        }
    }
    let columns = reference.cols.min(degraded.cols);
    for c in 0..columns {
        let peak = (0..reference.rows)
            .map(|r| reference.get(r, c))
            .chain((0..degraded.rows).map(|r| degraded.get(r, c)))
            .fold(f64::NEG_INFINITY, f64::max);
        let floor = peak - RELATIVE_FLOOR_DB;
        for m in [&mut *reference, &mut *degraded] {
            for r in 0..m.rows {
                m.set(r, c, m.get(r, c).max(floor));
            }
        }
    }
    let lowest = reference.data.iter().chain(&degraded.data).copied().fold(f64::INFINITY, f64::min);
    for v in reference.data.iter_mut().chain(degraded.data.iter_mut()) {
        *v -= lowest;
    }
}
