#!/usr/bin/env python3
"""Meta's EnCodec checkpoints (`.th`) -> the Hugging Face layout (config.json + model.safetensors).

    /opt/refenv/bin/python conversion/convert_checkpoint.py encodec_24khz-d7cc33bc.th out/encodec_24khz [--dtype f16]

Model checkpoints get transformers' key names and config, exactly as `facebook/encodec_24khz`
and `facebook/encodec_48khz` serve them (training buffers included). Language-model checkpoints
(`encodec_lm_*.th`) keep their keys, for a later entropy coder. A SHA-256 prefix in the file
name (`name-<8 hex>.th`, as Meta names them) is checked. A converted model is verified by
loading it with transformers' `EncodecModel` and comparing its codes with Meta's model.
"""

import argparse
import hashlib
import json
import math
import re
import sys
from pathlib import Path

import torch
from safetensors.torch import save_file

import hub_layout as hl


class ConversionError(Exception):
    pass


def check_checksum(path: Path) -> None:
    match = re.search(r"-([0-9a-f]{8,64})\.th$", path.name)
    if not match:
        return
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if not digest.startswith(match.group(1)):
        raise ConversionError(f"{path.name}: checksum mismatch, the name says {match.group(1)} "
                              f"but the file's SHA-256 is {digest[:len(match.group(1))]}...")


def load_state(path: Path) -> dict:
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # not a zip, not a pickle, or not tensors
        raise ConversionError(f"{path}: not a PyTorch checkpoint ({e.__class__.__name__}: {e})")
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ConversionError(f"{path}: not a state dict of tensors")
    return state


def describe_model(state: dict) -> dict:
    """The architecture knobs a Meta EnCodec state dict implies."""
    first = state.get("encoder.model.0.conv.conv.weight_v", state.get("encoder.model.0.conv.conv.weight"))
    embed = state.get("quantizer.vq.layers.0._codebook.embed")
    if first is None or embed is None:
        raise ConversionError("not an EnCodec checkpoint: no encoder.model.0.conv or quantizer codebook")
    preset = "48khz" if any(".norm." in k for k in state) else "24khz"
    if first.shape[1] != hl.PRESETS[preset]["channels"]:
        raise ConversionError(f"the first convolution takes {first.shape[1]} channels; the {preset} model takes "
                              f"{hl.PRESETS[preset]['channels']}")
    return {"preset": preset, "n_filters": first.shape[0], "dimension": embed.shape[1], "bins": embed.shape[0]}


def lm_config(state: dict) -> dict:
    n_q = len([k for k in state if re.fullmatch(r"emb\.\d+\.weight", k)])
    layers = len({k.split(".")[2] for k in state if k.startswith("transformer.layers.")})
    card, dim = state["emb.0.weight"].shape
    return {"model_type": "encodec_lm", "n_q": n_q, "card": card - 1, "dim": dim, "num_layers": layers}


def cast(tensors: dict, dtype: str) -> dict:
    target = {"f32": torch.float32, "f16": torch.float16}[dtype]
    return {k: (v.to(target) if v.is_floating_point() else v).contiguous() for k, v in tensors.items()}


@torch.no_grad()
def verify(meta, folder: Path) -> None:
    """transformers loading `folder` must give the codes Meta's model gives."""
    from transformers import EncodecModel as HfEncodec
    hf = HfEncodec.from_pretrained(folder, dtype=torch.float32).eval()
    gen = torch.Generator().manual_seed(0)
    n = meta.sample_rate // 2
    t = torch.arange(n) / meta.sample_rate
    x = 0.3 * torch.sin(2 * math.pi * 220 * t) + 0.05 * torch.randn(n, generator=gen)
    x = x.expand(meta.channels, n)[None].contiguous()
    for bw in meta.target_bandwidths:
        meta.set_target_bandwidth(bw)
        ours = torch.cat([codes for codes, _ in meta.encode(x)], dim=-1)
        theirs = hf.encode(x, bandwidth=bw).audio_codes
        theirs = torch.cat(list(theirs), dim=-1) if theirs.dim() == 4 else theirs
        if not torch.equal(ours, theirs.reshape(ours.shape)):
            raise ConversionError(f"verification failed: transformers' codes differ from Meta's at {bw} kbps")


def convert(path: Path, out_dir: Path, dtype: str = "f32", check: bool = True) -> str:
    check_checksum(path)
    state = load_state(path)
    out_dir.mkdir(parents=True, exist_ok=True)
    if "emb.0.weight" in state and any(k.startswith("transformer.") for k in state):
        (out_dir / "config.json").write_text(json.dumps(lm_config(state), indent=2) + "\n")
        save_file(cast(state, dtype), str(out_dir / "model.safetensors"), metadata={"format": "pt"})
        return "language model"
    knobs = describe_model(state)
    meta = hl.build_meta_model(knobs["preset"], knobs["n_filters"], knobs["dimension"], knobs["bins"])
    try:
        meta.load_state_dict(state)
    except RuntimeError as e:
        raise ConversionError(f"not an EnCodec {knobs['preset']} checkpoint: {e}")
    tensors = cast(hl.hub_state_dict(meta, with_buffers=True), dtype)
    config = hl.hub_config(knobs["preset"], knobs["n_filters"], knobs["dimension"], knobs["bins"])
    config["torch_dtype"] = {"f32": "float32", "f16": "float16"}[dtype]
    (out_dir / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    save_file(tensors, str(out_dir / "model.safetensors"), metadata={"format": "pt"})
    if check:
        if dtype != "f32":  # compare against Meta's model holding the same rounded weights
            meta.load_state_dict({k: v.to(torch.float16).to(torch.float32) if v.is_floating_point() else v
                                  for k, v in state.items()})
        verify(meta, out_dir)
    return f"EnCodec {knobs['preset']} model"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--dtype", choices=["f32", "f16"], default="f32")
    args = parser.parse_args()
    try:
        kind = convert(args.checkpoint, args.out_dir, args.dtype)
    except ConversionError as e:
        sys.exit(f"convert_checkpoint: {e}")
    print(f"{args.checkpoint} -> {args.out_dir} ({kind}, {args.dtype})")


if __name__ == "__main__":
    main()
