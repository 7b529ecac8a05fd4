//! What the encoder produces: bandwidths, and codes per segment with their scales.

use crate::{EncodecConfig, Error, Result};

/// A target bitrate. Each model supports the bandwidths in its config's `target_bandwidths`:
/// the 24 kHz model 1.5–24 kbps, the 48 kHz model 3–24 kbps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Bandwidth {
    /// 1.5 kbps: 2 codebooks at 75 frames/s.
    Kbps1_5,
    /// 3 kbps.
    Kbps3,
    /// 6 kbps.
    Kbps6,
    /// 12 kbps.
    Kbps12,
    /// 24 kbps.
    Kbps24,
}

impl Bandwidth {
    /// Every bandwidth, lowest first.
    pub const ALL: [Bandwidth; 5] = [Self::Kbps1_5, Self::Kbps3, Self::Kbps6, Self::Kbps12, Self::Kbps24];

    /// The bitrate in kilobits per second.
    pub fn kbps(self) -> f32 {
        match self {
            Self::Kbps1_5 => 1.5,
            Self::Kbps3 => 3.0,
            Self::Kbps6 => 6.0,
            Self::Kbps12 => 12.0,
            Self::Kbps24 => 24.0,
        }
    }

    /// The bandwidth of exactly `kbps`, if there is one.
    pub fn from_kbps(kbps: f32) -> Option<Self> {
        Self::ALL.into_iter().find(|b| b.kbps() == kbps)
    }

    /// How many codebooks `config`'s model uses at this bandwidth, computed as the reference
    /// does: `max(1, floor(kbps / (log2(bins) * frame_rate / 1000)))`, capped at the number of
    /// quantizers. Errors if the model was not trained for this bandwidth.
    pub fn num_codebooks(self, config: &EncodecConfig) -> Result<usize> {
        if !config.target_bandwidths.contains(&self.kbps()) {
            return Err(Error::UnsupportedBandwidth {
                requested: self.kbps(),
                supported: config.target_bandwidths.clone(),
            });
        }
        let per_codebook = config.bits_per_codebook() as f64 * config.frame_rate() as f64 / 1000.0;
        let n = (self.kbps() as f64 / per_codebook).floor().max(1.0) as usize;
        Ok(n.min(config.num_quantizers()))
    }
}

/// The codes of one segment: the whole signal for the 24 kHz model, one second of it (with
/// its normalisation scale) for the 48 kHz model.
#[derive(Clone, Debug, PartialEq)]
pub struct CodeSegment {
    /// `codes[k][t]`: the index in codebook `k` for frame `t`.
    pub codes: Vec<Vec<u32>>,
    /// The RMS the segment was divided by before encoding (normalising models only).
    pub scale: Option<f32>,
}

impl CodeSegment {
    /// Frames in this segment.
    pub fn num_frames(&self) -> usize {
        self.codes.first().map_or(0, Vec::len)
    }
}

/// An encoded signal: what `.ecdc` files store.
#[derive(Clone, Debug, PartialEq)]
pub struct Codes {
    /// Samples per channel of the audio that was encoded; decoding trims to it.
    pub audio_len: usize,
    /// The segments in time order.
    pub segments: Vec<CodeSegment>,
}

impl Codes {
    /// Codebooks per frame (the same in every segment).
    pub fn num_codebooks(&self) -> usize {
        self.segments.first().map_or(0, |s| s.codes.len())
    }

    /// Frames over all segments.
    pub fn num_frames(&self) -> usize {
        self.segments.iter().map(CodeSegment::num_frames).sum()
    }
}
