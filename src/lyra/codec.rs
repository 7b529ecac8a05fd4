//! Lyra behind the [`Codec`] interface: framed files (what the cache levels write, known by
//! their magic bytes) or Google's raw `.lyra` streams (known by their extension, at a bitrate
//! the caller gives), both streamed. Input at any rate and channel count is mixed to mono and
//! resampled to 16 kHz; decoding gives 16 kHz mono.

use std::io::Write;

use crate::audio::{Audio, StreamingConverter};
use crate::codec::{Codec, Decoded, Encoder, Input, PcmDecoder, PcmSpec, ReadSeek};
use crate::{Format, Result};

use super::file::{FramedReader, FramedWriter, RawReader, RawWriter};
use super::model::{Lyra, LyraDecoder, LyraEncoder, FRAME_SAMPLES, SAMPLE_RATE};
use super::packet::Bitrate;

/// Which file a [`LyraCodec`] writes and reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Container {
    /// This crate's framed file (`LYRA` magic; bitrate, source rate, channels and length
    /// recorded): decodes with no flags, to the source's length.
    Framed,
    /// Google's `.lyra`: packets back to back; the reader must know the bitrate.
    Raw,
}

/// Lyra v2 at one bitrate, in one container, with the built-in weights or a given model.
pub struct LyraCodec<'m> {
    model: Option<&'m Lyra>,
    bitrate: Bitrate,
    container: Container,
}

impl<'m> LyraCodec<'m> {
    /// Framed files at `bitrate`, with the built-in weights.
    pub fn new(bitrate: Bitrate) -> Self {
        Self { model: None, bitrate, container: Container::Framed }
    }

    /// The same codec writing (and reading) `container`.
    pub fn container(self, container: Container) -> Self {
        Self { container, ..self }
    }

    /// The same codec with `model` instead of the built-in weights.
    pub fn with_model(self, model: &'m Lyra) -> Self {
        Self { model: Some(model), ..self }
    }

    fn model(&self) -> Result<&'m Lyra> {
        match self.model {
            Some(model) => Ok(model),
            None => Lyra::bundled(),
        }
    }
}

impl Codec for LyraCodec<'_> {
    fn name(&self) -> &'static str {
        "lyra"
    }

    fn format(&self) -> Option<Format> {
        Some(match self.container {
            Container::Framed => Format::Lyra,
            Container::Raw => Format::LyraRaw,
        })
    }

    fn input(&self) -> Input {
        Input::Pcm
    }

    fn sample_rate(&self) -> Option<u32> {
        Some(SAMPLE_RATE)
    }

    fn bitrates_kbps(&self) -> Vec<f32> {
        Bitrate::ALL.iter().map(|b| b.kbps()).collect()
    }

    fn bitrate_kbps(&self) -> Option<f32> {
        Some(self.bitrate.kbps())
    }

    fn encoder<'a>(&'a self, pcm: PcmSpec, out: &'a mut dyn Write) -> Result<Box<dyn Encoder + 'a>> {
        let model = self.model()?;
        let converter = StreamingConverter::new(pcm.sample_rate, pcm.channels, SAMPLE_RATE, 1)?;
        let sink = match self.container {
            Container::Framed => {
                Sink::Framed(FramedWriter::new(out, self.bitrate, pcm.sample_rate, pcm.channels)?)
            }
            Container::Raw => Sink::Raw(RawWriter::new(out, self.bitrate)),
        };
        let encoder = model.encoder(self.bitrate);
        Ok(Box::new(LyraFileEncoder { sample_rate: pcm.sample_rate, converter, encoder, sink, length: 0 }))
    }

    fn decoder<'a>(&'a self, input: Box<dyn ReadSeek>) -> Result<Decoded<'a>> {
        let model = self.model()?;
        let source = match self.container {
            Container::Framed => {
                let reader = FramedReader::new(input)?;
                let header = reader.header();
                Packets::Framed { reader, bitrate: header.bitrate, left: header.len_16k() }
            }
            Container::Raw => {
                let mut reader = RawReader::new(input, self.bitrate);
                let origin = reader.position()?;
                let samples = reader.packets_left()? * FRAME_SAMPLES as u64;
                Packets::Raw { reader, samples, origin }
            }
        };
        Ok(Decoded::Pcm(Box::new(LyraPcm { model, source, decoder: model.decoder(), carry: Vec::new() })))
    }
}

enum Sink<W: Write> {
    Framed(FramedWriter<W>),
    Raw(RawWriter<W>),
}

impl<W: Write> Sink<W> {
    fn write(&mut self, packets: &[u8]) -> Result<()> {
        match self {
            Sink::Framed(w) => w.write(packets),
            Sink::Raw(w) => w.write(packets),
        }
    }
}

/// Source PCM, mixed and resampled to 16 kHz mono, into packets, into a file.
pub(crate) struct LyraFileEncoder<'m, W: Write> {
    sample_rate: u32,
    converter: StreamingConverter,
    encoder: LyraEncoder<'m>,
    sink: Sink<W>,
    /// Source samples per channel seen.
    length: u64,
}

impl<W: Write> LyraFileEncoder<'static, W> {
    /// Google's raw packets into `out`, with the built-in weights, for PCM of `pcm`: what a
    /// live stream sends.
    pub fn raw(bitrate: Bitrate, pcm: PcmSpec, out: W) -> Result<Self> {
        Ok(Self {
            sample_rate: pcm.sample_rate,
            converter: StreamingConverter::new(pcm.sample_rate, pcm.channels, SAMPLE_RATE, 1)?,
            encoder: Lyra::bundled()?.encoder(bitrate),
            sink: Sink::Raw(RawWriter::new(out, bitrate)),
            length: 0,
        })
    }
}

impl<W: Write> LyraFileEncoder<'_, W> {
    /// Where the packets go.
    pub fn output_mut(&mut self) -> &mut W {
        match &mut self.sink {
            Sink::Framed(w) => w.output_mut(),
            Sink::Raw(w) => w.output_mut(),
        }
    }

    /// Ends the stream: the last, padded frame; the framed file's length; returns the output.
    pub fn end(self) -> Result<W> {
        let Self { converter, mut encoder, mut sink, length, .. } = self;
        let mono = converter.finish()?;
        let mut packets = encoder.push(&mono[0]);
        packets.extend(encoder.finish());
        sink.write(&packets)?;
        match sink {
            Sink::Framed(w) => w.finish(length),
            Sink::Raw(w) => w.finish(),
        }
    }
}

impl<W: Write> Encoder for LyraFileEncoder<'_, W> {
    fn push_pcm(&mut self, pcm: &[Vec<f32>]) -> Result<()> {
        self.length += pcm.first().map_or(0, Vec::len) as u64;
        let audio = Audio { sample_rate: self.sample_rate, channels: pcm.to_vec() };
        let mono = self.converter.push(&audio)?;
        let packets = self.encoder.push(&mono[0]);
        self.sink.write(&packets)
    }

    fn finish(self: Box<Self>) -> Result<()> {
        self.end().map(drop)
    }
}

enum Packets {
    Framed { reader: FramedReader<Box<dyn ReadSeek>>, bitrate: Bitrate, left: u64 },
    Raw { reader: RawReader<Box<dyn ReadSeek>>, samples: u64, origin: u64 },
}

/// Packets decoded before a seek's target from a fresh state. LyraGAN's decoder is
/// convolutions and transposed convolutions only, so its state is the last frames of each
/// layer's input: after enough packets a fresh state holds what the full decode's does, and
/// the output is the same, bit for bit. Measured on speech at 3.2 kbps, from three points: a
/// fresh state's output differs for 24 packets and equals the full decode exactly from the
/// 25th (480 ms) on; 32 keeps a margin, and `tests/player.rs` checks seeks bit for bit.
const SEEK_WARMUP_PACKETS: u64 = 32;

/// A Lyra file's PCM (16 kHz mono), a few packets at a time.
struct LyraPcm<'a> {
    model: &'a Lyra,
    source: Packets,
    decoder: LyraDecoder<'a>,
    /// Decoded past a seek's warm-up and not yet given.
    carry: Vec<f32>,
}

impl LyraPcm<'_> {
    fn len(&self) -> u64 {
        match &self.source {
            Packets::Framed { reader, .. } => reader.header().len_16k(),
            Packets::Raw { samples, .. } => *samples,
        }
    }

    /// The next PCM of at most `packets` packets, the last frame's padding cut.
    fn decode_packets(&mut self, packets: usize) -> Result<Vec<f32>> {
        match &mut self.source {
            Packets::Framed { reader, bitrate, left } => {
                if *left == 0 {
                    return Ok(Vec::new());
                }
                let bytes = reader.next_packets(packets)?;
                let mut pcm = self.decoder.push(&bytes, *bitrate)?;
                // The last frame's padding is not the source's.
                pcm.truncate((*left).min(pcm.len() as u64) as usize);
                *left -= pcm.len() as u64;
                Ok(pcm)
            }
            Packets::Raw { reader, .. } => {
                let bitrate = reader.bitrate();
                let bytes = reader.next_packets(packets)?;
                self.decoder.push(&bytes, bitrate)
            }
        }
    }
}

impl PcmDecoder for LyraPcm<'_> {
    fn sample_rate(&self) -> u32 {
        SAMPLE_RATE
    }

    fn channels(&self) -> usize {
        1
    }

    fn len_hint(&self) -> Option<usize> {
        usize::try_from(self.len()).ok()
    }

    fn next_chunk(&mut self, frames: usize) -> Result<Option<Vec<Vec<f32>>>> {
        if !self.carry.is_empty() {
            return Ok(Some(vec![std::mem::take(&mut self.carry)]));
        }
        let pcm = self.decode_packets(frames.div_ceil(FRAME_SAMPLES).max(1))?;
        if pcm.is_empty() {
            return Ok(None);
        }
        Ok(Some(vec![pcm]))
    }

    /// By packet: from [`SEEK_WARMUP_PACKETS`] before the target's, with a fresh state.
    fn seek(&mut self, frame: usize) -> Result<bool> {
        let frame = (frame as u64).min(self.len());
        let target = frame / FRAME_SAMPLES as u64;
        let first = target.saturating_sub(SEEK_WARMUP_PACKETS);
        match &mut self.source {
            Packets::Framed { reader, left, .. } => {
                reader.seek_packet(first)?;
                *left = reader.header().len_16k() - first * FRAME_SAMPLES as u64;
            }
            Packets::Raw { reader, origin, .. } => reader.seek_packet(*origin, first)?,
        }
        self.decoder = self.model.decoder();
        self.carry.clear();
        let mut drop = (frame - first * FRAME_SAMPLES as u64) as usize;
        while drop > 0 {
            let pcm = self.decode_packets(drop.div_ceil(FRAME_SAMPLES))?;
            if pcm.is_empty() {
                break;
            }
            if pcm.len() > drop {
                self.carry = pcm[drop..].to_vec();
                break;
            }
            drop -= pcm.len();
        }
        Ok(true)
    }
}
