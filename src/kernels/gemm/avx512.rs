//! The AVX-512 tiles: up to 14 rows x 32 columns (28 rows x 16 for a narrow output) held in
//! 16-lane registers while a block runs through a depth chunk of a panel.

use std::arch::x86_64::*;

use super::{Block, PANEL};

/// # Safety
/// The CPU has AVX-512F; `block` passed [`Block::check`] and has `c_col == 1`.
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn panel(mut block: Block<'_>) {
    let width = block.width;
    let masks = [mask(width), mask(width.saturating_sub(16))];
    // The same tile heights for every panel of the product: 28 rows where there is only one,
    // narrow, panel; else as many as 32 columns allow in 32 registers.
    match width > 16 {
        true => tiles::<2>(&mut block, 14, masks),
        false => {
            let tallest = if block.single_panel { 28 } else { 14 };
            tiles::<1>(&mut block, tallest, masks)
        }
    }
}

fn mask(width: usize) -> __mmask16 {
    ((1u32 << width.min(16)) - 1) as __mmask16
}

/// Every tile of the block, tallest first.
#[target_feature(enable = "avx512f")]
unsafe fn tiles<const V: usize>(block: &mut Block<'_>, tallest: usize, masks: [__mmask16; 2]) {
    let (a, b, c) = (block.a.as_ptr(), block.b.as_ptr(), block.c.as_mut_ptr());
    let (a_row, c_row, depth) = (block.a_row, block.c_row, block.depth);
    let rows = block.rows;
    tile_rows!(rows, tallest, [28, 14, 8, 4, 2, 1], i => tile::<_, V>(a.add(i * a_row), a_row, b, c.add(i * c_row), c_row, depth, masks));
}

/// One tile of `R` rows by `V` vectors: loaded from `c`, every multiply-add of the depth chunk
/// in order, stored back.
#[target_feature(enable = "avx512f")]
#[inline]
#[allow(clippy::needless_range_loop)] // indices over registers, unrolled by the compiler
unsafe fn tile<const R: usize, const V: usize>(
    a: *const f32,
    a_row: usize,
    b: *const f32,
    c: *mut f32,
    c_row: usize,
    depth: usize,
    masks: [__mmask16; 2],
) {
    let mut acc = [[_mm512_setzero_ps(); V]; R];
    for r in 0..R {
        for v in 0..V {
            acc[r][v] = _mm512_maskz_loadu_ps(masks[v], c.add(r * c_row + 16 * v));
        }
    }
    for p in 0..depth {
        let mut bv = [_mm512_setzero_ps(); V];
        for v in 0..V {
            bv[v] = _mm512_loadu_ps(b.add(p * PANEL + 16 * v));
        }
        for r in 0..R {
            let av = _mm512_set1_ps(*a.add(r * a_row + p));
            for v in 0..V {
                acc[r][v] = _mm512_fmadd_ps(av, bv[v], acc[r][v]);
            }
        }
    }
    for r in 0..R {
        for v in 0..V {
            _mm512_mask_storeu_ps(c.add(r * c_row + 16 * v), masks[v], acc[r][v]);
        }
    }
}
