//! Parser tests over the fixture stream, one per message kind.

use super::*;

const ALL_KINDS: &str = include_str!("../../../../tests/fixtures/all_kinds.jsonl");
const BIG: i64 = 1_234_567_890_123_456_789;

fn lines() -> Vec<&'static [u8]> {
    ALL_KINDS.split('\n').map(str::as_bytes).collect()
}

fn parse(i: usize) -> Message<'static> {
    parse_line(lines()[i]).unwrap_or_else(|e| panic!("line {i}: {e}"))
}

#[test]
fn every_fixture_line_parses_and_carriage_returns_are_tolerated() {
    let kinds: Vec<_> = lines()
        .into_iter()
        .map(|l| parse_line(l).unwrap().kind())
        .collect();
    assert_eq!(kinds[0], Some(Kind::Tweet));
    assert_eq!(kinds[1], None, "blank line is a keep-alive");
    assert!(kinds.contains(&Some(Kind::Unknown)));
}

#[test]
fn tweet_ids_above_2_pow_53_are_exact() {
    let Message::Tweet(t) = parse(0) else {
        panic!()
    };
    assert_eq!(t.id, BIG);
    assert_eq!(t.user_id, Some(2_244_994_945));
    assert_eq!(t.text.as_deref(), Some("hello archive #rust"));
    assert_eq!(t.lang.as_deref(), Some("en"));
}

#[test]
fn extended_tweet_and_geo() {
    let Message::Tweet(t) = parse(2) else {
        panic!()
    };
    assert_eq!(
        t.text.as_deref(),
        Some("the full text of a long status with location")
    );
    assert_eq!(t.point, Some((13.405, 52.52)));
    assert!(t.place.unwrap().get().contains("Berlin"));
}

#[test]
fn retweet_carries_its_original() {
    let Message::Tweet(t) = parse(3) else {
        panic!()
    };
    assert_eq!(t.retweeted_status_id(), Some(BIG + 2));
    let original = &t.retweeted_status.as_ref().unwrap().tweet;
    assert_eq!(original.user_id, Some(783_214));
    assert!(
        t.raw.contains(original.raw),
        "embedded raw is a slice of the carrier"
    );
}

#[test]
fn quote_and_reply() {
    let Message::Tweet(q) = parse(4) else {
        panic!()
    };
    assert_eq!(q.quoted_id(), Some(BIG + 4));
    assert_eq!(
        q.quoted_status.as_ref().unwrap().tweet.text.as_deref(),
        Some("a quoted status")
    );
    let Message::Tweet(r) = parse(5) else {
        panic!()
    };
    assert_eq!(r.in_reply_to_status_id, Some(BIG));
}

#[test]
fn compliance_notices() {
    assert_eq!(
        match parse(6) {
            Message::Delete(d) => d,
            m => panic!("{m:?}"),
        },
        Delete {
            tweet_id: 1234,
            user_id: Some(3)
        }
    );
    assert_eq!(
        match parse(7) {
            Message::ScrubGeo(s) => s,
            m => panic!("{m:?}"),
        },
        ScrubGeo {
            user_id: 14_090_452,
            up_to_status_id: 23_260_136_625
        }
    );
    assert_eq!(
        match parse(8) {
            Message::Limit(l) => l,
            m => panic!("{m:?}"),
        },
        Limit { track: 1234 }
    );
    let Message::StatusWithheld(s) = parse(9) else {
        panic!()
    };
    assert_eq!((s.tweet_id, s.user_id), (1_234_567_890, Some(123_456)));
    assert_eq!(s.countries, vec!["AR", "DE"]);
    let Message::UserWithheld(u) = parse(10) else {
        panic!()
    };
    assert_eq!((u.user_id, u.countries.len()), (123_456, 2));
}

#[test]
fn disconnects_known_and_unknown() {
    let Message::Disconnect(d) = parse(11) else {
        panic!()
    };
    assert_eq!((d.code, disconnect_code_name(d.code)), (4, "Stall"));
    assert_eq!(d.stream_name.as_deref(), Some("filter-1"));
    let Message::Disconnect(d) = parse(12) else {
        panic!()
    };
    assert_eq!((d.code, disconnect_code_name(d.code)), (42, "Unknown"));
    let names: Vec<_> = (1..=12).map(disconnect_code_name).collect();
    assert_eq!(names[5], "Token revoked");
    assert_eq!(names[11], "Shed load");
}

#[test]
fn warnings() {
    let Message::Warning(w) = parse(13) else {
        panic!()
    };
    assert_eq!(
        (w.code.as_deref(), w.percent_full),
        (Some("FALLING_BEHIND"), Some(60))
    );
    let Message::Warning(w) = parse(14) else {
        panic!()
    };
    assert_eq!(
        (w.code.as_deref(), w.user_id),
        (Some("FOLLOWS_OVER_LIMIT"), Some(2_244_994_945))
    );
    let Message::Warning(w) = parse(15) else {
        panic!()
    };
    assert_eq!(w.code.as_deref(), Some("SOMETHING_NEW"));
}

#[test]
fn user_stream_events() {
    let Message::Event(fav) = parse(16) else {
        panic!()
    };
    assert_eq!(fav.event, "favorite");
    assert_eq!(
        (fav.source_user_id, fav.target_user_id),
        (Some(2_244_994_945), Some(783_214))
    );
    assert_eq!(fav.target_status.as_ref().map(|t| t.id), Some(BIG + 7));
    let Message::Event(follow) = parse(17) else {
        panic!()
    };
    assert_eq!(
        (follow.event.as_ref(), follow.target_object_id),
        ("follow", None)
    );
    let Message::Event(list) = parse(18) else {
        panic!()
    };
    assert_eq!(
        (list.target_object_id, list.target_status.is_none()),
        (Some(99), true)
    );
    let Message::Event(update) = parse(19) else {
        panic!()
    };
    assert_eq!(
        (update.event.as_ref(), update.users.len()),
        ("user_update", 2)
    );
    let Message::Event(revoked) = parse(20) else {
        panic!()
    };
    assert_eq!(revoked.event, "access_revoked");
}

#[test]
fn friends_dm_control() {
    let Message::Friends(f) = parse(21) else {
        panic!()
    };
    assert_eq!(f.ids, vec![1497, 169_686_021, 790_205, 15_211_564]);
    let Message::Friends(f) = parse(22) else {
        panic!()
    };
    assert_eq!(f.ids[2], i64::MAX);
    assert!(matches!(parse(23), Message::DirectMessage(_)));
    let Message::Control(c) = parse(24) else {
        panic!()
    };
    assert!(c.control_uri.unwrap().starts_with("/1.1/site/c/"));
}

#[test]
fn site_stream_envelopes_wrap_any_message() {
    let Message::ForUser { for_user, message } = parse(25) else {
        panic!()
    };
    assert_eq!(for_user, 1888);
    assert!(matches!(*message, Message::Friends(ref f) if f.ids.is_empty()));
    let Message::ForUser { for_user, message } = parse(26) else {
        panic!()
    };
    assert_eq!(for_user, 9_160_152);
    assert_eq!(message.kind(), Some(Kind::Tweet));
}

#[test]
fn unknown_objects_are_kept_whole() {
    let Message::Unknown(raw) = parse(27) else {
        panic!()
    };
    assert!(raw.contains("brand_new_type"));
}

#[test]
fn bad_input_is_classified() {
    assert!(matches!(
        parse_line(b"{\"text\": \"cut"),
        Err(ParseError::Json(_))
    ));
    assert!(matches!(
        parse_line(b"{\"a\":\"\xff\"}"),
        Err(ParseError::InvalidUtf8(6))
    ));
    assert!(matches!(parse_line(b"[1,2]"), Err(ParseError::NotAnObject)));
    assert!(matches!(parse_line(b"nonsense"), Err(ParseError::Json(_))));
    assert!(matches!(
        parse_line(b"{\"delete\":{}}"),
        Err(ParseError::BadShape { .. })
    ));
    assert!(parse_line(b"{\"id\":1.5e3,\"text\":\"x\"}").is_err());
    assert!(matches!(parse_line(b"  \r"), Ok(Message::KeepAlive)));
}

fn reason(line: &str) -> String {
    match parse_line(line.as_bytes()) {
        Err(e) => e.to_string(),
        Ok(m) => panic!("{line}: parsed as {m:?}"),
    }
}

#[test]
fn broken_known_envelopes_are_rejects_with_a_reason() {
    assert_eq!(
        reason(r#"{"delete":null}"#),
        "delete message malformed: `delete` is null, not an object"
    );
    assert_eq!(
        reason(r#"{"scrub_geo":null}"#),
        "scrub_geo message malformed: `scrub_geo` is null, not an object"
    );
    assert_eq!(
        reason(r#"{"limit":null}"#),
        "limit message malformed: `limit` is null, not an object"
    );
    assert_eq!(
        reason(r#"{"status_withheld":[]}"#),
        "status_withheld message malformed: `status_withheld` is an array, not an object"
    );
    assert_eq!(
        reason(r#"{"disconnect":"x"}"#),
        "disconnect message malformed: `disconnect` is a string, not an object"
    );
    assert_eq!(
        reason(r#"{"user_withheld":1}"#),
        "user_withheld message malformed: `user_withheld` is a number, not an object"
    );
    assert_eq!(
        reason(r#"{"warning":true}"#),
        "warning message malformed: `warning` is a boolean, not an object"
    );
    assert_eq!(
        reason(r#"{"control":null}"#),
        "control message malformed: `control` is null, not an object"
    );
    assert_eq!(
        reason(r#"{"direct_message":null}"#),
        "direct_message message malformed: `direct_message` is null, not an object"
    );
    assert!(reason(r#"{"friends":null}"#).starts_with("friends message malformed"));
    assert!(reason(r#"{"event":null}"#).starts_with("event message malformed"));
    // Types nobody knows stay unknown events.
    assert!(matches!(
        parse_line(br#"{"brand_new":null}"#),
        Ok(Message::Unknown(_))
    ));
    assert!(matches!(
        parse_line(br#"{"brand_new":{"delete_me":1}}"#),
        Ok(Message::Unknown(_))
    ));
}

#[test]
fn a_usable_id_str_applies_the_notice_whatever_its_numeric_twin() {
    for bad in [
        "1.5e18",
        "-5",
        "\"x\"",
        "99999999999999999999",
        "true",
        "[1]",
        "{}",
    ] {
        let line = format!(
            r#"{{"delete":{{"status":{{"id":{bad},"id_str":"1234","user_id":{bad},"user_id_str":"3"}}}}}}"#
        );
        let Ok(Message::Delete(d)) = parse_line(line.as_bytes()) else {
            panic!("{line}")
        };
        assert_eq!((d.tweet_id, d.user_id), (1234, Some(3)), "{line}");
    }
    let Ok(Message::ScrubGeo(s)) = parse_line(
        br#"{"scrub_geo":{"user_id":1.4e7,"user_id_str":"14090452","up_to_status_id":-1,"up_to_status_id_str":"23260136625"}}"#,
    ) else {
        panic!()
    };
    assert_eq!((s.user_id, s.up_to_status_id), (14_090_452, 23_260_136_625));
    let Ok(Message::StatusWithheld(w)) = parse_line(
        br#"{"status_withheld":{"id":"junk","id_str":"7","user_id":1e3,"user_id_str":"8","withheld_in_countries":["DE"]}}"#,
    ) else {
        panic!()
    };
    assert_eq!((w.tweet_id, w.user_id), (7, Some(8)));
    let Ok(Message::UserWithheld(w)) =
        parse_line(br#"{"user_withheld":{"id":0.5,"id_str":"9","withheld_in_countries":["XX"]}}"#)
    else {
        panic!()
    };
    assert_eq!((w.user_id, w.countries), (9, vec!["XX".to_string()]));
    let Ok(Message::Warning(w)) = parse_line(
        br#"{"warning":{"code":"FOLLOWS_OVER_LIMIT","user_id":1.5,"user_id_str":"42"}}"#,
    ) else {
        panic!()
    };
    assert_eq!(w.user_id, Some(42));
    let Ok(Message::Event(e)) = parse_line(
        br#"{"event":"follow","source":{"id":1.5,"id_str":"1"},"target":{"id":2,"id_str":"x"},"target_object":{"id":-1,"id_str":"3"}}"#,
    ) else {
        panic!()
    };
    assert_eq!(
        (
            e.source_user_id,
            e.target_user_id,
            e.target_object_id,
            e.users.len()
        ),
        (Some(1), Some(2), Some(3), 2)
    );
}

#[test]
fn two_unusable_ids_are_a_reject_naming_both() {
    assert_eq!(
        reason(r#"{"delete":{"status":{"id":1.5e18,"id_str":"12x"}}}"#),
        r#"delete message malformed: no usable id (id_str: "12x" is not a decimal 64-bit integer; id: 1500000000000000000 is not an integer)"#
    );
    assert!(
        reason(r#"{"delete":{"status":{"id_str":"1","user_id":-2}}}"#)
            .contains("user_id: -2 is negative")
    );
    assert!(
        reason(r#"{"scrub_geo":{"user_id":"a","up_to_status_id":1}}"#)
            .starts_with("scrub_geo message malformed: no usable user_id")
    );
    assert!(
        reason(r#"{"status_withheld":{"id":1.5}}"#)
            .starts_with("status_withheld message malformed: no usable id")
    );
    assert!(
        reason(r#"{"warning":{"user_id":"z"}}"#)
            .starts_with("warning message malformed: no usable user_id")
    );
    assert!(
        reason(r#"{"event":"follow","source":{"id":1.5,"id_str":"s"}}"#)
            .starts_with("event message malformed: source: no usable id")
    );
    assert!(
        reason(r#"{"for_user":1.5,"message":{"friends":[]}}"#)
            .starts_with("for_user message malformed: no usable for_user")
    );
    // friends_str wins; a broken one falls back to friends.
    let Ok(Message::Friends(f)) = parse_line(br#"{"friends":[1,2],"friends_str":["1","x"]}"#)
    else {
        panic!()
    };
    assert_eq!(f.ids, vec![1, 2]);
}

#[test]
fn withheld_notices_need_two_letter_codes() {
    let Ok(Message::StatusWithheld(w)) = parse_line(
        br#"{"status_withheld":{"id_str":"1","withheld_in_countries":["DE","XY","XX","DE"]}}"#,
    ) else {
        panic!()
    };
    assert_eq!(w.countries, vec!["DE", "XX", "XY"]);
    assert_eq!(
        reason(r#"{"status_withheld":{"id_str":"1","withheld_in_countries":["DE","DEU"]}}"#),
        r#"status_withheld message malformed: invalid country code "DEU": expected two upper-case letters"#
    );
    for bad in [
        r#"" DE""#,
        r#""de""#,
        r#""D1""#,
        r#""""#,
        r#""\u00c9\u00c9""#,
    ] {
        let line =
            format!(r#"{{"user_withheld":{{"id_str":"1","withheld_in_countries":[{bad}]}}}}"#);
        assert!(reason(&line).contains("invalid country code"), "{line}");
    }
    assert!(
        reason(r#"{"user_withheld":{"id_str":"1","withheld_in_countries":[7]}}"#)
            .starts_with("user_withheld message malformed")
    );
}

#[test]
fn nesting_past_the_bound_is_a_reject_before_parsing() {
    let deep = |n: usize| {
        format!(
            r#"{{"id_str":"1","text":"x","e":{}{}}}"#,
            "[".repeat(n),
            "]".repeat(n)
        )
    };
    assert!(matches!(
        parse_line(deep(99).as_bytes()),
        Ok(Message::Tweet(_))
    ));
    assert_eq!(reason(&deep(100)), "JSON nested deeper than 100 levels");
    assert_eq!(reason(&deep(100_000)), "JSON nested deeper than 100 levels");
    let notice = format!(
        r#"{{"scrub_geo":{{"user_id":1,"up_to_status_id":2,"x":{}1{}}}}}"#,
        "{\"a\":".repeat(200),
        "}".repeat(200)
    );
    assert_eq!(reason(&notice), "JSON nested deeper than 100 levels");
}
