//! The sums a time-group norm needs, and the per-channel map it applies, compiled per
//! instruction set (the crate itself is built for the baseline, where these loops would run
//! two lanes wide). The lanes are written out, so every path adds in the same order.

dispatch! {
    /// `(sum x, sum x^2)` in f64, in one pass, each over 32 independent lanes (one running sum
    /// would be a chain of dependent additions), then the leftovers, then the lanes in order.
    pub fn sums_f64(xs: &[f32]) -> (f64, f64) {
        let (mut sum, mut sum_sq) = ([0f64; 32], [0f64; 32]);
        let mut chunks = xs.chunks_exact(32);
        for chunk in &mut chunks {
            for ((s, q), &x) in sum.iter_mut().zip(sum_sq.iter_mut()).zip(chunk) {
                *s += x as f64;
                *q += x as f64 * x as f64;
            }
        }
        let rest = chunks.remainder();
        (
            rest.iter().map(|&x| x as f64).sum::<f64>() + sum.iter().sum::<f64>(),
            rest.iter().map(|&x| x as f64 * x as f64).sum::<f64>() + sum_sq.iter().sum::<f64>(),
        )
    }
}

dispatch! {
    /// `x = x * scale[c] + shift[c]` for channel `c` of each `scale.len()`-wide row of `data`.
    pub fn scale_shift_rows(data: &mut [f32], scale: &[f32], shift: &[f32]) {
        for row in data.chunks_exact_mut(scale.len()) {
            for ((x, s), b) in row.iter_mut().zip(scale).zip(shift) {
                *x = *x * s + b;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_match_the_plain_loops() {
        // Values whose f64 sums are exact, so the lane order cannot matter.
        let xs: Vec<f32> = (0..1003).map(|i| ((i * 37) % 101) as f32 / 4.0 - 12.0).collect();
        // Inexact values: every path adds the lanes in the same order, so the same bits.
        let inexact: Vec<f32> = (0..5003).map(|i| ((i * 7919) % 10007) as f32 / 3.7 - 1300.0).collect();
        let reference =
            crate::kernels::with_kernels(crate::kernels::Kernels::Portable, || sums_f64(&inexact));
        for kernels in crate::kernels::Kernels::available() {
            assert_eq!(crate::kernels::with_kernels(kernels, || sums_f64(&inexact)), reference, "{kernels}");
        }
        let plain: f64 = xs.iter().map(|&x| x as f64).sum();
        let plain_sq: f64 = xs.iter().map(|&x| x as f64 * x as f64).sum();
        assert_eq!(sums_f64(&xs), (plain, plain_sq));
        assert_eq!(
            sums_f64(&xs[..5]),
            (xs[..5].iter().map(|&x| x as f64).sum(), xs[..5].iter().map(|&x| x as f64 * x as f64).sum())
        );
        let mut rows = vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0];
        scale_shift_rows(&mut rows, &[2.0, -1.0], &[0.5, 0.25]);
        assert_eq!(rows, [2.5, -1.75, 6.5, -3.75, 10.5, -5.75]);
    }
}
