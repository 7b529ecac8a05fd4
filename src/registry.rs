//! The codecs built in: where a new codec is registered, so that files in its format are read
//! by their magic bytes ([`crate::codec::open`]).

use crate::aac::AacCodec;
use crate::codec::Codec;
use crate::encodec::{Bandwidth, EncodecCodec, Models};
use crate::gzip::GzipCodec;
use crate::lyra::{Bitrate, LyraCodec};
use crate::opus::OpusCodec;

/// Every codec that reads files by their magic bytes, in the order [`crate::codec::open`]
/// tries them: EnCodec (its models from `models`), Lyra (framed files; built-in weights),
/// Opus, AAC, gzip.
pub fn builtin(models: &Models) -> Vec<Box<dyn Codec + '_>> {
    vec![
        Box::new(EncodecCodec::new(models, Bandwidth::Kbps6)),
        Box::new(LyraCodec::new(Bitrate::Kbps6)),
        Box::new(OpusCodec::default()),
        Box::new(AacCodec::default()),
        Box::new(GzipCodec),
    ]
}
