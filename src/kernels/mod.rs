//! CPU kernels the layers are built from: GEMMs on strided views, matrix-vector products,
//! element-wise activations and norm sums, one variant per instruction set ([`Kernels`]), all
//! computing the same bits, and the adapter that runs a kernel as a candle custom op.
//!
//! Which variant runs is a property of the thread: a model that forces a path runs on a pool
//! whose threads were started with it (see `Encodec::with_kernels`); every other thread takes
//! the process default, `ENCODEC_KERNELS` if set, else the best path the CPU has.

use std::cell::Cell;
use std::mem::MaybeUninit;
use std::sync::OnceLock;

use candle_core::{CpuStorage, CustomOp1, Layout, Shape, Tensor};
use rayon::prelude::*;

use crate::Result;

/// Compiles `$body` (a function of its arguments) once per instruction set and runs the
/// variant of the thread's [`Kernels`] path: the same source, vectorised as wide as the path
/// allows. Rust never contracts or reorders float operations, so every variant gives the same
/// bits. The portable variant uses FMA instructions where the CPU has them (`f32::mul_add`
/// would otherwise be a call into a software `fmaf`).
macro_rules! dispatch {
    ($(#[$doc:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),*) $(-> $ret:ty)? $body:block) => {
        $(#[$doc])*
        $vis fn $name($($arg: $ty),*) $(-> $ret)? {
            #[inline(always)]
            fn body($($arg: $ty),*) $(-> $ret)? $body
            #[cfg(target_arch = "x86_64")]
            {
                use $crate::kernels::Kernels;
                #[target_feature(enable = "avx512f")]
                unsafe fn avx512($($arg: $ty),*) $(-> $ret)? { body($($arg),*) }
                #[target_feature(enable = "avx2,fma")]
                unsafe fn avx2($($arg: $ty),*) $(-> $ret)? { body($($arg),*) }
                #[target_feature(enable = "fma")]
                unsafe fn fma($($arg: $ty),*) $(-> $ret)? { body($($arg),*) }
                // SAFETY (each arm): `active` only returns a path the CPU supports, and the
                // portable arm checks for FMA itself.
                match $crate::kernels::active() {
                    Kernels::Avx512 => return unsafe { avx512($($arg),*) },
                    Kernels::Avx2 => return unsafe { avx2($($arg),*) },
                    Kernels::Portable if $crate::kernels::cpu_has_fma() => return unsafe { fma($($arg),*) },
                    _ => {}
                }
            }
            #[cfg(target_arch = "wasm32")]
            {
                #[target_feature(enable = "simd128")]
                unsafe fn simd128($($arg: $ty),*) $(-> $ret)? { body($($arg),*) }
                // SAFETY: a module with simd128 code only instantiates on an engine that has it.
                if $crate::kernels::active() == $crate::kernels::Kernels::Simd128 {
                    return unsafe { simd128($($arg),*) };
                }
            }
            // aarch64: NEON is part of the baseline target, so this is the NEON variant too.
            body($($arg),*)
        }
    };
}

pub mod activation;
pub mod fused;
pub mod gemm;
pub mod lanes;
pub mod matvec;
#[cfg(all(test, not(target_arch = "aarch64")))]
mod neon_emulated;
pub mod stats;

/// An instruction-set path for the kernels. Every path computes the same bits (each GEMM
/// element is one chain of fused multiply-adds in depth order, each matrix-vector row the same
/// 16 lanes reduced by the same tree); they differ only in speed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kernels {
    /// x86-64 with AVX-512F: 16-lane vectors.
    Avx512,
    /// x86-64 with AVX2, FMA and F16C (x86-64-v3): 8-lane vectors.
    Avx2,
    /// aarch64 with NEON: 4-lane vectors.
    Neon,
    /// WebAssembly with the 128-bit SIMD proposal (every current browser and Node): the
    /// portable source compiled for 4-lane vectors. WebAssembly has no fused multiply-add, so
    /// every path there computes it exactly in f64 (see [`fused::fma_via_f64`]).
    Simd128,
    /// Plain Rust, vectorised by the compiler for the target. On an x86-64 CPU without FMA
    /// (older than Haswell or Piledriver) every fused multiply-add is a software `fmaf` call,
    /// which makes the codec about 50x slower (0.2x real time for the 24 kHz model on one
    /// core, against 12x with FMA instructions): the price of giving the same bits there.
    Portable,
}

impl Kernels {
    /// Every path, fastest first.
    pub const ALL: [Kernels; 5] =
        [Kernels::Avx512, Kernels::Avx2, Kernels::Neon, Kernels::Simd128, Kernels::Portable];

    /// The name `ENCODEC_KERNELS` and the command line use.
    pub fn as_str(self) -> &'static str {
        match self {
            Kernels::Avx512 => "avx512",
            Kernels::Avx2 => "avx2",
            Kernels::Neon => "neon",
            Kernels::Simd128 => "simd128",
            Kernels::Portable => "portable",
        }
    }

    /// Whether this CPU can run the path.
    pub fn is_supported(self) -> bool {
        match self {
            #[cfg(target_arch = "x86_64")]
            Kernels::Avx512 => std::arch::is_x86_feature_detected!("avx512f"),
            #[cfg(target_arch = "x86_64")]
            Kernels::Avx2 => {
                std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
                    && std::arch::is_x86_feature_detected!("f16c")
            }
            #[cfg(target_arch = "aarch64")]
            Kernels::Neon => std::arch::is_aarch64_feature_detected!("neon"),
            // No feature detection in WebAssembly: an engine without simd128 would have
            // refused the whole module, which contains this path's code.
            #[cfg(target_arch = "wasm32")]
            Kernels::Simd128 => true,
            Kernels::Portable => true,
            #[allow(unreachable_patterns)] // every arm above exists on some target only
            _ => false,
        }
    }

    /// Every path this CPU can run, fastest first (the last is always [`Kernels::Portable`]).
    pub fn available() -> Vec<Kernels> {
        Self::ALL.into_iter().filter(|k| k.is_supported()).collect()
    }

    /// The fastest path this CPU can run.
    pub fn best() -> Kernels {
        Self::available()[0]
    }

    /// The path `ENCODEC_KERNELS` forces, if it is set: an error names an unknown value or a
    /// path this CPU cannot run.
    pub fn from_env() -> crate::Result<Option<Kernels>> {
        match std::env::var("ENCODEC_KERNELS") {
            Ok(value) if !value.trim().is_empty() => {
                let kernels: Kernels = value.parse()?;
                kernels.check()?;
                Ok(Some(kernels))
            }
            _ => Ok(None),
        }
    }

    /// Whether the path multiplies and adds through a software `fmaf` (the portable path on a
    /// CPU without FMA instructions): the same results, about 50x slower. (WebAssembly has
    /// none either, but there every path uses the branch-free f64 emulation instead.)
    pub fn uses_software_fma(self) -> bool {
        self == Kernels::Portable && !cpu_has_fma() && !cfg!(target_arch = "wasm32")
    }

    /// `Ok` if this CPU can run the path, else an error saying what it lacks.
    pub fn check(self) -> crate::Result<()> {
        match self.is_supported() {
            true => Ok(()),
            false => Err(crate::Error::Kernels {
                requested: self.as_str().into(),
                reason: format!(
                    "this CPU cannot run it (available: {})",
                    Self::available().iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ")
                ),
            }),
        }
    }
}

impl std::fmt::Display for Kernels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Kernels {
    type Err = crate::Error;

    /// `avx512`, `avx2`, `neon`, `simd128` or `portable` (any case).
    fn from_str(s: &str) -> crate::Result<Self> {
        let s = s.trim().to_ascii_lowercase();
        Self::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| crate::Error::Kernels {
            requested: s,
            reason: "unknown kernel path (one of avx512, avx2, neon, simd128, portable)".into(),
        })
    }
}

/// The path of threads that were given none: `ENCODEC_KERNELS` where it names a path this CPU
/// runs (a model refuses to load where it does not), else the best one.
pub fn process_default() -> Kernels {
    static DEFAULT: OnceLock<Kernels> = OnceLock::new();
    *DEFAULT.get_or_init(|| Kernels::from_env().ok().flatten().unwrap_or_else(Kernels::best))
}

thread_local! {
    static THREAD_KERNELS: Cell<Option<Kernels>> = const { Cell::new(None) };
}

/// The path the kernels take on this thread.
#[inline]
pub fn active() -> Kernels {
    THREAD_KERNELS.with(Cell::get).unwrap_or_else(process_default)
}

/// Makes `kernels` this thread's path for good (a worker pool's start handler).
///
/// # Panics
/// If the CPU cannot run it (callers check first: running it would be undefined behaviour).
pub(crate) fn set_thread_kernels(kernels: Kernels) {
    assert!(kernels.is_supported(), "kernel path {kernels} is not supported by this CPU");
    THREAD_KERNELS.with(|k| k.set(Some(kernels)));
}

/// Runs `f` with `kernels` as this thread's path, then restores the previous one (also if
/// `f` panics). Work `f` hands to other threads does not inherit it.
///
/// # Panics
/// If the CPU cannot run the path.
pub fn with_kernels<T>(kernels: Kernels, f: impl FnOnce() -> T) -> T {
    struct Restore(Option<Kernels>);
    impl Drop for Restore {
        fn drop(&mut self) {
            THREAD_KERNELS.with(|k| k.set(self.0));
        }
    }
    assert!(kernels.is_supported(), "kernel path {kernels} is not supported by this CPU");
    let _restore = Restore(THREAD_KERNELS.with(|k| k.replace(Some(kernels))));
    f()
}

/// Whether the CPU has fused multiply-add instructions (always on aarch64).
#[inline]
pub fn cpu_has_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    return std::arch::is_x86_feature_detected!("fma");
    #[cfg(not(target_arch = "x86_64"))]
    return cfg!(target_arch = "aarch64") || cfg!(target_feature = "fma");
}

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
