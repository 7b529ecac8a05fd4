//! `y += W x` for a row-major `W`, the LSTM's recurrent step: memory-bound, so the weights may
//! be stored as bf16 or f16 (half the bytes) and widened to f32 on the fly. Hand-written with
//! `std::arch` for AVX-512 and AVX2+FMA (detected at run time) and NEON, because no GEMM crate
//! offers a matrix-vector product over half-precision weights with f32 inputs; `portable` is
//! the reference every path is tested against.

use half::{bf16, f16};

/// A weight element: f32, or bf16 or f16 widened to f32 when used.
pub trait Weight: Copy + Send + Sync + 'static {
    /// The value as f32.
    fn to_f32(self) -> f32;
}

impl Weight for f32 {
    #[inline]
    fn to_f32(self) -> f32 {
        self
    }
}

impl Weight for bf16 {
    #[inline]
    fn to_f32(self) -> f32 {
        bf16::to_f32(self)
    }
}

impl Weight for f16 {
    #[inline]
    fn to_f32(self) -> f32 {
        f16::to_f32(self)
    }
}

/// `y[r] += sum_c w[r * x.len() + c] * x[c]`, on the fastest path this CPU has.
///
/// # Panics
/// If `w` is not `y.len() x x.len()`.
pub fn matvec_add<W: Weight>(w: &[W], x: &[f32], y: &mut [f32]) {
    assert_eq!(w.len(), x.len() * y.len(), "W must be y.len() x x.len()");
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F; the shapes were checked above.
            return unsafe { x86::matvec_avx512_items::<W, 1>(w, x, &mut [y]) };
        }
        if std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma")
            && std::arch::is_x86_feature_detected!("f16c")
        {
            // SAFETY: the CPU has AVX2, FMA and F16C; the shapes were checked above.
            return unsafe { x86::matvec_avx2(w, x, y) };
        }
    }
    #[cfg(target_arch = "aarch64")]
    {
        if std::arch::is_aarch64_feature_detected!("neon") {
            // SAFETY: the CPU has NEON; the shapes were checked above.
            return unsafe { arm::matvec_neon(w, x, y) };
        }
    }
    portable(w, x, y)
}

/// `ys[b] += W xs[b]` for every item `b` (`xs`: the items' vectors one after the other),
/// bit for bit what [`matvec_add`] gives one item at a time, but reading each weight once for
/// several items where the CPU allows (AVX-512), which turns a memory-bound product into a
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
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            for (xs, ys) in xs.chunks(3 * cols.max(1)).zip(ys.chunks_mut(3)) {
                // SAFETY: the CPU has AVX-512F; the shapes were checked above.
                unsafe {
                    match ys.len() {
                        3 => x86::matvec_avx512_items::<W, 3>(w, xs, ys),
                        2 => x86::matvec_avx512_items::<W, 2>(w, xs, ys),
                        _ => x86::matvec_avx512_items::<W, 1>(w, xs, ys),
                    }
                }
            }
            return;
        }
    }
    for (x, y) in xs.chunks_exact(cols.max(1)).zip(ys.iter_mut()) {
        matvec_add(w, x, y);
    }
}

/// The portable path: 8 independent partial sums per row, which compilers vectorise for the
/// baseline instruction set.
pub fn portable<W: Weight>(w: &[W], x: &[f32], y: &mut [f32]) {
    assert_eq!(w.len(), x.len() * y.len(), "W must be y.len() x x.len()");
    let cols = x.len();
    for (r, out) in y.iter_mut().enumerate() {
        let row = &w[r * cols..(r + 1) * cols];
        let mut acc = [0f32; 8];
        let split = cols - cols % 8;
        for (ws, xs) in row[..split].chunks_exact(8).zip(x[..split].chunks_exact(8)) {
            for i in 0..8 {
                acc[i] += ws[i].to_f32() * xs[i];
            }
        }
        let mut sum = acc.iter().sum::<f32>();
        for (wv, xv) in row[split..].iter().zip(&x[split..]) {
            sum += wv.to_f32() * xv;
        }
        *out += sum;
    }
}

/// The dot product of the columns a SIMD path leaves over (fewer than one vector's width).
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
#[inline]
fn tail_dot<W: Weight>(w: &[W], x: &[f32]) -> f32 {
    w.iter().zip(x).map(|(wv, xv)| wv.to_f32() * xv).sum()
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::Weight;
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

    #[target_feature(enable = "avx2")]
    #[inline]
    unsafe fn sum8(v: __m256) -> f32 {
        let halves = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
        let pairs = _mm_add_ps(halves, _mm_movehl_ps(halves, halves));
        _mm_cvtss_f32(_mm_add_ss(pairs, _mm_shuffle_ps::<1>(pairs, pairs)))
    }

    /// `ys[b] += W xs[b]` for `N` items at once: four rows times `N` items of accumulators,
    /// each weight load shared by the items and each load of `x` by the rows. Every (row, item)
    /// accumulates in the same order whatever `N`, so `N = 1` (the single-item path) and the
    /// batches give the same bits.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn matvec_avx512_items<W: Weight, const N: usize>(w: &[W], xs: &[f32], ys: &mut [&mut [f32]]) {
        let cols = xs.len() / N;
        let split = cols - cols % 16;
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
                c += 16;
            }
            for (k, a) in acc.iter().enumerate().take(rows) {
                let row = &w[(r + k) * cols + split..(r + k + 1) * cols];
                for (b, a) in a.iter().enumerate() {
                    let tail = super::tail_dot(row, &xs[b * cols + split..(b + 1) * cols]);
                    ys[b][r + k] += _mm512_reduce_add_ps(*a) + tail;
                }
            }
            r += rows;
        }
    }

    /// Four rows at a time share each load of `x`.
    #[target_feature(enable = "avx2,fma,f16c")]
    pub unsafe fn matvec_avx2<W: Weight>(w: &[W], x: &[f32], y: &mut [f32]) {
        let cols = x.len();
        let split = cols - cols % 8;
        let (wp, xp) = (w.as_ptr(), x.as_ptr());
        let mut r = 0;
        while r < y.len() {
            let rows = (y.len() - r).min(4);
            let mut acc = [_mm256_setzero_ps(); 4];
            let mut c = 0;
            while c < split {
                let xv = _mm256_loadu_ps(xp.add(c));
                for (k, a) in acc.iter_mut().enumerate().take(rows) {
                    *a = _mm256_fmadd_ps(load8(wp.add((r + k) * cols + c)), xv, *a);
                }
                c += 8;
            }
            for (k, a) in acc.iter().enumerate().take(rows) {
                let tail = super::tail_dot(&w[(r + k) * cols + split..(r + k + 1) * cols], &x[split..]);
                y[r + k] += sum8(*a) + tail;
            }
            r += rows;
        }
    }
}

#[cfg(target_arch = "aarch64")]
mod arm {
    use super::Weight;
    use half::bf16;
    use std::any::TypeId;
    use std::arch::aarch64::*;

    #[target_feature(enable = "neon")]
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

    /// One row at a time, four partial sums of four lanes.
    #[target_feature(enable = "neon")]
    pub unsafe fn matvec_neon<W: Weight>(w: &[W], x: &[f32], y: &mut [f32]) {
        let cols = x.len();
        let split = cols - cols % 16;
        for (r, out) in y.iter_mut().enumerate() {
            let row = w.as_ptr().add(r * cols);
            let mut acc = [vdupq_n_f32(0.0); 4];
            let mut c = 0;
            while c < split {
                for (k, a) in acc.iter_mut().enumerate() {
                    *a = vfmaq_f32(*a, load4(row.add(c + 4 * k)), vld1q_f32(x.as_ptr().add(c + 4 * k)));
                }
                c += 16;
            }
            let sum = vaddq_f32(vaddq_f32(acc[0], acc[1]), vaddq_f32(acc[2], acc[3]));
            let tail = super::tail_dot(&w[r * cols + split..(r + 1) * cols], &x[split..]);
            *out += vaddvq_f32(sum) + tail;
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

    /// The dispatched product equals the portable one exactly.
    fn agrees_with_portable<W: Weight>(w: &[W], x: &[f32], y0: &[f32], what: &str) {
        let (mut fast, mut slow) = (y0.to_vec(), y0.to_vec());
        matvec_add(w, x, &mut fast);
        portable(w, x, &mut slow);
        assert_eq!(fast, slow, "{what}");
    }

    /// [`matvec_add_batch`] over the items of `xs` equals [`matvec_add`] on each.
    fn batch_agrees<W: Weight>(w: &[W], xs: &[f32], y0: &[f32], what: &str) {
        let cols = w.len() / y0.len();
        let items = xs.len() / cols;
        let mut one_by_one = vec![y0.to_vec(); items];
        for (x, y) in xs.chunks_exact(cols).zip(&mut one_by_one) {
            matvec_add(w, x, y);
        }
        let mut together = vec![y0.to_vec(); items];
        let mut views: Vec<&mut [f32]> = together.iter_mut().map(|y| &mut y[..]).collect();
        matvec_add_batch(w, xs, &mut views);
        assert_eq!(together, one_by_one, "{what}");
    }

    #[test]
    fn the_dispatched_path_agrees_with_the_portable_one() {
        // Odd shapes reach every tail; small integers make every order exact.
        for (rows, cols) in [(1, 1), (3, 7), (5, 16), (9, 33), (2048, 512), (7, 100)] {
            let (w, x, y0) = case(rows, cols, true);
            let (bf, hf) = halves(&w);
            agrees_with_portable(&w, &x, &y0, &format!("{rows}x{cols} f32"));
            agrees_with_portable(&bf, &x, &y0, &format!("{rows}x{cols} bf16"));
            agrees_with_portable(&hf, &x, &y0, &format!("{rows}x{cols} f16"));
        }
        // Real values: the same within rounding of a different summation order.
        let (w, x, y0) = case(2048, 512, false);
        let (mut fast, mut slow) = (y0.clone(), y0);
        matvec_add(&w, &x, &mut fast);
        portable(&w, &x, &mut slow);
        for (a, b) in fast.iter().zip(&slow) {
            assert!((a - b).abs() <= 1e-4 * (1.0 + b.abs()), "{a} vs {b}");
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
