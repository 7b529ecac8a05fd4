//! Tensors by their Hub names: shape checks, weight-norm folding, up-casting to f32.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use candle_core::{DType, Device, Tensor};
use half::slice::HalfFloatSliceExt;
use rayon::prelude::*;
use safetensors::tensor::Metadata;

use crate::{Error, Result};

/// The precision the model's layer weights are kept in.
///
/// No GEMM kernel here takes half precision, so the convolutions and the LSTM's input
/// projection compute in f32 whatever the precision; only the memory-bound LSTM recurrence,
/// which streams its whole matrix once per frame, gains from fewer bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Precision {
    /// Full f32: the codes are the reference's.
    #[default]
    F32,
    /// Every layer weight rounded to f16, as an f16 checkpoint holds them; computed in f32,
    /// with the LSTM recurrent weights kept as f16 (half the bytes, widened on the fly).
    F16,
    /// The LSTM recurrent weights stored as bf16 (half the bytes, widened on the fly);
    /// everything else f32.
    Bf16,
}

impl Precision {
    /// `f32`, `f16` or `bf16`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::F32 => "f32",
            Self::F16 => "f16",
            Self::Bf16 => "bf16",
        }
    }

    /// A layer's weights as this precision keeps them (the LSTM's recurrent matrix aside):
    /// rounded to f16 for `F16`, unchanged otherwise.
    pub fn round(self, mut values: Vec<f32>) -> Vec<f32> {
        if self == Self::F16 {
            // Bulk conversions (F16C where the CPU has it: one by one, they dominated loading),
            // in pieces spread over the threads.
            values.par_chunks_mut(1 << 14).for_each(|piece| {
                let mut halves = vec![half::f16::ZERO; piece.len()];
                halves.convert_from_f32_slice(piece);
                halves.convert_to_f32_slice(piece);
            });
        }
        values
    }
}

impl std::str::FromStr for Precision {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "f32" => Ok(Self::F32),
            "f16" => Ok(Self::F16),
            "bf16" => Ok(Self::Bf16),
            _ => Err(format!("{s:?} is not one of f32, f16, bf16")),
        }
    }
}

/// A view of the model's tensors under a name prefix (`encoder.layers.3`, ...).
#[derive(Clone)]
pub struct Weights {
    source: Arc<Source>,
    device: Device,
    prefix: String,
    precision: Precision,
}

/// Where the tensors come from.
enum Source {
    /// A safetensors file, each tensor read when it is asked for. Not memory-mapped as
    /// `VarBuilder` does it: every page of a map counts as resident, so loading would hold the
    /// whole file (76 MB for the 24 kHz model) on top of the model it builds; read one at a
    /// time, only the tensor at hand is held.
    File { file: Mutex<File>, path: PathBuf, data_start: u64, metadata: Metadata },
    /// Tensors already in memory.
    Tensors(HashMap<String, Tensor>),
}

/// Largest safetensors header accepted (the Hub files' are a few KB; the safetensors crate's
/// own limit is 100 MB).
const MAX_HEADER_BYTES: u64 = 100 << 20;

impl Weights {
    /// Opens a safetensors file; tensors are read (and f16/bf16 up-cast to f32) as the layers
    /// ask for them.
    pub fn from_safetensors(path: &Path, device: &Device) -> Result<Self> {
        let bad = |reason: String| Error::WeightsFile { path: path.to_owned(), reason };
        let mut file = File::open(path).map_err(|e| bad(e.to_string()))?;
        let file_len = file.metadata().map_err(|e| bad(e.to_string()))?.len();
        let mut len = [0u8; 8];
        file.read_exact(&mut len).map_err(|_| bad("shorter than a safetensors header".into()))?;
        let header_len = u64::from_le_bytes(len);
        if header_len > MAX_HEADER_BYTES || 8 + header_len > file_len {
            return Err(bad(format!("header of {header_len} bytes in a file of {file_len}")));
        }
        let mut header = vec![0u8; header_len as usize];
        file.read_exact(&mut header).map_err(|e| bad(e.to_string()))?;
        let metadata: Metadata = serde_json::from_slice(&header).map_err(|e| bad(format!("header: {e}")))?;
        let data_len = file_len - 8 - header_len;
        for (name, info) in metadata.tensors() {
            let elements = info.shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
            let bytes = elements.and_then(|n| n.checked_mul(info.dtype.bitsize())).map(|bits| bits / 8);
            let (from, to) = info.data_offsets;
            if bytes != to.checked_sub(from) || to as u64 > data_len {
                return Err(bad(format!("tensor {name}: its offsets do not fit its shape or the file")));
            }
        }
        let source = Source::File {
            file: Mutex::new(file),
            path: path.to_owned(),
            data_start: 8 + header_len,
            metadata,
        };
        Ok(Self::new(source, device))
    }

    /// Tensors already in memory, keyed by their Hub names.
    pub fn from_tensors(tensors: HashMap<String, Tensor>, device: &Device) -> Self {
        Self::new(Source::Tensors(tensors), device)
    }

    fn new(source: Source, device: &Device) -> Self {
        Self {
            source: Arc::new(source),
            device: device.clone(),
            prefix: String::new(),
            precision: Precision::F32,
        }
    }

    /// The same weights, one level deeper: `w.pp("layers").pp(3)` names `layers.3.*`.
    pub fn pp(&self, name: impl ToString) -> Self {
        Self { prefix: self.full_name(&name.to_string()), ..self.clone() }
    }

    /// The same weights, for layers to keep in `precision`.
    pub fn with_precision(self, precision: Precision) -> Self {
        Self { precision, ..self }
    }

    /// The precision layers keep their weights in.
    pub fn precision(&self) -> Precision {
        self.precision
    }

    /// The device tensors are loaded on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    fn full_name(&self, name: &str) -> String {
        if self.prefix.is_empty() {
            name.to_string()
        } else {
            format!("{}.{name}", self.prefix)
        }
    }

    /// Whether `name` exists under this prefix.
    pub fn contains(&self, name: &str) -> bool {
        let name = self.full_name(name);
        match &*self.source {
            Source::File { metadata, .. } => metadata.info(&name).is_some(),
            Source::Tensors(tensors) => tensors.contains_key(&name),
        }
    }

    /// The tensor `name`, as f32, which must have `shape`.
    pub fn get(&self, name: &str, shape: &[usize]) -> Result<Tensor> {
        let full_name = self.full_name(name);
        let tensor = match &*self.source {
            Source::File { file, path, data_start, metadata } => {
                let info = metadata.info(&full_name);
                let info = info.ok_or_else(|| Error::MissingTensor { name: full_name.clone() })?;
                if info.shape != shape {
                    return Err(Error::TensorShape {
                        name: full_name,
                        expected: shape.to_vec(),
                        actual: info.shape.clone(),
                    });
                }
                let bad = |reason: String| Error::WeightsFile {
                    path: path.clone(),
                    reason: format!("{full_name}: {reason}"),
                };
                let (from, to) = info.data_offsets;
                let mut bytes = vec![0u8; to - from];
                let mut file = file.lock().unwrap_or_else(|e| e.into_inner());
                file.seek(SeekFrom::Start(data_start + from as u64))
                    .and_then(|_| file.read_exact(&mut bytes))
                    .map_err(|e| bad(e.to_string()))?;
                let dtype = DType::try_from(info.dtype).map_err(|e| bad(e.to_string()))?;
                Tensor::from_raw_buffer(&bytes, dtype, shape, &self.device)?
            }
            Source::Tensors(tensors) => {
                let tensor = tensors
                    .get(&full_name)
                    .ok_or_else(|| Error::MissingTensor { name: full_name.clone() })?;
                if tensor.dims() != shape {
                    return Err(Error::TensorShape {
                        name: full_name,
                        expected: shape.to_vec(),
                        actual: tensor.dims().to_vec(),
                    });
                }
                tensor.clone()
            }
        };
        Ok(tensor.to_dtype(DType::F32)?)
    }

    /// A convolution weight of `shape`, flattened (dim 0 is the weight-norm dim for both Conv1d and
    /// ConvTranspose1d), stored plainly as `weight`, or weight-normalised as
    /// `weight_g`/`weight_v` or `parametrizations.weight.original0`/`original1`. Weight norm is
    /// folded here, once: `w = v * (g / ||v||)`, the norm taken over all dims but the first.
    pub fn conv_weight(&self, shape: &[usize]) -> Result<Vec<f32>> {
        let gain_shape = [shape[0], 1, 1];
        let (g, v) = if self.contains("weight") {
            return Ok(self.get("weight", shape)?.flatten_all()?.to_vec1()?);
        } else if self.contains("weight_g") || self.contains("weight_v") {
            (self.get("weight_g", &gain_shape)?, self.get("weight_v", shape)?)
        } else if self.contains("parametrizations.weight.original0") {
            let p = self.pp("parametrizations").pp("weight");
            (p.get("original0", &gain_shape)?, p.get("original1", shape)?)
        } else {
            return Err(Error::MissingTensor {
                name: self.full_name("weight (or weight_g/weight_v, or parametrizations.weight.original0/1)"),
            });
        };
        let g: Vec<f32> = g.flatten_all()?.to_vec1()?;
        let mut w: Vec<f32> = v.flatten_all()?.to_vec1()?;
        w.par_chunks_mut(shape[1..].iter().product::<usize>().max(1)).zip(&g).for_each(|(v, &g)| {
            // The norm in f64 so that it is the correctly rounded value torch's careful
            // reduction also lands on (or next to); then, as torch, `v * (g / norm)` in f32.
            let norm = v.iter().map(|&x| x as f64 * x as f64).sum::<f64>().sqrt() as f32;
            let scale = g / norm;
            v.iter_mut().for_each(|x| *x *= scale);
        });
        Ok(w)
    }
}
