"""The layer plans of `lyra_convert.py` run in numpy: the Python twin of `src/lyra/`, used to
check a conversion against the TFLite interpreter before fixtures are written.

Int8 arithmetic is XNNPACK's (the delegate the reference runs these graphs with): QUANTIZE is
round-half-even of x * (1 / scale), clamped; convolutions accumulate in int32 and requantise
as round-half-even of float(acc) * (input_scale * weight_scale / output_scale); LEAKY_RELU and
ADD use XNNPACK's fixed-point multipliers. Float layers accumulate in float64 here (the Rust
code uses f32 fused multiply-adds), which is why decoded audio is compared by SNR.
"""

import json
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file

F32 = np.float32


def quantize(x, q):
    scale, zp = q
    v = np.clip(x.astype(F32) * F32(F32(1.0) / F32(scale)), F32(-128 - zp), F32(127 - zp))
    return (np.rint(v).astype(np.int32) + zp).astype(np.int8)


def dequantize(x, q):
    return ((x.astype(np.int32) - q[1]).astype(F32) * F32(q[0])).astype(F32)


def requantize(acc, in_scale, w_scale, q):
    scale = (F32(in_scale) * w_scale.astype(F32)).astype(F32) / F32(q[0])
    v = np.clip(acc.astype(F32) * scale.astype(F32), F32(-128 - q[1]), F32(127 - q[1]))
    return (np.rint(v).astype(np.int32) + q[1]).astype(np.int8)


def leaky_relu_q8(x, alpha, q_in, q_out):
    pos = F32(F32(q_in[0]) / F32(q_out[0]))
    neg = F32(pos * F32(alpha))
    pm, nm = int(np.rint(F32(256.0) * pos)), int(np.rint(F32(256.0) * neg))
    acc = x.astype(np.int64) - q_in[1]
    v = (((q_out[1] << 8) + 0x80) + acc * np.where(acc >= 0, pm, nm)) >> 8
    return np.clip(v, -128, 127).astype(np.int8)


def add_q8(a, qa, b, qb, qo):
    ra, rb = F32(F32(qa[0]) / F32(qo[0])), F32(F32(qb[0]) / F32(qo[0]))
    exponent = int(np.array(max(abs(ra), abs(rb)), dtype=F32).view(np.uint32) >> 23) - 127
    shift = 20 - exponent
    am = int(np.rint(F32(abs(ra)) * F32(2.0 ** shift))) * (1 if ra >= 0 else -1)
    bm = int(np.rint(F32(abs(rb)) * F32(2.0 ** shift))) * (1 if rb >= 0 else -1)
    bias = (1 << (shift - 1)) - am * qa[1] - bm * qb[1]
    v = ((bias + a.astype(np.int64) * am + b.astype(np.int64) * bm) >> shift) + qo[1]
    return np.clip(v, -128, 127).astype(np.int8)


def fma(a, b, c):
    """f32 fused multiply-add: the product of two f32 is exact in f64; one rounding to f32
    after the add (double rounding through f64 differs from a true FMA only in rare ties)."""
    return (a.astype(np.float64) * b.astype(np.float64) + c.astype(np.float64)).astype(F32)


class Network:
    """One network of a plan with its streaming state; `run` takes any number of frames."""

    def __init__(self, plan, weights, prefix):
        self.plan = plan
        self.w = {k[len(prefix) + 1:]: v for k, v in weights.items() if k.startswith(prefix + '.')}
        self.reset()

    def reset(self):
        self.state = {}

    def run(self, x, frames):
        """x: [rows, channels] (f32) for `frames` 20 ms frames; returns the output value."""
        vals = {self.plan['input']: (x.astype(F32), None)}
        for layer in self.plan['layers']:
            kind = layer['kind']
            if kind == 'add':
                (a, qa), (b, qb) = vals[layer['inputs'][0]], vals[layer['inputs'][1]]
                if 'q_out' in layer:
                    vals[layer['output']] = (add_q8(a, qa, b, qb, layer['q_out']), layer['q_out'])
                else:
                    assert qa is None and qb is None
                    vals[layer['output']] = ((a + b).astype(F32), None)
                continue
            v, q = vals[layer['input']]
            if kind == 'quantize':
                out = (quantize(v, layer['q']), layer['q'])
            elif kind == 'dequantize':
                out = (dequantize(v, q), None)
            elif kind == 'leaky_relu':
                if q is not None:
                    out = (leaky_relu_q8(v, layer['alpha'], q, layer['q_out']), layer['q_out'])
                else:
                    out = (np.where(np.signbit(v), v * F32(layer['alpha']), v).astype(F32), None)
            elif kind == 'conv':
                out = self.conv(layer, v, q)
            elif kind == 'tconv':
                out = self.tconv(layer, v, q, frames)
            else:
                raise ValueError(kind)
            vals[layer['output']] = out
        return vals[self.plan['output']]

    def conv(self, layer, x, q):
        name = layer['name']
        w, b = self.w[name + '.weight'], self.w[name + '.bias']
        s, d, k, g = layer['stride'], layer['dilation'], layer['kernel'], layer['groups']
        n = layer['state_frames']
        if n:
            past = self.state.get(name)
            if past is None:  # zeros, as the graph's variables start; int8 windows hold zero's code
                past = np.full((n, x.shape[1]), q[1] if q else 0, dtype=x.dtype)
            window = np.concatenate([past, x])
            self.state[name] = window[len(window) - n:]
        else:
            window = x
        span = (k - 1) * d + 1
        rows = (len(window) - span) // s + 1
        cin, cout = layer['in_channels'], layer['out_channels']
        cg, og = cin // g, cout // g
        if not q:
            return self.conv_f32(layer, window, rows), None
        acc_t = np.int64
        xin = window.astype(np.int64) - q[1]
        acc = np.zeros((rows, cout), acc_t)
        for tap in range(k):
            taps = xin[tap * d: tap * d + (rows - 1) * s + 1: s]  # [rows, cin]
            if g == cin and cg == 1 and og == 1:
                acc += taps * w[:, tap, 0].astype(acc_t)
            else:
                for gi in range(g):
                    acc[:, gi * og:(gi + 1) * og] += taps[:, gi * cg:(gi + 1) * cg] @ w[gi * og:(gi + 1) * og, tap, :].astype(acc_t).T
        acc += b.astype(acc_t)
        if q:
            return requantize(acc, q[0], self.w[name + '.weight_scale'], layer['q_out']), layer['q_out']
        return acc.astype(F32), None

    def conv_f32(self, layer, window, rows):
        """Each output: the bias, then one fused multiply-add per tap and input channel, taps
        outer, channels inner (XNNPACK's GEMM and depthwise kernels accumulate so)."""
        name = layer['name']
        w, b = self.w[name + '.weight'], self.w[name + '.bias']
        s, d, k, g = layer['stride'], layer['dilation'], layer['kernel'], layer['groups']
        cin, cout = layer['in_channels'], layer['out_channels']
        cg, og = cin // g, cout // g
        acc = np.broadcast_to(b.astype(F32), (rows, cout)).copy()
        for tap in range(k):
            taps = window[tap * d: tap * d + (rows - 1) * s + 1: s].astype(F32)  # [rows, cin]
            for c in range(cg):
                # input channel c of every group, against each output channel of its group
                xs = taps[:, c::cg] if cg > 1 else taps  # [rows, g]
                xs = np.repeat(xs, og, axis=1)  # [rows, cout]
                acc = fma(xs, w[:, tap, c].astype(F32)[None, :], acc)
        return acc

    def tconv(self, layer, x, q, frames):
        name = layer['name']
        w, b = self.w[name + '.weight'], self.w[name + '.bias']
        s, k, g = layer['stride'], layer['kernel'], layer['groups']
        cin, cout = layer['in_channels'], layer['out_channels']
        cg, og = cin // g, cout // g
        n = layer['state_frames']
        assert n == k - s and len(x) % frames == 0
        block = len(x) // frames  # input rows per 20 ms frame: one TFLite invocation's worth
        overlap = self.state.get(name, np.zeros((n, cout), F32))
        outs = []
        for f in range(frames):
            xb = x[f * block:(f + 1) * block]
            if not q:
                y = self.tconv_f32(layer, xb)
            else:
                xin = xb.astype(np.int64) - q[1]
                acc = np.zeros(((block - 1) * s + k, cout), np.int64)
                for h in range(block):
                    for tap in range(k):
                        for gi in range(g):
                            acc[h * s + tap, gi * og:(gi + 1) * og] += w[gi * og:(gi + 1) * og, tap, :].astype(np.int64) @ xin[h, gi * cg:(gi + 1) * cg]
                acc += b.astype(np.int64)
                y = np.empty(acc.shape, F32)
                scales = self.w[name + '.weight_scale']
                for gi, qo in enumerate(layer['q_out_groups']):
                    sl = slice(gi * og, (gi + 1) * og)
                    y[:, sl] = dequantize(requantize(acc[:, sl], q[0], scales[sl], qo), qo)
            y[:n] = (y[:n] + overlap).astype(F32)
            outs.append(y[:block * s])
            overlap = (y[block * s:] - self.w[name + '.overlap_bias']).astype(F32)
        self.state[name] = overlap
        return np.concatenate(outs), None


    def tconv_f32(self, layer, xb):
        """One frame's block: each output row starts from the bias and takes a fused
        multiply-add per contributing tap (ascending) and input channel, as XNNPACK's
        deconvolution accumulates."""
        name = layer['name']
        w, b = self.w[name + '.weight'].astype(F32), self.w[name + '.bias']
        s, k = layer['stride'], layer['kernel']
        assert layer['groups'] == 1
        block = len(xb)
        y = np.broadcast_to(b.astype(F32), ((block - 1) * s + k, layer['out_channels'])).copy()
        for phase in range(s):
            rows = y[phase::s]  # output rows p = phase + m * s
            for j, tap in enumerate(range(phase, k, s)):  # input row h = m - j
                m = np.arange(len(rows))
                ok = (m - j >= 0) & (m - j < block)
                for c in range(layer['in_channels']):
                    xs = np.zeros(len(rows), F32)
                    xs[ok] = xb[m[ok] - j, c]
                    upd = fma(xs[:, None], w[None, :, tap, c], rows)
                    rows[ok] = upd[ok]
            y[phase::s] = rows
        return y


class Lyra:
    def __init__(self, folder):
        folder = Path(folder)
        self.config = json.loads((folder / 'config.json').read_text())
        weights = load_file(str(folder / 'lyra.safetensors'))
        self.encoder = Network(self.config['encoder'], weights, 'encoder')
        self.decoder = Network(self.config['decoder'], weights, 'decoder')
        self.codebooks = weights['quantizer.codebooks']

    def features(self, samples):
        """[frames * 320] f32 in [-1, 1) -> [frames, 64] features."""
        frames = len(samples) // 320
        out, q = self.encoder.run(samples[:frames * 320].reshape(-1, 1), frames)
        assert q is None
        return out

    def quantize(self, features, quantizers):
        """Residual VQ as the `encode` signature computes it, float op for float op."""
        codes = np.full((len(features), 46), -1, np.int32)
        for f, r in enumerate(features.astype(F32)):
            for i, book in enumerate(self.codebooks[:quantizers]):
                d = np.square((r[None, :] - book).astype(F32)).astype(F32)
                acc = np.zeros(16, F32)
                for c in range(64):  # TFLite's SUM: one running f32 sum per row
                    acc = (acc + d[:, c]).astype(F32)
                j = int(np.argmin(acc))
                codes[f, i] = j
                e = book[j]
                r = (r - (r + (e - r).astype(F32)).astype(F32)).astype(F32)
        return codes

    def dequantize(self, codes):
        out = np.zeros((len(codes), 64), F32)
        for f, row in enumerate(codes):
            acc = None
            for i, j in enumerate(row):
                v = (self.codebooks[i][max(j, 0)] * F32(1.0 if j != -1 else 0.0)).astype(F32)
                acc = v if acc is None else (acc + v).astype(F32)
            out[f] = acc
        return out

    def synthesize(self, features):
        out, q = self.decoder.run(features, len(features))
        return out.reshape(-1)
