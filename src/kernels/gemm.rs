//! Safe strided matrix views and `dst (+)= lhs * rhs` on them, each element one chain of fused
//! multiply-adds in depth order (see [`matmul_serial`]). Views with arbitrary strides are what
//! let convolutions run as GEMMs straight on the padded signal, without im2col copies.

use rayon::prelude::*;

/// A read-only `rows x cols` matrix in a slice: element `(r, c)` is `data[r * rs + c * cs]`.
#[derive(Clone, Copy, Debug)]
pub struct MatRef<'a> {
    data: &'a [f32],
    rows: usize,
    cols: usize,
    row_stride: usize,
    col_stride: usize,
}

impl<'a> MatRef<'a> {
    /// A view with the given strides (rows may overlap: a convolution's shifted windows do).
    ///
    /// # Panics
    /// If an element would fall outside `data`.
    pub fn new(data: &'a [f32], rows: usize, cols: usize, row_stride: usize, col_stride: usize) -> Self {
        assert!(last_index(rows, cols, row_stride, col_stride) < data.len().max(1), "view outside its slice");
        Self { data, rows, cols, row_stride, col_stride }
    }

    /// A row-major matrix: `data[r * cols + c]`.
    pub fn row_major(data: &'a [f32], rows: usize, cols: usize) -> Self {
        Self::new(data, rows, cols, cols, 1)
    }

    /// The transposed view (no copy).
    pub fn t(self) -> Self {
        Self {
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
            ..self
        }
    }
}

/// A writable `rows x cols` matrix in a slice; distinct elements never share memory.
#[derive(Debug)]
pub struct MatMut<'a> {
    data: &'a mut [f32],
    rows: usize,
    cols: usize,
    row_stride: usize,
    col_stride: usize,
}

impl<'a> MatMut<'a> {
    /// A view with the given strides.
    ///
    /// # Panics
    /// If an element would fall outside `data`, or two elements would alias.
    pub fn new(data: &'a mut [f32], rows: usize, cols: usize, row_stride: usize, col_stride: usize) -> Self {
        assert!(last_index(rows, cols, row_stride, col_stride) < data.len().max(1), "view outside its slice");
        let disjoint = rows <= 1 && (cols <= 1 || col_stride > 0)
            || cols <= 1 && row_stride > 0
            || col_stride > 0 && cols * col_stride <= row_stride
            || row_stride > 0 && rows * row_stride <= col_stride;
        assert!(disjoint, "elements of a writable view alias");
        Self { data, rows, cols, row_stride, col_stride }
    }

    /// A row-major matrix: `data[r * cols + c]`.
    pub fn row_major(data: &'a mut [f32], rows: usize, cols: usize) -> Self {
        Self::new(data, rows, cols, cols, 1)
    }

    /// The same view, borrowed for a shorter time (to pass it to a function more than once).
    pub fn reborrow(&mut self) -> MatMut<'_> {
        MatMut { data: self.data, ..*self }
    }
}

fn last_index(rows: usize, cols: usize, row_stride: usize, col_stride: usize) -> usize {
    if rows == 0 || cols == 0 {
        return 0;
    }
    (rows - 1) * row_stride + (cols - 1) * col_stride
}

/// Columns per panel of a [`PackedRhs`]: two AVX-512 vectors.
const PANEL: usize = 32;

/// A right-hand matrix (a layer's weights) packed once for [`matmul`]: panels of [`PANEL`]
/// columns, each `rows x PANEL` values contiguous (the last panel padded with zeros), so that
/// the part of a panel a product is working on sits in consecutive cache lines.
#[derive(Clone, Debug)]
pub struct PackedRhs {
    data: Vec<f32>,
    rows: usize,
    cols: usize,
}

impl PackedRhs {
    /// Packs `m` (any strides).
    pub fn new(m: MatRef<'_>) -> Self {
        let panels = m.cols.div_ceil(PANEL);
        let mut data = vec![0f32; panels * m.rows * PANEL];
        for (panel, values) in data.chunks_exact_mut((m.rows * PANEL).max(1)).enumerate() {
            for (r, row) in values.chunks_exact_mut(PANEL).enumerate() {
                for (c, v) in row.iter_mut().enumerate().take(m.cols.saturating_sub(panel * PANEL)) {
                    *v = m.data[r * m.row_stride + (panel * PANEL + c) * m.col_stride];
                }
            }
        }
        Self { data, rows: m.rows, cols: m.cols }
    }

    /// A row-major `rows x cols` matrix, packed.
    pub fn row_major(data: &[f32], rows: usize, cols: usize) -> Self {
        Self::new(MatRef::row_major(data, rows, cols))
    }

    /// Column `col`, top to bottom.
    pub fn column(&self, col: usize) -> impl Iterator<Item = f32> + '_ {
        let start = (col / PANEL) * self.rows * PANEL + col % PANEL;
        self.data[start..].iter().step_by(PANEL).take(self.rows).copied()
    }

    /// The whole matrix.
    pub fn view(&self) -> PackedRef<'_> {
        self.rows(0..self.rows)
    }

    /// Rows `range` of the matrix (a convolution's tap, say).
    pub fn rows(&self, range: std::ops::Range<usize>) -> PackedRef<'_> {
        assert!(range.start <= range.end && range.end <= self.rows, "rows outside the matrix");
        PackedRef {
            data: &self.data[(range.start * PANEL).min(self.data.len())..],
            panel_stride: self.rows * PANEL,
            rows: range.len(),
            cols: self.cols,
        }
    }

    /// Number of columns.
    pub fn cols(&self) -> usize {
        self.cols
    }
}

/// Rows of a [`PackedRhs`].
#[derive(Clone, Copy, Debug)]
pub struct PackedRef<'a> {
    data: &'a [f32],
    panel_stride: usize,
    rows: usize,
    cols: usize,
}

/// Below this many multiply-adds a GEMM runs on the calling thread: splitting it costs more
/// than it saves.
const PARALLEL_MIN_WORK: usize = 1 << 18;

/// `dst = lhs * rhs`, or `dst += lhs * rhs` when `accumulate`; multi-threaded over the current
/// rayon pool (in blocks of rows) when the product is large enough. Every element is computed
/// as [`matmul_serial`] computes it, so the result does not depend on the threads.
///
/// # Panics
/// If the shapes do not agree.
pub fn matmul(dst: MatMut<'_>, lhs: MatRef<'_>, rhs: PackedRef<'_>, accumulate: bool) {
    check_shapes(&dst, &lhs, &rhs);
    let parallel = rayon::current_num_threads() > 1 && dst.rows * dst.cols * lhs.cols >= PARALLEL_MIN_WORK;
    if !parallel {
        return matmul_serial(dst, lhs, rhs, accumulate);
    }
    let rows = dst.rows.div_ceil(rayon::current_num_threads() * 4).max(1);
    let blocks = split_rows(dst, lhs, rows);
    blocks.into_par_iter().for_each(|(dst, lhs)| matmul_serial(dst, lhs, rhs, accumulate));
}

/// `dst` and `lhs` cut into blocks of `rows` rows.
fn split_rows<'d, 'l>(dst: MatMut<'d>, lhs: MatRef<'l>, rows: usize) -> Vec<(MatMut<'d>, MatRef<'l>)> {
    let mut blocks = Vec::new();
    let (mut dst, mut lhs) = (dst, lhs);
    while dst.rows > rows {
        let data = std::mem::take(&mut dst.data);
        let (head, tail) = data.split_at_mut(rows * dst.row_stride);
        let head_view = MatMut { data: head, rows, ..dst };
        let tail_view = MatMut { data: tail, rows: dst.rows - rows, ..dst };
        let lhs_head = MatRef { rows, ..lhs };
        let lhs_tail = MatRef { data: &lhs.data[rows * lhs.row_stride..], rows: lhs.rows - rows, ..lhs };
        blocks.push((head_view, lhs_head));
        (dst, lhs) = (tail_view, lhs_tail);
    }
    blocks.push((dst, lhs));
    blocks
}

fn check_shapes(dst: &MatMut<'_>, lhs: &MatRef<'_>, rhs: &PackedRef<'_>) {
    assert!(lhs.rows == dst.rows && rhs.cols == dst.cols && lhs.cols == rhs.rows, "shapes do not agree");
}

/// As [`matmul`], on the calling thread only (for work already split across threads).
///
/// Written here rather than taken from a GEMM crate for one property those do not have: each
/// element is a single chain of fused multiply-adds from its starting value (0, or `dst` when
/// accumulating) through the depth in order, `d = fma(lhs[i, p], rhs[p, j], d)` for `p = 0..k`.
/// So an element's bits do not depend on how many rows are multiplied at once, which block of
/// rows it falls in, or which instruction set runs it: a signal convolved a few frames at a
/// time (streaming) gives exactly what it gives convolved whole. (The `gemm` crate picks other
/// kernels and depth blockings for small products, which round differently.)
pub fn matmul_serial(dst: MatMut<'_>, lhs: MatRef<'_>, rhs: PackedRef<'_>, accumulate: bool) {
    check_shapes(&dst, &lhs, &rhs);
    if !accumulate {
        for r in 0..dst.rows {
            for c in 0..dst.cols {
                dst.data[r * dst.row_stride + c * dst.col_stride] = 0.0;
            }
        }
    }
    if dst.rows == 0 || dst.cols == 0 || lhs.cols == 0 {
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if dst.col_stride == 1 && std::arch::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU has AVX-512F; the views were bounds-checked when made.
        return unsafe { avx512::matmul(dst, lhs, rhs) };
    }
    portable(dst, lhs, rhs);
}

/// The chains a row of `dst` and a panel at a time, in a local array the compiler vectorises
/// (compiled for AVX2 where the CPU has it): the path for CPUs without AVX-512.
fn portable(dst: MatMut<'_>, lhs: MatRef<'_>, rhs: PackedRef<'_>) {
    dispatch! {
        fn row(dst: &mut [f32], d0: usize, dcs: usize, lhs: &[f32], a0: usize, acs: usize, rhs: PackedRef<'_>) {
            for panel in 0..rhs.cols.div_ceil(PANEL) {
                let width = (rhs.cols - panel * PANEL).min(PANEL);
                let mut acc = [0f32; PANEL];
                for (c, acc) in acc.iter_mut().enumerate().take(width) {
                    *acc = dst[d0 + (panel * PANEL + c) * dcs];
                }
                let b = &rhs.data[panel * rhs.panel_stride..];
                for p in 0..rhs.rows {
                    let a = lhs[a0 + p * acs];
                    let b = &b[p * PANEL..(p + 1) * PANEL];
                    acc.iter_mut().zip(b).for_each(|(acc, &b)| *acc = a.mul_add(b, *acc));
                }
                for (c, acc) in acc.iter().enumerate().take(width) {
                    dst[d0 + (panel * PANEL + c) * dcs] = *acc;
                }
            }
        }
    }
    for r in 0..dst.rows {
        row(dst.data, r * dst.row_stride, dst.col_stride, lhs.data, r * lhs.row_stride, lhs.col_stride, rhs);
    }
}

/// The AVX-512 kernel. The depth goes by in chunks; for each chunk, blocks of `lhs` rows are
/// packed tile by tile (`[depth][rows]`, so every value a tile broadcasts is the next in
/// memory), and each tile of up to 14 rows x 32 columns (28 rows x 16) is held in registers
/// while it runs through the chunk of a panel, which stays in the L1 cache for all the tiles.
#[cfg(target_arch = "x86_64")]
mod avx512 {
    use super::{MatMut, MatRef, PackedRef, PANEL};
    use std::arch::x86_64::*;

    /// Depth per chunk: a panel's chunk is 32 KB, in the L1 cache beside the rows it meets.
    const KC: usize = 256;
    /// Rows per block of `lhs` (a multiple of every tile height); small, so a block's chunk stays
    /// in the L1 cache too while every panel reads it (measured best of 28-112).
    const MC: usize = 28;

    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn matmul(dst: MatMut<'_>, lhs: MatRef<'_>, rhs: PackedRef<'_>) {
        let (m, n, k) = (dst.rows, dst.cols, lhs.cols);
        let c = dst.data.as_mut_ptr();
        let crs = dst.row_stride;
        // Only a strided `lhs` is packed (see `tiles`); the usual call needs no buffer.
        let mut packed = if lhs.col_stride == 1 { Vec::new() } else { vec![0f32; MC * KC] };
        for p0 in (0..k).step_by(KC) {
            let depth = (k - p0).min(KC);
            for i0 in (0..m).step_by(MC) {
                let rows = (m - i0).min(MC);
                for j in (0..n).step_by(PANEL) {
                    let width = (n - j).min(PANEL);
                    let masks = [mask(width), mask(width.saturating_sub(16))];
                    let b = rhs.data.as_ptr().add((j / PANEL) * rhs.panel_stride + p0 * PANEL);
                    let c = c.add(i0 * crs + j);
                    let tiles = if width > 16 { tiles::<2> } else { tiles::<1> };
                    let panels = n.div_ceil(PANEL);
                    tiles(&lhs, i0, p0, rows, depth, &mut packed, j == 0, panels, b, c, crs, masks);
                }
            }
        }
    }

    fn mask(width: usize) -> __mmask16 {
        ((1u32 << width.min(16)) - 1) as __mmask16
    }

    /// Every tile of a block of `rows` rows for one panel. Rows of `lhs` that are contiguous
    /// are read where they are: with the panels packed and the blocks only `MC` rows, that
    /// measured as fast as packing them, which for narrow outputs costs as much as the product.
    /// A strided `lhs` is packed (on the first panel; the others reuse it).
    #[target_feature(enable = "avx512f")]
    #[allow(clippy::too_many_arguments)]
    unsafe fn tiles<const V: usize>(
        lhs: &MatRef<'_>,
        i0: usize,
        p0: usize,
        rows: usize,
        depth: usize,
        packed: &mut [f32],
        first: bool,
        panels: usize,
        b: *const f32,
        c: *mut f32,
        crs: usize,
        masks: [__mmask16; 2],
    ) {
        let direct = lhs.col_stride == 1;
        // The same tile heights for every panel of the product, so the packing fits them all:
        // 28 rows where there is only one, narrow, panel; else as many as 32 columns allow.
        let tallest = if panels == 1 && V == 1 { 28 } else { 14 };
        let mut i = 0;
        macro_rules! tiles {
            ($($r:literal),*) => {$(
                while rows - i >= $r && $r <= tallest {
                    let c = c.add(i * crs);
                    if direct {
                        let a = lhs.data.as_ptr().add((i0 + i) * lhs.row_stride + p0);
                        tile_kernel::<$r, V>(a, (lhs.row_stride, 1), b, c, crs, depth, masks);
                    } else {
                        let tile = &mut packed[i * depth..(i + $r) * depth];
                        if first {
                            for p in 0..depth {
                                for r in 0..$r {
                                    let at = (i0 + i + r) * lhs.row_stride + (p0 + p) * lhs.col_stride;
                                    tile[p * $r + r] = lhs.data[at];
                                }
                            }
                        }
                        tile_kernel::<$r, V>(tile.as_ptr(), (1, $r), b, c, crs, depth, masks);
                    }
                    i += $r;
                }
            )*};
        }
        tiles!(28, 14, 8, 4, 2, 1);
    }

    /// One tile of `R` rows by `V` vectors: loaded from `c`, every multiply-add of the depth
    /// chunk in order, stored back. Row `r`'s value at depth `p` is `a[p * a_step + r * a_row]`.
    #[target_feature(enable = "avx512f")]
    #[inline]
    #[allow(clippy::needless_range_loop)] // indices over registers, unrolled by the compiler
    unsafe fn tile_kernel<const R: usize, const V: usize>(
        a: *const f32,
        (a_row, a_step): (usize, usize),
        b: *const f32,
        c: *mut f32,
        crs: usize,
        depth: usize,
        masks: [__mmask16; 2],
    ) {
        let mut acc = [[_mm512_setzero_ps(); V]; R];
        for r in 0..R {
            for v in 0..V {
                acc[r][v] = _mm512_maskz_loadu_ps(masks[v], c.add(r * crs + 16 * v));
            }
        }
        for p in 0..depth {
            let mut bv = [_mm512_setzero_ps(); V];
            for v in 0..V {
                bv[v] = _mm512_loadu_ps(b.add(p * PANEL + 16 * v));
            }
            for r in 0..R {
                let av = _mm512_set1_ps(*a.add(p * a_step + r * a_row));
                for v in 0..V {
                    acc[r][v] = _mm512_fmadd_ps(av, bv[v], acc[r][v]);
                }
            }
        }
        for r in 0..R {
            for v in 0..V {
                _mm512_mask_storeu_ps(c.add(r * crs + 16 * v), masks[v], acc[r][v]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The textbook triple loop the GEMM must agree with.
    fn naive(lhs: MatRef, rhs: MatRef) -> Vec<f32> {
        let mut out = vec![0.0; lhs.rows * rhs.cols];
        for r in 0..lhs.rows {
            for c in 0..rhs.cols {
                out[r * rhs.cols + c] = (0..lhs.cols)
                    .map(|i| {
                        lhs.data[r * lhs.row_stride + i * lhs.col_stride]
                            * rhs.data[i * rhs.row_stride + c * rhs.col_stride]
                    })
                    .sum();
            }
        }
        out
    }

    #[test]
    fn strided_views_multiply_like_the_triple_loop() {
        // Small integers: every product and sum is exact, so any order gives the same bits.
        let a: Vec<f32> = (0..200).map(|i| (i % 7) as f32 - 3.0).collect();
        let b: Vec<f32> = (0..300).map(|i| (i % 5) as f32 - 2.0).collect();
        for (lhs, rhs) in [
            (MatRef::row_major(&a, 6, 9), MatRef::row_major(&b, 9, 20)),
            (MatRef::new(&a, 6, 9, 1, 7).t().t(), MatRef::new(&b, 9, 20, 3, 2)), // overlapping windows
            (MatRef::row_major(&a, 9, 6).t(), MatRef::new(&b, 9, 33, 1, 5)),
        ] {
            let expected = naive(lhs, rhs);
            let mut out = vec![1.0; lhs.rows * rhs.cols];
            let packed = PackedRhs::new(rhs);
            matmul(MatMut::row_major(&mut out, lhs.rows, rhs.cols), lhs, packed.view(), false);
            assert_eq!(out, expected);
            matmul(MatMut::row_major(&mut out, lhs.rows, rhs.cols), lhs, packed.view(), true);
            assert_eq!(out, expected.iter().map(|x| 2.0 * x).collect::<Vec<_>>());
        }
    }

    #[test]
    fn strided_destinations_scatter() {
        let a: Vec<f32> = (0..12).map(|i| i as f32).collect();
        let b: Vec<f32> = (0..8).map(|i| (i % 3) as f32).collect();
        let (lhs, rhs) = (MatRef::row_major(&a, 3, 4), MatRef::row_major(&b, 4, 2));
        let expected = naive(lhs, rhs);
        let mut out = [0.0; 3 * 6];
        matmul(MatMut::new(&mut out[1..], 3, 2, 6, 3), lhs, PackedRhs::new(rhs).view(), false);
        for r in 0..3 {
            assert_eq!([out[r * 6 + 1], out[r * 6 + 4]], [expected[r * 2], expected[r * 2 + 1]]);
        }
        assert_eq!(out.iter().filter(|&&v| v != 0.0).count(), expected.iter().filter(|&&v| v != 0.0).count());
    }

    /// Values with full mantissas, so that any change in the order of operations shows.
    fn inexact(n: usize, salt: u32) -> Vec<f32> {
        (0..n as u32)
            .map(|i| ((i.wrapping_mul(2_654_435_761) ^ salt) % 100_003) as f32 / 7919.0 - 6.3)
            .collect()
    }

    /// One multiply-add chain per element, in depth order, from the starting value.
    fn chains(dst: &mut [f32], lhs: MatRef, rhs: &[f32], cols: usize) {
        for r in 0..lhs.rows {
            for c in 0..cols {
                let d = &mut dst[r * cols + c];
                for p in 0..lhs.cols {
                    *d = lhs.data[r * lhs.row_stride + p * lhs.col_stride].mul_add(rhs[p * cols + c], *d);
                }
            }
        }
    }

    #[test]
    fn every_element_is_one_chain_however_the_rows_are_cut() {
        // Shapes of the layers (narrow, one panel, many panels, a depth over several chunks),
        // overlapping windows as a strided convolution reads them; every way of cutting the rows
        // (as streaming does) and both instruction sets give the chains' exact bits.
        for (m, k, n, row_stride) in [(61, 7, 1, 1), (45, 96, 16, 32), (37, 600, 48, 300), (30, 40, 2048, 40)]
        {
            let a = inexact((m - 1) * row_stride + k, 1);
            let b = inexact(k * n, 2);
            let start = inexact(m * n, 3);
            let lhs = MatRef::new(&a, m, k, row_stride, 1);
            let packed = PackedRhs::row_major(&b, k, n);
            let mut expected = start.clone();
            chains(&mut expected, lhs, &b, n);
            let mut whole = start.clone();
            matmul_serial(MatMut::row_major(&mut whole, m, n), lhs, packed.view(), true);
            assert_eq!(whole, expected, "{m}x{k}x{n}");
            let mut portable_result = start.clone();
            portable(MatMut::row_major(&mut portable_result, m, n), lhs, packed.view());
            assert_eq!(portable_result, expected, "{m}x{k}x{n}: portable path");
            for cut in [1, 2, 5, 13, 29] {
                let mut pieces = start.clone();
                for (i, dst) in pieces.chunks_mut(cut * n).enumerate() {
                    let rows = dst.len() / n;
                    let lhs = MatRef::new(&a[i * cut * row_stride..], rows, k, row_stride, 1);
                    matmul_serial(MatMut::row_major(dst, rows, n), lhs, packed.view(), true);
                }
                assert_eq!(pieces, expected, "{m}x{k}x{n} in pieces of {cut} rows");
            }
        }
    }

    #[test]
    #[should_panic(expected = "alias")]
    fn aliasing_destinations_are_refused() {
        let mut out = vec![0.0; 8];
        MatMut::new(&mut out, 3, 3, 1, 1);
    }
}
