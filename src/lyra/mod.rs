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

pub(crate) mod codec;
mod conv;
mod error;
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
pub use error::LyraError;
pub use file::{FramedHeader, FramedReader, FramedWriter, RawReader, RawWriter};
pub use model::{Lyra, LyraDecoder, LyraEncoder, FRAME_SAMPLES, SAMPLE_RATE};
pub use packet::{pack, unpack, Bitrate};
