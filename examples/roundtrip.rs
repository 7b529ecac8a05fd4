//! Encodes a WAV file with EnCodec and writes the decoded audio back as WAV.
//!
//!     cargo run --release --example roundtrip -- MODEL_DIR IN.wav OUT.wav [KBPS]
//!
//! The input must already be at the model's sample rate and channel count (the `encodec`
//! command line, which resamples, is the tool for arbitrary files).

use std::error::Error;

use encodec::{Bandwidth, Encodec};

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [model_dir, input, output, rest @ ..] = args.as_slice() else {
        return Err("usage: roundtrip MODEL_DIR IN.wav OUT.wav [KBPS]".into());
    };
    let kbps: f32 = rest.first().map_or(Ok(6.0), |k| k.parse())?;
    let bandwidth = Bandwidth::from_kbps(kbps).ok_or("KBPS is one of 1.5, 3, 6, 12, 24")?;

    let model = Encodec::from_dir(model_dir)?;
    let pcm = read_wav(input)?;
    if pcm.len() != model.channels() {
        return Err(
            format!("{input} has {} channel(s); the model takes {}", pcm.len(), model.channels()).into()
        );
    }
    let start = std::time::Instant::now();
    let codes = model.encode(&pcm, bandwidth)?;
    let encoded = start.elapsed();
    let decoded = model.decode(&codes)?;
    let seconds = codes.audio_len as f64 / model.sample_rate() as f64;
    println!(
        "{seconds:.2} s of audio -> {} codebooks x {} frames ({kbps} kbps) in {:.2} s, decoded in {:.2} s",
        codes.num_codebooks(),
        codes.num_frames(),
        encoded.as_secs_f64(),
        (start.elapsed() - encoded).as_secs_f64()
    );
    write_wav(output, &decoded, model.sample_rate())
}

fn read_wav(path: &str) -> Result<Vec<Vec<f32>>, Box<dyn Error>> {
    let mut reader = hound::WavReader::open(path)?;
    let spec = reader.spec();
    let interleaved: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => reader.samples::<f32>().collect::<Result<_, _>>()?,
        hound::SampleFormat::Int => {
            let full_scale = (1i64 << (spec.bits_per_sample - 1)) as f32;
            reader.samples::<i32>().map(|s| s.map(|s| s as f32 / full_scale)).collect::<Result<_, _>>()?
        }
    };
    let channels = spec.channels as usize;
    Ok((0..channels).map(|c| interleaved.iter().skip(c).step_by(channels).copied().collect()).collect())
}

fn write_wav(path: &str, pcm: &[Vec<f32>], sample_rate: u32) -> Result<(), Box<dyn Error>> {
    let spec = hound::WavSpec {
        channels: pcm.len() as u16,
        sample_rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(path, spec)?;
    for i in 0..pcm[0].len() {
        for channel in pcm {
            writer.write_sample((channel[i].clamp(-1.0, 1.0) * 32767.0).round() as i16)?;
        }
    }
    Ok(writer.finalize()?)
}
