//! Int8 arithmetic as XNNPACK computes it: the TFLite delegate Google's Lyra library runs the
//! encoder and LyraGAN with, so its rounding is what "the reference" means for these models
//! (TFLite's own kernels round differently and give other codes). Each function names the
//! XNNPACK routine it follows (`src/microparams-init.c` and the scalar micro-kernels).

use crate::kernels::lanes;

use super::plan::QParams;

/// Round half to even, as `lrintf` in the default rounding mode and the magic-number
/// rounding of XNNPACK's kernels, for |x| <= 2^22 (every caller clamps to int8 range first).
/// Written as XNNPACK's magic-number addition, not `round_ties_even`, because outside the
/// kernels' target features that is a call to libm's `rintf` (5 % of Lyra's time).
#[inline(always)]
fn round_even(x: f32) -> f32 {
    const MAGIC: f32 = 12_582_912.0; // 1.5 * 2^23: the sum's ulp is 1
    debug_assert!(x.abs() <= 4_194_304.0);
    (x + MAGIC) - MAGIC
}

/// f32 to int8 (XNNPACK `f32_qs8_vcvt`): `x * (1 / scale)`, clamped, rounded half to even,
/// plus the zero point.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Quantizer {
    inv_scale: f32,
    lo: f32,
    hi: f32,
    zero_point: i32,
}

impl Quantizer {
    pub fn new(q: QParams) -> Self {
        let zp = q.zero_point();
        Self { inv_scale: 1.0 / q.scale(), lo: (-128 - zp) as f32, hi: (127 - zp) as f32, zero_point: zp }
    }

    #[inline(always)]
    pub fn quantize(&self, x: f32) -> i8 {
        (round_even((x * self.inv_scale).clamp(self.lo, self.hi)) as i32 + self.zero_point) as i8
    }
}

/// int8 to f32 (XNNPACK `qs8_f32_vcvt`): `(q - zero_point) * scale`.
#[inline(always)]
pub(crate) fn dequantize(q: i8, params: QParams) -> f32 {
    (q as i32 - params.zero_point()) as f32 * params.scale()
}

/// An int32 accumulator to int8 (XNNPACK's "fp32" requantisation of convolutions):
/// `float(acc) * (input_scale * weight_scale / output_scale)`, clamped, rounded half to even,
/// plus the output zero point. One multiplier per output channel.
#[derive(Clone, Debug)]
pub(crate) struct Requantizer {
    multipliers: Vec<f32>,
    lo: f32,
    hi: f32,
    zero_point: i32,
}

impl Requantizer {
    /// `weight_scales` per output channel; the multipliers are computed in f32 in XNNPACK's
    /// order, `(input_scale * weight_scale) / output_scale`.
    pub fn new(input: QParams, weight_scales: &[f32], output: QParams) -> Self {
        let multipliers = weight_scales.iter().map(|&w| input.scale() * w / output.scale()).collect();
        let zp = output.zero_point();
        Self { multipliers, lo: (-128 - zp) as f32, hi: (127 - zp) as f32, zero_point: zp }
    }

    /// Output channel `channel` of `acc`.
    #[inline(always)]
    pub fn requantize(&self, acc: i32, channel: usize) -> i8 {
        let v = (acc as f32 * self.multipliers[channel]).clamp(self.lo, self.hi);
        (round_even(v) as i32 + self.zero_point) as i8
    }

    /// `acc`, rows of one value per output channel, requantised as [`Requantizer::requantize`]
    /// does each value (vectorised for the thread's instruction set).
    pub fn requantize_rows(&self, acc: &[i32]) -> Vec<i8> {
        let (lo, hi, zero_point) = (self.lo, self.hi, self.zero_point);
        lanes::map_rows(acc, &self.multipliers, |a, m| {
            (round_even((a as f32 * m).clamp(lo, hi)) as i32 + zero_point) as i8
        })
    }
}

/// Leaky ReLU on int8 (XNNPACK `qs8_vlrelu`): 8-bit fixed-point multipliers for the positive
/// and negative sides, `lrintf(256 * input_scale / output_scale [* alpha])`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LeakyReluQ8 {
    input_zero_point: i32,
    positive: i32,
    negative: i32,
    bias: i32,
}

impl LeakyReluQ8 {
    pub fn new(alpha: f32, input: QParams, output: QParams) -> Self {
        let positive_scale = input.scale() / output.scale();
        let negative_scale = positive_scale * alpha;
        Self {
            input_zero_point: input.zero_point(),
            positive: round_even(256.0 * positive_scale) as i32,
            negative: round_even(256.0 * negative_scale) as i32,
            bias: (output.zero_point() << 8) + 0x80,
        }
    }

    #[inline(always)]
    pub fn apply(&self, q: i8) -> i8 {
        let x = q as i32 - self.input_zero_point;
        let multiplier = if x >= 0 { self.positive } else { self.negative };
        ((self.bias + x * multiplier) >> 8).clamp(-128, 127) as i8
    }
}

/// The sum of two int8 values (XNNPACK `qs8_vadd`): 21-bit multipliers with a shared shift
/// chosen from the larger input-to-output scale ratio.
#[derive(Clone, Copy, Debug)]
pub(crate) struct AddQ8 {
    a_multiplier: i32,
    b_multiplier: i32,
    bias: i64,
    shift: u32,
    output_zero_point: i32,
}

impl AddQ8 {
    pub fn new(a: QParams, b: QParams, output: QParams) -> Self {
        let a_ratio = a.scale() / output.scale();
        let b_ratio = b.scale() / output.scale();
        let max = a_ratio.abs().max(b_ratio.abs());
        let exponent = (max.to_bits() >> 23) as i32 - 127;
        let shift = (20 - exponent) as u32;
        // `abs_ratio * 2^shift`, exactly (an exponent bump), rounded to an integer.
        let multiplier = |ratio: f32| {
            let m = round_even(f32::from_bits(ratio.abs().to_bits() + (shift << 23))) as i32;
            if ratio.is_sign_negative() {
                -m
            } else {
                m
            }
        };
        let (am, bm) = (multiplier(a_ratio), multiplier(b_ratio));
        let bias =
            (1i64 << (shift - 1)) - am as i64 * a.zero_point() as i64 - bm as i64 * b.zero_point() as i64;
        Self { a_multiplier: am, b_multiplier: bm, bias, shift, output_zero_point: output.zero_point() }
    }

    #[inline(always)]
    pub fn add(&self, a: i8, b: i8) -> i8 {
        let acc = self.bias + a as i64 * self.a_multiplier as i64 + b as i64 * self.b_multiplier as i64;
        ((acc >> self.shift) as i32 + self.output_zero_point).clamp(-128, 127) as i8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantize_rounds_half_to_even_and_clamps() {
        let q = Quantizer::new(QParams(0.5, 3));
        assert_eq!(q.quantize(0.25), 3); // 0.5 -> 0
        assert_eq!(q.quantize(0.75), 5); // 1.5 -> 2
        assert_eq!(q.quantize(-0.25), 3); // -0.5 -> -0
        assert_eq!(q.quantize(1e9), 127);
        assert_eq!(q.quantize(-1e9), -128);
        assert_eq!(dequantize(5, QParams(0.5, 3)), 1.0);
    }

    #[test]
    fn leaky_relu_and_add_follow_the_fixed_point_formulas() {
        // Identity scales: positive side exact, negative side alpha = 0.25 exact.
        let l = LeakyReluQ8::new(0.25, QParams(1.0, 0), QParams(1.0, 0));
        assert_eq!((l.apply(100), l.apply(-100), l.apply(-2), l.apply(-128)), (100, -25, 0, -32));
        // (-2 * 64 + 128) >> 8 = 0: rounds half up, as XNNPACK's arithmetic shift does.
        let l = LeakyReluQ8::new(0.25, QParams(1.0, 0), QParams(1.0, 0));
        assert_eq!(l.apply(-2), ((0x80 - 2 * 64) >> 8) as i8);
        let a = AddQ8::new(QParams(1.0, 0), QParams(1.0, 0), QParams(2.0, 0));
        assert_eq!((a.add(3, 4), a.add(100, 100), a.add(-3, -4)), (4, 100, -3));
    }
}
