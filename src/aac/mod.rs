//! The Standard level: AAC (LC, HE-AAC v1/v2) in an `.m4a` (MP4) file that phones, browsers,
//! ffmpeg and symphonia play; gapless through an edit list. The codec itself (Fraunhofer FDK)
//! is the cargo feature `aac`; without it, this codec refuses and chains fall back, and AAC
//! files are read by symphonia (AAC-LC only).

#[cfg(feature = "aac")]
mod fdk;

use std::io::Write;

use serde::Serialize;

use crate::audio::AudioChunks;
use crate::codec::{Codec, Decoded, Encoder, Input, PcmDecoder, PcmSpec, ReadSeek};
use crate::{Error, Format, Result};

/// Which AAC flavour the Standard level writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AacProfile {
    /// AAC-LC: 16–320 kbps; 64 kbps is the usual speech cache setting.
    Lc,
    /// HE-AAC v1 (AAC-LC + spectral band replication): 16–48 kbps.
    HeV1,
    /// HE-AAC v2 (v1 + parametric stereo; the audio is coded as stereo): 16–48 kbps.
    HeV2,
}

/// An AAC profile and bitrate that the Standard level accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct AacSettings {
    /// The AAC flavour.
    pub profile: AacProfile,
    /// Constant bitrate in kbps.
    pub kbps: u32,
}

impl Default for AacSettings {
    /// AAC-LC at 64 kbps.
    fn default() -> Self {
        Self { profile: AacProfile::Lc, kbps: 64 }
    }
}

impl AacSettings {
    /// Checks the bitrate against the profile's range: 16–320 kbps for LC, 16–48 for HE-AAC.
    pub fn new(profile: AacProfile, kbps: u32) -> Result<Self> {
        let range = match profile {
            AacProfile::Lc => 16..=320,
            AacProfile::HeV1 | AacProfile::HeV2 => 16..=48,
        };
        if !range.contains(&kbps) {
            let (min, max) = (*range.start(), *range.end());
            return Err(Error::Bitrate { codec: format!("{profile:?} AAC"), kbps, min, max });
        }
        Ok(Self { profile, kbps })
    }
}

/// AAC at one profile and bitrate.
#[derive(Clone, Copy, Debug, Default)]
pub struct AacCodec {
    settings: AacSettings,
}

impl AacCodec {
    /// AAC with `settings`.
    pub fn new(settings: AacSettings) -> Self {
        Self { settings }
    }
}

impl Codec for AacCodec {
    fn name(&self) -> &'static str {
        "aac"
    }

    fn format(&self) -> Option<Format> {
        Some(Format::Mp4)
    }

    fn decodes(&self, format: Format) -> bool {
        matches!(format, Format::Mp4 | Format::Adts)
    }

    fn input(&self) -> Input {
        Input::Pcm
    }

    /// AAC codes at the source's rate (the next one AAC signals).
    fn sample_rate(&self) -> Option<u32> {
        None
    }

    fn bitrates_kbps(&self) -> Vec<f32> {
        match self.settings.profile {
            AacProfile::Lc => vec![16.0, 320.0],
            AacProfile::HeV1 | AacProfile::HeV2 => vec![16.0, 48.0],
        }
    }

    fn bitrate_kbps(&self) -> Option<f32> {
        Some(self.settings.kbps as f32)
    }

    /// An AAC file (MP4 or ADTS) at or below this bitrate (with 10 % to spare for the
    /// container) is kept.
    fn keeps(&self, format: Format, kbps: f64) -> bool {
        matches!(format, Format::Mp4 | Format::Adts) && kbps <= self.settings.kbps as f64 * 1.1
    }

    #[cfg(feature = "aac")]
    fn encoder<'a>(&'a self, pcm: PcmSpec, out: &'a mut dyn Write) -> Result<Box<dyn Encoder + 'a>> {
        Ok(Box::new(fdk::AacEncoder::new(self.settings, pcm, out)?))
    }

    #[cfg(not(feature = "aac"))]
    fn encoder<'a>(&'a self, _pcm: PcmSpec, _out: &'a mut dyn Write) -> Result<Box<dyn Encoder + 'a>> {
        Err(Error::FeatureDisabled { what: "AAC encoder", feature: "aac" })
    }

    /// MP4 files and ADTS streams. An MP4 file without an AAC track (ALAC, say) is read by
    /// symphonia, as is everything when the `aac` feature is off.
    fn decoder<'a>(&'a self, input: Box<dyn ReadSeek>) -> Result<Decoded<'a>> {
        open(input).map(Decoded::Pcm)
    }
}

#[cfg(feature = "aac")]
fn open(mut input: Box<dyn ReadSeek>) -> Result<Box<dyn PcmDecoder>> {
    let mut bytes = Vec::new();
    input.read_to_end(&mut bytes).map_err(|source| Error::Io { path: "<input>".into(), source })?;
    match fdk::AacDecoder::new(bytes.clone()) {
        Ok(decoder) => Ok(Box::new(decoder)),
        Err(e) => AudioChunks::from_reader(Box::new(std::io::Cursor::new(bytes)), Some("m4a"))
            .map(|chunks| Box::new(chunks) as Box<dyn PcmDecoder>)
            .map_err(|_| e),
    }
}

#[cfg(not(feature = "aac"))]
fn open(mut input: Box<dyn ReadSeek>) -> Result<Box<dyn PcmDecoder>> {
    input.rewind().map_err(|source| Error::Io { path: "<input>".into(), source })?;
    Ok(Box::new(AudioChunks::from_reader(input, Some("m4a"))?))
}
