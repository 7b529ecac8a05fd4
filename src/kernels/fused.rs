//! The fused multiply-add every kernel chains, `a * b + c` rounded once: one instruction where
//! the target has it, and on WebAssembly (which has none) an exact emulation in f64 that the
//! compiler can vectorise, rather than the software `fmaf` call `f32::mul_add` becomes there.

/// `a * b + c` with a single rounding: the same bits on every target.
#[inline(always)]
pub fn fma(a: f32, b: f32, c: f32) -> f32 {
    #[cfg(target_arch = "wasm32")]
    return fma_via_f64(a, b, c);
    #[cfg(not(target_arch = "wasm32"))]
    return a.mul_add(b, c);
}

/// `a * b + c` rounded once, in f64 arithmetic only (no branches on the common path, so loops
/// of it vectorise as f64x2).
///
/// Written by hand because no crate offers it: `libm::fmaf` (what `f32::mul_add` calls on
/// wasm32) branches per value and is not inlined. Why it is exact: the product of two f32 is
/// exact in f64 (24 + 24 bits < 53). The sum is then rounded to odd in f64 (round to nearest,
/// and where that was inexact and landed on an even significand, step to the odd neighbour
/// on the side of the exact sum, found by Knuth's TwoSum). A round-to-odd result with at
/// least two bits more than the target rounds to the target exactly as the exact value would
/// (Boldo and Melquiond, "Emulation of FMA and correctly rounded sums: proved algorithms
/// using rounding to odd", 2008), and 53 >= 24 + 2, subnormal results included.
// Used by `fma` on wasm32 only; compiled everywhere so that its test runs on every target.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
#[inline(always)]
pub fn fma_via_f64(a: f32, b: f32, c: f32) -> f32 {
    let product = a as f64 * b as f64;
    let c = c as f64;
    let sum = product + c;
    // TwoSum: `error` is exactly (product + c) - sum.
    let c_part = sum - product;
    let error = (product - (sum - c_part)) + (c - c_part);
    let bits = sum.to_bits();
    // Step one ulp away from zero where the exact sum lies farther from zero than `sum`,
    // towards zero where it lies nearer; only when inexact, on an even significand, finite.
    let away = (error > 0.0) == (sum > 0.0);
    let step = (error != 0.0) & (bits & 1 == 0) & sum.is_finite();
    let odd = f64::from_bits(match (step, away) {
        (false, _) => bits,
        (true, true) => bits + 1,
        (true, false) => bits - 1,
    });
    odd as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(a: f32, b: f32, c: f32) {
        let (want, got) = (a.mul_add(b, c), fma_via_f64(a, b, c));
        assert!(
            want.to_bits() == got.to_bits() || want.is_nan() && got.is_nan(),
            "fma({a:e}, {b:e}, {c:e}) = {want:e}, emulated {got:e}"
        );
    }

    #[test]
    fn emulation_is_the_fused_operation() {
        // Random bit patterns over the whole range, and values near each other so that the
        // product and the addend cancel (where a double rounding would show).
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..2_000_000 {
            let r = next();
            let (a, b) = (f32::from_bits(r as u32), f32::from_bits((r >> 32) as u32));
            check(a, b, f32::from_bits(next() as u32));
            let (x, y) = (((r & 0xffff) as f32 - 32768.0) / 1024.0, ((r >> 16 & 0xffff) as f32) / 4096.0);
            let tweak = f32::from_bits((x * y).to_bits() ^ (next() as u32 & 0x7));
            check(x, y, -tweak);
            check(x, y, tweak * f32::from_bits(0x3380_0000)); // c far below the product
        }
        // Ties of the f32 rounding, subnormals, signed zeros, infinities and NaN.
        let tie = 1.0 + f32::EPSILON / 2.0;
        for (a, b, c) in [
            (tie, 1.0, 0.0),
            (1.0 + f32::EPSILON, 1.0 + f32::EPSILON, -1.0),
            (1.0 + f32::EPSILON, 1.0 - f32::EPSILON, -1.0),
            (f32::MIN_POSITIVE, 0.5, f32::from_bits(1)),
            (f32::from_bits(3), 0.5, 0.0),
            (f32::from_bits(3), -0.5, f32::from_bits(1)),
            (-0.0, 0.0, -0.0),
            (0.0, -1.0, 0.0),
            (f32::MAX, 2.0, -f32::MAX),
            (f32::MAX, f32::MAX, f32::NEG_INFINITY),
            (f32::INFINITY, 0.0, 1.0),
            (f32::NAN, 1.0, 1.0),
            (1e-30, 1e-30, -1e-45),
        ] {
            check(a, b, c);
        }
    }
}
