//! CPU kernels the layers are built from: GEMMs on strided views (AVX-512 tiles, or vectorised
//! rows elsewhere; results independent of how the work is cut), SIMD matrix-vector products, element-wise
//! activations, and the adapter that runs a kernel as a candle custom op.

/// Compiles `$body` (a function of its arguments) once per instruction set and dispatches at
/// run time: same source, vectorised as wide as the CPU allows.
macro_rules! dispatch {
    ($(#[$doc:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),*) $(-> $ret:ty)? $body:block) => {
        $(#[$doc])*
        $vis fn $name($($arg: $ty),*) $(-> $ret)? {
            #[inline(always)]
            fn body($($arg: $ty),*) $(-> $ret)? $body
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f")]
                unsafe fn avx512($($arg: $ty),*) $(-> $ret)? { body($($arg),*) }
                #[target_feature(enable = "avx2,fma")]
                unsafe fn avx2($($arg: $ty),*) $(-> $ret)? { body($($arg),*) }
                if std::arch::is_x86_feature_detected!("avx512f") {
                    // SAFETY: the CPU has the features the function was compiled for.
                    return unsafe { avx512($($arg),*) };
                }
                if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
                    // SAFETY: as above.
                    return unsafe { avx2($($arg),*) };
                }
            }
            body($($arg),*)
        }
    };
}

pub mod activation;
pub mod gemm;
pub mod matvec;
pub mod stats;

use std::mem::MaybeUninit;

use candle_core::{CpuStorage, CustomOp1, Layout, Shape, Tensor};
use rayon::prelude::*;

use crate::Result;

/// A kernel on one contiguous f32 tensor: `(input, dims) -> (output, dims)`.
type Kernel<'a> = dyn Fn(&[f32], &[usize]) -> (Vec<f32>, Vec<usize>) + 'a;

struct CpuKernel<'a> {
    name: &'static str,
    kernel: &'a Kernel<'a>,
}

impl CustomOp1 for CpuKernel<'_> {
    fn name(&self) -> &'static str {
        self.name
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let (start, end) = layout
            .contiguous_offsets()
            .ok_or_else(|| candle_core::Error::RequiresContiguous { op: self.name }.bt())?;
        let (out, dims) = (self.kernel)(&storage.as_slice::<f32>()?[start..end], layout.dims());
        Ok((CpuStorage::F32(out), Shape::from(dims)))
    }
}

/// Runs `kernel` on the f32 data of `x` (made contiguous first) as a candle custom op: the
/// kernel borrows the input in place and its output becomes the new tensor without a copy.
pub fn apply(x: &Tensor, name: &'static str, kernel: &Kernel<'_>) -> Result<Tensor> {
    let x = x.contiguous()?;
    Ok(x.apply_op1_no_bwd(&CpuKernel { name, kernel })?)
}

/// The items' outputs one after the other; a single item's output (the usual batch of one) is
/// returned as it is rather than copied.
pub fn concat(outputs: impl IntoIterator<Item = Vec<f32>>) -> Vec<f32> {
    let mut outputs = outputs.into_iter();
    let mut out = outputs.next().unwrap_or_default();
    outputs.for_each(|y| out.extend_from_slice(&y));
    out
}

/// What [`par_blocks`] writes into a block before handing it out.
#[derive(Clone, Copy, Debug)]
pub enum Start<'a> {
    /// This row over and over (a layer's bias, say).
    Rows(&'a [f32]),
    /// These values (as long as the whole vector).
    Copy(&'a [f32]),
}

/// A vector of `len` values made block by block in parallel: each block of `block` values (the
/// last may be shorter) is first written from `start`, then handed to `work` with its index.
/// Returns the vector and what `work` returned for each block, in order. The memory is never
/// zeroed: for the layers' large outputs that would be a pass over all of it for nothing.
///
/// # Panics
/// If `block` or `len` is not a multiple of a [`Start::Rows`] row, or a [`Start::Copy`] source is
/// not `len` long.
pub fn par_blocks<R: Send>(
    len: usize,
    block: usize,
    start: Start<'_>,
    work: impl Fn(usize, &mut [f32]) -> R + Sync,
) -> (Vec<f32>, Vec<R>) {
    match start {
        Start::Rows(row) => {
            assert!(
                !row.is_empty() && block.is_multiple_of(row.len()) && len.is_multiple_of(row.len()),
                "blocks of whole rows"
            )
        }
        Start::Copy(source) => assert_eq!(source.len(), len, "a source for every value"),
    }
    let mut out: Vec<f32> = Vec::with_capacity(len);
    let results = out.spare_capacity_mut()[..len]
        .par_chunks_mut(block.max(1))
        .enumerate()
        .map(|(b, piece)| {
            match start {
                Start::Rows(row) => piece.chunks_exact_mut(row.len()).for_each(|dst| write(dst, row)),
                Start::Copy(source) => write(piece, &source[b * block..b * block + piece.len()]),
            }
            // SAFETY: every element of `piece` was written just above (whole rows, checked on
            // entry, or a source slice of the piece's length), so it is an initialised `[f32]`.
            let piece = unsafe { &mut *(piece as *mut [MaybeUninit<f32>] as *mut [f32]) };
            work(b, piece)
        })
        .collect();
    // SAFETY: the pieces cover `0..len` and each was initialised before `work` saw it.
    unsafe { out.set_len(len) };
    (out, results)
}

fn write(dst: &mut [MaybeUninit<f32>], src: &[f32]) {
    dst.iter_mut().zip(src).for_each(|(d, &s)| {
        d.write(s);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_start_as_asked_and_come_back_in_order() {
        let row = [1.0, 2.0, 3.0];
        let (out, firsts) = par_blocks(3 * 7, 3 * 2, Start::Rows(&row), |b, block| {
            assert!(block.len() == 6 || b == 3 && block.len() == 3, "block {b}: {}", block.len());
            block[0] += 10.0 * b as f32;
            block[0]
        });
        assert_eq!(firsts, [1.0, 11.0, 21.0, 31.0]);
        let expected: Vec<f32> =
            (0..21).map(|i| row[i % 3] + if i % 6 == 0 { 10.0 * (i / 6) as f32 } else { 0.0 }).collect();
        assert_eq!(out, expected);
        let source: Vec<f32> = (0..10).map(|i| i as f32).collect();
        let (copied, _) = par_blocks(10, 4, Start::Copy(&source), |_, _| ());
        assert_eq!(copied, source);
        let (empty, none) = par_blocks(0, 3, Start::Rows(&row), |_, _| ());
        assert!(empty.is_empty() && none.is_empty());
    }
}
