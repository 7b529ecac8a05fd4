//! `encodec info FILE.ecdc`

use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;

use encodec::ecdc::{self, Header};
use encodec::Error;

#[derive(clap::Args)]
pub struct Args {
    /// The .ecdc file to describe.
    input: PathBuf,
}

pub fn run(args: Args) -> encodec::Result<()> {
    let io = |source| Error::Io { path: args.input.clone(), source };
    let size = std::fs::metadata(&args.input).map_err(io)?.len();
    let mut reader = BufReader::new(File::open(&args.input).map_err(io)?);
    let header = Header::read(&mut reader)?;
    let config = header.published_config()?;
    let codes = ecdc::read_payload(reader, &header, &config)?;
    let seconds = codes.audio_len as f64 / config.sampling_rate as f64;
    let nominal =
        (header.num_codebooks * config.frame_rate()) as f64 * config.bits_per_codebook() as f64 / 1000.0;
    println!("model:     {} ({})", header.model, header.hub_repo()?);
    println!("bandwidth: {nominal} kbps ({} codebooks)", header.num_codebooks);
    println!("duration:  {seconds:.3} s ({} samples at {} Hz)", codes.audio_len, config.sampling_rate);
    println!("size:      {size} bytes ({:.4} MB per minute)", size as f64 / seconds * 60.0 / 1e6);
    println!("bitrate:   {:.2} kbps", size as f64 * 8.0 / seconds / 1000.0);
    Ok(())
}
