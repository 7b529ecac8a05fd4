"""Fixtures for `encodec quality` against the Python ViSQOL port (visqol-python 3.8.0 with
ai-edge-litert for its lattice mapper: the reference here). Reference speech from three TTS
engines (espeak-ng, flite, festival), 16 kHz for speech mode and 48 kHz for audio mode;
degraded versions coded by this crate's `encodec` (Lyra 3.2/6/9.2, Opus 6-24 kbps, AAC,
EnCodec with the test weights), gain-changed, delayed 0.1-0.5 s, and buried in noise. Every
file is 16-bit FLAC at the mode's rate, so both implementations read the same samples. The
Python port's MOS-LQO of each pair (speech: lattice and exponential mappings; audio: SVR) goes
to `tests/fixtures/quality/expected.json`.

    python3 -m venv /tmp/qvenv
    /tmp/qvenv/bin/pip install visqol-python==3.8.0 ai-edge-litert==2.3.0 numpy==2.4.6 soundfile==0.14.0
    /tmp/qvenv/bin/python conversion/visqol_fixtures.py --encodec target/release/encodec

Needs espeak-ng, flite, festival (festvox-kallpc16k) and sox (Debian packages).
"""
import argparse
import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf
from visqol import VisqolApi

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / 'tests/fixtures/quality'
# (name, engine, voice, text); each clip is about 2.5 s.
VOICES = [
    ('espeak-us', 'espeak-ng', 'en-us', 'The quick brown fox jumps over the lazy dog.'),
    ('espeak-gb-f3', 'espeak-ng', 'en-gb+f3', 'Please call Stella and ask her to bring these.'),
    ('flite-slt', 'flite', 'slt', 'She sells sea shells by the sea shore, today.'),
    ('festival-kal', 'festival', 'kal_diphone', 'A large size in stockings is hard to sell.'),
]
FULL = ['lyra3.2', 'lyra6', 'lyra9.2', 'opus6', 'opus9', 'opus12', 'opus16', 'opus24', 'aac', 'encodec6',
        'clean', 'gain-10', 'delay0.1', 'opus12-delay0.3', 'noise0']
SHORT = ['lyra6', 'opus9', 'opus16', 'aac', 'encodec6', 'gain+6', 'delay0.5', 'noise-10']
SPEECH = {'espeak-us': FULL, 'espeak-gb-f3': FULL, 'flite-slt': SHORT, 'festival-kal': SHORT}
AUDIO = {'espeak-us': ['opus16', 'opus32', 'aac', 'gain-6', 'delay0.25', 'noise0'],
         'flite-slt': ['opus16', 'opus32', 'aac', 'gain-6', 'delay0.25', 'noise0']}


def run(*cmd, **kw):
    subprocess.run([str(c) for c in cmd], check=True, **kw)


def speak(engine, voice, text, out):
    if engine == 'espeak-ng':
        run('espeak-ng', '-v', voice, '-w', out, text)
    elif engine == 'flite':
        run('flite', '-voice', voice, '-t', text, '-o', out)
    else:
        run('text2wave', '-eval', f'(voice_{voice})', '-o', out, input=text.encode())


def write(samples, rate, path):
    sf.write(path, np.clip(samples, -1.0, 32767 / 32768), rate, subtype='PCM_16')


def degrade(kind, ref_wav, rate, tmp, encodec):
    """The degraded samples at `rate` for `kind`, from the reference WAV (at `rate`)."""
    ref, _ = sf.read(ref_wav, dtype='float64')
    coded = tmp / 'coded'
    decoded = tmp / 'decoded.wav'
    base, _, delay = kind.partition('-delay')
    if kind.startswith('lyra'):
        run(encodec, '-q', 'encode', ref_wav, coded, '--framed', '--bandwidth', kind[4:], '--force')
    elif base.startswith('opus'):
        run(encodec, '-q', 'encode', ref_wav, coded, '--codec', 'opus', '--bandwidth', base[4:], '--force')
    elif kind == 'aac':
        run(encodec, '-q', 'compress', ref_wav, coded, '--level', 'standard', '--kbps', '32')
    elif kind.startswith('encodec'):
        run(encodec, '-q', 'encode', ref_wav, coded, '--codec', 'ecdc', '--model', ROOT / 'weights/test-24khz',
            '--bandwidth', kind[7:], '--force')
    elif kind == 'clean':
        return ref
    elif kind.startswith('gain'):
        return ref * 10 ** (float(kind[4:]) / 20)
    elif kind.startswith('delay'):
        return np.concatenate([np.zeros(round(float(kind[5:]) * rate)), ref])
    elif kind.startswith('noise'):
        # White noise at the given SNR (dB) over the speech, the same every run.
        noise = np.random.default_rng(31).standard_normal(len(ref))
        gain = np.sqrt(np.mean(ref ** 2) / np.mean(noise ** 2)) * 10 ** (-float(kind[5:]) / 20)
        return ref + noise * gain
    else:
        raise ValueError(kind)
    run(encodec, '-q', 'decompress', coded, decoded, '--float', *(['--model', ROOT / 'weights/test-24khz']
                                                                  if kind.startswith('encodec') else []))
    run('sox', decoded, '-r', str(rate), '-e', 'floating-point', '-b', '32', tmp / 'decoded_r.wav')
    samples, _ = sf.read(tmp / 'decoded_r.wav', dtype='float64')
    if delay:
        samples = np.concatenate([np.zeros(round(float(delay) * rate)), samples])
    return samples


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--encodec', required=True, help='the encodec binary')
    args = ap.parse_args()
    encodec = Path(args.encodec).resolve()
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    lattice, exponential, audio = VisqolApi(), VisqolApi(), VisqolApi()
    lattice.create(mode='speech', use_lattice_model=True)
    exponential.create(mode='speech', use_lattice_model=False)
    audio.create(mode='audio')
    expected = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for name, engine, voice, text in VOICES:
            raw = tmp / f'{name}-raw.wav'
            speak(engine, voice, text, raw)
            for mode, rate, table in [('speech', 16000, SPEECH), ('audio', 48000, AUDIO)]:
                if name not in table:
                    continue
                ref = OUT / f'{name}-{rate // 1000}k.flac'
                ref_wav = tmp / 'ref.wav'
                run('sox', raw, '-r', str(rate), '-b', '16', '-c', '1', ref)
                run('sox', ref, '-e', 'floating-point', '-b', '32', ref_wav)
                for kind in table[name]:
                    deg = OUT / f'{name}-{rate // 1000}k-{kind}.flac'
                    write(degrade(kind, ref_wav, rate, tmp, encodec), rate, deg)
                    row = {'reference': ref.name, 'degraded': deg.name, 'mode': mode}
                    if mode == 'speech':
                        lat = lattice.measure(str(ref), str(deg))
                        row['lattice'] = round(float(lat.moslqo), 5)
                        row['exponential'] = round(float(exponential.measure(str(ref), str(deg)).moslqo), 5)
                        row['nsim'] = round(float(lat.vnsim), 6)
                    else:
                        result = audio.measure(str(ref), str(deg))
                        row['svr'] = round(float(result.moslqo), 5)
                        row['nsim'] = round(float(result.vnsim), 6)
                    print(json.dumps(row), flush=True)
                    expected.append(row)
    (OUT / 'expected.json').write_text(json.dumps(expected, indent=1) + '\n')


if __name__ == '__main__':
    main()
