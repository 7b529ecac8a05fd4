//! AAC through the Fraunhofer FDK library (the encoder through the `fdk-aac` crate, the decoder
//! through `fdk-aac-sys`), in an `.m4a` (MP4) file muxed and demuxed with `shiguredo_mp4`.

use std::num::{NonZeroU16, NonZeroU32};

use fdk_aac::enc::{AudioObjectType, BitRate, ChannelMode, Encoder, EncoderParams, Transport};
use shiguredo_mp4::boxes::{
    AudioSampleEntryFields, EdtsBox, ElstBox, ElstEntry, EsdsBox, MoovBox, Mp4aBox, SampleEntry,
};
use shiguredo_mp4::demux::{Input, Mp4FileDemuxer};
use shiguredo_mp4::descriptors::{
    DecoderConfigDescriptor, DecoderSpecificInfo, EsDescriptor, SlConfigDescriptor,
};
use shiguredo_mp4::mux::{Mp4FileMuxer, Sample};
use shiguredo_mp4::{Decode, Encode, FixedPointNumber, TrackKind, Uint};

use std::io::Write;

use super::{AacProfile, AacSettings};
use crate::audio::{self, Audio, StreamingConverter};
use crate::codec::{is_adts, PcmDecoder, PcmSpec};
use crate::{Error, Result};

/// The sampling rates AAC signals with an index; other inputs are resampled to the next one up.
const AAC_RATES: [u32; 12] =
    [8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 64000, 88200, 96000];

/// Source PCM converted to an AAC rate and coded a frame at a time. The access units (the
/// compressed stream, ~0.5 MB a minute at 64 kbps) are muxed into the MP4 file at the end,
/// when the sample table is known.
pub(super) struct AacEncoder<'a> {
    out: &'a mut dyn Write,
    settings: AacSettings,
    source_rate: u32,
    /// `None` once finished.
    converter: Option<StreamingConverter>,
    encoder: Encoder,
    channels: usize,
    rate: u32,
    /// Samples per channel in an access unit.
    frame: usize,
    /// The AudioSpecificConfig, the encoder's delay and its core codec's (the priming).
    config: Vec<u8>,
    delay: usize,
    priming: u64,
    /// Interleaved samples not yet a whole frame; samples per channel pushed in all.
    pending: Vec<i16>,
    samples: u64,
    units: Vec<Vec<u8>>,
    buffer: Vec<u8>,
}

impl<'a> AacEncoder<'a> {
    /// An encoder of `settings` for PCM `pcm`, writing the `.m4a` file to `out`.
    pub(super) fn new(settings: AacSettings, pcm: PcmSpec, out: &'a mut dyn Write) -> Result<Self> {
        // Parametric stereo codes a stereo pair; mono speech goes in as two equal channels.
        let channels = match (settings.profile, pcm.channels) {
            (AacProfile::HeV2, _) => 2,
            (_, n) => n.clamp(1, 2),
        };
        let rate = AAC_RATES.into_iter().find(|&r| r >= pcm.sample_rate).unwrap_or(96_000);
        let converter = StreamingConverter::new(pcm.sample_rate, pcm.channels, rate, channels)?;
        let encoder = Encoder::new(EncoderParams {
            bit_rate: BitRate::Cbr(settings.kbps * 1000),
            sample_rate: rate,
            transport: Transport::Raw,
            channels: if channels == 1 { ChannelMode::Mono } else { ChannelMode::Stereo },
            audio_object_type: match settings.profile {
                AacProfile::Lc => AudioObjectType::Mpeg4LowComplexity,
                AacProfile::HeV1 => AudioObjectType::Mpeg4HeAac,
                AacProfile::HeV2 => AudioObjectType::Mpeg4HeAacV2,
            },
        })
        .map_err(|e| {
            aac(format!("{:?} at {} kbps, {rate} Hz, {channels} ch: {e}", settings.profile, settings.kbps))
        })?;
        let info = encoder.info().map_err(|e| aac(e.to_string()))?;
        Ok(Self {
            out,
            settings,
            source_rate: pcm.sample_rate,
            converter: Some(converter),
            channels,
            rate,
            frame: info.frameLength as usize,
            config: info.confBuf[..info.confSize as usize].to_vec(),
            delay: info.nDelay as usize,
            priming: info.nDelayCore as u64,
            buffer: vec![0u8; info.maxOutBufBytes as usize],
            encoder,
            pending: Vec::new(),
            samples: 0,
            units: Vec::new(),
        })
    }

    /// Codes the whole frames `pending` holds.
    fn encode_frames(&mut self) -> Result<()> {
        let block = self.frame * self.channels;
        let whole = self.pending.len() / block * block;
        for chunk in self.pending[..whole].chunks(block) {
            let done = self.encoder.encode(chunk, &mut self.buffer).map_err(|e| aac(e.to_string()))?;
            if done.input_consumed != chunk.len() {
                return Err(aac(format!(
                    "the encoder took {} of {} samples",
                    done.input_consumed,
                    chunk.len()
                )));
            }
            if done.output_size > 0 {
                self.units.push(self.buffer[..done.output_size].to_vec());
            }
        }
        self.pending.drain(..whole);
        Ok(())
    }

    /// Appends converted PCM (`[channels][samples]` at the AAC rate) and codes what is whole.
    fn feed(&mut self, pcm: &[Vec<f32>]) -> Result<()> {
        let len = pcm.first().map_or(0, Vec::len);
        self.pending.reserve(len * self.channels);
        for i in 0..len {
            for channel in pcm {
                self.pending.push(crate::audio::sample_to_i16(channel[i]));
            }
        }
        self.samples += len as u64;
        self.encode_frames()
    }
}

impl crate::codec::Encoder for AacEncoder<'_> {
    fn push_pcm(&mut self, pcm: &[Vec<f32>]) -> Result<()> {
        let audio = Audio { sample_rate: self.source_rate, channels: pcm.to_vec() };
        let converter = self.converter.as_mut().expect("a converter until finished");
        let converted = converter.push(&audio)?;
        self.feed(&converted)
    }

    fn finish(mut self: Box<Self>) -> Result<()> {
        let converted = self.converter.take().expect("a converter until finished").finish()?;
        self.feed(&converted)?;
        if self.samples == 0 {
            return Err(Error::EmptyAudio);
        }
        // The library is fed whole frames; zeros after the audio push its last samples (and the
        // SBR decoder's delay) out. The edit list hides the priming and this padding.
        let total = (self.samples as usize + self.delay + 2 * self.frame).div_ceil(self.frame) * self.frame;
        let fed = self.samples as usize - self.pending.len() / self.channels;
        self.pending.resize((total - fed) * self.channels, 0);
        self.encode_frames()?;
        let track = Track {
            rate: self.rate,
            channels: self.channels as u16,
            config: std::mem::take(&mut self.config),
            priming: self.priming,
            samples: self.samples,
            frame: self.frame as u32,
            kbps: self.settings.kbps,
        };
        let file = mux(&track, &self.units)?;
        self.out.write_all(&file).and_then(|()| self.out.flush()).map_err(|e| mp4(e.to_string()))
    }
}

/// What the MP4 file says about its one AAC track.
struct Track {
    rate: u32,
    channels: u16,
    /// The AudioSpecificConfig the encoder made.
    config: Vec<u8>,
    /// Samples of encoder delay at the start, hidden by the edit list.
    priming: u64,
    /// Samples per channel of the audio itself.
    samples: u64,
    /// Samples per channel in an access unit.
    frame: u32,
    kbps: u32,
}

fn mux(track: &Track, units: &[Vec<u8>]) -> Result<Vec<u8>> {
    let mut muxer = Mp4FileMuxer::new().map_err(mp4)?;
    let mut file = muxer.initial_boxes_bytes().to_vec();
    let timescale = NonZeroU32::new(track.rate).ok_or_else(|| aac("zero sample rate".into()))?;
    let mut entry = Some(SampleEntry::Mp4a(Mp4aBox {
        audio: AudioSampleEntryFields {
            data_reference_index: NonZeroU16::MIN,
            channelcount: track.channels,
            samplesize: 16,
            samplerate: FixedPointNumber::new(track.rate.min(u16::MAX as u32) as u16, 0),
        },
        esds_box: EsdsBox {
            es: EsDescriptor {
                es_id: 1,
                stream_priority: Uint::new(0),
                depends_on_es_id: None,
                url_string: None,
                ocr_es_id: None,
                dec_config_descr: DecoderConfigDescriptor {
                    object_type_indication: 0x40, // MPEG-4 audio
                    stream_type: Uint::new(5),    // audio stream
                    up_stream: Uint::new(0),
                    buffer_size_db: Uint::new(units.iter().map(Vec::len).max().unwrap_or(0) as u32),
                    max_bitrate: track.kbps * 1000,
                    avg_bitrate: track.kbps * 1000,
                    dec_specific_info: Some(DecoderSpecificInfo { payload: track.config.clone() }),
                },
                sl_config_descr: SlConfigDescriptor,
            },
        },
        unknown_boxes: Vec::new(),
    }));
    for unit in units {
        let sample = Sample {
            track_kind: TrackKind::Audio,
            sample_entry: entry.take(),
            keyframe: true,
            timescale,
            duration: track.frame,
            composition_time_offset: None,
            data_offset: file.len() as u64,
            data_size: unit.len(),
        };
        file.extend_from_slice(unit);
        muxer.append_sample(&sample).map_err(mp4)?;
    }
    let finalized = muxer.finalize().map_err(mp4)?;
    let mut moov_at = None;
    for (offset, bytes) in finalized.offset_and_bytes_pairs() {
        let offset = offset as usize;
        if offset >= file.len() {
            moov_at = Some(offset);
            file.resize(offset, 0);
            file.extend_from_slice(bytes);
        } else {
            file[offset..offset + bytes.len()].copy_from_slice(bytes);
        }
    }
    // The muxer writes no edit list; the moov box comes last, so it is re-encoded with one.
    let moov_at = moov_at.ok_or_else(|| mp4("the muxer put the moov box before the media"))?;
    let mut moov = finalized.moov_box().clone();
    let movie_scale = moov.mvhd_box.timescale.get() as u64;
    let shown = (track.samples * movie_scale).div_ceil(track.rate as u64);
    moov.mvhd_box.duration = shown;
    let trak = moov.trak_boxes.first_mut().ok_or_else(|| mp4("no track"))?;
    trak.tkhd_box.duration = shown;
    trak.edts_box = Some(EdtsBox {
        elst_box: Some(ElstBox {
            entries: vec![ElstEntry {
                edit_duration: shown,
                media_time: track.priming as i64,
                media_rate: FixedPointNumber::new(1, 0),
            }],
        }),
        unknown_boxes: Vec::new(),
    });
    file.truncate(moov_at);
    file.extend_from_slice(&moov.encode_to_vec().map_err(mp4)?);
    Ok(file)
}

/// Where the access units come from: an MP4 track's samples, or an ADTS stream.
enum Units {
    Mp4 { units: std::vec::IntoIter<std::ops::Range<usize>> },
    Adts { at: usize },
}

/// An `.m4a`/`.mp4` file's AAC track, trimmed to its edit list (gapless), or an ADTS (`.aac`)
/// stream, decoded an access unit at a time. HE-AAC v1/v2 decode at full rate (symphonia's
/// decoder is LC only). The file's bytes are held (the compressed stream); the decoded PCM is
/// handed out as it comes.
pub(super) struct AacDecoder {
    bytes: Vec<u8>,
    units: Units,
    decoder: Decoder,
    edit: Option<Edit>,
    /// Decoded samples (interleaved) not yet handed out, with the stream's layout.
    pcm: Pcm,
    /// Samples per channel still to drop at the start (decoder delay and priming), once known.
    skip: Option<u64>,
    /// Samples per channel decoded, and handed out.
    decoded: u64,
    given: u64,
    ended: bool,
}

impl AacDecoder {
    /// Opens `bytes` (an MP4 file or an ADTS stream) and decodes as far as its layout.
    pub(super) fn new(bytes: Vec<u8>) -> Result<Self> {
        let (units, decoder, edit) = if is_adts(&bytes) {
            (Units::Adts { at: 0 }, Decoder::new(fdk_aac_sys::TRANSPORT_TYPE_TT_MP4_ADTS)?, None)
        } else {
            let AacTrack { config, channels, units, edit } = demux(&bytes)?;
            let mut decoder = Decoder::new(fdk_aac_sys::TRANSPORT_TYPE_TT_MP4_RAW)?;
            decoder.configure(&config)?;
            if channels == 1 {
                // A mono HE-AAC stream might carry parametric stereo, so the decoder would make
                // two equal channels of it; the track says mono.
                decoder.set(fdk_aac_sys::AACDEC_PARAM_AAC_PCM_MAX_OUTPUT_CHANNELS, 1)?;
            }
            (Units::Mp4 { units: units.into_iter() }, decoder, edit)
        };
        let count = match &units {
            Units::Mp4 { units } => Some(units.len() as u64),
            Units::Adts { .. } => None,
        };
        let mut this = Self {
            bytes,
            units,
            decoder,
            edit,
            pcm: Pcm::default(),
            skip: None,
            decoded: 0,
            given: 0,
            ended: false,
        };
        let mut decoded = 0;
        while this.pcm.channels == 0 && !this.ended {
            this.decode_next()?;
            decoded += 1;
        }
        if this.pcm.channels == 0 {
            return Err(aac("no audio frames".into()));
        }
        // Every access unit decodes to as many samples as the first ones did: an edit list
        // asking for more than the stream holds is refused now, not at its end.
        if let (Some(edit), Some(count)) = (this.edit, count) {
            let per_unit = this.decoded / decoded;
            let delay = this.decoder.output_delay() as u64;
            if delay + edit.skip + edit.play > per_unit * count {
                return Err(aac(format!(
                    "the edit list asks for {} samples, the stream holds {}",
                    delay + edit.skip + edit.play,
                    per_unit * count
                )));
            }
        }
        Ok(this)
    }

    /// Decodes the next access unit (ADTS: the next bytes the decoder takes) into `pcm`,
    /// dropping the delay at the start.
    fn decode_next(&mut self) -> Result<()> {
        match &mut self.units {
            Units::Mp4 { units } => match units.next() {
                Some(range) => {
                    self.decoder.fill(&self.bytes[range])?;
                }
                None => self.ended = true,
            },
            Units::Adts { at } if *at < self.bytes.len() => {
                let taken = self.decoder.fill(&self.bytes[*at..])?;
                if taken == 0 {
                    return Err(aac("the decoder takes no more bytes".into()));
                }
                *at += taken;
            }
            Units::Adts { .. } => self.ended = true,
        }
        if self.ended {
            return Ok(());
        }
        let before = self.pcm.interleaved.len();
        self.decoder.decode_into(&mut self.pcm)?;
        if self.pcm.channels > 0 {
            let channels = self.pcm.channels;
            self.decoded += ((self.pcm.interleaved.len() - before) / channels) as u64;
            let delay = self.decoder.output_delay() as u64;
            let skip = *self.skip.get_or_insert_with(|| delay + self.edit.map_or(0, |e| e.skip));
            let have = (self.pcm.interleaved.len() / channels) as u64;
            let drop = skip.min(have);
            self.pcm.interleaved.drain(..drop as usize * channels);
            self.skip = Some(skip - drop);
        }
        Ok(())
    }
}

impl PcmDecoder for AacDecoder {
    fn sample_rate(&self) -> u32 {
        self.pcm.rate
    }
    fn channels(&self) -> usize {
        self.pcm.channels
    }
    fn len_hint(&self) -> Option<usize> {
        self.edit.map(|e| e.play as usize)
    }
    fn next_chunk(&mut self, frames: usize) -> Result<Option<Vec<Vec<f32>>>> {
        let channels = self.pcm.channels;
        let frames = frames.max(1);
        while self.pcm.interleaved.len() / channels < frames && !self.ended {
            self.decode_next()?;
        }
        let mut take = (self.pcm.interleaved.len() / channels).min(frames) as u64;
        if let Some(edit) = self.edit {
            take = take.min(edit.play - self.given);
            if self.ended && take == 0 && self.given < edit.play {
                return Err(aac(format!(
                    "the edit list asks for {} samples, the stream holds {}",
                    edit.play, self.given
                )));
            }
        }
        if take == 0 {
            return Ok(None);
        }
        let samples: Vec<i16> = self.pcm.interleaved.drain(..take as usize * channels).collect();
        self.given += take;
        Ok(Some(
            (0..channels)
                .map(|c| samples.iter().skip(c).step_by(channels).map(|&s| s as f32 / 32768.0).collect())
                .collect(),
        ))
    }
}

/// The edit list's first entry: samples to skip and samples to play, in the track's rate.
#[derive(Clone, Copy)]
struct Edit {
    skip: u64,
    play: u64,
}

/// An MP4 file's AAC track.
struct AacTrack {
    /// The AudioSpecificConfig.
    config: Vec<u8>,
    /// The sample entry's channel count.
    channels: u16,
    /// Where the access units are in the file, in order.
    units: Vec<std::ops::Range<usize>>,
    edit: Option<Edit>,
}

/// Finds the first audio track, which must be AAC.
fn demux(bytes: &[u8]) -> Result<AacTrack> {
    let mut demuxer = Mp4FileDemuxer::new();
    while let Some(required) = demuxer.required_input() {
        let start = (required.position as usize).min(bytes.len());
        let end = required.size.map_or(bytes.len(), |n| start.saturating_add(n).min(bytes.len()));
        demuxer.handle_input(Input { position: start as u64, data: &bytes[start..end] });
        if end == bytes.len() && required.size.is_some_and(|n| start + n > end) {
            break; // the file ends early; the demuxer reports it below
        }
    }
    let track_id = demuxer
        .tracks()
        .map_err(|e| mp4(e.to_string()))?
        .iter()
        .find(|t| t.kind == TrackKind::Audio)
        .map(|t| t.track_id)
        .ok_or_else(|| mp4("no audio track"))?;
    let mut config = None;
    let mut channels = 0;
    let mut units = Vec::new();
    while let Some(sample) = demuxer.next_sample().map_err(|e| mp4(e.to_string()))? {
        if sample.track.track_id != track_id {
            continue;
        }
        if let Some(entry) = sample.sample_entry {
            let SampleEntry::Mp4a(mp4a) = entry else {
                return Err(mp4("the audio track is not AAC"));
            };
            channels = mp4a.audio.channelcount;
            let info = mp4a.esds_box.es.dec_config_descr.dec_specific_info.as_ref();
            config = Some(info.ok_or_else(|| mp4("no AudioSpecificConfig"))?.payload.clone());
        }
        let start = sample.data_offset as usize;
        let unit =
            start.checked_add(sample.data_size).filter(|&end| end <= bytes.len()).map(|end| start..end);
        units.push(unit.ok_or_else(|| mp4("a sample lies outside the file"))?);
    }
    let config = config.ok_or_else(|| mp4("the audio track has no samples"))?;
    Ok(AacTrack { config, channels, units, edit: edit_list(bytes, track_id)? })
}

/// Reads the track's edit list from the `moov` box (the demuxer does not expose it).
fn edit_list(bytes: &[u8], track_id: u32) -> Result<Option<Edit>> {
    let mut at = 0usize;
    while at + 8 <= bytes.len() {
        let size32 = u32::from_be_bytes(bytes[at..at + 4].try_into().expect("4 bytes")) as usize;
        let (size, kind) = match size32 {
            0 => (bytes.len() - at, &bytes[at + 4..at + 8]),
            1 if at + 16 <= bytes.len() => {
                let size = u64::from_be_bytes(bytes[at + 8..at + 16].try_into().expect("8 bytes"));
                (usize::try_from(size).unwrap_or(usize::MAX), &bytes[at + 4..at + 8])
            }
            n => (n, &bytes[at + 4..at + 8]),
        };
        if size < 8 || at.saturating_add(size) > bytes.len() {
            return Err(mp4("a top-level box runs past the end of the file"));
        }
        if kind == b"moov" {
            let (moov, _) = MoovBox::decode(&bytes[at..at + size]).map_err(mp4)?;
            let movie_scale = moov.mvhd_box.timescale.get() as u64;
            let Some(trak) = moov.trak_boxes.iter().find(|t| t.tkhd_box.track_id == track_id) else {
                return Ok(None);
            };
            let media_scale = trak.mdia_box.mdhd_box.timescale.get() as u64;
            let entry = trak.edts_box.as_ref().and_then(|e| e.elst_box.as_ref()).and_then(|e| {
                e.entries.iter().find(|entry| entry.media_time >= 0) // skip empty edits
            });
            return Ok(entry.map(|e| Edit {
                skip: e.media_time as u64,
                play: (e.edit_duration as u128 * media_scale as u128 / movie_scale.max(1) as u128) as u64,
            }));
        }
        at += size;
    }
    Ok(None)
}

/// Decoded interleaved samples, with the stream's layout once known.
#[derive(Default)]
struct Pcm {
    interleaved: Vec<i16>,
    channels: usize,
    rate: u32,
}

/// The FDK decoder, held directly through the -sys crate: the `fdk-aac` crate's wrapper cannot
/// turn off the decoder's output limiter, whose look-ahead delays the output by ~1400 samples
/// and would keep the last of them inside the decoder.
struct Decoder {
    handle: fdk_aac_sys::HANDLE_AACDECODER,
    /// Where a frame is decoded to: two 2048-sample frames of up to 8 channels, more than one
    /// frame can produce; kept, so that frames do not allocate.
    frame: Vec<i16>,
}

// SAFETY: the handle is FDK's heap state for this decoder alone, used only through `&mut
// self`; FDK keeps no thread-local or global state for it, so it may move between threads.
unsafe impl Send for Decoder {}

impl Decoder {
    fn new(transport: fdk_aac_sys::TRANSPORT_TYPE) -> Result<Self> {
        // SAFETY: aacDecoder_Open allocates a decoder or returns null.
        let handle = unsafe { fdk_aac_sys::aacDecoder_Open(transport, 1) };
        if handle.is_null() {
            return Err(aac("could not open the decoder".into()));
        }
        let mut decoder = Self { handle, frame: vec![0; 2048 * 8 * 2] };
        decoder.set(fdk_aac_sys::AACDEC_PARAM_AAC_PCM_LIMITER_ENABLE, 0)?;
        Ok(decoder)
    }

    fn set(&mut self, param: fdk_aac_sys::AACDEC_PARAM, value: i32) -> Result<()> {
        // SAFETY: a valid handle; parameters and values from the library's header.
        check(unsafe { fdk_aac_sys::aacDecoder_SetParam(self.handle, param, value) })
    }

    fn configure(&mut self, config: &[u8]) -> Result<()> {
        let mut ptr = config.as_ptr() as *mut u8;
        let len = config.len() as u32;
        // SAFETY: one buffer of `len` bytes, read only.
        check(unsafe { fdk_aac_sys::aacDecoder_ConfigRaw(self.handle, &mut ptr, &len) })
    }

    /// Hands the decoder bytes; returns how many it took.
    fn fill(&mut self, data: &[u8]) -> Result<usize> {
        let mut ptr = data.as_ptr() as *mut u8;
        let len = data.len() as u32;
        let mut left = len;
        // SAFETY: one buffer of `len` bytes, read only; `left` receives what was not taken.
        check(unsafe { fdk_aac_sys::aacDecoder_Fill(self.handle, &mut ptr, &len, &mut left) })?;
        Ok((len - left) as usize)
    }

    /// Decodes every frame the filled bytes hold, appending to `pcm`.
    fn decode_into(&mut self, pcm: &mut Pcm) -> Result<()> {
        let buffer = &mut self.frame;
        loop {
            // SAFETY: `buffer` holds `buffer.len()` samples.
            let status = unsafe {
                fdk_aac_sys::aacDecoder_DecodeFrame(self.handle, buffer.as_mut_ptr(), buffer.len() as i32, 0)
            };
            if status == fdk_aac_sys::AAC_DECODER_ERROR_AAC_DEC_NOT_ENOUGH_BITS {
                return Ok(());
            }
            check(status)?;
            // SAFETY: the library returns a pointer to its own stream info, valid while open.
            let info = unsafe { &*fdk_aac_sys::aacDecoder_GetStreamInfo(self.handle) };
            let (channels, rate) = (info.numChannels.max(0) as usize, info.sampleRate.max(0) as u32);
            if channels == 0 || !audio::SAMPLE_RATES.contains(&rate) {
                return Err(aac(format!("decoded {channels} channels at {rate} Hz")));
            }
            if pcm.channels != 0 && (pcm.channels, pcm.rate) != (channels, rate) {
                return Err(aac("the channel count or rate changes mid-stream".into()));
            }
            (pcm.channels, pcm.rate) = (channels, rate);
            let n = (info.frameSize.max(0) as usize * channels).min(buffer.len());
            pcm.interleaved.extend_from_slice(&buffer[..n]);
        }
    }

    /// Samples the decoder itself delays its output by.
    fn output_delay(&self) -> usize {
        // SAFETY: as in decode_into.
        unsafe { (*fdk_aac_sys::aacDecoder_GetStreamInfo(self.handle)).outputDelay as usize }
    }
}

impl Drop for Decoder {
    fn drop(&mut self) {
        // SAFETY: opened in `new`, closed once.
        unsafe { fdk_aac_sys::aacDecoder_Close(self.handle) }
    }
}

fn check(status: fdk_aac_sys::AAC_DECODER_ERROR) -> Result<()> {
    match status {
        fdk_aac_sys::AAC_DECODER_ERROR_AAC_DEC_OK => Ok(()),
        code => Err(aac(format!("decoder error 0x{code:04x}"))),
    }
}

fn aac(reason: String) -> Error {
    Error::Aac(reason)
}

fn mp4(reason: impl std::fmt::Display) -> Error {
    Error::Mp4(reason.to_string())
}
