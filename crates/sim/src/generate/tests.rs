//! Tests of the generator: JSON validity, ids and users here; the stream as a whole in `mix`,
//! what lines point at in `targets`, what is written inside a line in `format`.

mod format;
mod mix;
mod targets;

use super::world::{FIRST_ID, WORKER_UNSEEN_DELETE};
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

/// Asserts that a percentage is within `tol` points of what the mix asks for.
fn close(what: &str, got: f64, want: f64, tol: f64) {
    assert!(
        (got - want).abs() <= tol,
        "{what}: {got:.3}% not within {tol} of {want}%"
    );
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
