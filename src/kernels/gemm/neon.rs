//! The NEON tiles: a panel as two halves of 16 columns, each run as tiles of 6 rows x 16
//! columns (8 rows for halves of at most 8): up to 24 accumulators, the half-panel's row and a
//! broadcast in the 32 registers. `vfmaq_f32` is fused, so the bits are the other paths'.
//! (On other targets the tests compile this file against an emulation of the intrinsics.)

#[cfg(not(target_arch = "aarch64"))]
use crate::kernels::neon_emulated::*;
#[cfg(target_arch = "aarch64")]
use std::arch::aarch64::*;

use super::{Block, PANEL};

/// # Safety
/// The CPU has NEON; `block` passed [`Block::check`] and has `c_col == 1`.
#[cfg_attr(target_arch = "aarch64", target_feature(enable = "neon"))]
pub(crate) unsafe fn panel(mut block: Block<'_>) {
    for half in [0, 16] {
        if half >= block.width {
            break;
        }
        let width = (block.width - half).min(16);
        match width.div_ceil(4) {
            4 => tiles::<4>(&mut block, half, width, 6),
            3 => tiles::<3>(&mut block, half, width, 6),
            2 => tiles::<2>(&mut block, half, width, 8),
            _ => tiles::<1>(&mut block, half, width, 8),
        }
    }
}

/// Every tile of the block's columns `half..half + width`, tallest first.
#[cfg_attr(target_arch = "aarch64", target_feature(enable = "neon"))]
unsafe fn tiles<const V: usize>(block: &mut Block<'_>, half: usize, width: usize, tallest: usize) {
    let (a, b, c) = (block.a.as_ptr(), block.b.as_ptr().add(half), block.c.as_mut_ptr().add(half));
    let (a_row, c_row, depth) = (block.a_row, block.c_row, block.depth);
    let rows = block.rows;
    tile_rows!(rows, tallest, [8, 6, 4, 2, 1], i => tile::<_, V>(a.add(i * a_row), a_row, b, c.add(i * c_row), c_row, depth, width));
}

/// Lanes of vector `v` inside `width` columns.
fn lanes(width: usize, v: usize) -> usize {
    width.saturating_sub(4 * v).min(4)
}

/// One tile of `R` rows by `V` vectors of 4: loaded from `c` (a partial last vector through a
/// local array: NEON has no masked loads), every multiply-add of the depth chunk in order,
/// stored back.
#[cfg_attr(target_arch = "aarch64", target_feature(enable = "neon"))]
#[inline]
#[allow(clippy::needless_range_loop)] // indices over registers, unrolled by the compiler
unsafe fn tile<const R: usize, const V: usize>(
    a: *const f32,
    a_row: usize,
    b: *const f32,
    c: *mut f32,
    c_row: usize,
    depth: usize,
    width: usize,
) {
    let mut acc = [[vdupq_n_f32(0.0); V]; R];
    for r in 0..R {
        for v in 0..V {
            let at = c.add(r * c_row + 4 * v);
            acc[r][v] = match lanes(width, v) {
                4 => vld1q_f32(at),
                n => {
                    let mut part = [0f32; 4];
                    std::ptr::copy_nonoverlapping(at, part.as_mut_ptr(), n);
                    vld1q_f32(part.as_ptr())
                }
            };
        }
    }
    for p in 0..depth {
        let mut bv = [vdupq_n_f32(0.0); V];
        for v in 0..V {
            bv[v] = vld1q_f32(b.add(p * PANEL + 4 * v));
        }
        for r in 0..R {
            let av = vdupq_n_f32(*a.add(r * a_row + p));
            for v in 0..V {
                acc[r][v] = vfmaq_f32(acc[r][v], av, bv[v]);
            }
        }
    }
    for r in 0..R {
        for v in 0..V {
            let at = c.add(r * c_row + 4 * v);
            match lanes(width, v) {
                4 => vst1q_f32(at, acc[r][v]),
                n => {
                    let mut part = [0f32; 4];
                    vst1q_f32(part.as_mut_ptr(), acc[r][v]);
                    std::ptr::copy_nonoverlapping(part.as_ptr(), at, n);
                }
            }
        }
    }
}
