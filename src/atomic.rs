//! Atomic file writes: a temporary file in the destination's folder, renamed into place only
//! once complete and synced, so a killed process never leaves a half-written file, and a
//! reader never sees one.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// A file being written: a temporary file beside `path` until [`AtomicFile::commit`] renames
/// it into place (dropped uncommitted, it is removed and `path` is untouched).
pub struct AtomicFile {
    temp: BufWriter<tempfile::NamedTempFile>,
    path: PathBuf,
}

impl AtomicFile {
    /// Starts writing `path`.
    pub fn create(path: &Path) -> Result<Self> {
        let io = |source| Error::Io { path: path.to_owned(), source };
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let mut builder = tempfile::Builder::new();
        // The prefix and suffix let a cache migration find and remove what a killed process left.
        builder.prefix(".encodec-").suffix(".part");
        // tempfile makes private (0600) files; an output should get the usual mode (0666 less
        // the umask), or keep the mode of the file it replaces.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path).map_or(0o666, |m| m.permissions().mode() & 0o7777);
            builder.permissions(std::fs::Permissions::from_mode(mode));
        }
        let temp = builder.tempfile_in(dir).map_err(io)?;
        Ok(Self { temp: BufWriter::new(temp), path: path.to_owned() })
    }

    /// Where the file goes.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Flushes, syncs and renames the file into place.
    pub fn commit(self) -> Result<()> {
        let io = |source| Error::Io { path: self.path.clone(), source };
        let temp = self.temp.into_inner().map_err(|e| io(e.into_error()))?;
        temp.as_file().sync_all().map_err(io)?;
        temp.persist(&self.path).map_err(|e| io(e.error))?;
        Ok(())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.temp.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.temp.flush()
    }
}

/// Creates `path` with what `fill` writes, or leaves it untouched if anything fails.
pub fn write(path: &Path, fill: impl FnOnce(&mut BufWriter<&mut File>) -> Result<()>) -> Result<()> {
    let mut file = AtomicFile::create(path)?;
    {
        let io = |source| Error::Io { path: path.to_owned(), source };
        file.temp.flush().map_err(io)?;
        let mut writer = BufWriter::new(file.temp.get_mut().as_file_mut());
        fill(&mut writer)?;
        writer.flush().map_err(io)?;
    }
    file.commit()
}

/// Creates `path` holding `bytes`, atomically.
pub fn write_bytes(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut file = AtomicFile::create(path)?;
    file.write_all(bytes).map_err(|source| Error::Io { path: path.to_owned(), source })?;
    file.commit()
}
