//! WAL checkpoints on a thread of their own, so the writer neither copies pages nor waits for
//! the disk.
//!
//! SQLite's automatic checkpoint runs inside the commit that crosses its threshold: the writer
//! copies tens of megabytes from the WAL into the database file and waits for both to reach the
//! disk, and no batch commits meanwhile (measured on a 1M-event replay: a fifth of the writer's
//! time in `fsync`, with a core idle). Here the writer only notes the WAL's length after each
//! commit; past [`Checkpoints::Background::start_at`] frames not yet copied it wakes a thread
//! that copies them on a connection of its own (a `PASSIVE` checkpoint, which never blocks the
//! writer) while the next batches commit.
//!
//! A checkpoint that runs alongside the writer leaves the WAL at its full length: the WAL starts
//! over only when a transaction begins with every frame copied, and the writer always has newer
//! frames by the time a copy ends. So once the WAL holds [`Checkpoints::Background::wait_at`]
//! frames, the writer waits for the copy in flight and copies the few frames left itself, as
//! SQLite's own checkpoint would have, and its next batch starts the WAL over: the file stays
//! bounded and erased content in it is overwritten as before.

use super::StoreError;
use rusqlite::ffi;
use std::os::raw::{c_char, c_int, c_void};
use std::path::Path;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// Where the SQLite archive's WAL is copied into the database file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checkpoints {
    /// By SQLite itself, inside the commit that takes the WAL past `wal_autocheckpoint` (2,048
    /// pages): what any program writing to SQLite gets. The benchmark's bare loop uses it.
    Inline,
    /// By a thread of the store's own, alongside the writer (the default).
    Background {
        /// Frames written and not yet copied that wake the checkpoint thread.
        start_at: i32,
        /// WAL length (frames) at which the writer copies the rest itself and restarts the WAL.
        wait_at: i32,
    },
}

impl Default for Checkpoints {
    /// 32 MiB of 16 KiB pages before a copy starts, as SQLite's threshold here; the WAL at most
    /// four times that before the writer waits (measured: the writer then waited ~4% of its time).
    fn default() -> Self {
        Checkpoints::Background {
            start_at: 2048,
            wait_at: 8192,
        }
    }
}

/// What the checkpoint thread and the writer did, for tests and diagnostics.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CheckpointStats {
    /// Copies the checkpoint thread made.
    pub background: u64,
    /// Copies the writer made itself, at `wait_at`, to restart the WAL.
    pub by_writer: u64,
    /// Times the writer found the WAL had started over after a commit.
    pub restarts: u64,
}

/// The shared state between the writer and the checkpoint thread.
#[derive(Debug)]
pub(super) struct Checkpointer {
    shared: Arc<Shared>,
    /// Joined by [`Checkpointer::stop`], so that the thread's connection is closed once the
    /// store is (closing the last connection removes the WAL file).
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    start_at: i32,
    wait_at: i32,
}

#[derive(Debug, Default)]
struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Debug, Default)]
struct State {
    /// The writer asked for a copy.
    requested: bool,
    /// The thread is copying; nothing else may checkpoint meanwhile (a second checkpoint fails
    /// at once with SQLITE_BUSY, whatever the busy timeout).
    running: bool,
    stop: bool,
    /// The WAL's length after the last commit, in frames.
    frames: i32,
    /// Frames known to be copied into the database file.
    copied: i32,
    /// Frames committed when the copy in flight started: it copies at least those.
    in_flight: i32,
    stats: CheckpointStats,
}

impl Checkpointer {
    /// Opens the thread's own connection to the archive at `path` and starts the thread.
    pub(super) fn start(path: &Path, start_at: i32, wait_at: i32) -> Result<Self, StoreError> {
        let db = rusqlite::Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // A connection learns that the file is in WAL mode, and opens the WAL, on its first
        // read; until then its checkpoints do nothing (and report a WAL of -1 frames).
        let mode: String = db.query_row("PRAGMA main.journal_mode", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Open(sqlx::Error::Configuration(
                format!("the archive is in {mode} journal mode, not WAL").into(),
            )));
        }
        let shared = Arc::new(Shared::default());
        let thread_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || run(db, &thread_shared))
            .map_err(|e| StoreError::Open(sqlx::Error::Io(e)))?;
        Ok(Checkpointer {
            shared,
            thread: Mutex::new(Some(thread)),
            start_at,
            wait_at,
        })
    }

    /// What was done so far.
    pub(super) fn stats(&self) -> CheckpointStats {
        self.shared.lock().stats
    }

    /// Runs `work` on the writer's connection, then wakes the thread or copies as the WAL's new
    /// length requires. While `work` runs, the connection reports its WAL length here instead
    /// of checkpointing by itself.
    pub(super) fn around_commit<T>(
        &self,
        handle: *mut ffi::sqlite3,
        work: impl FnOnce() -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let frames = AtomicI32::new(-1);
        let result = {
            let _hook = WalHook::install(handle, &frames);
            work()
        };
        let frames = frames.load(Ordering::Relaxed);
        if frames >= 0 {
            // The batch is committed whatever happens to the copy: a failure here must not
            // report it failed (it would be written again). The next copy meets the same cause.
            if let Err(e) = self.committed(handle, frames) {
                tracing::warn!(error = %e, "WAL checkpoint after a commit failed");
            }
        }
        result
    }

    /// The writer committed and the WAL now holds `frames` frames.
    fn committed(&self, handle: *mut ffi::sqlite3, frames: i32) -> Result<(), StoreError> {
        let mut state = self.shared.lock();
        if frames < state.frames {
            // The WAL started over: everything before was copied.
            state.copied = 0;
            state.in_flight = 0;
            state.stats.restarts += 1;
        }
        state.frames = frames;
        if frames >= self.wait_at || state.stop {
            if state.stop && frames - state.copied < self.start_at {
                return Ok(()); // no thread any more: copy as SQLite would, past its threshold
            }
            while state.running {
                state = self.shared.wait(state);
            }
            // Holding the lock: the thread cannot start a copy until this one is done.
            let copied = checkpoint(handle)?;
            state.copied = copied;
            state.requested = false;
            state.stats.by_writer += 1;
        } else if !state.requested && self.wanted(frames, state.copied.max(state.in_flight)) {
            state.requested = true;
            self.shared.changed.notify_all();
        }
        Ok(())
    }

    /// Whether a copy should start, with `frames` in the WAL and `copied` of them copied or
    /// being copied: past `start_at` frames to copy, and after every commit once the WAL nears
    /// `wait_at`, so that the writer, when it gets there, finds only its last batch to copy.
    fn wanted(&self, frames: i32, copied: i32) -> bool {
        let pending = frames - copied;
        pending >= self.start_at || (pending > 0 && frames + self.start_at >= self.wait_at)
    }

    /// Runs `work`, a checkpoint of the caller's own that empties the WAL (`TRUNCATE`), once no
    /// copy is in flight, keeping the thread from starting one until it is done.
    pub(super) fn exclusive<T>(&self, work: impl FnOnce() -> T) -> T {
        let mut state = self.shared.lock();
        while state.running {
            state = self.shared.wait(state);
        }
        let result = work();
        state.requested = false;
        // Empty or not (it may have failed), the next commit's length is counted from zero.
        state.frames = 0;
        state.copied = 0;
        result
    }

    /// Stops the thread once its copy in flight (if any) is done and waits for it to close its
    /// connection; the writer then checkpoints by itself.
    pub(super) fn stop(&self) {
        {
            let mut state = self.shared.lock();
            state.stop = true;
            self.shared.changed.notify_all();
        }
        let thread = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(thread) = thread {
            let _ = thread.join();
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        state.stop = true;
        self.shared.changed.notify_all();
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // The state stays consistent at every step: a panic elsewhere does not spoil it.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wait<'a>(&self, guard: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        self.changed.wait(guard).unwrap_or_else(|e| e.into_inner())
    }
}

/// The checkpoint thread: one copy per request, until stopped; then closes its connection.
fn run(db: rusqlite::Connection, shared: &Shared) {
    loop {
        let mut state = shared.lock();
        while !state.requested && !state.stop {
            state = shared.wait(state);
        }
        if state.stop {
            return;
        }
        state.requested = false;
        state.running = true;
        state.in_flight = state.frames;
        drop(state);

        // SAFETY: `db` is this thread's own open connection.
        #[allow(unsafe_code)]
        let result = checkpoint(unsafe { db.handle() });

        let mut state = shared.lock();
        state.running = false;
        state.in_flight = 0;
        match result {
            Ok(copied) => {
                state.copied = copied;
                state.stats.background += 1;
            }
            // The writer's own copy at `wait_at` will meet the same failure and report it.
            Err(e) => tracing::warn!(error = %e, "background WAL checkpoint failed"),
        }
        shared.changed.notify_all();
    }
}

/// A `PASSIVE` checkpoint of the main database: copies what no reader still needs, without
/// waiting for anyone. Returns how many of the WAL's frames are now copied.
fn checkpoint(handle: *mut ffi::sqlite3) -> Result<i32, StoreError> {
    let (mut log, mut copied) = (0, 0);
    // SAFETY: `handle` is an open connection used by this thread alone for the call; the
    // out-pointers are to locals.
    #[allow(unsafe_code)]
    let rc = unsafe {
        ffi::sqlite3_wal_checkpoint_v2(
            handle,
            c"main".as_ptr(),
            ffi::SQLITE_CHECKPOINT_PASSIVE,
            &mut log,
            &mut copied,
        )
    };
    match rc {
        ffi::SQLITE_OK => Ok(copied),
        // Another connection's checkpoint is running (a reader's `PRAGMA wal_checkpoint`): it
        // copies the same frames.
        ffi::SQLITE_BUSY => Ok(copied.max(0)),
        rc => Err(rusqlite::Error::SqliteFailure(ffi::Error::new(rc), None).into()),
    }
}

/// Replaces the connection's automatic checkpoint with a note of the WAL's length after each
/// commit, for as long as it lives; then puts SQLite's own back (for the writes that do not go
/// through a batch: the connection log, migrations).
struct WalHook {
    handle: *mut ffi::sqlite3,
}

impl WalHook {
    fn install(handle: *mut ffi::sqlite3, frames: &AtomicI32) -> Self {
        // SAFETY: the hook is removed in `drop`, before `frames` goes out of scope (the guard is
        // dropped first, even on a panic), and only runs inside this connection's commits.
        #[allow(unsafe_code)]
        unsafe {
            ffi::sqlite3_wal_hook(
                handle,
                Some(note_frames),
                frames as *const AtomicI32 as *mut c_void,
            );
        }
        WalHook { handle }
    }
}

impl Drop for WalHook {
    fn drop(&mut self) {
        // SAFETY: the connection is still open and locked by the caller; this replaces the hook
        // installed above by SQLite's default one.
        #[allow(unsafe_code)]
        unsafe {
            ffi::sqlite3_wal_autocheckpoint(self.handle, super::WAL_AUTOCHECKPOINT);
        }
    }
}

/// The WAL hook: SQLite calls it after each commit with the WAL's length in frames.
#[allow(unsafe_code)]
unsafe extern "C" fn note_frames(
    frames: *mut c_void,
    _db: *mut ffi::sqlite3,
    _name: *const c_char,
    length: c_int,
) -> c_int {
    // SAFETY: `frames` is the AtomicI32 `WalHook::install` registered, alive while the hook is.
    let frames = unsafe { &*(frames as *const AtomicI32) };
    frames.store(length, Ordering::Relaxed);
    ffi::SQLITE_OK
}
