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

/// Output columns per block of a [`PackedInt`]: one AVX-512 vector of i32 sums, two AVX2.
const INT_BLOCK: usize = 16;

/// An int8 layer's weights (widened to i16) packed for [`int_gemm`]: per group, blocks of
/// [`INT_BLOCK`] output columns, and in each block, for every pair of adjacent depth values
/// (within a run), the block's columns' two weights side by side. A pair of inputs, broadcast,
/// then meets a whole block of columns in one `pmaddwd`-shaped step, and the sums stay in
/// lanes until they are stored: no horizontal reductions (which cost as much as the products
/// on the short runs of grouped layers).
#[derive(Clone, Debug)]
pub struct PackedInt {
    data: Vec<i16>,
    cols: usize,
    group_cols: usize,
    runs: usize,
    len: usize,
}

impl PackedInt {
    /// Packs `w`, where column `o`'s weights for run `run` are `w[o * w_row + run * len..]
    /// [..len]`; columns come in groups of `group_cols` (an odd run's last pair is padded
    /// with a zero weight).
    ///
    /// # Panics
    /// If `group_cols` is 0 or does not divide `cols`, or a weight falls outside `w`.
    pub fn new(w: &[i16], cols: usize, group_cols: usize, runs: usize, len: usize, w_row: usize) -> Self {
        assert!(group_cols > 0 && cols.is_multiple_of(group_cols), "columns in whole groups");
        let (blocks, pairs) = (group_cols.div_ceil(INT_BLOCK), len.div_ceil(2));
        let mut data = Vec::with_capacity(cols / group_cols * blocks * runs * pairs * 2 * INT_BLOCK);
        for g in 0..cols / group_cols {
            for b in 0..blocks {
                for run in 0..runs {
                    for q in 0..pairs {
                        for j in 0..INT_BLOCK {
                            let c = b * INT_BLOCK + j;
                            for i in [2 * q, 2 * q + 1] {
                                let real = c < group_cols && i < len;
                                data.push(if real {
                                    w[(g * group_cols + c) * w_row + run * len + i]
                                } else {
                                    0
                                });
                            }
                        }
                    }
                }
            }
        }
        Self { data, cols, group_cols, runs, len }
    }
}

/// Where [`int_gemm`] reads and writes: output row `r`, column `o` (of group `g`) is
/// `acc[r * acc_row + o]`, and its run `run` reads `x[r * x_row + run * run_step + g *
/// group_step..][..len]`.
#[derive(Clone, Copy, Debug)]
pub struct IntRows {
    /// Output rows (frames).
    pub rows: usize,
    /// Distance between output rows in `acc`.
    pub acc_row: usize,
    /// Distance between the input rows that output rows read.
    pub x_row: usize,
    /// Distance between a sum's runs in `x`.
    pub run_step: usize,
    /// Distance between groups' inputs in `x`.
    pub group_step: usize,
}

/// `acc[r * acc_row + o] += Σ_run Σ_i x[r * x_row + run * run_step + g * group_step + i] *
/// w[o, run, i]` for `i < len`, `o` in group `g`: an int8 convolution's (or a transposed
/// convolution tap's) sums over a block of frames, exact, on weights packed by [`PackedInt`],
/// four rows by a block of columns at a time. One dispatch for the whole block: a call per
/// sum cost more than the sums. On x86-64 (both paths) the tiles are AVX2 `pmaddwd`s written
/// with intrinsics (the compiler made multiplies of deinterleaved lanes of the portable loop,
/// 2.5x slower); the sums are exact integers, so every path gives the same bits.
///
/// # Panics
/// If an index falls outside `acc` or `x`.
pub fn int_gemm(acc: &mut [i32], x: &[i16], w: &PackedInt, at: IntRows) {
    if at.rows == 0 {
        return;
    }
    let groups = w.cols / w.group_cols;
    let x_end = (at.rows - 1) * at.x_row + (w.runs - 1) * at.run_step + (groups - 1) * at.group_step + w.len;
    assert!(x_end <= x.len(), "int8 rows outside the input");
    assert!((at.rows - 1) * at.acc_row + w.cols <= acc.len(), "int8 sums outside the output");
    #[cfg(target_arch = "x86_64")]
    if matches!(super::active(), super::Kernels::Avx512 | super::Kernels::Avx2) {
        // SAFETY: both paths' CPUs have AVX2 (every AVX-512 CPU does, and `active` only
        // returns a path the CPU runs); the asserts above bound every index the tiles touch.
        return unsafe { int_x86::tiles(acc, x, w, at) };
    }
    int_gemm_portable(acc, x, w, at)
}

dispatch! {
    /// [`int_gemm`] in plain Rust, vectorised by the compiler (NEON, WebAssembly, portable).
    fn int_gemm_portable(acc: &mut [i32], x: &[i16], w: &PackedInt, at: IntRows) {
        match w.len % 2 == 1 {
            false => int_tiles::<false>(acc, x, w, at),
            true => int_tiles::<true>(acc, x, w, at),
        }
    }
}

/// [`int_gemm`]'s AVX2 tiles: `R` rows by 16 columns in `2R` registers of eight i32 sums;
/// each step broadcasts a row's pair of inputs and `pmaddwd`s it with the pair's 16 x 2
/// weights.
#[cfg(target_arch = "x86_64")]
mod int_x86 {
    use std::arch::x86_64::*;

    use super::{IntRows, PackedInt, INT_BLOCK};

    /// # Safety
    /// The CPU has AVX2; every index `int_gemm` reads or writes is inside `acc` and `x`.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn tiles(acc: &mut [i32], x: &[i16], w: &PackedInt, at: IntRows) {
        let mut r = 0;
        while at.rows - r >= 4 {
            tile::<4>(acc, x, w, at, r);
            r += 4;
        }
        match at.rows - r {
            3 => tile::<3>(acc, x, w, at, r),
            2 => tile::<2>(acc, x, w, at, r),
            1 => tile::<1>(acc, x, w, at, r),
            _ => {}
        }
    }

    #[target_feature(enable = "avx2")]
    #[inline]
    #[allow(clippy::needless_range_loop)] // indices over registers, unrolled by the compiler
    unsafe fn tile<const R: usize>(acc: &mut [i32], x: &[i16], w: &PackedInt, at: IntRows, r0: usize) {
        let (cols, group_cols, runs, len) = (w.cols, w.group_cols, w.runs, w.len);
        let blocks = group_cols.div_ceil(INT_BLOCK);
        let pairs = len.div_ceil(2);
        let run_len = pairs * 2 * INT_BLOCK;
        let (xp, wp, ap) = (x.as_ptr(), w.data.as_ptr(), acc.as_mut_ptr());
        for g in 0..cols / group_cols {
            for b in 0..blocks {
                let wb = wp.add((g * blocks + b) * runs * run_len);
                let mut sums = [[_mm256_setzero_si256(); 2]; R];
                for run in 0..runs {
                    let wr = wb.add(run * run_len);
                    let mut xr = [xp; R];
                    for t in 0..R {
                        xr[t] = xp.add((r0 + t) * at.x_row + run * at.run_step + g * at.group_step);
                    }
                    for q in 0..len / 2 {
                        let pairs = xr.map(|x| (x.add(2 * q) as *const i32).read_unaligned());
                        madd(&mut sums, pairs, wr.add(q * 2 * INT_BLOCK));
                    }
                    if len % 2 == 1 {
                        // The last value alone (its pair's second weight is zero, and the
                        // value after it may lie outside the input).
                        let q = len / 2;
                        madd(&mut sums, xr.map(|x| *x.add(2 * q) as u16 as i32), wr.add(q * 2 * INT_BLOCK));
                    }
                }
                let width = (group_cols - b * INT_BLOCK).min(INT_BLOCK);
                for t in 0..R {
                    let row = ap.add((r0 + t) * at.acc_row + g * group_cols + b * INT_BLOCK);
                    let mut lanes = [0i32; INT_BLOCK];
                    _mm256_storeu_si256(lanes.as_mut_ptr() as *mut __m256i, sums[t][0]);
                    _mm256_storeu_si256(lanes.as_mut_ptr().add(8) as *mut __m256i, sums[t][1]);
                    for j in 0..width {
                        *row.add(j) += lanes[j];
                    }
                }
            }
        }
    }

    /// `sums[t] += pmaddwd(broadcast pairs[t], the 16 x 2 weights at w)` for each row `t`.
    #[target_feature(enable = "avx2")]
    #[inline]
    unsafe fn madd<const R: usize>(sums: &mut [[__m256i; 2]; R], pairs: [i32; R], w: *const i16) {
        let w0 = _mm256_loadu_si256(w as *const __m256i);
        let w1 = _mm256_loadu_si256(w.add(16) as *const __m256i);
        for (sum, pair) in sums.iter_mut().zip(pairs) {
            let pair = _mm256_set1_epi32(pair);
            sum[0] = _mm256_add_epi32(sum[0], _mm256_madd_epi16(pair, w0));
            sum[1] = _mm256_add_epi32(sum[1], _mm256_madd_epi16(pair, w1));
        }
    }
}

/// Every row of [`int_gemm`], four at a time; `ODD` is whether the runs are of odd length.
#[inline(always)]
fn int_tiles<const ODD: bool>(acc: &mut [i32], x: &[i16], w: &PackedInt, at: IntRows) {
    let mut r = 0;
    while at.rows - r >= 4 {
        int_tile::<4, ODD>(acc, x, w, at, r);
        r += 4;
    }
    match at.rows - r {
        3 => int_tile::<3, ODD>(acc, x, w, at, r),
        2 => int_tile::<2, ODD>(acc, x, w, at, r),
        1 => int_tile::<1, ODD>(acc, x, w, at, r),
        _ => {}
    }
}

/// Rows `r0..r0 + R` of [`int_gemm`].
#[inline(always)]
fn int_tile<const R: usize, const ODD: bool>(
    acc: &mut [i32],
    x: &[i16],
    w: &PackedInt,
    at: IntRows,
    r0: usize,
) {
    let PackedInt { data, cols, group_cols, runs, len } = w;
    let blocks = group_cols.div_ceil(INT_BLOCK);
    let pairs = len.div_ceil(2);
    let block_len = runs * pairs * 2 * INT_BLOCK;
    for g in 0..cols / group_cols {
        for b in 0..blocks {
            let wb = &data[(g * blocks + b) * block_len..][..block_len];
            let mut sums = [[0i32; INT_BLOCK]; R];
            for run in 0..*runs {
                let wr = &wb[run * pairs * 2 * INT_BLOCK..][..pairs * 2 * INT_BLOCK];
                let mut xr = [&x[..0]; R];
                for (t, xr) in xr.iter_mut().enumerate() {
                    *xr = &x[(r0 + t) * at.x_row + run * at.run_step + g * at.group_step..][..*len];
                }
                for (q, wq) in wr.chunks_exact(2 * INT_BLOCK).enumerate() {
                    for (sum, xr) in sums.iter_mut().zip(&xr) {
                        // An odd run's last pair has a zero second weight and no second value
                        // (a separate instance: the check slowed the even runs' loop by half).
                        let x1 = match ODD {
                            false => xr[2 * q + 1],
                            true => xr.get(2 * q + 1).copied().unwrap_or(0),
                        };
                        let (x0, x1) = (xr[2 * q] as i32, x1 as i32);
                        for j in 0..INT_BLOCK {
                            sum[j] += x0 * wq[2 * j] as i32 + x1 * wq[2 * j + 1] as i32;
                        }
                    }
                }
            }
            let width = (group_cols - b * INT_BLOCK).min(INT_BLOCK);
            for (t, sum) in sums.iter().enumerate() {
                let row = &mut acc[(r0 + t) * at.acc_row + g * group_cols + b * INT_BLOCK..][..width];
                row.iter_mut().zip(sum).for_each(|(a, s)| *a += s);
            }
        }
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

/// `f(x[i], row[i % row.len()])` over `x`, as [`map`]: a per-channel operation on rows of
/// `row.len()` channels (an int8 layer's requantisation, one multiplier per output channel).
#[inline]
pub fn map_rows<T: Copy, R: Copy, U>(x: &[T], row: &[R], f: impl Fn(T, R) -> U) -> Vec<U> {
    #[inline(always)]
    fn body<T: Copy, R: Copy, U>(x: &[T], row: &[R], f: impl Fn(T, R) -> U) -> Vec<U> {
        let mut out = Vec::with_capacity(x.len());
        for chunk in x.chunks(row.len().max(1)) {
            out.extend(chunk.iter().zip(row).map(|(&v, &r)| f(v, r)));
        }
        out
    }
    #[cfg(target_arch = "x86_64")]
    {
        use crate::kernels::Kernels;
        #[target_feature(enable = "avx512f")]
        unsafe fn avx512<T: Copy, R: Copy, U>(x: &[T], row: &[R], f: impl Fn(T, R) -> U) -> Vec<U> {
            body(x, row, f)
        }
        #[target_feature(enable = "avx2,fma")]
        unsafe fn avx2<T: Copy, R: Copy, U>(x: &[T], row: &[R], f: impl Fn(T, R) -> U) -> Vec<U> {
            body(x, row, f)
        }
        // SAFETY: `active` only returns a path the CPU supports.
        match crate::kernels::active() {
            Kernels::Avx512 => return unsafe { avx512(x, row, f) },
            Kernels::Avx2 => return unsafe { avx2(x, row, f) },
            _ => {}
        }
    }
    body(x, row, f)
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
        let macc: Vec<i32> = (0..n).map(|i| 5 + a[i] as i32 * b[i] as i32).collect();
        for kernels in crate::kernels::Kernels::available() {
            crate::kernels::with_kernels(kernels, || {
                let mut acc = acc0.clone();
                fma_into(&mut acc, &x, &w);
                assert_eq!(acc.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), fused, "{kernels}");
                let mut acc = vec![5i32; n];
                mul_acc_i16(&mut acc, &a, &b);
                assert_eq!(acc, macc, "{kernels}");
            });
        }
    }

    #[test]
    fn int_gemm_sums_what_the_loops_sum() {
        // (rows, cols, group_cols, runs, len, run_step, x_row, acc_row): a joined 1x1 layer,
        // grouped taps with dilation, odd runs, a group narrower than a block and one that
        // ends inside a block, every remainder of rows, and a transposed tap's strided rows.
        let shapes = [
            (9, 64, 64, 1, 256, 0, 256, 64),
            (7, 64, 16, 3, 64, 192, 256, 64),
            (6, 40, 20, 2, 7, 9, 30, 40),
            (5, 24, 24, 1, 33, 0, 40, 50),
            (3, 8, 4, 3, 5, 6, 25, 8),
            (2, 130, 65, 1, 2, 0, 4, 260),
        ];
        for (rows, cols, group_cols, runs, len, run_step, x_row, acc_row) in shapes {
            let groups = cols / group_cols;
            let group_step = if groups > 1 { len } else { 0 };
            let x_len = (rows - 1) * x_row + (runs - 1) * run_step + (groups - 1) * group_step + len;
            let x: Vec<i16> = (0..x_len).map(|i| ((i * 37 % 255) as i16) - 127).collect();
            let w_row = runs * len + 3;
            let w: Vec<i16> = (0..cols * w_row).map(|i| ((i * 53 % 255) as i16) - 128).collect();
            let start: Vec<i32> = (0..(rows - 1) * acc_row + cols).map(|i| i as i32 - 7).collect();
            let mut expected = start.clone();
            for r in 0..rows {
                for o in 0..cols {
                    for run in 0..runs {
                        for i in 0..len {
                            let xi = r * x_row + run * run_step + (o / group_cols) * group_step + i;
                            expected[r * acc_row + o] += x[xi] as i32 * w[o * w_row + run * len + i] as i32;
                        }
                    }
                }
            }
            let packed = PackedInt::new(&w, cols, group_cols, runs, len, w_row);
            let at = IntRows { rows, acc_row, x_row, run_step, group_step };
            for kernels in crate::kernels::Kernels::available() {
                let mut acc = start.clone();
                crate::kernels::with_kernels(kernels, || int_gemm(&mut acc, &x, &packed, at));
                assert_eq!(acc, expected, "{kernels}: {rows}x{cols}/{group_cols}, {runs} runs of {len}");
            }
        }
    }
}
