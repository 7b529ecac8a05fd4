"""Lyra v2 quality, measured: ViSQOL v3 MOS-LQO (speech mode, 16 kHz; the `visqol-python` port,
with its lattice mapper as the C++ ViSQOL defaults to) of espeak-ng speech coded at 3.2, 6 and
9.2 kbps by Google's TFLite models (the interpreter, as `lyra_fixtures.py` runs them) and by
this crate's `encodec` command line, and whether the two decodes are the same samples.

    python conversion/lyra_quality.py --models ../shared/lyra-v2 --encodec target/release/encodec

Prints one JSON line per clip and bitrate, then the means. Needs requirements-lyra.txt,
espeak-ng and sox; writes only to a temporary folder.
"""
import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from visqol import VisqolApi

sys.path.insert(0, str(Path(__file__).parent))
from lyra_fixtures import BITS, Reference, espeak, read_wav, unit_to_int16  # noqa: E402

TEXT = ('The quick brown fox jumps over the lazy dog. A cache of speech should sound like '
        'speech, even at a few kilobits per second. Please call Stella and ask her to bring '
        'these things with her from the store.')
VOICES = ['en-us', 'en-gb', 'en-us+f3', 'en-gb-x-rp+m3', 'en-gb-scotland+f2']
SECONDS = 10


def write_wav(path, pcm16):
    import wave
    with wave.open(str(path), 'wb') as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(pcm16.astype('<i2').tobytes())


def read_float_wav(path):
    import soundfile
    data, rate = soundfile.read(str(path), dtype='float32')
    assert rate == 16000 and data.ndim == 1
    return data


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--models', required=True, help='folder of the three .tflite files')
    ap.add_argument('--encodec', required=True, help='the encodec binary')
    args = ap.parse_args()
    ref = Reference(args.models)
    visqol = VisqolApi()
    visqol.create(mode='speech')
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for voice in VOICES:
            clean = tmp / f'{voice}.wav'
            espeak(TEXT, voice, SECONDS, clean)
            pcm = read_wav(clean)
            frames = len(pcm) // 320
            pcm = pcm[:frames * 320]
            write_wav(clean, pcm)
            features = ref.features(pcm)
            codes = ref.codes(features, 46)
            clean_mos = visqol.measure(str(clean), str(clean)).moslqo
            for bits in BITS:
                q = bits // 4
                kbps = {64: '3.2', 120: '6', 184: '9.2'}[bits]
                theirs = unit_to_int16(ref.decode(codes, q))
                ref_wav = tmp / f'{voice}-ref-{bits}.wav'
                write_wav(ref_wav, theirs)
                packets = tmp / f'{voice}-{bits}.lyra'
                ours_wav = tmp / f'{voice}-ours-{bits}.wav'
                subprocess.run([args.encodec, '-q', 'encode', str(clean), str(packets), '--bandwidth', kbps], check=True)
                subprocess.run([args.encodec, '-q', 'decode', str(packets), str(ours_wav), '--bandwidth', kbps], check=True)
                # The model's float output, converted as Google's library does, for the
                # sample comparison (the 16-bit WAV above rounds x * 32767, this crate's
                # convention for every codec: at most 1 LSB from Google's truncation).
                ours_f32 = tmp / f'{voice}-ours-{bits}-f32.wav'
                subprocess.run([args.encodec, '-q', 'decode', str(packets), str(ours_f32), '--bandwidth', kbps, '--float'], check=True)
                ours = unit_to_int16(read_float_wav(ours_f32))
                row = {
                    'voice': voice, 'kbps': float(kbps), 'seconds': frames / 50,
                    'bytes': packets.stat().st_size,
                    'mos_reference': round(visqol.measure(str(clean), str(ref_wav)).moslqo, 4),
                    'mos_ours': round(visqol.measure(str(clean), str(ours_wav)).moslqo, 4),
                    'mos_clean': round(clean_mos, 4),
                    'differing_samples': int((ours != theirs).sum()) if len(ours) == len(theirs) else -1,
                }
                rows.append(row)
                print(json.dumps(row), flush=True)
    for kbps in ('3.2', '6', '9.2'):
        sel = [r for r in rows if r['kbps'] == float(kbps)]
        print(json.dumps({
            'kbps': float(kbps), 'clips': len(sel),
            'mean_mos_reference': round(float(np.mean([r['mos_reference'] for r in sel])), 3),
            'mean_mos_ours': round(float(np.mean([r['mos_ours'] for r in sel])), 3),
            'differing_samples': sum(r['differing_samples'] for r in sel),
            'mb_per_minute': round(float(kbps) * 60 / 8 / 1000, 4),
        }))


if __name__ == '__main__':
    main()
