//! Tests of what is written inside a line: entity indices, escaping, dates and the portable
//! number formatting.

use super::*;
use crate::generate::json::{Esc, put_date, put_micro, put_str, put_u64};
use crate::generate::random::{exp2, log2, pow10};
use crate::generate::world::TWEPOCH_MS;

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
