//! What can be wrong with a Lyra file (a leaf: the crate's `Error` wraps it).

/// What is wrong with a Lyra file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LyraError {
    /// A framed file that does not start with `LYRA`.
    #[error("not a framed Lyra file (no `LYRA` magic)")]
    NotFramed,
    /// A framed file of a later version.
    #[error("framed Lyra file version {0} (this build reads version 1)")]
    Version(u8),
    /// A packet size no Lyra bitrate has.
    #[error("{0} bits per packet is not a Lyra bitrate (64, 120 or 184)")]
    Bits(usize),
    /// A bitrate Lyra does not code at.
    #[error("Lyra codes at 3.2, 6 or 9.2 kbps, not {0}")]
    Bitrate(f32),
    /// A raw stream that is not a whole number of packets at the bitrate given.
    #[error("{bytes} bytes are not whole {packet_bytes}-byte packets: a truncated file, or another bitrate")]
    RawLength {
        /// The stream's length.
        bytes: u64,
        /// The packet size of the bitrate given.
        packet_bytes: usize,
    },
    /// A framed file that ends early.
    #[error("the framed Lyra file is truncated ({0})")]
    Truncated(&'static str),
    /// A framed file whose header or trailer makes no sense.
    #[error("corrupt framed Lyra file: {0}")]
    Corrupt(String),
}
