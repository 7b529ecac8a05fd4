"""Times Meta's reference `encodec` 0.1.1 (PyTorch, CPU) the way `encodec bench` times ours, and
prints the same JSON fields, so the two can be put side by side on one machine in one run.

    python conversion/bench_reference.py --model DIR [--input WAV | --seconds N]
        [--bandwidth 6] [--threads N] [--repeat 3]

DIR is a Hub-layout folder (config.json + model.safetensors) for the 24 kHz or 48 kHz
architecture. To benchmark without downloading anything, write the real-size seeded weights the
golden tests use (the formula in tests/fixtures/full-*/tensors.json) to a folder first:

    python conversion/bench_reference.py --make-model 24khz /tmp/full24
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hub_layout as hl  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def make_model(preset: str, out_dir: str) -> None:
    """Writes the real-size formula weights of `preset` as a Hub-layout folder."""
    import make_fixtures as mf
    from safetensors.torch import save_file

    spec = json.load(open(os.path.join(ROOT, "tests", "fixtures", f"full-{preset}", "tensors.json")))
    tensors = {t["name"]: torch.from_numpy(mf.formula_tensor(t["name"], t["shape"], t["lo"], t["hi"]))
               for t in spec["tensors"]}
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(hl.hub_config(preset), f)
    save_file({k: v.contiguous() for k, v in tensors.items()}, os.path.join(out_dir, "model.safetensors"))


def load_model(model_dir: str):
    from safetensors.torch import load_file

    config = json.load(open(os.path.join(model_dir, "config.json")))
    preset = "48khz" if config["sampling_rate"] == 48_000 else "24khz"
    model = hl.build_meta_model(preset, n_filters=config["num_filters"], dimension=config["hidden_size"],
                                bins=config["codebook_size"], name=f"encodec_{preset}")
    hl.load_hub_state_dict(model, load_file(os.path.join(model_dir, "model.safetensors")))
    return model


def synthetic_speech(seconds: float, rate: int, channels: int) -> np.ndarray:
    """The same formula as `encodec::bench::synthetic_speech` (up to the noise generator's last
    bits of rounding): a gliding voice with a syllable envelope over a little noise."""
    n = int(round(seconds * rate))
    t = np.arange(n) / rate
    pitch = 155.0 + 65.0 * np.sin(2 * np.pi * 0.7 * t)
    phase = np.cumsum(2 * np.pi * pitch / rate)
    envelope = (0.5 - 0.5 * np.cos(2 * np.pi * 4.1 * t)) ** 2
    voice = sum(np.where(h * pitch < rate / 2, np.sin(h * phase) / h, 0.0) for h in range(1, 13))
    noise = np.random.default_rng(0).random(n) - 0.5
    mono = 0.25 * envelope * voice + 0.01 * noise
    return np.stack([mono * (1 - 0.1 * c) for c in range(channels)]).astype(np.float32)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model")
    ap.add_argument("--input")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--bandwidth", type=float, default=6.0)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--make-model", nargs=2, metavar=("PRESET", "DIR"))
    args = ap.parse_args()
    if args.make_model:
        make_model(*args.make_model)
        return
    torch.set_num_threads(args.threads)

    start = time.perf_counter()
    model = load_model(args.model)
    load_s = time.perf_counter() - start
    if args.input:
        import soundfile as sf
        from encodec.utils import convert_audio

        wav, sr = sf.read(args.input, dtype="float32", always_2d=True)
        x = convert_audio(torch.from_numpy(wav.T.copy()), sr, model.sample_rate, model.channels)
    else:
        x = torch.from_numpy(synthetic_speech(args.seconds, model.sample_rate, model.channels))
    x = x[None]
    audio_s = x.shape[-1] / model.sample_rate
    model.set_target_bandwidth(args.bandwidth)

    best_e = best_d = math.inf
    with torch.no_grad():
        model.decode(model.encode(x[..., :model.sample_rate]))  # warm-up, as ours does
        for _ in range(max(1, args.repeat)):
            t0 = time.perf_counter()
            frames = model.encode(x)
            t1 = time.perf_counter()
            model.decode(frames)
            t2 = time.perf_counter()
            best_e, best_d = min(best_e, t1 - t0), min(best_d, t2 - t1)
    r = lambda v: round(v, 4)  # noqa: E731
    print(json.dumps({"model": args.model, "impl": f"encodec {__import__('encodec').__version__} "
                      f"torch {torch.__version__}", "audio_s": r(audio_s), "load_s": r(load_s),
                      "encode_s": r(best_e), "decode_s": r(best_d), "encode_rtf": r(audio_s / best_e),
                      "decode_rtf": r(audio_s / best_d), "threads": args.threads, "dtype": "f32",
                      "bandwidth": args.bandwidth}))


if __name__ == "__main__":
    main()
