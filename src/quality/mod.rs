//! Measured quality: ViSQOL v3 MOS-LQO of decoded audio against its source, our own port
//! (speech mode at 16 kHz with the lattice or exponential mapping, audio mode at 48 kHz with
//! the SVR), checked against the Python port on committed pairs (`tests/quality.rs`).
//!
//! The steps, in order, each in its own file: global alignment and level matching (`signal`),
//! the gammatone spectrogram (`gammatone`), reference patches and their degraded matches
//! (`patches`), similarity (`nsim`), and the mapping to MOS (`mapping`, `lattice`). Written from
//! the ViSQOL paper and the behaviour of google/visqol v3.3 and visqol-python 3.8.0, including
//! their quirks where a score depends on them (each is marked).

mod gammatone;
mod lattice;
mod mapping;
mod matrix;
mod nsim;
mod patches;
mod signal;

use std::sync::OnceLock;

use serde::Serialize;

use crate::audio::{self, Audio};
use crate::{Error, Result};
use gammatone::FilterBank;
use signal::Signal;

/// Which ViSQOL model scores the audio.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum QualityMode {
    /// Speech (wideband): both signals mixed to mono at 16 kHz, voice-activity patches.
    Speech,
    /// Audio (fullband): mono at 48 kHz, every patch, scored by ViSQOL's SVR model.
    Audio,
}

impl QualityMode {
    /// The rate ViSQOL compares at in this mode.
    pub fn sample_rate(self) -> u32 {
        match self {
            Self::Speech => 16_000,
            Self::Audio => 48_000,
        }
    }

    fn bands(self) -> usize {
        match self {
            Self::Speech => 21,
            Self::Audio => 32,
        }
    }

    /// Spectrogram columns per patch.
    fn patch(self) -> usize {
        match self {
            Self::Speech => 20,
            Self::Audio => 30,
        }
    }

    /// The mapping C++ ViSQOL uses by default in this mode.
    pub fn default_mapping(self) -> Mapping {
        match self {
            Self::Speech => Mapping::Lattice,
            Self::Audio => Mapping::Svr,
        }
    }

    /// The shortest input that has room for one patch, in seconds.
    pub fn min_seconds(self) -> f64 {
        let frames = gammatone::Frames::at(self.sample_rate());
        let columns = match self {
            Self::Speech => self.patch() / 2 - 1 + self.patch(),
            Self::Audio => self.patch() + self.patch() / 2,
        };
        (frames.size + (columns - 1) * frames.hop + 1) as f64 / self.sample_rate() as f64
    }
}

/// How similarity becomes MOS-LQO.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mapping {
    /// Speech mode's default in C++ ViSQOL v3.3: the deep-lattice network over per-band
    /// similarity, its 10 % quantile, spread and degraded energy (`assets/visqol/`).
    Lattice,
    /// Speech mode's exponential fit of mean similarity (`--use_lattice_model=false`).
    Exponential,
    /// Audio mode's support-vector regression over per-band similarity.
    Svr,
}

/// Where one reference patch was matched, and how similar the two are.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PatchScore {
    /// Where the reference patch starts, in seconds.
    pub reference_start_s: f64,
    /// Where it ends.
    pub reference_end_s: f64,
    /// Where its match in the degraded audio starts (0, as its end, when it found none).
    pub degraded_start_s: f64,
    /// Where the match ends.
    pub degraded_end_s: f64,
    /// Mean NSIM over the patch, 0 to 1.
    pub nsim: f64,
}

/// A ViSQOL score.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Quality {
    /// The mode measured in.
    pub mode: QualityMode,
    /// The mapping from similarity to MOS.
    pub mapping: Mapping,
    /// MOS-LQO, 1 (bad) to 5 (excellent).
    pub mos_lqo: f64,
    /// The mean neurogram similarity (NSIM) behind it, 0 to 1.
    pub nsim: f64,
    /// Mean NSIM per frequency band, lowest band first.
    pub band_nsim: Vec<f64>,
    /// Each reference patch scored, in order (left out of JSON when emptied).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub patches: Vec<PatchScore>,
}

/// ViSQOL's search radius, in patches, for a reference patch's match.
const SEARCH_RADIUS: usize = 60;
/// The 10 % quantile of per-patch band similarity the lattice reads.
const QUANTILE: f64 = 0.10;

/// ViSQOL MOS-LQO of `degraded` against `reference` with the mode's default mapping (any rates
/// and channels: both are mixed to mono and resampled to the mode's rate; ViSQOL aligns them).
pub fn mos_lqo(reference: &Audio, degraded: &Audio, mode: QualityMode) -> Result<Quality> {
    measure(reference, degraded, mode, mode.default_mapping())
}

/// [`mos_lqo`] with a chosen mapping (the lattice and the exponential fit are speech mode's, the
/// SVR audio mode's).
pub fn measure(reference: &Audio, degraded: &Audio, mode: QualityMode, mapping: Mapping) -> Result<Quality> {
    match (mode, mapping) {
        (QualityMode::Speech, Mapping::Svr)
        | (QualityMode::Audio, Mapping::Lattice | Mapping::Exponential) => {
            return Err(Error::Quality(format!("{mapping:?} is not a mapping of {mode:?} mode")))
        }
        _ => {}
    }
    let rate = mode.sample_rate();
    let signal = |audio: &Audio, what: &str| -> Result<Signal> {
        if audio.duration_s() < mode.min_seconds() {
            return Err(Error::Quality(format!(
                "the {what} is {:.2} s long; ViSQOL's {mode:?} mode needs at least {:.2} s",
                audio.duration_s(),
                mode.min_seconds()
            )));
        }
        let mono = audio::convert(audio, rate, 1)?;
        Ok(Signal { samples: mono[0].iter().map(|&v| v as f64).collect(), rate })
    };
    let reference = signal(reference, "reference")?;
    let degraded = signal(degraded, "degraded audio")?;
    if reference.spl() == f64::NEG_INFINITY {
        return Err(Error::Quality("the reference is silent: there is nothing to compare with".into()));
    }
    score(&reference, degraded, mode, mapping)
}

/// The whole of ViSQOL on two signals at the mode's rate.
fn score(reference: &Signal, degraded: Signal, mode: QualityMode, mapping: Mapping) -> Result<Quality> {
    let (degraded, _) = signal::globally_align(reference, &degraded);
    let degraded = degraded.scaled_to_level_of(reference);
    let bank = FilterBank::new(mode.sample_rate(), mode.bands(), mode == QualityMode::Speech);
    let too_short =
        || Error::Quality(format!("too short for ViSQOL: it needs at least {:.2} s", mode.min_seconds()));
    let mut reference_db = bank.spectrogram(reference).ok_or_else(too_short)?;
    let mut degraded_db = bank.spectrogram(&degraded).ok_or_else(too_short)?;
    gammatone::to_comparable_db(&mut reference_db, &mut degraded_db);
    let frames = bank.frames();
    let patch = mode.patch();
    let starts = match mode {
        QualityMode::Speech => patches::voiced_patches(reference, reference_db.cols, patch, frames.hop),
        QualityMode::Audio => patches::every_patch(reference_db.cols, patch).ok_or_else(too_short)?,
    };
    if starts.is_empty() {
        return Err(Error::Quality("the reference has no voice activity for ViSQOL to compare".into()));
    }
    let frame_s = frames.duration(mode.sample_rate());
    let matches = patches::best_matches(&reference_db, &starts, &degraded_db, patch, SEARCH_RADIUS, frame_s)
        .ok_or_else(|| {
            Error::Quality("the degraded audio is too short or too different to match any patch".into())
        })?;
    let matches = patches::realign(matches, reference, &degraded, &bank);

    let bands = mode.bands();
    let per_band = |f: &dyn Fn(&nsim::PatchSimilarity, usize) -> f64| -> Vec<f64> {
        (0..bands).map(|b| matches.iter().map(|m| f(m, b)).sum::<f64>() / matches.len() as f64).collect()
    };
    let band_nsim = per_band(&|m, b| m.band_means[b]);
    let nsim = band_nsim.iter().sum::<f64>() / bands as f64;
    let mos = match mapping {
        Mapping::Exponential => mapping::exponential(nsim),
        Mapping::Svr => svr()?.predict(&band_nsim),
        Mapping::Lattice => {
            let quantile: Vec<f64> = (0..bands)
                .map(|b| {
                    let mut values: Vec<f64> = matches.iter().map(|m| m.band_means[b]).collect();
                    values.sort_by(f64::total_cmp);
                    let n = ((values.len() as f64 * QUANTILE) as usize).max(1);
                    values[..n].iter().sum::<f64>() / n as f64
                })
                .collect();
            let spread = pooled_stddev(&matches, &band_nsim, frame_s);
            let energy = per_band(&|m, b| m.band_degraded_energy[b]);
            lattice::model()?.predict(&band_nsim, &quantile, &spread, &energy)?
        }
    };
    // ViSQOL's floor: audio this unlike its reference is scored 1 whatever the mapping says.
    let mos_lqo = if nsim < 0.15 { 1.0 } else { mos };
    let patches = matches
        .iter()
        .map(|m| PatchScore {
            reference_start_s: m.reference_start,
            reference_end_s: m.reference_end,
            degraded_start_s: m.degraded_start,
            degraded_end_s: m.degraded_end,
            nsim: m.similarity,
        })
        .collect();
    Ok(Quality { mode, mapping, mos_lqo, nsim, band_nsim, patches })
}

/// Per band, the standard deviation of NSIM pooled over all patches' frames.
fn pooled_stddev(matches: &[nsim::PatchSimilarity], means: &[f64], frame_s: f64) -> Vec<f64> {
    let mut total = 0usize;
    let mut contribution = vec![0.0; means.len()];
    for m in matches {
        let frames = ((m.reference_end - m.reference_start) / frame_s).ceil() as usize;
        total += frames;
        for (b, c) in contribution.iter_mut().enumerate() {
            let (sd, mean) = (m.band_stddevs[b], m.band_means[b]);
            *c += (frames as f64 - 1.0) * sd * sd;
            *c += frames as f64 * mean * mean;
        }
    }
    if total <= 1 {
        return vec![0.0; means.len()];
    }
    contribution
        .iter()
        .zip(means)
        .map(|(c, mean)| {
            let variance = (c - mean * mean * total as f64) / (total as f64 - 1.0);
            if variance < 0.0 {
                0.0
            } else {
                variance.sqrt()
            }
        })
        .collect()
}

/// ViSQOL's audio-mode SVR model (Google's, Apache-2.0; see `assets/visqol/README.md`).
fn svr() -> Result<&'static mapping::Svr> {
    static MODEL: OnceLock<std::result::Result<mapping::Svr, String>> = OnceLock::new();
    MODEL
        .get_or_init(|| {
            mapping::Svr::parse(include_str!("../../assets/visqol/libsvm_nu_svr_model.txt"))
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| Error::Quality(e.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shortest_input_is_one_patch() {
        // 9 leading columns and a 20-column patch of 80 ms windows with 20 ms hops.
        assert_eq!(QualityMode::Speech.min_seconds(), (1280 + 28 * 320 + 1) as f64 / 16_000.0);
        assert_eq!(QualityMode::Audio.min_seconds(), (3840 + 44 * 960 + 1) as f64 / 48_000.0);
    }
}
