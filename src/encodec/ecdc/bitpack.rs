//! Fixed-width codes packed little-endian into bytes, as the reference's `BitPacker` does.
//!
//! Written by hand: the layout (least significant bits first, a partial last byte per segment)
//! is the reference's own, and the bit-io crates pack most-significant-first.

use std::io::{self, Read, Write};

/// Packs `bits`-wide values, least significant bits first.
pub struct BitPacker<W: Write> {
    writer: W,
    bits: u32,
    acc: u64,
    filled: u32,
}

impl<W: Write> BitPacker<W> {
    /// A packer of `bits`-wide values (1 to 16) into `writer`.
    pub fn new(writer: W, bits: u32) -> Self {
        assert!((1..=16).contains(&bits), "bit width {bits}");
        Self { writer, bits, acc: 0, filled: 0 }
    }

    /// Appends `value` (only its low `bits` bits), writing every completed byte.
    pub fn push(&mut self, value: u32) -> io::Result<()> {
        self.acc |= ((value as u64) & ((1 << self.bits) - 1)) << self.filled;
        self.filled += self.bits;
        let mut bytes = [0u8; 3];
        let mut n = 0;
        while self.filled >= 8 {
            bytes[n] = self.acc as u8;
            n += 1;
            self.acc >>= 8;
            self.filled -= 8;
        }
        self.writer.write_all(&bytes[..n])
    }

    /// Writes the last partial byte, if any, and returns the writer.
    pub fn finish(mut self) -> io::Result<W> {
        if self.filled > 0 {
            self.writer.write_all(&[self.acc as u8])?;
        }
        Ok(self.writer)
    }
}

/// Reads `bits`-wide values written by [`BitPacker`].
pub struct BitUnpacker<R: Read> {
    reader: R,
    bits: u32,
    acc: u64,
    filled: u32,
}

impl<R: Read> BitUnpacker<R> {
    /// An unpacker of `bits`-wide values (1 to 16) from `reader`.
    pub fn new(reader: R, bits: u32) -> Self {
        assert!((1..=16).contains(&bits), "bit width {bits}");
        Self { reader, bits, acc: 0, filled: 0 }
    }

    /// The next value, or `None` at the end of the stream.
    pub fn pull(&mut self) -> io::Result<Option<u32>> {
        while self.filled < self.bits {
            let mut byte = [0u8];
            if self.reader.read(&mut byte)? == 0 {
                return Ok(None);
            }
            self.acc |= (byte[0] as u64) << self.filled;
            self.filled += 8;
        }
        let value = (self.acc & ((1 << self.bits) - 1)) as u32;
        self.acc >>= self.bits;
        self.filled -= self.bits;
        Ok(Some(value))
    }

    /// Drops the next `bits` bits (fewer than 8, at a byte boundary): for starting at a value
    /// that does not start a byte.
    pub fn skip_bits(&mut self, bits: u32) -> io::Result<()> {
        debug_assert!(bits < 8 && self.filled == 0);
        if bits > 0 {
            let mut byte = [0u8];
            self.reader.read_exact(&mut byte)?;
            self.acc = (byte[0] >> bits) as u64;
            self.filled = 8 - bits;
        }
        Ok(())
    }

    /// The reader, dropping any bits of a partial byte (a segment's padding).
    pub fn into_inner(self) -> R {
        self.reader
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_width() {
        for bits in 1..=16u32 {
            let values: Vec<u32> =
                (0..1000u32).map(|i| i.wrapping_mul(2_654_435_761) >> (32 - bits)).collect();
            let mut packer = BitPacker::new(Vec::new(), bits);
            values.iter().for_each(|&v| packer.push(v).unwrap());
            let bytes = packer.finish().unwrap();
            assert_eq!(bytes.len(), (values.len() * bits as usize).div_ceil(8));
            let mut unpacker = BitUnpacker::new(bytes.as_slice(), bits);
            let back: Vec<u32> = (0..values.len()).map(|_| unpacker.pull().unwrap().unwrap()).collect();
            assert_eq!(back, values, "{bits} bits");
        }
    }
}
