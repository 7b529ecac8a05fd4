//! Measured quality: ViSQOL v3 MOS-LQO of decoded audio against its source, through the
//! `visqol-rs` crate (speech mode at 16 kHz, audio mode at 48 kHz), for `encodec quality`,
//! `compress --quality` and the level comparison in README.

use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};

use serde::Serialize;
use visqol_rs::constants::{NUM_BANDS_AUDIO, NUM_BANDS_SPEECH};
use visqol_rs::variant::Variant;
use visqol_rs::visqol_manager::VisqolManager;
use visqol_rs::AudioSignal;

use crate::audio::{self, Audio};
use crate::{Error, Result};

/// Which ViSQOL model scores the audio.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum QualityMode {
    /// Speech (wideband): both signals mixed to mono at 16 kHz, voice-activity patches.
    Speech,
    /// Audio (fullband): mono at 48 kHz, scored by ViSQOL's SVR model.
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
}

/// A ViSQOL score.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Quality {
    /// The mode measured in.
    pub mode: QualityMode,
    /// MOS-LQO, 1 (bad) to 5 (excellent).
    pub mos_lqo: f64,
    /// The mean neurogram similarity (NSIM) behind it, 0 to 1.
    pub nsim: f64,
}

/// ViSQOL's audio-mode SVR model (Google's, Apache-2.0; see `assets/visqol/README.md`).
const SVR_MODEL: &[u8] = include_bytes!("../assets/visqol/libsvm_nu_svr_model.txt");
/// Shortest input scored: ViSQOL compares patches of ~0.5 s found by voice activity.
const MIN_SECONDS: f64 = 1.0;
/// ViSQOL's default search window radius (patches are aligned within it).
const SEARCH_WINDOW: usize = 60;

/// Speech mode's mapping from mean NSIM to MOS: the exponential fit of current ViSQOL
/// (`speech_similarity_to_quality_mapper.cc`, what `visqol --use_lattice_model=false` uses,
/// and the Python port's `use_lattice_model=False`). visqol-rs maps with v3.1's older fit;
/// ViSQOL's default lattice network needs a TFLite runtime this crate does not carry.
fn speech_mos(nsim: f64) -> f64 {
    const A: f64 = -262.847869;
    const B: f64 = 0.0154302525;
    const X0: f64 = -361.063949;
    const SCALE: f64 = 1.245063;
    ((A + (B * (nsim - X0)).exp()) * SCALE).clamp(1.0, 5.0)
}

/// ViSQOL MOS-LQO of `degraded` against `reference` (any rates and channels: both are mixed
/// to mono and resampled to the mode's rate; ViSQOL aligns them itself).
pub fn mos_lqo(reference: &Audio, degraded: &Audio, mode: QualityMode) -> Result<Quality> {
    let rate = mode.sample_rate();
    let signal = |audio: &Audio, what: &str| -> Result<AudioSignal> {
        if audio.duration_s() < MIN_SECONDS {
            return Err(Error::Quality(format!(
                "the {what} is {:.2} s long; ViSQOL needs at least {MIN_SECONDS} s",
                audio.duration_s()
            )));
        }
        let mono = audio::convert(audio, rate, 1)?;
        let samples: Vec<f64> = mono[0].iter().map(|&v| v.clamp(-1.0, 1.0) as f64).collect();
        Ok(AudioSignal::new(&samples, rate))
    };
    let mut reference = signal(reference, "reference")?;
    let mut degraded = signal(degraded, "degraded audio")?;
    // visqol-rs asserts in places where its inputs surprise it; those panics become errors.
    let result = catch_unwind(AssertUnwindSafe(|| match mode {
        QualityMode::Speech => {
            let variant = Variant::Wideband { use_unscaled_mos_mapping: false };
            VisqolManager::<NUM_BANDS_SPEECH>::new(variant, SEARCH_WINDOW)
                .compute_results(&mut reference, &mut degraded)
        }
        QualityMode::Audio => {
            let model = svr_model_file().map_err(|e| visqol_rs::VisqolError::AudioFileError(e.into()))?;
            let variant = Variant::Fullband { model_path: model.path().to_string_lossy().into_owned() };
            VisqolManager::<NUM_BANDS_AUDIO>::new(variant, SEARCH_WINDOW)
                .compute_results(&mut reference, &mut degraded)
        }
    }))
    .map_err(|_| Error::Quality("ViSQOL failed on this input (an internal check did not hold)".into()))?
    .map_err(|e| Error::Quality(e.to_string()))?;
    let mos_lqo = match mode {
        QualityMode::Speech => speech_mos(result.vnsim),
        QualityMode::Audio => result.moslqo,
    };
    Ok(Quality { mode, mos_lqo, nsim: result.vnsim })
}

/// visqol-rs reads its model from a path: the built-in model, written to a temporary file.
fn svr_model_file() -> std::io::Result<tempfile::NamedTempFile> {
    let mut file = tempfile::NamedTempFile::new()?;
    file.write_all(SVR_MODEL)?;
    file.flush()?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_speech_fit_is_visqols() {
        // Values of the Python port's exponential mapper (use_lattice_model=False).
        assert!((speech_mos(0.76539) - 3.7994).abs() < 1e-3);
        assert!((speech_mos(0.95437) - 4.7662).abs() < 1e-3);
        assert_eq!(speech_mos(0.0), 1.0);
        assert_eq!(speech_mos(1.0), 5.0);
    }
}
