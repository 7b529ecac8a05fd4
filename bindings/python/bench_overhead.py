"""The Python binding's overhead against the Rust library, measured in one run:

    python bindings/python/bench_overhead.py tests/fixtures/samples/speech-espeak-22k.wav

times the same calls as `examples/live_timing.rs` (a 20 ms live push, encode and decode, for
Lyra and Opus; one file through compress/decompress) through encodec_rs, runs that example
(release build) before and after, and prints both with the difference. Best of ROUNDS each.
"""

import json
import pathlib
import subprocess
import sys
import time

from encodec_rs import Compressor, StreamDecoder, StreamEncoder

ROOT = pathlib.Path(__file__).resolve().parents[2]


def rust(clip, rounds):
    command = ["cargo", "run", "-q", "--release", "--example", "live_timing", "--", clip, str(rounds)]
    return json.loads(subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True).stdout)


def python(clip, rounds):
    data = pathlib.Path(clip).read_bytes()
    source = Compressor(level="off").decompress(data)
    pcm, rate = source.samples, source.sample_rate
    step = rate // 50
    report = {}
    for codec in ("lyra", "opus"):
        encode_us = decode_us = float("inf")
        for _ in range(rounds):
            encoder = StreamEncoder(codec=codec, sample_rate=rate, channels=pcm.shape[0])
            start = time.perf_counter()
            messages = [encoder.push(pcm[:, at:at + step]) for at in range(0, pcm.shape[1], step)]
            messages.append(encoder.finish())
            encode_us = min(encode_us, (time.perf_counter() - start) * 1e6 / len(messages))
            decoder = StreamDecoder(codec=codec)
            start = time.perf_counter()
            for message in messages:
                decoder.push(message)
            decoder.finish()
            decode_us = min(decode_us, (time.perf_counter() - start) * 1e6 / len(messages))
        report[f"{codec}_push_encode_us"] = encode_us
        report[f"{codec}_push_decode_us"] = decode_us
    for level, codec in (("ultra", "lyra"), ("compact", "opus")):
        compressor = Compressor(level=level, codec=codec, model=str(ROOT / "no-model"))
        compress_us = decompress_us = float("inf")
        for _ in range(rounds):
            start = time.perf_counter()
            packed = compressor.compress(data)
            compress_us = min(compress_us, (time.perf_counter() - start) * 1e6)
            start = time.perf_counter()
            compressor.decompress(packed.data)
            decompress_us = min(decompress_us, (time.perf_counter() - start) * 1e6)
        report[f"{level}_{codec}_compress_us"] = compress_us
        report[f"{level}_{codec}_decompress_us"] = decompress_us
    return report


def main():
    clip = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    before = rust(clip, rounds)
    ours = python(clip, rounds)
    after = rust(clip, rounds)
    print(f"{'call':34} {'rust us':>10} {'python us':>10} {'overhead us':>12}")
    for key, value in ours.items():
        base = min(before[key], after[key])
        print(f"{key:34} {base:10.1f} {value:10.1f} {value - base:12.1f}")


if __name__ == "__main__":
    main()
