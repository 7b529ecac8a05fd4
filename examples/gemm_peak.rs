//! How close each kernel path's GEMM comes to the core's fused multiply-add peak, on the
//! shapes the 24 kHz EnCodec layers multiply (rows = a block of frames, depth = kernel x input
//! channels, columns = output channels), one thread.
//!
//!     cargo run --release --example gemm_peak [-- PATH...]
//!
//! The peak is measured, not looked up (a virtual machine does not say its clock): a loop of
//! independent multiply-add chains in registers, as wide as the path's vectors, the most the
//! core retires. The figures are multiply-adds per nanosecond and the fraction of that peak.

use std::hint::black_box;
use std::time::{Duration, Instant};

use encodec::internals::gemm::{matmul_serial, MatMut, MatRef, PackedRhs};
use encodec::internals::with_kernels;
use encodec::Kernels;

/// (layer, rows, depth, columns): the GEMMs of one block of frames of the 24 kHz encoder and
/// decoder, largest first among the convolutions.
const SHAPES: &[(&str, usize, usize, usize)] = &[
    ("enc res32 k3", 512, 96, 16),
    ("enc res32 1x1", 512, 16, 32),
    ("enc down 32->64 k4", 512, 128, 64),
    ("enc res64 k3", 512, 192, 32),
    ("enc res64 1x1", 512, 32, 64),
    ("enc down 64->128 k8", 375, 512, 128),
    ("enc res128 k3", 375, 384, 64),
    ("enc down 128->256 k10", 75, 1280, 256),
    ("enc res256 k3", 75, 768, 128),
    ("enc down 256->512 k16", 75, 4096, 512),
    ("lstm input 512->2048", 75, 512, 2048),
    ("dec convtr 512->256 k16", 75, 512, 4096),
    ("dec convtr 64->32 k4", 512, 64, 128),
];

fn main() {
    let paths: Vec<Kernels> = match std::env::args().skip(1).map(|a| a.parse()).collect::<Result<Vec<_>, _>>()
    {
        Ok(paths) if !paths.is_empty() => paths,
        Ok(_) => Kernels::available(),
        Err(e) => return eprintln!("{e}"),
    };
    for kernels in paths {
        if let Err(e) = kernels.check() {
            eprintln!("{e}");
            continue;
        }
        let peak = with_kernels(kernels, || peak_fma_per_ns(kernels));
        println!("{kernels}: peak {peak:.1} multiply-adds/ns (register-only loop)");
        for &(name, m, k, n) in SHAPES {
            let rate = with_kernels(kernels, || gemm_fma_per_ns(m, k, n));
            println!(
                "  {name:<26} {m:>4}x{k:<5}x{n:<5} {rate:6.1}/ns  {:5.1} % of peak",
                100.0 * rate / peak
            );
        }
    }
}

/// Runs `f` repeatedly for about 0.3 s and returns the best time of one call.
fn best_time(mut f: impl FnMut()) -> Duration {
    let mut best = Duration::MAX;
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(300) {
        let t = Instant::now();
        f();
        best = best.min(t.elapsed());
    }
    best
}

fn gemm_fma_per_ns(m: usize, k: usize, n: usize) -> f64 {
    let a: Vec<f32> = (0..m * k).map(|i| (i % 17) as f32 * 0.01).collect();
    let b: Vec<f32> = (0..k * n).map(|i| (i % 13) as f32 * 0.01).collect();
    let packed = PackedRhs::row_major(&b, k, n);
    let mut c = vec![0f32; m * n];
    let time = best_time(|| {
        matmul_serial(MatMut::row_major(&mut c, m, n), MatRef::row_major(&a, m, k), packed.view(), false);
        black_box(&mut c);
    });
    (m * k * n) as f64 / time.as_nanos() as f64
}

/// Multiply-adds per nanosecond of `CHAINS` independent vector chains (enough to cover the
/// FMA latency on every current core) on the path's widest vectors.
fn peak_fma_per_ns(kernels: Kernels) -> f64 {
    const CHAINS: usize = 12;
    const STEPS: usize = 1 << 16;
    let lanes = match kernels {
        Kernels::Avx512 => 16,
        Kernels::Avx2 => 8,
        _ => 4,
    };
    let time = best_time(|| {
        black_box(chains::<CHAINS>(kernels, black_box(STEPS)));
    });
    (CHAINS * lanes * STEPS) as f64 / time.as_nanos() as f64
}

#[cfg(target_arch = "x86_64")]
fn chains<const C: usize>(kernels: Kernels, steps: usize) -> f32 {
    use std::arch::x86_64::*;
    #[target_feature(enable = "avx512f")]
    unsafe fn avx512<const C: usize>(steps: usize) -> f32 {
        let (x, y) = (_mm512_set1_ps(black_box(0.999)), _mm512_set1_ps(black_box(1e-3)));
        let mut acc = [_mm512_set1_ps(1.0); C];
        for _ in 0..steps {
            for a in acc.iter_mut() {
                *a = _mm512_fmadd_ps(*a, x, y);
            }
        }
        acc.iter().map(|&a| _mm512_reduce_add_ps(a)).sum()
    }
    #[target_feature(enable = "avx2,fma")]
    unsafe fn avx2<const C: usize>(steps: usize) -> f32 {
        let (x, y) = (_mm256_set1_ps(black_box(0.999)), _mm256_set1_ps(black_box(1e-3)));
        let mut acc = [_mm256_set1_ps(1.0); C];
        for _ in 0..steps {
            for a in acc.iter_mut() {
                *a = _mm256_fmadd_ps(*a, x, y);
            }
        }
        let mut out = [0f32; 8];
        acc.iter().for_each(|&a| {
            _mm256_storeu_ps(out.as_mut_ptr(), _mm256_add_ps(a, _mm256_loadu_ps(out.as_ptr())))
        });
        out.iter().sum()
    }
    // SAFETY: `kernels.check()` passed, so the CPU runs the path's instructions.
    match kernels {
        Kernels::Avx512 => unsafe { avx512::<C>(steps) },
        Kernels::Avx2 => unsafe { avx2::<C>(steps) },
        _ => portable::<C>(steps),
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn chains<const C: usize>(_: Kernels, steps: usize) -> f32 {
    portable::<C>(steps)
}

/// Four-lane chains in plain Rust (NEON's width), for the paths without intrinsics here.
fn portable<const C: usize>(steps: usize) -> f32 {
    let mut acc = [[1f32; 4]; C];
    for _ in 0..steps {
        for a in acc.iter_mut() {
            for l in a.iter_mut() {
                *l = l.mul_add(black_box(0.999), 1e-3);
            }
        }
    }
    acc.iter().flatten().sum()
}
