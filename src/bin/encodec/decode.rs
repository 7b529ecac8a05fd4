//! `encodec decode INPUT.ecdc OUTPUT.wav`

use std::fs::File;
use std::io::{BufReader, Write};
use std::path::PathBuf;

use encodec::audio::{self, WavFormat};
use encodec::ecdc::{self, Header};
use encodec::Error;

use crate::Ui;

#[derive(clap::Args)]
pub struct Args {
    /// The .ecdc file to decode.
    input: PathBuf,
    /// The WAV file to write, or `-` for stdout.
    output: PathBuf,
    /// A folder or Hub repository id; by default the model named in the file.
    #[arg(long)]
    model: Option<String>,
    /// Write 32-bit float samples instead of 16-bit integers.
    #[arg(long)]
    float: bool,
}

pub fn run(args: Args, ui: &Ui) -> encodec::Result<()> {
    let file = File::open(&args.input).map_err(|source| Error::Io { path: args.input.clone(), source })?;
    let mut reader = BufReader::new(file);
    let header = Header::read(&mut reader)?;
    let model = ui.load_model(args.model.as_deref().unwrap_or(header.hub_repo()?))?;
    let codes = ecdc::read_payload(reader, &header, model.config())?;
    let bar =
        ui.step(format!("decoding {:.1} s of audio", header.audio_len as f64 / model.sample_rate() as f64));
    let pcm = model.decode(&codes)?;
    bar.finish_and_clear();
    let format = if args.float { WavFormat::Float32 } else { WavFormat::Pcm16 };
    if args.output.as_os_str() == "-" {
        let bytes = audio::wav_bytes(&pcm, model.sample_rate(), format)?;
        let mut stdout = std::io::stdout().lock();
        return match stdout.write_all(&bytes).and_then(|()| stdout.flush()) {
            // The reader went away (`| head`): nothing is wrong on our side.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            other => other.map_err(|source| Error::Io { path: "<stdout>".into(), source }),
        };
    }
    audio::write_wav(&args.output, &pcm, model.sample_rate(), format)
}
