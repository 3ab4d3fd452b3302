//! The spool on disk: order, rotation, the cursor across a restart, a torn tail, a full spool.

use super::*;
use chrono::Utc;
use streamvault_core::record::{Origin, Record, reject};

fn config(dir: &Path) -> SpoolConfig {
    SpoolConfig {
        segment_bytes: 4096,
        max_bytes: 64 << 10,
        ..SpoolConfig::new(dir)
    }
}

fn records(from: usize, n: usize) -> Vec<u8> {
    let origin = Origin {
        stream: "s".into(),
        connection_id: Some(7),
        received_at: Utc::now(),
    };
    let mut out = Vec::new();
    for i in from..from + n {
        let line = format!("line {i} {}", "x".repeat(200));
        codec::encode_into(&mut out, &reject(line.as_bytes(), &origin, &"r"));
    }
    out
}

fn numbers(records: &[Record]) -> Vec<usize> {
    records
        .iter()
        .map(|r| match r {
            Record::Reject(r) => String::from_utf8_lossy(&r.raw)
                .split(' ')
                .nth(1)
                .unwrap()
                .parse()
                .unwrap(),
            Record::Message(_) | Record::Connection(_) => panic!("not a numbered reject"),
        })
        .collect()
}

fn segment_files(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension() == Some("seg".as_ref()))
        .count()
}

#[test]
fn records_drain_in_order_across_segments_and_leave_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let mut spool = Spool::open(config(dir.path()), Default::default()).unwrap();
    for i in 0..10 {
        spool.append(&records(i * 10, 10), 10).unwrap();
    }
    assert!(segment_files(dir.path()) > 3, "rotated");
    let mut got = Vec::new();
    while spool.has_unread() {
        let (batch, pos) = spool.read_batch(7, 1 << 20).unwrap();
        got.extend(numbers(&batch));
        spool.commit_to(pos).unwrap();
    }
    assert_eq!(got, (0..100).collect::<Vec<_>>());
    assert!(spool.is_empty());
    assert_eq!(segment_files(dir.path()), 0);
    assert!(!dir.path().join("cursor").exists());
    // And it takes more afterwards.
    spool.append(&records(100, 2), 2).unwrap();
    let (batch, _) = spool.read_batch(10, 1 << 20).unwrap();
    assert_eq!(numbers(&batch), vec![100, 101]);
}

#[test]
fn a_restart_resumes_after_the_last_commit_and_cuts_a_torn_tail() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut spool = Spool::open(config(dir.path()), Default::default()).unwrap();
        for i in 0..6 {
            spool.append(&records(i * 5, 5), 5).unwrap();
        }
        let (batch, pos) = spool.read_batch(8, 1 << 20).unwrap();
        assert_eq!(batch.len(), 8);
        spool.commit_to(pos).unwrap();
        // Read but not committed: drained again after the restart.
        let _ = spool.read_batch(4, 1 << 20).unwrap();
    }
    // A write cut short by a kill -9: half a frame at the end of the last segment.
    let last = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension() == Some("seg".as_ref()))
        .max()
        .unwrap();
    let half = records(99, 1);
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&last)
        .unwrap();
    f.write_all(&half[..half.len() / 2]).unwrap();
    drop(f);
    let mut spool = Spool::open(config(dir.path()), Default::default()).unwrap();
    let (batch, pos) = spool.read_batch(100, 1 << 20).unwrap();
    assert_eq!(numbers(&batch), (8..30).collect::<Vec<_>>());
    spool.commit_to(pos).unwrap();
    assert!(spool.is_empty());
}

#[test]
fn a_damaged_frame_is_skipped_with_the_rest_of_its_segment_never_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let counters = Arc::new(SpoolCounters::default());
    let mut spool = Spool::open(config(dir.path()), counters.clone()).unwrap();
    for i in 0..4 {
        spool.append(&records(i * 10, 10), 10).unwrap();
    }
    let first = segment_path(dir.path(), 1);
    let mut bytes = std::fs::read(&first).unwrap();
    bytes[segment::MAGIC.len() + segment::FRAME_HEADER + 3] ^= 0xff;
    std::fs::write(&first, bytes).unwrap();
    let mut got = Vec::new();
    while spool.has_unread() {
        let (batch, pos) = spool.read_batch(50, 1 << 20).unwrap();
        got.extend(numbers(&batch));
        spool.commit_to(pos).unwrap();
    }
    assert!(!got.contains(&0), "the damaged record is not delivered");
    assert!(got.contains(&39), "later segments are");
    assert_eq!(counters.corrupt_frames.get(), 1);
}

#[test]
fn compacting_the_head_drops_committed_records_and_keeps_the_rest_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut spool = Spool::open(config(dir.path()), Default::default()).unwrap();
    spool.append(&records(0, 10), 10).unwrap();
    let (batch, pos) = spool.read_batch(4, 1 << 20).unwrap();
    assert_eq!(numbers(&batch), vec![0, 1, 2, 3]);
    spool.commit_to(pos).unwrap();
    // Handed out, not committed: its position moves with the compaction.
    let (batch, mut pending) = spool.read_batch(2, 1 << 20).unwrap();
    assert_eq!(numbers(&batch), vec![4, 5]);
    let before = std::fs::metadata(segment_path(dir.path(), 1))
        .unwrap()
        .len();
    let (seq, cut) = spool.compact_head().unwrap().expect("compacted");
    assert_eq!(seq, 1);
    pending.offset -= cut;
    let after = std::fs::metadata(segment_path(dir.path(), 1))
        .unwrap()
        .len();
    assert_eq!(before - after, cut);
    let text =
        String::from_utf8_lossy(&std::fs::read(segment_path(dir.path(), 1)).unwrap()).into_owned();
    assert!(
        !text.contains("line 3 "),
        "committed records are gone from the file"
    );
    // Appends still go to the same (rewritten) segment, and everything reads back in order.
    spool.append(&records(10, 2), 2).unwrap();
    spool.commit_to(pending).unwrap();
    let (batch, pos) = spool.read_batch(100, 1 << 20).unwrap();
    assert_eq!(numbers(&batch), (6..12).collect::<Vec<_>>());
    spool.commit_to(pos).unwrap();
    assert!(spool.is_empty());
    // A restart after a compaction resumes at the right place.
    spool.append(&records(12, 6), 6).unwrap();
    let (_, pos) = spool.read_batch(3, 1 << 20).unwrap();
    spool.commit_to(pos).unwrap();
    spool.compact_head().unwrap().expect("compacted");
    drop(spool);
    let mut spool = Spool::open(config(dir.path()), Default::default()).unwrap();
    let (batch, _) = spool.read_batch(100, 1 << 20).unwrap();
    assert_eq!(numbers(&batch), vec![15, 16, 17]);
}

#[test]
fn a_full_spool_refuses_appends() {
    let dir = tempfile::tempdir().unwrap();
    let counters = Arc::new(SpoolCounters::default());
    let mut spool = Spool::open(config(dir.path()), counters.clone()).unwrap();
    let chunk = records(0, 20);
    let mut taken = 0;
    while spool.append(&chunk, 20).is_ok() {
        taken += 1;
    }
    assert!(spool.bytes() <= 64 << 10);
    assert_eq!(taken, (64 << 10) / chunk.len());
    assert_eq!(counters.bytes.get(), spool.bytes());
}

#[test]
fn a_spool_holding_another_archives_records_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let for_archive = |archive: &str| SpoolConfig {
        archive: Some(archive.into()),
        ..config(dir.path())
    };
    let mut spool = Spool::open(for_archive("postgres://h/a"), Default::default()).unwrap();
    spool.append(&records(0, 3), 3).unwrap();
    drop(spool);
    let refused = Spool::open(for_archive("postgres://h/b"), Default::default())
        .err()
        .expect("another archive's records are not drained");
    assert!(refused.to_string().contains("postgres://h/a"), "{refused}");
    assert!(Spool::open(for_archive("postgres://h/a"), Default::default()).is_ok());
}

#[test]
fn an_empty_spool_changes_hands() {
    let dir = tempfile::tempdir().unwrap();
    let for_archive = |archive: &str| SpoolConfig {
        archive: Some(archive.into()),
        ..config(dir.path())
    };
    drop(Spool::open(for_archive("postgres://h/a"), Default::default()).unwrap());
    assert!(Spool::open(for_archive("postgres://h/b"), Default::default()).is_ok());
}

#[test]
fn marked_batches_the_archive_holds_are_skipped_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let counters = Arc::new(SpoolCounters::default());
    {
        let mut spool = Spool::open(config(dir.path()), counters.clone()).unwrap();
        for batch in 1..=3 {
            let from = (batch as usize - 1) * 5;
            spool
                .append_marked(Some((7, batch)), &records(from, 5), 5)
                .unwrap();
        }
        spool.sync().unwrap();
        // A drain read everything and committed it, but died before the cursor moved.
        let read = spool
            .read_batch_skipping(100, 1 << 20, |_, _| false)
            .unwrap();
        assert_eq!(numbers(&read.records), (0..15).collect::<Vec<_>>());
        assert_eq!(read.marks, vec![(7, 3)]);
    }
    let mut spool = Spool::open(config(dir.path()), counters.clone()).unwrap();
    // The archive holds batches 1 and 2 of run 7.
    let read = spool
        .read_batch_skipping(100, 1 << 20, |run, batch| run == 7 && batch <= 2)
        .unwrap();
    assert_eq!(numbers(&read.records), (10..15).collect::<Vec<_>>());
    assert_eq!(read.marks, vec![(7, 3)]);
    assert_eq!(counters.already_committed.get(), 10);
    spool.commit_to(read.end).unwrap();
    assert!(spool.is_empty());
}

#[test]
fn a_marked_batch_is_read_whole_and_runs_keep_their_own_marks() {
    let dir = tempfile::tempdir().unwrap();
    let mut spool = Spool::open(config(dir.path()), Default::default()).unwrap();
    spool
        .append_marked(Some((1, 4)), &records(0, 6), 6)
        .unwrap();
    spool
        .append_marked(Some((1, 5)), &records(6, 2), 2)
        .unwrap();
    spool
        .append_marked(Some((2, 1)), &records(8, 2), 2)
        .unwrap();
    spool.append(&records(10, 2), 2).unwrap();
    // The limit is 3 records, but a batch is never cut: its mark goes with all of it.
    let read = spool.read_batch_skipping(3, 1 << 20, |_, _| false).unwrap();
    assert_eq!(numbers(&read.records), (0..6).collect::<Vec<_>>());
    assert_eq!(read.marks, vec![(1, 4)]);
    let read = spool
        .read_batch_skipping(100, 1 << 20, |_, _| false)
        .unwrap();
    assert_eq!(numbers(&read.records), (6..12).collect::<Vec<_>>());
    assert_eq!(
        read.marks,
        vec![(1, 5), (2, 1)],
        "the last of each run, in order"
    );
    // Plain reads see every record, marks or not.
    let again = Spool::open(config(dir.path()), Default::default());
    let mut again = again.unwrap();
    let (all, _) = again.read_batch(100, 1 << 20).unwrap();
    assert_eq!(all.len(), 12);
}

#[test]
fn a_spool_keeps_its_id_across_restarts_and_emptiness() {
    let dir = tempfile::tempdir().unwrap();
    let id = Spool::open(config(dir.path()), Default::default())
        .unwrap()
        .id();
    assert_eq!(id.len(), 32);
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
    let mut spool = Spool::open(config(dir.path()), Default::default()).unwrap();
    assert_eq!(spool.id(), id);
    spool.append(&records(0, 1), 1).unwrap();
    let end = spool.end();
    spool.commit_to(end).unwrap();
    drop(spool);
    assert_eq!(
        Spool::open(config(dir.path()), Default::default())
            .unwrap()
            .id(),
        id
    );
    let other = tempfile::tempdir().unwrap();
    let other = Spool::open(config(other.path()), Default::default()).unwrap();
    assert_ne!(other.id(), id);
}
