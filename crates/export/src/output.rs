//! Where an export goes: a file written beside its final name and renamed into place once
//! complete (a failed export never leaves a file that looks whole), or standard output; either
//! way hashed (SHA-256) as it is written, so the manifest's digest is of exactly those bytes.

use sha2::{Digest as _, Sha256};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Buffer between a sink and the hashing writer: large writes hash and reach the file fast.
const BUFFER: usize = 256 * 1024;

#[derive(Default)]
struct Digest {
    sha: Sha256,
    bytes: u64,
}

/// Passes writes through, hashing them.
struct Hashing<W> {
    inner: W,
    digest: Arc<Mutex<Digest>>,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        let mut d = self.digest.lock().unwrap_or_else(|p| p.into_inner());
        d.sha.update(&buf[..n]);
        d.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// One output being written.
pub struct Output {
    /// `(partial, final)` for a file; `None` for standard output.
    paths: Option<(PathBuf, PathBuf)>,
    digest: Arc<Mutex<Digest>>,
}

/// What was written: the digest (lower-case hex) and the size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub sha256: String,
    pub bytes: u64,
}

impl Output {
    /// A file to be `path` once committed, and the writer to fill it.
    pub fn file(path: &Path) -> std::io::Result<(Output, Box<dyn Write + Send>)> {
        let mut partial = path.as_os_str().to_owned();
        partial.push(".partial");
        let partial = PathBuf::from(partial);
        let file = File::create(&partial)?;
        let digest = Arc::new(Mutex::new(Digest::default()));
        let writer = BufWriter::with_capacity(
            BUFFER,
            Hashing {
                inner: file,
                digest: digest.clone(),
            },
        );
        let output = Output {
            paths: Some((partial, path.to_owned())),
            digest,
        };
        Ok((output, Box::new(writer)))
    }

    /// Standard output, and the writer to fill it.
    pub fn stdout() -> (Output, Box<dyn Write + Send>) {
        let digest = Arc::new(Mutex::new(Digest::default()));
        let writer = BufWriter::with_capacity(
            BUFFER,
            Hashing {
                inner: std::io::stdout(),
                digest: digest.clone(),
            },
        );
        (
            Output {
                paths: None,
                digest,
            },
            Box::new(writer),
        )
    }

    /// After the writer was flushed and dropped: the file synced and renamed into place.
    pub fn commit(self) -> std::io::Result<Written> {
        if let Some((partial, path)) = &self.paths {
            File::open(partial)?.sync_all()?;
            std::fs::rename(partial, path)?;
        }
        let d = self.digest.lock().unwrap_or_else(|p| p.into_inner());
        let sha256 = d
            .sha
            .clone()
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Ok(Written {
            sha256,
            bytes: d.bytes,
        })
    }

    /// After a failure: the partial file removed.
    pub fn abandon(self) {
        if let Some((partial, _)) = &self.paths {
            let _ = std::fs::remove_file(partial);
        }
    }
}

/// The SHA-256 (lower-case hex) of a file, read in blocks.
pub fn sha256_of(path: &Path) -> std::io::Result<String> {
    let mut file = File::open(path)?;
    let mut sha = Sha256::new();
    std::io::copy(&mut file, &mut sha)?;
    Ok(sha.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_committed_file_has_the_digest_of_its_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.ids");
        let (out, mut w) = Output::file(&path).unwrap();
        w.write_all(b"abc").unwrap();
        w.flush().unwrap();
        drop(w);
        assert!(!path.exists(), "renamed only when committed");
        let written = out.commit().unwrap();
        assert_eq!(
            written.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(written.bytes, 3);
        assert_eq!(sha256_of(&path).unwrap(), written.sha256);
    }
}
