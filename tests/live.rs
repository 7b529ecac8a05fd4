//! Live streams (`encodec::live`): what the encoder gives, concatenated, is the codec's file
//! (decoded by the file decoders to the same samples); the decoder takes those bytes split
//! anywhere and gives the same PCM; bad streams are errors.
#![cfg(feature = "opus")]

mod common;

use std::io::Cursor;

use common::root;
use encodec::audio::{self, Audio};
use encodec::codec::{self, Codec, PcmSpec};
use encodec::encodec::Models;
use encodec::levels;
use encodec::live::{LiveCodec, LiveDecoder, LiveEncoder};
use encodec::lyra::{Bitrate, Container, LyraCodec};

/// espeak-ng speech, 22.05 kHz mono, 5.6 s.
fn speech() -> Audio {
    audio::read(root().join("tests/fixtures/samples/speech-espeak-22k.wav")).unwrap()
}

/// Everything a live encoder gives for `pcm` pushed 20 ms at a time, and how many pushes gave
/// bytes.
fn encode_live(codec: LiveCodec, pcm: &Audio) -> (Vec<u8>, usize) {
    let mut encoder = LiveEncoder::new(codec, pcm.sample_rate, pcm.channels.len()).unwrap();
    let chunk = pcm.sample_rate as usize / 50;
    let (mut out, mut nonempty) = (Vec::new(), 0);
    for start in (0..pcm.len()).step_by(chunk) {
        let end = (start + chunk).min(pcm.len());
        let part: Vec<Vec<f32>> = pcm.channels.iter().map(|c| c[start..end].to_vec()).collect();
        let bytes = encoder.push(&part).unwrap();
        nonempty += usize::from(!bytes.is_empty());
        out.extend(bytes);
    }
    out.extend(encoder.finish().unwrap());
    (out, nonempty)
}

/// `bytes` through a live decoder in pieces of the given sizes (cycled).
fn decode_live(codec: LiveCodec, bytes: &[u8], pieces: &[usize]) -> Vec<Vec<f32>> {
    let mut decoder = LiveDecoder::new(codec).unwrap();
    let mut pcm: Vec<Vec<f32>> = Vec::new();
    let mut at = 0;
    for &size in pieces.iter().cycle() {
        if at >= bytes.len() {
            break;
        }
        let end = (at + size).min(bytes.len());
        let part = decoder.push(&bytes[at..end]).unwrap();
        pcm.resize(pcm.len().max(part.len()), Vec::new());
        pcm.iter_mut().zip(part).for_each(|(a, b)| a.extend(b));
        at = end;
    }
    decoder.finish().unwrap();
    pcm
}

/// Lyra: the live bytes are Google's raw `.lyra` stream, byte for byte what the file encoder
/// writes, and decoding them in odd pieces gives the file decoder's samples exactly.
#[test]
fn lyra_live_stream_is_the_raw_lyra_file() {
    let speech = speech();
    let bitrate = Bitrate::Kbps6;
    let (live, nonempty) = encode_live(LiveCodec::Lyra(bitrate), &speech);

    let file_codec = LyraCodec::new(bitrate).container(Container::Raw);
    let mut file = Vec::new();
    let spec = PcmSpec { sample_rate: speech.sample_rate, channels: 1 };
    let mut encoder = file_codec.encoder(spec, &mut file).unwrap();
    encoder.push_pcm(&speech.channels).unwrap();
    encoder.finish().unwrap();
    assert_eq!(live, file, "live Lyra bytes differ from the raw file");
    assert!(
        nonempty > 100,
        "packets should leave as they are made, not at the end ({nonempty} pushes gave bytes)"
    );

    let codecs: Vec<Box<dyn Codec>> = vec![Box::new(file_codec)];
    let mut reader = codecs[0].decoder(Box::new(Cursor::new(file))).unwrap();
    let expected = match &mut reader {
        codec::Decoded::Pcm(pcm) => codec::read_all(pcm.as_mut()).unwrap(),
        codec::Decoded::Bytes(_) => unreachable!("Lyra decodes to PCM"),
    };
    for pieces in [&[1usize][..], &[15], &[7, 40, 2], &[10_000]] {
        assert_eq!(decode_live(LiveCodec::Lyra(bitrate), &live, pieces), expected, "pieces {pieces:?}");
    }
}

/// Opus: a page per push; the concatenation is an Ogg Opus file that the file decoder reads
/// back to the input's exact length, and the live decoder gives the same samples from any split.
#[test]
fn opus_live_stream_is_an_ogg_opus_file() {
    let speech = speech();
    let codec = LiveCodec::from_name("opus", Some(16.0)).unwrap();
    let (live, nonempty) = encode_live(codec, &speech);
    let pages = live.windows(4).filter(|w| w == b"OggS").count();
    assert!(pages > 100 && nonempty > 100, "{pages} pages, {nonempty} pushes gave bytes");

    let file = levels::decompress(&live, &Models::none()).unwrap();
    assert_eq!(file.format, encodec::Format::Opus);
    assert_eq!(file.audio.len(), audio::convert(&speech, 48_000, 1).unwrap()[0].len());
    for pieces in [&[1usize][..], &[27, 3, 500], &[100_000]] {
        let pcm = decode_live(codec, &live, pieces);
        assert_eq!(pcm, file.audio.channels, "pieces {pieces:?}");
    }
}

/// Stereo at 48 kHz stays stereo.
#[test]
fn opus_live_keeps_stereo() {
    let speech = speech();
    let stereo = Audio { sample_rate: 48_000, channels: audio::convert(&speech, 48_000, 2).unwrap() };
    let codec = LiveCodec::from_name("opus", None).unwrap();
    let (live, _) = encode_live(codec, &stereo);
    let mut decoder = LiveDecoder::new(codec).unwrap();
    let pcm = decoder.push(&live).unwrap();
    assert_eq!((decoder.sample_rate(), decoder.channels(), pcm.len()), (48_000, 2, 2));
    assert_eq!(pcm[0].len(), stereo.len());
}

/// Bad streams and requests are errors with a reason, never a panic.
#[test]
fn bad_live_streams_are_errors() {
    let message = |r: encodec::Result<LiveCodec>| r.unwrap_err().to_string();
    assert!(message(LiveCodec::from_name("ecdc", None)).contains("length"));
    assert!(message(LiveCodec::from_name("mp3", None)).contains("lyra or opus"));
    assert!(LiveCodec::from_name("lyra", Some(7.0)).is_err());
    assert!(LiveCodec::from_name("opus", Some(6.5)).is_err());
    assert!(LiveCodec::from_name("opus", Some(200.0)).is_err());
    assert!(LiveEncoder::new(LiveCodec::Lyra(Bitrate::Kbps6), 0, 1).is_err());

    // A Lyra stream cut inside a packet.
    let lyra = LiveCodec::Lyra(Bitrate::Kbps3_2);
    let mut decoder = LiveDecoder::new(lyra).unwrap();
    decoder.push(&[0u8; 25]).unwrap();
    assert!(decoder.finish().unwrap_err().to_string().contains("packet"));

    // Not Ogg; an Ogg stream cut inside a page; an Ogg stream without Opus headers.
    let opus = LiveCodec::from_name("opus", None).unwrap();
    let mut decoder = LiveDecoder::new(opus).unwrap();
    assert!(decoder.push(&[0x55; 64]).is_err());
    let (live, _) = encode_live(opus, &speech());
    let mut decoder = LiveDecoder::new(opus).unwrap();
    decoder.push(&live[..live.len() - 3]).unwrap();
    assert!(decoder.finish().is_err());
    let mut flipped = live.clone();
    flipped[30] ^= 0xFF; // inside the OpusHead packet: the page's CRC no longer matches
    let mut decoder = LiveDecoder::new(opus).unwrap();
    assert!(decoder.push(&flipped).is_err());
    // Bytes after the end of stream.
    let mut decoder = LiveDecoder::new(opus).unwrap();
    let mut twice = live.clone();
    twice.extend(&live);
    assert!(decoder.push(&twice).is_err());
}

/// A packet continued across pages without end is refused once past any real Opus packet's
/// size, instead of growing in memory.
#[test]
fn an_endless_ogg_packet_is_refused() {
    use ogg::writing::{PacketWriteEndInfo, PacketWriter};
    let opus = LiveCodec::from_name("opus", None).unwrap();
    let (live, _) = encode_live(opus, &speech());
    let mut reader = ogg::PacketReader::new(Cursor::new(live));
    let head = reader.read_packet_expected().unwrap();
    let tags = reader.read_packet_expected().unwrap();
    let mut forged = Vec::new();
    let mut writer = PacketWriter::new(&mut forged);
    let serial = head.stream_serial();
    writer.write_packet(head.data, serial, PacketWriteEndInfo::EndPage, 0).unwrap();
    writer.write_packet(tags.data, serial, PacketWriteEndInfo::EndPage, 0).unwrap();
    writer.write_packet(vec![0u8; 1 << 20], serial, PacketWriteEndInfo::EndStream, 960).unwrap();
    let mut decoder = LiveDecoder::new(opus).unwrap();
    let error = forged.chunks(4096).find_map(|piece| decoder.push(piece).err()).expect("an error");
    assert!(error.to_string().contains("longer than"), "{error}");
}
