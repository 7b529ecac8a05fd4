//! Lane-wise kernels for Lyra's layers: f32 fused multiply-adds into a row (depthwise
//! convolutions) and the int8 arithmetic of its quantised layers, widened to i16 and
//! accumulated in i32 (exact, so every instruction set gives the same bits trivially; the f32
//! one is one fused multiply-add per lane, which every path also computes alike).

use super::fused::fma;

dispatch! {
    /// `acc[i] = fma(x[i], w[i], acc[i])` over the shortest of the three.
    pub fn fma_into(acc: &mut [f32], x: &[f32], w: &[f32]) {
        acc.iter_mut().zip(x).zip(w).for_each(|((a, &x), &w)| *a = fma(x, w, *a));
    }
}

dispatch! {
    /// `Σ a[i] b[i]` in i32 over the shorter of the two (i16 products of int8 values minus a
    /// zero point: at most 255 * 255 each, so a sum of up to 33,000 of them cannot overflow).
    pub fn dot_i16(a: &[i16], b: &[i16]) -> i32 {
        let n = a.len().min(b.len());
        let (a, b) = (&a[..n], &b[..n]);
        // Sixteen partial sums, each of two adjacent products: the shape of `pmaddwd` (x86)
        // and `smlal` pairs (NEON), which the compiler emits for it. Integer addition is
        // exact, so the order does not matter and every path gives the same sum.
        let mut sums = [0i32; 16];
        let (head, tail) = a.split_at(n / 32 * 32);
        for (x, w) in head.chunks_exact(32).zip(b.chunks_exact(32)) {
            for l in 0..16 {
                sums[l] += x[2 * l] as i32 * w[2 * l] as i32 + x[2 * l + 1] as i32 * w[2 * l + 1] as i32;
            }
        }
        let mut total: i32 = sums.iter().sum();
        for (&x, &w) in tail.iter().zip(&b[head.len()..]) {
            total += x as i32 * w as i32;
        }
        total
    }
}

dispatch! {
    /// Four [`dot_i16`]s of one weight row `w` with four rows `x` at once (each over the
    /// shorter of it and `w`, all the same length), so that `w` is loaded once for four rows:
    /// an int8 layer's products over a block of frames. Exact, as `dot_i16`.
    pub fn dot4_i16(x: [&[i16]; 4], w: &[i16]) -> [i32; 4] {
        let n = x.iter().map(|r| r.len()).min().unwrap_or(0).min(w.len());
        let x = x.map(|r| &r[..n]);
        let w = &w[..n];
        let mut sums = [[0i32; 16]; 4];
        let whole = n / 32 * 32;
        for c in (0..whole).step_by(32) {
            let w = &w[c..c + 32];
            for (sum, row) in sums.iter_mut().zip(&x) {
                let row = &row[c..c + 32];
                for l in 0..16 {
                    sum[l] += row[2 * l] as i32 * w[2 * l] as i32 + row[2 * l + 1] as i32 * w[2 * l + 1] as i32;
                }
            }
        }
        let mut out = [0i32; 4];
        for ((o, sum), row) in out.iter_mut().zip(&sums).zip(&x) {
            *o = sum.iter().sum::<i32>();
            for i in whole..n {
                *o += row[i] as i32 * w[i] as i32;
            }
        }
        out
    }
}

dispatch! {
    /// `acc[i] += x[i] * w[i]` in i32 over the shortest of the three.
    pub fn mul_acc_i16(acc: &mut [i32], x: &[i16], w: &[i16]) {
        acc.iter_mut().zip(x).zip(w).for_each(|((a, &x), &w)| *a += x as i32 * w as i32);
    }
}

/// `f` over each element of `x`, compiled for the thread's instruction set so that the
/// compiler vectorises it as widely as the CPU allows: the element-wise layers (activations,
/// int8 conversions) of a network. `f`'s arithmetic is the same on every path (no fused
/// multiply-add is formed behind its back), so the bits are too. Generic, so not `dispatch!`.
#[inline]
pub fn map<T: Copy, U>(x: &[T], f: impl Fn(T) -> U) -> Vec<U> {
    #[inline(always)]
    fn body<T: Copy, U>(x: &[T], f: impl Fn(T) -> U) -> Vec<U> {
        x.iter().map(|&v| f(v)).collect()
    }
    #[cfg(target_arch = "x86_64")]
    {
        use crate::kernels::Kernels;
        #[target_feature(enable = "avx512f")]
        unsafe fn avx512<T: Copy, U>(x: &[T], f: impl Fn(T) -> U) -> Vec<U> {
            body(x, f)
        }
        #[target_feature(enable = "avx2,fma")]
        unsafe fn avx2<T: Copy, U>(x: &[T], f: impl Fn(T) -> U) -> Vec<U> {
            body(x, f)
        }
        // SAFETY: `active` only returns a path the CPU supports.
        match crate::kernels::active() {
            Kernels::Avx512 => return unsafe { avx512(x, f) },
            Kernels::Avx2 => return unsafe { avx2(x, f) },
            _ => {}
        }
    }
    body(x, f)
}

/// `f` over each pair of elements of `a` and `b` (the shorter's length), as [`map`].
#[inline]
pub fn zip_map<A: Copy, B: Copy, U>(a: &[A], b: &[B], f: impl Fn(A, B) -> U) -> Vec<U> {
    #[inline(always)]
    fn body<A: Copy, B: Copy, U>(a: &[A], b: &[B], f: impl Fn(A, B) -> U) -> Vec<U> {
        a.iter().zip(b).map(|(&x, &y)| f(x, y)).collect()
    }
    #[cfg(target_arch = "x86_64")]
    {
        use crate::kernels::Kernels;
        #[target_feature(enable = "avx512f")]
        unsafe fn avx512<A: Copy, B: Copy, U>(a: &[A], b: &[B], f: impl Fn(A, B) -> U) -> Vec<U> {
            body(a, b, f)
        }
        #[target_feature(enable = "avx2,fma")]
        unsafe fn avx2<A: Copy, B: Copy, U>(a: &[A], b: &[B], f: impl Fn(A, B) -> U) -> Vec<U> {
            body(a, b, f)
        }
        // SAFETY: `active` only returns a path the CPU supports.
        match crate::kernels::active() {
            Kernels::Avx512 => return unsafe { avx512(a, b, f) },
            Kernels::Avx2 => return unsafe { avx2(a, b, f) },
            _ => {}
        }
    }
    body(a, b, f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_instruction_set_computes_the_same_bits() {
        let n = 1001;
        let x: Vec<f32> = (0..n).map(|i| ((i * 37 % 101) as f32 - 50.0) / 7.0).collect();
        let w: Vec<f32> = (0..n).map(|i| ((i * 53 % 97) as f32 - 48.0) / 11.0).collect();
        let a: Vec<i16> = (0..n + 1).map(|i| (i * 37 % 511) as i16 - 255).collect();
        let b: Vec<i16> = (0..n).map(|i| (i * 53 % 255) as i16 - 127).collect();
        let acc0: Vec<f32> = (0..n).map(|i| i as f32 / 3.0).collect();
        let fused: Vec<u32> = (0..n).map(|i| x[i].mul_add(w[i], acc0[i]).to_bits()).collect();
        let dot: i32 = a.iter().zip(&b).map(|(&a, &b)| a as i32 * b as i32).sum();
        let macc: Vec<i32> = (0..n).map(|i| 5 + a[i] as i32 * b[i] as i32).collect();
        for kernels in crate::kernels::Kernels::available() {
            crate::kernels::with_kernels(kernels, || {
                let mut acc = acc0.clone();
                fma_into(&mut acc, &x, &w);
                assert_eq!(acc.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), fused, "{kernels}");
                for len in [0, 1, 7, 8, 9, 64, 1001] {
                    let expected: i32 = a[..len].iter().zip(&b).map(|(&a, &b)| a as i32 * b as i32).sum();
                    assert_eq!(dot_i16(&a[..len], &b[..len]), expected, "{kernels} {len}");
                }
                assert_eq!(dot_i16(&a, &b), dot, "{kernels}");
                for len in [0, 5, 32, 33, 100, 1001] {
                    let rows = [&a[..len], &a[1..len + 1], &b[..len], &a[..len]];
                    let expected = rows.map(|r| dot_i16(r, &b[..len]));
                    assert_eq!(dot4_i16(rows, &b[..len]), expected, "{kernels} {len}");
                }
                let mut acc = vec![5i32; n];
                mul_acc_i16(&mut acc, &a, &b);
                assert_eq!(acc, macc, "{kernels}");
            });
        }
    }
}
