"""Our `.opus` against ffmpeg's libopus at the same bitrate and application (voip), by the
reference ViSQOL port (visqol-python 3.8.0, speech mode, lattice mapping): for each bitrate
the Compact level offers a table row per input rate (16, 24, 48 kHz clips of the corpus),
mean MOS-LQO over the clips and the mean size.

    bash conversion/speech_corpus.sh /tmp/corpus
    /tmp/qvenv/bin/python conversion/opus_vs_ffmpeg.py  # venv as in visqol_fixtures.py --encodec target/release/encodec --corpus /tmp/corpus

Needs ffmpeg (Debian's, with libopus) and sox. Both decodes are resampled to 16 kHz by sox, as
is the reference, so the two differ only in the encoder.
"""
import argparse
import json
import subprocess
import tempfile
from collections import defaultdict
from pathlib import Path

from visqol import VisqolApi

BITRATES = [6, 9, 12, 16, 24]
CLIPS = {
    16: ['flite-slt-16k', 'flite-awb-16k', 'festival-kal_diphone-3-16k', 'festival-ked_diphone-5-16k'],
    24: ['flite-slt-b-24k', 'flite-rms-b-24k'],
    48: ['espeak-en-us-1-48k', 'espeak-en-gb-1-48k', 'espeak-en-us+f3-1-48k'],
}


def run(*cmd):
    subprocess.run([str(c) for c in cmd], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--encodec', required=True)
    ap.add_argument('--corpus', required=True)
    args = ap.parse_args()
    api = VisqolApi()
    api.create(mode='speech', use_lattice_model=True)
    pairs, meta = [], []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for rate, clips in CLIPS.items():
            for clip in clips:
                src = Path(args.corpus) / f'{clip}.wav'
                ref = tmp / f'{clip}.ref.wav'
                run('sox', src, '-r', '16000', '-e', 'floating-point', '-b', '32', ref)
                for kbps in BITRATES:
                    for who in ['ours', 'ffmpeg']:
                        coded = tmp / f'{clip}.{kbps}.{who}.opus'
                        dec = tmp / f'{clip}.{kbps}.{who}.wav'
                        if who == 'ours':
                            run(args.encodec, '-q', 'encode', src, coded, '--codec', 'opus', '--bandwidth', kbps)
                            run(args.encodec, '-q', 'decompress', coded, dec, '--float')
                        else:
                            run('ffmpeg', '-y', '-i', src, '-c:a', 'libopus', '-b:a', f'{kbps}k',
                                '-application', 'voip', coded)
                            run('ffmpeg', '-y', '-i', coded, '-c:a', 'pcm_f32le', dec)
                        dec16 = tmp / f'{clip}.{kbps}.{who}.16k.wav'
                        run('sox', dec, '-r', '16000', '-e', 'floating-point', '-b', '32', dec16)
                        pairs.append((str(ref), str(dec16)))
                        meta.append((rate, kbps, who, coded.stat().st_size))
        results = api.measure_batch(pairs, parallel=True)
    table = defaultdict(lambda: defaultdict(list))
    for (rate, kbps, who, size), result in zip(meta, results):
        table[(kbps, rate)][who].append((float(result.moslqo), size))
    print('| kbps | input | clips | ours MOS | ffmpeg MOS | ours − ffmpeg | ours bytes | ffmpeg bytes |')
    print('|---|---|---|---|---|---|---|---|')
    rows = []
    for (kbps, rate), by in sorted(table.items()):
        mean = {w: sum(m for m, _ in v) / len(v) for w, v in by.items()}
        size = {w: sum(s for _, s in v) / len(v) for w, v in by.items()}
        print(f"| {kbps} | {rate} kHz | {len(by['ours'])} | {mean['ours']:.3f} | {mean['ffmpeg']:.3f} | "
              f"{mean['ours'] - mean['ffmpeg']:+.3f} | {size['ours']:.0f} | {size['ffmpeg']:.0f} |")
        rows.append({'kbps': kbps, 'rate_khz': rate, 'ours': mean['ours'], 'ffmpeg': mean['ffmpeg'],
                     'ours_bytes': size['ours'], 'ffmpeg_bytes': size['ffmpeg']})
    print(json.dumps(rows))


if __name__ == '__main__':
    main()
