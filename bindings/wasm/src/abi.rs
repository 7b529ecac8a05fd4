//! The module's exports: handles are boxes passed to JavaScript as pointers, byte arguments are
//! buffers JavaScript filled after `encodec_alloc`, and a failure returns null (or -1) with its
//! message kept for `encodec_error`. Nothing here panics across the boundary on bad input: the
//! library's errors are values, and null handles are refused.

use std::cell::RefCell;

use super::{Decoder, Pcm, Stream};

thread_local! {
    static LAST_ERROR: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

fn fail<T>(message: impl ToString, failed: T) -> T {
    LAST_ERROR.with(|e| *e.borrow_mut() = message.to_string().into_bytes());
    failed
}

/// `len` bytes' slice at `ptr` (empty for a null or zero-length buffer).
///
/// # Safety
/// `ptr` is null or points to `len` readable bytes.
unsafe fn bytes<'a>(ptr: *const u8, len: usize) -> &'a [u8] {
    match ptr.is_null() || len == 0 {
        true => &[],
        false => std::slice::from_raw_parts(ptr, len),
    }
}

/// The handle's target, or `None` for null.
///
/// # Safety
/// `ptr` is null or a live handle of this type from this module.
unsafe fn handle<'a, T>(ptr: *mut T) -> Option<&'a mut T> {
    ptr.as_mut()
}

/// 0 for success, else -1 with the error kept.
fn status(result: encodec::Result<()>) -> i32 {
    match result {
        Ok(()) => 0,
        Err(e) => fail(e, -1),
    }
}

/// Drops a handle's box (nothing for null).
///
/// # Safety
/// `ptr` is null or a live handle of this type from this module, not used again.
unsafe fn free_box<T: ?Sized>(ptr: *mut T) {
    if !ptr.is_null() {
        drop(Box::from_raw(ptr));
    }
}

fn boxed<T>(value: encodec::Result<T>) -> *mut T {
    match value {
        Ok(value) => Box::into_raw(Box::new(value)),
        Err(e) => fail(e, std::ptr::null_mut()),
    }
}

/// A buffer of `len` bytes for JavaScript to fill (free it with `encodec_free`).
#[no_mangle]
pub extern "C" fn encodec_alloc(len: usize) -> *mut u8 {
    Box::into_raw(vec![0u8; len].into_boxed_slice()) as *mut u8
}

/// Frees a buffer from `encodec_alloc`.
///
/// # Safety
/// `ptr` and `len` are exactly what one `encodec_alloc` call gave and took.
#[no_mangle]
pub unsafe extern "C" fn encodec_free(ptr: *mut u8, len: usize) {
    free_box(std::ptr::slice_from_raw_parts_mut(ptr, len))
}

/// The last failure's message (UTF-8, `encodec_error_len` bytes).
#[no_mangle]
pub extern "C" fn encodec_error() -> *const u8 {
    LAST_ERROR.with(|e| e.borrow().as_ptr())
}

/// The length of `encodec_error`'s message.
#[no_mangle]
pub extern "C" fn encodec_error_len() -> usize {
    LAST_ERROR.with(|e| e.borrow().len())
}

/// A new decoder (Lyra built in, no EnCodec model yet, the `simd128` path).
#[no_mangle]
pub extern "C" fn encodec_decoder_new() -> *mut Decoder {
    Box::into_raw(Box::default())
}

/// Frees a decoder.
///
/// # Safety
/// `decoder` is null or a live handle from `encodec_decoder_new`.
#[no_mangle]
pub unsafe extern "C" fn encodec_decoder_free(decoder: *mut Decoder) {
    free_box(decoder)
}

/// Loads the EnCodec model (`config.json` text, `model.safetensors` bytes): 0, or -1.
///
/// # Safety
/// `decoder` is null or live; each buffer is null or `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn encodec_decoder_load_encodec(
    decoder: *mut Decoder,
    config: *const u8,
    config_len: usize,
    weights: *const u8,
    weights_len: usize,
) -> i32 {
    let Some(decoder) = handle(decoder) else { return fail("null decoder", -1) };
    let Ok(config) = std::str::from_utf8(bytes(config, config_len)) else {
        return fail("config.json is not UTF-8", -1);
    };
    status(decoder.load_encodec(config, bytes(weights, weights_len)))
}

/// Sets the kernel path by name (`simd128`, `portable`): 0, or -1.
///
/// # Safety
/// `decoder` is null or live; `name` is null or `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn encodec_decoder_set_kernels(
    decoder: *mut Decoder,
    name: *const u8,
    len: usize,
) -> i32 {
    let Some(decoder) = handle(decoder) else { return fail("null decoder", -1) };
    let name = String::from_utf8_lossy(bytes(name, len));
    status(name.parse().and_then(|kernels| decoder.set_kernels(kernels)))
}

/// Decodes a whole file: a PCM handle, or null.
///
/// # Safety
/// `decoder` is null or live; `data` is null or `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn encodec_decode(decoder: *mut Decoder, data: *const u8, len: usize) -> *mut Pcm {
    let Some(decoder) = handle(decoder) else { return fail("null decoder", std::ptr::null_mut()) };
    boxed(decoder.decode(bytes(data, len)))
}

/// A stream decoder of raw Lyra packets at `kbps`: a handle, or null.
///
/// # Safety
/// `decoder` is null or live.
#[no_mangle]
pub unsafe extern "C" fn encodec_lyra_stream_new(decoder: *mut Decoder, kbps: f32) -> *mut Stream {
    let Some(decoder) = handle(decoder) else { return fail("null decoder", std::ptr::null_mut()) };
    boxed(decoder.lyra_stream(kbps))
}

/// The PCM the next bytes complete: a handle (possibly of no frames), or null.
///
/// # Safety
/// `stream` is null or live; `data` is null or `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn encodec_stream_push(stream: *mut Stream, data: *const u8, len: usize) -> *mut Pcm {
    let Some(stream) = handle(stream) else { return fail("null stream", std::ptr::null_mut()) };
    boxed(stream.push(bytes(data, len)))
}

/// Ends and frees the stream: the last PCM, or null (stopped inside a packet).
///
/// # Safety
/// `stream` is null or live; it is freed either way.
#[no_mangle]
pub unsafe extern "C" fn encodec_stream_finish(stream: *mut Stream) -> *mut Pcm {
    if stream.is_null() {
        return fail("null stream", std::ptr::null_mut());
    }
    boxed(Box::from_raw(stream).finish())
}

/// Samples per second of decoded PCM.
///
/// # Safety
/// `pcm` is null or live.
#[no_mangle]
pub unsafe extern "C" fn encodec_pcm_sample_rate(pcm: *mut Pcm) -> u32 {
    handle(pcm).map_or(0, |p| p.sample_rate)
}

/// Channels of decoded PCM.
///
/// # Safety
/// `pcm` is null or live.
#[no_mangle]
pub unsafe extern "C" fn encodec_pcm_channels(pcm: *mut Pcm) -> usize {
    handle(pcm).map_or(0, |p| p.channels.len())
}

/// Frames (samples per channel) of decoded PCM.
///
/// # Safety
/// `pcm` is null or live.
#[no_mangle]
pub unsafe extern "C" fn encodec_pcm_frames(pcm: *mut Pcm) -> usize {
    handle(pcm).and_then(|p| p.channels.first()).map_or(0, Vec::len)
}

/// Channel `channel`'s samples (`encodec_pcm_frames` of them), or null past the last.
///
/// # Safety
/// `pcm` is null or live; the pointer is valid until `encodec_pcm_free`.
#[no_mangle]
pub unsafe extern "C" fn encodec_pcm_channel(pcm: *mut Pcm, channel: usize) -> *const f32 {
    handle(pcm).and_then(|p| p.channels.get(channel)).map_or(std::ptr::null(), |c| c.as_ptr())
}

/// Frees decoded PCM.
///
/// # Safety
/// `pcm` is null or a live handle from this module.
#[no_mangle]
pub unsafe extern "C" fn encodec_pcm_free(pcm: *mut Pcm) {
    free_box(pcm)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_values_with_a_message() {
        let decoder = encodec_decoder_new();
        unsafe {
            assert!(encodec_decode(decoder, b"not audio".as_ptr(), 9).is_null());
            assert!(encodec_error_len() > 0);
            assert!(encodec_decode(std::ptr::null_mut(), std::ptr::null(), 0).is_null());
            assert_eq!(encodec_decoder_set_kernels(decoder, b"sse9".as_ptr(), 4), -1);
            assert_eq!(encodec_decoder_load_encodec(decoder, b"{".as_ptr(), 1, std::ptr::null(), 0), -1);
            let stream = encodec_lyra_stream_new(decoder, 6.0);
            assert!(!stream.is_null());
            let pcm = encodec_stream_push(stream, [0u8; 7].as_ptr(), 7);
            assert_eq!((encodec_pcm_frames(pcm), encodec_pcm_sample_rate(pcm)), (0, 16_000));
            encodec_pcm_free(pcm);
            assert!(encodec_stream_finish(stream).is_null(), "7 bytes are not a whole 6 kbps packet");
            encodec_decoder_free(decoder);
        }
    }
}
