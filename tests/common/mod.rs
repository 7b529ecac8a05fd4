//! Shared by the integration tests: the fixture manifest, golden files, the real-size formula
//! models, and error measures.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};
use encodec::audio::Audio;
use encodec::{Bandwidth, CodeSegment, Codes, Encodec, EncodecConfig, Kernels};
use serde::Deserialize;

/// The keys of a compression's metadata (Rust, JSON, Python, C), each always present.
pub const METADATA_KEYS: [&str; 9] = [
    "codec",
    "level",
    "is_compressed",
    "original_size",
    "compressed_size",
    "ratio",
    "duration_s",
    "truncated",
    "fallback_reason",
];

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The `encodec` command line as a command to run. Under `ENCODEC_TEST_RUNNER` (the aarch64
/// script sets `qemu-aarch64`) it runs through that program: a test under user-mode emulation
/// cannot exec another foreign binary itself.
pub fn cli() -> std::process::Command {
    let binary = env!("CARGO_BIN_EXE_encodec");
    match std::env::var_os("ENCODEC_TEST_RUNNER").filter(|r| !r.is_empty()) {
        Some(runner) => {
            let mut command = std::process::Command::new(runner);
            command.arg(binary);
            command
        }
        None => std::process::Command::new(binary),
    }
}

#[derive(Deserialize)]
pub struct Manifest {
    pub models: Vec<ModelEntry>,
}

#[derive(Deserialize)]
pub struct ModelEntry {
    pub name: String,
    /// A Hub-layout folder of committed weights.
    pub weights: Option<String>,
    /// A folder with config.json and tensors.json (weights computed by formula).
    pub formula: Option<String>,
    pub cases: Vec<Case>,
    /// `.ecdc` files the reference wrote.
    #[serde(default)]
    pub ecdc: Vec<EcdcFixture>,
}

#[derive(Deserialize)]
pub struct EcdcFixture {
    pub case: String,
    pub bandwidth: f32,
    pub file: String,
}

#[derive(Deserialize)]
pub struct Case {
    pub name: String,
    pub file: String,
    pub channels: usize,
    pub samples: usize,
    pub segments: usize,
    pub bandwidths: Vec<f32>,
    pub decoded: Vec<String>,
}

pub fn manifest() -> Manifest {
    let text = std::fs::read_to_string(root().join("tests/fixtures/manifest.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

pub fn model_entry(name: &str) -> ModelEntry {
    manifest().models.into_iter().find(|m| m.name == name).unwrap_or_else(|| panic!("no model {name}"))
}

pub fn load_model(entry: &ModelEntry) -> Encodec {
    match (&entry.weights, &entry.formula) {
        (Some(dir), _) => Encodec::from_dir(root().join(dir)).unwrap(),
        (None, Some(dir)) => {
            let (config, tensors) = formula_weights(&root().join(dir));
            Encodec::from_tensors(config, tensors).unwrap()
        }
        _ => panic!("model {} has neither weights nor formula", entry.name),
    }
}

/// The tensors of a small committed model, for tests that rename or alter them.
pub fn small_tensors(dir: &str) -> (EncodecConfig, HashMap<String, Tensor>) {
    let dir = root().join(dir);
    let config = EncodecConfig::from_file(&dir.join("config.json")).unwrap();
    let tensors = candle_core::safetensors::load(dir.join("model.safetensors"), &Device::Cpu).unwrap();
    (config, tensors)
}

/// Every kernel path this CPU can run, fastest first: the tests that must hold on every CPU run
/// on each and compare their outputs (see `Kernels`).
pub fn kernel_paths() -> Vec<Kernels> {
    Kernels::available()
}

// --- the real-size models: the same formula as conversion/make_fixtures.py --------------------

fn fnv1a64(text: &str) -> u64 {
    text.bytes().fold(0xCBF29CE484222325, |h, b| (h ^ b as u64).wrapping_mul(0x100000001B3))
}

/// Element i: splitmix64(fnv1a64(name) + (i + 1) * golden) -> top 24 bits -> lo + (hi - lo) * u.
pub fn formula_tensor(name: &str, len: usize, lo: f32, hi: f32) -> Vec<f32> {
    let seed = fnv1a64(name);
    (1..=len as u64)
        .map(|i| {
            let mut z = seed.wrapping_add(i.wrapping_mul(0x9E3779B97F4A7C15));
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58476D1CE4E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D049BB133111EB);
            z ^= z >> 31;
            let u = (z >> 40) as f32 / (1u32 << 24) as f32;
            lo + (hi - lo) * u
        })
        .collect()
}

#[derive(Deserialize)]
struct FormulaSpec {
    tensors: Vec<TensorSpec>,
}

#[derive(Deserialize)]
struct TensorSpec {
    name: String,
    shape: Vec<usize>,
    lo: f32,
    hi: f32,
}

pub fn formula_weights(dir: &Path) -> (EncodecConfig, HashMap<String, Tensor>) {
    let config = EncodecConfig::from_file(&dir.join("config.json")).unwrap();
    let spec: FormulaSpec =
        serde_json::from_str(&std::fs::read_to_string(dir.join("tensors.json")).unwrap()).unwrap();
    let tensors = spec
        .tensors
        .into_iter()
        .map(|t| {
            let len = t.shape.iter().product();
            let values = formula_tensor(&t.name, len, t.lo, t.hi);
            (t.name, Tensor::from_vec(values, t.shape, &Device::Cpu).unwrap())
        })
        .collect();
    (config, tensors)
}

// --- golden files ----------------------------------------------------------------------------

pub struct Golden(pub HashMap<String, Tensor>);

pub fn bw_key(bandwidth: Bandwidth) -> String {
    format!("{:.1}", bandwidth.kbps())
}

impl Golden {
    pub fn load(case: &Case) -> Self {
        Self(candle_core::safetensors::load(root().join(&case.file), &Device::Cpu).unwrap())
    }

    pub fn input(&self) -> Vec<Vec<f32>> {
        self.0["input"].to_vec2().unwrap()
    }

    pub fn scales(&self) -> Option<Vec<f32>> {
        self.0.get("scales").map(|t| t.to_vec1().unwrap())
    }

    pub fn codes(&self, bandwidth: Bandwidth, segments: usize, audio_len: usize) -> Codes {
        let scales = self.scales();
        let segments = (0..segments)
            .map(|s| {
                let codes: Vec<Vec<i64>> =
                    self.0[&format!("codes.{}.{s}", bw_key(bandwidth))].to_vec2().unwrap();
                CodeSegment {
                    codes: codes.into_iter().map(|row| row.into_iter().map(|c| c as u32).collect()).collect(),
                    scale: scales.as_ref().map(|s2| s2[s]),
                }
            })
            .collect();
        Codes { audio_len, segments }
    }

    pub fn decoded(&self, bandwidth: Bandwidth) -> Option<Vec<Vec<f32>>> {
        self.0.get(&format!("decoded.{}", bw_key(bandwidth))).map(|t| t.to_vec2().unwrap())
    }
}

/// Max absolute error and SNR (dB) of `ours` against `reference`.
pub fn audio_error(ours: &[Vec<f32>], reference: &[Vec<f32>]) -> (f32, f64) {
    assert_eq!(ours.len(), reference.len(), "channel count");
    let (mut max_abs, mut signal, mut noise) = (0f32, 0f64, 0f64);
    for (a, b) in ours.iter().zip(reference) {
        assert_eq!(a.len(), b.len(), "sample count");
        for (&x, &y) in a.iter().zip(b) {
            max_abs = max_abs.max((x - y).abs());
            signal += (y as f64).powi(2);
            noise += ((x - y) as f64).powi(2);
        }
    }
    let snr = if noise == 0.0 { f64::INFINITY } else { 10.0 * (signal / noise).log10() };
    (max_abs, snr)
}

/// The golden tolerance on decoded audio: 1e-4 max absolute error, or 80 dB SNR.
pub fn within_tolerance(max_abs: f32, snr_db: f64) -> bool {
    max_abs <= 1e-4 || snr_db >= 80.0
}

// --- a stand-in for the Hugging Face Hub on 127.0.0.1 ----------------------------------------

/// Serves `files` (name -> bytes) as every repository's `resolve/main/<name>`, with the
/// headers hf-hub reads (ETag, X-Repo-Commit, Content-Range) and byte ranges. Returns the
/// endpoint URL and a request counter. The server thread ends with the test process.
pub fn serve_hub(
    files: HashMap<String, Vec<u8>>,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{BufRead, BufReader, Write};
    use std::sync::atomic::Ordering;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let requests = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = requests.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            counter.fetch_add(1, Ordering::SeqCst);
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap_or(0);
            let mut range = None;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(value) = line.to_ascii_lowercase().strip_prefix("range: bytes=") {
                    let (a, b) = value.trim().split_once('-').unwrap();
                    range = Some((a.parse::<usize>().unwrap(), b.parse::<usize>().ok()));
                }
            }
            let path = request_line.split_whitespace().nth(1).unwrap_or("").to_string();
            let name = path.rsplit('/').next().unwrap_or("");
            let response = match files.get(name) {
                Some(data) if path.contains("/resolve/main/") => {
                    let (start, end) = range.unwrap_or((0, None));
                    let end = end.unwrap_or(data.len() - 1).min(data.len() - 1);
                    let body = &data[start..=end];
                    let mut head = format!(
                        "HTTP/1.1 206 Partial Content\r\nContent-Length: {}\r\nContent-Range: bytes {start}-{end}/{}\r\n\
                         ETag: \"etag-{name}\"\r\nX-Repo-Commit: 0123456789abcdef0123456789abcdef01234567\r\n\
                         Connection: close\r\n\r\n",
                        body.len(),
                        data.len()
                    )
                    .into_bytes();
                    head.extend_from_slice(body);
                    head
                }
                _ => b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec(),
            };
            let _ = stream.write_all(&response);
        }
    });
    (endpoint, requests)
}

/// The small 24 kHz model's files, by name, for `serve_hub`.
pub fn small_model_files(dir: &str) -> HashMap<String, Vec<u8>> {
    ["config.json", "model.safetensors"]
        .iter()
        .map(|f| (f.to_string(), std::fs::read(root().join(dir).join(f)).unwrap()))
        .collect()
}

/// An endpoint nothing listens on.
pub fn closed_endpoint() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    endpoint
}

/// The SNR of `decoded` against `original` (both read back at the original rate), after the
/// best alignment within `max_shift` samples; returns (shift, SNR dB).
pub fn aligned_snr(original: &Audio, decoded: &Audio, max_shift: usize) -> (usize, f64) {
    assert_eq!(original.sample_rate, decoded.sample_rate);
    let x = &original.channels[0];
    let y = &decoded.channels[0];
    let (mut best, mut best_noise) = (0, f64::INFINITY);
    let span = x.len().saturating_sub(max_shift);
    for shift in 0..=max_shift {
        let noise: f64 =
            (0..span).step_by(3).filter_map(|i| y.get(i + shift).map(|&b| ((x[i] - b) as f64).powi(2))).sum();
        if noise < best_noise {
            (best, best_noise) = (shift, noise);
        }
    }
    let signal: f64 = (0..span).step_by(3).map(|i| (x[i] as f64).powi(2)).sum();
    (best, 10.0 * (signal / best_noise).log10())
}
