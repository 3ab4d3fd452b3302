//! The line splitter, and the ingest (splitter plus decoder) built on it, fed one input in
//! chunks split anywhere.
//!
//! Input: byte 0 picks the line limit, bytes 1..9 seed the chunk lengths, the rest is the input.
//! Checked: no panic; the lines are the same whatever the split; they rebuild the input exactly
//! (each complete line is the input up to its `\n`, an oversize line keeps a prefix of it and
//! reports its true length); the unfinished line held back never exceeds the keep limit; and the
//! records ingest makes (messages, rejects, counts) do not depend on the split either.
#![no_main]

use libfuzzer_sys::fuzz_target;
use streamvault::framing::{Line, LineSplitter};
use streamvault::ingest::Ingest;
use streamvault::record::Origin;

#[derive(Debug, PartialEq, Eq)]
enum Out {
    Complete(Vec<u8>),
    Oversize { kept: Vec<u8>, total: usize },
}

fn chunks<'a>(input: &'a [u8], lengths: &[usize]) -> Vec<&'a [u8]> {
    let mut rest = input;
    let mut out = Vec::new();
    for &n in lengths {
        let (head, tail) = rest.split_at(n.min(rest.len()));
        out.push(head);
        rest = tail;
    }
    out.push(rest);
    out
}

/// Every line, and whether it came from `finish` (no `\n` after it).
fn split(input: &[u8], lengths: &[usize], max: usize, keep: usize) -> Vec<(Out, bool)> {
    let mut s = LineSplitter::new(max, keep);
    let mut out = Vec::new();
    let own = |l: Line<'_>| match l {
        Line::Complete(b) => Out::Complete(b.to_vec()),
        Line::Oversize { kept, total } => Out::Oversize {
            kept: kept.to_vec(),
            total,
        },
    };
    for chunk in chunks(input, lengths) {
        s.push(chunk, &mut |l| out.push((own(l), false)));
        assert!(s.pending() <= keep.max(max), "held {} bytes", s.pending());
    }
    s.finish(&mut |l| out.push((own(l), true)));
    out
}

fn ingest(input: &[u8], lengths: &[usize], max: usize, keep: usize) -> String {
    let origin = Origin {
        stream: "fuzz".into(),
        connection_id: None,
        received_at: chrono::DateTime::UNIX_EPOCH,
    };
    let mut ingest = Ingest::new(max, keep);
    let mut out = Vec::new();
    for chunk in chunks(input, lengths) {
        ingest.push(chunk, &origin, &mut out);
    }
    ingest.abandon(&origin, &mut out);
    format!("{out:?} {:?}", ingest.counts())
}

fn splits(mut seed: u64, len: usize) -> Vec<usize> {
    let mut out = Vec::new();
    let mut covered = 0;
    seed |= 1;
    while covered < len {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let n = if seed % 8 == 0 {
            (seed >> 8) as usize % 512
        } else {
            (seed >> 8) as usize % 17
        };
        out.push(n);
        covered += n;
    }
    out
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 9 {
        return;
    }
    let (max, keep) = [(1, 1), (4, 8), (16, 16), (64, 200), (1024, 2048)][data[0] as usize % 5];
    let seed = u64::from_le_bytes(data[1..9].try_into().unwrap());
    let input = &data[9..];
    let lengths = splits(seed, input.len());
    let whole = split(input, &[], max, keep);
    assert_eq!(
        whole,
        split(input, &lengths, max, keep),
        "lines depend on the split"
    );
    // The lines rebuild the input.
    let mut pos = 0;
    for (line, last) in &whole {
        let (prefix, total) = match line {
            Out::Complete(b) => {
                assert!(b.len() <= max, "a complete line over the limit");
                (b, b.len())
            }
            Out::Oversize { kept, total } => {
                assert!(*total > max && kept.len() <= keep.max(max) && kept.len() <= *total);
                assert_eq!(
                    kept.len(),
                    (*total).min(keep.max(max)),
                    "kept less than allowed"
                );
                (kept, *total)
            }
        };
        assert_eq!(
            &input[pos..pos + prefix.len()],
            &prefix[..],
            "line at byte {pos}"
        );
        pos += total;
        if !last {
            assert_eq!(input[pos], b'\n');
            pos += 1;
        }
    }
    assert_eq!(pos, input.len(), "lines do not cover the input");
    assert_eq!(
        ingest(input, &[], max, keep),
        ingest(input, &lengths, max, keep),
        "records depend on the split"
    );
});
