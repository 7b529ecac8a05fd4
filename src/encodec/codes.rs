//! What the encoder produces: bandwidths, and codes per segment with their scales.

use crate::encodec::config::EncodecConfig;
use crate::{Error, Result};

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

    /// [`Bandwidth::from_kbps`], or an error naming the bandwidths there are.
    pub fn try_from_kbps(kbps: f32) -> Result<Self> {
        Self::from_kbps(kbps).ok_or_else(|| Error::UnsupportedBandwidth {
            requested: kbps,
            supported: Self::ALL.iter().map(|b| b.kbps()).collect(),
        })
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

/// Codes of consecutive frames of one segment, as a stream produces and consumes them.
#[derive(Clone, Debug, PartialEq)]
pub struct CodeChunk {
    /// The segment the frames belong to (always 0 for a model that does not segment).
    pub segment: usize,
    /// The segment's scale (normalising models).
    pub scale: Option<f32>,
    /// `codes[k][t]`: codebook `k`, frame `t` of the chunk.
    pub codes: Vec<Vec<u32>>,
}

impl CodeChunk {
    /// Frames in the chunk.
    pub fn num_frames(&self) -> usize {
        self.codes.first().map_or(0, Vec::len)
    }
}

/// Where decoding starts for a seek: the frame whose codes are fed first, and the sample the
/// decoder's first output stands for. See [`crate::Encodec::seek_point`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeekPoint {
    /// The segment of the first frame.
    pub segment: usize,
    /// The first frame, counted within its segment.
    pub frame: usize,
    /// The first sample (per channel, from the start of the audio) the decoder gives.
    pub sample: usize,
}

/// Checks codes against `config`'s model, before any work is done: what the decoder, the
/// streaming decoder and the `.ecdc` writer all accept. `codes[k][t]` is one segment (or a
/// chunk of one) of `num_codebooks` codebooks (`None`: any count the model has).
fn check_block(
    config: &EncodecConfig,
    codes: &[Vec<u32>],
    scale: Option<f32>,
    num_codebooks: Option<usize>,
) -> std::result::Result<(), String> {
    let max = config.num_quantizers();
    if codes.is_empty() || codes.len() > max {
        return Err(format!("{} codebooks given, the model has 1 to {max}", codes.len()));
    }
    let k = num_codebooks.unwrap_or(codes.len());
    let frames = codes[0].len();
    if codes.len() != k || codes.iter().any(|c| c.len() != frames) {
        return Err(format!("not a rectangle of {k} codebooks"));
    }
    if let Some(&bad) = codes.iter().flatten().find(|&&c| c as usize >= config.codebook_size) {
        return Err(format!("code {bad} is outside the codebook of {}", config.codebook_size));
    }
    if scale.is_some() != config.normalize {
        return Err("a scale is required exactly for normalising models".into());
    }
    if let Some(scale) = scale.filter(|s| !s.is_finite()) {
        return Err(format!("non-finite scale {scale}"));
    }
    Ok(())
}

impl Codes {
    /// Checks that `config`'s model can decode these codes: one segment for a model that does
    /// not segment; segments no longer than the first, each but the last reaching the next;
    /// an audio length the segments cover.
    pub(crate) fn check(&self, config: &EncodecConfig) -> Result<()> {
        let invalid = |msg: String| Err(Error::InvalidCodes(msg));
        let Some(first) = self.segments.first() else {
            return invalid("no segments".into());
        };
        let (k, max_frames) = (first.codes.len(), first.num_frames());
        let hop = config.hop_length();
        let stride = config.segment_stride();
        if stride.is_none() && self.segments.len() != 1 {
            return invalid(format!("{} segments for a model that does not segment", self.segments.len()));
        }
        for (i, segment) in self.segments.iter().enumerate() {
            check_block(config, &segment.codes, segment.scale, Some(k))
                .or_else(|msg| invalid(format!("segment {i}: {msg}")))?;
            let frames = segment.num_frames();
            if frames == 0 || frames > max_frames {
                return invalid(format!("segment {i} has {frames} frames (first segment: {max_frames})"));
            }
            let is_last = i + 1 == self.segments.len();
            if let Some(stride) = stride.filter(|_| !is_last) {
                if frames * hop < stride {
                    return invalid(format!("segment {i} is shorter than the segment stride"));
                }
            }
        }
        let last = self.segments.last().map_or(0, CodeSegment::num_frames) * hop;
        let decoded_len = stride.unwrap_or(0) * (self.segments.len() - 1) + last;
        if self.audio_len == 0 || self.audio_len > decoded_len {
            return invalid(format!(
                "audio length {} but the codes decode to {decoded_len} samples",
                self.audio_len
            ));
        }
        Ok(())
    }
}

impl CodeChunk {
    /// Checks the chunk against `config`'s model and the stream's codebook count.
    pub(crate) fn check(&self, config: &EncodecConfig, num_codebooks: usize) -> Result<()> {
        check_block(config, &self.codes, self.scale, Some(num_codebooks))
            .map_err(|msg| Error::InvalidCodes(format!("a chunk: {msg}")))
    }
}
