//! CPU kernels the layers are built from: GEMMs on strided views (the `gemm` crate, which picks
//! AVX-512, AVX2 or NEON micro-kernels at run time), SIMD matrix-vector products, element-wise
//! activations, and the adapter that runs a kernel as a candle custom op.

/// Compiles `$body` (a function of its arguments) once per instruction set and dispatches at
/// run time: same source, vectorised as wide as the CPU allows.
macro_rules! dispatch {
    ($(#[$doc:meta])* pub fn $name:ident($($arg:ident: $ty:ty),*) $(-> $ret:ty)? $body:block) => {
        $(#[$doc])*
        pub fn $name($($arg: $ty),*) $(-> $ret)? {
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

use candle_core::{CpuStorage, CustomOp1, Layout, Shape, Tensor};

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
