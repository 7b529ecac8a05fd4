//! Golden tests: codes, scales and decodes against Meta's `encodec` 0.1.1 (fixtures made by
//! conversion/make_fixtures.py), on every kernel path this CPU runs, whose decodes must also
//! agree with each other bit for bit. Run with `--nocapture` to see the measured worst cases.

mod common;

use common::{audio_error, kernel_paths, load_model, model_entry, within_tolerance, Golden, ModelEntry};
use encodec::{Bandwidth, Encodec, Kernels};

fn check_model(name: &str, min_cases: usize) {
    let entry = model_entry(name);
    assert!(entry.cases.len() >= min_cases, "{name}: only {} cases", entry.cases.len());
    let loaded = load_model(&entry);
    let mut first_decodes: Option<(Kernels, Vec<Vec<Vec<f32>>>)> = None;
    for kernels in kernel_paths() {
        let model = loaded.clone().with_kernels(kernels).unwrap();
        let decodes = check_on_path(&model, &entry, name, kernels);
        match &first_decodes {
            None => first_decodes = Some((kernels, decodes)),
            Some((first, expected)) => {
                assert!(decodes == *expected, "{name}: decodes on {kernels} differ from those on {first}")
            }
        }
    }
}

/// The golden checks on one path; returns every decode, in order.
fn check_on_path(model: &Encodec, entry: &ModelEntry, name: &str, kernels: Kernels) -> Vec<Vec<Vec<f32>>> {
    let name = &format!("{name} [{kernels}]");
    let mut all_decodes = Vec::new();
    let (mut compared_codes, mut decodes) = (0usize, 0usize);
    let (mut worst_abs, mut worst_snr, mut worst_scale) = (0f32, f64::INFINITY, 0f32);
    for case in &entry.cases {
        let golden = Golden::load(case);
        let input = golden.input();
        assert_eq!((input.len(), input[0].len()), (case.channels, case.samples), "{}", case.name);
        let bandwidths: Vec<Bandwidth> =
            case.bandwidths.iter().map(|&b| Bandwidth::from_kbps(b).unwrap()).collect();
        assert_eq!(bandwidths, model.bandwidths(), "{name}/{}: every bandwidth has golden codes", case.name);
        for &bandwidth in &bandwidths {
            let expected = golden.codes(bandwidth, case.segments, case.samples);
            let codes = model.encode(&input, bandwidth).unwrap();
            assert_eq!(codes.segments.len(), expected.segments.len(), "{name}/{} segments", case.name);
            for (s, (ours, theirs)) in codes.segments.iter().zip(&expected.segments).enumerate() {
                assert_eq!(ours.codes.len(), bandwidth.num_codebooks(model.config()).unwrap());
                if let Some(mismatch) = first_mismatch(&ours.codes, &theirs.codes) {
                    panic!(
                        "{name}/{} at {} kbps, segment {s}: codes differ at {mismatch:?}",
                        case.name,
                        bandwidth.kbps()
                    );
                }
                compared_codes += ours.codes.iter().map(Vec::len).sum::<usize>();
                if let (Some(a), Some(b)) = (ours.scale, theirs.scale) {
                    let rel = (a - b).abs() / b.abs().max(f32::MIN_POSITIVE);
                    worst_scale = worst_scale.max(rel);
                    // f32 precision: at most one ulp apart.
                    assert!(a.to_bits().abs_diff(b.to_bits()) <= 1, "{name}/{} scale {a} vs {b}", case.name);
                }
                assert_eq!(ours.scale.is_some(), model.config().normalize);
            }
            if let Some(reference) = golden.decoded(bandwidth) {
                // Decode the reference's codes, so the decoder is checked on its own.
                let decoded = model.decode(&expected).unwrap();
                let (max_abs, snr) = audio_error(&decoded, &reference);
                assert!(
                    within_tolerance(max_abs, snr),
                    "{name}/{} at {} kbps: max abs error {max_abs:e}, SNR {snr:.1} dB",
                    case.name,
                    bandwidth.kbps()
                );
                worst_abs = worst_abs.max(max_abs);
                worst_snr = worst_snr.min(snr);
                decodes += 1;
                all_decodes.push(decoded);
            }
        }
    }
    assert!(decodes >= entry.cases.len(), "{name}: too few golden decodes ({decodes})");
    println!(
        "{name}: {compared_codes} codes identical; {decodes} decodes, worst max abs error {worst_abs:.2e}, \
         worst SNR {worst_snr:.1} dB; worst scale relative error {worst_scale:.1e}"
    );
    all_decodes
}

fn first_mismatch(
    ours: &[Vec<u32>],
    theirs: &[Vec<u32>],
) -> Option<(usize, usize, Option<u32>, Option<u32>)> {
    if ours.len() != theirs.len() {
        return Some((ours.len(), theirs.len(), None, None));
    }
    for (k, (a, b)) in ours.iter().zip(theirs).enumerate() {
        for t in 0..a.len().max(b.len()) {
            if a.get(t) != b.get(t) {
                return Some((k, t, a.get(t).copied(), b.get(t).copied()));
            }
        }
    }
    None
}

#[test]
fn small_24khz_matches_reference() {
    check_model("small-24khz", 7);
}

#[test]
fn small_48khz_matches_reference() {
    check_model("small-48khz", 7);
}

#[test]
fn full_size_24khz_matches_reference() {
    check_model("full-24khz", 1);
}

#[test]
fn full_size_48khz_matches_reference() {
    check_model("full-48khz", 1);
}
