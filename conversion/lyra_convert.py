#!/usr/bin/env python3
"""Converts Google's Lyra v2 TFLite models into the layout the Rust crate loads.

    python conversion/lyra_convert.py [--models ../shared/lyra-v2] [--out weights/lyra-v2]

Reads `soundstream_encoder.tflite`, `quantizer.tflite` and `lyragan.tflite` (google/lyra
1.3.2, `lyra/model_coeffs/`) and writes:

  lyra.safetensors   every weight, named `<network>.<layer>.<tensor>`: f32 for float layers;
                     i8 weights, f32 per-output-channel scales and i32 biases for int8 layers;
                     `quantizer.codebooks` [46, 16, 64] f32
  config.json        the two networks as layer plans (what runs in which order, on which value,
                     in f32 or int8 with which scale and zero point) plus the codec's constants

The TFLite graphs are streaming graphs: each layer's past lives in a variable that is read,
concatenated in front of the new frames, and written back sliced. This script folds those
read/concat/slice/assign groups (and the split/concat around grouped transposed convolutions)
into layers with a state length, so the plan says what the network computes, not how TFLite
stores it. Where the graph rounds an activation to int8 (QUANTIZE) or a layer runs in int8,
the plan says so with the tensor's scale and zero point; the Rust side reproduces XNNPACK's
arithmetic there (the delegate the reference and Google's C++ library run these models with).

Pinned environment (outside the repository):
    python3 -m venv /tmp/lyravenv && /tmp/lyravenv/bin/pip install -r conversion/requirements-lyra.txt
"""

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np
import tflite
from safetensors.numpy import save_file

OPNAMES = {v: k for k, v in tflite.BuiltinOperator.__dict__.items() if not k.startswith('_')}
DTYPES = {tflite.TensorType.FLOAT32: np.float32, tflite.TensorType.INT8: np.int8,
          tflite.TensorType.INT32: np.int32, tflite.TensorType.INT64: np.int64,
          tflite.TensorType.BOOL: np.bool_}
OPTIONS = {
    'CONV_2D': (tflite.Conv2DOptions, ['Padding', 'StrideH', 'DilationHFactor', 'FusedActivationFunction']),
    'DEPTHWISE_CONV_2D': (tflite.DepthwiseConv2DOptions,
                          ['Padding', 'StrideH', 'DilationHFactor', 'DepthMultiplier', 'FusedActivationFunction']),
    'TRANSPOSE_CONV': (tflite.TransposeConvOptions, ['Padding', 'StrideH', 'FusedActivationFunction']),
    'LEAKY_RELU': (tflite.LeakyReluOptions, ['Alpha']),
    'CONCATENATION': (tflite.ConcatenationOptions, ['Axis', 'FusedActivationFunction']),
    'ADD': (tflite.AddOptions, ['FusedActivationFunction']),
    'SUB': (tflite.SubOptions, ['FusedActivationFunction']),
    'SPLIT': (tflite.SplitOptions, ['NumSplits']),
    'VAR_HANDLE': (tflite.VarHandleOptions, ['SharedName']),
}
PADDING_VALID = 1


class Tensor:
    def __init__(self, index, t, model):
        self.index = index
        self.name = t.Name().decode()
        self.shape = tuple(int(d) for d in t.ShapeAsNumpy()) if t.ShapeLength() else ()
        self.dtype = DTYPES.get(t.Type())
        self.scale = self.zero_point = None
        q = t.Quantization()
        if q is not None and q.ScaleLength():
            self.scale = q.ScaleAsNumpy().astype(np.float32)
            self.zero_point = q.ZeroPointAsNumpy().astype(np.int64)
        buf = model.Buffers(t.Buffer())
        self.data = None
        if buf is not None and buf.DataLength() and self.dtype is not None:
            self.data = np.frombuffer(buf.DataAsNumpy().tobytes(), dtype=self.dtype).reshape(self.shape)

    def q(self):
        """(scale, zero point) of a per-tensor quantised activation."""
        assert self.scale is not None and len(self.scale) == 1, self.name
        return [float(self.scale[0]), int(self.zero_point[0])]


class Op:
    def __init__(self, index, o, model):
        self.index = index
        self.name = OPNAMES[max(model.OperatorCodes(o.OpcodeIndex()).BuiltinCode(),
                                model.OperatorCodes(o.OpcodeIndex()).DeprecatedBuiltinCode())]
        self.inputs = [int(i) for i in o.InputsAsNumpy()] if o.InputsLength() else []
        self.outputs = [int(i) for i in o.OutputsAsNumpy()] if o.OutputsLength() else []
        self.opt = {}
        if self.name in OPTIONS and o.BuiltinOptions() is not None:
            cls, fields = OPTIONS[self.name]
            table = o.BuiltinOptions()
            x = cls()
            x.Init(table.Bytes, table.Pos)
            self.opt = {f: getattr(x, f)() for f in fields}


def load_subgraph(path, index):
    model = tflite.Model.GetRootAsModel(Path(path).read_bytes(), 0)
    sg = model.Subgraphs(index)
    tensors = [Tensor(i, sg.Tensors(i), model) for i in range(sg.TensorsLength())]
    ops = [Op(i, sg.Operators(i), model) for i in range(sg.OperatorsLength())]
    return tensors, ops, [int(i) for i in sg.InputsAsNumpy()], [int(i) for i in sg.OutputsAsNumpy()]


# ---- folding a streaming graph into a layer plan ------------------------------------------

class Value:
    """An activation the plan names: [time, channels], f32 or int8 with (scale, zero point)."""

    def __init__(self, vid, channels, q=None, dequantized_from=None):
        self.id = vid
        self.channels = channels
        self.q = q
        self.dequantized_from = dequantized_from  # the int8 value this f32 value exactly holds


class State:
    def __init__(self, name, frames):
        self.name = name
        self.frames = frames


class Window:
    """Stored past frames of a layer's input followed by its new frames."""

    def __init__(self, state, value):
        self.state = state
        self.value = value


class ZeroWindow:
    """A transposed convolution's stored overlap followed by zeros."""

    def __init__(self, state):
        self.state = state


class Overlapped:
    """A transposed convolution's output with its stored overlap added."""

    def __init__(self, tconv, state):
        self.tconv = tconv
        self.state = state


class SplitPart:
    def __init__(self, value, index, parts):
        self.value = value
        self.index = index
        self.parts = parts


class Head:
    """The part of an overlapped output that is final (emitted)."""

    def __init__(self, overlapped):
        self.overlapped = overlapped


class Ignored:
    pass


def time_len(t):
    return t.shape[1]


def channels_of(t):
    return t.shape[-1]


class Folder:
    def __init__(self, network, tensors, ops, inputs, outputs):
        self.network = network
        self.T = tensors
        self.ops = ops
        self.inputs = inputs
        self.outputs = outputs
        self.sym = {}
        self.layers = []
        self.weights = {}
        self.handles = {}
        self.next_id = 0
        self.pending_tconvs = []
        self.layer_names = set()

    def new_value(self, channels, q=None, dequantized_from=None):
        v = Value(f'v{self.next_id}', channels, q, dequantized_from)
        self.next_id += 1
        return v

    def emit(self, layer):
        self.layers.append(layer)

    def layer_name(self, tensor_name, kind):
        """A short, unique layer name from the TFLite tensor name (the Keras layer path)."""
        parts = [p for p in tensor_name.split(';')[0].split('/') if not p.startswith('streamable_model')]
        base = '/'.join(parts[:2]) if parts else kind
        base = base.replace('/', '.').replace(':', '_')
        name, n = base, 1
        while name in self.layer_names:
            n += 1
            name = f'{base}_{n}'
        self.layer_names.add(name)
        return name

    def put(self, name, array):
        key = f'{self.network}.{name}'
        assert key not in self.weights, key
        self.weights[key] = np.ascontiguousarray(array)

    def run(self):
        T = self.T
        shape = T[self.inputs[0]].shape  # [1, 320] samples or [1, 1, 64] features
        x = self.new_value(shape[-1] if len(shape) == 3 else 1)
        self.sym[self.inputs[0]] = x
        self.input_value = x
        for op in self.ops:
            getattr(self, 'op_' + op.name.lower())(op)
        out = self.sym[self.outputs[0]]
        assert isinstance(out, Value), type(out)
        self.output_value = out
        self.prune()

    # -- ops ---------------------------------------------------------------------------------
    def op_call_once(self, op):
        pass

    def op_var_handle(self, op):
        self.handles[op.outputs[0]] = op.opt['SharedName'].decode()

    def op_read_variable(self, op):
        t = self.T[op.outputs[0]]
        self.sym[op.outputs[0]] = State(self.handles[op.inputs[0]], time_len(t))

    def op_assign_variable(self, op):
        assert isinstance(self.sym[op.inputs[1]], Ignored), 'a state written from something unexpected'

    def op_reshape(self, op):
        # [1, 320] -> [1, 320, 1, 1] and back: the plan's values are [time, channels] already.
        self.sym[op.outputs[0]] = self.sym[op.inputs[0]]

    def op_concatenation(self, op):
        ins = [self.sym.get(i) for i in op.inputs]
        axis = op.opt['Axis']
        if axis == 1 and len(ins) == 2 and isinstance(ins[0], State):
            if isinstance(ins[1], Value):
                self.sym[op.outputs[0]] = Window(ins[0], ins[1])
                return
            data = self.T[op.inputs[1]].data
            assert data is not None and not data.any(), 'a state followed by something other than zeros'
            self.sym[op.outputs[0]] = ZeroWindow(ins[0])
            return
        if axis in (-1, 3) and all(isinstance(v, Head) for v in ins):
            # The groups of a grouped transposed convolution, back together.
            tconvs = [h.overlapped.tconv for h in ins]
            layer = self.grouped_tconv(tconvs)
            self.sym[op.outputs[0]] = layer
            return
        raise NotImplementedError(f'CONCATENATION {op.index}')

    def op_strided_slice(self, op):
        src = self.sym[op.inputs[0]]
        out_t = self.T[op.outputs[0]]
        begin = self.T[op.inputs[1]].data
        if isinstance(src, Window):
            # The state update: the window's last `state` frames.
            assert time_len(out_t) == src.state.frames
            self.sym[op.outputs[0]] = Ignored()
            return
        if isinstance(src, Overlapped):
            if int(begin[1]) == 0:
                self.sym[op.outputs[0]] = Head(src)
            else:
                assert time_len(out_t) == src.state.frames
                src.tconv['state_frames'] = src.state.frames
                self.sym[op.outputs[0]] = ('tail', src)
            return
        raise NotImplementedError(f'STRIDED_SLICE {op.index} on {type(src).__name__}')

    def op_sub(self, op):
        src = self.sym[op.inputs[0]]
        assert isinstance(src, tuple) and src[0] == 'tail', 'SUB outside a transposed convolution'
        tconv = src[1].tconv
        bias = self.T[op.inputs[1]].data
        # The stored overlap is the tail without the bias (the next frame's output adds it).
        assert np.array_equal(bias.reshape(-1), tconv['_float_bias'].reshape(-1)), 'overlap minus another bias'
        self.sym[op.outputs[0]] = Ignored()

    def op_quantize(self, op):
        src = self.sym[op.inputs[0]]
        q = self.T[op.outputs[0]].q()
        if isinstance(src, Window):
            qv = self.quantized(src.value, q)
            self.sym[op.outputs[0]] = Window(src.state, qv)
            self.state_q[src.state.name] = q
            return
        assert isinstance(src, Value)
        self.sym[op.outputs[0]] = self.quantized(src, q)

    def quantized(self, v, q):
        if v.q is not None:
            assert v.q == q, 'requantising int8 to another scale'
            return v
        if v.dequantized_from is not None and v.dequantized_from.q == q:
            return v.dequantized_from  # dequantise then quantise with the same parameters: identity
        out = self.new_value(v.channels, q)
        self.emit({'kind': 'quantize', 'input': v.id, 'output': out.id, 'q': q})
        return out

    def op_dequantize(self, op):
        src = self.sym[op.inputs[0]]
        if isinstance(src, Ignored):  # a state update's int8 frames, stored as f32
            self.sym[op.outputs[0]] = Ignored()
            return
        if isinstance(src, tuple):
            self.sym[op.outputs[0]] = src
            return
        if isinstance(src, dict):  # an int8 transposed convolution's output
            src['dequantize'] = True
            self.sym[op.outputs[0]] = src
            return
        assert isinstance(src, Value) and src.q is not None
        out = self.new_value(src.channels, None, dequantized_from=src)
        self.emit({'kind': 'dequantize', 'input': src.id, 'output': out.id})
        self.sym[op.outputs[0]] = out

    def op_leaky_relu(self, op):
        src = self.sym[op.inputs[0]]
        assert isinstance(src, Value)
        t_in, t_out = self.T[op.inputs[0]], self.T[op.outputs[0]]
        name = self.layer_name(t_out.name, 'leaky_relu')
        layer = {'kind': 'leaky_relu', 'name': name, 'input': src.id, 'alpha': float(np.float32(op.opt['Alpha']))}
        if t_in.dtype == np.int8:
            assert src.q == t_in.q()
            out = self.new_value(src.channels, t_out.q())
            layer['q_out'] = t_out.q()
        else:
            out = self.new_value(src.channels)
        layer['output'] = out.id
        self.emit(layer)
        self.sym[op.outputs[0]] = out

    def op_add(self, op):
        a, b = self.sym[op.inputs[0]], self.sym[op.inputs[1]]
        if isinstance(a, dict) and isinstance(b, ZeroWindow) or isinstance(b, dict) and isinstance(a, ZeroWindow):
            tconv, zw = (a, b) if isinstance(a, dict) else (b, a)
            self.sym[op.outputs[0]] = Overlapped(tconv, zw.state)
            return
        assert isinstance(a, Value) and isinstance(b, Value), op.index
        t_out = self.T[op.outputs[0]]
        out = self.new_value(a.channels, t_out.q() if t_out.dtype == np.int8 else None)
        layer = {'kind': 'add', 'inputs': [a.id, b.id], 'output': out.id}
        if t_out.dtype == np.int8:
            layer['q_out'] = t_out.q()
        self.emit(layer)
        self.sym[op.outputs[0]] = out

    def op_split(self, op):
        src = self.sym[op.inputs[1]]
        axis = int(self.T[op.inputs[0]].data)
        assert axis in (-1, 3) and isinstance(src, Value)
        n = op.opt['NumSplits']
        for i, o in enumerate(op.outputs):
            self.sym[o] = SplitPart(src, i, n)

    def conv_common(self, op, depthwise):
        src = self.sym[op.inputs[0]]
        w_t, b_t = self.T[op.inputs[1]], self.T[op.inputs[2]]
        t_out = self.T[op.outputs[0]]
        assert op.opt['Padding'] == PADDING_VALID and op.opt['FusedActivationFunction'] == 0
        if isinstance(src, Window):
            value, state_frames = src.value, src.state.frames
        else:
            value, state_frames = src, 0
        assert isinstance(value, Value)
        w = w_t.data
        if depthwise:
            assert op.opt['DepthMultiplier'] == 1
            kernel, channels = w.shape[1], w.shape[3]
            weight = np.transpose(w[0, :, 0, :], (1, 0))[:, :, None]  # [C, K, 1]
            out_ch, groups = channels, channels
        else:
            out_ch, kernel, _, in_per_group = w.shape
            weight = w[:, :, 0, :]  # [O, K, I/g]
            groups = value.channels // in_per_group
        stride, dilation = op.opt['StrideH'], op.opt['DilationHFactor']
        span = (kernel - 1) * dilation + 1
        assert state_frames == span - stride or state_frames == 0 and span == stride, \
            f'op {op.index}: state {state_frames}, kernel {kernel}, stride {stride}, dilation {dilation}'
        name = self.layer_name(t_out.name if depthwise or 'Conv2D' in w_t.name else w_t.name, 'conv')
        name = self.layer_name(w_t.name, 'conv') if name.startswith('Conv2D') else name
        layer = {'kind': 'conv', 'name': name, 'input': value.id, 'in_channels': value.channels,
                 'out_channels': out_ch, 'kernel': kernel, 'stride': stride, 'dilation': dilation,
                 'groups': groups, 'state_frames': state_frames}
        if value.q is not None:
            assert w_t.dtype == np.int8 and value.q == self.T[op.inputs[0]].q()
            scales = w_t.scale if len(w_t.scale) == out_ch else np.full(out_ch, w_t.scale[0], np.float32)
            assert not w_t.zero_point.any(), 'int8 weights with a zero point'
            self.put(f'{name}.weight', weight.astype(np.int8))
            self.put(f'{name}.weight_scale', scales.astype(np.float32))
            self.put(f'{name}.bias', b_t.data.astype(np.int32))
            layer['q_out'] = t_out.q()
            out = self.new_value(out_ch, t_out.q())
        else:
            assert w_t.dtype == np.float32 and b_t.dtype == np.float32
            self.put(f'{name}.weight', weight.astype(np.float32))
            self.put(f'{name}.bias', b_t.data.astype(np.float32))
            out = self.new_value(out_ch)
        layer['output'] = out.id
        self.emit(layer)
        self.sym[op.outputs[0]] = out

    def op_conv_2d(self, op):
        self.conv_common(op, depthwise=False)

    def op_depthwise_conv_2d(self, op):
        self.conv_common(op, depthwise=True)

    def op_transpose_conv(self, op):
        w_t = self.T[op.inputs[1]]
        src = self.sym[op.inputs[2]]
        b_t = self.T[op.inputs[3]] if len(op.inputs) > 3 and op.inputs[3] >= 0 else None
        t_out = self.T[op.outputs[0]]
        assert op.opt['Padding'] == PADDING_VALID and op.opt['FusedActivationFunction'] == 0
        if isinstance(src, SplitPart):
            value, group, groups = src.value, src.index, src.parts
        else:
            value, group, groups = src, 0, 1
        out_ch, kernel, _, in_ch = w_t.shape
        tconv = {'op': op, 'value': value, 'group': group, 'groups': groups, 'w': w_t, 'b': b_t,
                 'out': t_out, 'kernel': kernel, 'stride': op.opt['StrideH'], 'in_ch': in_ch,
                 'out_ch': out_ch, 'dequantize': False}
        self.sym[op.outputs[0]] = tconv

    def grouped_tconv(self, tconvs):
        first = tconvs[0]
        assert [t['group'] for t in tconvs] == list(range(first['groups']))
        assert all(t['value'] is first['value'] for t in tconvs)
        return self.finish_tconv(tconvs)

    def finish_tconv(self, tconvs):
        first = tconvs[0]
        value = first['value']
        name = self.layer_name(first['out'].name, 'tconv')
        kernel, stride = first['kernel'], first['stride']
        assert all(t['kernel'] == kernel and t['stride'] == stride for t in tconvs)
        groups = len(tconvs)
        out_per_group = first['out_ch']
        layer = {'kind': 'tconv', 'name': name, 'input': value.id, 'in_channels': value.channels,
                 'out_channels': out_per_group * groups, 'kernel': kernel, 'stride': stride,
                 'groups': groups, 'state_frames': first.get('state_frames', kernel - stride)}
        # weight [O, K, I] per group, stacked along O
        weight = np.concatenate([t['w'].data[:, :, 0, :] for t in tconvs], axis=0)
        if value.q is not None:
            assert all(t['w'].dtype == np.int8 for t in tconvs)
            scales = np.concatenate([np.full(t['out_ch'], t['w'].scale[0], np.float32) if len(t['w'].scale) == 1
                                     else t['w'].scale for t in tconvs])
            self.put(f'{name}.weight', weight.astype(np.int8))
            self.put(f'{name}.weight_scale', scales.astype(np.float32))
            self.put(f'{name}.bias', np.concatenate([t['b'].data for t in tconvs]).astype(np.int32))
            # One output scale per group: the groups are separate TFLite ops.
            layer['q_out_groups'] = [t['out'].q() for t in tconvs]
            assert all(t['dequantize'] for t in tconvs)
        else:
            self.put(f'{name}.weight', weight.astype(np.float32))
            self.put(f'{name}.bias', np.concatenate([t['b'].data for t in tconvs]).astype(np.float32))
        # The float bias the graph subtracts from the stored overlap (the int8 layers' bias in f32).
        self.put(f'{name}.overlap_bias', np.concatenate([t['_float_bias'] for t in tconvs]).astype(np.float32))
        out = self.new_value(out_per_group * groups)
        layer['output'] = out.id
        self.emit(layer)
        return out

    def prune(self):
        """Drops layers whose output nothing reads (dequantisations the folding made unneeded)."""
        while True:
            used = {self.output_value.id}
            for layer in self.layers:
                used.update(layer['inputs'] if 'inputs' in layer else [layer['input']])
            keep = [l for l in self.layers if l['output'] in used]
            if len(keep) == len(self.layers):
                break
            self.layers = keep


def fold(network, path):
    tensors, ops, inputs, outputs = load_subgraph(path, 0)
    f = Folder(network, tensors, ops, inputs, outputs)
    f.state_q = {}
    # Transposed convolutions: the SUB that follows the tail slice names the float bias; find it
    # first so finish_tconv can store it.
    float_bias = {}
    producers = {o: op for op in ops for o in op.outputs}
    for op in ops:
        if op.name == 'SUB':
            src = op.inputs[0]
            while producers[src].name != 'TRANSPOSE_CONV':
                p = producers[src]
                src = p.inputs[0] if p.name != 'ADD' else next(
                    i for i in p.inputs if producers.get(i) is not None and producers[i].name in ('TRANSPOSE_CONV', 'DEQUANTIZE'))
            float_bias[src] = tensors[op.inputs[1]].data.astype(np.float32)
    orig = f.op_transpose_conv

    def with_bias(op):
        orig(op)
        f.sym[op.outputs[0]]['_float_bias'] = float_bias[op.outputs[0]]
    f.op_transpose_conv = with_bias
    # An ungrouped transposed convolution ends at its head slice (no concatenation follows).
    orig_slice = f.op_strided_slice

    def slice_then_finish(op):
        orig_slice(op)
        s = f.sym[op.outputs[0]]
        if isinstance(s, Head) and s.overlapped.tconv['groups'] == 1:
            f.sym[op.outputs[0]] = f.finish_tconv([s.overlapped.tconv])
    f.op_strided_slice = slice_then_finish
    f.run()
    return f


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def codebooks(path):
    tensors, ops, _, _ = load_subgraph(path, 1)  # the `encode` signature
    books = [tensors[op.inputs[1]].data.reshape(16, 64) for op in ops if op.name == 'SQUARED_DIFFERENCE']
    gathered = [tensors[op.inputs[0]].data for op in ops if op.name == 'GATHER']
    assert len(books) == 46 and all(np.array_equal(a, b) for a, b in zip(books, gathered))
    return np.stack(books).astype(np.float32)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--models', default='../shared/lyra-v2')
    ap.add_argument('--out', default='weights/lyra-v2')
    args = ap.parse_args()
    models, out = Path(args.models), Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    enc = fold('encoder', models / 'soundstream_encoder.tflite')
    dec = fold('decoder', models / 'lyragan.tflite')
    weights = {**enc.weights, **dec.weights, 'quantizer.codebooks': codebooks(models / 'quantizer.tflite')}
    save_file(weights, str(out / 'lyra.safetensors'), metadata={'format': 'lyra-v2'})

    def plan(f):
        return {'input': f.input_value.id, 'output': f.output_value.id,
                'output_q': f.output_value.q, 'layers': f.layers}
    config = {
        'model': 'lyra-v2',
        'sample_rate': 16000,
        'frame_samples': 320,
        'features': 64,
        'quantizers': 46,
        'codebook_size': 16,
        'bits_per_quantizer': 4,
        'bitrates_bps': {'3200': 64, '6000': 120, '9200': 184},
        'encoder': plan(enc),
        'decoder': plan(dec),
        'source': {name: sha256(models / name) for name in
                   ['soundstream_encoder.tflite', 'quantizer.tflite', 'lyragan.tflite']},
    }
    (out / 'config.json').write_text(json.dumps(config, indent=1) + '\n')
    kinds = {}
    for f in (enc, dec):
        for l in f.layers:
            kinds[(f.network, l['kind'])] = kinds.get((f.network, l['kind']), 0) + 1
    print('layers:', kinds)
    print('tensors:', len(weights), 'bytes:', (out / 'lyra.safetensors').stat().st_size)


if __name__ == '__main__':
    main()
