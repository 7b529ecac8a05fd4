//! Lyra's weights file (`lyra.safetensors`), read with the `safetensors` crate: its int8 and
//! int32 tensors are not types candle holds, and every one of them is read once, into the
//! layers' own buffers.

use safetensors::{Dtype, SafeTensors};

use crate::{Error, Result};

/// The tensors of one weights file, checked by name, type and shape as they are taken.
pub(crate) struct Tensors<'a> {
    file: SafeTensors<'a>,
    /// Where they came from, for errors.
    source: String,
}

impl<'a> Tensors<'a> {
    pub fn parse(bytes: &'a [u8], source: &str) -> Result<Self> {
        let file = SafeTensors::deserialize(bytes)
            .map_err(|e| Error::WeightsFile { path: source.into(), reason: e.to_string() })?;
        Ok(Self { file, source: source.to_string() })
    }

    fn raw(&self, name: &str, dtype: Dtype, shape: &[usize]) -> Result<&'a [u8]> {
        let view = self.file.tensor(name).map_err(|_| Error::MissingTensor { name: name.into() })?;
        if view.dtype() != dtype {
            return Err(Error::WeightsFile {
                path: self.source.clone().into(),
                reason: format!("tensor `{name}` is {:?}, expected {dtype:?}", view.dtype()),
            });
        }
        if view.shape() != shape {
            return Err(Error::TensorShape {
                name: name.into(),
                expected: shape.to_vec(),
                actual: view.shape().to_vec(),
            });
        }
        Ok(view.data())
    }

    /// An f32 tensor of `shape`, row-major.
    pub fn f32(&self, name: &str, shape: &[usize]) -> Result<Vec<f32>> {
        let data = self.raw(name, Dtype::F32, shape)?;
        Ok(data.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect())
    }

    /// An int8 tensor of `shape`, widened to i16 (the int8 kernels multiply i16 lanes).
    pub fn i8_as_i16(&self, name: &str, shape: &[usize]) -> Result<Vec<i16>> {
        let data = self.raw(name, Dtype::I8, shape)?;
        Ok(data.iter().map(|&b| b as i8 as i16).collect())
    }

    /// An int32 tensor of `shape`.
    pub fn i32(&self, name: &str, shape: &[usize]) -> Result<Vec<i32>> {
        let data = self.raw(name, Dtype::I32, shape)?;
        Ok(data.chunks_exact(4).map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect())
    }
}
