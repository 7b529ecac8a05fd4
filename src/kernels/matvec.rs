//! `y += W x` for a row-major `W`, the LSTM's recurrent step: memory-bound, so the weights may
//! be stored as bf16 or f16 (half the bytes) and widened to f32 on the fly. Hand-written with
//! `std::arch` for AVX-512, AVX2+FMA and NEON, because no GEMM crate offers a matrix-vector
//! product over half-precision weights with f32 inputs, nor one whose bits are the same on
//! every instruction set; `portable` is the reference every path is tested against.

use half::{bf16, f16};

use super::fused::fma;
// The paths are named only where a target has SIMD variants of its own.
#[cfg_attr(not(any(target_arch = "x86_64", target_arch = "aarch64")), allow(unused_imports))]
use super::{active, Kernels};

/// A weight element: f32, or bf16 or f16 widened to f32 when used.
pub trait Weight: Copy + Send + Sync + 'static {
    /// The value as f32.
    fn to_f32(self) -> f32;

    /// [`portable`]'s rows for this weight type.
    #[doc(hidden)]
    fn portable_rows(w: &[Self], x: &[f32], y: &mut [f32]);
}

impl Weight for f32 {
    #[inline]
    fn to_f32(self) -> f32 {
        self
    }

    fn portable_rows(w: &[Self], x: &[f32], y: &mut [f32]) {
        portable_f32(w, x, y)
    }
}

impl Weight for bf16 {
    #[inline]
    fn to_f32(self) -> f32 {
        bf16::to_f32(self)
    }

    fn portable_rows(w: &[Self], x: &[f32], y: &mut [f32]) {
        portable_bf16(w, x, y)
    }
}

impl Weight for f16 {
    #[inline]
    fn to_f32(self) -> f32 {
        f16::to_f32(self)
    }

    fn portable_rows(w: &[Self], x: &[f32], y: &mut [f32]) {
        portable_f16(w, x, y)
    }
}

/// Lanes per row: each row's dot product is 16 chains of fused multiply-adds (lane `l` over
/// columns `l, l + 16, ...`), one AVX-512 vector, two AVX2 or four NEON vectors, or an array.
const LANES: usize = 16;

/// `y[r] += sum_c w[r * x.len() + c] * x[c]`, on the thread's [`Kernels`] path.
///
/// Every path computes the same bits: per row, the [`LANES`] chains over the columns up to the
/// last whole 16, the lanes summed by the tree of [`reduce`], plus the leftover columns' plain
/// dot product ([`tail_dot`]), added to `y[r]`.
///
/// # Panics
/// If `w` is not `y.len() x x.len()`.
pub fn matvec_add<W: Weight>(w: &[W], x: &[f32], y: &mut [f32]) {
    matvec_add_batch(w, x, &mut [y]);
}

/// `ys[b] += W xs[b]` for every item `b` (`xs`: the items' vectors one after the other),
/// bit for bit what [`matvec_add`] gives one item at a time, but reading each weight once for
/// several items where the path allows (AVX-512), which turns a memory-bound product into a
/// compute-bound one.
///
/// # Panics
/// If `xs` is not `ys.len()` vectors, or `w` is not `rows x cols` for every `ys[b]`.
pub fn matvec_add_batch<W: Weight>(w: &[W], xs: &[f32], ys: &mut [&mut [f32]]) {
    let cols = xs.len() / ys.len().max(1);
    assert_eq!(xs.len(), cols * ys.len(), "xs must hold one vector per item");
    for y in ys.iter() {
        assert_eq!(w.len(), cols * y.len(), "W must be y.len() x x.len()");
    }
    // SAFETY (each unsafe call): `active` only returns a path this CPU runs; shapes checked.
    match active() {
        #[cfg(target_arch = "x86_64")]
        Kernels::Avx512 => {
            for (xs, ys) in xs.chunks(3 * cols.max(1)).zip(ys.chunks_mut(3)) {
                unsafe {
                    match ys.len() {
                        3 => x86::matvec_avx512_items::<W, 3>(w, xs, ys),
                        2 => x86::matvec_avx512_items::<W, 2>(w, xs, ys),
                        _ => x86::matvec_avx512_items::<W, 1>(w, xs, ys),
                    }
                }
            }
        }
        kernels => {
            for (x, y) in xs.chunks_exact(cols.max(1)).zip(ys.iter_mut()) {
                match kernels {
                    #[cfg(target_arch = "x86_64")]
                    Kernels::Avx2 => unsafe { x86::matvec_avx2(w, x, y) },
                    #[cfg(target_arch = "aarch64")]
                    Kernels::Neon => unsafe { arm::matvec_neon(w, x, y) },
                    _ => portable(w, x, y),
                }
            }
        }
    }
}

/// The portable path: the lanes in an array the compiler vectorises.
pub fn portable<W: Weight>(w: &[W], x: &[f32], y: &mut [f32]) {
    assert_eq!(w.len(), x.len() * y.len(), "W must be y.len() x x.len()");
    W::portable_rows(w, x, y);
}

/// [`portable_body`] for each weight type, compiled per instruction set (see `dispatch!`) so
/// that [`fma`] is an FMA instruction wherever the CPU has one.
macro_rules! portable_rows {
    ($($weight:ty => $name:ident),*) => {$(
        dispatch! {
            fn $name(w: &[$weight], x: &[f32], y: &mut [f32]) {
                portable_body(w, x, y)
            }
        }
    )*};
}

portable_rows!(f32 => portable_f32, bf16 => portable_bf16, f16 => portable_f16);

#[inline(always)]
fn portable_body<W: Weight>(w: &[W], x: &[f32], y: &mut [f32]) {
    let cols = x.len();
    let split = cols - cols % LANES;
    for (r, out) in y.iter_mut().enumerate() {
        let row = &w[r * cols..(r + 1) * cols];
        let mut lanes = [0f32; LANES];
        for (ws, xs) in row[..split].chunks_exact(LANES).zip(x[..split].chunks_exact(LANES)) {
            for l in 0..LANES {
                lanes[l] = fma(ws[l].to_f32(), xs[l], lanes[l]);
            }
        }
        *out += reduce(lanes) + tail_dot(&row[split..], &x[split..]);
    }
}

/// The 16 lanes summed as every path sums them: halves added lane by lane (`l + (l + 8)`),
/// then again (`+ 4`, `+ 2`), then the last two: how a 16-lane register folds into 8, 4, 2, 1.
#[inline(always)]
fn reduce(lanes: [f32; LANES]) -> f32 {
    let s8: [f32; 8] = std::array::from_fn(|i| lanes[i] + lanes[i + 8]);
    let s4: [f32; 4] = std::array::from_fn(|i| s8[i] + s8[i + 4]);
    let s2 = [s4[0] + s4[2], s4[1] + s4[3]];
    s2[0] + s2[1]
}

/// The dot product of the columns the lanes leave over (fewer than 16), in order.
#[inline]
fn tail_dot<W: Weight>(w: &[W], x: &[f32]) -> f32 {
    w.iter().zip(x).map(|(wv, xv)| wv.to_f32() * xv).sum()
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{Weight, LANES};
    use half::{bf16, f16};
    use std::any::TypeId;
    use std::arch::x86_64::*;

    /// 16 weights from `p` as f32.
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn load16<W: Weight>(p: *const W) -> __m512 {
        if TypeId::of::<W>() == TypeId::of::<bf16>() {
            // bf16 is the top half of an f32: widen the bits and shift them up.
            let bits = _mm512_cvtepu16_epi32(_mm256_loadu_si256(p as *const __m256i));
            _mm512_castsi512_ps(_mm512_slli_epi32::<16>(bits))
        } else if TypeId::of::<W>() == TypeId::of::<f16>() {
            _mm512_cvtph_ps(_mm256_loadu_si256(p as *const __m256i))
        } else {
            _mm512_loadu_ps(p as *const f32)
        }
    }

    /// 8 weights from `p` as f32.
    #[target_feature(enable = "avx2,f16c")]
    #[inline]
    unsafe fn load8<W: Weight>(p: *const W) -> __m256 {
        if TypeId::of::<W>() == TypeId::of::<bf16>() {
            let bits = _mm256_cvtepu16_epi32(_mm_loadu_si128(p as *const __m128i));
            _mm256_castsi256_ps(_mm256_slli_epi32::<16>(bits))
        } else if TypeId::of::<W>() == TypeId::of::<f16>() {
            _mm256_cvtph_ps(_mm_loadu_si128(p as *const __m128i))
        } else {
            _mm256_loadu_ps(p as *const f32)
        }
    }

    /// Lanes `l` and `l + 8` added: the first step of [`super::reduce`].
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn fold16(v: __m512) -> __m256 {
        let high = _mm512_extractf64x4_pd::<1>(_mm512_castps_pd(v));
        _mm256_add_ps(_mm512_castps512_ps256(v), _mm256_castpd_ps(high))
    }

    /// The rest of [`super::reduce`] on 8 lanes: `+ 4`, `+ 2`, then the last two.
    #[target_feature(enable = "avx2")]
    #[inline]
    unsafe fn sum8(v: __m256) -> f32 {
        let s4 = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
        let s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
        _mm_cvtss_f32(_mm_add_ss(s2, _mm_shuffle_ps::<1>(s2, s2)))
    }

    /// `ys[b] += W xs[b]` for `N` items at once: four rows times `N` items of accumulators,
    /// each weight load shared by the items and each load of `x` by the rows. Every (row, item)
    /// accumulates in the same order whatever `N`.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn matvec_avx512_items<W: Weight, const N: usize>(w: &[W], xs: &[f32], ys: &mut [&mut [f32]]) {
        let cols = xs.len() / N;
        let split = cols - cols % LANES;
        let (wp, xp) = (w.as_ptr(), xs.as_ptr());
        let rows_total = ys[0].len();
        let mut r = 0;
        while r < rows_total {
            let rows = (rows_total - r).min(4);
            let mut acc = [[_mm512_setzero_ps(); N]; 4];
            let mut c = 0;
            while c < split {
                let mut xv = [_mm512_setzero_ps(); N];
                for (b, v) in xv.iter_mut().enumerate() {
                    *v = _mm512_loadu_ps(xp.add(b * cols + c));
                }
                for (k, a) in acc.iter_mut().enumerate().take(rows) {
                    let wv = load16(wp.add((r + k) * cols + c));
                    for (b, a) in a.iter_mut().enumerate() {
                        *a = _mm512_fmadd_ps(wv, xv[b], *a);
                    }
                }
                c += LANES;
            }
            for (k, a) in acc.iter().enumerate().take(rows) {
                let row = &w[(r + k) * cols + split..(r + k + 1) * cols];
                for (b, a) in a.iter().enumerate() {
                    let tail = super::tail_dot(row, &xs[b * cols + split..(b + 1) * cols]);
                    ys[b][r + k] += sum8(fold16(*a)) + tail;
                }
            }
            r += rows;
        }
    }

    /// Four rows at a time share each load of `x`; each row's 16 lanes in two registers. (A
    /// several-items kernel like AVX-512's measured no faster here: the LSTM already keeps
    /// each block of rows in the L1 cache while every item's product reads it.)
    #[target_feature(enable = "avx2,fma,f16c")]
    pub unsafe fn matvec_avx2<W: Weight>(w: &[W], x: &[f32], y: &mut [f32]) {
        let cols = x.len();
        let split = cols - cols % LANES;
        let (wp, xp) = (w.as_ptr(), x.as_ptr());
        let mut r = 0;
        while r < y.len() {
            let rows = (y.len() - r).min(4);
            let mut acc = [[_mm256_setzero_ps(); 2]; 4];
            let mut c = 0;
            while c < split {
                let xv = [_mm256_loadu_ps(xp.add(c)), _mm256_loadu_ps(xp.add(c + 8))];
                for (k, a) in acc.iter_mut().enumerate().take(rows) {
                    let row = wp.add((r + k) * cols + c);
                    a[0] = _mm256_fmadd_ps(load8(row), xv[0], a[0]);
                    a[1] = _mm256_fmadd_ps(load8(row.add(8)), xv[1], a[1]);
                }
                c += LANES;
            }
            for (k, a) in acc.iter().enumerate().take(rows) {
                let tail = super::tail_dot(&w[(r + k) * cols + split..(r + k + 1) * cols], &x[split..]);
                y[r + k] += sum8(_mm256_add_ps(a[0], a[1])) + tail;
            }
            r += rows;
        }
    }
}

/// The NEON path (on other targets the tests compile it against an emulation of the
/// intrinsics, so its bits are checked everywhere).
#[cfg(any(target_arch = "aarch64", all(test, not(target_arch = "aarch64"))))]
mod arm {
    use super::{Weight, LANES};
    use half::bf16;
    use std::any::TypeId;

    #[cfg(not(target_arch = "aarch64"))]
    use crate::kernels::neon_emulated::*;
    #[cfg(target_arch = "aarch64")]
    use std::arch::aarch64::*;

    #[cfg_attr(target_arch = "aarch64", target_feature(enable = "neon"))]
    #[inline]
    unsafe fn load4<W: Weight>(p: *const W) -> float32x4_t {
        if TypeId::of::<W>() == TypeId::of::<bf16>() {
            let bits = vshll_n_u16::<16>(vld1_u16(p as *const u16));
            vreinterpretq_f32_u32(bits)
        } else if TypeId::of::<W>() == TypeId::of::<f32>() {
            vld1q_f32(p as *const f32)
        } else {
            // f16: widened one by one (NEON's half-precision conversions need the fp16 feature).
            let w = std::slice::from_raw_parts(p, 4);
            let wide = [w[0].to_f32(), w[1].to_f32(), w[2].to_f32(), w[3].to_f32()];
            vld1q_f32(wide.as_ptr())
        }
    }

    /// One row at a time, its 16 lanes in four registers, folded as [`super::reduce`] folds.
    #[cfg_attr(target_arch = "aarch64", target_feature(enable = "neon"))]
    pub unsafe fn matvec_neon<W: Weight>(w: &[W], x: &[f32], y: &mut [f32]) {
        let cols = x.len();
        let split = cols - cols % LANES;
        for (r, out) in y.iter_mut().enumerate() {
            let row = w.as_ptr().add(r * cols);
            let mut acc = [vdupq_n_f32(0.0); 4];
            let mut c = 0;
            while c < split {
                for (k, a) in acc.iter_mut().enumerate() {
                    *a = vfmaq_f32(*a, load4(row.add(c + 4 * k)), vld1q_f32(x.as_ptr().add(c + 4 * k)));
                }
                c += LANES;
            }
            // Lanes l + (l + 8): registers 0 + 2 and 1 + 3; then + 4, + 2, the last two.
            let s4 = vaddq_f32(vaddq_f32(acc[0], acc[2]), vaddq_f32(acc[1], acc[3]));
            let s2 = vadd_f32(vget_low_f32(s4), vget_high_f32(s4));
            let sum = vget_lane_f32::<0>(s2) + vget_lane_f32::<1>(s2);
            let tail = super::tail_dot(&w[r * cols + split..(r + 1) * cols], &x[split..]);
            *out += sum + tail;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(rows: usize, cols: usize, integers: bool) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
        let value = |i: usize, salt: usize| {
            let h = (i.wrapping_mul(2654435761) ^ salt).wrapping_mul(40503) % 1000;
            if integers {
                (h % 9) as f32 - 4.0
            } else {
                h as f32 / 500.0 - 1.0
            }
        };
        let w = (0..rows * cols).map(|i| value(i, 1)).collect();
        let x = (0..cols).map(|i| value(i, 2)).collect();
        let y = (0..rows).map(|i| value(i, 3)).collect();
        (w, x, y)
    }

    /// `w` rounded to the half-precision weight types the kernels also take.
    fn halves(w: &[f32]) -> (Vec<bf16>, Vec<f16>) {
        (w.iter().map(|&v| bf16::from_f32(v)).collect(), w.iter().map(|&v| f16::from_f32(v)).collect())
    }

    /// Every path's product (and, off aarch64, the NEON kernel's on emulated intrinsics)
    /// equals the portable one bit for bit.
    fn every_path_agrees<W: Weight>(w: &[W], x: &[f32], y0: &[f32], what: &str) {
        let mut expected = y0.to_vec();
        portable(w, x, &mut expected);
        for kernels in Kernels::available() {
            let mut y = y0.to_vec();
            crate::kernels::with_kernels(kernels, || matvec_add(w, x, &mut y));
            assert_eq!(y, expected, "{what} on {kernels}");
        }
        #[cfg(not(target_arch = "aarch64"))]
        {
            let mut y = y0.to_vec();
            // SAFETY: emulated intrinsics; the shapes are the caller's `case`.
            unsafe { arm::matvec_neon(w, x, &mut y) };
            assert_eq!(y, expected, "{what} on neon (emulated)");
        }
    }

    /// [`matvec_add_batch`] over the items of `xs` equals [`matvec_add`] on each, on every path.
    fn batch_agrees<W: Weight>(w: &[W], xs: &[f32], y0: &[f32], what: &str) {
        let cols = w.len() / y0.len();
        let items = xs.len() / cols;
        let mut one_by_one = vec![y0.to_vec(); items];
        for (x, y) in xs.chunks_exact(cols).zip(&mut one_by_one) {
            portable(w, x, y);
        }
        for kernels in Kernels::available() {
            let mut together = vec![y0.to_vec(); items];
            let mut views: Vec<&mut [f32]> = together.iter_mut().map(|y| &mut y[..]).collect();
            crate::kernels::with_kernels(kernels, || matvec_add_batch(w, xs, &mut views));
            assert_eq!(together, one_by_one, "{what} on {kernels}");
        }
    }

    #[test]
    fn every_path_gives_the_portable_bits() {
        // Odd shapes reach every tail; real values make any change of order show.
        for (rows, cols) in [(1, 1), (3, 7), (5, 16), (9, 33), (2048, 512), (7, 100), (6, 47)] {
            for integers in [true, false] {
                let (w, x, y0) = case(rows, cols, integers);
                let (bf, hf) = halves(&w);
                every_path_agrees(&w, &x, &y0, &format!("{rows}x{cols} f32"));
                every_path_agrees(&bf, &x, &y0, &format!("{rows}x{cols} bf16"));
                every_path_agrees(&hf, &x, &y0, &format!("{rows}x{cols} f16"));
            }
        }
        // And the portable sum is a dot product: with small integers every order is exact.
        let (w, x, y0) = case(9, 33, true);
        let mut y = y0.clone();
        portable(&w, &x, &mut y);
        for (r, (y, y0)) in y.iter().zip(&y0).enumerate() {
            assert_eq!(*y, y0 + (0..33).map(|c| w[r * 33 + c] * x[c]).sum::<f32>());
        }
    }

    #[test]
    fn several_items_at_once_equal_one_at_a_time() {
        // Real values, so any difference in the order of the arithmetic would show.
        for (rows, cols, items) in [(9, 33, 1), (7, 100, 2), (64, 512, 3), (13, 48, 5), (4, 7, 4)] {
            let (w, _, y0) = case(rows, cols, false);
            let (bf, hf) = halves(&w);
            let xs: Vec<f32> = (0..items * cols).map(|i| ((i * 37) % 101) as f32 / 50.0 - 1.0).collect();
            batch_agrees(&w, &xs, &y0, &format!("{rows}x{cols}, {items} items, f32"));
            batch_agrees(&bf, &xs, &y0, &format!("{rows}x{cols}, {items} items, bf16"));
            batch_agrees(&hf, &xs, &y0, &format!("{rows}x{cols}, {items} items, f16"));
        }
    }

    #[test]
    fn the_portable_path_is_a_matrix_vector_product() {
        let w = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0];
        let mut y = [10.0f32, 20.0];
        portable(&w, &[1.0, 0.5, -1.0], &mut y);
        assert_eq!(y, [10.0 + 1.0 + 1.0 - 3.0, 20.0 + 4.0 + 2.5 - 6.0]);
    }
}
