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
        // tempfile makes private (0600) files; an output should get the usual mode (0666 less
        // the umask), or keep the mode of the file it replaces.
        #[cfg(unix)]
        let permissions = {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path).map_or(0o666, |m| m.permissions().mode() & 0o7777);
            Some(std::fs::Permissions::from_mode(mode))
        };
        #[cfg(not(unix))]
        let permissions = None;
        let temp = temp_beside(path, permissions).map_err(io)?;
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

/// A temporary file in `path`'s folder, `.encodec-<pid>-<random>.part`, locked (an advisory
/// lock, held while it is open): a cache migration's sweep removes only the temporaries no
/// live process owns ([`is_abandoned`]).
pub(crate) fn temp_beside(
    path: &Path,
    permissions: Option<std::fs::Permissions>,
) -> std::io::Result<tempfile::NamedTempFile> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let prefix = format!("{TEMP_PREFIX}{}-", std::process::id());
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(TEMP_SUFFIX);
    if let Some(permissions) = permissions {
        builder.permissions(permissions);
    }
    let temp = builder.tempfile_in(dir)?;
    // A filesystem without locks still has the pid in the name.
    let _ = temp.as_file().try_lock();
    Ok(temp)
}

/// How the temporary files this crate writes are named: `.encodec-<pid>-<random>.part`.
pub(crate) const TEMP_PREFIX: &str = ".encodec-";
pub(crate) const TEMP_SUFFIX: &str = ".part";

/// Whether `name` is one of this crate's temporary files.
pub(crate) fn is_temp_name(name: &str) -> bool {
    name.starts_with(TEMP_PREFIX) && name.ends_with(TEMP_SUFFIX)
}

/// Whether the temporary file at `path` was left by a process that is gone: no process holds
/// its lock, and the process its name names (if any) is not running. The second check covers
/// the instant between a temporary's creation and its lock; when either cannot be told (no
/// locks here, a pid of another user), it is not abandoned.
pub(crate) fn is_abandoned(path: &Path) -> bool {
    let Ok(file) = File::open(path) else { return false };
    let unlocked = file.try_lock().is_ok();
    drop(file);
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    let pid = name.strip_prefix(TEMP_PREFIX).and_then(|rest| rest.split('-').next()?.parse::<u32>().ok());
    unlocked && !pid.is_some_and(process_is_running)
}

/// Whether process `pid` exists (on Unix: `kill(pid, 0)` does not say "no such process").
fn process_is_running(pid: u32) -> bool {
    #[cfg(unix)]
    {
        let Some(pid) = i32::try_from(pid).ok().and_then(rustix::process::Pid::from_raw) else {
            return false;
        };
        !matches!(rustix::process::test_kill_process(pid), Err(rustix::io::Errno::SRCH))
    }
    #[cfg(not(unix))]
    {
        // Told by the lock alone.
        let _ = pid;
        false
    }
}
