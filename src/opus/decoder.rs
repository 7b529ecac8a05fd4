//! libopus's decoder, called through `opusic-sys`: the `opus` crate's `Decoder` does not expose
//! the decoder's complexity setting, which is what turns on libopus's speech enhancement.

use std::ffi::{c_int, CStr};
use std::ptr::NonNull;

use opusic_sys as ffi;

use super::OpusEnhancement;
use crate::{Error, Result};

/// One libopus decoder state.
pub(crate) struct RawDecoder {
    state: NonNull<ffi::OpusDecoder>,
    channels: usize,
}

// The state is plain memory owned by this value; libopus keeps no thread-local data.
unsafe impl Send for RawDecoder {}

fn describe(code: c_int) -> String {
    // SAFETY: opus_strerror returns a static NUL-terminated string for any code.
    unsafe { CStr::from_ptr(ffi::opus_strerror(code)) }.to_string_lossy().into_owned()
}

impl RawDecoder {
    /// A decoder giving `channels` (1 or 2) at `rate` (8, 12, 16, 24 or 48 kHz).
    pub fn new(rate: u32, channels: usize, enhancement: OpusEnhancement) -> Result<Self> {
        if enhancement != OpusEnhancement::Off && !cfg!(feature = "opus-enhance") {
            return Err(Error::FeatureDisabled {
                what: "Opus speech enhancement (LACE, NoLACE)",
                feature: "opus-enhance",
            });
        }
        let mut error = 0;
        // SAFETY: plain arguments; the result is checked for null and the error code.
        let state = unsafe { ffi::opus_decoder_create(rate as i32, channels as c_int, &mut error) };
        let state = match (NonNull::new(state), error) {
            (Some(state), ffi::OPUS_OK) => state,
            _ => return Err(Error::Opus(format!("decoder: {}", describe(error)))),
        };
        let decoder = Self { state, channels };
        // Complexity 6 selects LACE and 7 NoLACE for SILK (speech) frames; 0 (libopus's default)
        // neither; the models are compiled in with opusic-sys's feature `osce` (ours `opus-enhance`).
        let complexity: c_int = match enhancement {
            OpusEnhancement::Off => 0,
            OpusEnhancement::Lace => 6,
            OpusEnhancement::NoLace => 7,
        };
        // SAFETY: a valid state; OPUS_SET_COMPLEXITY takes one int.
        let code =
            unsafe { ffi::opus_decoder_ctl(state.as_ptr(), ffi::OPUS_SET_COMPLEXITY_REQUEST, complexity) };
        if code != ffi::OPUS_OK {
            return Err(Error::Opus(format!("decoder complexity: {}", describe(code))));
        }
        Ok(decoder)
    }

    /// Decodes one packet into `out` (interleaved, room for 120 ms); returns the samples per
    /// channel.
    pub fn decode(&mut self, packet: &[u8], out: &mut [f32]) -> Result<usize> {
        let frames = (out.len() / self.channels) as c_int;
        // SAFETY: the packet and output pointers and lengths come from live slices; libopus
        // writes at most `frames` samples per channel.
        let n = unsafe {
            ffi::opus_decode_float(
                self.state.as_ptr(),
                packet.as_ptr(),
                packet.len() as i32,
                out.as_mut_ptr(),
                frames,
                0,
            )
        };
        match n {
            n if n >= 0 => Ok(n as usize),
            code => Err(Error::Opus(format!("corrupt packet: {}", describe(code)))),
        }
    }
}

impl Drop for RawDecoder {
    fn drop(&mut self) {
        // SAFETY: created by opus_decoder_create and destroyed once.
        unsafe { ffi::opus_decoder_destroy(self.state.as_ptr()) }
    }
}
