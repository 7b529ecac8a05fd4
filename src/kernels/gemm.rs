//! Safe strided matrix views and `dst (+)= lhs * rhs` on them, over the `gemm` crate (the GEMM
//! candle itself uses). Views with arbitrary strides are what let convolutions run as GEMMs
//! straight on the padded signal, without im2col copies.

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

/// Below this many multiply-adds a GEMM runs on the calling thread: splitting it costs more
/// than it saves.
const PARALLEL_MIN_WORK: usize = 1 << 18;

/// `dst = lhs * rhs`, or `dst += lhs * rhs` when `accumulate`; multi-threaded over the current
/// rayon pool when the product is large enough.
///
/// # Panics
/// If the shapes do not agree.
pub fn matmul(dst: MatMut<'_>, lhs: MatRef<'_>, rhs: MatRef<'_>, accumulate: bool) {
    let parallel = rayon::current_num_threads() > 1 && dst.rows * dst.cols * lhs.cols >= PARALLEL_MIN_WORK;
    gemm_with(dst, lhs, rhs, accumulate, parallel)
}

/// As [`matmul`], on the calling thread only (for work already split across threads).
pub fn matmul_serial(dst: MatMut<'_>, lhs: MatRef<'_>, rhs: MatRef<'_>, accumulate: bool) {
    gemm_with(dst, lhs, rhs, accumulate, false)
}

fn gemm_with(dst: MatMut<'_>, lhs: MatRef<'_>, rhs: MatRef<'_>, accumulate: bool, parallel: bool) {
    assert!(lhs.rows == dst.rows && rhs.cols == dst.cols && lhs.cols == rhs.rows, "shapes do not agree");
    let (m, n, k) = (dst.rows, dst.cols, lhs.cols);
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            for r in 0..m {
                for c in 0..n {
                    dst.data[r * dst.row_stride + c * dst.col_stride] = 0.0;
                }
            }
        }
        return;
    }
    let parallelism = match parallel {
        true => gemm::Parallelism::Rayon(rayon::current_num_threads()),
        false => gemm::Parallelism::None,
    };
    // SAFETY: the constructors checked that every element of the three views lies inside its
    // slice and that the destination's elements do not alias; `dst` is a unique borrow, so it
    // cannot overlap `lhs` or `rhs`. Strides fit in isize because they index inside slices.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.data.as_mut_ptr(),
            dst.col_stride as isize,
            dst.row_stride as isize,
            accumulate,
            lhs.data.as_ptr(),
            lhs.col_stride as isize,
            lhs.row_stride as isize,
            rhs.data.as_ptr(),
            rhs.col_stride as isize,
            rhs.row_stride as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        )
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
            matmul(MatMut::row_major(&mut out, lhs.rows, rhs.cols), lhs, rhs, false);
            assert_eq!(out, expected);
            matmul(MatMut::row_major(&mut out, lhs.rows, rhs.cols), lhs, rhs, true);
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
        matmul(MatMut::new(&mut out[1..], 3, 2, 6, 3), lhs, rhs, false);
        for r in 0..3 {
            assert_eq!([out[r * 6 + 1], out[r * 6 + 4]], [expected[r * 2], expected[r * 2 + 1]]);
        }
        assert_eq!(out.iter().filter(|&&v| v != 0.0).count(), expected.iter().filter(|&&v| v != 0.0).count());
    }

    #[test]
    #[should_panic(expected = "alias")]
    fn aliasing_destinations_are_refused() {
        let mut out = vec![0.0; 8];
        MatMut::new(&mut out, 3, 3, 1, 1);
    }
}
