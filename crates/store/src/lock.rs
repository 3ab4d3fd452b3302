//! One writer per SQLite archive: an exclusive `flock` on `<archive>.lock`, held for the life of
//! the process that writes.
//!
//! SQLite itself lets two processes write one file in turn, so a second daemon would start,
//! archive and connect upstream beside the first (a real server then drops one of them as a
//! duplicate stream). The lock is taken before anything touches the archive (no migration, no
//! connection row), and the kernel releases it when the holder exits, however it exits: no
//! stale lock after kill -9. The file names its holder (pid and host) for the refusal message.
//! It is never deleted: removing it while another process waits on it would let two hold it.

use sqlx::sqlite::SqliteConnectOptions;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::str::FromStr;

/// Why the archive could not be locked.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another process writes this archive (exit 2: a second daemon is a configuration error).
    #[error(
        "the archive {archive} is in use by another streamvault ({holder}; lock file {lock}): \
         one writer per archive; stop it first, or use another database.url"
    )]
    Held {
        archive: String,
        lock: String,
        holder: String,
    },
    #[error("cannot lock the archive with {lock}: {source}")]
    Io {
        lock: String,
        #[source]
        source: std::io::Error,
    },
}

/// The held lock; dropping it (or exiting) releases it.
#[derive(Debug)]
pub struct ArchiveLock {
    _file: File,
    path: PathBuf,
}

impl ArchiveLock {
    /// The lock file.
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }
}

/// Locks the SQLite archive `url` names for this process; `None` for PostgreSQL and in-memory
/// databases (PostgreSQL streams are claimed one by one, see `claim`).
pub fn lock_archive(url: &str) -> Result<Option<ArchiveLock>, LockError> {
    if !url.starts_with("sqlite:") || url.contains(":memory:") {
        return Ok(None);
    }
    let Ok(options) = SqliteConnectOptions::from_str(url) else {
        return Ok(None); // opening reports the bad URL
    };
    // One lock file per archive file, however it is named (a symlink, another relative path).
    let named = options.get_filename();
    let archive = std::fs::canonicalize(named).unwrap_or_else(|_| named.to_path_buf());
    let path = PathBuf::from(format!("{}.lock", archive.display()));
    let io = |source| LockError::Io {
        lock: path.display().to_string(),
        source,
    };
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io)?;
    if !try_flock(&file).map_err(io)? {
        let mut holder = String::new();
        let _ = file.read_to_string(&mut holder);
        let holder = match holder.trim() {
            "" => "holder unknown".to_owned(),
            h => h.to_owned(),
        };
        return Err(LockError::Held {
            archive: archive.display().to_string(),
            lock: path.display().to_string(),
            holder,
        });
    }
    file.set_len(0).map_err(io)?;
    file.rewind().map_err(io)?;
    writeln!(file, "pid {} on host {}", std::process::id(), hostname()).map_err(io)?;
    Ok(Some(ArchiveLock { _file: file, path }))
}

/// An exclusive, non-blocking `flock`; `false` when another open file description holds it.
fn try_flock(file: &File) -> std::io::Result<bool> {
    // SAFETY: flock takes a file descriptor we own (borrowed from `file` for the call) and
    // integer flags; it touches no memory of ours.
    #[allow(unsafe_code)]
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc == 0 {
        return Ok(true);
    }
    let err = std::io::Error::last_os_error();
    if err.raw_os_error() == Some(libc::EWOULDBLOCK) {
        Ok(false)
    } else {
        Err(err)
    }
}

/// This machine's name, for the lock file (Linux; `unknown` elsewhere).
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_is_refused_naming_the_holder_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("a.db").display());
        let first = lock_archive(&url)
            .unwrap()
            .expect("a SQLite archive is locked");
        let err = lock_archive(&url).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains(&format!("pid {}", std::process::id())),
            "{text}"
        );
        assert!(text.contains("one writer per archive"), "{text}");
        drop(first);
        let again = lock_archive(&url).unwrap().expect("released on drop");
        assert!(again.path().ends_with("a.db.lock"));
        assert!(lock_archive("postgres://u@h/db").unwrap().is_none());
        assert!(lock_archive("sqlite::memory:").unwrap().is_none());
    }
}
