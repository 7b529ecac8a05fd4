//! `encodec decode INPUT.ecdc OUTPUT.wav`: streamed, a chunk of frames at a time, in memory
//! that does not grow with the file.

use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::path::PathBuf;

use encodec::atomic;
use encodec::audio::{WavFormat, WavStream};
use encodec::ecdc::{Header, PayloadReader};
use encodec::{Error, StreamingDecoder};

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

/// Frames decoded first: few, so that audio starts flowing at once (~0.1 s of audio).
const FIRST_FRAMES: usize = 8;
/// Frames per chunk once under way (10 s at 75 frames/s): large enough that per-chunk costs
/// vanish, small enough that memory stays flat.
const MAX_FRAMES: usize = 750;

pub fn run(args: Args, ui: &Ui) -> encodec::Result<()> {
    let file = File::open(&args.input).map_err(|source| Error::Io { path: args.input.clone(), source })?;
    let mut reader = BufReader::new(file);
    let header = Header::read(&mut reader)?;
    let model = ui.load_model(args.model.as_deref().unwrap_or(header.hub_repo()?))?;
    let payload = PayloadReader::new(reader, &header, model.config())?;
    let decoder = model.stream_decoder(Some(header.audio_len))?;
    let format = if args.float { WavFormat::Float32 } else { WavFormat::Pcm16 };
    let bar =
        ui.step(format!("decoding {:.1} s of audio", header.audio_len as f64 / model.sample_rate() as f64));
    let (channels, rate, frames) = (model.channels(), model.sample_rate(), header.audio_len as u64);
    let result = if args.output.as_os_str() == "-" {
        let io = |source| Error::Io { path: "<stdout>".into(), source };
        match stream(
            payload,
            decoder,
            WavStream::new(std::io::stdout().lock(), channels, rate, format, frames)?,
            io,
        ) {
            // The reader went away (`| head`): nothing is wrong on our side.
            Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            other => other,
        }
    } else {
        let io = |source| Error::Io { path: args.output.clone(), source };
        atomic::write(&args.output, |file| {
            stream(payload, decoder, WavStream::new(file, channels, rate, format, frames)?, io)
        })
    };
    bar.finish_and_clear();
    result
}

/// Decodes chunk after chunk into `out`, flushing each, so the first audio leaves at once.
fn stream<W: Write>(
    mut payload: PayloadReader<impl Read>,
    mut decoder: StreamingDecoder,
    mut out: WavStream<W>,
    io: impl Fn(std::io::Error) -> Error,
) -> encodec::Result<()> {
    let mut frames = FIRST_FRAMES;
    while let Some(chunk) = payload.next_chunk(frames)? {
        out.write(&decoder.push(&chunk)?).and_then(|()| out.flush()).map_err(&io)?;
        frames = (frames * 2).min(MAX_FRAMES);
    }
    payload.finish()?;
    out.write(&decoder.finish()?).map_err(&io)?;
    out.finish().map_err(io)?;
    Ok(())
}
