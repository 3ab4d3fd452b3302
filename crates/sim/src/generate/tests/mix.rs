//! Tests of the stream as a whole: mix proportions, sizes, determinism, framing and bounded
//! memory.

use super::*;
use crate::generate::memory::{PENDING_CAP, POOL_CAP};

#[test]
fn mix_proportions_are_respected() {
    let lines = sample().len() as f64;
    let count = |k: &str| sample().iter().filter(|(kind, _)| *kind == k).count() as f64;
    close("delete", count("delete") * 100.0 / lines, 5.0, 0.6);
    close("scrub_geo", count("scrub_geo") * 100.0 / lines, 0.2, 0.12);
    close(
        "status_withheld",
        count("status_withheld") * 100.0 / lines,
        0.1,
        0.08,
    );
    close(
        "user_withheld",
        count("user_withheld") * 100.0 / lines,
        0.1,
        0.08,
    );
    close("limit", count("limit") * 100.0 / lines, 0.2, 0.12);
    close(
        "keepalive",
        count("keepalive") * 100.0 / lines,
        KEEPALIVE_PCT,
        0.1,
    );
    let (mut n, mut rt, mut quote, mut geo) = (0.0, 0.0, 0.0, 0.0);
    for (_, v) in tweets() {
        n += 1.0;
        rt += f64::from(u8::from(v.get("retweeted_status").is_some()));
        quote += f64::from(u8::from(v["is_quote_status"] == Value::Bool(true)));
        geo += f64::from(u8::from(!v["coordinates"].is_null()));
    }
    close("tweet", n * 100.0 / lines, 94.3, 0.8);
    close("retweet", rt * 100.0 / n, 20.0, 1.5);
    close("quote", quote * 100.0 / n, 3.0, 0.6);
    close("geo", geo * 100.0 / n, 2.0, 0.5);
}

#[test]
fn other_mixes_are_respected() {
    let mix = Mix {
        retweet_pct: 50.0,
        quote_pct: 10.0,
        geo_pct: 0.0,
        delete_pct: 30.0,
        scrub_geo_pct: 0.0,
        withheld_pct: 0.0,
        limit_pct: 5.0,
        users: 100,
    };
    let mut g = StreamGenerator::new(5, mix);
    let (mut rt, mut quote, mut users) = (0, 0, HashSet::new());
    let mut line = Vec::new();
    for _ in 0..5_000 {
        line.clear();
        if g.next_line(&mut line) == "tweet" {
            let v = parse(&line);
            assert!(v["coordinates"].is_null());
            rt += usize::from(v.get("retweeted_status").is_some());
            quote += usize::from(v.get("quoted_status").is_some());
            users.insert(u(&v["user"]["id"]));
        }
    }
    let by = &g.generated().by_kind;
    let tweets = by["tweet"] as f64;
    close("delete", by["delete"] as f64 / 50.0, 30.0, 2.5);
    close("limit", by["limit"] as f64 / 50.0, 5.0, 1.0);
    assert!(!by.contains_key("scrub_geo") && !by.contains_key("user_withheld"));
    close("retweet", rt as f64 * 100.0 / tweets, 50.0, 3.0);
    close("quote", quote as f64 * 100.0 / tweets, 10.0, 2.0);
    assert!(users.len() <= 100 && users.len() > 50);
}

#[test]
fn tweet_sizes_are_realistic() {
    let sizes: Vec<usize> = sample()
        .iter()
        .filter(|(k, _)| *k == "tweet")
        .map(|(_, l)| l.len())
        .collect();
    let avg = sizes.iter().sum::<usize>() as f64 / sizes.len() as f64;
    assert!(
        (3_000.0..5_000.0).contains(&avg),
        "average tweet {avg} bytes"
    );
    assert!(*sizes.iter().min().unwrap() > 1_500);
    assert!(*sizes.iter().max().unwrap() < 16_000);
    let mut user_bytes = 0;
    let mut n = 0;
    for (_, v) in tweets().take(2_000) {
        user_bytes += serde_json::to_string(&v["user"]).unwrap().len();
        n += 1;
    }
    let avg_user = user_bytes as f64 / n as f64;
    assert!(
        (1_000.0..1_700.0).contains(&avg_user),
        "average user {avg_user} bytes"
    );
}

#[test]
fn same_seed_same_bytes_different_seed_different_bytes() {
    let run = |seed| {
        let mut out = Vec::new();
        let counts = write_stream(&mut out, seed, Mix::default(), 3_000, false).unwrap();
        (out, counts)
    };
    let (a, ca) = run(11);
    let (b, cb) = run(11);
    let (c, _) = run(12);
    assert_eq!(ca, cb);
    assert!(a == b, "same seed must give the same bytes");
    assert!(a != c, "another seed must give other bytes");
    // The first lines already differ, not just later ones.
    let first = |x: &[u8]| x.split(|&b| b == b'\n').next().unwrap().to_vec();
    assert_ne!(first(&a), first(&c));
}

#[test]
fn write_stream_frames_and_counts() {
    for crlf in [false, true] {
        let mut out = Vec::new();
        let counts = write_stream(&mut out, 3, Mix::default(), 2_000, crlf).unwrap();
        assert_eq!(counts.lines, 2_000);
        assert_eq!(counts.bytes, out.len() as u64);
        assert_eq!(counts.by_kind.values().sum::<u64>(), 2_000);
        let eol: &[u8] = if crlf { b"\r\n" } else { b"\n" };
        assert!(out.ends_with(eol));
        let mut lines: Vec<&[u8]> = out.split(|&b| b == b'\n').collect();
        assert_eq!(lines.pop(), Some(&b""[..]));
        assert_eq!(lines.len(), 2_000);
        for line in lines {
            let body = if crlf {
                line.strip_suffix(b"\r").expect("missing \\r")
            } else {
                line
            };
            assert!(!body.contains(&b'\r'));
            if !body.is_empty() {
                parse(body);
            }
        }
    }
}

/// The top-level status id and its author's id, read from the raw line (cheaper than
/// parsing the whole status, which this test does for 60,000 lines).

#[test]
fn memory_stays_bounded_as_the_ring_wraps() {
    let mut g = StreamGenerator::with_ring_cap(8, Mix::default(), 500);
    let mut line = Vec::new();
    let mut deleted_known = 0;
    for _ in 0..6_000 {
        line.clear();
        if g.next_line(&mut line) == "delete" {
            let id = u(&parse(&line)["delete"]["status"]["id"]);
            deleted_known += usize::from(g.ring_ids.contains(&id));
        }
        assert!(g.ring_ids.len() <= 500 && g.ring_users.len() <= 500);
        assert!(g.pool.len() <= POOL_CAP && g.pending.len() <= PENDING_CAP);
    }
    assert_eq!(g.ring_ids.len(), 500);
    assert_eq!(g.ring_ids.capacity(), 500, "the ring must not reallocate");
    assert!(deleted_known > 100);
    assert_eq!(g.world.posted.len(), 50_000);
}
