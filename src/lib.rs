#![warn(missing_docs)]
//! Neural and classic audio compression for speech caches, in pure Rust: Meta's EnCodec
//! (the same codes as the reference `encodec` 0.1.1, `.ecdc` files byte for byte), Google's
//! Lyra v2 ([`lyra`]: its pretrained weights built in, the same bits as its TFLite models),
//! AAC and gzip behind one [`Codec`] interface, and cache compression levels with a fallback
//! chain.
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
//! # What runs where
//! [candle](https://github.com/huggingface/candle) reads the weights (safetensors) and holds
//! them, and its `Tensor` is the type of [`candle::Model`], the surface of candle-transformers'
//! EnCodec (`encode(&Tensor)` to codes, `decode(&Tensor)` to audio). The forward pass itself
//! runs in this crate's own CPU kernels (cache-blocked GEMM tiles and matrix-vector products,
//! one variant per instruction set, see [`Kernels`]), not in candle operations: tensors on
//! another device are moved to the CPU first, and results moved back.
//!
//! # Layout
//! Lower layers never import higher ones (a test checks the `use` lines):
//! `kernels` (GEMM, matvec, activations) ← `nn` (convolutions, LSTM, residual blocks, layer
//! stacks, batch and streaming) ← [`encodec`] (config and published models, SEANet,
//! quantizer, [`Encodec`], streaming, codes, the [`ecdc`] container); `kernels` ← [`lyra`]
//! (Lyra v2's streaming int8/f32 layers, quantizer, packets and files) ← [`codec`] (the
//! [`Codec`] interface; EnCodec, Lyra, AAC, gzip and stored behind it) ← [`levels`] (cache levels as
//! chains of codecs) ← [`cache`] (folder migration and statistics); [`live`] streams Lyra
//! packets and Ogg Opus pages for sockets; [`player`] plays files (and queues of them) from
//! the cache, seeking. [`audio`] reads, converts
//! and writes PCM; `hub` finds weights (feature `hub`).

mod aac;
mod atomic;
pub mod audio;
#[doc(hidden)]
pub mod bench;
pub mod cache;
pub mod codec;
pub mod encodec;
mod error;
mod gzip;
#[cfg(feature = "hub")]
pub mod hub;
mod io;
mod kernels;
pub mod levels;
pub mod live;
pub mod lyra;
mod nn;
mod opus;
mod pcm;
pub mod player;
#[doc(hidden)]
pub mod profile;
#[cfg(feature = "quality")]
pub mod quality;
pub mod registry;
mod stored;
mod weights;

pub use aac::{AacCodec, AacProfile, AacSettings};
pub use atomic::AtomicFile;
pub use codec::{Codec, Format};
pub use encodec::{convert, ecdc};
pub use encodec::{
    Bandwidth, CodeChunk, CodeSegment, Codes, Encodec, EncodecCodec, EncodecConfig, ModelFiles, Models,
    SeekPoint, StreamingDecoder, StreamingEncoder,
};
pub use error::{Error, Result};
pub use gzip::GzipCodec;
pub use kernels::Kernels;
pub use opus::{OpusCodec, OpusEnhancement, OpusSettings};
pub use player::{Player, PlayerOptions};
pub use stored::StoredCodec;
pub use weights::Precision;

/// candle-transformers' EnCodec surface: replace `candle_transformers::models::encodec::Model`
/// with [`candle::Model`] (built from an [`Encodec`]) and keep the calls.
pub mod candle {
    pub use crate::encodec::tensor::Model;
}

/// The building blocks under the codecs, for this crate's benchmarks and tests: not a stable
/// API.
#[doc(hidden)]
pub mod internals {
    /// Atomic writes.
    pub mod atomic {
        pub use crate::atomic::{write, write_bytes};
    }
    /// gzip of bytes, and bounded inflation.
    pub mod gzip {
        pub use crate::gzip::{compress, inflate};
    }
    pub use crate::error::panic_message;
    pub use crate::kernels::{activation, gemm, matvec, with_kernels};
    pub use crate::nn::{conv, lstm};
    pub use crate::weights::Weights;
}
