//! Google's Lyra v2 speech codec (16 kHz mono, 3.2 / 6 / 9.2 kbps) with its real pretrained
//! weights built in: SoundStream encoder, residual vector quantizer and LyraGAN decoder, run
//! as Google's TFLite models compute them (their int8 layers with XNNPACK's arithmetic), on
//! this crate's kernels.
//!
//! ```no_run
//! use encodec::lyra::{Bitrate, Lyra};
//! # fn main() -> encodec::Result<()> {
//! let lyra = Lyra::bundled()?;                            // the weights in the crate
//! let pcm = vec![0.0f32; 16_000];                         // 1 s, 16 kHz mono
//! let packets = lyra.encode(&pcm, Bitrate::Kbps6);        // 50 packets of 15 bytes
//! let decoded = lyra.decode(&packets, Bitrate::Kbps6)?;   // 16 kHz mono again
//! # Ok(()) }
//! ```
//!
//! Files: [`RawWriter`] / [`RawReader`] read and write Google's `.lyra` packet streams
//! (packets back to back, the bitrate known to the caller), and [`FramedWriter`] /
//! [`FramedReader`] this crate's framed form, which records the bitrate, the source's rate,
//! channels and length. [`LyraCodec`] puts either behind the [`crate::Codec`] interface.
//!
//! Layout: `plan` (what `config.json` says) and `tensors` (the weights file) ← `quant`
//! (XNNPACK's int8 arithmetic), `conv`, `tconv` (the streaming layers) ← `network` (a plan
//! made runnable, with per-stream state) and `rvq` (the quantizer) ← `model` ([`Lyra`],
//! streaming encoder and decoder) ← `packet`, `file` ← `codec`.

mod codec;
mod conv;
mod file;
mod model;
mod network;
mod packet;
mod plan;
mod quant;
mod rvq;
mod tconv;
mod tensors;
mod value;

pub use codec::{Container, LyraCodec};
pub use file::{FramedHeader, FramedReader, FramedWriter, RawReader, RawWriter};
pub use model::{Lyra, LyraDecoder, LyraEncoder, FRAME_SAMPLES, SAMPLE_RATE};
pub use packet::{pack, unpack, Bitrate};

/// What is wrong with a Lyra file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LyraError {
    /// A framed file that does not start with `LYRA`.
    #[error("not a framed Lyra file (no `LYRA` magic)")]
    NotFramed,
    /// A framed file of a later version.
    #[error("framed Lyra file version {0} (this build reads version 1)")]
    Version(u8),
    /// A packet size no Lyra bitrate has.
    #[error("{0} bits per packet is not a Lyra bitrate (64, 120 or 184)")]
    Bits(usize),
    /// A bitrate Lyra does not code at.
    #[error("Lyra codes at 3.2, 6 or 9.2 kbps, not {0}")]
    Bitrate(f32),
    /// A raw stream that is not a whole number of packets at the bitrate given.
    #[error("{bytes} bytes are not whole {packet_bytes}-byte packets: a truncated file, or another bitrate")]
    RawLength {
        /// The stream's length.
        bytes: u64,
        /// The packet size of the bitrate given.
        packet_bytes: usize,
    },
    /// A framed file that ends early.
    #[error("the framed Lyra file is truncated ({0})")]
    Truncated(&'static str),
    /// A framed file whose header or trailer makes no sense.
    #[error("corrupt framed Lyra file: {0}")]
    Corrupt(String),
}
