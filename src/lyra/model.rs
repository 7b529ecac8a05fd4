//! The Lyra v2 model: SoundStream encoder, residual vector quantizer and LyraGAN decoder,
//! loaded from `config.json` + `lyra.safetensors` (or the copy built into the crate), with
//! streaming encoders and decoders that share it.

use std::path::Path;
use std::sync::OnceLock;

use crate::{Error, Kernels, Result};

use super::network::{Network, NetworkState};
use super::packet::{self, Bitrate};
use super::plan::LyraConfig;
use super::rvq::Rvq;
use super::tensors::Tensors;

/// Lyra's sample rate.
pub const SAMPLE_RATE: u32 = 16_000;
/// Samples per frame (one packet): 20 ms.
pub const FRAME_SAMPLES: usize = 320;
/// Frames run through the networks at once by the batch calls: 1 s, so that memory stays
/// flat for any length while the layers' products are large enough to be efficient.
const BATCH_FRAMES: usize = 50;

/// The weights this crate ships (`weights/lyra-v2/`, Apache-2.0, converted from Google's
/// TFLite files: see its README for provenance).
const BUNDLED_CONFIG: &[u8] = include_bytes!("../../weights/lyra-v2/config.json");
const BUNDLED_WEIGHTS: &[u8] = include_bytes!("../../weights/lyra-v2/lyra.safetensors");

/// A loaded Lyra v2 model. Immutable once loaded: any number of streams
/// ([`LyraEncoder`], [`LyraDecoder`]) and threads share one.
pub struct Lyra {
    encoder: Network,
    decoder: Network,
    rvq: Rvq,
    features: usize,
}

impl Lyra {
    /// The model built into the crate (loaded once per process, about 3 MB).
    pub fn bundled() -> Result<&'static Lyra> {
        static BUNDLED: OnceLock<std::result::Result<Lyra, String>> = OnceLock::new();
        BUNDLED
            .get_or_init(|| {
                Lyra::from_bytes(BUNDLED_CONFIG, BUNDLED_WEIGHTS, "<bundled>").map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|reason| Error::Config(format!("the bundled Lyra model: {reason}")))
    }

    /// A converted model in `dir` (`config.json` and `lyra.safetensors`, as
    /// `conversion/lyra_convert.py` writes them).
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref();
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read(&path).map_err(|source| Error::Io { path, source })
        };
        let weights_path = dir.join("lyra.safetensors");
        Self::from_bytes(&read("config.json")?, &read("lyra.safetensors")?, &weights_path.to_string_lossy())
    }

    /// A model from the bytes of its `config.json` and `lyra.safetensors` (`source` names them
    /// in errors).
    pub fn from_bytes(config: &[u8], weights: &[u8], source: &str) -> Result<Self> {
        // A kernel path forced by `ENCODEC_KERNELS` that this CPU cannot run is refused here,
        // as EnCodec's models do, not silently replaced.
        if let Some(kernels) = Kernels::from_env()? {
            kernels.check()?;
        }
        let config: LyraConfig = serde_json::from_slice(config).map_err(|e| Error::Config(e.to_string()))?;
        let expected = (SAMPLE_RATE, FRAME_SAMPLES, 4u32);
        if config.model != "lyra-v2"
            || (config.sample_rate, config.frame_samples, config.bits_per_quantizer) != expected
        {
            return Err(Error::Config(format!(
                "not a Lyra v2 model this crate runs (model {:?}, {} Hz, {} samples per frame)",
                config.model, config.sample_rate, config.frame_samples
            )));
        }
        if config.quantizers * 4 < Bitrate::Kbps9_2.bits()
            || config.codebook_size != 16
            || config.features == 0
        {
            return Err(Error::Config("the quantizer is not 46 codebooks of 16 entries".into()));
        }
        for bitrate in Bitrate::ALL {
            let bps = (bitrate.kbps() * 1000.0).round() as u32;
            if config.bitrates_bps.get(&bps.to_string()) != Some(&(bitrate.bits() as u32)) {
                return Err(Error::Config(format!(
                    "no {bitrate} ({} bits per packet) in the config",
                    bitrate.bits()
                )));
            }
        }
        let tensors = Tensors::parse(weights, source)?;
        let encoder = Network::build(&config.encoder, &tensors, "encoder", 1)?;
        let decoder = Network::build(&config.decoder, &tensors, "decoder", config.features)?;
        if encoder.out_channels() != config.features || decoder.out_channels() != 1 {
            return Err(Error::Config("the networks' widths do not fit the features".into()));
        }
        let rvq = Rvq::load(&tensors, config.quantizers, config.codebook_size, config.features)?;
        Ok(Self { encoder, decoder, rvq, features: config.features })
    }

    /// A streaming encoder at `bitrate`.
    pub fn encoder(&self, bitrate: Bitrate) -> LyraEncoder<'_> {
        LyraEncoder { model: self, state: self.encoder.new_state(), pending: Vec::new(), bitrate }
    }

    /// A streaming decoder.
    pub fn decoder(&self) -> LyraDecoder<'_> {
        LyraDecoder { model: self, state: self.decoder.new_state() }
    }

    /// Packets for 16 kHz mono `pcm` (the last frame padded with zeros), back to back.
    pub fn encode(&self, pcm: &[f32], bitrate: Bitrate) -> Vec<u8> {
        let mut encoder = self.encoder(bitrate);
        let mut packets = encoder.push(pcm);
        packets.extend(encoder.finish());
        packets
    }

    /// 16 kHz mono PCM from packets at `bitrate`, back to back (320 samples per packet).
    pub fn decode(&self, packets: &[u8], bitrate: Bitrate) -> Result<Vec<f32>> {
        self.decoder().push(packets, bitrate)
    }

    /// The encoder's 64 features per frame for the whole frames of 16 kHz mono `pcm`
    /// (`[frames * 64]`, a trailing partial frame ignored): encoding's first stage, for tests
    /// and tools.
    pub fn features(&self, pcm: &[f32]) -> Vec<f32> {
        let mut state = self.encoder.new_state();
        let frames = pcm.len() / FRAME_SAMPLES;
        let mut out = Vec::with_capacity(frames * self.features);
        for chunk in pcm[..frames * FRAME_SAMPLES].chunks(BATCH_FRAMES * FRAME_SAMPLES) {
            out.extend(self.features_with(&mut state, chunk));
        }
        out
    }

    /// The encoder's features for whole frames of `pcm` (`[frames * 64]`), continuing `state`.
    fn features_with(&self, state: &mut NetworkState, pcm: &[f32]) -> Vec<f32> {
        let frames = pcm.len() / FRAME_SAMPLES;
        // Google's library takes int16 samples: the model sees what they become.
        let input = pcm[..frames * FRAME_SAMPLES].iter().map(|&x| to_int16_grid(x)).collect();
        self.encoder.run(state, input, frames)
    }

    /// Each frame's codes with the first `quantizers` codebooks (`[frames][quantizers]`): the
    /// encoder and quantizer without the packing, for tests and tools.
    pub fn codes(&self, pcm: &[f32], quantizers: usize) -> Vec<Vec<u8>> {
        let features = self.features(pcm);
        let quantize = |frame: &[f32]| {
            let mut codes = Vec::with_capacity(quantizers);
            self.rvq.encode(frame, quantizers, &mut codes);
            codes
        };
        features.chunks_exact(self.features).map(quantize).collect()
    }

    /// The decoder's output for each frame's codes (codebooks past a frame's codes unused).
    pub fn synthesize(&self, codes: &[Vec<u8>]) -> Vec<f32> {
        self.decoder().synthesize(codes)
    }

    /// LyraGAN's 16 kHz output for 64 features per frame (`[frames * 64]`, as [`Self::features`]
    /// gives; a trailing partial frame ignored): decoding's last stage without the quantizer,
    /// for tests and tools.
    pub fn synthesize_features(&self, features: &[f32]) -> Vec<f32> {
        self.synthesize_features_with(&mut self.decoder.new_state(), features)
    }

    /// The quantizer's features for each frame's codes (`[frames * 64]`).
    fn dequantize(&self, codes: &[Vec<u8>]) -> Vec<f32> {
        let mut features = vec![0.0; codes.len() * self.features];
        for (frame, c) in features.chunks_exact_mut(self.features).zip(codes) {
            self.rvq.decode(c, frame);
        }
        features
    }

    /// LyraGAN over whole frames of `features`, continuing `state`, a batch of frames at a time.
    fn synthesize_features_with(&self, state: &mut NetworkState, features: &[f32]) -> Vec<f32> {
        let frames = features.len() / self.features;
        let mut out = Vec::with_capacity(frames * FRAME_SAMPLES);
        for chunk in features[..frames * self.features].chunks(BATCH_FRAMES * self.features) {
            out.extend(self.decoder.run(state, chunk.to_vec(), chunk.len() / self.features));
        }
        out
    }
}

/// `x` as Google's library sees it: rounded to the nearest int16 step (half to even),
/// clipped, back in [-1, 1).
fn to_int16_grid(x: f32) -> f32 {
    crate::audio::sample_to_i16(x) as f32 / 32768.0
}

/// 16 kHz mono PCM in, packets out, 20 ms at a time; partial frames wait for the next call.
pub struct LyraEncoder<'m> {
    model: &'m Lyra,
    state: NetworkState,
    pending: Vec<f32>,
    bitrate: Bitrate,
}

impl LyraEncoder<'_> {
    /// The bitrate it encodes at.
    pub fn bitrate(&self) -> Bitrate {
        self.bitrate
    }

    /// Takes the next samples (16 kHz mono, [-1, 1]); returns the packets of the frames they
    /// complete, back to back. NaN and infinite samples count as silence.
    pub fn push(&mut self, pcm: &[f32]) -> Vec<u8> {
        self.pending.extend(pcm.iter().map(|&x| if x.is_finite() { x } else { 0.0 }));
        let whole = self.pending.len() / FRAME_SAMPLES * FRAME_SAMPLES;
        let mut packets = Vec::new();
        let mut done = 0;
        while done < whole {
            let end = (done + BATCH_FRAMES * FRAME_SAMPLES).min(whole);
            let features = self.model.features_with(&mut self.state, &self.pending[done..end]);
            for frame in features.chunks_exact(self.model.features) {
                let mut codes = Vec::with_capacity(self.bitrate.quantizers());
                self.model.rvq.encode(frame, self.bitrate.quantizers(), &mut codes);
                packets.extend(packet::pack(&codes));
            }
            done = end;
        }
        self.pending.drain(..whole);
        packets
    }

    /// Ends the stream: the last partial frame, padded with zeros, as a packet (none if the
    /// input ended on a frame boundary).
    pub fn finish(mut self) -> Vec<u8> {
        if self.pending.is_empty() {
            return Vec::new();
        }
        let pad = FRAME_SAMPLES - self.pending.len();
        self.push(&vec![0.0; pad])
    }
}

/// Packets in, 16 kHz mono PCM out (320 samples per packet).
pub struct LyraDecoder<'m> {
    model: &'m Lyra,
    state: NetworkState,
}

impl LyraDecoder<'_> {
    /// Decodes whole packets at `bitrate`, back to back.
    pub fn push(&mut self, packets: &[u8], bitrate: Bitrate) -> Result<Vec<f32>> {
        let size = bitrate.packet_bytes();
        if !packets.len().is_multiple_of(size) {
            return Err(
                super::LyraError::RawLength { bytes: packets.len() as u64, packet_bytes: size }.into()
            );
        }
        let codes: Vec<Vec<u8>> = packets.chunks_exact(size).map(|p| packet::unpack(p, bitrate)).collect();
        Ok(self.synthesize(&codes))
    }

    /// The output for each frame's codes, continuing the stream.
    fn synthesize(&mut self, codes: &[Vec<u8>]) -> Vec<f32> {
        self.model.synthesize_features_with(&mut self.state, &self.model.dequantize(codes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// LyraGAN on the quantizer's features is the decode of the codes, across batch chunks.
    #[test]
    fn synthesize_features_is_the_decode_without_the_quantizer() {
        let lyra = Lyra::bundled().unwrap();
        let frames = BATCH_FRAMES + 7;
        let pcm: Vec<f32> = (0..frames * FRAME_SAMPLES).map(|i| 0.3 * (i as f32 * 0.031).sin()).collect();
        let codes = lyra.codes(&pcm, Bitrate::Kbps6.quantizers());
        let from_features = lyra.synthesize_features(&lyra.dequantize(&codes));
        assert_eq!(from_features.len(), frames * FRAME_SAMPLES);
        assert!(from_features == lyra.synthesize(&codes));
    }
}
