//! Lyra v2 against Google's TFLite models (fixtures made by conversion/lyra_fixtures.py with
//! the TFLite interpreter, as Google's C++ library runs it): features, codes at every bitrate
//! and decoded audio, on every kernel path this CPU runs, which must agree bit for bit; and the
//! streaming calls against the batch ones. Run with `--nocapture` to see the measured figures.

mod common;

use std::collections::HashMap;

use common::{kernel_paths, root};
use encodec::internals::with_kernels;
use encodec::lyra::{Bitrate, Lyra, FRAME_SAMPLES};

/// One fixture clip: its 16 kHz input and what the reference made of it.
struct Clip {
    name: &'static str,
    input: Vec<f32>,
    tensors: HashMap<String, (Vec<usize>, Vec<u8>, safetensors::Dtype)>,
}

impl Clip {
    fn load(name: &'static str) -> Self {
        let bytes = std::fs::read(root().join(format!("tests/fixtures/lyra/{name}.safetensors"))).unwrap();
        let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        let tensors: HashMap<_, _> = file
            .tensors()
            .into_iter()
            .map(|(k, v)| (k, (v.shape().to_vec(), v.data().to_vec(), v.dtype())))
            .collect();
        let input = match tensors.get("input") {
            Some((_, data, _)) => i16s(data).into_iter().map(|x| x as f32 / 32768.0).collect(),
            None => {
                let audio =
                    encodec::audio::read(root().join("tests/fixtures/lyra/speech-16khz.wav")).unwrap();
                assert_eq!((audio.sample_rate, audio.channels.len()), (16_000, 1));
                audio.channels.into_iter().next().unwrap()
            }
        };
        Self { name, input, tensors }
    }

    fn frames(&self) -> usize {
        self.tensors["codes"].0[0]
    }

    fn features(&self) -> Vec<f32> {
        let (shape, data, dtype) = &self.tensors["features"];
        assert_eq!((shape[1], *dtype), (64, safetensors::Dtype::F32));
        data.chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect()
    }

    /// The reference's codes, `[frames][46]`.
    fn codes(&self) -> Vec<Vec<u8>> {
        let (shape, data, _) = &self.tensors["codes"];
        data.chunks_exact(shape[1]).map(<[u8]>::to_vec).collect()
    }

    fn decoded_i16(&self, bitrate: Bitrate) -> Option<Vec<i16>> {
        self.tensors.get(&format!("decoded.{}", bitrate.bits())).map(|(_, data, _)| i16s(data))
    }

    fn decoded_f32(&self, bitrate: Bitrate) -> Option<Vec<f32>> {
        self.tensors.get(&format!("decoded_f32.{}", bitrate.bits())).map(|(_, data, _)| {
            data.chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect()
        })
    }
}

fn i16s(data: &[u8]) -> Vec<i16> {
    data.chunks_exact(2).map(|b| i16::from_le_bytes([b[0], b[1]])).collect()
}

/// The C++ library's float to int16: scaled by 32768, clipped, truncated.
fn to_i16(x: f32) -> i16 {
    (x * 32768.0).clamp(-32768.0, 32767.0) as i16
}

const CLIPS: [&str; 3] = ["speech", "voice2", "tones"];

/// Everything one kernel path makes of the clips, for the comparison between paths.
#[derive(PartialEq)]
struct Outputs {
    features: Vec<Vec<f32>>,
    codes: Vec<Vec<Vec<u8>>>,
    decoded: Vec<Vec<f32>>,
}

#[test]
fn features_codes_and_audio_match_the_tflite_reference_on_every_kernel_path() {
    let model = Lyra::bundled().unwrap();
    let clips: Vec<Clip> = CLIPS.into_iter().map(Clip::load).collect();
    let mut first: Option<(encodec::Kernels, Outputs)> = None;
    for kernels in kernel_paths() {
        let outputs = with_kernels(kernels, || check_path(model, &clips, kernels));
        match &first {
            None => first = Some((kernels, outputs)),
            Some((path, expected)) => {
                assert!(outputs == *expected, "outputs on {kernels} differ from those on {path}")
            }
        }
    }
}

fn check_path(model: &Lyra, clips: &[Clip], kernels: encodec::Kernels) -> Outputs {
    let mut outputs = Outputs { features: Vec::new(), codes: Vec::new(), decoded: Vec::new() };
    for clip in clips {
        let name = format!("{} [{kernels}]", clip.name);
        assert_eq!(clip.input.len(), clip.frames() * FRAME_SAMPLES, "{name}: input length");

        // Features: the same floats as the interpreter's.
        let features = model.features(&clip.input);
        let expected = clip.features();
        assert_eq!(features.len(), expected.len(), "{name}: feature count");
        let differing = features.iter().zip(&expected).filter(|(a, b)| a.to_bits() != b.to_bits()).count();
        let worst = features.iter().zip(&expected).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        println!("{name}: features differing {differing} of {}, worst {worst:e}", features.len());
        assert_eq!(differing, 0, "{name}: features differ from the reference's (worst {worst:e})");

        // Codes at the full 46 quantizers; every bitrate's are a prefix of them.
        let codes = model.codes(&clip.input, 46);
        let reference = clip.codes();
        assert_eq!(codes, reference, "{name}: codes differ from the reference's");
        for bitrate in Bitrate::ALL {
            let q = bitrate.quantizers();
            let prefix: Vec<Vec<u8>> = reference.iter().map(|c| c[..q].to_vec()).collect();
            assert_eq!(model.codes(&clip.input, q), prefix, "{name}: codes at {bitrate}");
        }
        println!("{name}: {} frames x 46 codes equal", codes.len());

        // Decoded audio from the reference's codes, at each bitrate it has.
        for bitrate in Bitrate::ALL {
            let Some(expected) = clip.decoded_i16(bitrate) else { continue };
            let q = bitrate.quantizers();
            let codes: Vec<Vec<u8>> = reference.iter().map(|c| c[..q].to_vec()).collect();
            let decoded = model.synthesize(&codes);
            let ours: Vec<i16> = decoded.iter().map(|&x| to_i16(x)).collect();
            assert_eq!(ours.len(), expected.len(), "{name}: decoded length at {bitrate}");
            let differing = ours.iter().zip(&expected).filter(|(a, b)| a != b).count();
            println!("{name}: decoded at {bitrate}: {differing} of {} int16 samples differ", ours.len());
            assert_eq!(differing, 0, "{name}: decoded int16 samples at {bitrate} differ");
            if let Some(expected) = clip.decoded_f32(bitrate) {
                let differing =
                    decoded.iter().zip(&expected).filter(|(a, b)| a.to_bits() != b.to_bits()).count();
                println!("{name}: decoded f32 at {bitrate}: {differing} differ");
                assert_eq!(differing, 0, "{name}: decoded f32 samples at {bitrate} differ");
            }
            outputs.decoded.push(decoded);
        }

        // The packets decode to what the codes do.
        let packets = model.encode(&clip.input, Bitrate::Kbps6);
        assert_eq!(packets.len(), clip.frames() * Bitrate::Kbps6.packet_bytes());
        let from_packets = model.decode(&packets, Bitrate::Kbps6).unwrap();
        let q = Bitrate::Kbps6.quantizers();
        let codes6: Vec<Vec<u8>> = reference.iter().map(|c| c[..q].to_vec()).collect();
        assert!(
            from_packets == model.synthesize(&codes6),
            "{name}: decode of packets != synthesize of codes"
        );

        outputs.features.push(features);
        outputs.codes.push(codes);
    }
    outputs
}

#[test]
fn streaming_encode_and_decode_equal_the_batch_calls() {
    let model = Lyra::bundled().unwrap();
    let clip = Clip::load("speech");
    // One extra partial frame: the stream pads it as encode does.
    let mut input = clip.input.clone();
    input.extend(&clip.input[..123]);
    for bitrate in Bitrate::ALL {
        let batch = model.encode(&input, bitrate);
        assert_eq!(batch.len(), (clip.frames() + 1) * bitrate.packet_bytes());
        let mut encoder = model.encoder(bitrate);
        let mut streamed = Vec::new();
        let mut at = 0;
        for (i, size) in [1usize, 319, 320, 321, 7, 16_000, 5_000, 640].iter().cycle().enumerate() {
            if at >= input.len() {
                break;
            }
            let end = (at + size + i).min(input.len());
            streamed.extend(encoder.push(&input[at..end]));
            at = end;
        }
        streamed.extend(encoder.finish());
        assert!(streamed == batch, "{bitrate}: streamed packets differ from encode's");

        let decoded = model.decode(&batch, bitrate).unwrap();
        let mut decoder = model.decoder();
        let mut pieces = Vec::new();
        for packet in batch.chunks(bitrate.packet_bytes()) {
            pieces.extend(decoder.push(packet, bitrate).unwrap());
        }
        assert!(pieces == decoded, "{bitrate}: per-packet decode differs from decode's");
        assert!(model.decode(&batch[1..], bitrate).is_err(), "{bitrate}: a partial packet must be refused");
    }
}

#[test]
fn a_model_with_wrong_config_or_weights_is_refused() {
    let dir = root().join("weights/lyra-v2");
    let config = std::fs::read(dir.join("config.json")).unwrap();
    let weights = std::fs::read(dir.join("lyra.safetensors")).unwrap();
    assert!(Lyra::from_dir(&dir).is_ok());
    let text = String::from_utf8(config.clone()).unwrap();
    for (what, config) in [
        ("not json", b"{".to_vec()),
        ("another rate", text.replacen("16000", "24000", 1).into_bytes()),
        ("another model", text.replacen("lyra-v2", "lyra-v3", 1).into_bytes()),
    ] {
        let err =
            Lyra::from_bytes(&config, &weights, "test").err().unwrap_or_else(|| panic!("{what} accepted"));
        println!("{what}: {err}");
    }
    for (what, weights) in [
        ("empty", Vec::new()),
        ("truncated", weights[..weights.len() / 2].to_vec()),
        ("garbage", vec![7u8; 4096]),
    ] {
        let err =
            Lyra::from_bytes(&config, &weights, "test").err().unwrap_or_else(|| panic!("{what} accepted"));
        println!("{what}: {err}");
    }
}

// --- files ---------------------------------------------------------------------------------

use encodec::codec::{self, Codec, Decoded};
use encodec::encodec::Models;
use encodec::lyra::{Container, FramedReader, LyraCodec, LyraError};
use encodec::{audio, registry, Error};

/// `input` (any rate and channels) as the PCM stream of a float WAV file: exact samples.
fn pcm_stream(input: &encodec::audio::Audio) -> audio::AudioChunks {
    let wav = audio::wav_bytes(&input.channels, input.sample_rate, audio::WavFormat::Float32).unwrap();
    audio::AudioChunks::from_reader(Box::new(std::io::Cursor::new(wav)), None).unwrap()
}

/// A file of `input` through the codec interface.
fn encoded(lyra: &LyraCodec, input: &encodec::audio::Audio) -> Vec<u8> {
    let mut out = Vec::new();
    codec::encode_pcm(lyra, &mut pcm_stream(input), &mut out).unwrap();
    out
}

/// A framed file of `input`.
fn framed(input: &encodec::audio::Audio, bitrate: Bitrate) -> Vec<u8> {
    encoded(&LyraCodec::new(bitrate), input)
}

/// A 22.05 kHz stereo source: the framed file records its rate, channels and length, holds
/// exactly the packets of its 16 kHz mono mix, and decodes (found by its magic bytes) to that
/// mix's length; Google's raw stream holds the same packets and nothing else.
#[test]
fn framed_and_raw_files_hold_the_packets_and_the_source_length() {
    let speech = audio::read(root().join("tests/fixtures/samples/speech-espeak-22k.wav")).unwrap();
    let right: Vec<f32> = speech.channels[0].iter().map(|x| x * 0.5).collect();
    let source =
        encodec::audio::Audio { sample_rate: 22_050, channels: vec![speech.channels[0].clone(), right] };
    let model = Lyra::bundled().unwrap();
    let mono16k = audio::convert(&source, 16_000, 1).unwrap().swap_remove(0);
    for bitrate in Bitrate::ALL {
        let file = framed(&source, bitrate);
        let expected = model.encode(&mono16k, bitrate);
        assert_eq!(&file[..4], b"LYRA");
        assert!(file[16..file.len() - 16] == expected[..], "{bitrate}: the packets are those of the mix");
        let header = FramedReader::new(std::io::Cursor::new(&file)).unwrap().header();
        assert_eq!(
            (header.bitrate, header.sample_rate, header.channels, header.length),
            (bitrate, 22_050, 2, source.len() as u64)
        );
        assert_eq!(header.len_16k() as usize, mono16k.len());

        let models = Models::none();
        let codecs = registry::builtin(&models);
        let mut pcm = codec::open(&codecs, Box::new(std::io::Cursor::new(file.clone()))).unwrap();
        assert_eq!((pcm.sample_rate(), pcm.channels(), pcm.len_hint()), (16_000, 1, Some(mono16k.len())));
        let decoded = codec::read_all(pcm.as_mut()).unwrap().swap_remove(0);
        let full = model.decode(&expected, bitrate).unwrap();
        assert!(
            decoded[..] == full[..mono16k.len()],
            "{bitrate}: decode = the packets' decode, cut to length"
        );

        // Google's raw stream: the packets alone; its reader needs the bitrate.
        let raw_codec = LyraCodec::new(bitrate).container(Container::Raw);
        let raw = encoded(&raw_codec, &source);
        assert!(raw == expected, "{bitrate}: the raw stream is the packets");
        let Decoded::Pcm(mut pcm) = raw_codec.decoder(Box::new(std::io::Cursor::new(raw.clone()))).unwrap()
        else {
            panic!("Lyra decodes to PCM")
        };
        assert_eq!(pcm.len_hint(), Some(full.len()));
        assert!(codec::read_all(pcm.as_mut()).unwrap()[0] == full, "{bitrate}: raw decode");
        let cut = Box::new(std::io::Cursor::new(raw[..raw.len() - 1].to_vec()));
        assert!(matches!(raw_codec.decoder(cut), Err(Error::Lyra(LyraError::RawLength { .. }))));
    }
}

/// Every prefix of a framed file, and each field spoiled, gives an error, never a panic.
#[test]
fn truncated_and_corrupt_framed_files_give_clear_errors() {
    let pcm: Vec<f32> = (0..8_000).map(|i| (i as f32 * 0.05).sin() * 0.3).collect();
    let source = encodec::audio::Audio { sample_rate: 16_000, channels: vec![pcm] };
    let file = framed(&source, Bitrate::Kbps6);
    assert_eq!(file.len(), 32 + 25 * 15);
    let open = |bytes: &[u8]| FramedReader::new(std::io::Cursor::new(bytes.to_vec())).map(|r| r.header());
    assert!(open(&file).is_ok());
    for len in 0..file.len() {
        let err = open(&file[..len]).expect_err(&format!("a file cut at {len} bytes was accepted"));
        assert!(
            matches!(
                err,
                Error::Lyra(LyraError::Truncated(_) | LyraError::NotFramed | LyraError::Corrupt(_))
            ),
            "cut at {len}: {err}"
        );
    }
    let spoil = |at: usize, value: u8| {
        let mut bytes = file.clone();
        bytes[at] = value;
        open(&bytes).expect_err(&format!("byte {at} = {value} was accepted"))
    };
    assert!(matches!(spoil(0, b'X'), Error::Lyra(LyraError::NotFramed)));
    assert!(matches!(spoil(4, 2), Error::Lyra(LyraError::Version(2))));
    assert!(matches!(spoil(5, 100), Error::Lyra(LyraError::Bits(100))));
    assert!(matches!(spoil(6, 1), Error::Lyra(LyraError::Corrupt(_))));
    assert!(matches!(spoil(12, 0), Error::Lyra(LyraError::Corrupt(_))));
    let trailer = file.len() - 16;
    assert!(matches!(spoil(trailer, 0xFF), Error::Lyra(LyraError::Corrupt(_))), "length vs packets");
    assert!(matches!(spoil(trailer + 8, 3), Error::Lyra(LyraError::Corrupt(_))), "packet count");
    assert!(matches!(spoil(file.len() - 1, b'X'), Error::Lyra(LyraError::Truncated(_))));
    println!("e.g.: {}", spoil(trailer + 8, 3));
}
