//! What one compression did, and running statistics of a compressor, as cache services keep
//! for their gzip layer.

use std::collections::BTreeMap;

use serde::Serialize;

/// What one [`super::Compressor::compress`] call did.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Metadata {
    /// The codec of the output ([`crate::Codec::name`]: `ecdc`, `aac`, `gzip`, `stored`).
    pub codec: &'static str,
    /// The level asked for (`ultra`, `standard`, `lossless`, `off`).
    pub level: &'static str,
    /// Whether the output is anything but the original bytes.
    pub is_compressed: bool,
    /// Bytes in.
    pub original_size: u64,
    /// Bytes out.
    pub compressed_size: u64,
    /// `original_size / compressed_size`: 10 means ten times smaller.
    pub ratio: f64,
    /// Length of the audio coded, in seconds; `None` when the input was not read as audio
    /// (below the minimum size, the lossless and off levels, or not audio at all).
    pub duration_s: Option<f64>,
    /// Whether the audio ended before its header said, or mid-frame (a file still being
    /// written, a cut stream): it was read as far as it was valid, and `duration_s` is what
    /// was read.
    pub truncated: bool,
    /// Why the output is not what the level asked for (each codec tried, and what stopped it).
    pub fallback_reason: Option<String>,
}

/// Totals over every file a [`super::Compressor`] has compressed.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Stats {
    /// Files compressed.
    pub files: u64,
    /// Bytes in.
    pub original_bytes: u64,
    /// Bytes out.
    pub compressed_bytes: u64,
    /// Mean of the files' ratios (`original / compressed`).
    pub average_ratio: f64,
    /// `original_bytes / compressed_bytes`.
    pub overall_ratio: f64,
    /// Files that did not get the level asked for.
    pub fallbacks: u64,
    /// Files below this size are stored as they are.
    pub threshold_bytes: u64,
    /// The same totals for each codec used.
    pub by_codec: BTreeMap<&'static str, CodecStats>,
    #[serde(skip)]
    ratio_sum: f64,
}

/// Totals for one codec.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CodecStats {
    /// Files.
    pub files: u64,
    /// Bytes in.
    pub original_bytes: u64,
    /// Bytes out.
    pub compressed_bytes: u64,
    /// Seconds of audio (of the files read as audio).
    pub duration_s: f64,
}

impl Stats {
    /// No files yet, for a compressor that stores files below `threshold_bytes` as they are.
    pub fn new(threshold_bytes: u64) -> Self {
        Self { threshold_bytes, ..Self::default() }
    }

    /// Adds one file's outcome.
    pub fn record(&mut self, file: &Metadata) {
        self.files += 1;
        self.original_bytes += file.original_size;
        self.compressed_bytes += file.compressed_size;
        self.ratio_sum += file.ratio;
        self.average_ratio = self.ratio_sum / self.files as f64;
        self.overall_ratio = self.original_bytes as f64 / self.compressed_bytes.max(1) as f64;
        self.fallbacks += u64::from(file.fallback_reason.is_some());
        let codec = self.by_codec.entry(file.codec).or_default();
        codec.files += 1;
        codec.original_bytes += file.original_size;
        codec.compressed_bytes += file.compressed_size;
        codec.duration_s += file.duration_s.unwrap_or(0.0);
    }

    /// The statistics as one line of JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("plain numbers and strings")
    }
}
