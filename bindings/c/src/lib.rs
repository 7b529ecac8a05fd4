//! A C ABI over the `encodec` crate (header: `include/encodec.h`, made by cbindgen), for
//! Android (JNI), iOS (Swift), Flutter (`dart:ffi`) and C/C++ apps. Kept thin: a compressor
//! handle wraps [`encodec::levels::Compressor`], stream handles wrap [`LiveEncoder`] and
//! [`LiveDecoder`], a player handle wraps [`Player`].
//!
//! Conventions: every call returns an [`EncodecStatus`]; on failure
//! [`encodec_last_error_message`] says why (per thread). Inputs are borrowed for the call only.
//! Outputs ([`EncodecBytes`], [`EncodecPcm`]) are allocated here and belong to the caller, who
//! releases each with [`encodec_bytes_free`] / [`encodec_pcm_free`]. No Rust panic crosses the
//! boundary: one is caught and returned as [`EncodecStatus::Panic`].
//!
//! Threads: a compressor may be used from many threads at once (calls take `const` handles).
//! A stream encoder or decoder, or a player, is used by one thread at a time (it may move
//! between threads).

#![allow(clippy::missing_safety_doc)] // the safety rules are the header's, stated once above

use std::cell::RefCell;
use std::ffi::{c_char, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

use encodec::audio::{deinterleave, interleave};
use encodec::encodec::Models;
use encodec::levels::{self, Level};
use encodec::live::{LiveCodec, LiveDecoder, LiveEncoder};
use encodec::{Player, PlayerOptions};

/// What a call did.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EncodecStatus {
    /// Success.
    Ok = 0,
    /// A required pointer was NULL, a string not UTF-8, or a length too large.
    InvalidArgument = 1,
    /// The library refused: bad or corrupt input, an unsupported setting, a missing model.
    Failed = 2,
    /// The stream was already finished.
    Finished = 3,
    /// A bug in the library (a caught panic); the handle should not be used again.
    Panic = 4,
}

/// Bytes allocated by the library; the caller owns them and releases them with
/// `encodec_bytes_free`. `data` is NULL when `len` is 0.
#[repr(C)]
pub struct EncodecBytes {
    /// The bytes.
    pub data: *mut u8,
    /// How many.
    pub len: usize,
}

/// Decoded PCM allocated by the library: `frames * channels` floats, interleaved, in [-1, 1].
/// The caller owns it and releases it with `encodec_pcm_free`. `samples` is NULL when
/// `frames` is 0.
#[repr(C)]
pub struct EncodecPcm {
    /// Interleaved samples (frame 0 channel 0, frame 0 channel 1, ...).
    pub samples: *mut f32,
    /// Samples per channel.
    pub frames: usize,
    /// Channels (0 only before an Opus stream's header has arrived).
    pub channels: u32,
    /// Samples per second (0 only before an Opus stream's header has arrived).
    pub sample_rate: u32,
}

/// A compressor at one cache level (opaque).
pub struct EncodecCompressor {
    inner: levels::Compressor,
}

/// A live stream encoder (opaque).
pub struct EncodecStreamEncoder {
    inner: Option<LiveEncoder>,
}

/// A live stream decoder (opaque).
pub struct EncodecStreamDecoder {
    inner: Option<LiveDecoder>,
}

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

fn set_error(message: String) {
    let message = CString::new(message.replace('\0', " ")).unwrap_or_default();
    LAST_ERROR.with(|last| *last.borrow_mut() = message);
}

/// The reason for this thread's last failed call ("" if none): valid until this thread's
/// next call into the library.
#[no_mangle]
pub extern "C" fn encodec_last_error_message() -> *const c_char {
    LAST_ERROR.with(|last| last.borrow().as_ptr())
}

/// The library's version, e.g. "0.1.0" (a static string).
#[no_mangle]
pub extern "C" fn encodec_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// Why a call failed, before it becomes a status and a message.
enum Failure {
    Argument(String),
    Library(encodec::Error),
    Finished,
}

impl From<encodec::Error> for Failure {
    fn from(error: encodec::Error) -> Self {
        Self::Library(error)
    }
}

/// Runs `body`, turning its failure or panic into a status and this thread's message.
fn guarded(body: impl FnOnce() -> Result<(), Failure>) -> EncodecStatus {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => EncodecStatus::Ok,
        Ok(Err(Failure::Argument(message))) => {
            set_error(message);
            EncodecStatus::InvalidArgument
        }
        Ok(Err(Failure::Library(error))) => {
            set_error(error.to_string());
            EncodecStatus::Failed
        }
        Ok(Err(Failure::Finished)) => {
            set_error("the stream is finished".into());
            EncodecStatus::Finished
        }
        Err(panic) => {
            let what = encodec::internals::panic_message(panic.as_ref());
            set_error(format!("internal error (a bug in encodec; please report it): {what}"));
            EncodecStatus::Panic
        }
    }
}

fn null(what: &str) -> Failure {
    Failure::Argument(format!("{what} is NULL"))
}

/// A C string argument; NULL is `None`.
unsafe fn optional_str<'a>(text: *const c_char, what: &str) -> Result<Option<&'a str>, Failure> {
    if text.is_null() {
        return Ok(None);
    }
    CStr::from_ptr(text).to_str().map(Some).map_err(|_| Failure::Argument(format!("{what} is not UTF-8")))
}

/// A byte buffer argument (`data` may be NULL when `len` is 0).
unsafe fn bytes_arg<'a>(data: *const u8, len: usize) -> Result<&'a [u8], Failure> {
    match (data.is_null(), len) {
        (_, 0) => Ok(&[]),
        (true, _) => Err(null("data")),
        (false, _) if len > isize::MAX as usize => {
            Err(Failure::Argument(format!("length {len} is too large")))
        }
        (false, _) => Ok(std::slice::from_raw_parts(data, len)),
    }
}

/// A kbps argument: 0 or less means the codec's default.
fn kbps_arg(kbps: f32) -> Option<f32> {
    (kbps > 0.0).then_some(kbps)
}

/// Writes `value` to the out-pointer `out`.
unsafe fn put<T>(out: *mut T, value: T, what: &str) -> Result<(), Failure> {
    if out.is_null() {
        return Err(null(what));
    }
    out.write(value);
    Ok(())
}

fn to_bytes(bytes: Vec<u8>) -> EncodecBytes {
    if bytes.is_empty() {
        return EncodecBytes { data: ptr::null_mut(), len: 0 };
    }
    let len = bytes.len();
    EncodecBytes { data: Box::into_raw(bytes.into_boxed_slice()).cast(), len }
}

fn to_pcm(channels: &[Vec<f32>], sample_rate: u32) -> EncodecPcm {
    let frames = channels.first().map_or(0, Vec::len);
    let samples = match frames {
        0 => ptr::null_mut(),
        _ => Box::into_raw(interleave(channels).into_boxed_slice()).cast(),
    };
    EncodecPcm { samples, frames, channels: channels.len() as u32, sample_rate }
}

/// Releases bytes the library returned, and empties `bytes` (NULL is ignored).
#[no_mangle]
pub unsafe extern "C" fn encodec_bytes_free(bytes: *mut EncodecBytes) {
    if let Some(bytes) = bytes.as_mut() {
        if !bytes.data.is_null() {
            drop(Box::from_raw(ptr::slice_from_raw_parts_mut(bytes.data, bytes.len)));
        }
        *bytes = EncodecBytes { data: ptr::null_mut(), len: 0 };
    }
}

/// Releases PCM the library returned, and empties `pcm` (NULL is ignored).
#[no_mangle]
pub unsafe extern "C" fn encodec_pcm_free(pcm: *mut EncodecPcm) {
    if let Some(pcm) = pcm.as_mut() {
        if !pcm.samples.is_null() {
            let len = pcm.frames * pcm.channels as usize;
            drop(Box::from_raw(ptr::slice_from_raw_parts_mut(pcm.samples, len)));
        }
        *pcm = EncodecPcm { samples: ptr::null_mut(), frames: 0, channels: 0, sample_rate: 0 };
    }
}

/// A compressor at `level` ("ultra", "compact", "standard", "lossless", "off") with `codec`
/// (NULL for the level's default; ultra: "ecdc" or "lyra"; standard: "aac", "he-aac",
/// "he-aac-v2") at `kbps` (0: the codec's default). `model_dir`: a folder with EnCodec's
/// config.json and model.safetensors, or NULL (then ultra with EnCodec falls back to Lyra,
/// whose weights are built in). Files under `min_size` bytes are stored as they are.
#[no_mangle]
pub unsafe extern "C" fn encodec_compressor_new(
    level: *const c_char,
    codec: *const c_char,
    kbps: f32,
    min_size: u64,
    model_dir: *const c_char,
    out: *mut *mut EncodecCompressor,
) -> EncodecStatus {
    guarded(|| {
        let level_name = optional_str(level, "level")?.ok_or_else(|| null("level"))?;
        let level = Level::from_names(level_name, optional_str(codec, "codec")?, kbps_arg(kbps))?;
        let models = match optional_str(model_dir, "model_dir")? {
            Some(dir) => Models::dir(dir),
            None => Models::none(),
        };
        let inner = levels::Compressor::new(level, models).with_min_size(min_size);
        put(out, Box::into_raw(Box::new(EncodecCompressor { inner })), "out")
    })
}

/// Releases a compressor (NULL is ignored).
#[no_mangle]
pub unsafe extern "C" fn encodec_compressor_free(compressor: *mut EncodecCompressor) {
    if !compressor.is_null() {
        drop(Box::from_raw(compressor));
    }
}

/// Whether a file of `size` bytes would be compressed (1) or stored as it is (0: below the
/// compressor's minimum size; also 0 for a NULL compressor).
#[no_mangle]
pub unsafe extern "C" fn encodec_should_compress(compressor: *const EncodecCompressor, size: u64) -> i32 {
    compressor.as_ref().is_some_and(|c| c.inner.should_compress(size)).into()
}

/// Compresses any bytes into `out`: an audio file (WAV, MP3, M4A, FLAC, Ogg, Opus, .ecdc,
/// .lyra, or gzip of one; whole or cut short) at the compressor's level, anything else (or
/// what is below the minimum size) as gzip or stored; never larger than the input, and never
/// ENCODEC_STATUS_FAILED for the content. `metadata_json` (may be NULL) receives what was
/// done, as UTF-8 JSON (codec, level, is_compressed, sizes, ratio, duration_s (null when not
/// read as audio), truncated, fallback_reason).
#[no_mangle]
pub unsafe extern "C" fn encodec_compress(
    compressor: *const EncodecCompressor,
    data: *const u8,
    len: usize,
    out: *mut EncodecBytes,
    metadata_json: *mut EncodecBytes,
) -> EncodecStatus {
    compress_with(compressor, data, len, out, metadata_json, levels::Compressor::compress)
}

/// Compresses one slice of a stream (a WebSocket chunk of an MP3, WAV or PCM stream, cut
/// anywhere) without parsing it: gzip if it is at least the minimum size and gzip shrinks it,
/// else the bytes as they are (always, at the off level); `encodec_restore` gives them back.
/// `metadata_json` as for `encodec_compress`.
#[no_mangle]
pub unsafe extern "C" fn encodec_compress_chunk(
    compressor: *const EncodecCompressor,
    data: *const u8,
    len: usize,
    out: *mut EncodecBytes,
    metadata_json: *mut EncodecBytes,
) -> EncodecStatus {
    compress_with(compressor, data, len, out, metadata_json, levels::Compressor::compress_chunk)
}

/// `encodec_compress` and `encodec_compress_chunk`: the arguments checked, `how` called, the
/// bytes and metadata handed out.
unsafe fn compress_with(
    compressor: *const EncodecCompressor,
    data: *const u8,
    len: usize,
    out: *mut EncodecBytes,
    metadata_json: *mut EncodecBytes,
    how: fn(&levels::Compressor, &[u8]) -> encodec::Result<levels::Compressed>,
) -> EncodecStatus {
    guarded(|| {
        let compressor = compressor.as_ref().ok_or_else(|| null("compressor"))?;
        if out.is_null() {
            return Err(null("out"));
        }
        let packed = how(&compressor.inner, bytes_arg(data, len)?)?;
        if !metadata_json.is_null() {
            let json = serde_json::to_vec(&packed.metadata).expect("metadata serialises");
            metadata_json.write(to_bytes(json));
        }
        put(out, to_bytes(packed.bytes), "out")
    })
}

/// The exact bytes `encodec_compress` or `encodec_compress_chunk` was given, from what it
/// stored (gzip or the bytes themselves), into `out`. `is_compressed`: the metadata's flag
/// (1 or 0), or -1 if it was not kept (then gzip is inflated and anything else returned as it
/// is). A codec's file (is_compressed 1, not gzip) fails: decode it with `encodec_decompress`.
#[no_mangle]
pub unsafe extern "C" fn encodec_restore(
    data: *const u8,
    len: usize,
    is_compressed: i32,
    out: *mut EncodecBytes,
) -> EncodecStatus {
    guarded(|| {
        let flag = match is_compressed {
            -1 => None,
            0 => Some(false),
            1 => Some(true),
            other => return Err(Failure::Argument(format!("is_compressed must be -1, 0 or 1, not {other}"))),
        };
        let original = levels::restore(bytes_arg(data, len)?, flag)?;
        put(out, to_bytes(original), "out")
    })
}

/// Decodes any file `encodec_compress` writes or reads into `out`.
#[no_mangle]
pub unsafe extern "C" fn encodec_decompress(
    compressor: *const EncodecCompressor,
    data: *const u8,
    len: usize,
    out: *mut EncodecPcm,
) -> EncodecStatus {
    guarded(|| {
        let compressor = compressor.as_ref().ok_or_else(|| null("compressor"))?;
        if out.is_null() {
            return Err(null("out"));
        }
        let decoded = levels::decompress(bytes_arg(data, len)?, compressor.inner.models())?;
        put(out, to_pcm(&decoded.audio.channels, decoded.audio.sample_rate), "out")
    })
}

/// The compressor's statistics so far as UTF-8 JSON (files, original_bytes, compressed_bytes,
/// average_ratio, overall_ratio, fallbacks, threshold_bytes, by_codec).
#[no_mangle]
pub unsafe extern "C" fn encodec_compressor_stats_json(
    compressor: *const EncodecCompressor,
    out: *mut EncodecBytes,
) -> EncodecStatus {
    guarded(|| {
        let compressor = compressor.as_ref().ok_or_else(|| null("compressor"))?;
        put(out, to_bytes(compressor.inner.stats().to_json().into_bytes()), "out")
    })
}

/// A live stream encoder: `codec` "lyra" (raw 20 ms packets) or "opus" (an Ogg page per
/// push) at `kbps` (0: default, Lyra 6, Opus 12), for PCM at `sample_rate` with `channels`.
#[no_mangle]
pub unsafe extern "C" fn encodec_stream_encoder_new(
    codec: *const c_char,
    kbps: f32,
    sample_rate: u32,
    channels: u32,
    out: *mut *mut EncodecStreamEncoder,
) -> EncodecStatus {
    guarded(|| {
        let codec = optional_str(codec, "codec")?.ok_or_else(|| null("codec"))?;
        let codec = LiveCodec::from_name(codec, kbps_arg(kbps))?;
        let inner = LiveEncoder::new(codec, sample_rate, channels as usize)?;
        put(out, Box::into_raw(Box::new(EncodecStreamEncoder { inner: Some(inner) })), "out")
    })
}

/// Takes `frames` frames of interleaved PCM (the encoder's channels each); `out` receives the
/// bytes they complete (possibly none).
#[no_mangle]
pub unsafe extern "C" fn encodec_stream_encoder_push(
    encoder: *mut EncodecStreamEncoder,
    samples: *const f32,
    frames: usize,
    channels: u32,
    out: *mut EncodecBytes,
) -> EncodecStatus {
    guarded(|| {
        let encoder = encoder.as_mut().ok_or_else(|| null("encoder"))?;
        let live = encoder.inner.as_mut().ok_or(Failure::Finished)?;
        let count =
            frames.checked_mul(channels as usize).filter(|&n| n <= isize::MAX as usize / 4).ok_or_else(
                || Failure::Argument(format!("{frames} frames of {channels} channels is too many")),
            )?;
        if channels == 0 {
            return Err(Failure::Argument("channels is 0".into()));
        }
        let interleaved: &[f32] = match (samples.is_null(), count) {
            (_, 0) => &[],
            (true, _) => return Err(null("samples")),
            (false, _) => std::slice::from_raw_parts(samples, count),
        };
        let pcm = deinterleave(interleaved, channels as usize);
        if out.is_null() {
            return Err(null("out"));
        }
        put(out, to_bytes(live.push(&pcm)?), "out")
    })
}

/// Ends the stream; `out` receives its last bytes. Later pushes return `Finished`.
#[no_mangle]
pub unsafe extern "C" fn encodec_stream_encoder_finish(
    encoder: *mut EncodecStreamEncoder,
    out: *mut EncodecBytes,
) -> EncodecStatus {
    guarded(|| {
        let encoder = encoder.as_mut().ok_or_else(|| null("encoder"))?;
        if out.is_null() {
            return Err(null("out"));
        }
        let live = encoder.inner.take().ok_or(Failure::Finished)?;
        put(out, to_bytes(live.finish()?), "out")
    })
}

/// Releases a stream encoder (NULL is ignored).
#[no_mangle]
pub unsafe extern "C" fn encodec_stream_encoder_free(encoder: *mut EncodecStreamEncoder) {
    if !encoder.is_null() {
        drop(Box::from_raw(encoder));
    }
}

/// A live stream decoder of what `encodec_stream_encoder_*` writes with the same codec and kbps.
#[no_mangle]
pub unsafe extern "C" fn encodec_stream_decoder_new(
    codec: *const c_char,
    kbps: f32,
    out: *mut *mut EncodecStreamDecoder,
) -> EncodecStatus {
    guarded(|| {
        let codec = optional_str(codec, "codec")?.ok_or_else(|| null("codec"))?;
        let inner = LiveDecoder::new(LiveCodec::from_name(codec, kbps_arg(kbps))?)?;
        put(out, Box::into_raw(Box::new(EncodecStreamDecoder { inner: Some(inner) })), "out")
    })
}

/// Takes the next `len` bytes of the stream (split anywhere); `out` receives the PCM they
/// complete (possibly none).
#[no_mangle]
pub unsafe extern "C" fn encodec_stream_decoder_push(
    decoder: *mut EncodecStreamDecoder,
    data: *const u8,
    len: usize,
    out: *mut EncodecPcm,
) -> EncodecStatus {
    guarded(|| {
        let decoder = decoder.as_mut().ok_or_else(|| null("decoder"))?;
        let live = decoder.inner.as_mut().ok_or(Failure::Finished)?;
        if out.is_null() {
            return Err(null("out"));
        }
        let pcm = live.push(bytes_arg(data, len)?)?;
        put(out, to_pcm(&pcm, live.sample_rate()), "out")
    })
}

/// Ends the stream: `Failed` if it stopped inside a packet or page. Later pushes return
/// `Finished`.
#[no_mangle]
pub unsafe extern "C" fn encodec_stream_decoder_finish(decoder: *mut EncodecStreamDecoder) -> EncodecStatus {
    guarded(|| {
        let decoder = decoder.as_mut().ok_or_else(|| null("decoder"))?;
        let live = decoder.inner.take().ok_or(Failure::Finished)?;
        live.finish()?;
        Ok(())
    })
}

/// Releases a stream decoder (NULL is ignored).
#[no_mangle]
pub unsafe extern "C" fn encodec_stream_decoder_free(decoder: *mut EncodecStreamDecoder) {
    if !decoder.is_null() {
        drop(Box::from_raw(decoder));
    }
}

/// A pull decoder of cached files, played back to back (opaque): wraps [`encodec::Player`].
pub struct EncodecPlayer {
    inner: Player,
}

/// What a player is playing.
#[repr(C)]
pub struct EncodecPlayerInfo {
    /// Samples per second of what `encodec_player_read` gives (the first file's).
    pub sample_rate: u32,
    /// Channels, interleaved.
    pub channels: u32,
    /// The length of the file playing, in seconds; -1 when it does not say.
    pub duration: f64,
    /// Where in the file playing the next sample read comes from, in seconds.
    pub position: f64,
    /// Files queued after it.
    pub queued: u64,
}

unsafe fn player_options(model_dir: *const c_char) -> Result<PlayerOptions, Failure> {
    Ok(PlayerOptions::with_models(match optional_str(model_dir, "model_dir")? {
        Some(dir) => Models::dir(dir),
        None => Models::none(),
    }))
}

unsafe fn path_arg(path: *const c_char) -> Result<std::path::PathBuf, Failure> {
    Ok(optional_str(path, "path")?.ok_or_else(|| null("path"))?.into())
}

/// A player of the file at `path`: any file the library writes or reads (`.ecdc`, framed or
/// raw `.lyra` by its name, `.opus`, AAC, gzip, WAV, ...). `model_dir`: a folder with
/// EnCodec's config.json and model.safetensors for `.ecdc` files, or NULL.
#[no_mangle]
pub unsafe extern "C" fn encodec_player_open(
    path: *const c_char,
    model_dir: *const c_char,
    out: *mut *mut EncodecPlayer,
) -> EncodecStatus {
    guarded(|| {
        let inner = player_options(model_dir)?.open(path_arg(path)?)?;
        put(out, Box::into_raw(Box::new(EncodecPlayer { inner })), "out")
    })
}

/// As `encodec_player_open`, for a file's `len` bytes (copied).
#[no_mangle]
pub unsafe extern "C" fn encodec_player_open_bytes(
    data: *const u8,
    len: usize,
    model_dir: *const c_char,
    out: *mut *mut EncodecPlayer,
) -> EncodecStatus {
    guarded(|| {
        let inner = player_options(model_dir)?.open(bytes_arg(data, len)?.to_vec())?;
        put(out, Box::into_raw(Box::new(EncodecPlayer { inner })), "out")
    })
}

/// Plays the file at `path` after what is queued, its first sample right after the last
/// one's last (opened when its turn comes: its error, if any, comes from a read).
#[no_mangle]
pub unsafe extern "C" fn encodec_player_queue(
    player: *mut EncodecPlayer,
    path: *const c_char,
) -> EncodecStatus {
    guarded(|| {
        let player = player.as_mut().ok_or_else(|| null("player"))?;
        player.inner.queue(path_arg(path)?);
        Ok(())
    })
}

/// As `encodec_player_queue`, for a file's `len` bytes (copied).
#[no_mangle]
pub unsafe extern "C" fn encodec_player_queue_bytes(
    player: *mut EncodecPlayer,
    data: *const u8,
    len: usize,
) -> EncodecStatus {
    guarded(|| {
        let player = player.as_mut().ok_or_else(|| null("player"))?;
        player.inner.queue(bytes_arg(data, len)?.to_vec());
        Ok(())
    })
}

/// Fills `out` (room for `frames` frames of `channels` interleaved floats) with the next
/// frames; `*read` receives how many: fewer than `frames` only at the end (0 after it) or
/// before an error. A file that fails is dropped: the next call goes on with the one after.
#[no_mangle]
pub unsafe extern "C" fn encodec_player_read(
    player: *mut EncodecPlayer,
    out: *mut f32,
    frames: usize,
    read: *mut usize,
) -> EncodecStatus {
    guarded(|| {
        let player = player.as_mut().ok_or_else(|| null("player"))?;
        let len = frames.checked_mul(player.inner.channels()).filter(|&n| n <= isize::MAX as usize / 4);
        let len = len.ok_or_else(|| Failure::Argument(format!("{frames} frames is too many")))?;
        if read.is_null() {
            return Err(null("read"));
        }
        let buffer: &mut [f32] = match (out.is_null(), len) {
            (_, 0) => &mut [],
            (true, _) => return Err(null("out")),
            (false, _) => std::slice::from_raw_parts_mut(out, len),
        };
        put(read, player.inner.read(buffer)?, "read")
    })
}

/// Moves to `seconds` into the file playing, at its exact sample (past its end: to its end).
#[no_mangle]
pub unsafe extern "C" fn encodec_player_seek(player: *mut EncodecPlayer, seconds: f64) -> EncodecStatus {
    guarded(|| {
        let player = player.as_mut().ok_or_else(|| null("player"))?;
        Ok(player.inner.seek(seconds)?)
    })
}

/// What the player plays: rate, channels, the file's duration and position.
#[no_mangle]
pub unsafe extern "C" fn encodec_player_info(
    player: *const EncodecPlayer,
    out: *mut EncodecPlayerInfo,
) -> EncodecStatus {
    guarded(|| {
        let player = &player.as_ref().ok_or_else(|| null("player"))?.inner;
        let info = EncodecPlayerInfo {
            sample_rate: player.sample_rate(),
            channels: player.channels() as u32,
            duration: player.duration().unwrap_or(-1.0),
            position: player.position(),
            queued: player.queued() as u64,
        };
        put(out, info, "out")
    })
}

/// Releases a player (NULL is ignored).
#[no_mangle]
pub unsafe extern "C" fn encodec_player_free(player: *mut EncodecPlayer) {
    if !player.is_null() {
        drop(Box::from_raw(player));
    }
}
