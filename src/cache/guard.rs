//! What keeps a migration from losing an application's writes: one migration per folder (an
//! advisory lock), and a replace that happens only if the file is still the one converted.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::{Error, Result};

/// The lock file a migration holds in the folder it migrates.
pub const LOCK_NAME: &str = ".encodec-migrate.lock";

/// The right to migrate a folder, held until dropped: an advisory lock on
/// [`LOCK_NAME`] (released by the system if the process dies), which holds the owner's pid.
pub struct FolderLock {
    _file: File,
}

impl FolderLock {
    /// Takes the folder's lock, or fails with [`Error::Busy`] if another migration holds it
    /// (after at most 0.3 s).
    pub fn acquire(dir: &Path) -> Result<Self> {
        let path = dir.join(LOCK_NAME);
        let io = |source| Error::Io { path: path.clone(), source };
        // Never truncated before it is locked: it holds the owner's pid for the message.
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        // A lock can outlive its holder for an instant: a process that forks (any thread
        // spawning a child) gives the child a copy of every descriptor, the lock's too, until
        // the child's exec closes it. A short, bounded wait tells that from a running migration.
        let deadline = Instant::now() + Duration::from_millis(300);
        let mut locked = file.try_lock();
        while matches!(locked, Err(std::fs::TryLockError::WouldBlock)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
            locked = file.try_lock();
        }
        match locked {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut owner = String::new();
                let _ = file.read_to_string(&mut owner);
                let owner = owner.trim();
                let owner = if owner.is_empty() { String::new() } else { format!(" (pid {owner})") };
                return Err(Error::Busy(format!(
                    "another migration of {} is running{owner}; this one stops",
                    dir.display()
                )));
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
        }
        file.set_len(0).map_err(io)?;
        write!(file, "{}", std::process::id()).map_err(io)?;
        Ok(Self { _file: file })
    }
}

/// A file as it was read: enough to tell that it has been rewritten or replaced since. The
/// content hash catches what the metadata misses (a same-size rewrite within the timestamps'
/// resolution).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    len: u64,
    modified: Option<std::time::SystemTime>,
    #[cfg(unix)]
    inode: (u64, u64),
    sha256: [u8; 32],
}

impl Identity {
    /// Reads `path` whole (a block at a time) and its metadata before and after: a file
    /// being written while it is read gives an error (`Changed`), not a mixed identity.
    pub fn of(path: &Path) -> Result<Self> {
        let io = |source| Error::Io { path: path.to_owned(), source };
        let mut file = File::open(path).map_err(io)?;
        let before = metadata_key(&file.metadata().map_err(io)?);
        let mut hasher = Sha256::new();
        let mut block = vec![0u8; 1 << 16];
        loop {
            let n = file.read(&mut block).map_err(io)?;
            if n == 0 {
                break;
            }
            hasher.update(&block[..n]);
        }
        let after = metadata_key(&file.metadata().map_err(io)?);
        if before != after {
            return Err(Error::Changed(path.to_owned()));
        }
        let (len, modified, _inode) = after;
        Ok(Self {
            len,
            modified,
            #[cfg(unix)]
            inode: _inode,
            sha256: hasher.finalize().into(),
        })
    }
}

/// Size, modification time, device and inode; not the change time, which a rename updates.
type MetadataKey = (u64, Option<std::time::SystemTime>, (u64, u64));

fn metadata_key(m: &std::fs::Metadata) -> MetadataKey {
    #[cfg(unix)]
    let inode = {
        use std::os::unix::fs::MetadataExt;
        (m.dev(), m.ino())
    };
    #[cfg(not(unix))]
    let inode = (0, 0);
    (m.len(), m.modified().ok(), inode)
}

/// What [`replace_if_unchanged`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum Replaced {
    /// `path` now holds the new file.
    Yes,
    /// `path` changed since it was read: it was left as the writer left it.
    Superseded,
}

/// Puts `temp` (a complete new file) in place of `path` only if `path` is still the file
/// `read` describes; else leaves `path` as it is (the temporary is removed when dropped).
///
/// Where the system can swap two names atomically (Linux `renameat2(RENAME_EXCHANGE)`, macOS
/// `renamex_np(RENAME_SWAP)`), the file is checked again after the swap, so that a writer that
/// replaced it in the instant between the check and the swap is found out, and its file
/// swapped back. Elsewhere a plain rename follows the check.
pub fn replace_if_unchanged(temp: tempfile::NamedTempFile, path: &Path, read: &Identity) -> Result<Replaced> {
    let io = |source| Error::Io { path: path.to_owned(), source };
    if !still(path, read) {
        return Ok(Replaced::Superseded);
    }
    #[cfg(any(target_os = "linux", target_os = "android", target_vendor = "apple"))]
    {
        use rustix::fs::{renameat_with, RenameFlags, CWD};
        use std::os::unix::fs::MetadataExt;
        let ours = temp.as_file().metadata().map_err(io)?.ino();
        match renameat_with(CWD, temp.path(), CWD, path, RenameFlags::EXCHANGE) {
            Ok(()) => {
                // `temp`'s name now holds the file that was at `path`.
                if still(temp.path(), read) {
                    drop(temp); // removes the old file
                    return Ok(Replaced::Yes);
                }
                // A writer struck between the check and the swap: give its file back, unless
                // it has already replaced ours too (then its newest is in place).
                if std::fs::metadata(path).is_ok_and(|m| m.ino() == ours) {
                    renameat_with(CWD, temp.path(), CWD, path, RenameFlags::EXCHANGE)
                        .map_err(|e| io(e.into()))?;
                }
                return Ok(Replaced::Superseded);
            }
            // A filesystem without the swap: the plain rename below.
            Err(rustix::io::Errno::INVAL | rustix::io::Errno::NOSYS | rustix::io::Errno::NOTSUP) => {}
            Err(e) => return Err(io(e.into())),
        }
    }
    temp.persist(path).map_err(|e| io(e.error))?;
    Ok(Replaced::Yes)
}

/// What [`move_if_unchanged`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum Moved {
    /// The file is under its new name (with the new content, if one was given).
    Yes,
    /// `path` changed since it was read: it was left as the writer left it.
    Superseded,
    /// The new name was taken: `path` was left as it was.
    NameTaken,
}

/// Gives the file at `path`, if it is still the file `read` describes, the name `target`
/// (which must not exist), and the content of `new` if given: the old name is moved aside
/// atomically, checked (a writer's file moved aside by mistake goes back), and the file put
/// under its new name without replacing anything there. The old name is absent for that
/// instant. Never loses a write: whatever goes back to `path` goes only where nothing newer
/// has appeared since.
pub fn move_if_unchanged(
    new: Option<tempfile::NamedTempFile>,
    path: &Path,
    target: &Path,
    read: &Identity,
) -> Result<Moved> {
    let io = |source| Error::Io { path: path.to_owned(), source };
    if !still(path, read) {
        return Ok(Moved::Superseded);
    }
    // A name for the old file, owned by this process (the sweep spares it).
    let aside = crate::atomic::temp_beside(path, None).map_err(io)?;
    std::fs::rename(path, aside.path()).map_err(io)?;
    if !still(aside.path(), read) {
        put_back(aside, path)?;
        return Ok(Moved::Superseded);
    }
    // On success the old file, still set aside (or not at all), is removed as `aside` drops.
    let result = match new {
        Some(new) => new.persist_noclobber(target).map(drop).map_err(|e| (e.error, aside)),
        // The old file itself goes under the new name.
        None => aside.persist_noclobber(target).map(drop).map_err(|e| (e.error, e.file)),
    };
    let Err((error, aside)) = result else { return Ok(Moved::Yes) };
    put_back(aside, path)?;
    match error.kind() {
        std::io::ErrorKind::AlreadyExists => Ok(Moved::NameTaken),
        _ => Err(Error::Io { path: target.to_owned(), source: error }),
    }
}

/// Moves the file set aside back to `path`, unless a writer has put a newer one there since
/// (then the aside one, older, is dropped). On any other failure it stays on disk under its
/// temporary name, and the error says where.
fn put_back(aside: tempfile::NamedTempFile, path: &Path) -> Result<()> {
    match aside.persist_noclobber(path) {
        Ok(_) => Ok(()),
        Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => {
            let kept = e.file.into_temp_path().keep().unwrap_or_default();
            Err(Error::Io {
                path: path.to_owned(),
                source: std::io::Error::other(format!(
                    "could not put it back ({}); it is at {}",
                    e.error,
                    kept.display()
                )),
            })
        }
    }
}

/// Whether `path` is still the file `read` describes (a file that cannot be read is not).
fn still(path: &Path, read: &Identity) -> bool {
    Identity::of(path).is_ok_and(|now| now == *read)
}

/// Removes the temporaries (`.encodec-*.part`) that processes now gone left in `dir`; says
/// which it removed.
pub fn sweep(candidates: Vec<PathBuf>) -> Result<usize> {
    let mut removed = 0;
    for path in candidates {
        if crate::atomic::is_abandoned(&path) {
            match std::fs::remove_file(&path) {
                Ok(()) => removed += 1,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => return Err(Error::Io { path, source }),
            }
        }
    }
    Ok(removed)
}
