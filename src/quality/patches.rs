//! Which parts of the reference are compared, and with what: reference patches (every patch in
//! audio mode, those with voice activity in speech mode), their best degraded matches found by
//! dynamic programming over the spectrogram, and each match re-aligned in the time domain.

use super::gammatone::{to_comparable_db, FilterBank};
use super::matrix::Matrix;
use super::nsim::{patch_similarity, PatchSimilarity};
use super::signal::{align_and_truncate, Signal};

/// Speech mode's RMS voice-activity detector: 16-bit RMS under this is silence...
const VAD_RMS_THRESHOLD: f64 = 5000.0;
/// ...and a chunk is inactive only after this many silent chunks in a row.
const VAD_SILENT_CHUNKS: usize = 3;

/// Audio mode: patches evenly spaced from half a patch in (an error when there is not room for
/// one and a half).
pub(crate) fn every_patch(columns: usize, patch: usize) -> Option<Vec<usize>> {
    let first = patch / 2;
    if columns < patch + first {
        return None;
    }
    let end = match first < columns - patch {
        true => columns - patch,
        false => first + 1,
    };
    Some((first..end).step_by(patch).map(|i| i - 1).collect())
}

/// Speech mode: the patches (of `patch` columns, from column `patch / 2 - 1`) in which the
/// reference, peak-normalised, has voice activity in at least one hop-long chunk.
pub(crate) fn voiced_patches(reference: &Signal, columns: usize, patch: usize, hop: usize) -> Vec<usize> {
    let peak = reference.samples.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let first = patch / 2 - 1;
    let count = columns.saturating_sub(first) / patch;
    // The reference reads the samples from the first patch's column number, as a sample index.
    let start = first.min(reference.samples.len());
    let end = (first + count * patch * hop).min(reference.samples.len());
    let chunk_active: Vec<bool> = reference.samples[start..end]
        .chunks_exact(hop)
        .map(|chunk| {
            let power = chunk
                .iter()
                .map(|&v| {
                    let normalised = if peak == 0.0 { 0.0 } else { v / peak };
                    let int = (normalised * 32768.0).clamp(-32768.0, 32767.0).trunc();
                    int * int
                })
                .sum::<f64>();
            (power / hop as f64).sqrt() >= VAD_RMS_THRESHOLD
        })
        .collect();
    let mut active = vec![true; VAD_SILENT_CHUNKS - 1];
    for i in VAD_SILENT_CHUNKS - 1..chunk_active.len() {
        active.push((0..VAD_SILENT_CHUNKS).any(|j| chunk_active[i - j]));
    }
    (0..count)
        .filter(|i| {
            let chunks = &active[(i * patch).min(active.len())..((i + 1) * patch).min(active.len())];
            chunks.iter().any(|&a| a)
        })
        .map(|i| first + i * patch)
        .collect()
}

/// The `patch`-column window of `spectrogram` from column `start` (may be out of range:
/// zeros there).
fn window(spectrogram: &Matrix, start: i64, patch: usize) -> Matrix {
    let mut out = Matrix::zeros(spectrogram.rows, patch);
    for c in 0..patch {
        let column = start + c as i64;
        if column >= 0 && (column as usize) < spectrogram.cols {
            for r in 0..spectrogram.rows {
                out.set(r, c, spectrogram.get(r, column as usize));
            }
        }
    }
    out
}

/// The best-matching degraded patch for each reference patch, in order: the path through
/// the degraded spectrogram that maximises the summed similarity (offsets never go back),
/// each offset within `radius` patches of its reference patch.
pub(crate) fn best_matches(
    reference: &Matrix,
    starts: &[usize],
    degraded: &Matrix,
    patch: usize,
    radius: usize,
    frame_s: f64,
) -> Option<Vec<PatchSimilarity>> {
    let frames = degraded.cols;
    let half = patch / 2;
    let mut count = starts.len();
    while count > 0 && starts[count - 1] as i64 - half as i64 > frames as i64 {
        count -= 1;
    }
    if count == 0 || frames == 0 {
        return None;
    }
    let search = radius * patch;
    let reference_patches: Vec<Matrix> =
        starts[..count].iter().map(|&s| window(reference, s as i64, patch)).collect();
    let degraded_patches: Vec<Matrix> = (0..frames).map(|o| window(degraded, o as i64, patch)).collect();
    let mut score = vec![vec![0.0f64; frames]; count];
    let mut back = vec![vec![-1i64; frames]; count];
    for p in 0..count {
        let low = starts[p].saturating_sub(search);
        let high = (starts[p] + search).min(frames - 1);
        for offset in low..=high {
            let mut value = patch_similarity(&reference_patches[p], &degraded_patches[offset]).similarity;
            let mut from = -1i64;
            if p > 0 {
                let lower = starts[p - 1].saturating_sub(search);
                let mut highest = f64::NEG_INFINITY;
                for previous in (lower..offset).rev() {
                    if score[p - 1][previous] > highest {
                        highest = score[p - 1][previous];
                        from = previous as i64;
                    }
                }
                value += highest;
                if score[p - 1][offset] > value {
                    value = score[p - 1][offset];
                    from = offset as i64;
                }
            }
            score[p][offset] = value;
            back[p][offset] = from;
        }
    }
    let last = count - 1;
    let low = starts[last].saturating_sub(search);
    let high = (starts[last] + search).min(frames - 1);
    let mut offset = low as i64;
    let mut highest = f64::NEG_INFINITY;
    for (o, &value) in score[last].iter().enumerate().take(high + 1).skip(low) {
        if value > highest {
            highest = value;
            offset = o as i64;
        }
    }
    // The reference indexes rows from the end for an offset of -1 (a path that left the
    // window); the same cell is read here so that scores agree.
    let at = |row: &Vec<i64>, o: i64| row[o.rem_euclid(frames as i64) as usize];
    let patch_s = frame_s * patch as f64;
    let mut matches = vec![PatchSimilarity::default(); count];
    for p in (0..count).rev() {
        let mut found = patch_similarity(&reference_patches[p], &window(degraded, offset, patch));
        if offset == at(&back[p], offset) {
            // A patch that kept its predecessor's offset counts as unmatched.
            found.similarity = 0.0;
            found.band_means = vec![0.0; reference.rows];
        } else {
            found.degraded_start = offset as f64 * frame_s;
            found.degraded_end = found.degraded_start + patch_s;
        }
        found.reference_start = starts[p] as f64 * frame_s;
        found.reference_end = found.reference_start + patch_s;
        matches[p] = found;
        offset = at(&back[p], offset);
    }
    Some(matches)
}

/// Each match re-aligned on the samples and re-measured on spectrograms rebuilt from them;
/// the better of the two is kept.
pub(crate) fn realign(
    matches: Vec<PatchSimilarity>,
    reference: &Signal,
    degraded: &Signal,
    bank: &FilterBank,
) -> Vec<PatchSimilarity> {
    let size = bank.frames().size;
    matches
        .into_iter()
        .map(|found| {
            if found.degraded_start == found.degraded_end && found.degraded_start == 0.0 {
                return found;
            }
            let r = reference.slice(found.reference_start, found.reference_end);
            let d = degraded.slice(found.degraded_start, found.degraded_end);
            if r.samples.is_empty() || d.samples.is_empty() {
                return found;
            }
            let (r, d, lag) = align_and_truncate(&r, &d);
            if r.samples.len() <= size || d.samples.len() <= size {
                return found;
            }
            let (Some(mut rs), Some(mut ds)) = (bank.spectrogram(&r), bank.spectrogram(&d)) else {
                return found;
            };
            to_comparable_db(&mut rs, &mut ds);
            let mut better = patch_similarity(&rs, &ds);
            if better.similarity < found.similarity {
                return found;
            }
            (better.reference_start, better.degraded_start) = match lag > 0.0 {
                true => (found.reference_start + lag, found.degraded_start),
                false => (found.reference_start, found.degraded_start - lag),
            };
            better.reference_end = better.reference_start + r.duration();
            better.degraded_end = better.degraded_start + d.duration();
            better
        })
        .collect()
}
