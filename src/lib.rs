#![warn(missing_docs)]
//! Meta's EnCodec neural audio codec, natively in [candle](https://github.com/huggingface/candle),
//! producing the same codes as the reference `encodec` 0.1.1.
//!
//! ```no_run
//! use encodec::{Bandwidth, Encodec};
//! # fn main() -> encodec::Result<()> {
//! let model = Encodec::from_dir("weights/test-24khz")?; // config.json + model.safetensors
//! let pcm = vec![vec![0.0f32; 24_000]];                // [channels][samples] at 24 kHz
//! let codes = model.encode(&pcm, Bandwidth::Kbps6)?;   // 8 codebooks x 75 frames
//! let decoded = model.decode(&codes)?;                 // [channels][samples] again
//! # Ok(()) }
//! ```
//!
//! Layout: [`config`] (config.json), [`weights`] (safetensors by Hub name), [`nn`] (the
//! network, a file per part), [`model`] (encode/decode, segmenting), [`codes`] (what the
//! encoder produces), [`error`].

pub mod atomic;
pub mod audio;
pub mod bench;
pub mod cache;
pub mod codecs;
pub mod codes;
pub mod config;
pub mod convert;
pub mod ecdc;
pub mod error;
pub mod hub;
pub mod kernels;
pub mod model;
pub mod nn;
mod pcm;
pub mod profile;
pub mod stream;
pub mod weights;

pub use codes::{Bandwidth, CodeSegment, Codes};
pub use config::EncodecConfig;
pub use error::{Error, Result};
pub use kernels::Kernels;
pub use model::Encodec;
pub use stream::{CodeChunk, SeekPoint, StreamingDecoder, StreamingEncoder};
pub use weights::Precision;
