//! The `.ecdc` reader on arbitrary bytes, for both models: it may refuse, never panic, hang or
//! allocate without bound.
#![no_main]

use encodec::{ecdc, EncodecConfig};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for config in [EncodecConfig::encodec_24khz(), EncodecConfig::encodec_48khz()] {
        let _ = ecdc::read(data, &config);
    }
});
