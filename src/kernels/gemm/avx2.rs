//! The AVX2+FMA tiles: a panel as two halves of 16 columns, each run as tiles of 6 rows x 16
//! columns (12 rows x 8 for a half of at most 8): 12 accumulators, the half-panel's row and a
//! broadcast in the 16 registers.

use std::arch::x86_64::*;

use super::{Block, PANEL};

/// # Safety
/// The CPU has AVX2 and FMA; `block` passed [`Block::check`] and has `c_col == 1`.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn panel(mut block: Block<'_>) {
    for half in [0, 16] {
        if half >= block.width {
            break;
        }
        let width = (block.width - half).min(16);
        // Masked loads and stores are slow on some CPUs (AMD's especially): whole vectors
        // take plain ones.
        let masks = ([mask(width), mask(width.saturating_sub(8))], [width >= 8, width >= 16]);
        match width > 8 {
            true => tiles::<2>(&mut block, half, 6, masks),
            false => tiles::<1>(&mut block, half, 12, masks),
        }
    }
}

/// Lanes `0..width` (at most 8) set.
#[target_feature(enable = "avx2")]
unsafe fn mask(width: usize) -> __m256i {
    _mm256_cmpgt_epi32(_mm256_set1_epi32(width.min(8) as i32), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))
}

/// Every tile of the block's columns `half..half + 16`, tallest first.
#[target_feature(enable = "avx2,fma")]
unsafe fn tiles<const V: usize>(
    block: &mut Block<'_>,
    half: usize,
    tallest: usize,
    masks: ([__m256i; 2], [bool; 2]),
) {
    let (a, b, c) = (block.a.as_ptr(), block.b.as_ptr().add(half), block.c.as_mut_ptr().add(half));
    let (a_row, c_row, depth) = (block.a_row, block.c_row, block.depth);
    let rows = block.rows;
    tile_rows!(rows, tallest, [12, 6, 4, 2, 1], i => tile::<_, V>(a.add(i * a_row), a_row, b, c.add(i * c_row), c_row, depth, masks));
}

/// One tile of `R` rows by `V` vectors of 8: loaded from `c`, every multiply-add of the depth
/// chunk in order, stored back.
#[target_feature(enable = "avx2,fma")]
#[inline]
#[allow(clippy::needless_range_loop)] // indices over registers, unrolled by the compiler
unsafe fn tile<const R: usize, const V: usize>(
    a: *const f32,
    a_row: usize,
    b: *const f32,
    c: *mut f32,
    c_row: usize,
    depth: usize,
    (masks, full): ([__m256i; 2], [bool; 2]),
) {
    let mut acc = [[_mm256_setzero_ps(); V]; R];
    for r in 0..R {
        for v in 0..V {
            let at = c.add(r * c_row + 8 * v);
            acc[r][v] = if full[v] { _mm256_loadu_ps(at) } else { _mm256_maskload_ps(at, masks[v]) };
        }
    }
    for p in 0..depth {
        let mut bv = [_mm256_setzero_ps(); V];
        for v in 0..V {
            bv[v] = _mm256_loadu_ps(b.add(p * PANEL + 8 * v));
        }
        for r in 0..R {
            let av = _mm256_broadcast_ss(&*a.add(r * a_row + p));
            for v in 0..V {
                acc[r][v] = _mm256_fmadd_ps(av, bv[v], acc[r][v]);
            }
        }
    }
    for r in 0..R {
        for v in 0..V {
            let at = c.add(r * c_row + 8 * v);
            if full[v] {
                _mm256_storeu_ps(at, acc[r][v]);
            } else {
                _mm256_maskstore_ps(at, masks[v], acc[r][v]);
            }
        }
    }
}
