//! Streaming Ogg Opus encoding (libopus through the `opus` crate) and decoding (through
//! [`RawDecoder`]), in the `ogg` crate's pages.

use std::io::{BufReader, Read, Seek, SeekFrom, Write};

use ogg::writing::{PacketWriteEndInfo, PacketWriter};
use ogg::PacketReader;

use super::decoder::RawDecoder;
use super::head::{self, OpusHead};
use super::{OpusEnhancement, OpusSettings};
use crate::audio::{Audio, StreamingConverter};
use crate::codec::{Encoder, PcmDecoder, PcmSpec, ReadSeek};
use crate::pcm::{deinterleave, interleave};
use crate::{Error, Result};

/// Ogg Opus granule positions count samples at 48 kHz, whatever the coded rate.
const GRANULE_RATE: u32 = 48_000;
/// Opus frames of 20 ms: libopus's default, and the VoIP norm.
const FRAMES_PER_SECOND: u32 = 50;
/// Granule positions per 20 ms packet.
const GRANULE_PER_PACKET: u64 = (GRANULE_RATE / FRAMES_PER_SECOND) as u64;
/// Audio packets per Ogg page: one second, so a page is small and a seek lands near.
const PACKETS_PER_PAGE: u64 = 50;
/// The largest Opus packet (RFC 6716: 1275 bytes a frame); libopus's recommended buffer.
const MAX_PACKET: usize = 4000;
/// The longest Opus packet decodes to 120 ms.
const MAX_PACKET_SECONDS_INV: usize = 8;
/// The stream serial number. Fixed, so that the same audio always gives the same file (cache
/// entries compare by content); chaining streams, which needs distinct serials, is not done.
const SERIAL: u32 = 0x4543_4443;

/// The highest bitrate coded as speech (wideband at most); the Compact level's range ends here.
const SPEECH_MAX_KBPS: u32 = 24;

fn opus_error(what: &str) -> impl Fn(opus::Error) -> Error + '_ {
    move |e| Error::Opus(format!("{what}: {e}"))
}

fn write_error(e: std::io::Error) -> Error {
    Error::Io { path: "<output>".into(), source: e }
}

/// The rate libopus codes `source` at: itself when Opus takes it, else 48 kHz.
fn coding_rate(source: u32) -> u32 {
    match source {
        8_000 | 12_000 | 16_000 | 24_000 | 48_000 => source,
        _ => GRANULE_RATE,
    }
}

fn channels(n: usize) -> opus::Channels {
    match n {
        1 => opus::Channels::Mono,
        _ => opus::Channels::Stereo,
    }
}

/// PCM in (any rate, any channels: mixed to at most two), an Ogg Opus file out.
pub(crate) struct OggOpusEncoder<W: Write> {
    source_rate: u32,
    /// `None` once finished.
    converter: Option<StreamingConverter>,
    encoder: opus::Encoder,
    channels: usize,
    frame: usize,
    /// Coded-rate samples per channel not yet a whole frame, interleaved.
    pending: Vec<f32>,
    /// The last packet made, held back so that the final one carries the end of stream.
    held: Option<Vec<u8>>,
    writer: PacketWriter<'static, W>,
    /// Whether every push ends with a page (live streams), rather than a page a second.
    page_per_push: bool,
    /// Audio packets made (written or held).
    packets: u64,
    /// Coded-rate samples per channel taken in.
    length: u64,
    /// The encoder's delay at the coded rate, in samples.
    lookahead: u64,
    /// Granule positions (48 kHz) per coded sample.
    step: u64,
}

impl<W: Write> OggOpusEncoder<W> {
    pub fn new(settings: OpusSettings, pcm: PcmSpec, out: W) -> Result<Self> {
        if pcm.channels == 0 || pcm.sample_rate == 0 {
            return Err(Error::Opus(format!(
                "no audio ({} channels at {} Hz)",
                pcm.channels, pcm.sample_rate
            )));
        }
        let rate = coding_rate(pcm.sample_rate);
        let n_channels = pcm.channels.min(2);
        let converter = StreamingConverter::new(pcm.sample_rate, pcm.channels, rate, n_channels)?;
        let mut encoder = opus::Encoder::new(rate, channels(n_channels), opus::Application::Voip)
            .map_err(opus_error("encoder"))?;
        encoder
            .set_bitrate(opus::Bitrate::Bits(settings.kbps as i32 * 1000))
            .map_err(opus_error("bitrate"))?;
        // Complexity 10, not libopus's default 9: at 9 libopus discounts the bitrate it plans
        // with by 1 %, and at 9 kbps that puts speech under its wideband threshold, so the
        // stream was narrowband (4 kHz) and lost ~1.8 MOS to ffmpeg, which sets 10 (measured,
        // issue #31). The cost is encoder time, not bytes.
        encoder.set_complexity(10).map_err(opus_error("complexity"))?;
        // Speech bitrates stay wideband (8 kHz of audio). From 16 kbps libopus 1.6 goes to
        // super-wideband on 24 and 48 kHz input, spending bits above 8 kHz: measured on the
        // corpus, capping gives smaller files and higher MOS-LQO at 16 and 24 kbps (24 kHz
        // clip: 31.3 -> 30.0 kB, 3.80 -> 3.93), and ffmpeg's libopus 1.3.1 stays wideband
        // there too (issue #31). Above 24 kbps libopus chooses.
        if settings.kbps <= SPEECH_MAX_KBPS {
            encoder.set_max_bandwidth(opus::Bandwidth::Wideband).map_err(opus_error("bandwidth"))?;
        }
        let lookahead = encoder.get_lookahead().map_err(opus_error("lookahead"))?.max(0) as u64;
        let step = (GRANULE_RATE / rate) as u64;
        let head = OpusHead {
            channels: n_channels as u8,
            pre_skip: (lookahead * step) as u16,
            input_rate: pcm.sample_rate,
            gain_q8: 0,
        };
        let mut writer = PacketWriter::new(out);
        // Each header packet on a page of its own (RFC 7845 section 3).
        writer.write_packet(head.to_bytes(), SERIAL, PacketWriteEndInfo::EndPage, 0).map_err(write_error)?;
        let vendor = format!("encodec-rs {} ({})", env!("CARGO_PKG_VERSION"), opus::version());
        writer
            .write_packet(head::tags(&vendor), SERIAL, PacketWriteEndInfo::EndPage, 0)
            .map_err(write_error)?;
        Ok(Self {
            source_rate: pcm.sample_rate,
            converter: Some(converter),
            encoder,
            channels: n_channels,
            frame: (rate / FRAMES_PER_SECOND) as usize,
            pending: Vec::new(),
            held: None,
            writer,
            page_per_push: false,
            packets: 0,
            length: 0,
            lookahead,
            step,
        })
    }

    /// Codes the whole frames in `pending`.
    fn encode_frames(&mut self) -> Result<()> {
        let frame_values = self.frame * self.channels;
        let whole = self.pending.len() / frame_values * frame_values;
        let mut buffer = [0u8; MAX_PACKET];
        let frames = whole / frame_values;
        for (i, frame) in self.pending[..whole].chunks_exact(frame_values).enumerate() {
            let n = self.encoder.encode_float(frame, &mut buffer).map_err(opus_error("encode"))?;
            if let Some(previous) = self.held.replace(buffer[..n].to_vec()) {
                // `packets` counts the held one too: the previous packet is number packets - 1.
                let page_full = self.packets.is_multiple_of(PACKETS_PER_PAGE);
                let push_done = self.page_per_push && i + 1 == frames;
                let end = match page_full || push_done {
                    true => PacketWriteEndInfo::EndPage,
                    false => PacketWriteEndInfo::NormalPacket,
                };
                let granule = self.packets * GRANULE_PER_PACKET;
                self.writer.write_packet(previous, SERIAL, end, granule).map_err(write_error)?;
            }
            self.packets += 1;
        }
        self.pending.drain(..whole);
        Ok(())
    }

    /// The same encoder ending a page at every push (a live stream's pages go out at once).
    pub fn page_per_push(self) -> Self {
        Self { page_per_push: true, ..self }
    }

    /// Where the pages go.
    pub fn output_mut(&mut self) -> &mut W {
        self.writer.inner_mut()
    }

    /// Ends the stream: the last packet, on the end-of-stream page; returns the output.
    pub fn end(mut self) -> Result<W> {
        let tail = match self.converter.take() {
            Some(converter) => converter.finish()?,
            None => Vec::new(),
        };
        self.take(tail);
        // Silence until the encoder's delay has come out too, and at least one packet.
        let frames = (self.length + self.lookahead).div_ceil(self.frame as u64).max(1);
        let padding = (frames * self.frame as u64 - self.length) as usize * self.channels;
        self.pending.resize(self.pending.len() + padding, 0.0);
        self.encode_frames()?;
        // The end granule (pre-skip + the input's length) trims the last packet to that length.
        let end = (self.lookahead + self.length) * self.step;
        let last = self.held.take().ok_or_else(|| Error::Opus("no packet was coded".into()))?;
        self.writer.write_packet(last, SERIAL, PacketWriteEndInfo::EndStream, end).map_err(write_error)?;
        let mut out = self.writer.into_inner();
        out.flush().map_err(write_error)?;
        Ok(out)
    }

    fn take(&mut self, pcm: Vec<Vec<f32>>) {
        self.length += pcm.first().map_or(0, Vec::len) as u64;
        self.pending.extend(interleave(&pcm));
    }
}

impl<W: Write> Encoder for OggOpusEncoder<W> {
    fn push_pcm(&mut self, pcm: &[Vec<f32>]) -> Result<()> {
        let audio = Audio { sample_rate: self.source_rate, channels: pcm.to_vec() };
        let converter = self.converter.as_mut().ok_or_else(|| Error::Opus("push after finish".into()))?;
        let converted = converter.push(&audio)?;
        self.take(converted);
        self.encode_frames()
    }

    fn finish(self: Box<Self>) -> Result<()> {
        self.end().map(drop)
    }
}

/// One Ogg Opus stream's packets to PCM: its header read, then each audio packet decoded and
/// trimmed (pre-skip at the start, the end granule at the end). Files and live streams both
/// decode through it.
pub(crate) struct PacketDecoding {
    serial: u32,
    decoder: RawDecoder,
    rate: u32,
    channels: usize,
    /// Granule positions (48 kHz) per output sample.
    step: u64,
    gain: f32,
    /// One packet's decoded samples (room for 120 ms), interleaved.
    buffer: Vec<f32>,
    /// Decoded samples per channel still to drop (pre-skip, at the output rate).
    skip: u64,
    /// Samples per channel decoded so far, pre-skip included, at the output rate.
    decoded: u64,
    pre_skip: u64,
    enhancement: OpusEnhancement,
}

impl PacketDecoding {
    /// The decoding of the stream whose first two packets (OpusHead, OpusTags) are these.
    pub fn new(head: &ogg::Packet, tags: &ogg::Packet, enhancement: OpusEnhancement) -> Result<Self> {
        let parsed = OpusHead::parse(&head.data)?;
        head::check_tags(&tags.data)?;
        let rate = coding_rate(parsed.input_rate);
        let channels = parsed.channels as usize;
        let step = (GRANULE_RATE / rate) as u64;
        Ok(Self {
            serial: head.stream_serial(),
            decoder: RawDecoder::new(rate, channels, enhancement)?,
            rate,
            channels,
            step,
            gain: parsed.gain(),
            buffer: vec![0f32; rate as usize / MAX_PACKET_SECONDS_INV * channels],
            skip: parsed.pre_skip as u64 / step,
            decoded: 0,
            pre_skip: parsed.pre_skip as u64,
            enhancement,
        })
    }

    /// Starts again at a packet that begins at granule position `start` (48 kHz units, counted
    /// from the stream's first sample, pre-skip included), with a fresh decoder, giving samples
    /// from output sample `frame` on (the pre-skip trimmed, as from the start).
    fn restart(&mut self, start: u64, frame: u64) -> Result<()> {
        self.decoder = RawDecoder::new(self.rate, self.channels, self.enhancement)?;
        self.decoded = start / self.step;
        self.skip = (frame + self.pre_skip / self.step).saturating_sub(self.decoded);
        Ok(())
    }

    pub fn sample_rate(&self) -> u32 {
        self.rate
    }

    pub fn channels(&self) -> usize {
        self.channels
    }

    /// Samples per channel of a stream whose end granule is `granule`.
    fn length(&self, granule: u64) -> u64 {
        granule.saturating_sub(self.pre_skip) / self.step
    }

    /// Decodes `packet` (skipped if of another logical stream) onto `ready`, interleaved;
    /// returns whether it ended the stream.
    pub fn decode(&mut self, packet: &ogg::Packet, ready: &mut Vec<f32>) -> Result<bool> {
        if packet.stream_serial() != self.serial {
            return Ok(false); // another logical stream (multiplexed): not ours
        }
        let n = self.decoder.decode(&packet.data, &mut self.buffer)?;
        let mut start = 0;
        let mut end = n as u64;
        if packet.last_in_stream() {
            // The end granule says how many samples (pre-skip included) the stream holds.
            let total = packet.absgp_page() / self.step;
            end = total.saturating_sub(self.decoded).min(n as u64);
        }
        if self.skip > 0 {
            start = self.skip.min(end);
            self.skip -= start;
        }
        self.decoded += n as u64;
        let gain = self.gain;
        let values = &self.buffer[start as usize * self.channels..end.max(start) as usize * self.channels];
        ready.extend(values.iter().map(|v| v * gain));
        Ok(packet.last_in_stream())
    }
}

/// An Ogg Opus file's PCM, at the source's rate when Opus codes at it (else 48 kHz), trimmed
/// of the encoder's delay and the last packet's padding.
pub(crate) struct OggOpusDecoder {
    reader: PacketReader<BufReader<Box<dyn ReadSeek>>>,
    stream: PacketDecoding,
    /// Decoded samples not yet given out, interleaved.
    ready: Vec<f32>,
    done: bool,
    /// Samples per channel in all, from the end-of-stream page's granule position.
    len: Option<u64>,
    /// Whether the stream ended before its end-of-stream page, or inside a page.
    truncated: bool,
}

impl OggOpusDecoder {
    pub fn new(mut input: Box<dyn ReadSeek>, enhancement: OpusEnhancement) -> Result<Self> {
        let end = end_granule(&mut input).map_err(|source| Error::Io { path: "<input>".into(), source })?;
        let mut reader = PacketReader::new(BufReader::new(input));
        let head = next_packet(&mut reader)?.ok_or_else(|| Error::Opus("empty Ogg stream".into()))?;
        let tags = next_packet(&mut reader)?.ok_or_else(|| Error::Opus("no OpusTags packet".into()))?;
        let stream = PacketDecoding::new(&head, &tags, enhancement)?;
        let len = end.filter(|e| e.0 == stream.serial).map(|e| stream.length(e.1));
        Ok(Self { reader, stream, ready: Vec::new(), done: false, len, truncated: false })
    }

    /// Decodes the next packet of the stream into `ready`; false at its end.
    fn decode_packet(&mut self) -> Result<bool> {
        match self.reader.read_packet() {
            // Cut short (a file still being written, a stream that stopped): the pages before
            // the cut are the audio, as players read them.
            Ok(None) => {
                self.truncated = true;
                Ok(false)
            }
            Err(ogg::OggReadError::ReadError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                self.truncated = true;
                Ok(false)
            }
            Err(e) => Err(Error::Opus(format!("Ogg: {e}"))),
            Ok(Some(packet)) => Ok(!self.stream.decode(&packet, &mut self.ready)?),
        }
    }
}

/// The serial number and granule position of the last end-of-stream page in the file's last
/// 64 KiB (an Ogg page is at most 65,307 bytes), if any; the input is left at its start.
fn end_granule(input: &mut Box<dyn ReadSeek>) -> std::io::Result<Option<(u32, u64)>> {
    const TAIL: u64 = 65_307;
    let size = input.seek(SeekFrom::End(0))?;
    input.seek(SeekFrom::Start(size.saturating_sub(TAIL)))?;
    let mut tail = Vec::with_capacity(TAIL as usize);
    input.take(TAIL).read_to_end(&mut tail)?;
    input.seek(SeekFrom::Start(0))?;
    let found = (0..tail.len().saturating_sub(27)).rev().find_map(|at| {
        let page = &tail[at..];
        let eos = page[5] & 4 != 0;
        (page.starts_with(b"OggS") && page[4] == 0 && eos).then(|| {
            let serial = u32::from_le_bytes([page[14], page[15], page[16], page[17]]);
            let granule = u64::from_le_bytes(page[6..14].try_into().expect("8 bytes"));
            (serial, granule)
        })
    });
    Ok(found)
}

fn next_packet<R: std::io::Read + std::io::Seek>(
    reader: &mut PacketReader<R>,
) -> Result<Option<ogg::Packet>> {
    reader.read_packet().map_err(|e| Error::Opus(format!("Ogg: {e}")))
}

/// Granule positions (48 kHz) decoded before a seek's target: RFC 7845 §4.6 asks for at least
/// 80 ms, after which the decoder's output has converged to the continuous decode's (not bit for
/// bit: SILK's and CELT's states carry further back, at a level far below the signal).
const SEEK_PREROLL_GRANULES: u64 = 3_840;

/// Where the last page of stream `serial` whose first packet begins at or before granule
/// position `goal` starts, and that packet's granule position: read from the page headers
/// alone, from the file's start (an Ogg page says its length in its header; the payloads are
/// skipped, not read).
fn page_at_or_before(input: &mut (impl Read + Seek), serial: u32, goal: u64) -> std::io::Result<(u64, u64)> {
    input.seek(SeekFrom::Start(0))?;
    let mut best = None;
    // The granule position at the end of the stream's last page that completed a packet.
    let mut granule = 0u64;
    let mut header = [0u8; 27];
    let mut lacing = [0u8; 255];
    loop {
        let at = input.stream_position()?;
        if input.read_exact(&mut header).is_err() || &header[..4] != b"OggS" {
            break;
        }
        let segments = header[26] as usize;
        input.read_exact(&mut lacing[..segments])?;
        let body: u64 = lacing[..segments].iter().map(|&l| l as u64).sum();
        let page_serial = u32::from_le_bytes(header[14..18].try_into().expect("4 bytes"));
        let page_granule = u64::from_le_bytes(header[6..14].try_into().expect("8 bytes"));
        let continued = header[5] & 1 != 0;
        if page_serial == serial {
            // An audio page (its granule is past the headers') that starts a packet.
            if !continued && page_granule != 0 && granule <= goal {
                best = Some((at, granule));
            }
            if page_granule != u64::MAX {
                granule = page_granule;
            }
            if granule > goal && best.is_some() {
                break;
            }
        }
        input.seek(SeekFrom::Current(body as i64))?;
    }
    best.ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, "no audio page to seek to"))
}

impl PcmDecoder for OggOpusDecoder {
    fn sample_rate(&self) -> u32 {
        self.stream.rate
    }

    fn channels(&self) -> usize {
        self.stream.channels
    }

    fn len_hint(&self) -> Option<usize> {
        self.len.and_then(|len| usize::try_from(len).ok())
    }

    fn truncated(&self) -> bool {
        self.truncated
    }

    /// By page: from the last page that starts a packet at least 80 ms before the target
    /// (found from the page headers), with a fresh decoder.
    fn seek(&mut self, frame: usize) -> Result<bool> {
        let frame = self.len.map_or(frame as u64, |len| (frame as u64).min(len));
        let goal = (frame * self.stream.step + self.stream.pre_skip).saturating_sub(SEEK_PREROLL_GRANULES);
        let io = |source| Error::Io { path: "<input>".into(), source };
        let (page, start) = page_at_or_before(self.reader.get_mut(), self.stream.serial, goal).map_err(io)?;
        self.reader.seek_bytes(SeekFrom::Start(page)).map_err(io)?;
        self.stream.restart(start, frame)?;
        self.ready.clear();
        self.done = false;
        self.truncated = false;
        Ok(true)
    }

    fn next_chunk(&mut self, frames: usize) -> Result<Option<Vec<Vec<f32>>>> {
        let channels = self.stream.channels;
        while !self.done && self.ready.len() < frames.max(1) * channels {
            self.done = !self.decode_packet()?;
        }
        if self.ready.is_empty() {
            return Ok(None);
        }
        let take = self.ready.len().min(frames.max(1) * channels);
        let out = deinterleave(&self.ready[..take], channels);
        self.ready.drain(..take);
        Ok(Some(out))
    }
}
