//! Ogg Opus's two header packets (RFC 7845 section 5): `OpusHead` (channels, pre-skip, input
//! rate, gain, channel mapping) and `OpusTags` (vendor and comments), written and checked.
//! Format detection uses [`is_ogg_opus`] in every build; the packets only with libopus.
#![cfg_attr(not(feature = "opus"), allow(dead_code))]

use crate::{Error, Result};

/// Whether `bytes` (a file's first bytes) are an Ogg page whose first packet is `OpusHead`:
/// what tells an Opus file from Ogg Vorbis or FLAC, which share the `OggS` magic.
pub(crate) fn is_ogg_opus(bytes: &[u8]) -> bool {
    // A page header is 27 bytes, then one lacing byte per segment, then the packet data.
    let Some(&segments) = bytes.get(26) else { return false };
    let start = 27 + segments as usize;
    bytes.starts_with(b"OggS") && bytes.get(start..start + 8) == Some(b"OpusHead".as_slice())
}

/// What `OpusHead` says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct OpusHead {
    /// 1 or 2 (channel mapping family 0, the only one this crate reads or writes).
    pub channels: u8,
    /// Samples at 48 kHz to drop from the start of the decoded stream (the encoder's delay).
    pub pre_skip: u16,
    /// The source's sample rate: informational, the stream is always 48 kHz based.
    pub input_rate: u32,
    /// Gain to apply on output, in 1/256 dB (Q7.8).
    pub gain_q8: i16,
}

impl OpusHead {
    /// The 19-byte packet.
    pub fn to_bytes(self) -> Vec<u8> {
        let mut packet = b"OpusHead".to_vec();
        packet.push(1); // version
        packet.push(self.channels);
        packet.extend(self.pre_skip.to_le_bytes());
        packet.extend(self.input_rate.to_le_bytes());
        packet.extend(self.gain_q8.to_le_bytes());
        packet.push(0); // channel mapping family 0: mono or stereo, no mapping table
        packet
    }

    /// Parses and checks the first packet of an Ogg Opus stream.
    pub fn parse(packet: &[u8]) -> Result<Self> {
        let bad = |why: &str| Error::Opus(format!("bad OpusHead: {why}"));
        if packet.len() < 19 || !packet.starts_with(b"OpusHead") {
            return Err(bad("missing or shorter than 19 bytes"));
        }
        // Versions 0-15 are compatible with this layout (RFC 7845 5.1).
        if packet[8] >> 4 != 0 {
            return Err(bad(&format!("version {} (this build reads 0-15)", packet[8])));
        }
        let channels = packet[9];
        let mapping = packet[18];
        if mapping != 0 {
            return Err(Error::Opus(format!(
                "channel mapping family {mapping} (multichannel Opus) is not supported: only mono and stereo"
            )));
        }
        if !(1..=2).contains(&channels) {
            return Err(bad(&format!("{channels} channels with mapping family 0")));
        }
        Ok(Self {
            channels,
            pre_skip: u16::from_le_bytes([packet[10], packet[11]]),
            input_rate: u32::from_le_bytes([packet[12], packet[13], packet[14], packet[15]]),
            gain_q8: i16::from_le_bytes([packet[16], packet[17]]),
        })
    }

    /// The output gain as a factor.
    pub fn gain(self) -> f32 {
        10f32.powf(self.gain_q8 as f32 / (20.0 * 256.0))
    }
}

/// An `OpusTags` packet naming `vendor`, with no comments.
pub(crate) fn tags(vendor: &str) -> Vec<u8> {
    let mut packet = b"OpusTags".to_vec();
    packet.extend((vendor.len() as u32).to_le_bytes());
    packet.extend(vendor.as_bytes());
    packet.extend(0u32.to_le_bytes());
    packet
}

/// Checks that `packet` is an `OpusTags` packet (its contents are not used).
pub(crate) fn check_tags(packet: &[u8]) -> Result<()> {
    match packet.starts_with(b"OpusTags") {
        true => Ok(()),
        false => Err(Error::Opus("the second packet is not OpusTags".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_round_trips_and_refuses_what_it_cannot_read() {
        let head = OpusHead { channels: 2, pre_skip: 312, input_rate: 44_100, gain_q8: -256 };
        let bytes = head.to_bytes();
        assert_eq!(bytes.len(), 19);
        assert_eq!(OpusHead::parse(&bytes).unwrap(), head);
        assert!((head.gain() - 10f32.powf(-1.0 / 20.0)).abs() < 1e-6);
        let mut surround = bytes.clone();
        surround[18] = 1;
        assert!(OpusHead::parse(&surround).unwrap_err().to_string().contains("multichannel"));
        let mut future = bytes.clone();
        future[8] = 0x10;
        assert!(OpusHead::parse(&future).is_err());
        assert!(OpusHead::parse(&bytes[..18]).is_err());
        assert!(check_tags(&tags("x")).is_ok());
        assert!(check_tags(&bytes).is_err());
    }

    #[test]
    fn an_ogg_opus_page_is_told_from_other_ogg() {
        let mut page = b"OggS".to_vec();
        page.extend([0u8; 22]);
        page.push(1); // one segment
        page.push(19);
        page.extend(b"OpusHead");
        assert!(is_ogg_opus(&page));
        let n = page.len();
        page[n - 8..].copy_from_slice(b"\x01vorbis\0");
        assert!(!is_ogg_opus(&page));
        assert!(!is_ogg_opus(b"OggS"));
    }
}
