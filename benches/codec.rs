//! Criterion benchmarks: whole encode and decode on the real-size 24 kHz model (seeded formula
//! weights, no download), its hot layers, and the kernels under them; the codec and the
//! kernels on every kernel path this CPU runs (the path is in each name); time to first audio
//! through the player, cold and warm.
//!
//! `cargo bench --bench codec` (add `-- lstm`, `-- avx2` etc. to pick). For the side-by-side
//! with the PyTorch reference use `encodec bench` and `conversion/bench_reference.py`.

#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::HashMap;

use candle_core::{Device, Tensor};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use encodec::internals::conv::{Conv1d, ConvSpec, ConvStyle, NormType, PadMode};
use encodec::internals::gemm::{matmul_serial, MatMut, MatRef, PackedRhs};
use encodec::internals::lstm::Lstm;
use encodec::internals::{activation, matvec, with_kernels, Weights};
use encodec::{bench, Bandwidth, Encodec, Kernels};

const SECONDS: f64 = 2.0;

fn full_model() -> Encodec {
    let (config, tensors) = common::formula_weights(&common::root().join("tests/fixtures/full-24khz"));
    Encodec::from_tensors(config, tensors).unwrap()
}

fn values(n: usize, salt: u64) -> Vec<f32> {
    (0..n as u64).map(|i| (((i * 2654435761) ^ salt) % 2001) as f32 / 1000.0 - 1.0).collect()
}

fn codec(c: &mut Criterion) {
    let loaded = full_model();
    let pcm = bench::synthetic_speech(SECONDS, 24_000, 1);
    let codes = loaded.encode(&pcm, Bandwidth::Kbps6).unwrap();
    let mut group = c.benchmark_group("codec");
    group.sample_size(10);
    for kernels in Kernels::available() {
        let model = loaded.clone().with_kernels(kernels).unwrap();
        group.bench_function(format!("encode 2 s 24 kHz 6 kbps {kernels}"), |b| {
            b.iter(|| model.encode(&pcm, Bandwidth::Kbps6).unwrap())
        });
        group.bench_function(format!("decode 2 s 24 kHz 6 kbps {kernels}"), |b| {
            b.iter(|| model.decode(&codes).unwrap())
        });
    }
    group.finish();
}

fn layers(c: &mut Criterion) {
    // The 24 kHz model's convolutions: weight norm (folded), causal, reflect padding.
    let style = ConvStyle {
        norm: NormType::WeightNorm,
        causal: true,
        pad_mode: PadMode::Reflect,
        trim_right_ratio: 1.0,
    };
    let tensor = |shape: &[usize], salt| {
        Tensor::from_vec(values(shape.iter().product(), salt), shape, &Device::Cpu).unwrap()
    };
    let mut group = c.benchmark_group("layers");
    group.sample_size(10);

    // The first resnet block's k3 conv: 32 -> 16 channels over one second at 24 kHz.
    let conv_tensors = HashMap::from([
        ("conv.weight".to_string(), tensor(&[16, 32, 3], 1)),
        ("conv.bias".to_string(), tensor(&[16], 2)),
    ]);
    let conv =
        Conv1d::load(&Weights::from_tensors(conv_tensors, &Device::Cpu), style, ConvSpec::new(32, 16, 3))
            .unwrap();
    let x = tensor(&[1, 24_000, 32], 3); // time-major
    group.throughput(Throughput::Elements(24_000));
    group.bench_function("conv 32->16 k3, 1 s", |b| b.iter(|| conv.forward_with(&x, true).unwrap()));

    // The encoder's LSTM: 2 layers of 512 over one second (75 frames).
    let mut lstm_tensors = HashMap::new();
    for l in 0..2 {
        for (name, shape) in [
            ("weight_ih", vec![2048, 512]),
            ("weight_hh", vec![2048, 512]),
            ("bias_ih", vec![2048]),
            ("bias_hh", vec![2048]),
        ] {
            lstm_tensors.insert(format!("lstm.{name}_l{l}"), (tensor(&shape, 4 + l as u64) * 0.04).unwrap());
        }
    }
    let lstm = Lstm::load(&Weights::from_tensors(lstm_tensors, &Device::Cpu), 512, 2).unwrap();
    let x = tensor(&[1, 75, 512], 5);
    group.throughput(Throughput::Elements(75));
    group.bench_function("lstm 512x2, 1 s", |b| b.iter(|| lstm.forward(&x).unwrap()));
    group.finish();
}

fn kernels(c: &mut Criterion) {
    let mut group = c.benchmark_group("kernels");
    let w = values(2048 * 512, 1);
    let w16: Vec<half::bf16> = w.iter().map(|&v| half::bf16::from_f32(v)).collect();
    let x = values(512, 2);
    let mut y = vec![0f32; 2048];
    let (lhs, rhs) = (values(64 * 32, 3), values(32 * 4096, 4));
    let mut out = vec![0f32; 64 * 4096];
    let rhs = PackedRhs::row_major(&rhs, 32, 4096);
    let mut xs = values(1 << 20, 5);
    for k in Kernels::available() {
        let on = |f: &mut dyn FnMut()| with_kernels(k, f);
        group.throughput(Throughput::Elements(2048 * 512));
        group.bench_function(format!("matvec 2048x512 f32 {k}"), |b| {
            b.iter(|| on(&mut || matvec::matvec_add(&w, &x, &mut y)))
        });
        group.bench_function(format!("matvec 2048x512 bf16 {k}"), |b| {
            b.iter(|| on(&mut || matvec::matvec_add(&w16, &x, &mut y)))
        });
        group.throughput(Throughput::Elements(64 * 32 * 4096));
        group.bench_function(format!("gemm 64x32 * 32x4096 {k}"), |b| {
            b.iter(|| {
                on(&mut || {
                    let lhs = MatRef::row_major(&lhs, 64, 32);
                    matmul_serial(MatMut::row_major(&mut out, 64, 4096), lhs, rhs.view(), false)
                })
            })
        });
        group.throughput(Throughput::Elements(1 << 20));
        group.bench_function(format!("elu 1M {k}"), |b| {
            b.iter(|| on(&mut || activation::elu_in_place(&mut xs)))
        });
    }
    group.finish();
}

/// Time to first audio through the player on the real-size 24 kHz model: a Hub-layout folder
/// written once (config.json, model.safetensors of the formula weights), then opening a 2 s
/// `.ecdc` file and reading its first 20 ms, cold (a fresh model store: the 93 MB of weights
/// read, folded and packed) and warm (the model loaded); one thread.
fn first_audio(c: &mut Criterion) {
    use encodec::encodec::Models;
    use encodec::PlayerOptions;
    use std::sync::Arc;

    let fixture = common::root().join("tests/fixtures/full-24khz");
    let (_, tensors) = common::formula_weights(&fixture);
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixture.join("config.json"), dir.path().join("config.json")).unwrap();
    candle_core::safetensors::save(&tensors, dir.path().join("model.safetensors")).unwrap();
    let model = Encodec::from_dir(dir.path()).unwrap();
    let codes = model.encode(&bench::synthetic_speech(SECONDS, 24_000, 1), Bandwidth::Kbps6).unwrap();
    let mut file = Vec::new();
    encodec::ecdc::write(&mut file, &codes, model.config()).unwrap();
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let open_and_read = |models: Arc<Models>| {
        let mut player = PlayerOptions::with_shared_models(models).open(file.clone()).unwrap();
        let mut block = vec![0f32; 480];
        assert_eq!(player.read(&mut block).unwrap(), 480);
    };
    let warm = Arc::new(Models::loaded(model));
    let mut group = c.benchmark_group("first_audio");
    group.sample_size(10);
    group.bench_function("ecdc 24 kHz real-size, cold (load + open + 20 ms)", |b| {
        b.iter(|| pool.install(|| open_and_read(Arc::new(Models::dir(dir.path())))))
    });
    group.bench_function("ecdc 24 kHz real-size, warm (open + 20 ms)", |b| {
        b.iter(|| pool.install(|| open_and_read(warm.clone())))
    });
    group.finish();
}

criterion_group!(benches, codec, layers, kernels, first_audio);
criterion_main!(benches);
