#!/usr/bin/env python3
"""Decodes the `.ecdc` files the Rust crate wrote (tests/fixtures/small-*/ours/*.ecdc) with the
reference's own `decompress`, and stores what it decodes next to each file, so the Rust tests
prove that files written there decode in the reference.

    ENCODEC_WRITE_FIXTURES=1 cargo test --test ecdc files_written_here   # (re)write our files
    /opt/refenv/bin/python conversion/decode_ours.py                     # decode them here
"""

import importlib
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

import hub_layout as hl

ROOT = Path(__file__).resolve().parent.parent


def small_model(preset: str):
    model = hl.build_meta_model(preset, n_filters=4, dimension=8, name=f"encodec_{preset}")
    hl.load_hub_state_dict(model, load_file(str(ROOT / "weights" / f"test-{preset}" / "model.safetensors")))
    return model.eval()


def main():
    ec = importlib.import_module("encodec.compress")  # the package re-exports a function of that name
    for preset in ("24khz", "48khz"):
        model = small_model(preset)
        ec.MODELS[model.name] = lambda: model
        for path in sorted((ROOT / "tests" / "fixtures" / f"small-{preset}" / "ours").glob("*.ecdc")):
            with torch.no_grad():
                wav, sr = ec.decompress(path.read_bytes())
            assert sr == model.sample_rate
            save_file({"decoded": wav.contiguous()}, str(path.with_suffix(".reference.safetensors")))
            print(f"{path.relative_to(ROOT)}: {tuple(wav.shape)} decoded by the reference")


if __name__ == "__main__":
    main()
