//! The NEON intrinsics the kernels use, emulated lane by lane with their documented semantics
//! (Arm's intrinsics reference), so that a plain `cargo test` on x86 compiles the NEON kernels
//! and checks their bits against the other paths in seconds. Test builds only; the authority
//! is `.ci/aarch64.sh`, which runs the real instructions under qemu (`std::arch::aarch64`).
#![allow(non_camel_case_types)]

/// Four f32 lanes.
#[derive(Clone, Copy, Debug)]
pub struct float32x4_t([f32; 4]);
/// Two f32 lanes.
#[derive(Clone, Copy, Debug)]
pub struct float32x2_t([f32; 2]);
/// Four u16 lanes.
#[derive(Clone, Copy, Debug)]
pub struct uint16x4_t([u16; 4]);
/// Four u32 lanes.
#[derive(Clone, Copy, Debug)]
pub struct uint32x4_t([u32; 4]);

pub unsafe fn vld1q_f32(p: *const f32) -> float32x4_t {
    float32x4_t(std::ptr::read_unaligned(p as *const [f32; 4]))
}

pub unsafe fn vst1q_f32(p: *mut f32, v: float32x4_t) {
    std::ptr::write_unaligned(p as *mut [f32; 4], v.0)
}

pub unsafe fn vld1_u16(p: *const u16) -> uint16x4_t {
    uint16x4_t(std::ptr::read_unaligned(p as *const [u16; 4]))
}

pub unsafe fn vdupq_n_f32(x: f32) -> float32x4_t {
    float32x4_t([x; 4])
}

/// `a + b * c`, fused (FMLA).
pub unsafe fn vfmaq_f32(a: float32x4_t, b: float32x4_t, c: float32x4_t) -> float32x4_t {
    float32x4_t(std::array::from_fn(|i| b.0[i].mul_add(c.0[i], a.0[i])))
}

pub unsafe fn vaddq_f32(a: float32x4_t, b: float32x4_t) -> float32x4_t {
    float32x4_t(std::array::from_fn(|i| a.0[i] + b.0[i]))
}

pub unsafe fn vadd_f32(a: float32x2_t, b: float32x2_t) -> float32x2_t {
    float32x2_t([a.0[0] + b.0[0], a.0[1] + b.0[1]])
}

pub unsafe fn vget_low_f32(a: float32x4_t) -> float32x2_t {
    float32x2_t([a.0[0], a.0[1]])
}

pub unsafe fn vget_high_f32(a: float32x4_t) -> float32x2_t {
    float32x2_t([a.0[2], a.0[3]])
}

pub unsafe fn vget_lane_f32<const LANE: i32>(a: float32x2_t) -> f32 {
    a.0[LANE as usize]
}

/// Each lane widened and shifted left by `N`.
pub unsafe fn vshll_n_u16<const N: i32>(a: uint16x4_t) -> uint32x4_t {
    uint32x4_t(std::array::from_fn(|i| (a.0[i] as u32) << N))
}

pub unsafe fn vreinterpretq_f32_u32(a: uint32x4_t) -> float32x4_t {
    float32x4_t(a.0.map(f32::from_bits))
}
