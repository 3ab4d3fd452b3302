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
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

/// Alignment `O_DIRECT` asks of buffers, offsets and lengths (the largest logical block size
/// in common use).
const ALIGN: usize = 4096;
/// Bytes asked of the disk per read.
const READ_SIZE: usize = 1 << 20;
/// Windows read ahead of the one being parsed.
const READ_AHEAD: usize = 4;

/// A file read with `O_DIRECT` where the file system allows it, by a thread that stays a few
/// windows ahead.
///
/// A direct read has no kernel read-ahead behind it: each one waits for the disk, and during a
/// replay the disk is busy with the archive's writes. Read in line, the replay's reader spent a
/// third of its time waiting for its input and the writer in turn waited for batches (measured
/// with the checkpoint thread on, when the writer stopped being the slowest stage).
pub struct InputFile {
    /// Windows read, in file order; one of length 0 at the end.
    filled: Receiver<io::Result<Window>>,
    /// Windows parsed, handed back to the read-ahead thread for reuse.
    spent: SyncSender<Window>,
    /// The window being handed out, and how far.
    current: Option<Window>,
    pos: usize,
    /// Whether reads still bypass the page cache (the read-ahead thread falls back); what the
    /// tests check.
    #[cfg_attr(not(test), allow(dead_code))]
    direct: Arc<AtomicBool>,
}

/// One aligned read's worth of the file.
struct Window {
    /// Over-allocated so that an aligned window of `READ_SIZE` bytes fits.
    storage: Vec<u8>,
    /// Start of the aligned window in `storage`.
    start: usize,
    len: usize,
}

impl Window {
    fn new() -> Window {
        let storage = vec![0u8; READ_SIZE + ALIGN];
        let start = storage.as_ptr().align_offset(ALIGN);
        Window {
            storage,
            start,
            len: 0,
        }
    }

    fn bytes(&self) -> &[u8] {
        &self.storage[self.start..self.start + self.len]
    }
}

/// The read-ahead thread's side: the file and where it is.
struct ReadAheadFile {
    path: PathBuf,
    file: File,
    direct: Arc<AtomicBool>,
    /// File offset just past what was read.
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
        let direct = Arc::new(AtomicBool::new(direct));
        let mut reader = ReadAheadFile {
            path: path.to_owned(),
            file,
            direct: Arc::clone(&direct),
            offset: 0,
        };
        let (filled_tx, filled) = sync_channel(READ_AHEAD);
        let (spent, spent_rx) = sync_channel::<Window>(READ_AHEAD + 1);
        for _ in 0..READ_AHEAD {
            spent.send(Window::new()).expect("the receiver is here");
        }
        std::thread::Builder::new()
            .name("replay-readahead".into())
            .spawn(move || {
                // Ends at the end of the file, on an error, or when the reader is dropped.
                while let Ok(mut window) = spent_rx.recv() {
                    let read = reader.fill(&mut window);
                    let last = !matches!(read, Ok(n) if n > 0);
                    if filled_tx.send(read.map(|_| window)).is_err() || last {
                        return;
                    }
                }
            })?;
        Ok(InputFile {
            filled,
            spent,
            current: None,
            pos: 0,
            direct,
        })
    }

    /// Whether reads bypass the page cache.
    #[cfg(test)]
    pub fn is_direct(&self) -> bool {
        self.direct.load(Ordering::Relaxed)
    }
}

impl ReadAheadFile {
    /// Reads the next window; 0 at the end of the file.
    fn fill(&mut self, window: &mut Window) -> io::Result<usize> {
        let space = &mut window.storage[window.start..window.start + READ_SIZE];
        let n = loop {
            match self.file.read(space) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // A direct read the file system refuses after all (or a short read that left
                // the offset unaligned): carry on through the cache from the same place.
                Err(e)
                    if self.direct.load(Ordering::Relaxed)
                        && e.raw_os_error() == Some(libc::EINVAL) =>
                {
                    let mut file = File::open(&self.path)?;
                    file.seek(SeekFrom::Start(self.offset))?;
                    self.file = file;
                    self.direct.store(false, Ordering::Relaxed);
                }
                Err(e) => return Err(e),
            }
        };
        self.offset += n as u64;
        window.len = n;
        Ok(n)
    }
}

impl Read for InputFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if let Some(window) = &self.current {
                let rest = &window.bytes()[self.pos..];
                if !rest.is_empty() {
                    let n = rest.len().min(buf.len());
                    buf[..n].copy_from_slice(&rest[..n]);
                    self.pos += n;
                    return Ok(n);
                }
                if window.len == 0 {
                    return Ok(0); // the end of the file
                }
            }
            if let Some(window) = self.current.take() {
                // Never full: only READ_AHEAD windows exist.
                let _ = self.spent.try_send(window);
            }
            match self.filled.recv() {
                Ok(Ok(window)) => {
                    self.current = Some(window);
                    self.pos = 0;
                }
                Ok(Err(e)) => return Err(e),
                Err(_) => return Err(io::Error::other("the input's read-ahead thread stopped")),
            }
        }
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
            // More windows than are read ahead: each is reused several times.
            (3 * READ_AHEAD + 1) * READ_SIZE + 777,
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
    fn a_read_error_reaches_the_reader() {
        // A directory opens but cannot be read: the read-ahead thread's error is the reader's.
        let dir = tempfile::tempdir().unwrap();
        let mut input = InputFile::open(dir.path()).unwrap();
        let err = input.read(&mut [0u8; 16]).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EISDIR));
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
