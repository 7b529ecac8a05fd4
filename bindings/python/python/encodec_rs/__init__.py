"""encodec_rs: audio compression for speech caches (Meta's EnCodec, Google's Lyra v2, Opus,
AAC, gzip) through the `encodec` Rust library. No PyTorch, no ONNX.

    from encodec_rs import Compressor
    c = Compressor(level="ultra", codec="lyra")          # or "compact" (Opus), "standard" (AAC)
    packed = c.compress(open("speech.mp3", "rb").read())  # .data (bytes), .metadata (dict)
    audio = c.decompress(packed.data)                     # .samples [channels, n], .sample_rate

Every call that codes audio releases the GIL; the *_async methods run it on the event
loop's default executor, so a server keeps answering while audio is coded. Errors are
EncodecError with the library's message.
"""

import asyncio
import functools

from ._native import (  # noqa: F401  (re-exported)
    Audio,
    EncodecError,
    Packed,
    StreamDecoder,
    StreamEncoder,
    __version__,
)
from ._native import Compressor as _NativeCompressor

__all__ = [
    "Audio",
    "Compressor",
    "EncodecError",
    "Packed",
    "StreamDecoder",
    "StreamEncoder",
    "__version__",
]


async def _off_loop(function, *args):
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, functools.partial(function, *args))


class Compressor(_NativeCompressor):
    """Compresses audio files at a cache level, falling back along its chain.

    Compressor(level="ultra", codec=None, bandwidth=None, min_size=1024, model=None)

    level: "ultra" (EnCodec, or codec="lyra"; falls back to Lyra without EnCodec's model),
    "compact" (Opus), "standard" (AAC; codec "aac", "he-aac", "he-aac-v2"), "lossless"
    (gzip), "off". bandwidth: kbps for the codec (EnCodec 1.5-24, Lyra 3.2/6/9.2, Opus 6-64,
    AAC). model: a folder or Hugging Face id for EnCodec's weights (default: the Hub's
    facebook/encodec_24khz). Files below min_size bytes are stored as they are.
    Thread-safe: one Compressor serves every request.
    """

    def get_stats(self):
        """The same dict as stats()."""
        return self.stats()

    async def compress_async(self, data):
        """compress() off the event loop (the GIL released while it codes)."""
        return await _off_loop(self.compress, data)

    async def decompress_async(self, data):
        """decompress() off the event loop (the GIL released while it decodes)."""
        return await _off_loop(self.decompress, data)
