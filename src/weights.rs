//! Tensors by their Hub names: shape checks, weight-norm folding, up-casting to f32.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use half::slice::HalfFloatSliceExt;
use rayon::prelude::*;

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
pub struct Weights<'a> {
    vb: VarBuilder<'a>,
    prefix: String,
    precision: Precision,
}

impl Weights<'static> {
    /// Memory-maps a safetensors file. Tensors stored as f16/bf16 are up-cast to f32 on load.
    pub fn from_safetensors(path: &Path, device: &Device) -> Result<Self> {
        let bad = |reason: String| Error::WeightsFile { path: path.to_owned(), reason };
        if !path.is_file() {
            return Err(bad("no such file".into()));
        }
        // SAFETY: the map is read-only; like every mmap-based loader we rely on the file not
        // being truncated while the model loads (the folded weights are copies afterwards).
        let vb = unsafe { VarBuilder::from_mmaped_safetensors(&[path], DType::F32, device) }
            .map_err(|e| bad(e.to_string()))?;
        Ok(Self { vb, prefix: String::new(), precision: Precision::F32 })
    }

    /// Tensors already in memory, keyed by their Hub names.
    pub fn from_tensors(tensors: HashMap<String, Tensor>, device: &Device) -> Self {
        Self {
            vb: VarBuilder::from_tensors(tensors, DType::F32, device),
            prefix: String::new(),
            precision: Precision::F32,
        }
    }
}

impl<'a> Weights<'a> {
    /// The same weights, one level deeper: `w.pp("layers").pp(3)` names `layers.3.*`.
    pub fn pp(&self, name: impl ToString) -> Self {
        let name = name.to_string();
        let prefix = if self.prefix.is_empty() { name.clone() } else { format!("{}.{name}", self.prefix) };
        Self { vb: self.vb.pp(name), prefix, precision: self.precision }
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
        self.vb.device()
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
        self.vb.contains_tensor(name)
    }

    /// The tensor `name`, as f32, which must have `shape`.
    pub fn get(&self, name: &str, shape: &[usize]) -> Result<Tensor> {
        if !self.contains(name) {
            return Err(Error::MissingTensor { name: self.full_name(name) });
        }
        let tensor = self.vb.get_unchecked_dtype(name, DType::F32)?;
        if tensor.dims() != shape {
            return Err(Error::TensorShape {
                name: self.full_name(name),
                expected: shape.to_vec(),
                actual: tensor.dims().to_vec(),
            });
        }
        Ok(tensor)
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
