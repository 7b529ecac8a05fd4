//! Writes an `.ecdc` file as the audio streams in.

use std::io::{BufWriter, Seek, SeekFrom, Write};

use tempfile::SpooledTempFile;

use super::error::EcdcError;
use super::header::{model_name, Header};
use super::payload::PayloadWriter;
use crate::encodec::codes::Bandwidth;
use crate::encodec::model::Encodec;
use crate::encodec::stream::StreamingEncoder;
use crate::Result;

/// Payload bytes kept in memory before the spool moves to a temporary file: 4 MB is ~90
/// minutes at 6 kbps.
const SPOOL_IN_MEMORY: usize = 4 << 20;

/// Encodes PCM pushed a chunk at a time into an `.ecdc` file. The header comes first and holds
/// the audio length, known only at the end, so the payload is spooled (in memory up to 4 MB,
/// then in a temporary file) and written after the header by [`Writer::finish`]. For a file on
/// disk that appears whole or not at all, write into an [`crate::AtomicFile`] and commit it.
///
/// ```no_run
/// # fn main() -> encodec::Result<()> {
/// use encodec::{ecdc, AtomicFile, Bandwidth, Encodec};
/// let model = Encodec::from_dir("weights/test-24khz")?;
/// let mut writer = ecdc::Writer::new(&model, Bandwidth::Kbps6, AtomicFile::create("a.ecdc".as_ref())?)?;
/// writer.push(&[vec![0.0f32; 24_000]])?; // as many chunks as there are
/// writer.finish()?.commit()?;
/// # Ok(()) }
/// ```
pub struct Writer<'m, W: Write> {
    encoder: StreamingEncoder<'m>,
    payload: PayloadWriter<BufWriter<SpooledTempFile>>,
    header: Header,
    out: W,
}

impl<'m, W: Write> Writer<'m, W> {
    /// A writer of `model`'s codes at `bandwidth` into `out`. Fails at once if `.ecdc` files
    /// cannot name the model or it does not support the bandwidth.
    pub fn new(model: &'m Encodec, bandwidth: Bandwidth, out: W) -> Result<Self> {
        let config = model.config();
        let header = Header {
            model: model_name(config)?.to_string(),
            audio_len: 0,
            num_codebooks: bandwidth.num_codebooks(config)?,
            use_lm: false,
        };
        let spool = BufWriter::new(tempfile::spooled_tempfile(SPOOL_IN_MEMORY));
        Ok(Self {
            encoder: model.stream_encoder(bandwidth)?,
            payload: PayloadWriter::bare(spool, config),
            header,
            out,
        })
    }

    /// Takes the next PCM (`[channels][samples]` at the model's rate, any length).
    pub fn push(&mut self, pcm: &[impl AsRef<[f32]> + Sync]) -> Result<()> {
        for chunk in self.encoder.push(pcm)? {
            self.payload.push(&chunk)?;
        }
        Ok(())
    }

    /// Samples per channel pushed so far.
    pub fn audio_len(&self) -> usize {
        self.encoder.audio_len()
    }

    /// Encodes what is left, writes the header and the payload, and returns the writer.
    pub fn finish(self) -> Result<W> {
        let Self { encoder, mut payload, mut header, mut out } = self;
        let (rest, audio_len) = encoder.finish()?;
        for chunk in rest {
            payload.push(&chunk)?;
        }
        header.audio_len = audio_len;
        let mut spool = payload.finish()?.into_inner().map_err(|e| EcdcError::Io(e.into_error()))?;
        spool.seek(SeekFrom::Start(0)).map_err(EcdcError::Io)?;
        header.write(&mut out)?;
        std::io::copy(&mut spool, &mut out).map_err(EcdcError::Io)?;
        out.flush().map_err(EcdcError::Io)?;
        Ok(out)
    }
}
