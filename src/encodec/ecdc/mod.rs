//! The `.ecdc` container, byte for byte as Meta's `encodec` 0.1.1 writes it without its
//! language model.
//!
//! Layout: `ECDC`, a version byte (0), a big-endian u32 length, that many bytes of JSON
//! (`{"m": model, "al": audio length, "nc": codebooks, "lm": false}`), then per segment an
//! optional big-endian f32 scale (normalising models) and the codes, frame by frame, packed
//! `log2(codebook_size)` bits each, least significant bit first, the segment's last byte padded.

mod bitpack;
mod decoder;
mod error;
mod header;
mod payload;
mod writer;

pub use decoder::{EcdcDecoder, DEFAULT_PREROLL_FRAMES};
pub use error::EcdcError;
pub use header::{model_name, Header, MAGIC};
pub use payload::{read, read_payload, write, PayloadReader};
pub use writer::Writer;
