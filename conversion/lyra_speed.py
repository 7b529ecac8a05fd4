"""Times Google's Lyra v2 TFLite models as Google's library runs them (one invoke per 20 ms
frame; the encoder and LyraGAN with the XNNPACK delegate, the quantizer without), with 1 and 2
threads, best of 5 runs over a 16 kHz mono 16-bit clip; prints one JSON line per thread count
in microseconds per frame. Compare with `encodec bench --codec lyra --input CLIP --threads N`
run just before or after (a shared machine is noisy). `encoder_net` and `lyragan_net` are the
networks without Python's tensor copies around each invoke (the quantizer's figures keep its
signature runner's call overhead):

    python conversion/lyra_speed.py --models ../shared/lyra-v2 --input clip16k.wav
"""
import argparse
import json
import time
import wave

import numpy as np
from ai_edge_litert.interpreter import Interpreter, OpResolverType


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--models', required=True)
    ap.add_argument('--input', required=True)
    ap.add_argument('--repeat', type=int, default=5)
    args = ap.parse_args()
    m = args.models.rstrip('/') + '/'
    with wave.open(args.input) as w:
        assert w.getframerate() == 16000 and w.getnchannels() == 1 and w.getsampwidth() == 2
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype='<i2')
    n = len(pcm) // 320
    frames = [(pcm[i * 320:(i + 1) * 320].astype(np.float32) / 32768)[None] for i in range(n)]
    for threads in (1, 2):
        enc = Interpreter(model_path=m + 'soundstream_encoder.tflite', num_threads=threads)
        gan = Interpreter(model_path=m + 'lyragan.tflite', num_threads=threads)
        enc.allocate_tensors()
        gan.allocate_tensors()
        quant = Interpreter(model_path=m + 'quantizer.tflite', num_threads=threads,
                            experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
        qenc, qdec = quant.get_signature_runner('encode'), quant.get_signature_runner('decode')
        ei, eo = enc.get_input_details()[0]['index'], enc.get_output_details()[0]['index']
        gi, go = gan.get_input_details()[0]['index'], gan.get_output_details()[0]['index']
        nq = np.array(30, dtype=np.int32)
        feats = []
        for f in frames:
            enc.set_tensor(ei, f)
            enc.invoke()
            feats.append(enc.get_tensor(eo).reshape(1, 1, 64).copy())
        codes = [qenc(input_frames=f, num_quantizers=nq)['output_0'].reshape(-1).astype(np.int32) for f in feats]
        for c in codes:
            c[30:] = -1
        best = dict.fromkeys(['encoder', 'quantizer_encode', 'quantizer_decode', 'lyragan',
                              'encoder_io', 'lyragan_io'], 1e9)

        def timed(key, fn):
            t = time.perf_counter()
            fn()
            best[key] = min(best[key], time.perf_counter() - t)

        # Without `invoke`: what Python adds around each one (the same tensor copies in and
        # out), subtracted from the network figures ("_net") so they time the networks alone
        # (the binding's call into Invoke, about a microsecond, stays in).
        def run(interpreter, inputs, i, o, invoke=True):
            for x in inputs:
                interpreter.set_tensor(i, x)
                if invoke:
                    interpreter.invoke()
                interpreter.get_tensor(o)

        for _ in range(args.repeat):
            timed('encoder_io', lambda: run(enc, frames, ei, eo, invoke=False))
            timed('lyragan_io', lambda: run(gan, feats, gi, go, invoke=False))
            timed('encoder', lambda: run(enc, frames, ei, eo))
            timed('quantizer_encode', lambda: [qenc(input_frames=f, num_quantizers=nq) for f in feats])
            timed('quantizer_decode', lambda: [qdec(encoding_indices=c.reshape(46, 1, 1)) for c in codes])
            timed('lyragan', lambda: run(gan, feats, gi, go))
        us = {k: v / n * 1e6 for k, v in best.items()}
        us['encode'] = us['encoder'] + us['quantizer_encode']
        us['decode'] = us['quantizer_decode'] + us['lyragan']
        us['encoder_net'] = us['encoder'] - us.pop('encoder_io')
        us['lyragan_net'] = us['lyragan'] - us.pop('lyragan_io')
        print(json.dumps({'threads': threads, 'frames': n, **{f'{k}_us_per_frame': round(v, 1) for k, v in us.items()},
                          'encode_rtf': round(20000 / us['encode'], 1), 'decode_rtf': round(20000 / us['decode'], 1)}))


if __name__ == '__main__':
    main()
