//! The codecs built in: where a new codec is registered, so that files in its format are read
//! by their magic bytes ([`crate::codec::open`]).

use std::sync::Arc;

use crate::aac::AacCodec;
use crate::codec::Codec;
use crate::encodec::ecdc::DEFAULT_PREROLL_FRAMES;
use crate::encodec::{Bandwidth, EncodecCodec, Models};
use crate::gzip::GzipCodec;
use crate::lyra::{Bitrate, Container, LyraCodec};
use crate::opus::{OpusCodec, OpusEnhancement};

/// How the decoders read what a file does not say, and the choices decoding leaves open.
#[derive(Clone, Copy, Debug)]
pub struct DecodeOptions {
    /// The bitrate of Google's raw `.lyra` packets (their file has no header): 6 kbps by
    /// default.
    pub raw_lyra_bitrate: Bitrate,
    /// libopus's decoder-side speech enhancement: off by default.
    pub opus_enhancement: OpusEnhancement,
    /// EnCodec frames decoded before a seek's target to warm the decoder (24 kHz model).
    pub ecdc_preroll_frames: usize,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        Self {
            raw_lyra_bitrate: Bitrate::Kbps6,
            opus_enhancement: OpusEnhancement::Off,
            ecdc_preroll_frames: DEFAULT_PREROLL_FRAMES,
        }
    }
}

/// Every codec that reads files by their magic bytes, in the order [`crate::codec::open`]
/// tries them: EnCodec (its models from `models`), Lyra (framed files, and raw packets when
/// the caller says so; built-in weights), Opus, AAC, gzip.
pub fn builtin(models: &Models) -> Vec<Box<dyn Codec + '_>> {
    with_encodec(EncodecCodec::new(models, Bandwidth::Kbps6), &DecodeOptions::default())
}

/// As [`builtin`], owning a share of `models` (a player keeps its codecs as long as it
/// plays), decoding with `options`.
pub fn decoders(models: Arc<Models>, options: &DecodeOptions) -> Vec<Box<dyn Codec>> {
    let encodec = EncodecCodec::shared(models, Bandwidth::Kbps6).preroll(options.ecdc_preroll_frames);
    with_encodec(encodec, options)
}

fn with_encodec<'m>(encodec: EncodecCodec<'m>, options: &DecodeOptions) -> Vec<Box<dyn Codec + 'm>> {
    vec![
        Box::new(encodec),
        Box::new(LyraCodec::new(Bitrate::Kbps6)),
        Box::new(LyraCodec::new(options.raw_lyra_bitrate).container(Container::Raw)),
        Box::new(OpusCodec::default().with_enhancement(options.opus_enhancement)),
        Box::new(AacCodec::default()),
        Box::new(GzipCodec),
    ]
}
