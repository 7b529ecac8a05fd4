"""Meta `encodec` 0.1.1 models <-> the Hugging Face transformers layout (`facebook/encodec_*`).

Shared by the fixture generator and the checkpoint converter: the key mapping, the config.json
that describes a Meta model, and a builder for Meta models of any size.
"""

import math
import re

import numpy as np
from encodec import quantization as qt
from encodec.model import EncodecModel
from encodec.modules import SEANetDecoder, SEANetEncoder

# Meta state-dict key -> transformers key, applied in order.
_META_TO_HUB = [
    (re.compile(r"^(encoder|decoder)\.model\."), r"\1.layers."),
    (re.compile(r"\.conv\.conv\."), ".conv."),
    (re.compile(r"\.convtr\.convtr\."), ".conv."),
    (re.compile(r"\.(conv|convtr)\.norm\."), ".norm."),
    (re.compile(r"^quantizer\.vq\.layers\.(\d+)\._codebook\."), r"quantizer.layers.\1.codebook."),
]


def meta_to_hub_key(key: str) -> str:
    for pattern, repl in _META_TO_HUB:
        key = pattern.sub(repl, key)
    return key


# The two published models, as Meta's `EncodecModel.encodec_model_*khz` builds them.
PRESETS = {
    "24khz": dict(sample_rate=24_000, channels=1, causal=True, norm="weight_norm",
                  normalize=False, segment=None, bandwidths=[1.5, 3.0, 6.0, 12.0, 24.0]),
    "48khz": dict(sample_rate=48_000, channels=2, causal=False, norm="time_group_norm",
                  normalize=True, segment=1.0, bandwidths=[3.0, 6.0, 12.0, 24.0]),
}
RATIOS = [8, 5, 4, 2]


def build_meta_model(preset: str, n_filters: int = 32, dimension: int = 128, bins: int = 1024,
                     name: str = "unset") -> EncodecModel:
    """A Meta `EncodecModel` with the preset's architecture knobs at any width."""
    p = PRESETS[preset]
    kw = dict(channels=p["channels"], dimension=dimension, n_filters=n_filters, ratios=RATIOS,
              norm=p["norm"], causal=p["causal"])
    encoder = SEANetEncoder(**kw)
    decoder = SEANetDecoder(**kw)
    frame_rate = math.ceil(p["sample_rate"] / encoder.hop_length)
    n_q = int(1000 * p["bandwidths"][-1] // (frame_rate * math.log2(bins)))
    quantizer = qt.ResidualVectorQuantizer(dimension=dimension, n_q=n_q, bins=bins)
    model = EncodecModel(encoder, decoder, quantizer, p["bandwidths"], p["sample_rate"],
                         p["channels"], normalize=p["normalize"], segment=p["segment"], name=name)
    return model.eval()


def hub_config(preset: str, n_filters: int = 32, dimension: int = 128, bins: int = 1024) -> dict:
    """config.json as `facebook/encodec_24khz` / `facebook/encodec_48khz` serve it."""
    p = PRESETS[preset]
    return {
        "architectures": ["EncodecModel"],
        "audio_channels": p["channels"],
        "chunk_length_s": p["segment"],
        "codebook_dim": dimension,
        "codebook_size": bins,
        "compress": 2,
        "dilation_growth_rate": 2,
        "hidden_size": dimension,
        "kernel_size": 7,
        "last_kernel_size": 7,
        "model_type": "encodec",
        "norm_type": p["norm"],
        "normalize": p["normalize"],
        "num_filters": n_filters,
        "num_lstm_layers": 2,
        "num_residual_layers": 1,
        "overlap": 0.01 if p["segment"] else None,
        "pad_mode": "reflect",
        "residual_kernel_size": 3,
        "sampling_rate": p["sample_rate"],
        "target_bandwidths": p["bandwidths"],
        "torch_dtype": "float32",
        "trim_right_ratio": 1.0,
        "upsampling_ratios": RATIOS,
        "use_causal_conv": p["causal"],
        "use_conv_shortcut": True,
    }


def hub_state_dict(model: EncodecModel, with_buffers: bool = False) -> dict:
    """The model's tensors under transformers names. Training-only codebook buffers
    (`embed_avg`, `cluster_size`, `inited`) are left out unless asked for."""
    out = {}
    for key, value in model.state_dict().items():
        if not with_buffers and key.rsplit(".", 1)[-1] in ("embed_avg", "cluster_size", "inited"):
            continue
        out[meta_to_hub_key(key)] = value.detach().contiguous()
    return out


def load_hub_state_dict(model: EncodecModel, tensors: dict) -> None:
    """Loads transformers-named tensors into a Meta model (the inverse of `hub_state_dict`)."""
    state = model.state_dict()
    by_hub = {meta_to_hub_key(k): k for k in state}
    for hub_key, value in tensors.items():
        state[by_hub[hub_key]].copy_(value)
    for key, value in state.items():
        if key.endswith("._codebook.inited"):
            value.fill_(1.0)


def np_f32(x) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(x, dtype=np.float32))
