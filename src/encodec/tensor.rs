//! EnCodec with candle tensors in and out, as candle-transformers' `encodec::Model` has it, so
//! that a candle pipeline making EnCodec tokens (MusicGen- or Parler-style) can switch to this
//! crate by changing an import and the constructor.

use candle_core::{DType, Device, Tensor};

use crate::encodec::codes::{Bandwidth, CodeSegment, Codes};
use crate::encodec::model::Encodec;

/// An EnCodec model taking and giving candle tensors: `encode` audio `[batch, channels,
/// samples]` to codes `[batch, codebooks, frames]` (u32), `decode` codes back to audio. Tensors
/// on any device and of any float dtype are taken; the work runs in this crate's CPU kernels
/// and the result is put on the input's device. Errors are candle's, as in candle-transformers.
///
/// Only models that encode the whole signal at once (the 24 kHz model) have this surface: the
/// 48 kHz model's codes carry a scale per one-second segment, which a codes tensor cannot
/// hold (use [`Encodec::encode`] for it).
#[derive(Clone, Debug)]
pub struct Model {
    model: Encodec,
    bandwidth: Bandwidth,
}

impl Model {
    /// `model` at its highest bandwidth (all its codebooks), as candle-transformers encodes.
    pub fn new(model: Encodec) -> candle_core::Result<Self> {
        let bandwidth = *model.bandwidths().last().ok_or_else(|| candle_core::Error::msg("no bandwidths"))?;
        Self::with_bandwidth(model, bandwidth)
    }

    /// `model` at `bandwidth` (fewer codebooks).
    pub fn with_bandwidth(model: Encodec, bandwidth: Bandwidth) -> candle_core::Result<Self> {
        if model.config().segment_length().is_some() {
            return Err(candle_core::Error::msg(
                "a segmenting model's codes carry per-segment scales: use Encodec::encode",
            ));
        }
        bandwidth.num_codebooks(model.config()).map_err(candle_core::Error::wrap)?;
        Ok(Self { model, bandwidth })
    }

    /// The model underneath.
    pub fn inner(&self) -> &Encodec {
        &self.model
    }

    /// Audio `[batch, channels, samples]` (or `[channels, samples]`) to codes `[batch,
    /// codebooks, frames]` u32.
    pub fn encode(&self, xs: &Tensor) -> candle_core::Result<Tensor> {
        let device = xs.device().clone();
        let xs = if xs.rank() == 2 { xs.unsqueeze(0)? } else { xs.clone() };
        let (batch, _, _) = xs.dims3()?;
        let xs = xs.to_device(&Device::Cpu)?.to_dtype(DType::F32)?;
        let mut items = Vec::with_capacity(batch);
        for b in 0..batch {
            let pcm: Vec<Vec<f32>> = xs.get(b)?.to_vec2()?;
            let codes = self.model.encode(&pcm, self.bandwidth).map_err(candle_core::Error::wrap)?;
            let segment = codes.segments.into_iter().next().expect("one segment");
            items.push(Tensor::new(segment.codes, &Device::Cpu)?);
        }
        Tensor::stack(&items, 0)?.to_device(&device)
    }

    /// Codes `[batch, codebooks, frames]` (any integer dtype) to audio `[batch, channels,
    /// frames * hop]` f32.
    pub fn decode(&self, codes: &Tensor) -> candle_core::Result<Tensor> {
        let device = codes.device().clone();
        let (batch, _, frames) = codes.dims3()?;
        let codes = codes.to_device(&Device::Cpu)?.to_dtype(DType::U32)?;
        let hop = self.model.config().hop_length();
        let mut items = Vec::with_capacity(batch);
        for b in 0..batch {
            let codes = Codes {
                audio_len: frames * hop,
                segments: vec![CodeSegment { codes: codes.get(b)?.to_vec2()?, scale: None }],
            };
            let pcm = self.model.decode(&codes).map_err(candle_core::Error::wrap)?;
            items.push(Tensor::new(pcm, &Device::Cpu)?);
        }
        Tensor::stack(&items, 0)?.to_device(&device)
    }
}
