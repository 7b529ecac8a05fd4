"""encodec_rs: audio compression for speech caches (Meta's EnCodec, Google's Lyra v2, Opus,
AAC, gzip) through the `encodec` Rust library. No PyTorch, no ONNX.

    from encodec_rs import Compressor
    c = Compressor(level="ultra", codec="lyra")          # or "compact" (Opus), "standard" (AAC)
    packed = c.compress(open("speech.mp3", "rb").read())  # .data (bytes), .metadata (dict)
    audio = c.decompress(packed.data)                     # .samples [channels, n], .sample_rate

compress() takes any bytes and never raises for their content: what the level cannot code
(not audio, a slice of a stream, below min_size) is gzipped or stored, never made larger, and
restore(packed.data, metadata["is_compressed"]) gives those bytes back exactly. For a
WebSocket's chunks, compress_chunk() is the gzip layer (each chunk alone, never parsed);
StreamEncoder makes a live Lyra or Opus stream of PCM.

    from encodec_rs import audio_compression                # the gzip service's drop-in
    data, flag = packed.data, packed.metadata["is_compressed"]
    original = audio_compression.decompress(data, flag)     # bytes, exactly

Player plays cached files (any of them, by their bytes or path) as numpy blocks, seeks to an
exact sample and plays a queue back to back without a gap:

    from encodec_rs import Player
    player = Player("cache/a.lyra")      # or bytes; model= for .ecdc files
    player.queue("cache/b.opus")         # joined sample for sample, converted to a's rate
    player.seek(1.5)
    for block in player:                 # float32 [channels, <= 4096]
        ...

Every call that codes audio releases the GIL; the *_async methods run it on the event
loop's default executor, so a server keeps answering while audio is coded. Errors are
EncodecError with the library's message: bad arguments and I/O only.
"""

import asyncio
import functools

from ._native import (  # noqa: F401  (re-exported)
    Audio,
    EncodecError,
    Packed,
    Player,
    StreamDecoder,
    StreamEncoder,
    __version__,
)
from ._native import Compressor as _NativeCompressor

__all__ = [
    "Audio",
    "AudioCompressionService",
    "Compressor",
    "EncodecError",
    "Packed",
    "Player",
    "StreamDecoder",
    "StreamEncoder",
    "__version__",
    "audio_compression",
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

    def decompress_bytes(self, data, is_compressed=None):
        """The same as restore(): the original bytes, exactly."""
        return self.restore(data, is_compressed)

    async def compress_async(self, data):
        """compress() off the event loop (the GIL released while it codes)."""
        return await _off_loop(self.compress, data)

    async def decompress_async(self, data):
        """decompress() off the event loop (the GIL released while it decodes)."""
        return await _off_loop(self.decompress, data)


class AudioCompressionService(Compressor):
    """A backend's audio compression service: compress(data) -> Packed, decompress(data,
    is_compressed=None) -> what was stored in the form it came (bytes for stored and gzip,
    exactly the original; an Audio for a codec's file), should_compress(data or size),
    get_stats(). Lossless (gzip, min_size 1024) by default, as the gzip service it replaces;
    any level of Compressor can be asked for.
    """

    def __new__(cls, level="lossless", codec=None, bandwidth=None, min_size=1024, model=None):
        return super().__new__(cls, level, codec, bandwidth, min_size, model)

    def decompress(self, data, is_compressed=None):
        """Bytes for stored and gzip (the original, exactly), an Audio for a codec's file."""
        return self.unpack(data, is_compressed)

    async def decompress_async(self, data, is_compressed=None):
        """decompress() off the event loop."""
        return await _off_loop(self.decompress, data, is_compressed)


audio_compression = AudioCompressionService()
"""The module's default service (lossless, min_size 1024), like the gzip service's singleton."""
