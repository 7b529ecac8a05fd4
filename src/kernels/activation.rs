//! Element-wise activations (ELU, and the LSTM cell's sigmoid and tanh) over slices. `exp` is a
//! branch-free polynomial (Cephes' `expf`, within 2 ulp of the correctly rounded value) so
//! that the loops vectorise: the slice functions are compiled once per instruction set (see
//! `dispatch!`) and run on the thread's path. Rust never fuses or reorders float operations on
//! its own, so every build computes the same bits.

/// `e^x`, within 2 ulp (Cephes `expf`); clamped to `[e^-87.3, e^88.3]`.
#[inline(always)]
#[allow(clippy::excessive_precision)] // Cephes' coefficients as published
pub fn exp(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // Adding 1.5 * 2^23 rounds to the nearest integer without a branch or a `round` call.
    const ROUND: f32 = 12_582_912.0;
    let x = x.clamp(-87.3, 88.3);
    let shifted = x * LOG2E + ROUND;
    let n = shifted - ROUND;
    let r = (x - n * LN2_HI) - n * LN2_LO;
    let p = ((((1.987_569_1e-4 * r + 1.398_199_9e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r
        + 1.666_666_5e-1)
        * r
        + 5.000_000_1e-1;
    let e = p * (r * r) + r + 1.0;
    // 2^n through the exponent bits: `shifted`'s low mantissa bits hold n (this, not a
    // float-to-int cast, keeps the loop vectorised); n + 127 stays in 1..=254 after the clamp.
    let biased = shifted.to_bits().wrapping_sub(ROUND.to_bits()).wrapping_add(127);
    e * f32::from_bits(biased << 23)
}

/// The logistic function `1 / (1 + e^-x)`.
#[inline(always)]
pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
}

/// `tanh(x)`: Cephes' odd polynomial near 0 (where `1 - 2 / (e^2x + 1)` would cancel), that
/// formula elsewhere; both computed and one selected, so the loop stays branch-free.
#[inline(always)]
#[allow(clippy::excessive_precision)] // Cephes' coefficients as published
pub fn tanh(x: f32) -> f32 {
    let a = x.abs();
    let z = x * x;
    let small = ((((-5.704_988_7e-3 * z + 2.063_908_9e-2) * z - 5.373_971_6e-2) * z + 1.333_144_2e-1) * z
        - 3.333_328_2e-1)
        * z
        * x
        + x;
    let large = (1.0 - 2.0 / (exp(2.0 * a) + 1.0)).copysign(x);
    if a < 0.625 {
        small
    } else {
        large
    }
}

/// ELU with alpha 1: `x` for `x >= 0`, `e^x - 1` below.
#[inline(always)]
pub fn elu(x: f32) -> f32 {
    let negative = exp(x) - 1.0;
    if x.is_sign_positive() {
        x
    } else {
        negative
    }
}

dispatch! {
    /// ELU in place.
    pub fn elu_in_place(xs: &mut [f32]) {
        xs.iter_mut().for_each(|x| *x = elu(*x));
    }
}

dispatch! {
    /// `dst = elu(src)`.
    pub fn elu_copy(src: &[f32], dst: &mut [f32]) {
        dst.iter_mut().zip(src).for_each(|(d, &s)| *d = elu(s));
    }
}

dispatch! {
    /// One LSTM step's cell update from its pre-activation `gates` (`[input, forget, cell,
    /// output]`, each `hidden.len()` long): `c = σ(f) c + σ(i) tanh(g)`, `h = σ(o) tanh(c)`.
    pub fn lstm_cell(gates: &[f32], cell: &mut [f32], hidden: &mut [f32]) {
        let h = hidden.len();
        let (i, rest) = gates.split_at(h);
        let (f, rest) = rest.split_at(h);
        let (g, o) = rest.split_at(h);
        let o = &o[..h];
        let cell = &mut cell[..h];
        for j in 0..h {
            cell[j] = sigmoid(f[j]) * cell[j] + sigmoid(i[j]) * tanh(g[j]);
            hidden[j] = sigmoid(o[j]) * tanh(cell[j]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs() -> Vec<f32> {
        let mut xs: Vec<f32> = (-2000..=2000).map(|i| i as f32 / 97.0).collect();
        xs.extend([0.0, -0.0, 1e-30, -1e-30, 1e-7, -1e-7, 0.625, -0.625, -87.0, -100.0, 88.0, 100.0]);
        xs
    }

    fn ulps(a: f32, b: f64) -> f64 {
        (a as f64 - b).abs() / (b.abs() * f32::EPSILON as f64).max(f32::MIN_POSITIVE as f64)
    }

    #[test]
    fn exp_and_tanh_are_within_a_few_ulp() {
        for x in inputs() {
            let exact = (x as f64).exp();
            if exact > f32::MIN_POSITIVE as f64 && exact < f32::MAX as f64 {
                assert!(ulps(exp(x), exact) <= 2.0, "exp({x}) = {} vs {exact}", exp(x));
            }
            assert!(ulps(tanh(x), (x as f64).tanh()) <= 3.0, "tanh({x}) = {}", tanh(x));
            assert!(ulps(sigmoid(x), 1.0 / (1.0 + (-x as f64).exp())) <= 4.0, "sigmoid({x})");
        }
        assert_eq!(elu(-100.0), -1.0);
        assert_eq!(elu(3.5), 3.5);
        assert_eq!(elu(0.0), 0.0);
    }

    #[test]
    fn every_instruction_set_computes_the_same_bits() {
        let xs = inputs();
        let portable: Vec<f32> = xs.iter().map(|&x| elu(x)).collect();
        let h = 1000;
        let gates: Vec<f32> = xs[..4 * h].to_vec();
        let cell0: Vec<f32> = xs[..h].iter().map(|v| v / 10.0).collect();
        let (mut cell2, mut hidden2) = (cell0.clone(), vec![0.0; h]);
        for j in 0..h {
            cell2[j] = sigmoid(gates[h + j]) * cell2[j] + sigmoid(gates[j]) * tanh(gates[2 * h + j]);
            hidden2[j] = sigmoid(gates[3 * h + j]) * tanh(cell2[j]);
        }
        for kernels in crate::kernels::Kernels::available() {
            crate::kernels::with_kernels(kernels, || {
                let mut fast = xs.clone();
                elu_in_place(&mut fast);
                let bits = |v: &[f32]| v.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&fast), bits(&portable), "{kernels}");
                let mut copied = vec![0.0; xs.len()];
                elu_copy(&xs, &mut copied);
                assert_eq!(bits(&copied), bits(&portable), "{kernels}");
                let (mut cell, mut hidden) = (cell0.clone(), vec![0.0; h]);
                lstm_cell(&gates, &mut cell, &mut hidden);
                assert_eq!((bits(&cell), bits(&hidden)), (bits(&cell2), bits(&hidden2)), "{kernels}");
            });
        }
    }
}
