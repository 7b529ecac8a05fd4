//! `compress` on arbitrary bytes at every level: it never errors on content, never panics or
//! hangs, and never returns more bytes than it was given; what it stored or gzipped comes back
//! exactly.
#![no_main]

use encodec::encodec::Models;
use encodec::levels::{self, Compressor, Level, Ultra};
use encodec::lyra::Bitrate;
use encodec::Bandwidth;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // EnCodec without weights falls down its chain after the same parsing; Lyra's are built in.
    let levels = [
        Level::Ultra(Ultra::Encodec(Bandwidth::Kbps6)),
        Level::Ultra(Ultra::Lyra(Bitrate::Kbps6)),
        Level::Compact(Default::default()),
        Level::Standard(Default::default()),
        Level::Lossless,
        Level::Off,
    ];
    for level in levels {
        // A small threshold so that short inputs reach the parsers too.
        let compressor = Compressor::new(level, Models::none()).with_min_size(16);
        let packed = compressor.compress(data).expect("compress errs only on I/O");
        assert!(packed.bytes.len() <= data.len().max(1), "{level}: larger than its input");
        if !packed.metadata.is_compressed || packed.metadata.codec == "gzip" {
            let back = levels::restore(&packed.bytes, Some(packed.metadata.is_compressed)).unwrap();
            assert_eq!(back, data, "{level}: not restored exactly");
        }
    }
});
