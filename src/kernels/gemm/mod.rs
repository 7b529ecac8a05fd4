//! Safe strided matrix views and `dst (+)= lhs * rhs` on them, each element one chain of fused
//! multiply-adds in depth order (see [`matmul_serial`]), on tiles per instruction set
//! (`avx512.rs`, `avx2.rs`, `neon.rs`, and the portable ones here). Views with arbitrary strides
//! are what let convolutions run as GEMMs straight on the padded signal, without im2col copies.

use rayon::prelude::*;

use super::fused::fma;
use super::{active, Kernels};

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

/// Columns per panel of a [`PackedRhs`]: two AVX-512 vectors, four AVX2, eight NEON.
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

/// As [`matmul`], on the calling thread only (for work already split across threads), on the
/// thread's [`Kernels`] path.
///
/// Written here rather than taken from a GEMM crate for one property those do not have: each
/// element is a single chain of fused multiply-adds from its starting value (0, or `dst` when
/// accumulating) through the depth in order, `d = fma(lhs[i, p], rhs[p, j], d)` for `p = 0..k`.
/// So an element's bits do not depend on how many rows are multiplied at once, which block of
/// rows it falls in, or which instruction set runs it: a signal convolved a few frames at a
/// time (streaming) gives exactly what it gives convolved whole, on every CPU. (The `gemm`
/// crate picks other kernels and depth blockings for small products, which round differently.)
///
/// The work is blocked for the caches as the classic GEMMs block it: the depth goes by in
/// chunks of [`KC`]; for each chunk, `lhs` in blocks of a few dozen rows, and each block meets
/// every panel of `rhs` in turn, a tile of rows x columns at a time held in registers while it
/// runs through the chunk (the tiles are the instruction set's; see [`Block`]).
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
    let tiles = match dst.col_stride {
        1 => Tiles::of(active()),
        // Scattered columns (no layer writes them): only the portable tiles read them.
        _ => Tiles::of(Kernels::Portable),
    };
    blocked(dst, lhs, rhs, tiles);
}

/// `dst += lhs * rhs` (shapes checked, none empty) on `tiles`, blocked for the caches.
fn blocked(dst: MatMut<'_>, lhs: MatRef<'_>, rhs: PackedRef<'_>, tiles: Tiles) {
    let (m, n, k) = (dst.rows, dst.cols, lhs.cols);
    let panels = n.div_ceil(PANEL);
    // A strided `lhs` is copied block by block into rows; the layers' are rows already.
    let mut packed = Vec::new();
    for p0 in (0..k).step_by(KC) {
        let depth = (k - p0).min(KC);
        for i0 in (0..m).step_by(tiles.block_rows) {
            let rows = (m - i0).min(tiles.block_rows);
            let (a, a_row) = match lhs.col_stride {
                1 => (&lhs.data[i0 * lhs.row_stride + p0..], lhs.row_stride),
                _ => {
                    packed.clear();
                    for r in i0..i0 + rows {
                        packed.extend(
                            (p0..p0 + depth).map(|p| lhs.data[r * lhs.row_stride + p * lhs.col_stride]),
                        );
                    }
                    (&packed[..], depth)
                }
            };
            for panel in 0..panels {
                let j = panel * PANEL;
                let block = Block {
                    a,
                    a_row,
                    rows,
                    depth,
                    b: &rhs.data[panel * rhs.panel_stride + p0 * PANEL..][..depth * PANEL],
                    c: &mut dst.data[i0 * dst.row_stride + j * dst.col_stride..],
                    c_row: dst.row_stride,
                    c_col: dst.col_stride,
                    width: (n - j).min(PANEL),
                    single_panel: panels == 1,
                };
                block.check();
                // SAFETY: `Tiles::of` gave the tiles of a path this CPU runs (`active` only
                // returns such paths), and `check` bounds every index the tiles touch.
                unsafe { (tiles.panel)(block) };
            }
        }
    }
}

/// Depth per chunk: a panel's chunk is 32 KB, in the L1 or L2 cache beside the rows it meets.
const KC: usize = 256;

/// One block of rows of `lhs` times one panel of `rhs`, added onto `dst`, for the depth chunk
/// `b` holds: `c[r * c_row + j * c_col] = fma(a[r * a_row + p], b[p * PANEL + j], ...)` for
/// `p = 0..depth` in order, `r < rows`, `j < width`.
pub(crate) struct Block<'a> {
    a: &'a [f32],
    a_row: usize,
    rows: usize,
    depth: usize,
    /// `depth` rows of the panel, [`PANEL`] values each (zeros past the matrix's columns).
    b: &'a [f32],
    c: &'a mut [f32],
    c_row: usize,
    c_col: usize,
    width: usize,
    /// The product has this one panel (a narrow output, where taller tiles pay): read by the
    /// AVX-512 tiles only.
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    single_panel: bool,
}

impl Block<'_> {
    /// Panics unless every index the tiles read or write is inside the slices: the unsafe
    /// tiles rely on it.
    fn check(&self) {
        assert!(self.width >= 1 && self.width <= PANEL && self.rows >= 1, "an empty block");
        assert!(self.a.len() >= (self.rows - 1) * self.a_row + self.depth, "lhs block outside its slice");
        assert!(self.b.len() >= self.depth * PANEL, "panel chunk outside its slice");
        let last = (self.rows - 1) * self.c_row + (self.width - 1) * self.c_col;
        assert!(self.c.len() > last, "destination block outside its slice");
    }
}

/// An instruction set's tiles: how many `lhs` rows a block has (a multiple of the tile
/// heights, and small, so that a block's depth chunk stays in the L1 cache while every panel
/// reads it), and the function that runs a block against one panel.
struct Tiles {
    block_rows: usize,
    /// # Safety
    /// The CPU must run the tiles' instruction set, the block must pass [`Block::check`], and
    /// for the SIMD tiles `c_col` must be 1.
    panel: unsafe fn(Block<'_>),
}

impl Tiles {
    fn of(kernels: Kernels) -> Self {
        match kernels {
            #[cfg(target_arch = "x86_64")]
            Kernels::Avx512 => Tiles { block_rows: 28, panel: avx512::panel },
            #[cfg(target_arch = "x86_64")]
            Kernels::Avx2 => Tiles { block_rows: 24, panel: avx2::panel },
            #[cfg(target_arch = "aarch64")]
            Kernels::Neon => Tiles::NEON,
            _ => Tiles { block_rows: 24, panel: portable_panel },
        }
    }

    /// The NEON tiles (also what the tests run on emulated intrinsics off aarch64).
    #[cfg(any(target_arch = "aarch64", test))]
    const NEON: Tiles = Tiles { block_rows: 24, panel: neon::panel };
}

dispatch! {
    /// The portable tiles: two rows by a whole panel in local arrays the compiler keeps in
    /// vector registers, any column stride.
    fn portable_block(block: Block<'_>) {
        let mut block = block;
        let mut r = 0;
        while block.rows - r >= 2 {
            portable_tile::<2>(&mut block, r);
            r += 2;
        }
        if r < block.rows {
            portable_tile::<1>(&mut block, r);
        }
    }
}

/// [`portable_block`] as a tile function.
///
/// # Safety
/// None needed: the portable tiles index their slices (`unsafe` only to share the type of the
/// SIMD tiles).
unsafe fn portable_panel(block: Block<'_>) {
    portable_block(block)
}

#[inline(always)]
fn portable_tile<const R: usize>(block: &mut Block<'_>, r0: usize) {
    // Groups of 8 lanes, each updated by one small loop: the shape compilers turn into vector
    // FMAs (a flat 32-lane loop was unrolled into scalar ones).
    type Lanes = [f32; 8];
    let Block { a, a_row, depth, b, c_row, c_col, width, .. } = *block;
    let mut acc = [[[0f32; 8]; PANEL / 8]; R];
    for (r, acc) in acc.iter_mut().enumerate() {
        for j in 0..width {
            acc[j / 8][j % 8] = block.c[(r0 + r) * c_row + j * c_col];
        }
    }
    for p in 0..depth {
        let row = &b[p * PANEL..(p + 1) * PANEL];
        let mut bv = [[0f32; 8]; PANEL / 8];
        for (v, lanes) in bv.iter_mut().zip(row.chunks_exact(8)) {
            *v = Lanes::try_from(lanes).expect("8 lanes");
        }
        for (r, acc) in acc.iter_mut().enumerate() {
            let a = a[(r0 + r) * a_row + p];
            for (acc, b) in acc.iter_mut().zip(&bv) {
                for l in 0..8 {
                    acc[l] = fma(a, b[l], acc[l]);
                }
            }
        }
    }
    for (r, acc) in acc.iter().enumerate() {
        for j in 0..width {
            block.c[(r0 + r) * c_row + j * c_col] = acc[j / 8][j % 8];
        }
    }
}

/// Runs a block's tiles, tallest first: `$tile::<R, ...>(args)` for each height `R` of the
/// list up to `$tallest`, as long as `R` rows remain, with `$i` the rows done before it.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64", test))]
macro_rules! tile_rows {
    ($rows:expr, $tallest:expr, [$($r:literal),*], $i:ident => $tile:ident::<_, $g:tt> $args:tt) => {{
        let mut $i = 0;
        $(
            while $rows - $i >= $r && $r <= $tallest {
                $tile::<$r, $g> $args;
                $i += $r;
            }
        )*
    }};
}

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;
#[cfg(any(target_arch = "aarch64", all(test, not(target_arch = "aarch64"))))]
mod neon;

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

    /// Every tile set to check: those this CPU runs, through the dispatch, and (off aarch64)
    /// the NEON tiles on emulated intrinsics.
    fn every_path(f: impl Fn(&str, &dyn Fn(MatMut, MatRef, PackedRef))) {
        for kernels in Kernels::available() {
            let run = |dst: MatMut, lhs: MatRef, rhs: PackedRef| {
                crate::kernels::with_kernels(kernels, || matmul_serial(dst, lhs, rhs, true))
            };
            f(kernels.as_str(), &run);
        }
        #[cfg(not(target_arch = "aarch64"))]
        f("neon (emulated)", &|dst, lhs, rhs| blocked(dst, lhs, rhs, Tiles::NEON));
    }

    #[test]
    fn every_element_is_one_chain_however_the_rows_are_cut() {
        // Shapes of the layers (narrow, one panel, many panels, widths that end inside a
        // vector, a depth over several chunks), overlapping windows as a strided convolution
        // reads them; every way of cutting the rows (as streaming does) and every instruction
        // set give the chains' exact bits.
        for (m, k, n, row_stride) in [
            (61, 7, 1, 1),
            (45, 96, 16, 32),
            (37, 600, 48, 300),
            (30, 40, 2048, 40),
            (29, 33, 27, 33),
            (50, 20, 5, 20),
            (13, 300, 12, 300),
            (8, 9, 70, 9),
        ] {
            let a = inexact((m - 1) * row_stride + k, 1);
            let b = inexact(k * n, 2);
            let start = inexact(m * n, 3);
            let lhs = MatRef::new(&a, m, k, row_stride, 1);
            let packed = PackedRhs::row_major(&b, k, n);
            let mut expected = start.clone();
            chains(&mut expected, lhs, &b, n);
            every_path(|path, run| {
                let mut whole = start.clone();
                run(MatMut::row_major(&mut whole, m, n), lhs, packed.view());
                assert_eq!(whole, expected, "{m}x{k}x{n} on {path}");
                for cut in [1, 2, 5, 13, 29] {
                    let mut pieces = start.clone();
                    for (i, dst) in pieces.chunks_mut(cut * n).enumerate() {
                        let rows = dst.len() / n;
                        let lhs = MatRef::new(&a[i * cut * row_stride..], rows, k, row_stride, 1);
                        run(MatMut::row_major(dst, rows, n), lhs, packed.view());
                    }
                    assert_eq!(pieces, expected, "{m}x{k}x{n} in pieces of {cut} rows on {path}");
                }
                // A strided lhs (packed into rows first) and a strided destination row.
                let t: Vec<f32> = (0..k)
                    .flat_map(|p| (0..m).map(move |r| (r, p)))
                    .map(|(r, p)| a[r * row_stride + p])
                    .collect();
                let mut wide = vec![7.0f32; m * (n + 3)];
                for r in 0..m {
                    wide[r * (n + 3)..r * (n + 3) + n].copy_from_slice(&start[r * n..(r + 1) * n]);
                }
                run(MatMut::new(&mut wide, m, n, n + 3, 1), MatRef::row_major(&t, k, m).t(), packed.view());
                for r in 0..m {
                    assert_eq!(
                        &wide[r * (n + 3)..r * (n + 3) + n],
                        &expected[r * n..(r + 1) * n],
                        "{path}: strided"
                    );
                    assert_eq!(
                        &wide[r * (n + 3) + n..(r + 1) * (n + 3)],
                        &[7.0; 3],
                        "{path}: wrote outside the view"
                    );
                }
            });
        }
    }

    #[test]
    #[should_panic(expected = "alias")]
    fn aliasing_destinations_are_refused() {
        let mut out = vec![0.0; 8];
        MatMut::new(&mut out, 3, 3, 1, 1);
    }
}
