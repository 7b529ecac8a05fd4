//! `encodec_rs._native`: the Python face of the `encodec` crate, kept thin: each class wraps
//! one library type ([`Compressor`](encodec::levels::Compressor), [`LiveEncoder`],
//! [`LiveDecoder`], [`encodec::Player`]) and every call that codes audio releases the GIL. The async methods and the
//! package's docs are in `python/encodec_rs/__init__.py`.

use std::sync::{Arc, Mutex};

use encodec::audio::{wav_bytes, WavFormat};
use encodec::encodec::Models;
use encodec::hub::HubOptions;
use encodec::levels::{self, Level, Metadata, Unpacked};
use encodec::live::{LiveCodec, LiveDecoder, LiveEncoder};
use numpy::{AllowTypeChange, PyArray2, PyArrayLikeDyn, PyUntypedArrayMethods};
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

create_exception!(
    _native,
    EncodecError,
    PyException,
    "An error of the encodec library: bad input, a missing model, an unsupported setting."
);

/// The library's error as a Python exception, its message kept.
fn py_error(error: encodec::Error) -> PyErr {
    EncodecError::new_err(error.to_string())
}

/// A lock that a panic elsewhere did not spoil (the data inside stays consistent: every
/// method either finishes its change or returns an error before making it).
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Where the EnCodec model comes from: a folder or Hub id, else the Hub's default; options
/// from the environment, no progress bar (a server's output is its log).
fn models(model: Option<String>) -> Models {
    Models::spec(model, HubOptions { progress: false, ..HubOptions::from_env() })
}

/// A compressed file: `.data` (bytes) and `.metadata` (dict).
#[pyclass(frozen, module = "encodec_rs")]
struct Packed {
    data: Py<PyBytes>,
    metadata: Py<PyDict>,
}

#[pymethods]
impl Packed {
    /// The compressed file's bytes.
    #[getter]
    fn data(&self, py: Python<'_>) -> Py<PyBytes> {
        self.data.clone_ref(py)
    }

    /// What was done: codec, level, is_compressed, original_size, compressed_size, ratio,
    /// duration_s (None when not read as audio), truncated, fallback_reason.
    #[getter]
    fn metadata(&self, py: Python<'_>) -> Py<PyDict> {
        self.metadata.clone_ref(py)
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!("Packed({} bytes, {})", self.data.bind(py).as_bytes().len(), self.metadata.bind(py))
    }
}

fn metadata_dict<'py>(py: Python<'py>, m: &Metadata) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    dict.set_item("codec", m.codec)?;
    dict.set_item("level", m.level)?;
    dict.set_item("is_compressed", m.is_compressed)?;
    dict.set_item("original_size", m.original_size)?;
    dict.set_item("compressed_size", m.compressed_size)?;
    dict.set_item("ratio", m.ratio)?;
    dict.set_item("duration_s", m.duration_s)?;
    dict.set_item("truncated", m.truncated)?;
    dict.set_item("fallback_reason", m.fallback_reason.as_deref())?;
    Ok(dict)
}

/// Decoded audio: `.samples` (float32, [channels, samples]), `.sample_rate`, `.to_wav()`.
#[pyclass(frozen, module = "encodec_rs")]
struct Audio {
    audio: encodec::audio::Audio,
}

#[pymethods]
impl Audio {
    /// The samples as a new float32 array, [channels, samples].
    #[getter]
    fn samples<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f32>>> {
        pcm_array(py, &self.audio.channels)
    }

    /// Samples per second.
    #[getter]
    fn sample_rate(&self) -> u32 {
        self.audio.sample_rate
    }

    /// Channels.
    #[getter]
    fn channels(&self) -> usize {
        self.audio.channels.len()
    }

    /// Seconds of audio.
    #[getter]
    fn duration_s(&self) -> f64 {
        self.audio.len() as f64 / self.audio.sample_rate as f64
    }

    /// A 16-bit WAV file of the audio (`float=True`: 32-bit float, as decoded).
    #[pyo3(signature = (float = false))]
    fn to_wav<'py>(&self, py: Python<'py>, float: bool) -> PyResult<Bound<'py, PyBytes>> {
        let format = if float { WavFormat::Float32 } else { WavFormat::Pcm16 };
        let bytes = wav_bytes(&self.audio.channels, self.audio.sample_rate, format).map_err(py_error)?;
        Ok(PyBytes::new(py, &bytes))
    }

    fn __repr__(&self) -> String {
        format!(
            "Audio({} channels, {} samples at {} Hz)",
            self.audio.channels.len(),
            self.audio.len(),
            self.audio.sample_rate
        )
    }
}

/// `[channels][samples]` as a 2-D float32 array (channels of equal length).
fn pcm_array<'py>(py: Python<'py>, pcm: &[Vec<f32>]) -> PyResult<Bound<'py, PyArray2<f32>>> {
    if pcm.is_empty() {
        return Ok(PyArray2::zeros(py, [0, 0], false));
    }
    PyArray2::from_vec2(py, pcm).map_err(|e| EncodecError::new_err(e.to_string()))
}

/// A numpy array-like of samples, [channels, samples] or [samples] (mono), as
/// `[channels][samples]`.
fn pcm_from(array: &PyArrayLikeDyn<'_, f32, AllowTypeChange>) -> PyResult<Vec<Vec<f32>>> {
    let view = array.as_array();
    match view.ndim() {
        1 => Ok(vec![view.iter().copied().collect()]),
        2 => Ok(view.outer_iter().map(|channel| channel.iter().copied().collect()).collect()),
        n => Err(EncodecError::new_err(format!(
            "PCM must be [samples] or [channels, samples], not an array of {n} dimensions (shape {:?})",
            array.shape()
        ))),
    }
}

fn packed(py: Python<'_>, compressed: levels::Compressed) -> PyResult<Packed> {
    Ok(Packed {
        data: PyBytes::new(py, &compressed.bytes).unbind(),
        metadata: metadata_dict(py, &compressed.metadata)?.unbind(),
    })
}

/// Compresses audio files at a cache level, falling back along its chain, with statistics.
#[pyclass(subclass, frozen, module = "encodec_rs")]
struct Compressor {
    inner: Arc<levels::Compressor>,
    algorithm: String,
}

#[pymethods]
impl Compressor {
    #[new]
    #[pyo3(signature = (level = "ultra", codec = None, bandwidth = None, min_size = 1024, model = None))]
    fn new(
        level: &str,
        codec: Option<&str>,
        bandwidth: Option<f32>,
        min_size: u64,
        model: Option<String>,
    ) -> PyResult<Self> {
        let level = Level::from_names(level, codec, bandwidth).map_err(py_error)?;
        let inner = levels::Compressor::new(level, models(model)).with_min_size(min_size);
        Ok(Self { inner: Arc::new(inner), algorithm: level.to_string() })
    }

    /// Whether input of this size (an int, or the bytes themselves) is compressed at all:
    /// smaller input is stored as it is, unparsed.
    fn should_compress(&self, size_or_data: &Bound<'_, PyAny>) -> PyResult<bool> {
        // An int is the size; anything with a length (bytes, bytearray, memoryview) is the data.
        let size = match size_or_data.extract::<u64>() {
            Ok(size) => size,
            Err(_) => size_or_data.len()? as u64,
        };
        Ok(self.inner.should_compress(size))
    }

    /// Compresses any bytes: an audio file (WAV, MP3, M4A, FLAC, Ogg, Opus, .ecdc, .lyra, or
    /// gzip of one; whole or cut short) at the level; anything else, or what is below
    /// min_size, as gzip or stored (metadata["fallback_reason"] says why). Never larger than
    /// the input; raises EncodecError only for I/O, never for the content. Returns a Packed.
    fn compress(&self, py: Python<'_>, data: &[u8]) -> PyResult<Packed> {
        let inner = self.inner.clone();
        packed(py, py.detach(|| inner.compress(data)).map_err(py_error)?)
    }

    /// Compresses one slice of a stream (a WebSocket chunk of an MP3, WAV or PCM stream, cut
    /// anywhere) as a gzip layer does: never parsed, gzip if it is at least min_size and gzip
    /// shrinks it, else the bytes as they are; restore() gives them back exactly. For a live
    /// neural or Opus stream of PCM, use StreamEncoder. Returns a Packed.
    fn compress_chunk(&self, py: Python<'_>, data: &[u8]) -> PyResult<Packed> {
        let inner = self.inner.clone();
        packed(py, py.detach(|| inner.compress_chunk(data)).map_err(py_error)?)
    }

    /// Decodes any file `compress` writes or reads, told by its first bytes: returns an Audio.
    fn decompress(&self, py: Python<'_>, data: &[u8]) -> PyResult<Audio> {
        let inner = self.inner.clone();
        let decoded = py.detach(|| levels::decompress(data, inner.models())).map_err(py_error)?;
        Ok(Audio { audio: decoded.audio })
    }

    /// The exact bytes compress() or compress_chunk() was given, from what it stored (gzip,
    /// or the bytes themselves). is_compressed: the metadata's flag; None if not kept (then
    /// gzip is inflated and anything else returned as it is). A codec's file raises
    /// EncodecError: decompress() it.
    #[pyo3(signature = (data, is_compressed = None))]
    fn restore<'py>(
        &self,
        py: Python<'py>,
        data: &[u8],
        is_compressed: Option<bool>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let original = py.detach(|| levels::restore(data, is_compressed)).map_err(py_error)?;
        Ok(PyBytes::new(py, &original))
    }

    /// What was stored, in the form it came: bytes (the original's, exactly) for stored and
    /// gzip, an Audio for a codec's file. is_compressed as for restore().
    #[pyo3(signature = (data, is_compressed = None))]
    fn unpack(&self, py: Python<'_>, data: &[u8], is_compressed: Option<bool>) -> PyResult<Py<PyAny>> {
        let inner = self.inner.clone();
        let unpacked = py.detach(|| levels::unpack(data, is_compressed, inner.models())).map_err(py_error)?;
        Ok(match unpacked {
            Unpacked::Original(bytes) => PyBytes::new(py, &bytes).into_any().unbind(),
            Unpacked::Audio(decoded) => Py::new(py, Audio { audio: decoded.audio })?.into_any(),
        })
    }

    /// Statistics of the calls so far: algorithm, total_compressed, total_original_bytes,
    /// total_compressed_bytes, average_ratio, overall_ratio, fallbacks, min_size_threshold,
    /// by_codec.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let stats = self.inner.stats();
        let dict = PyDict::new(py);
        dict.set_item("algorithm", &self.algorithm)?;
        dict.set_item("total_compressed", stats.files)?;
        dict.set_item("total_original_bytes", stats.original_bytes)?;
        dict.set_item("total_compressed_bytes", stats.compressed_bytes)?;
        dict.set_item("average_ratio", stats.average_ratio)?;
        dict.set_item("overall_ratio", stats.overall_ratio)?;
        dict.set_item("fallbacks", stats.fallbacks)?;
        dict.set_item("min_size_threshold", stats.threshold_bytes)?;
        let by_codec = PyDict::new(py);
        for (codec, c) in &stats.by_codec {
            let entry = PyDict::new(py);
            entry.set_item("files", c.files)?;
            entry.set_item("original_bytes", c.original_bytes)?;
            entry.set_item("compressed_bytes", c.compressed_bytes)?;
            entry.set_item("duration_s", c.duration_s)?;
            by_codec.set_item(*codec, entry)?;
        }
        dict.set_item("by_codec", by_codec)?;
        Ok(dict)
    }

    /// The level and codec, as in stats()["algorithm"].
    #[getter]
    fn algorithm(&self) -> &str {
        &self.algorithm
    }
}

/// PCM in, a live stream's bytes out (Lyra raw packets, or Ogg Opus pages).
#[pyclass(module = "encodec_rs")]
struct StreamEncoder {
    /// `None` once finished.
    inner: Mutex<Option<LiveEncoder>>,
}

fn finished() -> PyErr {
    EncodecError::new_err("the stream is finished")
}

#[pymethods]
impl StreamEncoder {
    #[new]
    #[pyo3(signature = (codec = "lyra", bandwidth = None, sample_rate = 16000, channels = 1))]
    fn new(codec: &str, bandwidth: Option<f32>, sample_rate: u32, channels: usize) -> PyResult<Self> {
        let codec = LiveCodec::from_name(codec, bandwidth).map_err(py_error)?;
        let encoder = LiveEncoder::new(codec, sample_rate, channels).map_err(py_error)?;
        Ok(Self { inner: Mutex::new(Some(encoder)) })
    }

    /// Takes PCM (float, [channels, samples] or [samples] for mono); returns the bytes it
    /// completes (possibly empty).
    fn push<'py>(
        &self,
        py: Python<'py>,
        pcm: PyArrayLikeDyn<'py, f32, AllowTypeChange>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let pcm = pcm_from(&pcm)?;
        let bytes = py.detach(|| match lock(&self.inner).as_mut() {
            Some(encoder) => encoder.push(&pcm).map_err(py_error),
            None => Err(finished()),
        })?;
        Ok(PyBytes::new(py, &bytes))
    }

    /// Ends the stream; returns its last bytes.
    fn finish<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let bytes = py.detach(|| match lock(&self.inner).take() {
            Some(encoder) => encoder.finish().map_err(py_error),
            None => Err(finished()),
        })?;
        Ok(PyBytes::new(py, &bytes))
    }
}

/// A live stream's bytes in (pieces of any size), PCM out.
#[pyclass(module = "encodec_rs")]
struct StreamDecoder {
    inner: Mutex<DecoderState>,
}

struct DecoderState {
    /// `None` once finished.
    live: Option<LiveDecoder>,
    /// The PCM's rate and channels, kept after the stream is finished.
    sample_rate: u32,
    channels: usize,
}

#[pymethods]
impl StreamDecoder {
    #[new]
    #[pyo3(signature = (codec = "lyra", bandwidth = None))]
    fn new(codec: &str, bandwidth: Option<f32>) -> PyResult<Self> {
        let codec = LiveCodec::from_name(codec, bandwidth).map_err(py_error)?;
        let live = LiveDecoder::new(codec).map_err(py_error)?;
        let (sample_rate, channels) = (live.sample_rate(), live.channels());
        Ok(Self { inner: Mutex::new(DecoderState { live: Some(live), sample_rate, channels }) })
    }

    /// Takes the next bytes; returns the PCM they complete, float32 [channels, samples].
    fn push<'py>(&self, py: Python<'py>, data: &[u8]) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let pcm = py.detach(|| {
            let mut state = lock(&self.inner);
            let live = state.live.as_mut().ok_or_else(finished)?;
            let pcm = live.push(data).map_err(py_error)?;
            (state.sample_rate, state.channels) = (live.sample_rate(), live.channels());
            Ok::<_, PyErr>(pcm)
        })?;
        pcm_array(py, &pcm)
    }

    /// Ends the stream: raises EncodecError if it stopped inside a packet or page.
    fn finish<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let live = lock(&self.inner).live.take().ok_or_else(finished)?;
        pcm_array(py, &live.finish().map_err(py_error)?)
    }

    /// Samples per second of what push returns (Opus: 0 until its header has arrived).
    #[getter]
    fn sample_rate(&self) -> u32 {
        lock(&self.inner).sample_rate
    }

    /// Channels of what push returns (Opus: 0 until its header has arrived).
    #[getter]
    fn channels(&self) -> usize {
        lock(&self.inner).channels
    }
}

/// A file to play: bytes, or a path (str or os.PathLike).
#[derive(FromPyObject)]
enum SourceArg {
    Bytes(Vec<u8>),
    Path(std::path::PathBuf),
}

impl From<SourceArg> for encodec::player::Source {
    fn from(source: SourceArg) -> Self {
        match source {
            SourceArg::Bytes(bytes) => bytes.into(),
            SourceArg::Path(path) => path.into(),
        }
    }
}

/// A pull decoder of cached files, played back to back: wraps [`encodec::Player`].
#[pyclass(module = "encodec_rs")]
struct Player {
    inner: Mutex<encodec::Player>,
    /// Frames per block when iterated.
    block: usize,
}

#[pymethods]
impl Player {
    #[new]
    #[pyo3(signature = (source, model = None, block = 4096, lyra_bandwidth = None))]
    fn new(
        py: Python<'_>,
        source: SourceArg,
        model: Option<String>,
        block: usize,
        lyra_bandwidth: Option<f32>,
    ) -> PyResult<Self> {
        if block == 0 {
            return Err(EncodecError::new_err("block must be at least 1 frame"));
        }
        let mut options = encodec::PlayerOptions::with_models(models(model));
        if let Some(kbps) = lyra_bandwidth {
            let bitrate = encodec::lyra::Bitrate::try_from_kbps(kbps).map_err(py_error)?;
            options = options.raw_lyra_bitrate(bitrate);
        }
        let player = py.detach(|| options.open(source)).map_err(py_error)?;
        Ok(Self { inner: Mutex::new(player), block })
    }

    /// The next block of at most `frames` frames, float32 [channels, n]; n is 0 after the end.
    #[pyo3(signature = (frames = None))]
    fn read<'py>(&self, py: Python<'py>, frames: Option<usize>) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let frames = frames.unwrap_or(self.block);
        let (block, channels) = py.detach(|| {
            let mut player = lock(&self.inner);
            Ok::<_, PyErr>((player.read_planar(frames).map_err(py_error)?, player.channels()))
        })?;
        pcm_array(py, &block.unwrap_or_else(|| vec![Vec::new(); channels]))
    }

    /// Moves to `seconds` into the file playing, at its exact sample.
    fn seek(&self, py: Python<'_>, seconds: f64) -> PyResult<()> {
        py.detach(|| lock(&self.inner).seek(seconds)).map_err(py_error)
    }

    /// Plays `source` (bytes or a path) after what is queued, sample for sample.
    fn queue(&self, source: SourceArg) {
        lock(&self.inner).queue(source);
    }

    /// The length of the file playing, in seconds (None when it does not say).
    #[getter]
    fn duration(&self) -> Option<f64> {
        lock(&self.inner).duration()
    }

    /// Where in the file playing the next sample comes from, in seconds.
    #[getter]
    fn position(&self) -> f64 {
        lock(&self.inner).position()
    }

    /// Files queued after the one playing.
    #[getter]
    fn queued(&self) -> usize {
        lock(&self.inner).queued()
    }

    /// Samples per second (the first file's).
    #[getter]
    fn sample_rate(&self) -> u32 {
        lock(&self.inner).sample_rate()
    }

    /// Channels (the first file's).
    #[getter]
    fn channels(&self) -> usize {
        lock(&self.inner).channels()
    }

    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    /// The next block of `block` frames (fewer at the end), float32 [channels, n].
    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyArray2<f32>>>> {
        let block = py.detach(|| lock(&self.inner).read_planar(self.block)).map_err(py_error)?;
        block.map(|pcm| pcm_array(py, &pcm)).transpose()
    }
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("EncodecError", m.py().get_type::<EncodecError>())?;
    m.add_class::<Compressor>()?;
    m.add_class::<Packed>()?;
    m.add_class::<Audio>()?;
    m.add_class::<StreamEncoder>()?;
    m.add_class::<StreamDecoder>()?;
    m.add_class::<Player>()?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
