//! `Encodec`: PCM to codes and back, with the 48 kHz model's segmenting, normalisation and
//! overlap-add.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use candle_core::{Device, Tensor};
use rayon::prelude::*;

use crate::encodec::codes::{Bandwidth, CodeSegment, Codes};
use crate::encodec::config::{EncodecConfig, ModelFiles};
use crate::encodec::overlap::OverlapAdd;
use crate::encodec::quantizer::ResidualVectorQuantizer;
use crate::encodec::seanet;
use crate::kernels::{self, Kernels};
use crate::nn::stack::Stack;
use crate::weights::{Precision, Weights};
use crate::{profile, Error, Result};

/// An EnCodec model: SEANet encoder, residual vector quantizer and SEANet decoder.
///
/// PCM is `[channels][samples]` f32 at [`Encodec::sample_rate`]; codes are [`Codes`].
#[derive(Clone, Debug)]
pub struct Encodec {
    config: EncodecConfig,
    encoder: Stack,
    quantizer: ResidualVectorQuantizer,
    decoder: Stack,
    device: Device,
    precision: Precision,
    /// The kernels' instruction-set path.
    kernels: Kernels,
    /// Worker threads asked for (`None`: one per core).
    threads: Option<usize>,
    /// Where encode and decode run: a pool of this model's own when it was given a thread
    /// count or a path other than the process default; else (`None`) rayon's global pool.
    pool: Option<Arc<rayon::ThreadPool>>,
}

impl Encodec {
    /// Loads a folder in the Hugging Face layout: `config.json` and `model.safetensors`.
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Self> {
        Self::from_files(&ModelFiles::in_dir(dir.as_ref()))
    }

    /// Loads a model from its files (a folder, or wherever `hub::resolve` found them).
    pub fn from_files(files: &ModelFiles) -> Result<Self> {
        Self::from_files_with(files, Precision::F32)
    }

    /// As [`Encodec::from_files`], keeping the layer weights in `precision`.
    pub fn from_files_with(files: &ModelFiles, precision: Precision) -> Result<Self> {
        let config = EncodecConfig::from_file(&files.config)?;
        let weights = Weights::from_safetensors(&files.weights, &Device::Cpu)?.with_precision(precision);
        Self::load(config, &weights)
    }

    /// Builds the model from in-memory tensors named as on the Hub.
    pub fn from_tensors(config: EncodecConfig, tensors: HashMap<String, Tensor>) -> Result<Self> {
        Self::from_tensors_with(config, tensors, Precision::F32)
    }

    /// As [`Encodec::from_tensors`], keeping the layer weights in `precision`.
    pub fn from_tensors_with(
        config: EncodecConfig,
        tensors: HashMap<String, Tensor>,
        precision: Precision,
    ) -> Result<Self> {
        Self::load(config, &Weights::from_tensors(tensors, &Device::Cpu).with_precision(precision))
    }

    /// Builds the model described by `config` from `weights`.
    ///
    /// Fails if `ENCODEC_KERNELS` is set to a path that is unknown or that this CPU cannot run.
    pub(crate) fn load(config: EncodecConfig, weights: &Weights) -> Result<Self> {
        config.validate()?;
        Kernels::from_env()?;
        // The two stacks unpack their weights in parallel.
        let (encoder, decoder) = rayon::join(
            || seanet::encoder(&weights.pp("encoder"), &config),
            || seanet::decoder(&weights.pp("decoder"), &config),
        );
        Ok(Self {
            encoder: encoder?,
            quantizer: ResidualVectorQuantizer::load(
                &weights.pp("quantizer"),
                config.num_quantizers(),
                config.codebook_size,
                config.hidden_size,
            )?,
            decoder: decoder?,
            device: weights.device().clone(),
            precision: weights.precision(),
            kernels: kernels::process_default(),
            threads: None,
            pool: None,
            config,
        })
    }

    /// Runs encode and decode on `threads` worker threads of a pool of this model's own
    /// (by default they use rayon's global pool, one thread per core).
    pub fn with_threads(mut self, threads: usize) -> Result<Self> {
        self.threads = Some(threads.max(1));
        self.pool = self.build_pool()?;
        Ok(self)
    }

    /// Runs the kernels on `kernels` (by default `ENCODEC_KERNELS`, else the fastest path the
    /// CPU has). Every path gives the same codes and samples, bit for bit; forcing one is for
    /// tests and benchmarks. Fails if this CPU cannot run it.
    pub fn with_kernels(mut self, kernels: Kernels) -> Result<Self> {
        kernels.check()?;
        self.kernels = kernels;
        self.pool = self.build_pool()?;
        Ok(self)
    }

    /// A pool whose threads run this model's kernel path, where the global pool does not do.
    fn build_pool(&self) -> Result<Option<Arc<rayon::ThreadPool>>> {
        if self.threads.is_none() && self.kernels == kernels::process_default() {
            return Ok(None);
        }
        let kernels = self.kernels;
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(self.threads.unwrap_or(0)) // 0: rayon's default, one per core
            .thread_name(|i| format!("encodec-{i}"))
            .start_handler(move |_| kernels::set_thread_kernels(kernels))
            .build()
            .map_err(|e| Error::Threads(e.to_string()))?;
        Ok(Some(Arc::new(pool)))
    }

    /// The kernels' instruction-set path.
    pub fn kernels(&self) -> Kernels {
        self.kernels
    }

    /// The precision the layer weights are kept in.
    pub fn precision(&self) -> Precision {
        self.precision
    }

    /// Worker threads encode and decode use.
    pub fn threads(&self) -> usize {
        self.pool.as_ref().map_or_else(rayon::current_num_threads, |p| p.current_num_threads())
    }

    /// Runs `f` on this model's threads.
    pub(crate) fn install<T: Send>(&self, f: impl FnOnce() -> T + Send) -> T {
        match &self.pool {
            Some(pool) => pool.install(f),
            // The global pool's threads run the process default, which is this model's path;
            // the calling thread may have been given another.
            None => kernels::with_kernels(self.kernels, f),
        }
    }

    /// The model's configuration.
    pub fn config(&self) -> &EncodecConfig {
        &self.config
    }

    /// Samples per second of the PCM the model takes and gives.
    pub fn sample_rate(&self) -> u32 {
        self.config.sampling_rate
    }

    /// Audio channels of the PCM the model takes and gives.
    pub fn channels(&self) -> usize {
        self.config.audio_channels
    }

    /// The bandwidths this model supports, lowest first.
    pub fn bandwidths(&self) -> Vec<Bandwidth> {
        Bandwidth::ALL.into_iter().filter(|b| self.config.target_bandwidths.contains(&b.kbps())).collect()
    }

    /// Encodes `pcm` (`[channels][samples]` at the model's rate) at `bandwidth`.
    pub fn encode(&self, pcm: &[impl AsRef<[f32]> + Sync], bandwidth: Bandwidth) -> Result<Codes> {
        self.install(|| self.encode_on_this_thread(pcm, bandwidth))
    }

    fn encode_on_this_thread(&self, pcm: &[impl AsRef<[f32]> + Sync], bandwidth: Bandwidth) -> Result<Codes> {
        let num_codebooks = bandwidth.num_codebooks(&self.config)?;
        let audio_len = self.check_pcm(pcm)?;
        // Segments (the 48 kHz model's) are independent: the network runs them in parallel.
        let ranges: Vec<_> = self.config.segments(audio_len).collect();
        let (inputs, scales): (Vec<Tensor>, Vec<Option<f32>>) = ranges
            .into_par_iter()
            .map(|range| {
                let channels: Vec<&[f32]> = pcm.iter().map(|c| &c.as_ref()[range.clone()]).collect();
                self.segment_input(&channels)
            })
            .collect::<Result<Vec<_>>>()?
            .into_iter()
            .unzip();
        let embeddings = self.encoder.forward_items(&inputs)?;
        let segments = embeddings
            .par_iter()
            .zip(scales)
            .map(|(embeddings, scale)| {
                let codes = profile::time(
                    || "quantizer.encode".into(),
                    || self.quantizer.encode(&embeddings.squeeze(0)?, num_codebooks),
                )?;
                Ok(CodeSegment { codes, scale })
            })
            .collect::<Result<_>>()?;
        Ok(Codes { audio_len, segments })
    }

    /// Decodes `codes` to `[channels][codes.audio_len]` PCM at the model's rate.
    pub fn decode(&self, codes: &Codes) -> Result<Vec<Vec<f32>>> {
        self.install(|| self.decode_on_this_thread(codes))
    }

    fn decode_on_this_thread(&self, codes: &Codes) -> Result<Vec<Vec<f32>>> {
        codes.check(&self.config)?;
        let decoded = self.decode_segments(&codes.segments)?;
        let mut pcm = match self.config.segment_stride() {
            Some(stride) => {
                let mut overlap = OverlapAdd::new(stride, self.channels(), 0, None);
                let mut pcm = vec![Vec::new(); self.channels()];
                for (index, segment) in decoded.iter().enumerate() {
                    let done = overlap.add(index, segment);
                    pcm.iter_mut().zip(done).for_each(|(a, b)| a.extend(b));
                }
                pcm.iter_mut().zip(overlap.finish()).for_each(|(a, b)| a.extend(b));
                pcm
            }
            None => decoded.into_iter().next().unwrap_or_default(),
        };
        for channel in &mut pcm {
            channel.truncate(codes.audio_len);
        }
        Ok(pcm)
    }

    /// Each segment decoded on its own, `[channels][frames * hop]` times its scale (before the
    /// 48 kHz model's overlap-add and the trim to the audio length).
    pub(crate) fn decode_segments(&self, segments: &[CodeSegment]) -> Result<Vec<Vec<Vec<f32>>>> {
        let embeddings = segments
            .par_iter()
            .map(|s| {
                let embeddings =
                    profile::time(|| "quantizer.decode".into(), || self.quantizer.decode(&s.codes))?;
                Ok(embeddings.unsqueeze(0)?)
            })
            .collect::<Result<Vec<_>>>()?;
        let decoded = self.decoder.forward_items(&embeddings)?;
        decoded
            .par_iter()
            .zip(segments)
            .map(|(pcm, segment)| self.segment_output(pcm, segment.scale))
            .collect()
    }

    /// The encoder, quantizer and decoder, for streaming.
    pub(crate) fn parts(&self) -> (&Stack, &ResidualVectorQuantizer, &Stack) {
        (&self.encoder, &self.quantizer, &self.decoder)
    }

    /// Checks `pcm`'s shape and samples; its length.
    pub(crate) fn check_pcm_chunk(&self, pcm: &[impl AsRef<[f32]>]) -> Result<usize> {
        if pcm.len() != self.channels() {
            return Err(Error::ChannelCount { expected: self.channels(), actual: pcm.len() });
        }
        let length = pcm[0].as_ref().len();
        if let Some(other) = pcm.iter().map(|c| c.as_ref().len()).find(|&l| l != length) {
            return Err(Error::RaggedChannels { first: length, other });
        }
        crate::pcm::check_finite(pcm)?;
        Ok(length)
    }

    fn check_pcm(&self, pcm: &[impl AsRef<[f32]>]) -> Result<usize> {
        let length = self.check_pcm_chunk(pcm)?;
        if length == 0 {
            return Err(Error::EmptyAudio);
        }
        Ok(length)
    }

    /// A segment's PCM as the encoder takes it: divided by its scale (for normalising models,
    /// returned too) and time-major, `[1, samples, channels]`.
    fn segment_input(&self, channels: &[&[f32]]) -> Result<(Tensor, Option<f32>)> {
        let length = channels[0].len();
        let scale = self.config.normalize.then(|| rms_scale(channels));
        let mut samples = Vec::with_capacity(channels.len() * length);
        for t in 0..length {
            match scale {
                Some(scale) => samples.extend(channels.iter().map(|c| c[t] / scale)),
                None => samples.extend(channels.iter().map(|c| c[t])),
            }
        }
        Ok((Tensor::from_vec(samples, (1, length, channels.len()), &self.device)?, scale))
    }

    /// The decoder's `[1, samples, channels]` output as `[channels][samples]`, times the scale.
    fn segment_output(&self, pcm: &Tensor, scale: Option<f32>) -> Result<Vec<Vec<f32>>> {
        let samples = pcm.flatten_all()?.to_vec1::<f32>()?;
        let scale = scale.unwrap_or(1.0);
        let channels = self.channels();
        Ok((0..channels)
            .map(|c| samples.iter().skip(c).step_by(channels).map(|s| s * scale).collect())
            .collect())
    }
}

/// The 48 kHz model's per-segment scale: `1e-8 + rms(mean over channels)`, as the reference
/// computes it in f32 (the mean of squares summed in f64, so it is the correctly rounded value
/// torch's pairwise sum also gives, or next to it).
fn rms_scale(channels: &[&[f32]]) -> f32 {
    let length = channels[0].len();
    let count = channels.len() as f32;
    let sum_sq: f64 = (0..length)
        .map(|i| {
            let mono = channels.iter().map(|c| c[i]).sum::<f32>() / count;
            (mono * mono) as f64
        })
        .sum();
    ((sum_sq / length as f64) as f32).sqrt() + 1e-8
}
