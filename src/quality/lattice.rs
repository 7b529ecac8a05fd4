//! Speech mode's default mapping: ViSQOL v3.3's deep-lattice network (TensorFlow Lattice,
//! calibrators and 60 lattices of 12 inputs), run from Google's own `.tflite` file.
//!
//! Written by hand because no maintained pure-Rust crate runs TFLite models: the file is read
//! with a bounds-checked FlatBuffers reader for the few tables of the TFLite schema it uses,
//! and its graph (16 kinds of float and integer tensor operations) is evaluated in order, in
//! f32 as the TFLite interpreter does. An operation the file does not use is an error, not a
//! guess.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::{Error, Result};

/// Google's model, unchanged (`assets/visqol/README.md`).
const MODEL: &[u8] =
    include_bytes!("../../assets/visqol/lattice_tcditugenmeetpackhref_ls2_nl60_lr12_bs2048_learn.005_ep2400_train1_7_raw.tflite");
/// The quantile the network is asked for (ViSQOL's default).
const TAU: f32 = 0.5;

/// The network, parsed once.
pub(crate) fn model() -> Result<&'static Lattice> {
    static PARSED: OnceLock<std::result::Result<Lattice, String>> = OnceLock::new();
    PARSED
        .get_or_init(|| Lattice::parse(MODEL).map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| Error::Quality(e.clone()))
}

fn bad(what: impl std::fmt::Display) -> Error {
    Error::Quality(format!("the lattice model: {what}"))
}

/// A FlatBuffers buffer, read with every offset checked.
#[derive(Clone, Copy)]
struct Buf<'a>(&'a [u8]);

/// A table: its position in the buffer.
#[derive(Clone, Copy)]
struct Table<'a> {
    buf: Buf<'a>,
    pos: usize,
}

impl<'a> Buf<'a> {
    fn bytes(&self, pos: usize, n: usize) -> Result<&'a [u8]> {
        self.0
            .get(pos..pos.checked_add(n).ok_or_else(|| bad("an offset overflows"))?)
            .ok_or_else(|| bad("an offset is out of the file"))
    }
    fn u16(&self, pos: usize) -> Result<u16> {
        Ok(u16::from_le_bytes(self.bytes(pos, 2)?.try_into().expect("2 bytes")))
    }
    fn u32(&self, pos: usize) -> Result<u32> {
        Ok(u32::from_le_bytes(self.bytes(pos, 4)?.try_into().expect("4 bytes")))
    }
    fn table(&self, pos: usize) -> Result<Table<'a>> {
        Ok(Table { buf: *self, pos: pos + self.u32(pos)? as usize })
    }
}

impl<'a> Table<'a> {
    /// Where field `id` is stored, if present.
    fn field(&self, id: usize) -> Result<Option<usize>> {
        let soffset = self.buf.u32(self.pos)? as i32 as i64;
        let vtable =
            usize::try_from(self.pos as i64 - soffset).map_err(|_| bad("a vtable is out of the file"))?;
        let vtable_len = self.buf.u16(vtable)? as usize;
        let entry = 4 + 2 * id;
        if entry + 2 > vtable_len {
            return Ok(None);
        }
        Ok(match self.buf.u16(vtable + entry)? {
            0 => None,
            offset => Some(self.pos + offset as usize),
        })
    }
    fn scalar<const N: usize>(&self, id: usize) -> Result<Option<[u8; N]>> {
        self.field(id)?.map(|p| Ok(self.buf.bytes(p, N)?.try_into().expect("N bytes"))).transpose()
    }
    fn u8(&self, id: usize) -> Result<u8> {
        Ok(self.scalar::<1>(id)?.map_or(0, |b| b[0]))
    }
    fn i32(&self, id: usize) -> Result<i32> {
        Ok(self.scalar::<4>(id)?.map_or(0, i32::from_le_bytes))
    }
    fn table(&self, id: usize) -> Result<Option<Table<'a>>> {
        self.field(id)?.map(|p| self.buf.table(p)).transpose()
    }
    /// A vector field: its length and where its elements start.
    fn vector(&self, id: usize) -> Result<(usize, usize)> {
        let Some(p) = self.field(id)? else { return Ok((0, 0)) };
        let start = p + self.buf.u32(p)? as usize;
        Ok((self.buf.u32(start)? as usize, start + 4))
    }
    fn tables(&self, id: usize) -> Result<Vec<Table<'a>>> {
        let (n, start) = self.vector(id)?;
        (0..n).map(|i| self.buf.table(start + 4 * i)).collect()
    }
    fn i32s(&self, id: usize) -> Result<Vec<i32>> {
        let (n, start) = self.vector(id)?;
        let bytes = self.buf.bytes(start, n.checked_mul(4).ok_or_else(|| bad("a vector is too long"))?)?;
        Ok(bytes.chunks_exact(4).map(|c| i32::from_le_bytes(c.try_into().expect("4 bytes"))).collect())
    }
    fn bytes(&self, id: usize) -> Result<&'a [u8]> {
        let (n, start) = self.vector(id)?;
        self.buf.bytes(start, n)
    }
    fn string(&self, id: usize) -> Result<&'a str> {
        std::str::from_utf8(self.bytes(id)?).map_err(|_| bad("a name is not UTF-8"))
    }
}

/// A tensor's values.
#[derive(Clone, Debug)]
enum Data {
    F32(Vec<f32>),
    I32(Vec<i32>),
    Bool(Vec<bool>),
}

#[derive(Clone, Debug)]
struct Tensor {
    shape: Vec<usize>,
    data: Data,
}

impl Tensor {
    fn f32(&self) -> Result<&[f32]> {
        match &self.data {
            Data::F32(v) => Ok(v),
            _ => Err(bad("a float tensor was expected")),
        }
    }
    fn i32(&self) -> Result<Vec<i64>> {
        match &self.data {
            Data::I32(v) => Ok(v.iter().map(|&x| x as i64).collect()),
            _ => Err(bad("an integer tensor was expected")),
        }
    }
    fn len(&self) -> usize {
        match &self.data {
            Data::F32(v) => v.len(),
            Data::I32(v) => v.len(),
            Data::Bool(v) => v.len(),
        }
    }
}

/// The TFLite operations this model uses (BuiltinOperator codes).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Add,
    Concatenation { axis: i32 },
    FullyConnected { keep_dims: bool },
    Mul,
    Relu,
    Reshape,
    Sub,
    Split { parts: usize },
    Cast,
    Minimum,
    ExpandDims,
    Equal,
    Shape,
    Fill,
    Abs,
    BatchMatMul { adj_x: bool, adj_y: bool },
}

#[derive(Clone, Debug)]
struct Op {
    kind: Kind,
    /// The fused activation of Add, Sub, Mul, Concatenation and FullyConnected: only none (0)
    /// and ReLU (1) occur.
    relu: bool,
    inputs: Vec<i32>,
    outputs: Vec<i32>,
}

/// TFLite's tensor element types used here.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Type {
    F32,
    I32,
    Bool,
}

/// The parsed network.
pub(crate) struct Lattice {
    ops: Vec<Op>,
    types: Vec<Type>,
    constants: HashMap<usize, Tensor>,
    /// Input name → tensor, and the output tensor.
    inputs: HashMap<String, usize>,
    output: usize,
}

impl Lattice {
    fn parse(bytes: &[u8]) -> Result<Self> {
        let buf = Buf(bytes);
        let model = buf.table(0)?;
        let codes: Vec<i32> =
            model.tables(1)?.iter().map(|c| Ok((c.u8(0)? as i32).max(c.i32(3)?))).collect::<Result<_>>()?;
        let subgraphs = model.tables(2)?;
        let graph = subgraphs.first().ok_or_else(|| bad("no subgraph"))?;
        let buffers = model.tables(4)?;
        let tensors = graph.tables(0)?;
        let mut types = Vec::with_capacity(tensors.len());
        let mut constants = HashMap::new();
        for (index, t) in tensors.iter().enumerate() {
            let ty = match t.u8(1)? {
                0 => Type::F32,
                2 => Type::I32,
                6 => Type::Bool,
                other => return Err(bad(format!("tensor type {other}"))),
            };
            types.push(ty);
            let shape: Vec<usize> = t.i32s(0)?.iter().map(|&d| d.max(0) as usize).collect();
            let buffer = t.i32(2)? as usize;
            let data = match buffers.get(buffer) {
                Some(b) if buffer != 0 => b.bytes(0)?,
                _ => &[][..],
            };
            if data.is_empty() {
                continue;
            }
            let data = match ty {
                Type::F32 => Data::F32(
                    data.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().expect("4"))).collect(),
                ),
                Type::I32 => Data::I32(
                    data.chunks_exact(4).map(|c| i32::from_le_bytes(c.try_into().expect("4"))).collect(),
                ),
                Type::Bool => Data::Bool(data.iter().map(|&b| b != 0).collect()),
            };
            let tensor = Tensor { shape, data };
            if tensor.len() != tensor.shape.iter().product::<usize>() {
                return Err(bad(format!("tensor {index} holds the wrong number of values")));
            }
            constants.insert(index, tensor);
        }
        let mut ops = Vec::new();
        for op in graph.tables(3)? {
            let code =
                *codes.get(op.i32(0)? as usize).ok_or_else(|| bad("an operator code is out of range"))?;
            let options = op.table(4)?;
            let flag = |id: usize| -> Result<u8> { options.map_or(Ok(0), |o| o.u8(id)) };
            let kind = match code {
                0 => Kind::Add,
                2 => Kind::Concatenation { axis: options.map_or(Ok(0), |o| o.i32(0))? },
                9 => Kind::FullyConnected { keep_dims: flag(2)? != 0 },
                18 => Kind::Mul,
                19 => Kind::Relu,
                22 => Kind::Reshape,
                41 => Kind::Sub,
                49 => Kind::Split { parts: options.map_or(Ok(0), |o| o.i32(0))?.max(1) as usize },
                53 => Kind::Cast,
                57 => Kind::Minimum,
                70 => Kind::ExpandDims,
                71 => Kind::Equal,
                77 => Kind::Shape,
                94 => Kind::Fill,
                101 => Kind::Abs,
                126 => Kind::BatchMatMul { adj_x: flag(0)? != 0, adj_y: flag(1)? != 0 },
                other => return Err(bad(format!("operator {other} is not one this reader runs"))),
            };
            let activation = match kind {
                Kind::Add | Kind::Sub | Kind::Mul | Kind::FullyConnected { .. } => flag(0)?,
                Kind::Concatenation { .. } => flag(1)?,
                _ => 0,
            };
            if activation > 1 {
                return Err(bad(format!("fused activation {activation}")));
            }
            ops.push(Op { kind, relu: activation == 1, inputs: op.i32s(1)?, outputs: op.i32s(2)? });
        }
        let signature = model.tables(7)?.into_iter().next().ok_or_else(|| bad("no signature"))?;
        let mut inputs = HashMap::new();
        for map in signature.tables(0)? {
            inputs.insert(map.string(0)?.to_owned(), map.i32(1)? as usize);
        }
        let output = signature.tables(1)?.first().ok_or_else(|| bad("no output"))?.i32(1)? as usize;
        Ok(Self { ops, types, constants, inputs, output })
    }

    /// MOS from speech mode's four per-band features (similarity, its 10 % quantile, pooled
    /// spread, degraded energy), 21 bands each.
    pub fn predict(&self, nsim: &[f64], nsim10: &[f64], stddev: &[f64], energy: &[f64]) -> Result<f64> {
        let mut values: Vec<Option<Tensor>> = vec![None; self.types.len()];
        let scalar = |v: f32| Tensor { shape: vec![1], data: Data::F32(vec![v]) };
        for (name, features) in
            [("fvnsim", nsim), ("fvnsim10_", nsim10), ("fstdnsim", stddev), ("fvdegenergy", energy)]
        {
            for (band, &v) in features.iter().enumerate() {
                let index = *self
                    .inputs
                    .get(&format!("{name}{band}"))
                    .ok_or_else(|| bad(format!("no input {name}{band}")))?;
                values[index] = Some(scalar(v as f32));
            }
        }
        let tau = *self.inputs.get("tau").ok_or_else(|| bad("no input tau"))?;
        values[tau] = Some(scalar(TAU));
        if self.inputs.len() != 4 * nsim.len() + 1 {
            return Err(bad(format!("{} inputs for {} bands", self.inputs.len(), nsim.len())));
        }
        for op in &self.ops {
            let get = |i: usize| -> Result<&Tensor> {
                let index = *op.inputs.get(i).ok_or_else(|| bad("an operator lacks an input"))?;
                let index = usize::try_from(index).map_err(|_| bad("an absent input is read"))?;
                values
                    .get(index)
                    .and_then(Option::as_ref)
                    .or_else(|| self.constants.get(&index))
                    .ok_or_else(|| bad(format!("tensor {index} is read before it is written")))
            };
            let results = self.run(op, &get)?;
            for (&index, result) in op.outputs.iter().zip(results) {
                let slot = values.get_mut(index as usize).ok_or_else(|| bad("an output is out of range"))?;
                *slot = Some(result);
            }
        }
        let out = values[self.output].as_ref().ok_or_else(|| bad("the output was not computed"))?;
        Ok(*out.f32()?.first().ok_or_else(|| bad("the output is empty"))? as f64)
    }

    fn run<'t>(&self, op: &Op, get: &dyn Fn(usize) -> Result<&'t Tensor>) -> Result<Vec<Tensor>> {
        let out_type =
            self.types[*op.outputs.first().ok_or_else(|| bad("an operator has no output"))? as usize];
        let relu = |t: Tensor, on: bool| -> Result<Tensor> {
            Ok(match on {
                true => {
                    Tensor { data: Data::F32(t.f32()?.iter().map(|v| v.max(0.0)).collect()), shape: t.shape }
                }
                false => t,
            })
        };
        Ok(vec![match op.kind {
            Kind::Add => relu(binary(get(0)?, get(1)?, |a, b| a + b)?, op.relu)?,
            Kind::Sub => relu(binary(get(0)?, get(1)?, |a, b| a - b)?, op.relu)?,
            Kind::Mul => relu(binary(get(0)?, get(1)?, |a, b| a * b)?, op.relu)?,
            Kind::Minimum => binary(get(0)?, get(1)?, f32::min)?,
            Kind::Equal => {
                let (a, b) = (get(0)?, get(1)?);
                let (shape, pairs) = broadcast(&a.shape, &b.shape)?;
                let data = match (&a.data, &b.data) {
                    (Data::F32(x), Data::F32(y)) => pairs.iter().map(|&(i, j)| x[i] == y[j]).collect(),
                    (Data::I32(x), Data::I32(y)) => pairs.iter().map(|&(i, j)| x[i] == y[j]).collect(),
                    _ => return Err(bad("EQUAL of mixed types")),
                };
                Tensor { shape, data: Data::Bool(data) }
            }
            Kind::Abs => map(get(0)?, f32::abs)?,
            Kind::Relu => map(get(0)?, |v| v.max(0.0))?,
            Kind::Cast => {
                let t = get(0)?;
                let as_f64: Vec<f64> = match &t.data {
                    Data::F32(v) => v.iter().map(|&x| x as f64).collect(),
                    Data::I32(v) => v.iter().map(|&x| x as f64).collect(),
                    Data::Bool(v) => v.iter().map(|&x| x as u8 as f64).collect(),
                };
                let data = match out_type {
                    Type::F32 => Data::F32(as_f64.iter().map(|&x| x as f32).collect()),
                    Type::I32 => Data::I32(as_f64.iter().map(|&x| x as i32).collect()),
                    Type::Bool => Data::Bool(as_f64.iter().map(|&x| x != 0.0).collect()),
                };
                Tensor { shape: t.shape.clone(), data }
            }
            Kind::Shape => {
                let t = get(0)?;
                Tensor {
                    shape: vec![t.shape.len()],
                    data: Data::I32(t.shape.iter().map(|&d| d as i32).collect()),
                }
            }
            Kind::Fill => {
                let dims: Vec<usize> = get(0)?.i32()?.iter().map(|&d| d.max(0) as usize).collect();
                let n: usize = dims.iter().product();
                let data = match &get(1)?.data {
                    Data::F32(v) => Data::F32(vec![*v.first().ok_or_else(|| bad("FILL of nothing"))?; n]),
                    Data::I32(v) => Data::I32(vec![*v.first().ok_or_else(|| bad("FILL of nothing"))?; n]),
                    Data::Bool(v) => Data::Bool(vec![*v.first().ok_or_else(|| bad("FILL of nothing"))?; n]),
                };
                Tensor { shape: dims, data }
            }
            Kind::ExpandDims => {
                let t = get(0)?;
                let axis = *get(1)?.i32()?.first().ok_or_else(|| bad("EXPAND_DIMS without an axis"))?;
                let rank = t.shape.len() as i64 + 1;
                let axis = if axis < 0 { axis + rank } else { axis };
                if !(0..rank).contains(&axis) {
                    return Err(bad("EXPAND_DIMS axis out of range"));
                }
                let mut shape = t.shape.clone();
                shape.insert(axis as usize, 1);
                Tensor { shape, data: t.data.clone() }
            }
            Kind::Reshape => {
                let t = get(0)?;
                let wanted = get(1)?.i32()?;
                let known: usize = wanted.iter().filter(|&&d| d >= 0).map(|&d| d as usize).product();
                let shape: Vec<usize> = wanted
                    .iter()
                    .map(|&d| match d {
                        -1 => t.len() / known.max(1),
                        d => d.max(0) as usize,
                    })
                    .collect();
                if shape.iter().product::<usize>() != t.len() {
                    return Err(bad("RESHAPE to a different size"));
                }
                Tensor { shape, data: t.data.clone() }
            }
            Kind::Concatenation { axis } => {
                let parts: Vec<&Tensor> = (0..op.inputs.len()).map(get).collect::<Result<_>>()?;
                relu(concatenate(&parts, axis)?, op.relu)?
            }
            Kind::Split { parts } => {
                return split(get(1)?, *get(0)?.i32()?.first().ok_or_else(|| bad("SPLIT axis"))?, parts)
            }
            Kind::FullyConnected { keep_dims } => {
                let (x, w) = (get(0)?, get(1)?);
                let bias = match op.inputs.get(2) {
                    Some(&i) if i >= 0 => Some(get(2)?.f32()?),
                    _ => None,
                };
                let (n, k) = match w.shape[..] {
                    [n, k] => (n, k),
                    _ => return Err(bad("FULLY_CONNECTED weights are not a matrix")),
                };
                let (xs, ws) = (x.f32()?, w.f32()?);
                if k == 0 || xs.len() % k != 0 || ws.len() != n * k {
                    return Err(bad("FULLY_CONNECTED shapes"));
                }
                let rows = xs.len() / k;
                let mut out = Vec::with_capacity(rows * n);
                for r in 0..rows {
                    for o in 0..n {
                        let dot: f32 = xs[r * k..(r + 1) * k]
                            .iter()
                            .zip(&ws[o * k..(o + 1) * k])
                            .map(|(a, b)| a * b)
                            .sum();
                        out.push(dot + bias.map_or(0.0, |b| b[o]));
                    }
                }
                let shape = match keep_dims {
                    true => x.shape[..x.shape.len() - 1].iter().copied().chain([n]).collect(),
                    false => vec![rows, n],
                };
                relu(Tensor { shape, data: Data::F32(out) }, op.relu)?
            }
            Kind::BatchMatMul { adj_x, adj_y } => batch_matmul(get(0)?, get(1)?, adj_x, adj_y)?,
        }])
    }
}

fn map(t: &Tensor, f: impl Fn(f32) -> f32) -> Result<Tensor> {
    Ok(Tensor { shape: t.shape.clone(), data: Data::F32(t.f32()?.iter().map(|&v| f(v)).collect()) })
}

/// A broadcast's output shape and, per output element, the two input indices.
type Broadcast = (Vec<usize>, Vec<(usize, usize)>);

/// Numpy-style broadcasting.
fn broadcast(a: &[usize], b: &[usize]) -> Result<Broadcast> {
    let rank = a.len().max(b.len());
    let pad = |s: &[usize]| -> Vec<usize> {
        std::iter::repeat_n(1, rank - s.len()).chain(s.iter().copied()).collect()
    };
    let (a, b) = (pad(a), pad(b));
    let shape: Vec<usize> = a
        .iter()
        .zip(&b)
        .map(|(&x, &y)| match (x, y) {
            (x, y) if x == y => Ok(x),
            (1, y) => Ok(y),
            (x, 1) => Ok(x),
            _ => Err(bad("shapes that do not broadcast")),
        })
        .collect::<Result<_>>()?;
    let strides = |s: &[usize]| -> Vec<usize> {
        let mut strides = vec![0; rank];
        let mut stride = 1;
        for d in (0..rank).rev() {
            strides[d] = if s[d] == 1 { 0 } else { stride };
            stride *= s[d];
        }
        strides
    };
    let (sa, sb) = (strides(&a), strides(&b));
    let total: usize = shape.iter().product();
    let mut pairs = Vec::with_capacity(total);
    let mut index = vec![0usize; rank];
    for _ in 0..total {
        let i = index.iter().zip(&sa).map(|(x, s)| x * s).sum();
        let j = index.iter().zip(&sb).map(|(x, s)| x * s).sum();
        pairs.push((i, j));
        for d in (0..rank).rev() {
            index[d] += 1;
            if index[d] < shape[d] {
                break;
            }
            index[d] = 0;
        }
    }
    Ok((shape, pairs))
}

fn binary(a: &Tensor, b: &Tensor, f: impl Fn(f32, f32) -> f32) -> Result<Tensor> {
    let (shape, pairs) = broadcast(&a.shape, &b.shape)?;
    let data = match (&a.data, &b.data) {
        (Data::F32(x), Data::F32(y)) => Data::F32(pairs.iter().map(|&(i, j)| f(x[i], y[j])).collect()),
        (Data::I32(x), Data::I32(y)) => {
            Data::I32(pairs.iter().map(|&(i, j)| f(x[i] as f32, y[j] as f32) as i32).collect())
        }
        _ => return Err(bad("an arithmetic operation of mixed types")),
    };
    Ok(Tensor { shape, data })
}

/// The size of the dimensions before, at and after `axis`.
fn around(shape: &[usize], axis: i64) -> Result<(usize, usize, usize, usize)> {
    let rank = shape.len() as i64;
    let axis = if axis < 0 { axis + rank } else { axis };
    if !(0..rank).contains(&axis) {
        return Err(bad("an axis is out of range"));
    }
    let axis = axis as usize;
    Ok((axis, shape[..axis].iter().product(), shape[axis], shape[axis + 1..].iter().product()))
}

fn concatenate(parts: &[&Tensor], axis: i32) -> Result<Tensor> {
    let first = parts.first().ok_or_else(|| bad("CONCATENATION of nothing"))?;
    let (axis, outer, _, inner) = around(&first.shape, axis as i64)?;
    let mut shape = first.shape.clone();
    shape[axis] = parts.iter().map(|p| p.shape.get(axis).copied().unwrap_or(0)).sum();
    let mut out = Vec::with_capacity(shape.iter().product());
    for o in 0..outer {
        for p in parts {
            let chunk = p.shape.get(axis).copied().unwrap_or(0) * inner;
            let values = p.f32()?;
            out.extend_from_slice(
                values.get(o * chunk..(o + 1) * chunk).ok_or_else(|| bad("CONCATENATION shapes"))?,
            );
        }
    }
    Ok(Tensor { shape, data: Data::F32(out) })
}

fn split(t: &Tensor, axis: i64, parts: usize) -> Result<Vec<Tensor>> {
    let (axis, outer, size, inner) = around(&t.shape, axis)?;
    if size % parts != 0 {
        return Err(bad("SPLIT into unequal parts"));
    }
    let piece = size / parts;
    let values = t.f32()?;
    Ok((0..parts)
        .map(|p| {
            let mut shape = t.shape.clone();
            shape[axis] = piece;
            let mut out = Vec::with_capacity(outer * piece * inner);
            for o in 0..outer {
                let start = (o * size + p * piece) * inner;
                out.extend_from_slice(&values[start..start + piece * inner]);
            }
            Tensor { shape, data: Data::F32(out) }
        })
        .collect())
}

fn batch_matmul(x: &Tensor, y: &Tensor, adj_x: bool, adj_y: bool) -> Result<Tensor> {
    if x.shape.len() < 2 || y.shape.len() < 2 {
        return Err(bad("BATCH_MATMUL of vectors"));
    }
    let (xr, xc) = (x.shape[x.shape.len() - 2], x.shape[x.shape.len() - 1]);
    let (yr, yc) = (y.shape[y.shape.len() - 2], y.shape[y.shape.len() - 1]);
    let (m, k) = if adj_x { (xc, xr) } else { (xr, xc) };
    let (k2, n) = if adj_y { (yc, yr) } else { (yr, yc) };
    if k != k2 {
        return Err(bad("BATCH_MATMUL shapes"));
    }
    let (batch, pairs) = broadcast(&x.shape[..x.shape.len() - 2], &y.shape[..y.shape.len() - 2])?;
    let (xs, ys) = (x.f32()?, y.f32()?);
    let mut out = Vec::with_capacity(pairs.len() * m * n);
    for &(bx, by) in &pairs {
        let xm = &xs[bx * xr * xc..(bx + 1) * xr * xc];
        let ym = &ys[by * yr * yc..(by + 1) * yr * yc];
        for i in 0..m {
            for j in 0..n {
                let mut sum = 0.0f32;
                for l in 0..k {
                    let a = if adj_x { xm[l * xc + i] } else { xm[i * xc + l] };
                    let b = if adj_y { ym[j * yc + l] } else { ym[l * yc + j] };
                    sum += a * b;
                }
                out.push(sum);
            }
        }
    }
    let shape = batch.into_iter().chain([m, n]).collect();
    Ok(Tensor { shape, data: Data::F32(out) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_model_reads_and_a_truncated_one_is_an_error() {
        let model = Lattice::parse(MODEL).unwrap();
        assert_eq!(model.inputs.len(), 85);
        assert!(Lattice::parse(&MODEL[..MODEL.len() / 2]).is_err());
        assert!(Lattice::parse(&[]).is_err());
    }
}
