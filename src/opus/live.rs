//! Opus for live streams ([`crate::live`]): Ogg pages out at every push, and Ogg bytes in, in
//! pieces of any size, parsed page by page as they complete.

use ogg::reading::{BasePacketReader, PageParser};

use super::stream::{OggOpusEncoder, PacketDecoding};
use super::{OpusEnhancement, OpusSettings};
use crate::codec::{Encoder, PcmSpec};
use crate::pcm::deinterleave;
use crate::{Error, Result};

/// The Ogg file encoder, its output drained after every push.
pub(crate) struct LiveOpusEncoder {
    inner: OggOpusEncoder<Vec<u8>>,
}

impl LiveOpusEncoder {
    pub fn new(settings: OpusSettings, sample_rate: u32, channels: usize) -> Result<Self> {
        let pcm = PcmSpec { sample_rate, channels };
        Ok(Self { inner: OggOpusEncoder::new(settings, pcm, Vec::new())?.page_per_push() })
    }

    /// The headers (first call), then the pages this push completes.
    pub fn push(&mut self, pcm: &[Vec<f32>]) -> Result<Vec<u8>> {
        self.inner.push_pcm(pcm)?;
        Ok(std::mem::take(self.inner.output_mut()))
    }

    pub fn finish(self) -> Result<Vec<u8>> {
        self.inner.end()
    }
}

/// Ogg's page header: "OggS", version, flags, granule, serial, sequence, CRC, segment count.
const PAGE_HEADER: usize = 27;

/// The longest packet the decoder assembles across pages: an Opus packet is at most 120 ms,
/// 6 frames of 1275 bytes.
const MAX_CONTINUED: usize = 64 * 1024;

/// Bytes in; each complete page to the packet reader; each packet decoded.
pub(crate) struct LiveOpusDecoder {
    /// Bytes of the page not yet complete.
    partial: Vec<u8>,
    packets: BasePacketReader,
    /// The OpusHead packet, until OpusTags arrives.
    head: Option<ogg::Packet>,
    stream: Option<PacketDecoding>,
    ended: bool,
    /// Bytes of a packet continued from earlier pages, not yet ended.
    continued: usize,
}

fn ogg_error(e: ogg::OggReadError) -> Error {
    Error::Opus(format!("Ogg: {e}"))
}

impl Default for LiveOpusDecoder {
    fn default() -> Self {
        Self {
            partial: Vec::new(),
            packets: BasePacketReader::new(),
            head: None,
            stream: None,
            ended: false,
            continued: 0,
        }
    }
}

impl LiveOpusDecoder {
    pub fn sample_rate(&self) -> u32 {
        self.stream.as_ref().map_or(0, PacketDecoding::sample_rate)
    }

    pub fn channels(&self) -> usize {
        self.stream.as_ref().map_or(0, PacketDecoding::channels)
    }

    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<Vec<f32>>> {
        self.partial.extend_from_slice(bytes);
        let mut ready = Vec::new();
        while let Some(page_len) = self.complete_page()? {
            let page: Vec<u8> = self.partial.drain(..page_len).collect();
            let header: [u8; PAGE_HEADER] = page[..PAGE_HEADER].try_into().expect("a page header");
            let (mut parser, segments) = PageParser::new(header).map_err(ogg_error)?;
            let body_start = PAGE_HEADER + segments;
            // A packet continued across pages grows in the reader until it ends: bound it.
            let continues = segments > 0 && page[body_start - 1] == 255;
            self.continued = if continues { self.continued + page.len() - body_start } else { 0 };
            if self.continued > MAX_CONTINUED {
                return Err(Error::Opus(format!("an Ogg packet longer than {MAX_CONTINUED} bytes")));
            }
            parser.parse_segments(page[PAGE_HEADER..body_start].to_vec());
            let parsed = parser.parse_packet_data(page[body_start..].to_vec()).map_err(ogg_error)?;
            self.packets.push_page(parsed).map_err(ogg_error)?;
            while let Some(packet) = self.packets.read_packet() {
                self.take(packet, &mut ready)?;
            }
        }
        let channels = self.channels().max(1);
        Ok(deinterleave(&ready, channels))
    }

    /// The length of the page at the front of `partial`, if it has all arrived.
    fn complete_page(&self) -> Result<Option<usize>> {
        let bytes = &self.partial;
        if bytes.len() < PAGE_HEADER {
            return Ok(None);
        }
        if !bytes.starts_with(b"OggS") {
            return Err(Error::Opus("not an Ogg page (no OggS capture pattern)".into()));
        }
        let segments = bytes[PAGE_HEADER - 1] as usize;
        let Some(lacing) = bytes.get(PAGE_HEADER..PAGE_HEADER + segments) else {
            return Ok(None);
        };
        let len = PAGE_HEADER + segments + lacing.iter().map(|&l| l as usize).sum::<usize>();
        Ok((bytes.len() >= len).then_some(len))
    }

    fn take(&mut self, packet: ogg::Packet, ready: &mut Vec<f32>) -> Result<()> {
        if self.ended {
            return Err(Error::Opus("data after the end of the Opus stream".into()));
        }
        match (&mut self.stream, self.head.take()) {
            (Some(stream), _) => self.ended = stream.decode(&packet, ready)?,
            (None, None) => self.head = Some(packet),
            (None, Some(head)) => {
                self.stream = Some(PacketDecoding::new(&head, &packet, OpusEnhancement::Off)?);
            }
        }
        Ok(())
    }

    /// An error if the stream stopped inside a page, or before its headers.
    pub fn finish(self) -> Result<Vec<Vec<f32>>> {
        if !self.partial.is_empty() {
            return Err(Error::Opus(format!(
                "the stream ended {} bytes into an Ogg page",
                self.partial.len()
            )));
        }
        if self.stream.is_none() {
            return Err(Error::Opus("the stream ended before its Opus headers".into()));
        }
        Ok(vec![Vec::new(); self.channels()])
    }
}
