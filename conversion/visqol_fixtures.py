"""Fixtures for `encodec quality` against the Python ViSQOL port (visqol-python 3.8.0, the
reference here): espeak-ng speech (FLAC, the references), coded by this crate's `encodec` at
low bitrates (.opus, framed Lyra: the degraded files, decoded by the test itself), and the
Python port's MOS-LQO of each pair (speech mode with the exponential mapping, search window 60;
audio mode with its SVR model), in `tests/fixtures/quality/expected.json`.

    python3 -m venv /tmp/qvenv && /tmp/qvenv/bin/pip install visqol-python==3.8.0 numpy==2.4.6 soundfile==0.13.1
    /tmp/qvenv/bin/python conversion/visqol_fixtures.py --encodec target/release/encodec

Needs espeak-ng and sox. The decoded WAVs it scores are 32-bit float, as the test decodes.
"""
import argparse
import json
import subprocess
import tempfile
from pathlib import Path

from visqol import VisqolApi

OUT = Path(__file__).resolve().parent.parent / 'tests/fixtures/quality'
TEXT = {
    'en-us': 'The quick brown fox jumps over the lazy dog, twice.',
    'en-gb+f3': 'Please call Stella and ask her to bring these things.',
}
# (reference, codec args, output name, mode)
CASES = [
    ('en-us-16k.flac', ['--codec', 'opus', '--bandwidth', '6'], 'en-us-opus6.opus', 'speech'),
    ('en-us-16k.flac', ['--codec', 'opus', '--bandwidth', '12'], 'en-us-opus12.opus', 'speech'),
    ('en-us-16k.flac', ['--framed', '--bandwidth', '3.2'], 'en-us-lyra3.2.lyra', 'speech'),
    ('en-gb+f3-16k.flac', ['--codec', 'opus', '--bandwidth', '9'], 'en-gb+f3-opus9.opus', 'speech'),
    ('en-gb+f3-16k.flac', ['--framed', '--bandwidth', '9.2'], 'en-gb+f3-lyra9.2.lyra', 'speech'),
    ('en-us-48k.flac', ['--codec', 'opus', '--bandwidth', '16'], 'en-us-48k-opus16.opus', 'audio'),
    ('en-us-48k.flac', ['--codec', 'opus', '--bandwidth', '32'], 'en-us-48k-opus32.opus', 'audio'),
]


def run(*cmd):
    subprocess.run([str(c) for c in cmd], check=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--encodec', required=True, help='the encodec binary')
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    speech = VisqolApi()
    speech.create(mode='speech', use_lattice_model=False, search_window=60)
    audio = VisqolApi()
    audio.create(mode='audio', search_window=60)
    expected = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for voice, text in TEXT.items():
            raw = tmp / f'{voice}.wav'
            run('espeak-ng', '-v', voice, '-w', raw, text)
            run('sox', raw, '-r', '16000', '-b', '16', OUT / f'{voice}-16k.flac')
            if voice == 'en-us':
                run('sox', raw, '-r', '48000', '-b', '16', OUT / f'{voice}-48k.flac')
        for ref, codec, name, mode in CASES:
            run(args.encodec, '-q', 'encode', OUT / ref, OUT / name, *codec)
            ref_wav, deg_wav = tmp / 'ref.wav', tmp / 'deg.wav'
            rate = '48000' if mode == 'audio' else '16000'
            run('sox', OUT / ref, '-e', 'floating-point', '-b', '32', ref_wav)
            run(args.encodec, '-q', 'decompress', OUT / name, deg_wav, '--float')
            # The decode is at the coded rate; ViSQOL compares at the mode's.
            run('sox', deg_wav, '-r', rate, '-e', 'floating-point', '-b', '32', tmp / 'deg_r.wav')
            api = speech if mode == 'speech' else audio
            result = api.measure(str(ref_wav), str(tmp / 'deg_r.wav'))
            row = {'reference': ref, 'degraded': name, 'mode': mode,
                   'mos_lqo': round(float(result.moslqo), 4), 'nsim': round(float(result.vnsim), 5)}
            print(json.dumps(row))
            expected.append(row)
    (OUT / 'expected.json').write_text(json.dumps(expected, indent=1) + '\n')


if __name__ == '__main__':
    main()
