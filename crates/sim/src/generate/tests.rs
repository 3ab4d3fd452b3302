//! Tests of the generator: JSON validity, ids, users, mix proportions, sizes, determinism,
//! entities, escaping and bounded memory.

use super::json::{Esc, put_date, put_micro, put_str, put_u64};
use super::memory::{PENDING_CAP, POOL_CAP};
use super::random::{exp2, log2, pow10};
use super::world::{FIRST_ID, TWEPOCH_MS, WORKER_UNSEEN_DELETE, WORKER_UNSEEN_STATUS};
use super::*;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

const TWO_53: u64 = 1 << 53;

/// 20,000 lines of the default mix, generated once and shared by the tests that only read.
fn sample() -> &'static [(&'static str, Vec<u8>)] {
    static SAMPLE: OnceLock<Vec<(&'static str, Vec<u8>)>> = OnceLock::new();
    SAMPLE.get_or_init(|| {
        let mut g = StreamGenerator::new(2024, Mix::default());
        (0..20_000)
            .map(|_| {
                let mut line = Vec::new();
                let kind = g.next_line(&mut line);
                (kind, line)
            })
            .collect()
    })
}

fn parse(line: &[u8]) -> Value {
    serde_json::from_slice(line).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(line));
    })
}

fn tweets() -> impl Iterator<Item = (&'static [u8], Value)> {
    sample()
        .iter()
        .filter(|(k, _)| *k == "tweet")
        .map(|(_, l)| (l.as_slice(), parse(l)))
}

fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    k.sort_unstable();
    k
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a u64: {v}"))
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v}"))
}

fn worker(id: u64) -> u64 {
    (id >> 12) & 0x3FF
}

/// Substring search through `str::find`, which stays fast in debug builds.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let hay = std::str::from_utf8(hay).expect("lines are UTF-8");
    hay.find(std::str::from_utf8(needle).unwrap())
}

/// Every `"id":DIGITS,"id_str":"DIGITS"` pair in a raw line, read as text.
fn raw_id_pairs(line: &[u8]) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    let mut rest = line;
    while let Some(p) = find(rest, b"\"id\":") {
        rest = &rest[p + 5..];
        let digits: Vec<u8> = rest
            .iter()
            .copied()
            .take_while(u8::is_ascii_digit)
            .collect();
        let after = &rest[digits.len()..];
        if digits.is_empty() || !after.starts_with(b",\"id_str\":\"") {
            continue;
        }
        let after = &after[11..];
        let quoted: Vec<u8> = after.iter().copied().take_while(|&b| b != b'"').collect();
        pairs.push((
            String::from_utf8(digits).unwrap(),
            String::from_utf8(quoted).unwrap(),
        ));
    }
    pairs
}

#[test]
fn default_mix_is_documented_one() {
    let m = Mix::default();
    assert_eq!(
        (m.retweet_pct, m.quote_pct, m.geo_pct, m.delete_pct),
        (20.0, 3.0, 2.0, 5.0)
    );
    assert_eq!(
        (m.scrub_geo_pct, m.withheld_pct, m.limit_pct, m.users),
        (0.2, 0.2, 0.2, 50_000)
    );
}

#[test]
fn every_line_is_json_of_the_kind_reported() {
    for (kind, line) in sample() {
        if *kind == "keepalive" {
            assert!(line.is_empty());
            continue;
        }
        assert!(!line.contains(&b'\n'), "raw newline inside a line");
        let v = parse(line);
        match *kind {
            "tweet" => {
                for k in ["created_at", "id", "id_str", "text", "user", "entities"] {
                    assert!(v.get(k).is_some(), "tweet without {k}");
                }
                assert!(v["timestamp_ms"].is_string());
            }
            "delete" => {
                assert_eq!(keys(&v), ["delete", "timestamp_ms"]);
                assert_eq!(keys(&v["delete"]), ["status"]);
                assert_eq!(
                    keys(&v["delete"]["status"]),
                    ["id", "id_str", "user_id", "user_id_str"]
                );
            }
            "scrub_geo" => {
                assert_eq!(keys(&v), ["scrub_geo"]);
                assert_eq!(
                    keys(&v["scrub_geo"]),
                    [
                        "up_to_status_id",
                        "up_to_status_id_str",
                        "user_id",
                        "user_id_str"
                    ]
                );
            }
            "status_withheld" => {
                assert_eq!(keys(&v), ["status_withheld"]);
                let w = &v["status_withheld"];
                assert_eq!(keys(w), ["id", "user_id", "withheld_in_countries"]);
                let c = w["withheld_in_countries"].as_array().unwrap();
                assert!(!c.is_empty() && c.iter().all(|c| s(c).len() == 2));
            }
            "user_withheld" => {
                assert_eq!(keys(&v), ["user_withheld"]);
                assert_eq!(keys(&v["user_withheld"]), ["id", "withheld_in_countries"]);
            }
            "limit" => {
                assert_eq!(keys(&v), ["limit"]);
                assert_eq!(keys(&v["limit"]), ["timestamp_ms", "track"]);
            }
            other => panic!("unexpected kind {other}"),
        }
    }
}

#[test]
fn ids_are_exact_increasing_snowflakes_above_2_53() {
    let mut last = 0u64;
    let mut pairs_checked = 0;
    for (line, v) in tweets() {
        // The top-level id, read as raw digits: never through a float.
        let at = find(line, b"\",\"id\":").unwrap() + 7;
        let digits: String = line[at..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .map(|&b| b as char)
            .collect();
        assert_eq!(digits, s(&v["id_str"]));
        let id: u64 = digits.parse().unwrap();
        assert!(id > TWO_53, "id {id} below 2^53");
        assert!(id >= FIRST_ID, "id {id}");
        assert!(id > last, "ids must increase: {id} after {last}");
        assert!(worker(id) < WORKER_UNSEEN_DELETE);
        last = id;
        // Every id/id_str pair in the line (users, mentions, embedded statuses, media).
        for (num, text) in raw_id_pairs(line) {
            assert_eq!(num, text);
            pairs_checked += 1;
        }
        let uid = &v["user"];
        assert_eq!(u(&uid["id"]).to_string(), s(&uid["id_str"]));
    }
    assert!(pairs_checked > 40_000);
    for (kind, line) in sample() {
        if *kind == "delete" {
            let v = parse(line);
            let st = &v["delete"]["status"];
            assert_eq!(u(&st["id"]).to_string(), s(&st["id_str"]));
            assert_eq!(u(&st["user_id"]).to_string(), s(&st["user_id_str"]));
            assert!(u(&st["id"]) > TWO_53);
        }
    }
}

#[test]
fn user_ids_span_small_and_snowflake_ranges_and_users_are_stable() {
    let mut names: HashMap<u64, String> = HashMap::new();
    let (mut small, mut big) = (0, 0);
    let mut per_user: HashMap<u64, u32> = HashMap::new();
    for (_, v) in tweets() {
        *per_user.entry(u(&v["user"]["id"])).or_default() += 1;
        let mut users = vec![&v["user"]];
        if let Some(rt) = v.get("retweeted_status") {
            users.push(&rt["user"]);
        }
        for user in users {
            let id = u(&user["id"]);
            if id > TWO_53 {
                big += 1
            } else {
                small += 1
            }
            let name = s(&user["screen_name"]).to_string();
            assert!(
                name.len() <= 15 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            );
            let prev = names.entry(id).or_insert_with(|| name.clone());
            assert_eq!(*prev, name, "user {id} changed screen_name");
            let created = s(&user["created_at"]);
            assert!(chrono::DateTime::parse_from_str(created, "%a %b %d %H:%M:%S %z %Y").is_ok());
        }
    }
    assert!(
        small > 1_000 && big > 1_000,
        "{small} small, {big} big user ids"
    );
    let distinct_names: HashSet<&String> = names.values().collect();
    assert_eq!(
        distinct_names.len(),
        names.len(),
        "screen names must be unique"
    );
    // Zipf skew: the most active user posts far more than the average one.
    let max = *per_user.values().max().unwrap();
    let mean = per_user.values().sum::<u32>() as f64 / per_user.len() as f64;
    assert!(max as f64 > 20.0 * mean, "max {max}, mean {mean}");
}

fn close(what: &str, got: f64, want: f64, tol: f64) {
    assert!(
        (got - want).abs() <= tol,
        "{what}: {got:.3}% not within {tol} of {want}%"
    );
}

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
fn raw_status_and_user(line: &[u8]) -> (u64, u64) {
    let number_after = |key: &[u8]| -> u64 {
        let at = find(line, key).unwrap() + key.len();
        let digits = line[at..].iter().take_while(|b| b.is_ascii_digit()).count();
        std::str::from_utf8(&line[at..at + digits])
            .unwrap()
            .parse()
            .unwrap()
    };
    (
        number_after(b"\",\"id\":"),
        number_after(b"\"user\":{\"id\":"),
    )
}

#[test]
fn deletes_target_seen_unseen_and_future_ids() {
    let mut g = StreamGenerator::new(99, Mix::default());
    let mut emitted: HashMap<u64, u64> = HashMap::new();
    let mut deletes: Vec<(u64, u64)> = Vec::new();
    let (mut seen, mut unseen) = (0, 0);
    let mut line = Vec::new();
    let mut future: HashMap<u64, u64> = HashMap::new();
    for _ in 0..40_000 {
        line.clear();
        match g.next_line(&mut line) {
            "tweet" => {
                let (id, author) = raw_status_and_user(&line);
                emitted.insert(id, author);
                if let Some(uid) = future.remove(&id) {
                    assert_eq!(uid, author, "announced status by another user");
                }
            }
            "delete" => {
                let v = parse(&line);
                let st = &v["delete"]["status"];
                let (id, uid) = (u(&st["id"]), u(&st["user_id"]));
                deletes.push((id, uid));
                if let Some(&author) = emitted.get(&id) {
                    assert_eq!(author, uid, "delete with the wrong user");
                    seen += 1;
                } else if g.pending.iter().any(|p| p.id == id) {
                    assert!(worker(id) < WORKER_UNSEEN_DELETE);
                    future.insert(id, uid);
                } else {
                    let w = worker(id);
                    assert!((WORKER_UNSEEN_DELETE..WORKER_UNSEEN_STATUS).contains(&w));
                    unseen += 1;
                }
            }
            _ => {}
        }
    }
    let total = deletes.len() as f64;
    let announced = total - seen as f64 - unseen as f64;
    close("seen", seen as f64 * 100.0 / total, 80.0, 4.0);
    close("unseen", unseen as f64 * 100.0 / total, 15.0, 3.5);
    close("future", announced * 100.0 / total, 5.0, 2.0);
    // Announced statuses still outstanding are all pending, and they all come out later.
    assert!(future.len() <= g.pending.len() && g.pending.len() <= PENDING_CAP);
    for _ in 0..20_000 {
        if future.is_empty() {
            break;
        }
        line.clear();
        if g.next_line(&mut line) == "tweet" {
            let (id, author) = raw_status_and_user(&line);
            if let Some(uid) = future.remove(&id) {
                assert_eq!(uid, author);
            }
        }
    }
    assert!(future.is_empty(), "announced ids never emitted: {future:?}");
}

#[test]
fn scrubs_and_withholdings_target_users_who_posted() {
    let mut latest: HashMap<u64, u64> = HashMap::new();
    let mut authors: HashMap<u64, u64> = HashMap::new();
    let mut track = 0;
    let mut checked = 0;
    for (kind, line) in sample() {
        if line.is_empty() {
            continue;
        }
        let v = parse(line);
        match *kind {
            "tweet" => {
                let (id, uid) = (u(&v["id"]), u(&v["user"]["id"]));
                latest.insert(uid, id);
                authors.insert(id, uid);
            }
            "scrub_geo" => {
                let sg = &v["scrub_geo"];
                let uid = u(&sg["user_id"]);
                assert_eq!(latest.get(&uid), Some(&u(&sg["up_to_status_id"])));
                assert_eq!(uid.to_string(), s(&sg["user_id_str"]));
                assert_eq!(
                    u(&sg["up_to_status_id"]).to_string(),
                    s(&sg["up_to_status_id_str"])
                );
                checked += 1;
            }
            "status_withheld" => {
                let w = &v["status_withheld"];
                assert_eq!(authors.get(&u(&w["id"])), Some(&u(&w["user_id"])));
                checked += 1;
            }
            "user_withheld" => {
                assert!(latest.contains_key(&u(&v["user_withheld"]["id"])));
                checked += 1;
            }
            "limit" => {
                let t = u(&v["limit"]["track"]);
                assert!(t > track, "limit.track must increase");
                track = t;
            }
            _ => {}
        }
    }
    assert!(checked > 40);
}

#[test]
fn retweets_and_quotes_carry_consistent_originals() {
    let mut originals: HashMap<u64, (String, u64)> = HashMap::new();
    let mut times_retweeted: HashMap<u64, u32> = HashMap::new();
    let (mut unseen, mut quotes) = (0, 0);
    for (_, v) in tweets() {
        let id = u(&v["id"]);
        if let Some(orig) = v.get("retweeted_status") {
            let oid = u(&orig["id"]);
            let screen = s(&orig["user"]["screen_name"]);
            assert!(s(&v["text"]).starts_with(&format!("RT @{screen}: ")));
            assert!(s(&v["text"]).chars().count() <= 140);
            assert!(orig.get("timestamp_ms").is_none());
            assert_eq!(
                v["entities"]["user_mentions"][0]["screen_name"],
                orig["user"]["screen_name"]
            );
            if worker(oid) >= WORKER_UNSEEN_STATUS {
                unseen += 1;
            } else {
                let (text, uid) = originals.get(&oid).expect("retweet of an id never emitted");
                assert_eq!(s(&orig["text"]), text, "original changed between copies");
                assert_eq!(u(&orig["user"]["id"]), *uid);
                *times_retweeted.entry(oid).or_default() += 1;
                assert!(u(&orig["retweet_count"]) >= u64::from(times_retweeted[&oid]));
            }
            assert!(oid < id);
        } else if v["is_quote_status"] == Value::Bool(true) {
            quotes += 1;
            let q = &v["quoted_status"];
            assert_eq!(u(&v["quoted_status_id"]), u(&q["id"]));
            assert_eq!(s(&v["quoted_status_id_str"]), s(&q["id_str"]));
            let expanded = s(&v["quoted_status_permalink"]["expanded"]);
            assert!(expanded.ends_with(&format!("/status/{}", s(&q["id_str"]))));
        } else {
            assert!(v.get("quoted_status").is_none());
            let text = s(&v["text"]).to_string();
            originals.insert(id, (text, u(&v["user"]["id"])));
        }
    }
    assert!(unseen > 100, "{unseen} retweets of unseen originals");
    assert!(quotes > 200);
    let max = times_retweeted.values().max().copied().unwrap_or(0);
    assert!(max >= 5, "no original retweeted repeatedly (max {max})");
}

#[test]
fn replies_name_their_target() {
    let mut authors: HashMap<u64, u64> = HashMap::new();
    let (mut replies, mut to_seen) = (0, 0);
    for (_, v) in tweets() {
        if let Some(target) = v["in_reply_to_status_id"].as_u64() {
            replies += 1;
            assert_eq!(target.to_string(), s(&v["in_reply_to_status_id_str"]));
            let uid = u(&v["in_reply_to_user_id"]);
            assert_eq!(uid.to_string(), s(&v["in_reply_to_user_id_str"]));
            let full = v
                .get("extended_tweet")
                .map_or_else(|| s(&v["text"]), |e| s(&e["full_text"]));
            let screen = s(&v["in_reply_to_screen_name"]);
            assert!(full.starts_with(&format!("@{screen} ")), "{full:?}");
            if let Some(ext) = v.get("extended_tweet") {
                let start = u(&ext["display_text_range"][0]) as usize;
                assert_eq!(start, screen.chars().count() + 2);
            }
            if let Some(&author) = authors.get(&target) {
                assert_eq!(author, uid, "reply names the wrong author");
                to_seen += 1;
            } else {
                assert!(
                    worker(target) >= WORKER_UNSEEN_STATUS,
                    "reply to an unknown id"
                );
            }
        } else {
            assert!(v["in_reply_to_user_id"].is_null());
        }
        authors.insert(u(&v["id"]), u(&v["user"]["id"]));
    }
    assert!(
        replies > 1_000 && to_seen > replies / 2,
        "{replies} replies, {to_seen} seen"
    );
}

#[test]
fn geo_statuses_have_point_orders_and_place() {
    let mut n = 0;
    for (_, v) in tweets() {
        let coords = &v["coordinates"];
        if coords.is_null() {
            assert!(v["geo"].is_null() && v["place"].is_null());
            continue;
        }
        n += 1;
        let lonlat = coords["coordinates"].as_array().unwrap();
        let latlon = v["geo"]["coordinates"].as_array().unwrap();
        assert_eq!(coords["type"], "Point");
        assert_eq!(lonlat[0], latlon[1]);
        assert_eq!(lonlat[1], latlon[0]);
        let (lon, lat) = (lonlat[0].as_f64().unwrap(), lonlat[1].as_f64().unwrap());
        let place = &v["place"];
        assert_eq!(s(&place["id"]).len(), 16);
        assert_eq!(s(&place["country_code"]).len(), 2);
        assert!(!s(&place["full_name"]).is_empty());
        let ring = &place["bounding_box"]["coordinates"][0];
        let xs: Vec<f64> = (0..4).map(|i| ring[i][0].as_f64().unwrap()).collect();
        let ys: Vec<f64> = (0..4).map(|i| ring[i][1].as_f64().unwrap()).collect();
        let inside = |x: f64, v: &[f64]| {
            let (lo, hi) = v
                .iter()
                .fold((f64::MAX, f64::MIN), |(a, b), &x| (a.min(x), b.max(x)));
            (lo - 1e-9..=hi + 1e-9).contains(&x)
        };
        assert!(
            inside(lon, &xs) && inside(lat, &ys),
            "point outside its place"
        );
    }
    assert!(n > 100);
}

/// `indices` count code points, and point at the entity's text.
fn check_entities(text: &str, entities: &Value) -> usize {
    let chars: Vec<char> = text.chars().collect();
    let at = |e: &Value| -> String {
        let i = e["indices"].as_array().unwrap();
        chars[u(&i[0]) as usize..u(&i[1]) as usize].iter().collect()
    };
    let mut n = 0;
    for e in entities["hashtags"].as_array().unwrap() {
        assert_eq!(at(e), format!("#{}", s(&e["text"])));
        n += 1;
    }
    for e in entities["symbols"].as_array().unwrap() {
        assert_eq!(at(e), format!("${}", s(&e["text"])));
        n += 1;
    }
    for e in entities["user_mentions"].as_array().unwrap() {
        assert_eq!(at(e), format!("@{}", s(&e["screen_name"])));
        n += 1;
    }
    for e in entities["urls"].as_array().unwrap() {
        assert_eq!(at(e), s(&e["url"]));
        assert!(s(&e["expanded_url"]).starts_with("https://"));
        n += 1;
    }
    if let Some(media) = entities.get("media") {
        for e in media.as_array().unwrap() {
            assert_eq!(at(e), s(&e["url"]));
            n += 1;
        }
    }
    n
}

#[test]
fn entity_indices_point_at_their_text() {
    let (mut n, mut extended, mut truncated_links) = (0, 0, 0);
    for (_, v) in tweets() {
        let mut statuses = vec![&v];
        statuses.extend(v.get("retweeted_status"));
        statuses.extend(v.get("quoted_status"));
        for st in statuses {
            n += check_entities(s(&st["text"]), &st["entities"]);
            assert!(s(&st["text"]).chars().count() <= 140);
            if let Some(ext) = st.get("extended_tweet") {
                extended += 1;
                assert_eq!(st["truncated"], true);
                let full = s(&ext["full_text"]);
                let range = ext["display_text_range"].as_array().unwrap();
                assert!(u(&range[1]) <= 280, "displayed text over 280");
                assert!(full.chars().count() > 140 && full.chars().count() <= 305);
                n += check_entities(full, &ext["entities"]);
                let link = st["entities"]["urls"].as_array().unwrap().last().unwrap();
                assert!(s(&link["expanded_url"]).ends_with(s(&st["id_str"])));
                truncated_links += 1;
            } else {
                assert_eq!(st["truncated"], false);
            }
        }
    }
    assert!(n > 20_000 && extended > 1_000 && truncated_links == extended);
}

#[test]
fn escaping_round_trips() {
    let tricky = [
        "plain",
        "quote \" backslash \\ slash / newline \n tab \t cr \r",
        "control \u{1} \u{8} \u{c} \u{1f} del \u{7f}",
        "é ü ß 日本語 😀 👩‍👩‍👧 🇩🇪 \u{2028} \u{fffd}",
        "",
    ];
    for slash in [false, true] {
        for ascii in [false, true] {
            let esc = Esc { slash, ascii };
            for t in tricky {
                let mut out = Vec::new();
                put_str(&mut out, t, esc);
                let back: String = serde_json::from_slice(&out).unwrap();
                assert_eq!(back, t);
                if ascii {
                    assert!(out.is_ascii());
                }
                assert_eq!(slash && t.contains('/'), find(&out, b"\\/").is_some());
            }
        }
    }
    let mut out = Vec::new();
    put_str(
        &mut out,
        "😀",
        Esc {
            slash: false,
            ascii: true,
        },
    );
    assert_eq!(out, b"\"\\ud83d\\ude00\"");
}

#[test]
fn stream_texts_exercise_escaping() {
    let (mut quotes, mut newlines, mut astral, mut backslashes) = (0, 0, 0, 0);
    let (mut raw_emoji, mut escaped_emoji, mut escaped_slash) = (0, 0, 0);
    for (line, v) in tweets() {
        let text = v
            .get("extended_tweet")
            .map_or_else(|| s(&v["text"]), |e| s(&e["full_text"]));
        quotes += usize::from(text.contains('"'));
        newlines += usize::from(text.contains('\n'));
        backslashes += usize::from(text.contains('\\'));
        astral += usize::from(text.chars().any(|c| c > '\u{ffff}'));
        // Raw 4-byte UTF-8 (all astral characters here are emoji); `contains` is a memchr.
        raw_emoji += usize::from(line.contains(&0xF0));
        escaped_emoji += usize::from(find(line, b"\\ud83").is_some());
        escaped_slash += usize::from(find(line, b"https:\\/\\/").is_some());
    }
    for (what, n) in [
        ("quotes", quotes),
        ("newlines", newlines),
        ("backslashes", backslashes),
        ("astral characters", astral),
        ("raw emoji", raw_emoji),
        ("escaped emoji", escaped_emoji),
        ("escaped slashes", escaped_slash),
    ] {
        assert!(n > 200, "only {n} statuses with {what}");
    }
}

#[test]
fn created_at_matches_timestamp_and_increases() {
    let mut last = 0;
    for (_, v) in tweets() {
        let ms: i64 = s(&v["timestamp_ms"]).parse().unwrap();
        assert!(ms >= last, "time went backwards");
        last = ms;
        let expected = chrono::DateTime::from_timestamp_millis(ms)
            .unwrap()
            .format("%a %b %d %H:%M:%S +0000 %Y")
            .to_string();
        assert_eq!(s(&v["created_at"]), expected);
        let id = u(&v["id"]);
        assert_eq!(
            ((id >> 22) as i64) + TWEPOCH_MS,
            ms,
            "snowflake time != created_at"
        );
    }
    assert!(last > START_MS + 60_000);
    // put_date agrees with chrono far from the stream's dates too (leap years, epoch).
    let mut rng = SmallRng::seed_from_u64(1);
    for ms in [0, 951_782_400_000, 1_709_208_000_000, 4_107_542_400_000]
        .into_iter()
        .chain((0..2_000).map(|_| rng.random_range(0..4_000_000_000_000i64)))
    {
        let mut out = Vec::new();
        put_date(&mut out, ms);
        let expected = chrono::DateTime::from_timestamp_millis(ms)
            .unwrap()
            .format("%a %b %d %H:%M:%S +0000 %Y")
            .to_string();
        assert_eq!(String::from_utf8(out).unwrap(), expected);
    }
}

#[test]
fn portable_math_matches_libm() {
    let mut rng = SmallRng::seed_from_u64(3);
    for _ in 0..10_000 {
        let x: f64 = rng.random_range(1e-12..1e6);
        assert!((log2(x) - x.log2()).abs() < 1e-6, "log2({x})");
        let y: f64 = rng.random_range(-40.0..40.0);
        assert!((exp2(y) / y.exp2() - 1.0).abs() < 1e-12, "exp2({y})");
        assert!((pow10(y / 8.0) / 10f64.powf(y / 8.0) - 1.0).abs() < 1e-12);
    }
    assert_eq!(log2(1.0), 0.0);
    assert_eq!(exp2(0.0), 1.0);
}

#[test]
fn numbers_format_exactly() {
    let mut rng = SmallRng::seed_from_u64(2);
    for v in [0, 9, 10, 99, 100, 101, u64::MAX, FIRST_ID]
        .into_iter()
        .chain((0..1_000).map(|_| rng.random::<u64>() >> rng.random_range(0..64)))
    {
        let mut out = Vec::new();
        put_u64(&mut out, v);
        assert_eq!(out, v.to_string().as_bytes());
    }
    for (micro, text) in [
        (13_404_954, "13.404954"),
        (-127_758, "-0.127758"),
        (-3_700_000, "-3.7"),
        (0, "0.0"),
    ] {
        let mut out = Vec::new();
        put_micro(&mut out, micro);
        assert_eq!(out, text.as_bytes());
    }
}

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
