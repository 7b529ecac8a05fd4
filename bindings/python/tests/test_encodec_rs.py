"""encodec_rs end to end: every level round trip, the stats keys, async calls concurrent with
each other and with the event loop, live streams equal to whole-file decoding, and a real
WebSocket round trip on 127.0.0.1."""

import asyncio
import concurrent.futures
import importlib.util
import json
import pathlib

import numpy as np
import pytest

import encodec_rs
from encodec_rs import Compressor, EncodecError, StreamDecoder, StreamEncoder

ROOT = pathlib.Path(__file__).resolve().parents[3]
CLIP = (ROOT / "tests/fixtures/samples/speech-espeak-22k.wav").read_bytes()  # 5.55 s, 22.05 kHz
TEST_MODEL = str(ROOT / "weights/test-24khz")  # EnCodec's architecture, test weights
SECONDS = 122_440 / 22_050


def clip_pcm():
    return Compressor(level="off").decompress(CLIP)


@pytest.mark.parametrize(
    "level, codec, expect_codec, rate",
    [
        ("ultra", None, "ecdc", 24_000),
        ("ultra", "lyra", "lyra", 16_000),
        ("compact", None, "opus", 48_000),
        ("standard", None, "aac", 22_050),
        ("standard", "he-aac", "aac", 22_050),
        ("lossless", None, "gzip", 22_050),
        ("off", None, "stored", 22_050),
    ],
)
def test_every_level_round_trips(level, codec, expect_codec, rate):
    compressor = Compressor(level=level, codec=codec, model=TEST_MODEL)
    packed = compressor.compress(CLIP)
    meta = packed.metadata
    assert set(meta) == {
        "codec", "level", "is_compressed", "original_size", "compressed_size", "ratio",
        "duration_s", "truncated", "fallback_reason",
    }
    assert meta["codec"] == expect_codec and meta["fallback_reason"] is None
    assert meta["original_size"] == len(CLIP) and meta["compressed_size"] == len(packed.data)
    assert meta["is_compressed"] == (expect_codec != "stored")
    if level in ("lossless", "off"):  # never parsed
        assert meta["duration_s"] is None
    else:
        assert abs(meta["duration_s"] - SECONDS) < 1e-6
    assert meta["truncated"] is False
    audio = compressor.decompress(packed.data)
    assert audio.sample_rate == rate and audio.samples.dtype == np.float32
    assert audio.samples.shape[0] == 1
    assert abs(audio.samples.shape[1] / rate - SECONDS) < 0.03
    if expect_codec in ("gzip", "stored"):  # lossless: the very samples
        np.testing.assert_array_equal(audio.samples, clip_pcm().samples)
    wav = audio.to_wav()
    assert wav[:4] == b"RIFF" and np.array_equal(
        compressor.decompress(wav).samples.shape, audio.samples.shape
    )


def test_ultra_falls_back_to_lyra_without_a_model():
    compressor = Compressor(level="ultra", model=str(ROOT / "no-such-folder"))
    meta = compressor.compress(CLIP).metadata
    assert meta["codec"] == "lyra" and "no-such-folder" in meta["fallback_reason"]


def test_stats_have_the_backend_keys():
    compressor = Compressor(level="compact", min_size=1024)
    assert not compressor.should_compress(1023) and compressor.should_compress(1024)
    compressor.compress(CLIP)
    compressor.compress(CLIP)
    stats = compressor.get_stats()
    for key in ("algorithm", "total_compressed", "total_original_bytes", "total_compressed_bytes",
                "average_ratio", "min_size_threshold"):
        assert key in stats, key
    assert stats == compressor.stats()
    assert stats["algorithm"] == "compact (Opus 12 kbps)"
    assert stats["total_compressed"] == 2 and stats["total_original_bytes"] == 2 * len(CLIP)
    assert stats["min_size_threshold"] == 1024 and stats["average_ratio"] > 10
    assert stats["by_codec"]["opus"]["files"] == 2


def test_small_files_are_stored():
    packed = Compressor(level="compact", min_size=10**7).compress(CLIP)
    assert packed.data == CLIP and packed.metadata["is_compressed"] is False


def test_errors_are_exceptions_with_the_reason():
    with pytest.raises(EncodecError, match="no level"):
        Compressor(level="extreme")
    with pytest.raises(EncodecError, match="bandwidth|kbps"):
        Compressor(level="ultra", bandwidth=7)
    compressor = Compressor(level="compact")
    with pytest.raises(EncodecError):
        compressor.decompress(b"not a coded file" * 40)
    with pytest.raises(EncodecError, match="coded audio"):
        compressor.restore(compressor.compress(CLIP).data, is_compressed=True)
    with pytest.raises(EncodecError, match="length"):
        StreamEncoder(codec="ecdc")
    decoder = StreamDecoder(codec="lyra")
    decoder.push(b"\x00" * 20)
    with pytest.raises(EncodecError, match="packet"):
        decoder.finish()
    with pytest.raises(EncodecError, match="finished"):
        decoder.push(b"\x00")
    with pytest.raises(EncodecError, match="dimensions"):
        StreamEncoder().push(np.zeros((1, 1, 320), dtype=np.float32))
    with pytest.raises(EncodecError, match="channels"):
        StreamEncoder(channels=1).push(np.zeros((2, 320), dtype=np.float32))


def test_async_calls_run_concurrently_off_the_event_loop():
    compressor = Compressor(level="ultra", codec="lyra")
    expected = compressor.compress(CLIP).data

    async def main():
        ticks = 0
        done = asyncio.Event()

        async def ticker():
            nonlocal ticks
            while not done.is_set():
                ticks += 1
                await asyncio.sleep(0.001)

        tick_task = asyncio.create_task(ticker())
        packed = await asyncio.gather(*(compressor.compress_async(CLIP) for _ in range(4)))
        audio = await asyncio.gather(*(compressor.decompress_async(p.data) for p in packed))
        done.set()
        await tick_task
        return packed, audio, ticks

    packed, audio, ticks = asyncio.run(main())
    assert all(p.data == expected for p in packed)
    assert all(a.samples.shape == audio[0].samples.shape for a in audio)
    # The loop kept running while four compressions ran (the GIL was released).
    assert ticks > 10, ticks


def live_encode(codec, pcm, rate, bandwidth=None):
    """The messages a StreamEncoder gives for `pcm` pushed 20 ms at a time."""
    encoder = StreamEncoder(codec=codec, bandwidth=bandwidth, sample_rate=rate,
                            channels=pcm.shape[0])
    step = rate // 50
    messages = [encoder.push(pcm[:, at:at + step]) for at in range(0, pcm.shape[1], step)]
    messages.append(encoder.finish())
    return [m for m in messages if m]


def live_decode(codec, pieces, bandwidth=None):
    decoder = StreamDecoder(codec=codec, bandwidth=bandwidth)
    parts = [decoder.push(piece) for piece in pieces]
    parts.append(decoder.finish())
    return np.concatenate([p for p in parts if p.size], axis=1), decoder.sample_rate


@pytest.mark.parametrize("codec", ["lyra", "opus"])
def test_live_stream_decodes_as_the_whole_stream(codec):
    source = clip_pcm()
    messages = live_encode(codec, source.samples, source.sample_rate)
    stream = b"".join(messages)
    whole, rate = live_decode(codec, [stream])
    odd = [stream[i:i + 5] for i in range(0, len(stream), 5)]
    np.testing.assert_array_equal(live_decode(codec, odd)[0], whole)
    assert abs(whole.shape[1] / rate - SECONDS) < 0.03
    if codec == "opus":  # the stream is an Ogg Opus file the library decodes alike
        np.testing.assert_array_equal(Compressor().decompress(stream).samples, whole)


def test_streams_share_the_model_across_threads():
    source = clip_pcm().samples[:, :22_050]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: b"".join(live_encode("lyra", source, 22_050)), range(8)))
    assert all(r == results[0] for r in results) and len(results[0]) > 0


def load_backend():
    """examples/tts_backend.py, the README's backend, as a module."""
    spec = importlib.util.spec_from_file_location(
        "tts_backend", pathlib.Path(__file__).parents[1] / "examples/tts_backend.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_backend_example_caches_with_fallback():
    backend = load_backend()
    data, meta = asyncio.run(backend.cache_tts(CLIP))
    assert meta["is_compressed"] and meta["codec"] == "lyra" and len(data) < len(CLIP) / 40
    not_audio = b"ID3" + bytes(5000)
    data, meta = asyncio.run(backend.cache_tts(not_audio))  # gzipped, with the reason
    assert meta["codec"] == "gzip" and "not audio" in meta["fallback_reason"]
    assert backend.compressor.restore(data, meta["is_compressed"]) == not_audio
    data, meta = asyncio.run(backend.cache_tts(b"tiny"))
    assert data == b"tiny" and meta["is_compressed"] is False
    assert backend.stats()["total_compressed"] == 3


def test_websocket_round_trip_on_loopback():
    from websockets.asyncio.client import connect
    from websockets.asyncio.server import serve

    backend = load_backend()
    source = clip_pcm()

    async def handler(websocket):
        codec = await websocket.recv()
        await backend.stream_speech(websocket, source.samples, source.sample_rate, codec)

    async def client(port, codec):
        decoder = StreamDecoder(codec=codec)
        received, played = [], []
        async with connect(f"ws://127.0.0.1:{port}") as ws:
            await ws.send(codec)
            while isinstance(message := await ws.recv(), bytes):
                received.append(message)
                pcm = decoder.push(message)
                if pcm.size:
                    played.append(pcm)
            end = json.loads(message)
        played.append(decoder.finish())
        assert end["type"] == "end" and end["codec"] == codec and "algorithm" in end["stats"]
        return b"".join(received), np.concatenate([p for p in played if p.size], axis=1)

    async def main():
        async with serve(handler, "127.0.0.1", 0) as server:
            port = server.sockets[0].getsockname()[1]
            return [await client(port, codec) for codec in ("lyra", "opus")]

    (lyra_bytes, lyra_played), (opus_bytes, opus_played) = asyncio.run(main())
    np.testing.assert_array_equal(lyra_played, live_decode("lyra", [lyra_bytes])[0])
    np.testing.assert_array_equal(opus_played, Compressor().decompress(opus_bytes).samples)
    assert abs(opus_played.shape[1] / 48_000 - SECONDS) < 1e-3


WAV_MP3 = (ROOT / "tests/fixtures/samples/speech-44k-stereo.mp3").read_bytes()  # 8,587 bytes


@pytest.mark.parametrize("level", ["ultra", "compact", "standard", "lossless", "off"])
def test_any_bytes_are_stored_never_refused_never_bigger(level):
    import random

    rng = random.Random(30)
    compressor = Compressor(level=level, codec="lyra" if level == "ultra" else None, min_size=1024)
    inputs = {
        "wav head (500 B)": CLIP[:500],
        "wav cut at 30,000": CLIP[:30_000],
        "random 5,000": bytes(rng.getrandbits(8) for _ in range(5000)),
        "json": json.dumps({"text": "hello " * 300}).encode(),
        "mp3": WAV_MP3,
        "mp3 chunk": WAV_MP3[3001:7001],
        "empty": b"",
    }
    for name, data in inputs.items():
        packed = compressor.compress(data)
        meta = packed.metadata
        assert len(packed.data) <= len(data), name
        assert meta["is_compressed"] == (meta["codec"] != "stored"), name
        if meta["codec"] in ("gzip", "stored"):
            assert compressor.restore(packed.data, meta["is_compressed"]) == data, name
            assert compressor.unpack(packed.data, meta["is_compressed"]) == data, name
        if len(data) < 1024:
            assert packed.data == data and "minimum" in meta["fallback_reason"], name
        if level == "off":
            assert meta["codec"] == "stored" and meta["duration_s"] is None, name
    cut = compressor.compress(CLIP[:30_000]).metadata
    if level not in ("lossless", "off"):
        assert cut["truncated"] is True and 0 < cut["duration_s"] < 1, cut


def test_chunks_are_gzip_each_and_come_back_exactly():
    import gzip

    compressor = Compressor(level="lossless", min_size=1024)
    stream = CLIP
    chunks = [stream[at:at + 4096] for at in range(0, len(stream), 4096)]
    restored = []
    for chunk in chunks:
        packed = compressor.compress_chunk(chunk)
        meta = packed.metadata
        if meta["is_compressed"]:
            assert gzip.decompress(packed.data) == chunk  # a standard gzip stream
        restored.append(compressor.restore(packed.data, meta["is_compressed"]))
    assert b"".join(restored) == stream
    # At a lossy level a chunk is still coded losslessly, and the metadata says why.
    meta = Compressor(level="compact").compress_chunk(CLIP[:5000]).metadata
    assert meta["codec"] in ("gzip", "stored") and "stream encoder" in meta["fallback_reason"]
    with pytest.raises(EncodecError, match="coded audio"):
        compressor.restore(Compressor(level="compact").compress(CLIP).data, True)


def test_module_level_service_is_the_gzip_drop_in():
    from encodec_rs import audio_compression

    assert audio_compression.should_compress(CLIP) and not audio_compression.should_compress(b"x" * 1023)
    assert audio_compression.should_compress(1024)
    packed = audio_compression.compress(CLIP)
    assert packed.metadata["codec"] == "gzip" and packed.metadata["duration_s"] is None
    assert audio_compression.decompress(packed.data, packed.metadata["is_compressed"]) == CLIP
    assert audio_compression.decompress(packed.data) == CLIP
    assert audio_compression.get_stats()["total_compressed"] >= 1
    coded = Compressor(level="ultra", codec="lyra").compress(CLIP).data
    audio = audio_compression.decompress(coded, True)
    assert audio.sample_rate == 16_000


def test_version():
    assert encodec_rs.__version__ == "0.1.0"


@pytest.mark.parametrize(
    "level, codec",
    [("ultra", None), ("ultra", "lyra"), ("compact", None), ("standard", None), ("lossless", None)],
)
def test_player_plays_blocks_seeks_and_joins_a_queue(level, codec, tmp_path):
    compressor = Compressor(level=level, codec=codec, model=TEST_MODEL)
    data = compressor.compress(CLIP).data
    whole = compressor.decompress(data).samples  # [channels, n]
    player = encodec_rs.Player(data, model=TEST_MODEL, block=1000)
    assert (player.channels, player.duration) == (whole.shape[0], whole.shape[1] / player.sample_rate)
    blocks = list(player)
    assert all(b.shape[1] == 1000 for b in blocks[:-1]) and 0 < blocks[-1].shape[1] <= 1000
    np.testing.assert_array_equal(np.concatenate(blocks, axis=1), whole)
    assert player.read().shape == (whole.shape[0], 0)

    player.seek(2.5)
    at = round(2.5 * player.sample_rate)
    assert player.position == at / player.sample_rate
    rest = np.concatenate(list(player), axis=1)
    if level == "ultra" and codec is None:  # EnCodec 24 kHz: a 1 s pre-roll, not the whole past
        assert rest.shape == whole[:, at:].shape and np.abs(rest - whole[:, at:]).max() < 1e-3
    else:
        np.testing.assert_array_equal(rest, whole[:, at:])

    path = tmp_path / "next.bin"
    path.write_bytes(data)
    player.seek(0)
    player.queue(str(path))
    player.queue(data)
    assert player.queued == 2
    joined = np.concatenate(list(player), axis=1)
    np.testing.assert_array_equal(joined, np.concatenate([whole] * 3, axis=1))


def test_player_errors_are_exceptions():
    with pytest.raises(EncodecError):
        encodec_rs.Player(b"not audio" * 100)
    with pytest.raises(EncodecError):
        encodec_rs.Player("/nonexistent/file.lyra")
    player = encodec_rs.Player(CLIP)
    with pytest.raises(EncodecError):
        player.seek(-1.0)
    player.queue(b"garbage")
    assert player.read(200_000).shape[1] == 122_440
    with pytest.raises(EncodecError):
        player.read(10)
