#!/usr/bin/env python3
"""Golden fixtures for the Lyra v2 tests, produced by the TFLite interpreter (`ai-edge-litert`).

    python conversion/lyra_fixtures.py [--models ../shared/lyra-v2] [--weights weights/lyra-v2]

The reference runs the three models as Google's C++ library does (lyra/*.cc at 1.3.2): the
encoder and LyraGAN with the XNNPACK delegate on one thread, the quantizer without delegates,
one 20 ms frame per invocation, input samples as int16 / 32768. Writes tests/fixtures/lyra/:

  speech-16khz.wav          the README's sample: espeak-ng (en-us) at 16 kHz, 16-bit
  <clip>.safetensors        `input` i16 [N] (absent for the sample: read the WAV),
                            `features` f32 [F, 64] (encoder output), `codes` u8 [F, 46]
                            (quantizer at 46 quantizers; fewer quantizers give a prefix of
                            these, checked here), `decoded.<bits>` i16 [F * 320] for some of
                            64 / 120 / 184 bits per frame (decode of the reference codes,
                            converted to int16 as the C++ library does), `decoded_f32.120`
                            f32 for one clip (for an SNR in float)
  manifest.json             the clips and what each holds

Before writing, it checks conversion/lyra_plan.py (the numpy twin of the Rust code) against
the interpreter on every clip: encoder features and codes must be equal; the decoded samples
that differ are counted (0 so far: the twin's f32 fused multiply-add chains are XNNPACK's).
Needs espeak-ng and sox on PATH (Debian: espeak-ng 1.51, sox 14.4.2).
"""

import argparse
import json
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

import numpy as np
from ai_edge_litert.interpreter import Interpreter, OpResolverType
from safetensors.numpy import save_file

sys.path.insert(0, str(Path(__file__).parent))
from lyra_plan import Lyra  # noqa: E402

BITS = (64, 120, 184)
FRAME = 320


class Reference:
    def __init__(self, models):
        self.models = Path(models)

    def features(self, pcm16):
        it = Interpreter(model_path=str(self.models / 'soundstream_encoder.tflite'), num_threads=1)
        it.allocate_tensors()
        i, o = it.get_input_details()[0]['index'], it.get_output_details()[0]['index']
        out = []
        for f in range(len(pcm16) // FRAME):
            it.set_tensor(i, (pcm16[f * FRAME:(f + 1) * FRAME].astype(np.float32) / 32768.0)[None])
            it.invoke()
            out.append(it.get_tensor(o).reshape(-1).copy())
        return np.array(out, np.float32)

    def quantizer(self):
        it = Interpreter(model_path=str(self.models / 'quantizer.tflite'), num_threads=1,
                         experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
        return it.get_signature_runner('encode'), it.get_signature_runner('decode')

    def codes(self, features, quantizers):
        encode, _ = self.quantizer()
        n = np.array(quantizers, np.int32)
        return np.array([encode(input_frames=f.reshape(1, 1, 64), num_quantizers=n)['output_0'].reshape(-1)
                         for f in features], np.int32)

    def decode(self, codes, quantizers):
        _, decode = self.quantizer()
        it = Interpreter(model_path=str(self.models / 'lyragan.tflite'), num_threads=1)
        it.allocate_tensors()
        i, o = it.get_input_details()[0]['index'], it.get_output_details()[0]['index']
        out = []
        for row in codes:
            idx = row.astype(np.int32).copy()
            idx[quantizers:] = -1
            features = decode(encoding_indices=idx.reshape(46, 1, 1))['output_0']
            it.set_tensor(i, features.reshape(1, 1, 64).astype(np.float32))
            it.invoke()
            out.append(it.get_tensor(o).reshape(-1).copy())
        return np.concatenate(out).astype(np.float32)


def unit_to_int16(x):
    """lyra/dsp_utils.h UnitToInt16: scale by 32768, clip, convert toward zero."""
    return np.clip(x.astype(np.float32) * np.float32(32768.0), -32768, 32767).astype(np.int16)


def espeak(text, voice, seconds, path):
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / 'raw.wav'
        subprocess.run(['espeak-ng', '-v', voice, '-s', '155', '-w', str(raw), text], check=True)
        subprocess.run(['sox', str(raw), '-r', '16000', '-b', '16', '-c', '1', str(path),
                        'trim', '0', str(seconds)], check=True)


def read_wav(path):
    with wave.open(str(path)) as w:
        assert w.getframerate() == 16000 and w.getsampwidth() == 2 and w.getnchannels() == 1
        return np.frombuffer(w.readframes(w.getnframes()), '<i2')


def tones(seconds):
    rng = np.random.default_rng(7)
    t = np.arange(int(16000 * seconds)) / 16000
    chirp = 0.4 * np.sin(2 * np.pi * (200 * t + 3000 * t * t))
    noise = 0.05 * rng.standard_normal(len(t))
    return np.round(np.clip(chirp + noise, -1, 1) * 32767).astype(np.int16)


def snr_db(ref, test):
    return float(10 * np.log10(np.sum(ref.astype(np.float64) ** 2) / max(np.sum((ref.astype(np.float64) - test) ** 2), 1e-30)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--models', default='../shared/lyra-v2')
    ap.add_argument('--weights', default='weights/lyra-v2')
    ap.add_argument('--out', default='tests/fixtures/lyra')
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    ref = Reference(args.models)
    twin = Lyra(args.weights)

    sample = out / 'speech-16khz.wav'
    espeak('Lyra compresses speech to three kilobits per second. This is a test of the codec.',
           'en-us', 3.0, sample)
    with tempfile.TemporaryDirectory() as tmp:
        voice2 = Path(tmp) / 'voice2.wav'
        espeak('The quick brown fox jumps over the lazy dog.', 'en-gb+f3', 2.0, voice2)
        clips = {
            'speech': (read_wav(sample), BITS, (), False),
            'voice2': (read_wav(voice2), (120,), (120,), True),
            'tones': (tones(0.5), BITS, (), True),
        }
    manifest = {'frame_samples': FRAME, 'clips': {}}
    for name, (pcm, bits, bits_f32, keep_input) in clips.items():
        pcm = pcm[:len(pcm) // FRAME * FRAME]
        features = ref.features(pcm)
        codes = ref.codes(features, 46)
        for n in (16, 30):
            short = ref.codes(features, n)
            assert np.array_equal(short[:, :n], codes[:, :n]) and (short[:, n:] == -1).all()
        tensors = {'features': features, 'codes': codes.astype(np.uint8)}
        if keep_input:
            tensors['input'] = pcm.astype(np.int16)
        # The numpy twin of the Rust layers must agree before anything is written.
        twin.encoder.reset()
        ours = twin.features(pcm.astype(np.float32) / 32768.0)
        assert np.array_equal(ours, features), f'{name}: twin features differ'
        assert np.array_equal(twin.quantize(features, 46), codes), f'{name}: twin codes differ'
        report = {'frames': len(features), 'decoded': list(bits), 'decoded_f32': list(bits_f32)}
        for b in bits:
            decoded = ref.decode(codes, b // 4)
            idx = codes.astype(np.int32).copy()
            idx[:, b // 4:] = -1
            twin.decoder.reset()
            mine = twin.synthesize(twin.dequantize(idx))
            report[f'twin_differing_samples.{b}'] = int((mine != decoded).sum())
            tensors[f'decoded.{b}'] = unit_to_int16(decoded)
            if b in bits_f32:
                tensors[f'decoded_f32.{b}'] = decoded
        save_file(tensors, str(out / f'{name}.safetensors'))
        manifest['clips'][name] = report
        print(name, report)
    (out / 'manifest.json').write_text(json.dumps(manifest, indent=1) + '\n')


if __name__ == '__main__':
    main()
