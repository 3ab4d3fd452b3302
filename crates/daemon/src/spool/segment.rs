//! The spool's on-disk format: a segment is a magic header followed by framed records, each
//! `[length: u32 LE][CRC32 of the payload: u32 LE][payload]`.
//!
//! Reading never trusts the file: a frame cut short (the tail of a write a kill -9 or a power
//! loss interrupted), a length beyond [`MAX_FRAME`] or a checksum that does not match ends the
//! readable part of the segment, and says why, instead of panicking or allocating what the
//! length claims.

/// The first bytes of every segment; the digit is the format's version.
pub const MAGIC: &[u8; 8] = b"SVSPOOL1";
/// Bytes before a frame's payload.
pub const FRAME_HEADER: usize = 8;
/// The largest payload a frame may declare: a record is at most a few lines of
/// `ingest.max_line_bytes` (16 MiB at most), so anything larger is corruption.
pub const MAX_FRAME: usize = 64 << 20;

/// Appends one frame holding `payload` to `out`.
pub fn put_frame(out: &mut Vec<u8>, payload: &[u8]) {
    debug_assert!(payload.len() <= MAX_FRAME);
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    out.extend_from_slice(payload);
}

/// What ends the readable part of a segment before its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Damage {
    /// The header is missing or not a spool's.
    BadMagic,
    /// The last frame is cut short: what an interrupted write leaves. Truncated on open.
    TornTail,
    /// A frame's payload does not match its checksum.
    ChecksumMismatch,
    /// A frame declares a length no record can have.
    BadLength,
}

impl std::fmt::Display for Damage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Damage::BadMagic => "not a spool segment (bad header)",
            Damage::TornTail => "the last frame is cut short (an interrupted write)",
            Damage::ChecksumMismatch => "a frame does not match its checksum",
            Damage::BadLength => "a frame declares an impossible length",
        })
    }
}

/// One step of reading frames out of a buffer.
#[derive(Debug, PartialEq, Eq)]
pub enum Next<'a> {
    /// A sound frame: its payload, and the offset just past it.
    Frame(&'a [u8], usize),
    /// Nothing more: the buffer ends exactly at a frame boundary.
    End,
    /// The readable part ends at the offset given (the start of the damaged frame).
    Damaged(Damage, usize),
}

/// Reads the frame at `offset` of `buf` (a segment's bytes, header included).
pub fn next_frame(buf: &[u8], offset: usize) -> Next<'_> {
    let Some(rest) = buf.get(offset..) else {
        return Next::Damaged(Damage::TornTail, offset);
    };
    if rest.is_empty() {
        return Next::End;
    }
    let Some(header) = rest.get(..FRAME_HEADER) else {
        return Next::Damaged(Damage::TornTail, offset);
    };
    let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
    let crc = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
    if len > MAX_FRAME {
        return Next::Damaged(Damage::BadLength, offset);
    }
    let Some(payload) = rest.get(FRAME_HEADER..FRAME_HEADER + len) else {
        return Next::Damaged(Damage::TornTail, offset);
    };
    if crc32fast::hash(payload) != crc {
        return Next::Damaged(Damage::ChecksumMismatch, offset);
    }
    Next::Frame(payload, offset + FRAME_HEADER + len)
}

/// Every sound frame of a whole segment (header included), and the damage that ended it, if
/// any, with its offset: what the fuzz target drives.
pub fn frames(segment: &[u8]) -> (Vec<&[u8]>, Option<(Damage, usize)>) {
    if segment.get(..MAGIC.len()) != Some(MAGIC.as_slice()) {
        return (Vec::new(), Some((Damage::BadMagic, 0)));
    }
    let mut out = Vec::new();
    let mut offset = MAGIC.len();
    loop {
        match next_frame(segment, offset) {
            Next::Frame(payload, next) => {
                out.push(payload);
                offset = next;
            }
            Next::End => return (out, None),
            Next::Damaged(damage, at) => return (out, Some((damage, at))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(payloads: &[&[u8]]) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        for p in payloads {
            put_frame(&mut out, p);
        }
        out
    }

    #[test]
    fn frames_read_back_as_written() {
        let seg = segment(&[b"one", b"", b"three"]);
        let (got, damage) = frames(&seg);
        assert_eq!(got, vec![&b"one"[..], b"", b"three"]);
        assert_eq!(damage, None);
    }

    #[test]
    fn a_torn_tail_ends_the_segment_at_the_last_sound_frame() {
        let seg = segment(&[b"one", b"two"]);
        let sound = MAGIC.len() + FRAME_HEADER + 3;
        // Every cut inside the second frame, header included.
        for cut in sound + 1..seg.len() {
            let (got, damage) = frames(&seg[..cut]);
            assert_eq!(got, vec![&b"one"[..]], "cut at {cut}");
            assert_eq!(damage, Some((Damage::TornTail, sound)), "cut at {cut}");
        }
    }

    #[test]
    fn a_flipped_bit_is_a_checksum_mismatch() {
        let mut seg = segment(&[b"one", b"two"]);
        let last = seg.len() - 1;
        seg[last] ^= 0x01;
        let (got, damage) = frames(&seg);
        assert_eq!(got.len(), 1);
        assert_eq!(
            damage,
            Some((Damage::ChecksumMismatch, MAGIC.len() + FRAME_HEADER + 3))
        );
    }

    #[test]
    fn an_impossible_length_is_refused_without_allocating_it() {
        let mut seg = MAGIC.to_vec();
        seg.extend_from_slice(&u32::MAX.to_le_bytes());
        seg.extend_from_slice(&0u32.to_le_bytes());
        assert_eq!(frames(&seg).1, Some((Damage::BadLength, MAGIC.len())));
        assert_eq!(frames(b"NOTSPOOL").1, Some((Damage::BadMagic, 0)));
        assert_eq!(frames(b"").1, Some((Damage::BadMagic, 0)));
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        // A cheap stand-in for the fuzz target: every prefix of a segment with random noise.
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::SmallRng::seed_from_u64(17);
        for _ in 0..2000 {
            let mut seg = segment(&[b"abc", b"defgh"]);
            let n = rng.random_range(0..seg.len());
            let noise: u8 = rng.random();
            seg[n] = noise;
            seg.truncate(rng.random_range(0..=seg.len()));
            let _ = frames(&seg);
        }
    }
}
