//! Lyra's files. Google's `.lyra` is packets back to back and nothing else: the reader must be
//! told the bitrate, and the length is whole frames. This crate's framed form adds a 16-byte
//! header and a 16-byte trailer so that a file says how to decode it and how long it was:
//!
//! ```text
//! header   0  "LYRA"
//!          4  version (1)
//!          5  bits per packet (64, 120 or 184)
//!          6  reserved (0, 2 bytes)
//!          8  the source's sample rate, u32 little-endian
//!         12  the source's channels, u8
//!         13  reserved (0, 3 bytes)
//! packets 16  the packets, back to back, exactly as in a `.lyra` stream
//! trailer     the source's length in samples per channel, u64 LE; the packet count, u32 LE;
//!             "LEND"
//! ```
//!
//! The trailer comes last so that a writer streams without seeking; a file cut short has no
//! trailer and is reported as truncated.

use std::io::{Read, Seek, SeekFrom, Write};

use crate::{Error, Result};

use super::model::{FRAME_SAMPLES, SAMPLE_RATE};
use super::packet::Bitrate;
use super::LyraError;

const MAGIC: &[u8; 4] = b"LYRA";
const END: &[u8; 4] = b"LEND";
const VERSION: u8 = 1;
const HEADER: usize = 16;
const TRAILER: usize = 16;

fn io(source: std::io::Error) -> Error {
    Error::Io { path: "<lyra>".into(), source }
}

/// What a framed file's header and trailer say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FramedHeader {
    /// The packets' bitrate.
    pub bitrate: Bitrate,
    /// The source's sample rate (the packets are always 16 kHz).
    pub sample_rate: u32,
    /// The source's channels (Lyra codes their mix).
    pub channels: u8,
    /// The source's length, in samples per channel at its own rate.
    pub length: u64,
    /// Packets in the file.
    pub packets: u32,
}

impl FramedHeader {
    /// Samples the packets decode to that belong to the source, at 16 kHz: the source's
    /// length at 16 kHz, rounded up (the last frame's padding is dropped).
    pub fn len_16k(&self) -> u64 {
        (self.length as u128 * SAMPLE_RATE as u128).div_ceil(self.sample_rate as u128) as u64
    }
}

/// Writes Google's `.lyra`: packets back to back.
pub struct RawWriter<W: Write> {
    out: W,
    packet_bytes: usize,
}

impl<W: Write> RawWriter<W> {
    /// A stream of `bitrate` packets into `out`.
    pub fn new(out: W, bitrate: Bitrate) -> Self {
        Self { out, packet_bytes: bitrate.packet_bytes() }
    }

    /// Appends whole packets.
    pub fn write(&mut self, packets: &[u8]) -> Result<()> {
        debug_assert_eq!(packets.len() % self.packet_bytes, 0, "whole packets");
        self.out.write_all(packets).map_err(io)
    }

    /// Where the packets go.
    pub fn output_mut(&mut self) -> &mut W {
        &mut self.out
    }

    /// Ends the stream, giving back the writer.
    pub fn finish(mut self) -> Result<W> {
        self.out.flush().map_err(io)?;
        Ok(self.out)
    }
}

/// Reads Google's `.lyra`: packets back to back, at a bitrate the caller knows.
pub struct RawReader<R: Read> {
    input: R,
    bitrate: Bitrate,
}

impl<R: Read> RawReader<R> {
    /// Packets of `bitrate` from `input`.
    pub fn new(input: R, bitrate: Bitrate) -> Self {
        Self { input, bitrate }
    }

    /// The bitrate read at.
    pub fn bitrate(&self) -> Bitrate {
        self.bitrate
    }

    /// Up to `max` next packets, back to back (empty at the end). A stream that ends inside
    /// a packet is an error ([`LyraError::RawLength`]).
    pub fn next_packets(&mut self, max: usize) -> Result<Vec<u8>> {
        let size = self.bitrate.packet_bytes();
        let mut buf = Vec::with_capacity(max.max(1) * size);
        (&mut self.input).take((max.max(1) * size) as u64).read_to_end(&mut buf).map_err(io)?;
        if buf.len() % size != 0 {
            return Err(LyraError::RawLength { bytes: buf.len() as u64, packet_bytes: size }.into());
        }
        Ok(buf)
    }
}

impl<R: Read + Seek> RawReader<R> {
    /// Moves to packet `packet` counted from `origin`, the stream's first byte in the reader.
    pub fn seek_packet(&mut self, origin: u64, packet: u64) -> Result<()> {
        let offset =
            packet.checked_mul(self.bitrate.packet_bytes() as u64).and_then(|o| o.checked_add(origin));
        let offset = offset.ok_or_else(|| LyraError::Corrupt(format!("packet {packet} is out of reach")))?;
        self.input.seek(SeekFrom::Start(offset)).map_err(io)?;
        Ok(())
    }

    /// The reader's position, in bytes.
    pub fn position(&mut self) -> Result<u64> {
        self.input.stream_position().map_err(io)
    }

    /// The packets left in a seekable stream, checked to be whole before any is decoded
    /// ([`LyraError::RawLength`] for a truncated file or another bitrate's).
    pub fn packets_left(&mut self) -> Result<u64> {
        let bytes = bytes_left(&mut self.input)?;
        let packet_bytes = self.bitrate.packet_bytes();
        if bytes % packet_bytes as u64 != 0 {
            return Err(LyraError::RawLength { bytes, packet_bytes }.into());
        }
        Ok(bytes / packet_bytes as u64)
    }
}

/// Writes a framed file: the header at once, packets as they come, the trailer at the end.
pub struct FramedWriter<W: Write> {
    out: W,
    bitrate: Bitrate,
    packets: u64,
}

impl<W: Write> FramedWriter<W> {
    /// A framed file of `bitrate` packets coding a source of `sample_rate` and `channels`.
    pub fn new(mut out: W, bitrate: Bitrate, sample_rate: u32, channels: usize) -> Result<Self> {
        let channels = u8::try_from(channels)
            .ok()
            .filter(|&c| c > 0)
            .ok_or_else(|| LyraError::Corrupt(format!("{channels} channels do not fit the header")))?;
        let mut header = [0u8; HEADER];
        header[..4].copy_from_slice(MAGIC);
        header[4] = VERSION;
        header[5] = bitrate.bits() as u8;
        header[8..12].copy_from_slice(&sample_rate.to_le_bytes());
        header[12] = channels;
        out.write_all(&header).map_err(io)?;
        Ok(Self { out, bitrate, packets: 0 })
    }

    /// Appends whole packets.
    pub fn write(&mut self, packets: &[u8]) -> Result<()> {
        let size = self.bitrate.packet_bytes();
        debug_assert_eq!(packets.len() % size, 0, "whole packets");
        self.packets += (packets.len() / size) as u64;
        self.out.write_all(packets).map_err(io)
    }

    /// Where the file goes.
    pub fn output_mut(&mut self) -> &mut W {
        &mut self.out
    }

    /// Ends the file with the source's `length` (samples per channel), giving back the writer.
    pub fn finish(mut self, length: u64) -> Result<W> {
        let packets = u32::try_from(self.packets)
            .map_err(|_| LyraError::Corrupt("more than 2^32 packets (2.7 years)".into()))?;
        let mut trailer = [0u8; TRAILER];
        trailer[..8].copy_from_slice(&length.to_le_bytes());
        trailer[8..12].copy_from_slice(&packets.to_le_bytes());
        trailer[12..].copy_from_slice(END);
        self.out.write_all(&trailer).map_err(io)?;
        self.out.flush().map_err(io)?;
        Ok(self.out)
    }
}

/// Reads a framed file.
pub struct FramedReader<R: Read + Seek> {
    input: R,
    header: FramedHeader,
    /// Packets not read yet.
    left: u64,
    /// Where the first packet is in the reader.
    packets_at: u64,
}

impl<R: Read + Seek> FramedReader<R> {
    /// Reads and checks the header and trailer; the packets are read by
    /// [`FramedReader::next_packets`].
    pub fn new(mut input: R) -> Result<Self> {
        let start = input.stream_position().map_err(io)?;
        let size = bytes_left(&mut input)?;
        let mut head = [0u8; HEADER];
        let got = read_up_to(&mut input, &mut head)?;
        if got < 4 || &head[..4] != MAGIC {
            return Err(LyraError::NotFramed.into());
        }
        if got < HEADER {
            return Err(LyraError::Truncated("in the header").into());
        }
        if head[4] != VERSION {
            return Err(LyraError::Version(head[4]).into());
        }
        let bits = head[5] as usize;
        let bitrate = Bitrate::from_bits(bits).ok_or(LyraError::Bits(bits))?;
        let sample_rate = u32::from_le_bytes(head[8..12].try_into().expect("4 bytes"));
        let channels = head[12];
        if head[6..8] != [0, 0] || head[13..16] != [0, 0, 0] {
            return Err(LyraError::Corrupt("reserved header bytes are not zero".into()).into());
        }
        if !(1..=1_536_000).contains(&sample_rate) || channels == 0 {
            return Err(LyraError::Corrupt(format!("{sample_rate} Hz, {channels} channels")).into());
        }
        if size < (HEADER + TRAILER) as u64 {
            return Err(LyraError::Truncated("no trailer").into());
        }
        input.seek(SeekFrom::Start(start + size - TRAILER as u64)).map_err(io)?;
        let mut tail = [0u8; TRAILER];
        input.read_exact(&mut tail).map_err(io)?;
        if &tail[12..] != END {
            return Err(LyraError::Truncated("no trailer").into());
        }
        let length = u64::from_le_bytes(tail[..8].try_into().expect("8 bytes"));
        let packets = u32::from_le_bytes(tail[8..12].try_into().expect("4 bytes"));
        let body = size - (HEADER + TRAILER) as u64;
        if body != packets as u64 * bitrate.packet_bytes() as u64 {
            return Err(LyraError::Corrupt(format!(
                "{body} bytes of packets where the trailer counts {packets} of {} bytes",
                bitrate.packet_bytes()
            ))
            .into());
        }
        let header = FramedHeader { bitrate, sample_rate, channels, length, packets };
        if header.len_16k().div_ceil(FRAME_SAMPLES as u64) != packets as u64 {
            return Err(LyraError::Corrupt(format!(
                "{length} samples at {sample_rate} Hz do not take {packets} packets"
            ))
            .into());
        }
        let packets_at = start + HEADER as u64;
        input.seek(SeekFrom::Start(packets_at)).map_err(io)?;
        Ok(Self { input, header, left: packets as u64, packets_at })
    }

    /// Moves to packet `packet` (at or past the last: nothing is left to read).
    pub fn seek_packet(&mut self, packet: u64) -> Result<()> {
        let packet = packet.min(self.header.packets as u64);
        let offset = self.packets_at + packet * self.header.bitrate.packet_bytes() as u64;
        self.input.seek(SeekFrom::Start(offset)).map_err(io)?;
        self.left = self.header.packets as u64 - packet;
        Ok(())
    }

    /// What the header and trailer say.
    pub fn header(&self) -> FramedHeader {
        self.header
    }

    /// Up to `max` next packets, back to back (empty after the last).
    pub fn next_packets(&mut self, max: usize) -> Result<Vec<u8>> {
        let n = (max.max(1) as u64).min(self.left) as usize;
        let mut buf = vec![0u8; n * self.header.bitrate.packet_bytes()];
        self.input.read_exact(&mut buf).map_err(|_| LyraError::Truncated("in the packets"))?;
        self.left -= n as u64;
        Ok(buf)
    }
}

/// Bytes from `input`'s position to its end; the position is kept.
fn bytes_left(input: &mut impl Seek) -> Result<u64> {
    let start = input.stream_position().map_err(io)?;
    let end = input.seek(SeekFrom::End(0)).map_err(io)?;
    input.seek(SeekFrom::Start(start)).map_err(io)?;
    Ok(end.saturating_sub(start))
}

/// Reads until `buf` is full or the input ends; returns the bytes read.
fn read_up_to(input: &mut impl Read, buf: &mut [u8]) -> Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match input.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io(e)),
        }
    }
    Ok(got)
}
