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
    let mut builder = tempfile::Builder::new();
    builder.prefix(".encodec-").suffix(".part");
    // tempfile makes private (0600) files; an output should get the usual mode (0666 less the
    // umask), or keep the mode of the file it replaces.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).map_or(0o666, |m| m.permissions().mode() & 0o7777);
        builder.permissions(std::fs::Permissions::from_mode(mode));
    }
    let mut temp = builder.tempfile_in(dir).map_err(io)?;
    {
        let mut writer = BufWriter::new(temp.as_file_mut());
        fill(&mut writer)?;
        writer.into_inner().map_err(|e| io(e.into_error()))?;
    }
    temp.as_file().sync_all().map_err(io)?;
    temp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}

/// Creates `path` holding `bytes`, atomically.
pub fn write_bytes(path: &Path, bytes: &[u8]) -> Result<()> {
    write(path, |w| {
        std::io::Write::write_all(w, bytes).map_err(|source| Error::Io { path: path.to_owned(), source })
    })
}
