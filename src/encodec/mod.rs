//! EnCodec: the model's config and the published models, the SEANet stacks and quantizer,
//! [`Encodec`] (batch and streaming), its codes, the `.ecdc` container, and checkpoint
//! conversion.

mod codec;
mod codes;
mod config;
pub mod convert;
pub mod ecdc;
mod model;
mod models;
mod overlap;
mod quantizer;
mod seanet;
mod stream;
pub(crate) mod tensor;

pub use codec::EncodecCodec;
pub use codes::{Bandwidth, CodeChunk, CodeSegment, Codes, SeekPoint};
pub use config::{
    EncodecConfig, ModelFiles, NormType, PadMode, PublishedModel, DEFAULT_REPO, MODEL_FILES, PUBLISHED,
};
pub use model::Encodec;
pub use models::Models;
pub use stream::{StreamingDecoder, StreamingEncoder};
