//! Lyra's packets, as Google's library packs them (`lyra/packet.h`, no header bits): the
//! codes of one 20 ms frame, 4 bits each, first codebook in the most significant bits,
//! big-endian, in `ceil(bits / 8)` bytes.

use std::fmt;

/// Lyra's three bitrates (Google's library: 64, 120 or 184 bits per 20 ms packet).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Bitrate {
    /// 3.2 kbps: 16 codebooks, 8-byte packets.
    Kbps3_2,
    /// 6 kbps: 30 codebooks, 15-byte packets.
    Kbps6,
    /// 9.2 kbps: 46 codebooks, 23-byte packets.
    Kbps9_2,
}

impl Bitrate {
    /// All three, lowest first.
    pub const ALL: [Bitrate; 3] = [Bitrate::Kbps3_2, Bitrate::Kbps6, Bitrate::Kbps9_2];

    /// Bits per packet.
    pub fn bits(self) -> usize {
        match self {
            Bitrate::Kbps3_2 => 64,
            Bitrate::Kbps6 => 120,
            Bitrate::Kbps9_2 => 184,
        }
    }

    /// Codebooks used (4 bits each).
    pub fn quantizers(self) -> usize {
        self.bits() / 4
    }

    /// Bytes per packet.
    pub fn packet_bytes(self) -> usize {
        self.bits().div_ceil(8)
    }

    /// Kilobits per second (50 packets per second).
    pub fn kbps(self) -> f32 {
        self.bits() as f32 * 50.0 / 1000.0
    }

    /// The bitrate of `kbps` (3.2, 6 or 9.2; 3 and 9 are taken for 3.2 and 9.2).
    pub fn from_kbps(kbps: f32) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|b| (b.kbps() - kbps).abs() < 0.05 || (b.kbps().floor() - kbps).abs() < 1e-6)
    }

    /// [`Bitrate::from_kbps`], or an error naming the bitrates there are.
    pub fn try_from_kbps(kbps: f32) -> crate::Result<Self> {
        Self::from_kbps(kbps).ok_or_else(|| super::LyraError::Bitrate(kbps).into())
    }

    /// The bitrate whose packets have `bits` bits.
    pub fn from_bits(bits: usize) -> Option<Self> {
        Self::ALL.into_iter().find(|b| b.bits() == bits)
    }
}

impl fmt::Display for Bitrate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} kbps", self.kbps())
    }
}

/// One frame's codes (each < 16) as a packet.
pub fn pack(codes: &[u8]) -> Vec<u8> {
    let mut packet = vec![0u8; codes.len().div_ceil(2)];
    for (i, &c) in codes.iter().enumerate() {
        packet[i / 2] |= (c & 0x0F) << if i % 2 == 0 { 4 } else { 0 };
    }
    packet
}

/// One packet's codes at `bitrate` (a packet of its size).
pub fn unpack(packet: &[u8], bitrate: Bitrate) -> Vec<u8> {
    (0..bitrate.quantizers()).map(|i| (packet[i / 2] >> if i % 2 == 0 { 4 } else { 0 }) & 0x0F).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packets_put_the_first_codebook_in_the_top_bits() {
        assert_eq!(pack(&[0xA, 0x3, 0xF, 0x0]), [0xA3, 0xF0]);
        let codes: Vec<u8> = (0..30).map(|i| (i * 7 % 16) as u8).collect();
        let packet = pack(&codes);
        assert_eq!(packet.len(), Bitrate::Kbps6.packet_bytes());
        assert_eq!(unpack(&packet, Bitrate::Kbps6), codes);
        assert_eq!(Bitrate::ALL.map(|b| (b.packet_bytes(), b.kbps())), [(8, 3.2), (15, 6.0), (23, 9.2)]);
        assert_eq!(Bitrate::from_kbps(9.2), Some(Bitrate::Kbps9_2));
        assert_eq!(Bitrate::from_kbps(3.0), Some(Bitrate::Kbps3_2));
        assert_eq!(Bitrate::from_kbps(12.0), None);
    }
}
