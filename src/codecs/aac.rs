//! The Standard level: AAC (LC, HE-AAC v1/v2) with the Fraunhofer FDK library, in an `.m4a`
//! (MP4) file that phones, browsers, ffmpeg and symphonia play; gapless through an edit list.

use std::num::{NonZeroU16, NonZeroU32};

use fdk_aac::enc::{AudioObjectType, BitRate, ChannelMode, Encoder, EncoderParams, Transport};
use serde::Serialize;
use shiguredo_mp4::boxes::{
    AudioSampleEntryFields, EdtsBox, ElstBox, ElstEntry, EsdsBox, MoovBox, Mp4aBox, SampleEntry,
};
use shiguredo_mp4::demux::{Input, Mp4FileDemuxer};
use shiguredo_mp4::descriptors::{
    DecoderConfigDescriptor, DecoderSpecificInfo, EsDescriptor, SlConfigDescriptor,
};
use shiguredo_mp4::mux::{Mp4FileMuxer, Sample};
use shiguredo_mp4::{Decode, Encode, FixedPointNumber, TrackKind, Uint};

use crate::audio::{self, Audio};
use crate::{Error, Result};

/// Which AAC flavour the Standard level writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AacProfile {
    /// AAC-LC: 16–320 kbps; 64 kbps is the usual speech cache setting.
    Lc,
    /// HE-AAC v1 (AAC-LC + spectral band replication): 16–48 kbps.
    HeV1,
    /// HE-AAC v2 (v1 + parametric stereo; the audio is coded as stereo): 16–48 kbps.
    HeV2,
}

/// An AAC profile and bitrate that the Standard level accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct AacSettings {
    /// The AAC flavour.
    pub profile: AacProfile,
    /// Constant bitrate in kbps.
    pub kbps: u32,
}

impl Default for AacSettings {
    /// AAC-LC at 64 kbps.
    fn default() -> Self {
        Self { profile: AacProfile::Lc, kbps: 64 }
    }
}

impl AacSettings {
    /// Checks the bitrate against the profile's range: 16–320 kbps for LC, 16–48 for HE-AAC.
    pub fn new(profile: AacProfile, kbps: u32) -> Result<Self> {
        let range = match profile {
            AacProfile::Lc => 16..=320,
            AacProfile::HeV1 | AacProfile::HeV2 => 16..=48,
        };
        if !range.contains(&kbps) {
            return Err(Error::InvalidSetting(format!(
                "{profile:?} AAC takes {}-{} kbps, not {kbps}",
                range.start(),
                range.end()
            )));
        }
        Ok(Self { profile, kbps })
    }
}

/// The sampling rates AAC signals with an index; other inputs are resampled to the next one up.
const AAC_RATES: [u32; 12] =
    [8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 64000, 88200, 96000];

/// Encodes `audio` as AAC in an MP4 (`.m4a`) file held in memory.
pub fn encode(audio: &Audio, settings: AacSettings) -> Result<Vec<u8>> {
    if audio.is_empty() {
        return Err(Error::EmptyAudio);
    }
    // Parametric stereo codes a stereo pair; mono speech goes in as two equal channels.
    let channels = match (settings.profile, audio.channels.len()) {
        (AacProfile::HeV2, _) => 2,
        (_, n) => n.min(2),
    };
    let rate = AAC_RATES.into_iter().find(|&r| r >= audio.sample_rate).unwrap_or(96_000);
    let pcm = audio::convert(audio, rate, channels)?;
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
    let frame = info.frameLength as usize;
    let config = info.confBuf[..info.confSize as usize].to_vec();
    let len = pcm[0].len();
    // The library is fed whole frames; zeros after the audio push its last samples (and the
    // SBR decoder's delay) out. The edit list hides the priming and this padding.
    let padded = (len + info.nDelay as usize + 2 * frame).div_ceil(frame) * frame;
    let mut interleaved = vec![0i16; padded * channels];
    for (c, samples) in pcm.iter().enumerate() {
        for (i, &s) in samples.iter().enumerate() {
            interleaved[i * channels + c] = (s.clamp(-1.0, 1.0) * 32767.0).round() as i16;
        }
    }
    let mut units = Vec::with_capacity(padded / frame);
    let mut out = vec![0u8; info.maxOutBufBytes as usize];
    for block in interleaved.chunks(frame * channels) {
        let done = encoder.encode(block, &mut out).map_err(|e| aac(e.to_string()))?;
        if done.input_consumed != block.len() {
            return Err(aac(format!("the encoder took {} of {} samples", done.input_consumed, block.len())));
        }
        if done.output_size > 0 {
            units.push(out[..done.output_size].to_vec());
        }
    }
    let track = Track {
        rate,
        channels: channels as u16,
        config,
        priming: info.nDelayCore as u64,
        samples: len as u64,
        frame: frame as u32,
        kbps: settings.kbps,
    };
    mux(&track, &units)
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

/// Decodes an `.m4a`/`.mp4` file's AAC track, trimmed to its edit list (gapless), or an ADTS
/// (`.aac`) stream. HE-AAC v1/v2 decode at full rate (symphonia's decoder is LC only).
pub fn decode(bytes: &[u8]) -> Result<Audio> {
    if is_adts(bytes) {
        return decode_adts(bytes);
    }
    let AacTrack { config, channels, units, edit } = demux(bytes)?;
    let mut decoder = Decoder::new(fdk_aac_sys::TRANSPORT_TYPE_TT_MP4_RAW)?;
    decoder.configure(&config)?;
    if channels == 1 {
        // A mono HE-AAC stream might carry parametric stereo, so the decoder would make two
        // equal channels of it; the track says mono.
        decoder.set(fdk_aac_sys::AACDEC_PARAM_AAC_PCM_MAX_OUTPUT_CHANNELS, 1)?;
    }
    let mut pcm = Pcm::default();
    for unit in units {
        decoder.fill(unit)?;
        decoder.decode_into(&mut pcm)?;
    }
    pcm.finish(edit, decoder.output_delay())
}

/// Whether `bytes` start with an ADTS frame header (the sync word and layer 0).
pub fn is_adts(bytes: &[u8]) -> bool {
    bytes.len() >= 7 && bytes[0] == 0xFF && bytes[1] & 0xF6 == 0xF0
}

fn decode_adts(bytes: &[u8]) -> Result<Audio> {
    let mut decoder = Decoder::new(fdk_aac_sys::TRANSPORT_TYPE_TT_MP4_ADTS)?;
    let mut pcm = Pcm::default();
    let mut rest = bytes;
    while !rest.is_empty() {
        let taken = decoder.fill(rest)?;
        if taken == 0 {
            return Err(aac("the decoder takes no more bytes".into()));
        }
        rest = &rest[taken..];
        decoder.decode_into(&mut pcm)?;
    }
    pcm.finish(None, decoder.output_delay())
}

/// The edit list's first entry: samples to skip and samples to play, in the track's rate.
#[derive(Clone, Copy)]
struct Edit {
    skip: u64,
    play: u64,
}

/// An MP4 file's AAC track.
struct AacTrack<'a> {
    /// The AudioSpecificConfig.
    config: Vec<u8>,
    /// The sample entry's channel count.
    channels: u16,
    /// The access units, in order.
    units: Vec<&'a [u8]>,
    edit: Option<Edit>,
}

/// Finds the first audio track, which must be AAC.
fn demux(bytes: &[u8]) -> Result<AacTrack<'_>> {
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
        let unit = start.checked_add(sample.data_size).and_then(|end| bytes.get(start..end));
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

impl Pcm {
    /// Drops the decoder's and the encoder's delay and the padding, and deinterleaves.
    fn finish(self, edit: Option<Edit>, decoder_delay: usize) -> Result<Audio> {
        if self.channels == 0 {
            return Err(aac("no audio frames".into()));
        }
        let frames = self.interleaved.len() / self.channels;
        let skip = decoder_delay + edit.map_or(0, |e| e.skip as usize);
        let play = edit.map_or(frames.saturating_sub(skip), |e| e.play as usize);
        if skip + play > frames {
            return Err(aac(format!(
                "the edit list asks for {} samples, the stream holds {frames}",
                skip + play
            )));
        }
        let channels = (0..self.channels)
            .map(|c| {
                let samples =
                    self.interleaved[(skip * self.channels)..((skip + play) * self.channels)].iter();
                samples.skip(c).step_by(self.channels).map(|&s| s as f32 / 32768.0).collect()
            })
            .collect();
        Ok(Audio { sample_rate: self.rate, channels })
    }
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
