#!/usr/bin/env python3
"""Golden fixtures for the Rust tests, produced by Meta's reference `encodec` 0.1.1.

    /opt/refenv/bin/python conversion/make_fixtures.py        # from the repository root

Writes (all deterministic for a given torch build; see conversion/requirements.txt):

  weights/test-24khz/, weights/test-48khz/   small seeded models in the Hub layout
                                             (config.json + model.safetensors)
  tests/fixtures/<model>/<case>.safetensors  per case: `input` [C, T] f32, `codes.<bw>.<seg>`
                                             [K, F] i64 at every bandwidth, `scales` [S] f32
                                             (48 kHz), `decoded.<bw>` [C, T] f32
  tests/fixtures/full-*/                     real-size models defined by a formula (weights too
                                             big to commit): config.json + tensors.json
  tests/fixtures/manifest.json               what the Rust golden tests iterate over
  tests/fixtures/samples/speech-24khz.wav    the README's sample (espeak-ng speech, 16-bit)
  tests/fixtures/samples/speech-44k-stereo.* 1 s of it as WAV, MP3, M4A (AAC), FLAC, Ogg Vorbis
  tests/fixtures/small-*/ecdc/*.ecdc         files written by the reference's `compress`
  tests/fixtures/convert/                    Meta-format checkpoints (tiny model and LM, broken
                                             ones), convert_checkpoint.py's outputs, golden codes

The small models keep the real architecture knobs (ratios 8,5,4,2, causal/non-causal,
weight/time-group norm, 2 LSTM layers, reflect padding, 1024-entry codebooks so bandwidth ->
codebook counts and 10-bit packing are those of the real models) with 4 filters and 8-dim codes.
Needs `espeak-ng` (the speech clip) and `ffmpeg` (compressed samples) on PATH.
"""

import importlib
import json
import math
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
from safetensors.torch import save_file
from encodec.utils import convert_audio

import hub_layout as hl

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
SPEECH_TEXT = ("The quick brown fox jumps over the lazy dog. "
               "Neural audio codecs squeeze an hour of speech into a few megabytes.")
# Cases longer than this many samples (all channels) store decodes only at the lowest and
# highest bandwidth, to keep the committed fixtures to a few MB.
FULL_DECODE_LIMIT = 16_000


# ---------------------------------------------------------------------------------------------
# Test signals
# ---------------------------------------------------------------------------------------------

def speech_22k() -> np.ndarray:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "speech.wav"
        subprocess.run(["espeak-ng", "-s", "150", "-w", str(path), SPEECH_TEXT], check=True)
        wav, sr = sf.read(path, dtype="float32")
    assert sr == 22050, sr
    return wav


def to_rate(wav: np.ndarray, sr: int, target_sr: int, channels: int) -> torch.Tensor:
    """Resamples like the reference's `convert_audio` and puts the samples on the 16-bit grid."""
    x = torch.from_numpy(np.atleast_2d(wav).astype(np.float32))
    x = convert_audio(x, sr, target_sr, channels)
    return torch.round(x.clamp(-1, 1) * 32767) / 32767


def music_like(sr: int, seconds: float, channels: int, seed: int) -> torch.Tensor:
    """Four harmonic notes with attack/decay envelopes, a little noise, panned per note."""
    rng = np.random.default_rng(seed)
    n = int(sr * seconds)
    t = np.arange(n) / sr
    out = np.zeros((channels, n))
    notes = [220.0, 277.18, 329.63, 440.0]
    for i, f0 in enumerate(notes):
        start = int(i * n / len(notes))
        tt = t[start:] - t[start]
        env = np.minimum(tt / 0.01, 1.0) * np.exp(-3.0 * tt)
        tone = sum(np.sin(2 * np.pi * f0 * h * tt + h) / h for h in range(1, 6)) * env * 0.3
        pan = [0.5 + 0.4 * math.sin(i), 0.5 - 0.4 * math.sin(i)] if channels == 2 else [1.0]
        for c in range(channels):
            out[c, start:] += pan[c] * tone
    out += 0.01 * rng.standard_normal(out.shape)
    return torch.round(torch.from_numpy(out).float().clamp(-1, 1) * 32767) / 32767


def clipped(sr: int, seconds: float, channels: int) -> torch.Tensor:
    t = torch.arange(int(sr * seconds)) / sr
    sig = [3.0 * torch.sin(2 * math.pi * 220 * t), 3.0 * torch.sign(torch.sin(2 * math.pi * 97 * t))]
    return torch.stack(sig[:channels]).clamp(-1.0, 1.0)


def cases_for(preset: str, hop: int, speech: np.ndarray) -> dict:
    p = hl.PRESETS[preset]
    sr, ch = p["sample_rate"], p["channels"]
    sp = to_rate(speech, 22050, sr, 1)
    if ch == 2:  # a real stereo image: the right channel is delayed and quieter
        right = torch.cat([torch.zeros(1, 11), 0.7 * sp[:, :-11]], dim=1)
        sp = torch.cat([sp, right], dim=0)
    start = int(0.3 * sr)
    speech_len = int(1.5 * sr) if ch == 1 else int(1.05 * sr)  # 48 kHz: two segments
    rng = np.random.default_rng(7)
    one = torch.from_numpy(rng.uniform(-0.5, 0.5, (ch, hop + 1)).astype(np.float32))
    return {
        "speech": sp[:, start:start + speech_len],
        "music": music_like(sr, 0.5 if ch == 1 else 0.3, ch, seed=3),
        "one_sample": one[:, :1],
        "frame_minus_one": one[:, :hop - 1],
        "one_frame": one[:, :hop],
        "silence": torch.zeros(ch, int(0.1 * sr)),
        "clipped": clipped(sr, 0.3 if ch == 1 else 0.15, ch),
    }


# ---------------------------------------------------------------------------------------------
# Running the reference
# ---------------------------------------------------------------------------------------------

def bw_key(bw: float) -> str:
    return f"{float(bw):.1f}"


@torch.no_grad()
def golden(model, x: torch.Tensor) -> dict:
    out = {"input": x.contiguous()}
    scales = None
    decodes = [bw_key(b) for b in model.target_bandwidths]
    if x.numel() > FULL_DECODE_LIMIT:
        decodes = [decodes[0], decodes[-1]]
    for bw in model.target_bandwidths:
        model.set_target_bandwidth(bw)
        frames = model.encode(x[None])
        for s, (codes, scale) in enumerate(frames):
            out[f"codes.{bw_key(bw)}.{s}"] = codes[0].to(torch.int64).contiguous()
        if model.normalize:
            these = torch.cat([scale.view(1) for _, scale in frames])
            assert scales is None or torch.equal(scales, these)
            scales = these
        if bw_key(bw) in decodes:
            out[f"decoded.{bw_key(bw)}"] = model.decode(frames)[0, :, :x.shape[-1]].contiguous()
    if scales is not None:
        out["scales"] = scales.contiguous()
    return out


# A code is only reproducible if the decision survives both float rounding of the formula
# |x|^2 - 2 x.e + |e|^2 (~1e-7 * (|x|^2 + |e|^2); closer calls are decided by the order of a
# BLAS's sums) and the encoder's own rounding, which perturbs the embedding by ~1e-6 of its norm
# and moves the residual with it (which shifts the gap by up to 2 |delta| |e_best - e_second|).
# Fixtures keep every decision clear of both by this relative margin.
MIN_MARGIN = 1e-5


def _segments(model, x: torch.Tensor):
    """The reference's segments of `x`, normalised as its encoder sees them."""
    for offset in range(0, x.shape[-1], model.segment_stride or x.shape[-1]):
        seg = x[None, :, offset:offset + (model.segment_length or x.shape[-1])]
        if model.normalize:
            seg = seg / (1e-8 + seg.mean(dim=1, keepdim=True).pow(2).mean(dim=2, keepdim=True).sqrt())
        yield seg


@torch.no_grad()
def close_calls(model, x: torch.Tensor, margin: float):
    """Every code decision at the top bandwidth whose margin, gap / (2 |e_b - e_s| |x0| +
    |r|^2 + |e|^2 of the contenders), in float64 along the reference's own residuals, is below
    `margin` (x0: the frame's embedding, r: its residual at this stage): yields
    (margin, layer, runner-up index); last, the smallest margin overall."""
    worst = math.inf
    for seg in _segments(model, x):
        residual = model.encoder(seg)[0].T
        x0 = residual.double().norm(dim=1)
        for layer in model.quantizer.vq.layers:
            r, e = residual.double(), layer._codebook.embed.double()
            dist = (r[:, None, :] - e[None]).pow(2).sum(-1)
            two = dist.topk(2, dim=1, largest=False)
            contenders = e.pow(2).sum(1)[two.indices].max(dim=1).values
            spread = (e[two.indices[:, 0]] - e[two.indices[:, 1]]).norm(dim=1)
            sensitivity = 2 * spread * x0 + r.pow(2).sum(1) + contenders
            rel = (two.values[:, 1] - two.values[:, 0]) / sensitivity
            worst = min(worst, rel.min().item())
            for row in torch.nonzero(rel < margin).flatten().tolist():
                yield rel[row].item(), layer, two.indices[row, 1].item()
            residual = residual - layer.decode(layer.encode(residual.T[None]))[0].T
    yield worst, None, None


def decision_margin(model, x: torch.Tensor) -> float:
    return min(m for m, *_ in close_calls(model, x, 0.0))


@torch.no_grad()
def separate_close_calls(model, signals, seed: int, rounds: int = 50) -> None:
    """Kicks each runner-up entry that is nearly as close as the winner by a random step at its
    layer's scale (the test model's codebooks are free; this keeps fixture decisions clear)."""
    gen = torch.Generator().manual_seed(seed)
    for _ in range(rounds):
        moved = 0
        for x in signals:
            for _, layer, runner_up in close_calls(model, x, 2 * MIN_MARGIN):
                if layer is None:
                    continue
                embed = layer._codebook.embed
                step = 0.5 * embed.pow(2).mean().sqrt()
                embed[runner_up] += step * torch.randn(embed.shape[1], generator=gen)
                moved += 1
        if moved == 0:
            return
    raise RuntimeError("could not separate the codebooks' close calls")


@torch.no_grad()
def fill_codebooks(model, signals, seed: int, noise: float = 1.0, shrink: float = 0.05) -> None:
    """A fresh reference model has all-zero codebooks: fill each residual stage with encoder
    outputs (plus noise) of the fixture signals, so codes are diverse. Entries are shrunk so
    that, as in a trained model, each stage removes only part of the residual: 1024 entries in
    8 dimensions would otherwise shrink it so fast that deep stages decide on rounding noise."""
    gen = torch.Generator().manual_seed(seed)
    embs = []
    for x in signals:
        x = x[None]
        if model.normalize:
            x = x / (1e-8 + x.mean(dim=1, keepdim=True).pow(2).mean(dim=2, keepdim=True).sqrt())
        embs.append(model.encoder(x)[0].T)
    residual = torch.cat(embs)  # [N, D]
    for layer in model.quantizer.vq.layers:
        cb = layer._codebook
        pick = torch.randint(len(residual), (cb.codebook_size,), generator=gen)
        # Noise on the scale of the residual itself (offset included): a small random encoder
        # maps every input into a narrow ball, and entries spread only across that ball would
        # all be near-equidistant, leaving codes to float rounding.
        spread = residual.pow(2).mean().sqrt()
        entries = shrink * (residual[pick] + noise * spread * torch.randn(residual[pick].shape, generator=gen))
        cb.embed.copy_(entries)
        cb.embed_avg.copy_(entries)
        cb.inited.fill_(1.0)
        codes = layer.encode(residual.T[None])
        residual = residual - layer.decode(codes)[0].T


def randomise_norms(model, gen: torch.Generator) -> None:
    """Default init makes weight-norm gains equal the weight norms and GroupNorm an identity;
    perturb both so the Rust side's folding and affine terms are really exercised."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("weight_g"):
                p.mul_(torch.empty(p.shape).uniform_(0.8, 1.6, generator=gen))
            elif ".norm." in name:
                p.add_(torch.empty(p.shape).uniform_(-0.2, 0.2, generator=gen))


@torch.no_grad()
def round_to_f16(model) -> None:
    """Rounds every weight to the nearest f16 value, so the committed test models are stored as
    f16 without loss (half the bytes). The reference computes the goldens on exactly these
    values, and the Rust loader up-casts them to the same f32."""
    for t in list(model.parameters()) + list(model.buffers()):
        if t.is_floating_point():
            t.copy_(t.to(torch.float16).to(torch.float32))


def write_hub_folder(model, preset: str, folder: Path, n_filters: int, dimension: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    config = hl.hub_config(preset, n_filters=n_filters, dimension=dimension)
    config["torch_dtype"] = "float16"
    (folder / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    tensors = {k: v.to(torch.float16) for k, v in hl.hub_state_dict(model).items()}
    save_file(tensors, str(folder / "model.safetensors"), metadata={"format": "pt"})


@torch.no_grad()
def check_with_transformers(model, folder: Path, x: torch.Tensor) -> None:
    """The written folder must load in transformers and compute what Meta's model computes."""
    from transformers import EncodecModel as HfEncodec
    hf, info = HfEncodec.from_pretrained(folder, output_loading_info=True, dtype=torch.float32)
    hf.eval()
    missing = [k for k in info["missing_keys"] if not k.endswith(("embed_avg", "cluster_size", "inited"))]
    assert not missing and not info["unexpected_keys"], (missing, info["unexpected_keys"])
    emb = model.encoder(x[None])
    torch.testing.assert_close(hf.encoder(x[None]), emb, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(hf.decoder(emb), model.decoder(emb), rtol=1e-5, atol=1e-5)
    if model.segment is None:
        for bw in model.target_bandwidths:
            model.set_target_bandwidth(bw)
            ours = model.encode(x[None])[0][0]
            theirs = hf.encode(x[None], bandwidth=bw).audio_codes[0]
            assert torch.equal(ours, theirs), f"transformers codes differ at {bw} kbps"


def save_case(path: Path, tensors: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(path))


@torch.no_grad()
def ecdc_files(model, preset: str, cases: dict) -> list:
    """`.ecdc` files written by the reference's own `compress` (no language model), and read
    back by its `decompress` (pointed at this model instead of the published one)."""
    ec = importlib.import_module("encodec.compress")  # the package re-exports a function of that name
    out = []
    chosen = [("speech", bw) for bw in model.target_bandwidths]
    chosen += [(name, 6.0) for name in ("one_sample", "frame_minus_one", "one_frame", "silence")]
    ec.MODELS[model.name] = lambda: model
    for name, bw in chosen:
        model.set_target_bandwidth(bw)
        data = ec.compress(model, cases[name], use_lm=False)
        back, _ = ec.decompress(data)
        assert back.shape == cases[name].shape
        rel = f"tests/fixtures/small-{preset}/ecdc/{name}.{bw_key(bw)}.ecdc"
        (ROOT / rel).parent.mkdir(parents=True, exist_ok=True)
        (ROOT / rel).write_bytes(data)
        out.append({"case": name, "bandwidth": float(bw), "file": rel})
    return out


def describe(model, name: str, x: torch.Tensor, tensors: dict, rel: str) -> dict:
    segs = len([k for k in tensors if k.startswith(f"codes.{bw_key(model.target_bandwidths[0])}.")])
    return {"name": name, "file": rel, "channels": x.shape[0], "samples": x.shape[-1],
            "segments": segs, "bandwidths": [float(b) for b in model.target_bandwidths],
            "decoded": sorted(k.split(".", 1)[1] for k in tensors if k.startswith("decoded."))}


# ---------------------------------------------------------------------------------------------
# Small committed models
# ---------------------------------------------------------------------------------------------

def small_model(preset: str, seed: int, speech: np.ndarray) -> dict:
    n_filters, dimension = 4, 8
    torch.manual_seed(seed)
    model = hl.build_meta_model(preset, n_filters=n_filters, dimension=dimension,
                                name=f"encodec_{preset}")
    randomise_norms(model, torch.Generator().manual_seed(seed + 1))
    cases = cases_for(preset, model.encoder.hop_length, speech)
    fill_codebooks(model, list(cases.values()), seed=seed + 2)
    for attempt in range(5):  # rounding can bring a decision back near a tie: separate again
        separate_close_calls(model, list(cases.values()), seed=seed + 3 + attempt)
        round_to_f16(model)
        if min(decision_margin(model, x) for x in cases.values()) > MIN_MARGIN:
            break
    folder = ROOT / "weights" / f"test-{preset}"
    write_hub_folder(model, preset, folder, n_filters, dimension)
    check_with_transformers(model, folder, cases["speech"][:, :9600])
    entry = {"name": f"small-{preset}", "weights": str(folder.relative_to(ROOT)), "cases": [],
             "ecdc": ecdc_files(model, preset, cases)}
    for name, x in cases.items():
        margin = decision_margin(model, x)
        assert margin > MIN_MARGIN, f"small-{preset} {name}: codebook decision margin {margin:.2e}"
        tensors = golden(model, x)
        rel = f"tests/fixtures/small-{preset}/{name}.safetensors"
        save_case(ROOT / rel, tensors)
        entry["cases"].append(describe(model, name, x, tensors, rel))
        codes = tensors[f"codes.{bw_key(model.target_bandwidths[-1])}.0"]
        print(f"small-{preset} {name}: {x.shape[-1]} samples, {codes.unique().numel()} distinct codes, "
              f"decision margin {margin:.1e}")
    return entry


# ---------------------------------------------------------------------------------------------
# Real-size models from a formula both Python and Rust compute bit for bit
# ---------------------------------------------------------------------------------------------

def fnv1a64(text: str) -> int:
    h = 0xCBF29CE484222325
    for b in text.encode():
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def formula_tensor(name: str, shape, lo: float, hi: float) -> np.ndarray:
    """Element i of tensor `name`: splitmix64(fnv1a64(name) + (i + 1) * golden) -> top 24 bits
    -> u in [0, 1) -> lo + (hi - lo) * u, all in f32 (exact in both languages)."""
    n = int(np.prod(shape))
    i = np.arange(1, n + 1, dtype=np.uint64)
    z = np.uint64(fnv1a64(name)) + i * np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    u = (z >> np.uint64(40)).astype(np.float32) / np.float32(1 << 24)
    lo32, hi32 = np.float32(lo), np.float32(hi)
    return (lo32 + (hi32 - lo32) * u).reshape(shape)


def formula_range(name: str, shape) -> tuple:
    if name.endswith("weight_g") or name.endswith("norm.weight"):
        return 0.8, 1.2
    if name.endswith("weight_v"):
        return -1.0, 1.0
    if ".lstm." in name:
        a = 1.0 / math.sqrt(shape[-1])
        return -a, a
    if name.endswith("bias"):
        return -0.05, 0.05
    if name.endswith("conv.weight"):  # plain (time-group-norm) conv: unit gain
        fan_in = shape[1] * shape[2]
        a = math.sqrt(3.0 / fan_in)
        return -a, a
    raise ValueError(f"no formula range for {name}")


def f32(v: float) -> float:
    return float(np.float32(v))


@torch.no_grad()
def full_model(preset: str, speech: np.ndarray, seconds: float) -> dict:
    model = hl.build_meta_model(preset, name=f"encodec_{preset}")
    shapes = {k: tuple(v.shape) for k, v in hl.hub_state_dict(model).items()}
    specs, tensors = [], {}
    for name, shape in shapes.items():
        if name.endswith("codebook.embed"):
            continue
        lo, hi = map(f32, formula_range(name, shape))
        specs.append({"name": name, "shape": list(shape), "lo": lo, "hi": hi})
        tensors[name] = torch.from_numpy(formula_tensor(name, shape, lo, hi))
    hl.load_hub_state_dict(model, tensors)
    x = cases_for(preset, model.encoder.hop_length, speech)["speech"][:, :int(seconds * model.sample_rate)]
    xn = x[None]
    if model.normalize:
        xn = xn / (1e-8 + xn.mean(dim=1, keepdim=True).pow(2).mean(dim=2, keepdim=True).sqrt())
    emb_std = model.encoder(xn).std().item()
    c = f32(float(f"{emb_std * math.sqrt(3):.2g}"))  # codebooks on the embeddings' scale
    for name, shape in shapes.items():
        if name.endswith("codebook.embed"):
            specs.append({"name": name, "shape": list(shape), "lo": -c, "hi": c})
            tensors[name] = torch.from_numpy(formula_tensor(name, shape, -c, c))
    hl.load_hub_state_dict(model, tensors)
    folder = FIXTURES / f"full-{preset}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(hl.hub_config(preset), indent=2) + "\n")
    (folder / "tensors.json").write_text(json.dumps({"formula": formula_tensor.__doc__.strip(),
                                                     "tensors": specs}, indent=1) + "\n")
    margin = decision_margin(model, x)
    assert margin > MIN_MARGIN, f"full-{preset}: codebook decision margin {margin:.2e}"
    out = golden(model, x)
    rel = f"tests/fixtures/full-{preset}/speech.safetensors"
    save_case(ROOT / rel, out)
    codes = out[f"codes.{bw_key(model.target_bandwidths[-1])}.0"]
    dec = out[f"decoded.{bw_key(model.target_bandwidths[-1])}"]
    print(f"full-{preset}: emb std {emb_std:.3g}, codebook range ±{c}, "
          f"{codes.unique().numel()} distinct codes, decision margin {margin:.1e}, "
          f"decode rms {dec.pow(2).mean().sqrt():.3g}")
    return {"name": f"full-{preset}", "formula": f"tests/fixtures/full-{preset}",
            "cases": [describe(model, "speech", x, out, rel)]}


def write_sample(speech: np.ndarray) -> None:
    """The bundled sample for the README's first command: 4 s of the speech at 24 kHz, 16-bit."""
    x = to_rate(speech, 22050, 24_000, 1)
    path = FIXTURES / "samples" / "speech-24khz.wav"
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, x[0, :4 * 24_000].numpy(), 24_000, subtype="PCM_16")


def write_compressed_samples() -> None:
    """1 s of the sample as stereo 44.1 kHz in the formats users cache (for the audio reader's
    tests); needs `ffmpeg` with libmp3lame and libvorbis. The FLAC one is lossless, so it
    decodes to exactly the 16-bit source, which is also written as `speech-44k-stereo.wav`."""
    samples = FIXTURES / "samples"
    source = samples / "speech-44k-stereo.wav"
    sub = ["ffmpeg", "-v", "error", "-y"]
    exact = ["-fflags", "+bitexact", "-flags:a", "+bitexact"]  # no random Ogg serials, no version tags
    subprocess.run(sub + ["-i", str(samples / "speech-24khz.wav"), "-t", "1", "-ar", "44100", "-ac", "2",
                          "-af", "pan=stereo|c0=c0|c1=0.5*c0", "-c:a", "pcm_s16le"] + exact + [str(source)], check=True)
    for name, codec in [("mp3", ["-c:a", "libmp3lame", "-b:a", "64k"]), ("m4a", ["-c:a", "aac", "-b:a", "64k"]),
                        ("flac", ["-c:a", "flac"]), ("ogg", ["-c:a", "libvorbis", "-q:a", "2"])]:
        subprocess.run(sub + ["-i", str(source)] + codec + exact + [str(samples / f"speech-44k-stereo.{name}")],
                       check=True)


def save_named_by_hash(state: dict, folder: Path, stem: str) -> Path:
    """torch.save, then name the file `<stem>-<first 8 hex of its SHA-256>.th` as Meta does."""
    import hashlib
    tmp = folder / f"{stem}.th"
    torch.save(state, tmp)
    digest = hashlib.sha256(tmp.read_bytes()).hexdigest()[:8]
    path = folder / f"{stem}-{digest}.th"
    tmp.rename(path)
    return path


@torch.no_grad()
def conversion_fixtures(speech: np.ndarray) -> dict:
    """Checkpoints in Meta's format for the converters' tests: a tiny seeded model and language
    model, what the Python converter makes of them, golden codes, and broken checkpoints."""
    import convert_checkpoint as cc
    from encodec.model import LMModel
    folder = FIXTURES / "convert"
    if folder.exists():
        for old in folder.rglob("*"):
            if old.is_file():
                old.unlink()
    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(77)
    model = hl.build_meta_model("24khz", n_filters=2, dimension=8, bins=64)
    randomise_norms(model, torch.Generator().manual_seed(78))
    x = cases_for("24khz", model.encoder.hop_length, speech)["speech"][:, :12_000]
    fill_codebooks(model, [x], seed=79)
    separate_close_calls(model, [x], seed=80)
    checkpoint = save_named_by_hash(model.state_dict(), folder, "encodec_tiny")
    torch.manual_seed(81)
    lm = LMModel(n_q=4, card=64, dim=16, num_layers=1, past_context=10)
    lm_checkpoint = save_named_by_hash(lm.state_dict(), folder, "encodec_lm_tiny")
    for dtype in ("f32", "f16"):
        cc.convert(checkpoint, folder / f"python-{dtype}", dtype)
    cc.convert(lm_checkpoint, folder / "python-lm", "f32")
    out = {"input": x.contiguous()}
    for bw in model.target_bandwidths:
        model.set_target_bandwidth(bw)
        out[f"codes.{bw_key(bw)}.0"] = model.encode(x[None])[0][0][0].to(torch.int64).contiguous()
    save_case(folder / "golden.safetensors", out)
    torch.save({"foo": torch.zeros(3)}, folder / "not_encodec.th")
    bad = dict(model.state_dict())
    bad["decoder.model.0.conv.conv.bias"] = torch.zeros(5)
    torch.save(bad, folder / "wrong_shape.th")
    (folder / "not_a_zip.th").write_bytes(b"this is not a PyTorch checkpoint\n" * 4)
    return {"checkpoint": checkpoint.name, "lm_checkpoint": lm_checkpoint.name,
            "bandwidths": [float(b) for b in model.target_bandwidths]}


def main():
    torch.set_num_threads(1)
    speech = speech_22k()
    write_sample(speech)
    write_compressed_samples()
    manifest = {
        "generator": "conversion/make_fixtures.py",
        "reference": f"encodec 0.1.1, torch {torch.__version__}",
        "models": [
            small_model("24khz", seed=2024, speech=speech),
            small_model("48khz", seed=4848, speech=speech),
            full_model("24khz", speech, seconds=0.4),
            full_model("48khz", speech, seconds=0.2),
        ],
        "convert": conversion_fixtures(speech),
    }
    (FIXTURES / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")


if __name__ == "__main__":
    main()
