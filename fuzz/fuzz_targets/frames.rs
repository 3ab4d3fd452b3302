//! The live-session frame reader (SSE or JSON lines) fed one body in chunks split anywhere.
//!
//! Input: byte 0 picks the line limit, bytes 1..9 seed the chunk lengths, the rest is the body.
//! Nothing may panic, every frame is decoded as a live frame too, and the frames, heartbeats,
//! rejects and counts must be the same as when the body arrives as one chunk.
#![no_main]

use libfuzzer_sys::fuzz_target;
use streamvault::record::{self, Origin};
use streamvault::source::frames::{FrameDecoder, FrameOut};

#[derive(Debug, PartialEq, Eq)]
enum Out {
    Frame(String),
    Heartbeat,
    Invalid { raw: Vec<u8>, reason: String },
}

fn read(body: &[u8], chunks: &[usize], max_line: usize) -> (Vec<Out>, String) {
    let origin = Origin {
        stream: "fuzz".into(),
        connection_id: None,
        received_at: chrono::Utc::now(),
    };
    let mut decoder = FrameDecoder::new(max_line, max_line * 2);
    let mut out = Vec::new();
    let mut emit = |f: FrameOut<'_>| {
        out.push(match f {
            FrameOut::Frame(text) => {
                let _ = record::from_live_frame(text, &origin, Some("s"));
                Out::Frame(text.to_owned())
            }
            FrameOut::Heartbeat => Out::Heartbeat,
            FrameOut::Invalid { raw, reason } => Out::Invalid {
                raw: raw.to_vec(),
                reason,
            },
        })
    };
    let mut rest = body;
    for &n in chunks {
        let (head, tail) = rest.split_at(n.min(rest.len()));
        decoder.push(head, &mut emit);
        rest = tail;
    }
    decoder.push(rest, &mut emit);
    decoder.abandon(&mut emit);
    (out, format!("{:?}", decoder.counts()))
}

/// Chunk lengths from a seed (xorshift), covering the body; lengths 0..=16, sometimes larger.
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
    let max_line = [4usize, 16, 64, 1024, 65536][data[0] as usize % 5];
    let seed = u64::from_le_bytes(data[1..9].try_into().unwrap());
    let body = &data[9..];
    let whole = read(body, &[], max_line);
    let chunked = read(body, &splits(seed, body.len()), max_line);
    assert_eq!(
        whole, chunked,
        "the frames depend on where the body was split"
    );
    let bytes: Vec<usize> = vec![1; body.len()];
    assert_eq!(
        whole,
        read(body, &bytes, max_line),
        "byte-at-a-time differs"
    );
});
