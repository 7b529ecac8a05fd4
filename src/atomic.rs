//! Atomic file writes: a temporary file in the destination's folder, renamed into place only
//! once complete and synced, so a killed process never leaves a half-written file.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use crate::{Error, Result};

/// Creates `path` with what `fill` writes, or leaves it untouched if anything fails.
pub fn write(path: &Path, fill: impl FnOnce(&mut BufWriter<&mut File>) -> Result<()>) -> Result<()> {
    let io = |source| Error::Io { path: path.to_owned(), source };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut temp =
        tempfile::Builder::new().prefix(".encodec-").suffix(".part").tempfile_in(dir).map_err(io)?;
    {
        let mut writer = BufWriter::new(temp.as_file_mut());
        fill(&mut writer)?;
        writer.into_inner().map_err(|e| io(e.into_error()))?;
    }
    temp.as_file().sync_all().map_err(io)?;
    temp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}
