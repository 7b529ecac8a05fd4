//! Tensors by their Hub names: shape checks, weight-norm folding, up-casting to f32.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;

use crate::{Error, Result};

/// A view of the model's tensors under a name prefix (`encoder.layers.3`, ...).
#[derive(Clone)]
pub struct Weights<'a> {
    vb: VarBuilder<'a>,
    prefix: String,
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
        Ok(Self { vb, prefix: String::new() })
    }

    /// Tensors already in memory, keyed by their Hub names.
    pub fn from_tensors(tensors: HashMap<String, Tensor>, device: &Device) -> Self {
        Self { vb: VarBuilder::from_tensors(tensors, DType::F32, device), prefix: String::new() }
    }
}

impl<'a> Weights<'a> {
    /// The same weights, one level deeper: `w.pp("layers").pp(3)` names `layers.3.*`.
    pub fn pp(&self, name: impl ToString) -> Self {
        let name = name.to_string();
        let prefix = if self.prefix.is_empty() { name.clone() } else { format!("{}.{name}", self.prefix) };
        Self { vb: self.vb.pp(name), prefix }
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

    /// A convolution weight of `shape` (dim 0 is the weight-norm dim for both Conv1d and
    /// ConvTranspose1d), stored plainly as `weight`, or weight-normalised as
    /// `weight_g`/`weight_v` or `parametrizations.weight.original0`/`original1`. Weight norm is
    /// folded here, once: `w = v * (g / ||v||)`, the norm taken over all dims but the first.
    pub fn conv_weight(&self, shape: &[usize]) -> Result<Tensor> {
        let gain_shape = [shape[0], 1, 1];
        let (g, v) = if self.contains("weight") {
            return self.get("weight", shape);
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
        // The norm in f64 so that it is the correctly rounded value torch's careful reduction
        // also lands on (or next to).
        let norm = v.to_dtype(DType::F64)?.sqr()?.sum_keepdim((1, 2))?.sqrt()?.to_dtype(DType::F32)?;
        Ok(v.broadcast_mul(&(g / norm)?)?)
    }
}
