#!/usr/bin/env python3
"""What Meta's own command line (`python -m encodec`, 0.1.1) writes, for the Rust test of our
Meta-compatible mode (tests/meta_cli.rs).

    /opt/refenv/bin/python conversion/meta_cli_fixtures.py        # from the repository root

The reference environment is conversion/requirements.txt plus torchcodec 0.11.1 and a system
FFmpeg: torchaudio 2.11 saves through torchcodec, which writes 16-bit PCM WAV with FFmpeg (its
samples are x * 32768 rounded to even; it adds a LIST/INFO chunk naming the FFmpeg build).

Meta's CLI downloads the published models; here its model table points at the small seeded
models of weights/test-* (as make_fixtures.py does for `compress`), and its `main()` runs with
the arguments a user would type. Writes tests/fixtures/meta-cli/:

  <preset>/loud.wav               a loud input (16-bit), whose decoding exceeds the 0.99 limit
  <preset>/loud.ecdc              `encodec loud.wav loud.ecdc -b 6 [-q]`
  <preset>/loud.out.wav           `encodec loud.wav loud.out.wav ...`        (clamped, warned)
  <preset>/loud.rescaled.wav      `encodec loud.wav loud.rescaled.wav -r ...`
  <preset>/<case>.wav             `encodec tests/fixtures/small-<preset>/ecdc/<case>.ecdc out.wav`
                                  for the short cases and speech at 6 kbps
  manifest.json                   every run: its arguments, what it printed on stderr, its output

torch runs on one thread here: its decoded floats, and so a few 16-bit samples, change with the
thread count (1 vs 2 threads, samples differing by 1: speech.6.0 34 of 36 000 at 24 kHz and
84 of 100 800 at 48 kHz; loud 10 of 7 200 and 36 of 14 400).
"""

import contextlib
import importlib
import io
import json
import math
import struct
import sys
import warnings
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
from safetensors.torch import load_file

import hub_layout as hl

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "meta-cli"
CASES = ["speech.6.0", "one_sample.6.0", "frame_minus_one.6.0", "one_frame.6.0", "silence.6.0"]


def small_model(preset: str):
    model = hl.build_meta_model(preset, n_filters=4, dimension=8, name=f"encodec_{preset}")
    hl.load_hub_state_dict(model, load_file(str(ROOT / "weights" / f"test-{preset}" / "model.safetensors")))
    return model.eval()


def chunks(path: Path) -> dict:
    """The RIFF chunks of a WAV file, by id."""
    data = path.read_bytes()
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    out, at = {}, 12
    while at + 8 <= len(data):
        cid, size = data[at:at + 4].decode("ascii"), struct.unpack("<I", data[at + 4:at + 8])[0]
        out[cid] = data[at + 8:at + 8 + size]
        at += 8 + size + (size & 1)
    return out


def describe(path: Path) -> dict:
    return {"chunks": list(chunks(path))}


def run_cli(args: list) -> str:
    """Meta's `main()` with `args`; returns what it printed on stderr."""
    cli = importlib.import_module("encodec.__main__")
    err = io.StringIO()
    sys.argv = ["encodec", *map(str, args)]
    with contextlib.redirect_stderr(err), torch.no_grad():
        try:
            cli.main()
        except SystemExit as e:
            raise RuntimeError(f"encodec {args} exited {e.code}: {err.getvalue()}")
    return err.getvalue()


def loud_input(preset: str, sr: int, channels: int) -> np.ndarray:
    """Full-scale tones and a square wave: decoded by the small models, they exceed 0.99."""
    t = np.arange(int(0.3 * sr if channels == 1 else 0.15 * sr)) / sr
    left = np.clip(2.0 * np.sin(2 * math.pi * 220 * t), -1, 1)
    right = np.sign(np.sin(2 * math.pi * 97 * t))
    return np.stack([left, right][:channels], axis=1).astype(np.float32)


def main():
    torch.set_num_threads(1)
    # torchaudio warns that torchcodec ignores `encoding`/`bits_per_sample` (16-bit is its default).
    warnings.filterwarnings("ignore", category=UserWarning)
    ec = importlib.import_module("encodec.compress")
    runs = []
    for preset in ("24khz", "48khz"):
        model = small_model(preset)
        ec.MODELS[model.name] = lambda model=model: model
        hq = ["-q"] if preset == "48khz" else []
        folder = OUT / preset
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*"):
            old.unlink()

        loud = folder / "loud.wav"
        sf.write(str(loud), loud_input(preset, model.sample_rate, model.channels), model.sample_rate,
                 subtype="PCM_16")
        for out, extra in (("loud.ecdc", []), ("loud.out.wav", []), ("loud.rescaled.wav", ["-r"])):
            args = [loud, folder / out, "-b", "6", *hq, *extra]
            stderr = run_cli(args)
            entry = {"args": [a if isinstance(a, str) else str(Path(a).relative_to(ROOT)) for a in args],
                     "stderr": stderr, "output": str((folder / out).relative_to(ROOT))}
            if out.endswith(".wav"):
                entry.update(describe(folder / out))
            runs.append(entry)

        for case in CASES:
            ecdc = ROOT / "tests" / "fixtures" / f"small-{preset}" / "ecdc" / f"{case}.ecdc"
            out = folder / f"{case}.wav"
            stderr = run_cli([ecdc, out])
            runs.append({"args": [str(ecdc.relative_to(ROOT)), str(out.relative_to(ROOT))], "stderr": stderr,
                         "output": str(out.relative_to(ROOT)), **describe(out)})
        print(f"{preset}: {sum(1 for r in runs if preset in r['output'])} runs")

    clipped = [r for r in runs if r["stderr"].startswith("Clipping!!")]
    assert clipped, "no run exceeded the 0.99 limit: the loud inputs must be louder"
    manifest = {
        "generator": "conversion/meta_cli_fixtures.py",
        "reference": f"encodec 0.1.1 (python -m encodec), torch {torch.__version__}, "
                     f"torchaudio {importlib.import_module('torchaudio').__version__}, "
                     f"torchcodec {importlib.import_module('torchcodec').__version__}",
        "runs": runs,
    }
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")


if __name__ == "__main__":
    main()
