//! The decoders a browser needs, as a WebAssembly module: any file the cache writes that needs
//! no C library (`.ecdc`, `.lyra` framed and raw, gzip, WAV and the other containers symphonia
//! reads) decoded whole, and Lyra packets decoded as they arrive. `web/encodec.js` wraps it.
//!
//! The surface is a handful of `extern "C"` functions over linear memory, written by hand:
//! wasm-bindgen would need its CLI at exactly the crate's version, which no package here
//! provides (building it takes longer than this file), for an interface of byte buffers and
//! float arrays that needs no generated glue. Every function is also a plain Rust function,
//! tested natively.

use encodec::internals::with_kernels;
use encodec::levels::{self, Decompressed};
use encodec::live::{LiveCodec, LiveDecoder};
use encodec::{Encodec, EncodecConfig, Kernels, Models};

/// Decoded audio: `[channels][frames]` at `sample_rate`.
#[derive(Debug, Clone, PartialEq)]
pub struct Pcm {
    /// Samples per second.
    pub sample_rate: u32,
    /// One vector of samples per channel.
    pub channels: Vec<Vec<f32>>,
}

/// What decodes: the EnCodec model that `.ecdc` files need (none until loaded; Lyra's weights
/// are built in) and the kernel path.
pub struct Decoder {
    models: Models,
    kernels: Kernels,
}

impl Default for Decoder {
    fn default() -> Self {
        Self { models: Models::none(), kernels: Kernels::best() }
    }
}

impl Decoder {
    /// Loads the EnCodec model `.ecdc` files are decoded with: its `config.json` text and its
    /// `model.safetensors` bytes.
    pub fn load_encodec(&mut self, config_json: &str, safetensors: &[u8]) -> encodec::Result<()> {
        let config = EncodecConfig::from_json(config_json)?;
        let tensors = candle_core::safetensors::load_buffer(safetensors, &candle_core::Device::Cpu)?;
        self.models = Models::loaded(Encodec::from_tensors(config, tensors)?);
        Ok(())
    }

    /// Runs the kernels on `kernels` (`simd128` by default; `portable` for comparison).
    pub fn set_kernels(&mut self, kernels: Kernels) -> encodec::Result<()> {
        kernels.check()?;
        self.kernels = kernels;
        Ok(())
    }

    /// Decodes a whole file, told apart by its magic bytes.
    pub fn decode(&self, bytes: &[u8]) -> encodec::Result<Pcm> {
        let Decompressed { audio, .. } =
            with_kernels(self.kernels, || levels::decompress(bytes, &self.models))?;
        Ok(Pcm { sample_rate: audio.sample_rate, channels: audio.channels })
    }

    /// A decoder of raw Lyra packets at `kbps` (3.2, 6 or 9.2) arriving in pieces of any size.
    pub fn lyra_stream(&self, kbps: f32) -> encodec::Result<Stream> {
        Ok(Stream {
            decoder: LiveDecoder::new(LiveCodec::from_name("lyra", Some(kbps))?)?,
            kernels: self.kernels,
        })
    }
}

/// A stream of Lyra packets in, PCM out as soon as each packet is whole.
pub struct Stream {
    decoder: LiveDecoder,
    kernels: Kernels,
}

impl Stream {
    /// The PCM the next bytes complete.
    pub fn push(&mut self, bytes: &[u8]) -> encodec::Result<Pcm> {
        let channels = with_kernels(self.kernels, || self.decoder.push(bytes))?;
        Ok(Pcm { sample_rate: self.decoder.sample_rate(), channels })
    }

    /// Ends the stream: an error if it stopped inside a packet.
    pub fn finish(self) -> encodec::Result<Pcm> {
        let sample_rate = self.decoder.sample_rate();
        let channels = with_kernels(self.kernels, || self.decoder.finish())?;
        Ok(Pcm { sample_rate, channels })
    }
}

mod abi;
