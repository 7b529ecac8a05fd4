"""A TTS cache backend on encodec_rs, shaped like the FastAPI + gzip backends it replaces:

- `cache_tts(audio)`: compress before saving: any bytes in (below `min_size`, not audio, or
  a cut file are stored or gzipped, never refused, never made bigger), metadata carrying
  `is_compressed`;
- `send_chunks(websocket, data)`: a file's bytes to a WebSocket client in chunks, each
  gzipped (or not) on its own with an `is_compressed` flag, as the gzip backends do;
- `stats()`: the dict such backends report (algorithm, total_compressed, byte totals,
  average_ratio, min_size_threshold);
- `stream_speech(websocket, pcm, rate, codec)`: audio to a WebSocket client as live-coded
  binary messages, 20 ms at a time, then a JSON "end" message with the stats.

    python examples/tts_backend.py SPEECH.wav [PORT]   # serves ws://127.0.0.1:PORT

A client sends the codec it wants ("lyra" or "opus"), feeds each binary message to
`encodec_rs.StreamDecoder(codec).push` and plays what it returns. tests/test_encodec_rs.py
runs this server and such a client over 127.0.0.1.
"""

import asyncio
import json
import sys

from encodec_rs import Compressor, StreamEncoder

compressor = Compressor(level="ultra", codec="lyra", min_size=1024)


async def cache_tts(audio: bytes):
    """What to store for a TTS file: (bytes, metadata). Never raises for the content."""
    packed = await compressor.compress_async(audio)
    return packed.data, packed.metadata


async def send_chunks(websocket, data: bytes, chunk_size=16 * 1024):
    """Sends `data` in chunks: a JSON header per chunk ({"is_compressed": ...}), then its
    bytes; the client gets each back exactly with Compressor().restore(chunk, flag)."""
    for at in range(0, len(data), chunk_size):
        packed = compressor.compress_chunk(data[at:at + chunk_size])
        await websocket.send(json.dumps({"type": "chunk", "is_compressed": packed.metadata["is_compressed"]}))
        await websocket.send(packed.data)


def stats():
    return compressor.get_stats()


async def stream_speech(websocket, pcm, rate, codec):
    """Streams `pcm` (float32 [channels, n] at `rate`) to `websocket` coded with `codec`."""
    encoder = StreamEncoder(codec=codec, sample_rate=rate, channels=pcm.shape[0])
    step = rate // 50
    for at in range(0, pcm.shape[1], step):
        # push releases the GIL; to_thread keeps the loop free for other clients meanwhile.
        message = await asyncio.to_thread(encoder.push, pcm[:, at:at + step])
        if message:
            await websocket.send(message)
    await websocket.send(encoder.finish())
    await websocket.send(json.dumps({"type": "end", "codec": codec, "stats": stats()}))


async def serve(path, port):
    from websockets.asyncio.server import serve as websocket_server

    data, metadata = await cache_tts(open(path, "rb").read())
    print("cached:", metadata)
    audio = await compressor.decompress_async(data)

    async def handler(websocket):
        codec = await websocket.recv()
        await stream_speech(websocket, audio.samples, audio.sample_rate, codec)

    async with websocket_server(handler, "127.0.0.1", port) as server:
        print("serving on ws://127.0.0.1:%d" % server.sockets[0].getsockname()[1])
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 8765))
