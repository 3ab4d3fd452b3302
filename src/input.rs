//! Replay inputs read past the page cache.
//!
//! A replay reads gigabytes once, front to back. Through the page cache each byte is copied
//! into a freshly allocated cache page and out again, and the cache fills with input that is
//! never read twice, pushing out the archive's own pages. Measured on the 2-core benchmark
//! machine, that copy was half of the reading thread's time, which the database writer then
//! had to share a core with. Reads with `O_DIRECT` land in one reused, aligned buffer
//! instead. Where the file system refuses `O_DIRECT` (older tmpfs, some network file systems) the
//! file is read through the cache as usual.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// Alignment `O_DIRECT` asks of buffers, offsets and lengths (the largest logical block size
/// in common use).
const ALIGN: usize = 4096;
/// Bytes asked of the disk per read.
const READ_SIZE: usize = 1 << 20;

/// A file read with `O_DIRECT` where the file system allows it.
pub struct InputFile {
    path: PathBuf,
    file: File,
    direct: bool,
    /// Over-allocated so that an aligned window of `READ_SIZE` bytes fits.
    storage: Vec<u8>,
    /// Start of the aligned window in `storage`.
    start: usize,
    /// Bytes of the window not yet handed out: `pos..len`.
    pos: usize,
    len: usize,
    /// File offset just past what the window holds.
    offset: u64,
}

impl InputFile {
    /// Opens `path`, with `O_DIRECT` if it is a regular file and the file system takes it
    /// (pipes and devices are read as they are: `O_DIRECT` changes what a pipe's reads return).
    pub fn open(path: &Path) -> io::Result<InputFile> {
        let regular = std::fs::metadata(path)?.is_file();
        let (file, direct) = match regular.then(|| open_direct(path)) {
            Some(Ok(file)) => (file, true),
            _ => (File::open(path)?, false),
        };
        let storage = vec![0u8; READ_SIZE + ALIGN];
        let start = storage.as_ptr().align_offset(ALIGN);
        Ok(InputFile {
            path: path.to_owned(),
            file,
            direct,
            storage,
            start,
            pos: 0,
            len: 0,
            offset: 0,
        })
    }

    /// Whether reads bypass the page cache.
    pub fn is_direct(&self) -> bool {
        self.direct
    }

    /// Refills the window; 0 at the end of the file.
    fn fill(&mut self) -> io::Result<usize> {
        let window = &mut self.storage[self.start..self.start + READ_SIZE];
        let n = loop {
            match self.file.read(window) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // A direct read the file system refuses after all (or a short read that left
                // the offset unaligned): carry on through the cache from the same place.
                Err(e) if self.direct && e.raw_os_error() == Some(libc::EINVAL) => {
                    let mut file = File::open(&self.path)?;
                    file.seek(SeekFrom::Start(self.offset))?;
                    self.file = file;
                    self.direct = false;
                }
                Err(e) => return Err(e),
            }
        };
        self.offset += n as u64;
        self.pos = 0;
        self.len = n;
        Ok(n)
    }
}

impl Read for InputFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos == self.len && self.fill()? == 0 {
            return Ok(0);
        }
        let window = &self.storage[self.start + self.pos..self.start + self.len];
        let n = window.len().min(buf.len());
        buf[..n].copy_from_slice(&window[..n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(target_os = "linux")]
fn open_direct(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECT)
        .open(path)
}

#[cfg(not(target_os = "linux"))]
fn open_direct(_path: &Path) -> io::Result<File> {
    Err(io::ErrorKind::Unsupported.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn content(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 + i / 4099) as u8).collect()
    }

    fn read_all(path: &Path, piece: usize) -> (Vec<u8>, bool) {
        let mut input = InputFile::open(path).unwrap();
        let mut out = Vec::new();
        let mut buf = vec![0u8; piece];
        loop {
            let n = input.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        (out, input.is_direct())
    }

    #[test]
    fn every_byte_arrives_in_order_whatever_the_sizes() {
        let dir = tempfile::tempdir().unwrap();
        // Around the window and alignment boundaries, and a file that is not a whole block.
        for len in [
            0,
            1,
            ALIGN - 1,
            ALIGN,
            READ_SIZE,
            READ_SIZE + 1,
            3 * READ_SIZE + 12_345,
        ] {
            let path = dir.path().join(format!("in-{len}"));
            let data = content(len);
            std::fs::write(&path, &data).unwrap();
            for piece in [1000, 1 << 18, 5 << 20] {
                let (got, _) = read_all(&path, piece);
                assert!(got == data, "length {len}, reads of {piece}");
            }
        }
    }

    #[test]
    fn a_named_pipe_is_read_as_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(&path)
            .status()
            .expect("mkfifo");
        assert!(made.success());
        let data = content(300_000);
        let writer = {
            let (path, data) = (path.clone(), data.clone());
            std::thread::spawn(move || {
                let mut pipe = std::fs::OpenOptions::new().write(true).open(path).unwrap();
                for piece in data.chunks(1000) {
                    std::io::Write::write_all(&mut pipe, piece).unwrap();
                }
            })
        };
        let (got, direct) = read_all(&path, 1 << 16);
        writer.join().unwrap();
        assert!(got == data);
        assert!(!direct);
    }
}
